"""The call answering KPI (SPEC §9; NENA-STA-020: 90 % of calls answered within 15 s): per
WIB hour of the day and per operator, the calls offered, answered and abandoned, ring →
answer median and p90 (percentile_cont, as performance.selectors), and the share answered
within ANSWER_TARGET_SECONDS.

Definitions, from the PBX's events (telephony.PhoneCall):
- offered: every call that rang in the period (WIB days of `ringing_at`; a call whose
  `ringing` event never came counts at its answer);
- ring → answer: answered_at − ringing_at, for the calls that have both;
- abandoned: rang and ended without an answer (the caller gave up);
- within 15 s: answered no later than 15 s after ringing, as a share of the calls offered
  that were answered or abandoned — a dropped call counts against the share, so a centre
  that lets callers hang up cannot look fast. A call still ringing has no outcome yet and
  is in neither.

Calls are attributed to the operator at the extension they rang (none: every operator's
console; shown as "no extension"). The incident type, kecamatan and priority filters of
/performance/ do not apply: a ringing phone has none of them yet."""

from __future__ import annotations

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce, ExtractHour
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from performance.selectors import PerformanceFilter
from performance.sql import PercentileCont, Seconds

from .models import CallState, PhoneCall

ANSWER_TARGET_SECONDS = 15
# NENA's target share of calls answered within ANSWER_TARGET_SECONDS (%).
ANSWER_TARGET_PCT = 90


def calls_in(period: PerformanceFilter) -> QuerySet[PhoneCall]:
    in_period = Q(ringing_at__gte=period.start, ringing_at__lt=period.end) | Q(
        ringing_at__isnull=True, answered_at__gte=period.start, answered_at__lt=period.end
    )
    return PhoneCall.objects.filter(in_period)


def _ring() -> Seconds:
    return Seconds(F("answered_at"), F("ringing_at"))


def _aggregates() -> dict:
    timed = Q(answered_at__isnull=False, ringing_at__isnull=False)
    return {
        "offered": Count("pk"),
        "answered": Count("pk", filter=Q(answered_at__isnull=False)),
        "abandoned": Count("pk", filter=Q(state=CallState.ABANDONED)),
        "within_target": Count(
            "pk", filter=timed & Q(LessThanOrEqual(_ring(), ANSWER_TARGET_SECONDS))
        ),
        "ring_seconds_median": PercentileCont(_ring(), 0.5, filter=timed),
        "ring_seconds_p90": PercentileCont(_ring(), 0.9, filter=timed),
    }


def _row(values: dict) -> dict:
    offered = values.get("offered", 0)
    answered = values.get("answered", 0)
    abandoned = values.get("abandoned", 0)
    settled = answered + abandoned
    within = values.get("within_target", 0)
    return {
        "offered": offered,
        "answered": answered,
        "abandoned": abandoned,
        "abandoned_pct": _pct(abandoned, settled),
        "ring_seconds_median": _round(values.get("ring_seconds_median")),
        "ring_seconds_p90": _round(values.get("ring_seconds_p90")),
        "within_target": within,
        "within_target_pct": _pct(within, settled),
        "meets_target": None if not settled else 100 * within >= ANSWER_TARGET_PCT * settled,
    }


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def answering_total(period: PerformanceFilter) -> dict:
    return _row(calls_in(period).aggregate(**_aggregates()))


def answering_by_hour(period: PerformanceFilter) -> list[dict]:
    """One row per WIB hour of the day (0–23) that had calls, in hour order."""
    zone = timezone.get_default_timezone()
    rows = (
        calls_in(period)
        .annotate(hour=ExtractHour(Coalesce("ringing_at", "answered_at"), tzinfo=zone))
        .values("hour")
        .annotate(**_aggregates())
        .order_by("hour")
    )
    return [{"hour": row["hour"], **_row(row)} for row in rows]


def answering_by_operator(period: PerformanceFilter) -> list[dict]:
    """One row per operator whose extension calls rang at, by name; the calls that rang at
    no one's extension last."""
    rows = (
        calls_in(period)
        .values("operator", "operator__username", "operator__first_name", "operator__last_name")
        .annotate(**_aggregates())
        .order_by()
    )
    result = []
    for row in rows:
        full_name = f"{row['operator__first_name']} {row['operator__last_name']}".strip()
        result.append(
            {
                "operator": row["operator__username"],
                "operator_name": full_name or row["operator__username"],
                **_row(row),
            }
        )
    return sorted(result, key=lambda r: (r["operator"] is None, (r["operator_name"] or "")))


def answering(period: PerformanceFilter) -> dict:
    """The whole KPI: the period's total, per hour and per operator."""
    return {
        "target_seconds": ANSWER_TARGET_SECONDS,
        "target_pct": ANSWER_TARGET_PCT,
        "total": answering_total(period),
        "by_hour": answering_by_hour(period),
        "by_operator": answering_by_operator(period),
    }
