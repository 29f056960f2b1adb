"""Closing a report (prank, duplicate, resolved, handed over…): its open assignments are
cancelled and the agencies hear it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.roles import Role
from core.errors import TransitionNotAllowed
from core.validation import Errors, clean_choice, clean_id, clean_text

from ..models import OPEN_ASSIGNMENT_STATUSES, CloseReason, Report, ReportStatus
from .assignments import ASSIGNMENT_ACTIONS, _apply
from .events import User, _require_role, event_record


@transaction.atomic
def report_close(
    *,
    actor: User,
    report: Report | int,
    reason: str,
    note: str = "",
    public_note: str = "",
    duplicate_of: Report | int | None = None,
    _handed_over: bool = False,
) -> Report:
    """Closes an open report and cancels its assignments that are still open. `note` is the
    operators' own; `public_note` is what city apps show (Open311 status_notes)."""
    _require_role(actor, Role.OPERATOR)
    report_id = report.pk if isinstance(report, Report) else report
    # NO KEY UPDATE: Event and Message inserts elsewhere take KEY SHARE locks on this row
    # (their foreign keys); a full FOR UPDATE here would deadlock with them.
    report = Report.objects.select_for_update(no_key=True).get(pk=report_id)
    if report.status == ReportStatus.CLOSED:
        raise TransitionNotAllowed(
            _("Report %(number)s is already closed.") % {"number": report.number}
        )
    errors = Errors()
    clean_choice(errors, "reason", reason, CloseReason)
    if (reason == CloseReason.HANDED_OVER) != _handed_over:
        errors.add(
            "reason",
            _("A report is handed over with the handover action: it sends it to the other centre."),
        )
    note = clean_text(errors, "note", note, max_length=2000)
    public_note = clean_text(errors, "public_note", public_note, max_length=500)
    original = None
    original_id = clean_id(errors, "duplicate_of", duplicate_of, Report)
    if reason == CloseReason.DUPLICATE and "duplicate_of" not in errors.by_field:
        original = (
            Report.objects.select_related("duplicate_of").filter(pk=original_id).first()
            if original_id
            else None
        )
        if original is None:
            errors.add("duplicate_of", _("Choose the report this one duplicates."))
        elif original.pk == report.pk:
            errors.add("duplicate_of", _("A report cannot duplicate itself."))
        elif original.close_reason == CloseReason.DUPLICATE:
            # Links always point at the original incident: no chains, so no cycles.
            errors.add(
                "duplicate_of",
                _("%(number)s is itself a duplicate of %(original)s: choose that one.")
                % {"number": original.number, "original": original.duplicate_of.number},
            )
    elif duplicate_of is not None and "duplicate_of" not in errors.by_field:
        errors.add("duplicate_of", _("Only a duplicate refers to another report."))
    errors.raise_if_any()

    now = timezone.now()
    for assignment in report.assignments.select_for_update(no_key=True).filter(
        status__in=OPEN_ASSIGNMENT_STATUSES
    ):
        _apply(assignment, ASSIGNMENT_ACTIONS["cancel"], actor=actor, now=now)
    report.status = ReportStatus.CLOSED
    report.close_reason = reason
    report.close_note = note
    report.public_note = public_note
    report.duplicate_of = original
    report.closed_at = now
    report.closed_by = actor
    report.save(
        update_fields=[
            "status",
            "close_reason",
            "close_note",
            "public_note",
            "duplicate_of",
            "closed_at",
            "closed_by",
        ]
    )
    event_record(
        report,
        "report.closed",
        actor=actor,
        data={
            "reason": reason,
            "note": note,
            "public_note": public_note,
            "duplicate_of": original.pk if original else None,
        },
    )
    return report


def report_hand_over(*, actor: User, report: Report | int, note: str) -> Report:
    """Closes a report that another centre has accepted (SPEC §10): `note` names the centre
    and its number for the report. The sending is interop's; this records its outcome."""
    return report_close(
        actor=actor, report=report, reason=CloseReason.HANDED_OVER, note=note, _handed_over=True
    )
