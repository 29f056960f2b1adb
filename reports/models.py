"""Calls, reports, their per-agency assignments, the append-only event log and the chat.

Rows are changed only through reports.services; nothing here has business logic. (Over 400
lines for a reason: one module per app is where Django looks for models, and these tables
point at each other; splitting them would only add import knots.)"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agencies.models import (
    PRIORITY_VALIDATORS,
    Agency,
    Category,
    Kecamatan,
    Priority,
    Unit,
    coordinate_field,
)

USER = settings.AUTH_USER_MODEL


class AppendOnlyError(Exception):
    """An audit row (Event, PersonalDataAccess) was about to be changed or deleted."""


class AppendOnlyQuerySet(models.QuerySet):
    """Inserts and reads only: bulk updates and deletes raise. On PostgreSQL a trigger
    (migration 0005) refuses UPDATE and DELETE of these rows from any client as well."""

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} #{self.pk} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} #{self.pk} is append-only")


def _actor(verbose_name) -> models.ForeignKey:
    """Who took a step; kept even if the user is later deactivated."""
    return models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=verbose_name,
    )


class CallOutcome(models.TextChoices):
    REPORT = "report", _("report created")
    ATTACHED = "attached", _("attached to an existing report")
    INFORMATION = "information", _("information request")
    PRANK = "prank", _("prank call")
    GHOST = "ghost", _("ghost (silent) call")
    OTHER = "other", _("other")


class LocationSource(models.TextChoices):
    """Where a location came from (SPEC §9): kept on the call and on the report."""

    OPERATOR = "operator", _("placed by the operator")
    AML = "aml", _("the caller's handset (AML)")


class Call(models.Model):
    """Every incoming call, whatever came of it."""

    caller_phone = models.CharField(_("caller phone"), max_length=20)
    caller_name = models.CharField(_("caller name"), max_length=120, blank=True)
    received_at = models.DateTimeField(_("received at"))
    operator = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="calls", verbose_name=_("operator")
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=CallOutcome.choices)
    report = models.ForeignKey(
        "Report",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("report"),
    )
    note = models.TextField(_("note"), blank=True, max_length=2000)
    # The caller's handset position (AML, SPEC §9), matched to the call by its number. Personal
    # data like the number: erased with it by `anonymise_callers`.
    caller_latitude = models.FloatField(_("caller latitude"), null=True, blank=True)
    caller_longitude = models.FloatField(_("caller longitude"), null=True, blank=True)
    caller_accuracy_m = models.FloatField(_("caller position accuracy (m)"), null=True, blank=True)
    caller_location_source = models.CharField(
        _("caller position source"), max_length=16, choices=LocationSource.choices, blank=True
    )
    caller_located_at = models.DateTimeField(_("caller position time"), null=True, blank=True)
    created_at = models.DateTimeField(_("logged at"), auto_now_add=True)
    # Set by `manage.py anonymise_callers` when the caller's name and number were erased.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [
            models.Index(fields=["caller_phone", "-received_at"], name="call_phone_idx"),
            models.Index(fields=["received_at", "outcome"], name="call_day_outcome_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=CallOutcome.values), name="call_outcome_valid"
            ),
            # A call that created or joined a report points at it; no other call does.
            models.CheckConstraint(
                condition=(
                    Q(outcome__in=[CallOutcome.REPORT, CallOutcome.ATTACHED], report__isnull=False)
                    | (
                        ~Q(outcome__in=[CallOutcome.REPORT, CallOutcome.ATTACHED])
                        & Q(report__isnull=True)
                    )
                ),
                name="call_report_matches_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.caller_phone} · {self.get_outcome_display()}"


class ReportStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class CloseReason(models.TextChoices):
    RESOLVED = "resolved", _("resolved")
    PRANK = "prank", _("prank")
    GHOST = "ghost", _("ghost call")
    INFORMATION = "information", _("information only")
    NON_EMERGENCY = "non_emergency", _("not an emergency")
    DUPLICATE = "duplicate", _("duplicate")
    # Sent to another 112 centre (SPEC §10, EIDO): the close note names it and its number.
    HANDED_OVER = "handed_over", _("handed over to another centre")


class ReportSource(models.TextChoices):
    """How a report reached this centre (SPEC §10)."""

    CALL = "call", _("112 call")
    OPEN311 = "open311", _("city app (Open311)")
    EIDO = "eido", _("another 112 centre (EIDO)")


class Report(models.Model):
    """An incident (laporan). The response clock starts at `received_at`."""

    number = models.CharField(_("number"), max_length=32, unique=True, editable=False)
    caller_name = models.CharField(_("caller name"), max_length=120, blank=True)
    caller_phone = models.CharField(_("caller phone"), max_length=20)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="reports", verbose_name=_("category")
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, validators=PRIORITY_VALIDATORS
    )
    description = models.TextField(_("description"), max_length=4000)
    address = models.CharField(_("address"), max_length=300)
    kecamatan = models.ForeignKey(
        Kecamatan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("kecamatan"),
    )
    latitude = coordinate_field(_("latitude"), 90)
    longitude = coordinate_field(_("longitude"), 180)
    # Where the pin came from and how sure it is (SPEC §9): the operator's click, or the
    # caller's handset (AML) with its accuracy radius.
    location_source = models.CharField(
        _("location source"), max_length=16, choices=LocationSource.choices, blank=True
    )
    location_accuracy_m = models.FloatField(_("location accuracy (m)"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"))
    operator = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="reports", verbose_name=_("operator")
    )
    status = models.CharField(
        _("status"), max_length=8, choices=ReportStatus.choices, default=ReportStatus.OPEN
    )
    close_reason = models.CharField(
        _("close reason"), max_length=16, choices=CloseReason.choices, blank=True
    )
    close_note = models.TextField(_("close note"), blank=True, max_length=2000)
    # What the public may read (Open311's status_notes); the close note is the operators'
    # own and may name the caller (issue 33).
    public_note = models.TextField(
        _("note for the public"),
        blank=True,
        max_length=500,
        help_text=_("Shown to city apps (Open311) once the report is closed."),
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = _actor(_("closed by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    # A call here, a city app or another centre; `origin` names the app or centre and its
    # own number for the report, for whoever has to ask them about it.
    source = models.CharField(
        _("source"), max_length=8, choices=ReportSource.choices, default=ReportSource.CALL
    )
    origin = models.CharField(_("origin"), max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        indexes = [
            models.Index(fields=["status", "-received_at"], name="report_status_idx"),
            models.Index(
                fields=["category", "kecamatan", "-received_at"], name="report_duplicate_idx"
            ),
            models.Index(fields=["caller_phone", "-received_at"], name="report_phone_idx"),
            models.Index(fields=["received_at"], name="report_received_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=1) & Q(priority__lte=3), name="report_priority_1_to_3"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReportStatus.values), name="report_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status=ReportStatus.OPEN, close_reason="", closed_at__isnull=True)
                    | Q(
                        status=ReportStatus.CLOSED,
                        close_reason__in=CloseReason.values,
                        closed_at__isnull=False,
                    )
                ),
                name="report_closed_has_reason",
            ),
            models.CheckConstraint(
                condition=(
                    Q(close_reason=CloseReason.DUPLICATE, duplicate_of__isnull=False)
                    | (~Q(close_reason=CloseReason.DUPLICATE) & Q(duplicate_of__isnull=True))
                ),
                name="report_duplicate_has_link",
            ),
            models.CheckConstraint(
                condition=(
                    Q(latitude__isnull=True, longitude__isnull=True)
                    | Q(latitude__isnull=False, longitude__isnull=False)
                ),
                name="report_lat_lng_together",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ReportCounter(models.Model):
    """Last report number handed out per WIB day; incremented atomically by the database."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("report counter")

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class AssignmentStatus(models.TextChoices):
    NOTIFIED = "notified", _("notified")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    DISPATCHED = "dispatched", _("dispatched")
    ON_SCENE = "on_scene", _("on scene")
    RESOLVED = "resolved", _("resolved")
    REJECTED = "rejected", _("rejected")
    CANCELLED = "cancelled", _("cancelled")


