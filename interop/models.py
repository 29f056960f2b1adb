"""The standards other systems speak (SPEC §10). CAP 1.2 in: the feeds an administrator
configures (BMKG's nowcast warnings) and the alerts read from them."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CapFeed(models.Model):
    """A URL polled for CAP alerts: one CAP document, or an RSS / Atom index of them."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500, unique=True)
    active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(_("last polled at"), null=True, blank=True)
    last_ok_at = models.DateTimeField(_("last read without error at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("CAP feed")
        verbose_name_plural = _("CAP feeds")

    def __str__(self) -> str:
        return self.name


class CapAlert(models.Model):
    """One CAP alert (its first <info> in the language shown), kept whether or not it is for
    this city; `for_city` says whether the banner shows it."""

    feed = models.ForeignKey(
        CapFeed, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("feed")
    )
    source_url = models.URLField(_("read from"), max_length=500)
    identifier = models.CharField(_("identifier"), max_length=200)
    sender = models.CharField(_("sender"), max_length=200)
    sent = models.DateTimeField(_("sent"))
    status = models.CharField(_("status"), max_length=16)
    msg_type = models.CharField(_("message type"), max_length=16)
    scope = models.CharField(_("scope"), max_length=16)
    event = models.CharField(_("event"), max_length=200)
    urgency = models.CharField(_("urgency"), max_length=16)
    severity = models.CharField(_("severity"), max_length=16)
    certainty = models.CharField(_("certainty"), max_length=16)
    sender_name = models.CharField(_("sender name"), max_length=200, blank=True)
    headline = models.CharField(_("headline"), max_length=300, blank=True)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    instruction = models.TextField(_("instruction"), max_length=5000, blank=True)
    web = models.URLField(_("web"), max_length=500, blank=True)
    area_description = models.TextField(_("area"), max_length=5000, blank=True)
    effective = models.DateTimeField(_("effective"), null=True, blank=True)
    onset = models.DateTimeField(_("onset"), null=True, blank=True)
    expires = models.DateTimeField(_("expires"), null=True, blank=True)
    for_city = models.BooleanField(_("for this city"), default=False)
    cancelled_at = models.DateTimeField(_("cancelled or replaced at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        ordering = ["-sent"]
        verbose_name = _("CAP alert")
        verbose_name_plural = _("CAP alerts")
        constraints = [
            models.UniqueConstraint(fields=["sender", "identifier"], name="capalert_once"),
        ]
        indexes = [
            models.Index(
                fields=["expires"],
                name="capalert_shown_idx",
                condition=Q(for_city=True, cancelled_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} ({self.identifier})"
