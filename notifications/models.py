"""When the background processes last did their work (issue 35 §4): `/readyz` reads it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ESCALATION_SWEEP = "escalation-sweep"


class Heartbeat(models.Model):
    """One row per kind of periodic work, stamped each time it completes (an UPSERT: a few
    bytes every DISPATCH_SWEEP_SECONDS). In the database, not the cache, so that it survives a
    Redis restart and is the same for every web process, in production and embedded mode."""

    name = models.CharField(_("name"), max_length=40, primary_key=True)
    at = models.DateTimeField(_("last done"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.at.isoformat()}"

    @classmethod
    def beat(cls, name: str) -> None:
        cls.objects.update_or_create(name=name, defaults={"at": timezone.now()})

    @classmethod
    def age_seconds(cls, name: str) -> float | None:
        """Seconds since `name` last completed; None if it never has."""
        at = cls.objects.filter(name=name).values_list("at", flat=True).first()
        return None if at is None else (timezone.now() - at).total_seconds()
