"""The phone system's past for the demo (`seed_demo --history DAYS`): every past call the
history logged (reports.demo_history) rang before the operator answered it, and some callers
gave up before anyone did — so that the call answering KPI on /performance/ has figures.

Ring times are long-tailed and slower in the busy hours (fewer free operators), abandoned
calls likelier then too; written with bulk inserts, repeatable for the same seed, and left
alone when the phone system already has a past."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from reports.demo_history import HOURLY
from reports.models import Call

from .models import CallEvent, CallEventKind, CallState, Extension, PhoneCall

# The busiest hour's weight in reports.demo_history.HOURLY.
PEAK = max(HOURLY)


def _today_start() -> datetime:
    return datetime.combine(timezone.localdate(), time.min, tzinfo=timezone.get_default_timezone())


def seed_phone_history(*, seed: int = 112) -> int:
    """PBX calls for the logged past calls that have none, and abandoned calls among them;
    returns how many were written (0 when the phone system has a past already)."""
    start = _today_start()
    if PhoneCall.objects.filter(ringing_at__lt=start).exists():
        return 0
    rng = random.Random(seed)
    extensions = dict(Extension.objects.values_list("operator", "number"))
    zone = timezone.get_default_timezone()
    phone_calls, plans = [], []
    logged = Call.objects.filter(received_at__lt=start, phone_call__isnull=True).order_by(
        "received_at", "pk"
    )
    for call in logged.values("pk", "caller_phone", "received_at", "operator"):
        busy = HOURLY[timezone.localtime(call["received_at"], zone).hour] / PEAK
        ring = min(rng.lognormvariate(1.6 + 0.7 * busy, 0.55), 120.0)
        answered = call["received_at"]
        ringing = answered - timedelta(seconds=ring)
        ended = answered + timedelta(seconds=rng.uniform(40, 400))
        phone_calls.append(
            PhoneCall(
                call_id=f"demo-{call['pk']}",
                caller_phone=call["caller_phone"],
                extension=extensions.get(call["operator"], ""),
                operator_id=call["operator"],
                state=CallState.ENDED,
                ringing_at=ringing,
                answered_at=answered,
                ended_at=ended,
                logged_call_id=call["pk"],
            )
        )
        plans.append(((CallEventKind.RINGING, ringing), (CallEventKind.ANSWERED, answered),
                      (CallEventKind.ENDED, ended)))  # fmt: skip
        # Someone else rang at about the same time and gave up (more often when busy).
        if rng.random() < 0.03 + 0.09 * busy:
            gave_up = ringing + timedelta(seconds=rng.uniform(-300, 300))
            ended = gave_up + timedelta(seconds=rng.uniform(4, 45))
            phone_calls.append(
                PhoneCall(
                    call_id=f"demo-{call['pk']}-abandoned",
                    caller_phone="+628" + "".join(rng.choice("0123456789") for _ in range(10)),
                    extension=extensions.get(call["operator"], ""),
                    operator_id=call["operator"],
                    state=CallState.ABANDONED,
                    ringing_at=gave_up,
                    ended_at=ended,
                )
            )
            plans.append(((CallEventKind.RINGING, gave_up), (CallEventKind.ENDED, ended)))
    with transaction.atomic():
        PhoneCall.objects.bulk_create(phone_calls, batch_size=1000)
        CallEvent.objects.bulk_create(
            (
                CallEvent(phone_call=phone_call, kind=kind, at=moment)
                for phone_call, events in zip(phone_calls, plans, strict=True)
                for kind, moment in events
            ),
            batch_size=2000,
        )
        # auto_now_add stamped them now; their first event is when the PBX saw them.
        PhoneCall.objects.filter(call_id__startswith="demo-", ringing_at__lt=start).update(
            created_at=F("ringing_at")
        )
    return len(phone_calls)