OPEN_ASSIGNMENT_STATUSES = (
    AssignmentStatus.NOTIFIED,
    AssignmentStatus.ACKNOWLEDGED,
    AssignmentStatus.DISPATCHED,
    AssignmentStatus.ON_SCENE,
)
# An agency whose assignment ended like this has left the report (reports.selectors).
LEFT_ASSIGNMENT_STATUSES = (AssignmentStatus.REJECTED, AssignmentStatus.CANCELLED)


class Assignment(models.Model):
    """One report as one agency's job. Each step keeps its time and who did it."""

    report = models.ForeignKey(
        Report, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("report")
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("agency")
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AssignmentStatus.choices,
        default=AssignmentStatus.NOTIFIED,
    )
    # A copy of report.received_at (which never changes once the report exists), so that
    # performance statistics over millions of assignments need no join with reports.
    received_at = models.DateTimeField(_("call received at"))
    notified_at = models.DateTimeField(_("notified at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = _actor(_("acknowledged by"))
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    dispatched_by = _actor(_("dispatched by"))
    eta_minutes = models.PositiveSmallIntegerField(
        _("ETA (minutes)"), null=True, blank=True, validators=[MaxValueValidator(1440)]
    )
    # The unit sent: its call sign as text (free text for an agency without units), and
    # for an agency with units the unit itself, which serves this assignment alone while it
    # is dispatched or on scene (constraint below).
    unit = models.CharField(_("unit"), max_length=80, blank=True)
    unit_ref = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
        verbose_name=_("unit (fleet)"),
    )
    # The crew's *Berangkat*: when the unit actually rolled (turnout time = this − dispatch).
    departed_at = models.DateTimeField(_("departed at"), null=True, blank=True)
    departed_by = _actor(_("departure marked by"))
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    arrived_by = _actor(_("arrival marked by"))
    # Where the arrival was tapped (the phone's GPS), and how far that was from the report.
    arrival_latitude = models.FloatField(_("arrival latitude"), null=True, blank=True)
    arrival_longitude = models.FloatField(_("arrival longitude"), null=True, blank=True)
    arrival_accuracy_m = models.FloatField(_("arrival accuracy (m)"), null=True, blank=True)
    arrival_distance_m = models.PositiveIntegerField(
        _("arrival distance from the report (m)"), null=True, blank=True
    )
    # The arrival reached the server more than DISPATCH_LATE_SYNC_SECONDS after it was tapped
    # (queued on a phone without network): arrived_at is the tap, the event has the receipt.
    arrival_synced_late = models.BooleanField(_("arrival synced late"), default=False)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = _actor(_("resolved by"))
    resolution_note = models.TextField(_("resolution note"), blank=True, max_length=2000)
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    rejected_by = _actor(_("rejected by"))
    reject_reason = models.TextField(_("reject reason"), blank=True, max_length=2000)
    # Why the command centre took the agency off the report (SPEC §11); empty when the
    # report's closing cancelled it.
    cancel_reason = models.TextField(_("cancel reason"), blank=True, max_length=2000)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = _actor(_("cancelled by"))
    # Delivery you can see (SPEC §12): the first screen of the agency that showed the new
    # assignment (a live frame it acknowledged, or a snapshot it drew on connecting), the
    # first person of the agency who had its card on screen with the page visible, and when
    # nobody's screen had it DISPATCH_UNHEARD_SECONDS after it was sent (the operator calls).
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    seen_at = models.DateTimeField(_("seen at"), null=True, blank=True)
    seen_by = _actor(_("seen by"))
    unheard_at = models.DateTimeField(_("unheard at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    overdue_at = models.DateTimeField(
        _("overdue at"),
        null=True,
        blank=True,
        help_text=_("Set when the agency's response target passed without arrival on scene."),
    )

    class Meta:
        ordering = ["notified_at", "id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        indexes = [
            # The agency queue: an agency's open assignments, oldest first.
            models.Index(fields=["agency", "status", "notified_at"], name="assignment_queue_idx"),
            # Performance pages: assignments whose call was received in a period.
            models.Index(fields=["received_at", "agency"], name="assignment_received_idx"),
            # The year's statistics: rows come out of this index already grouped by agency,
            # with every column the aggregates read (PostgreSQL: an index-only scan, no sort
            # of a million rows and no heap reads; SQLite keeps only the key columns).
            models.Index(
                fields=["agency", "received_at"],
                name="assignment_stats_idx",
                include=[
                    "status",
                    "notified_at",
                    "acknowledged_at",
                    "arrived_at",
                    "escalated_at",
                    "delivered_at",
                    "seen_at",
                    "unheard_at",
                ],
            ),
            # The escalation sweep: still-notified assignments by age.
            models.Index(
                fields=["notified_at"],
                name="assignment_unacked_idx",
                condition=Q(status="notified", escalated_at__isnull=True),
            ),
            # The unheard sweep: sent, on no screen of the agency yet, not yet flagged.
            models.Index(
                fields=["notified_at"],
                name="assignment_undelivered_idx",
                condition=Q(status="notified", delivered_at__isnull=True, unheard_at__isnull=True),
            ),
            # The overdue sweep: not yet on scene, not yet flagged.
            models.Index(
                fields=["agency", "notified_at"],
                name="assignment_not_arrived_idx",
                condition=Q(
                    status__in=["notified", "acknowledged", "dispatched"],
                    overdue_at__isnull=True,
                ),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["report", "agency"], name="assignment_one_per_agency"),
            models.CheckConstraint(
                condition=Q(status__in=AssignmentStatus.values), name="assignment_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=AssignmentStatus.REJECTED) | ~Q(reject_reason=""),
                name="assignment_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status=AssignmentStatus.DISPATCHED) | Q(eta_minutes__isnull=False),
                name="assignment_dispatched_has_eta",
            ),
            # One unit serves one assignment at a time (SPEC §7).
            models.UniqueConstraint(
                fields=["unit_ref"],
                condition=Q(status__in=["dispatched", "on_scene"]),
                name="assignment_one_per_busy_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} → {self.agency_id} ({self.status})"


# The statuses in which an assignment holds its unit.
UNIT_BUSY_STATUSES = (AssignmentStatus.DISPATCHED, AssignmentStatus.ON_SCENE)


class Event(AppendOnlyModel):
    """Append-only log of everything that happened to a report. The id is the websocket
    event id: strictly increasing, so a client can resume after the last one it saw.

    `actor` is who did it; it is empty only for the system's own steps (the escalation
    sweep). `data` never holds a caller's name or number: the anonymisation command
    clears those on calls and reports, and this log is never rewritten."""

    id = models.BigAutoField(primary_key=True)
    # Empty only for a unit's own events (signed on, out of service…), which have `unit`.
    report = models.ForeignKey(
        Report,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("report"),
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("unit"),
    )
    assignment = models.ForeignKey(
        Assignment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("assignment"),
    )
    kind = models.CharField(_("kind"), max_length=40)
    actor = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            models.CheckConstraint(
                condition=Q(report__isnull=False) | Q(unit__isnull=False),
                name="event_about_report_or_unit",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.kind}"


class Message(models.Model):
    """A chat line on a report, between the agencies and the command centre."""

    report = models.ForeignKey(
        Report, on_delete=models.PROTECT, related_name="messages", verbose_name=_("report")
    )
    author = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    author_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author's agency"),
    )
    body = models.TextField(_("message"), max_length=2000)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["report", "created_at"], name="message_report_idx")]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.body[:40]}"


