"""CSV and XLSX exports of agency performance: the table (what the city's monthly report to
the mayor is made from) and the assignments behind it, for the same filters.

Aggregates come from performance.selectors; the assignment exports stream rows from the
database in chunks. Times are in WIB with their offset: "2026-10-14 08:00:00+07:00" in
CSV; in XLSX (which has no time zones) the WIB time shown with its offset by the cell
format."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice, pairwise

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from agencies.models import Category, Kecamatan, Priority
from reports.models import AssignmentStatus, CallOutcome

from .selectors import (
    RESPONSE_BUCKETS,
    SECTIONS,
    PerformanceFilter,
    agency_performance,
    assignment_rows,
    calls_per_day,
    response_distribution,
)

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_ROWS = 2000


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    kind: str = "value"  # value | seconds | time | yes_no | status


def table_columns() -> list[Column]:
    return [
        Column(_("Rank"), "rank"),
        Column(_("Agency code"), "agency"),
        Column(_("Agency"), "agency_name"),
        Column(_("Assignments"), "assignments"),
        Column(_("Acknowledged"), "acknowledged"),
        Column(_("Arrived on scene (sample)"), "arrived"),
        Column(_("Resolved"), "resolved"),
        Column(_("Rejected"), "rejected"),
        Column(_("Escalated"), "escalated"),
        Column(_("Unheard"), "unheard"),
        Column(_("To a screen, median (s)"), "delivery_seconds_median", "seconds"),
        Column(_("Seen, median (s)"), "seen_seconds_median", "seconds"),
        Column(_("Acknowledgement, median (s)"), "ack_seconds_median", "seconds"),
        Column(_("Acknowledgement, p90 (s)"), "ack_seconds_p90", "seconds"),
        Column(_("Response, median (s)"), "response_seconds_median", "seconds"),
        Column(_("Response, p90 (s)"), "response_seconds_p90", "seconds"),
        Column(_("Within target (%)"), "within_target_pct"),
        Column(_("Target (s)"), "target_seconds"),
        Column(_("Ranked"), "ranked", "yes_no"),
    ]


def assignment_columns() -> list[Column]:
    return [
        Column(_("Report number"), "number"),
        Column(_("Incident type"), "category_name"),
        Column(_("Kecamatan"), "kecamatan_name"),
        Column(_("Priority"), "priority"),
        Column(_("Received (WIB)"), "received_at", "time"),
        Column(_("Agency"), "agency_name"),
        Column(_("Status"), "status", "status"),
        Column(_("Notified (WIB)"), "notified_at", "time"),
        Column(_("On a screen (WIB)"), "delivered_at", "time"),
        Column(_("Seen (WIB)"), "seen_at", "time"),
        Column(_("Seen by"), "seen_by_username"),
        Column(_("Acknowledged (WIB)"), "acknowledged_at", "time"),
        Column(_("Arrived (WIB)"), "arrived_at", "time"),
        Column(_("Resolved (WIB)"), "resolved_at", "time"),
        Column(_("Acknowledgement (s)"), "ack_seconds", "seconds"),
        Column(_("Response (s)"), "response_seconds", "seconds"),
        Column(_("Target (s)"), "target_seconds"),
        Column(_("Within target"), "within_target", "yes_no"),
        Column(_("Escalated"), "escalated", "yes_no"),
        Column(_("Overdue"), "overdue", "yes_no"),
        Column(_("Unheard"), "unheard", "yes_no"),
    ]


def ranked_rows(period: PerformanceFilter) -> list[dict]:
    """agency_performance with a rank: 1… for the ranked agencies, None for the others."""
    rows, rank = [], 0
    for row in agency_performance(period):
        rank += row["ranked"]
        rows.append({**row, "rank": rank if row["ranked"] else None})
    return rows


def in_table_order(rows: list[dict], table: list[dict]) -> list[dict]:
    """Rows of another per-agency selector in the ranking's order."""
    position = {row["agency"]: index for index, row in enumerate(table)}
    return sorted(rows, key=lambda row: position.get(row["agency"], len(position)))


class _Cells:
    """Turns selector values into cell values, with labels resolved once per export."""

    def __init__(self, for_csv: bool):
        self.for_csv = for_csv
        self.yes, self.no = _("yes"), _("no")
        self.status = {value: str(label) for value, label in AssignmentStatus.choices}
        self.wib = timezone.get_default_timezone()

    def value(self, column: Column, value):
        if value is None:
            return "" if self.for_csv else None
        if column.kind == "seconds":
            return round(value, 1)
        if column.kind == "yes_no":
            return self.yes if value else self.no
        if column.kind == "status":
            return self.status.get(value, value)
        if column.kind == "time":
            local = timezone.localtime(value, self.wib)
            if self.for_csv:
                return local.isoformat(sep=" ", timespec="seconds")
            return local
        return value

    def row(self, columns: list[Column], row: dict) -> list:
        return [self.value(column, row[column.key]) for column in columns]


