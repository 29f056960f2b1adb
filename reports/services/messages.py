"""The report's chat and the agency desk's shift handover notes."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from agencies.roles import Role, user_agency
from core.errors import ActionForbidden
from core.validation import Errors, clean_text

from ..access import as_viewer, reports_engaged_by
from ..models import HandoverNote, Message, Report
from .events import User, _require_role, event_record


@transaction.atomic
def message_post(*, author: User, report: Report | int, body: str) -> Message:
    """Adds a chat line to a report, from the command centre or one of its agencies."""
    report_id = report.pk if isinstance(report, Report) else report
    report = reports_engaged_by(as_viewer(author)).filter(pk=report_id).first()
    if report is None:
        raise ActionForbidden(_("You cannot write on this report."))
    errors = Errors()
    body = clean_text(errors, "body", body, max_length=2000, required=True)
    errors.raise_if_any()
    message = Message.objects.create(
        report=report, author=author, author_agency=user_agency(author), body=body
    )
    event_record(report, "message.created", actor=author, data={"message": message.pk})
    return message


def handover_note_add(*, author: User, body: str) -> HandoverNote:
    """Leaves a note for the next shift of the author's agency (issue 17 §5)."""
    _require_role(author, Role.AGENCY_STAFF)
    errors = Errors()
    body = clean_text(errors, "body", body, max_length=2000, required=True)
    errors.raise_if_any()
    return HandoverNote.objects.create(agency=user_agency(author), author=author, body=body)
