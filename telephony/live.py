"""What the operators' consoles see of the phone system, live (SPEC §9):

* `{"type": "telephony.call", "state": ringing|answered|ended|abandoned, "call_id",
  "caller_phone", "extension", "operator", "ringing_at", "answered_at", "ended_at",
  "dismissed_at", "dismissed_by", "history": {calls_total, prank_count, flagged}}` — to the
  operator at the extension, or to every operator when the extension is nobody's (or not
  given); a dismissed abandoned call goes out again with `dismissed_at` set;
* `{"type": "aml.location", "id", "caller_phone", "latitude", "longitude", "accuracy_m",
  "positioning", "confidence_pct", "located_at", "call"}` — the caller's handset position,
  to every operator (the console shows it when the number is the one on its form).

Neither is an Event: they carry no event id and are not replayed; a console that reconnects
gets the calls still ringing or in progress and the last AML positions in its snapshot."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from agencies.roles import Role, user_role
from notifications.publish import publish_frame_on_commit
from reports.selectors import phone_history

from .models import AmlMessage, AmlStatus, CallState, PhoneCall

# How long a call the caller gave up on stays on the consoles (to be called back).
ABANDONED_SHOWN = timedelta(minutes=30)
AML_SHOWN = timedelta(minutes=10)


def _iso(moment):
    return moment.isoformat() if moment else None


def call_frame(call: PhoneCall, *, with_history: bool = True) -> dict:
    frame = {
        "type": "telephony.call",
        "state": call.state,
        "call_id": call.call_id,
        "caller_phone": call.caller_phone,
        "extension": call.extension,
        "operator": call.operator.get_username() if call.operator_id else None,
        "ringing_at": _iso(call.ringing_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "dismissed_at": _iso(call.dismissed_at),
        "dismissed_by": call.dismissed_by.get_username() if call.dismissed_by_id else None,
    }
    if with_history and call.caller_phone.startswith("+"):  # any E.164 number has a history
        history = phone_history(call.caller_phone, recent=0)
        frame["history"] = {k: history[k] for k in ("calls_total", "prank_count", "flagged")}
    return frame


def aml_frame(message: AmlMessage) -> dict:
    return {
        "type": "aml.location",
        "id": message.pk,
        "caller_phone": message.caller_phone,
        "latitude": message.latitude,
        "longitude": message.longitude,
        "accuracy_m": message.accuracy_m,
        "positioning": message.positioning,
        "confidence_pct": message.confidence_pct,
        "located_at": _iso(message.located_at or message.received_at),
        "call": message.call_id,
    }


def publish_dismissed_on_commit(call: PhoneCall) -> None:
    """The consoles that showed the abandoned call take it down (the same audience)."""
    publish_frame_on_commit(
        call_frame(call, with_history=False),
        user_ids=[call.operator_id] if call.operator_id else None,
    )


def publish_call_on_commit(call: PhoneCall, event: str) -> None:
    frame = call_frame(call, with_history=event == "ringing" or call.state == CallState.ANSWERED)
    publish_frame_on_commit(frame, user_ids=[call.operator_id] if call.operator_id else None)


def publish_aml_on_commit(message: AmlMessage) -> None:
    if message.status != AmlStatus.ACCEPTED:
        return
    publish_frame_on_commit(aml_frame(message))


def snapshot_extra(user) -> dict:
    """notifications.consumers.snapshot: an operator's calls still ringing or in progress
    (theirs, or nobody's), those abandoned in the last half hour, and recent AML positions."""
    if user_role(user) != Role.OPERATOR:
        return {}
    now = timezone.now()
    calls = (
        PhoneCall.objects.filter(Q(operator=user) | Q(operator__isnull=True))
        .filter(
            Q(
                state__in=[CallState.RINGING, CallState.ANSWERED],
                created_at__gte=now - timedelta(hours=2),
            )
            | Q(
                state=CallState.ABANDONED,
                ended_at__gte=now - ABANDONED_SHOWN,
                dismissed_at__isnull=True,
            )
        )
        .select_related("operator", "dismissed_by")
        .order_by("created_at")[:50]
    )
    positions = AmlMessage.objects.filter(
        status=AmlStatus.ACCEPTED, received_at__gte=now - AML_SHOWN
    ).order_by("received_at")[:50]
    return {
        "phone_calls": [call_frame(c, with_history=False) for c in calls],
        "aml": [aml_frame(m) for m in positions],
    }