def filename(period: PerformanceFilter, stem: str, extension: str) -> str:
    return f"{stem}_{period.since.isoformat()}_{period.until.isoformat()}.{extension}"


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class _Echo:
    """A file for csv.writer that hands back each line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(columns: list[Column], rows: Iterable[dict]) -> Iterator[str]:
    writer, cells = csv.writer(_Echo()), _Cells(for_csv=True)
    # The byte-order mark makes Excel read the file as UTF-8.
    yield "\ufeff" + writer.writerow([column.header for column in columns])
    for row in rows:
        yield writer.writerow(cells.row(columns, row))


async def _in_chunks(lines: Iterator[str]) -> AsyncIterator[str]:
    # Under ASGI a synchronous iterator would be read to the end before the first byte is
    # sent; this pulls CHUNK_ROWS lines at a time on the request's database thread instead.
    take = sync_to_async(lambda: "".join(islice(lines, CHUNK_ROWS)), thread_sensitive=True)
    while chunk := await take():
        yield chunk


def table_csv(period: PerformanceFilter) -> HttpResponse:
    response = HttpResponse(
        "".join(_csv_lines(table_columns(), ranked_rows(period))), content_type=CSV_TYPE
    )
    return _attachment(response, filename(period, pgettext("filename", "performance"), "csv"))


def assignments_csv(request: HttpRequest, period: PerformanceFilter) -> StreamingHttpResponse:
    lines = _csv_lines(assignment_columns(), assignment_rows(period).iterator(CHUNK_ROWS))
    content = _in_chunks(lines) if isinstance(request, ASGIRequest) else lines
    response = StreamingHttpResponse(content, content_type=CSV_TYPE)
    return _attachment(response, filename(period, pgettext("filename", "assignments"), "csv"))


def _offset_format(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f'yyyy-mm-dd hh:mm:ss"{sign}{hours:02d}:{minutes:02d}"'


def _sheet(workbook: Workbook, title: str, header: list[str], rows: Iterable[list]) -> None:
    sheet = workbook.create_sheet(title[:31])
    bold = Font(bold=True)
    cells = []
    for text in header:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])


def _xlsx_cell(sheet, value):
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
        cell.number_format = _offset_format(value)
        return cell
    return value


def _xlsx_response(workbook: Workbook, name: str) -> HttpResponse:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _attachment(HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE), name)


def table_xlsx(period: PerformanceFilter) -> HttpResponse:
    """The table, the response-time distribution, calls per day by outcome, the sheets of
    the registered sections (call answering) and the filter used, one sheet each."""
    workbook = Workbook(write_only=True)
    columns, cells, table = table_columns(), _Cells(for_csv=False), ranked_rows(period)
    _sheet(
        workbook,
        _("Performance"),
        [column.header for column in columns],
        (cells.row(columns, row) for row in table),
    )
    _sheet(
        workbook,
        _("Response times"),
        [_("Agency"), _("Arrived on scene (sample)"), *bucket_labels()],
        (
            [row["agency_name"], row["arrived"], *row["buckets"]]
            for row in in_table_order(response_distribution(period), table)
        ),
    )
    outcomes = CallOutcome.choices
    per_day: dict[str, dict[str, int]] = {}
    for row in calls_per_day(period):
        per_day.setdefault(row["day"], {})[row["outcome"]] = row["calls"]
    _sheet(
        workbook,
        _("Calls per day"),
        [_("Day"), *(str(label) for _value, label in outcomes), _("Total")],
        (
            [day, *(counts.get(value, 0) for value, _label in outcomes), sum(counts.values())]
            for day, counts in per_day.items()
        ),
    )
    for section in SECTIONS:
        for title, header, rows in section.sheets(period):
            _sheet(workbook, title, header, rows)
    _sheet(workbook, _("Filter"), [_("Filter"), _("Value")], filter_description(period))
    return _xlsx_response(workbook, filename(period, pgettext("filename", "performance"), "xlsx"))


def assignments_xlsx(period: PerformanceFilter) -> HttpResponse:
    workbook = Workbook(write_only=True)
    columns, cells = assignment_columns(), _Cells(for_csv=False)
    rows = assignment_rows(period).iterator(CHUNK_ROWS)
    _sheet(
        workbook,
        _("Assignments"),
        [column.header for column in columns],
        (cells.row(columns, row) for row in rows),
    )
    return _xlsx_response(workbook, filename(period, pgettext("filename", "assignments"), "xlsx"))


def bucket_labels() -> list[str]:
    """ "≤ 5 min", "5–10 min", …, "> 60 min" for RESPONSE_BUCKETS."""
    minutes = [bound // 60 for bound in RESPONSE_BUCKETS]
    labels = [_("≤ %(max)s min") % {"max": minutes[0]}]
    labels += [_("%(min)s–%(max)s min") % {"min": a, "max": b} for a, b in pairwise(minutes)]
    labels.append(_("> %(min)s min") % {"min": minutes[-1]})
    return labels


def filter_description(period: PerformanceFilter) -> list[list[str]]:
    everything = _("all")
    category = Category.objects.filter(code=period.category).first() if period.category else None
    kecamatan = (
        Kecamatan.objects.filter(code=period.kecamatan).first() if period.kecamatan else None
    )
    return [
        [_("From (WIB)"), period.since.isoformat()],
        [_("Until (WIB)"), period.until.isoformat()],
        [_("Incident type"), category.name if category else period.category or everything],
        [_("Kecamatan"), kecamatan.name if kecamatan else period.kecamatan or everything],
        [_("Priority"), str(Priority(period.priority).label) if period.priority else everything],
        [_("Made at (WIB)"), timezone.localtime().isoformat(sep=" ", timespec="seconds")],
    ]
