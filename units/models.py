"""Where the units have been: every position a unit's phone sent, kept DISPATCH_TRACK_DAYS
(units.tasks.prune_tracks). The unit itself, with its last position and status, is
agencies.Unit: reports.Assignment points at it."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from agencies.models import Unit


class UnitPosition(models.Model):
    id = models.BigAutoField(primary_key=True)
    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="track", verbose_name=_("unit")
    )
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))  # by the phone
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        ordering = ["unit", "recorded_at"]
        verbose_name = _("unit position")
        verbose_name_plural = _("unit positions")
        indexes = [
            models.Index(fields=["unit", "recorded_at"], name="position_track_idx"),
            models.Index(fields=["received_at"], name="position_prune_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} @ {self.latitude},{self.longitude}"
