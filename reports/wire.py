"""A report, its assignments and a chat line as the live events carry them (SPEC §5), built by
hand: the hot path of every notification (issue 34 §4).

DRF's ModelSerializer builds the same dicts generically (its fields resolved per attribute,
a field object per value): about a third of a report's publish time went there
(`make profile`). These builders give exactly what reports.api.serializers gives — the same
keys in the same order, the same types, times as DRF writes them (in the current time zone,
ISO 8601, `Z` for UTC) — and tests/test_wire.py holds them to it for reports in every state.

They take what they read explicitly (the report's assignments as a list), so an action that
has just written the rows hands them over instead of reading them back."""

from __future__ import annotations

from datetime import datetime
from decimal import Context, Decimal

from django.utils import timezone

from .models import Assignment, Message, Report


def when(value: datetime | None) -> str | None:
    """A time as DRF's DateTimeField writes it."""
    if value is None:
        return None
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _coordinate(value, field: str) -> str | None:
    """A report's coordinate as DRF's DecimalField writes it: a string, to the field's
    decimal places."""
    if value is None:
        return None
    model_field = Report._meta.get_field(field)
    exponent = Decimal(".1") ** model_field.decimal_places
    value = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    return f"{value.quantize(exponent, context=Context(prec=model_field.max_digits)):f}"


def _float(value) -> float | None:
    return None if value is None else float(value)


def _int(value) -> int | None:
    return None if value is None else int(value)


def assignment_data(assignment: Assignment, report_number: str) -> dict:
    """AssignmentSerializer's dict; `assignment.agency` loaded (select_related)."""
    a = assignment
    return {
        "id": a.pk,
        "report": a.report_id,
        "report_number": report_number,
        "agency": a.agency.code,
        "status": a.status,
        "notified_at": when(a.notified_at),
        "acknowledged_at": when(a.acknowledged_at),
        "dispatched_at": when(a.dispatched_at),
        "eta_minutes": _int(a.eta_minutes),
        "unit": a.unit,
        "unit_id": a.unit_ref_id,
        "departed_at": when(a.departed_at),
        "arrived_at": when(a.arrived_at),
        "arrival_distance_m": _int(a.arrival_distance_m),
        "arrival_synced_late": a.arrival_synced_late,
        "resolved_at": when(a.resolved_at),
        "resolution_note": a.resolution_note,
        "rejected_at": when(a.rejected_at),
        "reject_reason": a.reject_reason,
        "cancelled_at": when(a.cancelled_at),
        "cancel_reason": a.cancel_reason,
        "escalated_at": when(a.escalated_at),
        "overdue_at": when(a.overdue_at),
        "delivered_at": when(a.delivered_at),
        "seen_at": when(a.seen_at),
        "seen_by": a.seen_by.username if a.seen_by_id else None,
        "unheard_at": when(a.unheard_at),
    }


def report_data(report: Report, assignments: list[Assignment]) -> dict:
    """ReportSerializer's dict with the caller in full (the live payload, masked per
    audience afterwards); `report.category`, `kecamatan`, `operator` loaded."""
    r = report
    return {
        "id": r.pk,
        "number": r.number,
        "caller_name": r.caller_name,
        "caller_phone": r.caller_phone,
        "caller_phone_masked": False,
        "caller_withheld": False,
        "category": r.category.code if r.category_id is not None else None,
        "category_name": r.category.name if r.category_id is not None else None,
        "priority": _int(r.priority),
        "description": r.description,
        "address": r.address,
        "kecamatan": r.kecamatan.code if r.kecamatan_id is not None else None,
        "kecamatan_name": r.kecamatan.name if r.kecamatan_id is not None else None,
        "latitude": _coordinate(r.latitude, "latitude"),
        "longitude": _coordinate(r.longitude, "longitude"),
        "location_source": r.location_source,
        "location_accuracy_m": _float(r.location_accuracy_m),
        "received_at": when(r.received_at),
        "operator": r.operator.get_username() if r.operator_id is not None else None,
        "status": r.status,
        "close_reason": r.close_reason,
        "close_note": r.close_note,
        "public_note": r.public_note,
        "duplicate_of": r.duplicate_of_id,
        "closed_at": when(r.closed_at),
        "source": r.source,
        "origin": r.origin,
        "assignments": [assignment_data(a, r.number) for a in assignments],
    }


def message_data(message: Message) -> dict:
    """MessageSerializer's dict; `author` and `author_agency` loaded."""
    m = message
    return {
        "id": m.pk,
        "report": m.report_id,
        "author": m.author.get_username() if m.author_id is not None else None,
        "author_agency": m.author_agency.code if m.author_agency_id is not None else None,
        "body": m.body,
        "created_at": when(m.created_at),
    }
