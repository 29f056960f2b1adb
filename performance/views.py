"""The performance pages and their exports, for supervisors and operators (read-only).

Every figure comes from performance.selectors (aggregated in SQL); the views only parse the
filter, arrange the numbers for display and choose the format."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from agencies.models import Agency, Category, Kecamatan, Priority
from agencies.roles import Role, user_role
from reports.models import AssignmentStatus, CallOutcome

from . import exports
from .api import PerformanceFilterSerializer
from .selectors import (
    FAR_ARRIVAL_METRES,
    MIN_RANKED_SAMPLES,
    SECTIONS,
    PerformanceFilter,
    agency_drilldown,
    calls_per_day,
    reports_per_day,
    response_distribution,
    this_month,
)


def _command_centre(request: HttpRequest) -> None:
    if user_role(request.user) not in (Role.OPERATOR, Role.SUPERVISOR):
        raise PermissionDenied


def _filter(request: HttpRequest) -> tuple[PerformanceFilter, list[str]]:
    """The filter asked for, or this month and the reasons the request was refused."""
    parsed = PerformanceFilterSerializer(data=request.GET)
    if parsed.is_valid():
        return parsed.validated_data, []
    labels = {
        "since": _("From"),
        "until": _("Until"),
        "category": _("Incident type"),
        "kecamatan": _("Kecamatan"),
        "priority": _("Priority"),
    }
    errors = [
        f"{labels.get(field, _('Filter'))}: {message}"
        for field, messages in parsed.errors.items()
        for message in messages
    ]
    return this_month(), errors


def _query(period: PerformanceFilter) -> str:
    """The filter as a query string, for the links to exports and drill-downs."""
    params = {"since": period.since.isoformat(), "until": period.until.isoformat()}
    for name in ("category", "kecamatan", "priority"):
        if getattr(period, name):
            params[name] = getattr(period, name)
    return urlencode(params)


def minutes_seconds(seconds: float | None) -> str:
    """612.4 → "10:12"; no sample → "–"."""
    if seconds is None:
        return "–"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


# How a share of arrivals within target reads at a glance (issue 37 §9): NENA's 90 % is met;
# under 70 % an agency is slow enough to be asked why.
TARGET_MET_PCT, TARGET_WARN_PCT = 90.0, 70.0


def target_band(within_target_pct: float | None) -> str:
    """ "met", "short" or "slow" for the table's colour; "" without a sample."""
    if within_target_pct is None:
        return ""
    if within_target_pct >= TARGET_MET_PCT:
        return "met"
    return "short" if within_target_pct >= TARGET_WARN_PCT else "slow"


def _table(period: PerformanceFilter) -> list[dict]:
    rows = []
    for row in exports.ranked_rows(period):
        rows.append(
            {
                **row,
                "thin": not row["ranked"] and row["arrived"] > 0,
                "target_band": target_band(row["within_target_pct"]),
                "shown": {
                    name: minutes_seconds(row[name])
                    for name in (
                        "delivery_seconds_median",
                        "seen_seconds_median",
                        "ack_seconds_median",
                        "ack_seconds_p90",
                        "response_seconds_median",
                        "response_seconds_p90",
                        "target_seconds",
                    )
                },
            }
        )
    return rows


def _distribution(period: PerformanceFilter, table: list[dict]) -> list[dict]:
    """The distribution in the table's order, each bucket with its share of the samples."""
    rows = exports.in_table_order(response_distribution(period), table)
    for row in rows:
        row["cells"] = [
            {"count": count, "pct": round(100 * count / row["arrived"], 1) if row["arrived"] else 0}
            for count in row["buckets"]
        ]
    return rows


def _chart_data(period: PerformanceFilter) -> dict:
    """Calls per day by outcome and reports per day, one value per day of the period."""
    days = [
        (period.since + timedelta(days=offset)).isoformat()
        for offset in range((period.until - period.since).days + 1)
    ]
    index = {day: position for position, day in enumerate(days)}
    calls = {value: [0] * len(days) for value in CallOutcome.values}
    for row in calls_per_day(period):
        calls.setdefault(row["outcome"], [0] * len(days))[index[row["day"]]] = row["calls"]
    reports = [0] * len(days)
    for row in reports_per_day(period):
        reports[index[row["day"]]] = row["reports"]
    return {
        "days": days,
        "calls": [
            {"outcome": value, "label": str(label), "counts": calls[value]}
            for value, label in CallOutcome.choices
        ],
        "reports": reports,
    }


# The distribution's bars are sized by style attributes (widths, no code): allowed here only.
@csp_update({"style-src-attr": ["'unsafe-inline'"]})
@login_required
@require_GET
def performance(request: HttpRequest) -> HttpResponse:
    """Which agency is fast and which is slow: the ranking, volumes per day, the
    distribution of response times, with links to drill-downs and exports."""
    _command_centre(request)
    period, errors = _filter(request)
    table = _table(period)
    context = {
        "period": period,
        "errors": errors,
        "query": _query(period),
        "categories": Category.objects.order_by("name"),
        "kecamatan_list": Kecamatan.objects.order_by("name"),
        "priorities": Priority.choices,
        "table": table,
        "min_ranked": MIN_RANKED_SAMPLES,
        "bucket_labels": exports.bucket_labels(),
        "distribution": _distribution(period, table),
        "chart_data": _chart_data(period),
        "calls_filtered": bool(period.category or period.kecamatan or period.priority),
        "sections": [
            {"template": section.template, **section.context(period)} for section in SECTIONS
        ],
    }
    return render(request, "performance/performance.html", context)


def _drilldown_rows(rows: list[dict]) -> list[dict]:
    status = dict(AssignmentStatus.choices)
    for row in rows:
        row["status_label"] = status.get(row["status"], row["status"])
        row["ack_shown"] = minutes_seconds(row["ack_seconds"])
        row["response_shown"] = minutes_seconds(row["response_seconds"])
    return rows


@login_required
@require_GET
def agency_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One agency's slowest responses and its escalated or overdue assignments."""
    _command_centre(request)
    agency = get_object_or_404(Agency, code=code)
    period, errors = _filter(request)
    drilldown = agency_drilldown(period, agency.code)
    summary = next((row for row in _table(period) if row["agency"] == agency.code), None)
    context = {
        "agency": agency,
        "period": period,
        "errors": errors,
        "query": _query(period),
        "summary": summary,
        "min_ranked": MIN_RANKED_SAMPLES,
        "target_shown": minutes_seconds(agency.response_target_seconds),
        "slowest": _drilldown_rows(drilldown["slowest"]),
        "escalated": _drilldown_rows(drilldown["escalated"]),
        "field_checks": _drilldown_rows(drilldown["field_checks"]),
        "far_metres": FAR_ARRIVAL_METRES,
    }
    return render(request, "performance/agency.html", context)


def _export(request: HttpRequest, make) -> HttpResponse:
    """An export of exactly the filter asked for: a bad one is refused, not replaced."""
    _command_centre(request)
    period, errors = _filter(request)
    if errors:
        return HttpResponseBadRequest("\n".join(errors), content_type="text/plain; charset=utf-8")
    return make(period)


@login_required
@require_GET
def export_table_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, exports.table_csv)


@login_required
@require_GET
def export_table_xlsx(request: HttpRequest) -> HttpResponse:
    return _export(request, exports.table_xlsx)


@login_required
@require_GET
def export_assignments_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, lambda period: exports.assignments_csv(request, period))


@login_required
@require_GET
def export_assignments_xlsx(request: HttpRequest) -> HttpResponse:
    return _export(request, exports.assignments_xlsx)