class HandoverNote(models.Model):
    """A note one shift of an agency leaves for the next (issue 17 §5): what to watch, what
    was promised, what is still pending. Shown on the agency's handover page."""

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="handover_notes", verbose_name=_("agency")
    )
    author = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    body = models.TextField(_("note"), max_length=2000)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("handover note")
        verbose_name_plural = _("handover notes")
        indexes = [models.Index(fields=["agency", "created_at"], name="handover_agency_idx")]

    def __str__(self) -> str:
        return f"{self.agency_id}: {self.body[:40]}"


class PersonalDataAccess(AppendOnlyModel):
    """Who read a caller's phone number, when, on which report (UU PDP No. 27/2022 Art. 31:
    a record of processing). Agency staff see numbers masked until they open one."""

    user = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    report = models.ForeignKey(
        Report, on_delete=models.PROTECT, related_name="+", verbose_name=_("report")
    )
    field = models.CharField(_("field"), max_length=40, default="caller_phone")
    accessed_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-accessed_at", "-id"]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        indexes = [models.Index(fields=["report", "accessed_at"], name="pda_report_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.field} of {self.report_id}"


class IdempotentRequest(models.Model):
    """The first answer to a request sent with an `Idempotency-Key` header (the field app's
    queued taps, SPEC §7): a replay of the same key by the same user gets this answer back
    and changes nothing. Written in the transaction of the change it answers."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    path = models.CharField(max_length=200)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotent request")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_age_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key}"
