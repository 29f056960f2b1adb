"""The call answering KPI on /performance/ (a section of the performance page, registered in
TelephonyConfig.ready) and in its exports: a sheet of the table's XLSX and its own CSV.
The figures come from telephony.answering."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from performance.exports import CSV_TYPE, filename
from performance.selectors import PerformanceFilter, PerformanceSection, Sheet

from .answering import ANSWER_TARGET_SECONDS, answering


def hour_label(hour: int) -> str:
    """8 → "08.00–09.00" (WIB, as Indonesian writes times)."""
    return f"{hour:02d}.00–{hour + 1:02d}.00"


def section_context(period: PerformanceFilter) -> dict:
    kpi = answering(period)
    for row in kpi["by_hour"]:
        row["label"] = hour_label(row["hour"])
    for row in kpi["by_operator"]:
        if row["operator"] is None:
            row["operator_name"] = _("No extension (every operator's console)")
    return {"answering": kpi}


_FIGURES = (
    "offered",
    "answered",
    "abandoned",
    "abandoned_pct",
    "ring_seconds_median",
    "ring_seconds_p90",
    "within_target",
    "within_target_pct",
)


def table(period: PerformanceFilter) -> tuple[list[str], list[list]]:
    """The KPI as one table: the total, then each hour, then each operator."""
    kpi = section_context(period)["answering"]
    header = [
        _("Breakdown"),
        _("Hour (WIB) or operator"),
        _("Calls offered"),
        _("Answered"),
        _("Abandoned"),
        _("Abandoned (%)"),
        _("Ring → answer, median (s)"),
        _("Ring → answer, p90 (s)"),
        _("Answered within %(seconds)s s") % {"seconds": ANSWER_TARGET_SECONDS},
        _("Answered within %(seconds)s s (%%)") % {"seconds": ANSWER_TARGET_SECONDS},
    ]
    rows = [[_("Total"), "", *(kpi["total"][key] for key in _FIGURES)]]
    rows += [[_("Hour"), row["label"], *(row[key] for key in _FIGURES)] for row in kpi["by_hour"]]
    rows += [
        [_("Operator"), row["operator_name"], *(row[key] for key in _FIGURES)]
        for row in kpi["by_operator"]
    ]
    return header, rows


def sheets(period: PerformanceFilter) -> list[Sheet]:
    header, rows = table(period)
    return [(_("Call answering"), header, rows)]


def answering_csv(period: PerformanceFilter) -> HttpResponse:
    header, rows = table(period)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads the file as UTF-8
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([["" if value is None else value for value in row] for row in rows])
    response = HttpResponse(buffer.getvalue(), content_type=CSV_TYPE)
    name = filename(period, pgettext("filename", "call-answering"), "csv")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


SECTION = PerformanceSection(
    template="telephony/_answering.html", context=section_context, sheets=sheets
)
