"""The phone system's view of the centre (SPEC §9): operators' extensions, the calls the PBX
reported (ringing → answered → ended, or abandoned), each event once, and the callers'
handset positions (Advanced Mobile Location).

Rows are changed only through telephony.services."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reports.models import Call

USER = settings.AUTH_USER_MODEL


class Extension(models.Model):
    """The desk phone an operator answers: the PBX's `extension` in a call event."""

    number = models.CharField(_("extension"), max_length=16, unique=True)
    operator = models.OneToOneField(
        USER,
        on_delete=models.CASCADE,
        related_name="telephony_extension",
        verbose_name=_("operator"),
    )

    class Meta:
        ordering = ["number"]
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")

    def __str__(self) -> str:
        return f"{self.number} · {self.operator}"


class CallState(models.TextChoices):
    RINGING = "ringing", _("ringing")
    ANSWERED = "answered", _("answered")
    ENDED = "ended", _("ended")
    ABANDONED = "abandoned", _("abandoned")


class CallEventKind(models.TextChoices):
    RINGING = "ringing", _("ringing")
    ANSWERED = "answered", _("answered")
    ENDED = "ended", _("ended")


class PhoneCall(models.Model):
    """A call as the PBX saw it, keyed by the PBX's own id (Asterisk's Linkedid/Uniqueid,
    FreeSWITCH's Unique-ID)."""

    call_id = models.CharField(_("PBX call id"), max_length=100, unique=True)
    # E.164 (+62…) when the number is an Indonesian one; as the PBX gave it otherwise (a
    # withheld number is empty).
    caller_phone = models.CharField(_("caller phone"), max_length=40, blank=True)
    extension = models.CharField(_("extension"), max_length=16, blank=True)
    operator = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operator at the extension"),
    )
    state = models.CharField(_("state"), max_length=16, choices=CallState.choices)
    ringing_at = models.DateTimeField(_("ringing at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # The call the operator logged for it (reports.Call), matched by number and time.
    logged_call = models.OneToOneField(
        Call,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="phone_call",
        verbose_name=_("logged call"),
    )
    created_at = models.DateTimeField(_("first event at"), auto_now_add=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    # An abandoned call an operator dealt with (called back, or nothing to do): it leaves
    # every console, and a reload does not bring it back (issue 37 §5).
    dismissed_at = models.DateTimeField(_("dismissed at"), null=True, blank=True)
    dismissed_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dismissed by"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("phone call")
        verbose_name_plural = _("phone calls")
        indexes = [
            models.Index(fields=["ringing_at"], name="phonecall_ringing_idx"),
            models.Index(fields=["caller_phone", "-created_at"], name="phonecall_phone_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=CallState.values), name="phonecall_state_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state=CallState.ABANDONED) | Q(answered_at__isnull=True),
                name="phonecall_abandoned_unanswered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call_id} ({self.state})"

    @property
    def ring_seconds(self) -> float | None:
        if self.ringing_at is None or self.answered_at is None:
            return None
        return (self.answered_at - self.ringing_at).total_seconds()

    @property
    def talk_seconds(self) -> float | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.answered_at).total_seconds()


class CallEvent(models.Model):
    """Each (call, event) the PBX sent, once: a repeat changes nothing (SPEC §9)."""

    phone_call = models.ForeignKey(
        PhoneCall, on_delete=models.CASCADE, related_name="events", verbose_name=_("call")
    )
    kind = models.CharField(_("event"), max_length=16, choices=CallEventKind.choices)
    at = models.DateTimeField(_("at"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        ordering = ["phone_call", "at"]
        verbose_name = _("call event")
        verbose_name_plural = _("call events")
        constraints = [
            models.UniqueConstraint(fields=["phone_call", "kind"], name="callevent_once"),
        ]

    def __str__(self) -> str:
        return f"{self.phone_call_id} {self.kind}"


class AmlFormat(models.TextChoices):
    HTTPS = "https", _("HTTPS (data SMS / HTTPS post)")
    SMS = "sms", _("SMS text")


class AmlStatus(models.TextChoices):
    ACCEPTED = "accepted", _("accepted")
    NO_FIX = "no_fix", _("no position (the handset had no fix)")
    REJECTED = "rejected", _("rejected (malformed)")


class AmlMessage(models.Model):
    """One Advanced Mobile Location message (ETSI TS 103 625), as received, with what was
    read from it. A malformed one is kept, rejected, with the field at fault."""

    format = models.CharField(_("format"), max_length=8, choices=AmlFormat.choices)
    status = models.CharField(_("status"), max_length=16, choices=AmlStatus.choices)
    raw = models.TextField(_("message as received"), max_length=20000)
    error_field = models.CharField(_("field at fault"), max_length=40, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    caller_phone = models.CharField(_("caller phone"), max_length=40, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    accuracy_m = models.FloatField(_("accuracy radius (m)"), null=True, blank=True)
    positioning = models.CharField(_("positioning method"), max_length=16, blank=True)
    confidence_pct = models.PositiveSmallIntegerField(_("confidence (%)"), null=True, blank=True)
    located_at = models.DateTimeField(_("position time"), null=True, blank=True)
    imei = models.CharField(_("IMEI"), max_length=20, blank=True)
    imsi = models.CharField(_("IMSI"), max_length=20, blank=True)
    mcc = models.CharField(_("MCC"), max_length=3, blank=True)
    mnc = models.CharField(_("MNC"), max_length=3, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    call = models.ForeignKey(
        Call,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="aml_messages",
        verbose_name=_("matched call"),
    )
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("AML message")
        verbose_name_plural = _("AML messages")
        indexes = [
            models.Index(fields=["caller_phone", "-received_at"], name="aml_phone_idx"),
            models.Index(fields=["received_at"], name="aml_received_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=AmlStatus.values), name="aml_status"),
        ]

    def __str__(self) -> str:
        return f"AML #{self.pk} ({self.status})"
