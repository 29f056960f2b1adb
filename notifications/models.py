"""When the background processes last did their work (issue 35 §4): `/readyz` reads it."""

from __future__ import annotations

from django.conf import settings
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


class PushSubscription(models.Model):
    """One browser on one device that agreed to Web Push (SPEC §12, issue 40 §4): where its
    push service takes messages for it and the keys its messages are encrypted to (RFC 8291).
    Per device: a user with a desk PC and a phone has two. The endpoint is the browser's
    own, so it belongs to whoever signed in on that browser last (notifications.webpush)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
        verbose_name=_("user"),
    )
    endpoint = models.URLField(_("endpoint"), max_length=1000, unique=True)
    # The browser's P-256 public key (65 bytes) and auth secret (16 bytes), base64url.
    p256dh = models.CharField(_("public key"), max_length=100)
    auth = models.CharField(_("auth secret"), max_length=32)
    device = models.CharField(_("device"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_success_at = models.DateTimeField(_("last delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")

    def __str__(self) -> str:
        return f"{self.user_id} · {self.device or self.endpoint[:60]}"
