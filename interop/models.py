"""The standards other systems speak (SPEC §10).

- CAP 1.2 in: the feeds an administrator configures (BMKG's nowcast warnings) and the alerts
  read from them.
- Open311 GeoReport v2: the city apps allowed to file requests (each with its API key) and
  what a request brought besides the report.
- EIDO: the other 112 centres this one hands reports to and takes them from, each handover
  attempt, and each incident received."""

import secrets

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reports.models import Report

USER = settings.AUTH_USER_MODEL


def new_key() -> str:
    return secrets.token_urlsafe(30)  # 40 characters, 240 bits


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


class ServiceAccountManager(models.Manager):
    def create(self, **fields):
        """The system with its account (interop.accounts), in one transaction."""
        from .accounts import open_account

        system = self.model(**fields)
        with transaction.atomic():
            open_account(system)
            system.save(force_insert=True, using=self.db)
        return system


class _ServiceAccount(models.Model):
    """A system another one talks to. Its reports here are logged under `account`: a user with
    no password, no group and is_active off, so it cannot sign in to anything; the report's
    operator column then names the app or centre."""

    ACCOUNT_PREFIX = ""

    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=32, unique=True)
    active = models.BooleanField(_("active"), default=True)
    account = models.OneToOneField(
        USER, on_delete=models.PROTECT, editable=False, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ServiceAccountManager()

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Open311Client(_ServiceAccount):
    """A city app allowed to file Open311 service requests (SPEC §10), with its own API key:
    one app's key can be withdrawn without the others'."""

    ACCOUNT_PREFIX = "open311"

    api_key = models.CharField(_("API key"), max_length=64, unique=True, default=new_key)
    contact = models.CharField(_("contact"), max_length=200, blank=True)

    class Meta(_ServiceAccount.Meta):
        verbose_name = _("Open311 client app")
        verbose_name_plural = _("Open311 client apps")


class Open311Request(models.Model):
    """What an Open311 POST brought besides its report. The submitter's name and number are
    on the report (caller_name, caller_phone); their e-mail is here. All three are personal
    data: never in a GET, and erased with the callers' (reports.retention)."""

    report = models.OneToOneField(
        Report, on_delete=models.CASCADE, related_name="open311_request", verbose_name=_("report")
    )
    client = models.ForeignKey(
        Open311Client, on_delete=models.PROTECT, related_name="requests", verbose_name=_("app")
    )
    email = models.EmailField(_("e-mail"), blank=True)
    device_id = models.CharField(_("device id"), max_length=100, blank=True)
    account_id = models.CharField(_("account id"), max_length=100, blank=True)
    address_id = models.CharField(_("address id"), max_length=100, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")

    def __str__(self) -> str:
        return self.report.number


class PeerCentre(_ServiceAccount):
    """Another 112 centre (SPEC §10, EIDO). `url` and `token` are how this centre sends it a
    report (its /api/v1/eido/, with the token it gave us); `inbound_token` is what it sends
    when it hands one to us. Each side sets up the other once, by exchanging tokens."""

    ACCOUNT_PREFIX = "eido"

    url = models.URLField(
        _("URL"),
        max_length=300,
        help_text=_("Its Dispatch 112 address, e.g. https://112.kendalkab.go.id"),
    )
    token = models.CharField(
        _("token to send it"), max_length=100, help_text=_("The token the other centre gave us.")
    )
    inbound_token = models.CharField(
        _("token it sends us"),
        max_length=64,
        unique=True,
        default=new_key,
        help_text=_("Give this to the other centre: its handovers to us carry it."),
    )

    class Meta(_ServiceAccount.Meta):
        verbose_name = _("peer 112 centre")
        verbose_name_plural = _("peer 112 centres")


class HandoverOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("accepted")
    FAILED = "failed", _("failed")


class Handover(models.Model):
    """One attempt to hand a report to a peer centre: accepted (with its number there), or
    failed (why). A failed one leaves the report open here."""

    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="handovers", verbose_name=_("report")
    )
    peer = models.ForeignKey(
        PeerCentre, on_delete=models.PROTECT, related_name="handovers", verbose_name=_("centre")
    )
    actor = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("operator")
    )
    message_id = models.CharField(_("EIDO message id"), max_length=100)
    outcome = models.CharField(_("outcome"), max_length=8, choices=HandoverOutcome.choices)
    peer_number = models.CharField(_("its number there"), max_length=64, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")

    def __str__(self) -> str:
        return f"{self.report} → {self.peer}"


class ReceivedIncident(models.Model):
    """A report a peer centre handed to this one: its number there and the EIDO as received
    (personal data: erased with the callers')."""

    report = models.OneToOneField(
        Report, on_delete=models.CASCADE, related_name="received_from", verbose_name=_("report")
    )
    peer = models.ForeignKey(
        PeerCentre, on_delete=models.PROTECT, related_name="received", verbose_name=_("centre")
    )
    incident_id = models.CharField(_("its incident id"), max_length=100)
    message_id = models.CharField(_("EIDO message id"), max_length=100)
    document = models.JSONField(_("EIDO received"), default=dict)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("incident received")
        verbose_name_plural = _("incidents received")
        constraints = [
            # A peer that retries after a timeout gets the report it already created.
            models.UniqueConstraint(fields=["peer", "incident_id"], name="received_once"),
        ]

    def __str__(self) -> str:
        return f"{self.peer}: {self.incident_id}"
