"""Exports of agency performance: the table and the assignments behind it, in CSV and XLSX,
parsed back to the values the selectors give (the monthly report to the mayor)."""

import csv
import io
import warnings
from datetime import datetime, timedelta

import openpyxl
import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from performance.selectors import PerformanceFilter, agency_performance
from reports.models import Assignment

from .test_performance import DAY, WIB_MORNING, dishub_assignment

ONE_DAY = {"since": DAY.isoformat(), "until": DAY.isoformat()}


@pytest.fixture(autouse=True)
def history_allowed(settings):
    settings.DISPATCH_RECEIVED_AT_MAX_AGE = timedelta(days=3650)


@pytest.fixture
def supervisor_client(client, supervisor):
    client.force_login(supervisor)
    return client


@pytest.fixture
def fixture(make_report):
    """Dishub: responses 100, 300, 900 s (acks 10, 30, 50), one rejected, one escalated
    still waiting; and one fire for Damkar on the next day (outside ONE_DAY)."""
    for minute, (ack, arrive) in enumerate([(10, 100), (30, 300), (50, 900)]):
        dishub_assignment(
            make_report, received=WIB_MORNING + timedelta(minutes=minute), ack=ack, arrive=arrive
        )
    dishub_assignment(make_report, received=WIB_MORNING + timedelta(minutes=10), status="rejected")
    waiting = dishub_assignment(make_report, received=WIB_MORNING + timedelta(minutes=20))
    Assignment.objects.filter(pk=waiting.pk).update(
        status="notified", escalated_at=WIB_MORNING + timedelta(minutes=22)
    )
    make_report(category="kebakaran", received_at=WIB_MORNING + timedelta(days=1))


def read_csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")  # so that Excel reads UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


def by_first(rows: list[list], column: int) -> dict:
    return {row[column]: row for row in rows[1:]}


def test_the_table_csv_has_one_row_per_agency_with_the_selectors_numbers(
    supervisor_client, fixture
):
    response = supervisor_client.get("/performance/export.csv", ONE_DAY)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="kinerja_2026-10-14_2026-10-14.csv"'
    )
    rows = read_csv(response)
    assert rows[0][:4] == ["Peringkat", "Kode instansi", "Instansi", "Penugasan"]
    expected = agency_performance(PerformanceFilter(DAY, DAY))
    assert [row[1] for row in rows[1:]] == [r["agency"] for r in expected]
    dishub = by_first(rows, 1)["dishub"]
    assert dishub == [
        "", "dishub", "Dishub", "5", "3", "3", "3", "1", "1", "0", "", "",
        "30.0", "46.0", "300.0", "780.0", "66.7", "600", "tidak",
    ]  # fmt: skip
    assert by_first(rows, 1)["basarnas"][10:17] == [""] * 7  # no sample: empty


def test_the_table_xlsx_has_the_same_numbers_and_the_context(supervisor_client, fixture):
    response = supervisor_client.get("/performance/export.xlsx", ONE_DAY)
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('kinerja_2026-10-14_2026-10-14.xlsx"')
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [
        "Kinerja", "Waktu tanggap", "Panggilan per hari", "Penjawaban panggilan", "Filter",
    ]  # fmt: skip
    table = [list(row) for row in workbook["Kinerja"].iter_rows(values_only=True)]
    dishub = by_first(table, 1)["dishub"]
    assert dishub == [
        None, "dishub", "Dishub", 5, 3, 3, 3, 1, 1, 0, None, None, 30, 46, 300, 780, 66.7, 600,
        "tidak",
    ]  # fmt: skip
    buckets = by_first([list(r) for r in workbook["Waktu tanggap"].iter_rows(values_only=True)], 0)
    assert buckets["Dishub"] == ["Dishub", 3, 2, 0, 1, 0, 0, 0]  # 100, 300 | 900
    calls = list(workbook["Panggilan per hari"].iter_rows(values_only=True))
    assert calls[1] == ("2026-10-14", 5, 0, 0, 0, 0, 0, 5)
    context = dict(workbook["Filter"].iter_rows(min_row=2, values_only=True))
    assert context["Dari (WIB)"] == "2026-10-14"
    assert context["Jenis kejadian"] == "semua"


def test_the_assignments_csv_has_one_row_per_assignment_in_wib(supervisor_client, fixture):
    response = supervisor_client.get("/performance/assignments.csv", ONE_DAY)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"] == (
        'attachment; filename="penugasan_2026-10-14_2026-10-14.csv"'
    )
    rows = read_csv(response)
    assert len(rows) - 1 == 5  # dishub's five; the next day's fire is outside the period
    assert len({row[0] for row in rows[1:]}) == 5
    header = rows[0]
    assert header[:5] == [
        "Nomor laporan",
        "Jenis kejadian",
        "Kecamatan",
        "Prioritas",
        "Diterima (WIB)",
    ]
    first = dict(zip(header, rows[1], strict=True))
    assert first["Diterima (WIB)"] == "2026-10-14 08:00:00+07:00"
    assert first["Instansi"] == "Dishub"
    assert first["Jenis kejadian"] == "Kemacetan lalu lintas"
    assert first["Kecamatan"] == "Semarang Tengah"
    assert first["Status"] == "selesai"
    assert first["Diberitahu (WIB)"] == "2026-10-14 08:00:05+07:00"
    assert first["Dikonfirmasi (WIB)"] == "2026-10-14 08:00:15+07:00"
    assert first["Tiba (WIB)"] == "2026-10-14 08:01:40+07:00"
    assert (first["Konfirmasi (dtk)"], first["Waktu tanggap (dtk)"]) == ("10.0", "100.0")
    assert (first["Memenuhi target"], first["Dieskalasi"]) == ("ya", "tidak")
    by_status = {
        row[header.index("Status")]: dict(zip(header, row, strict=True)) for row in rows[1:]
    }
    rejected = by_status["ditolak"]
    assert (rejected["Waktu tanggap (dtk)"], rejected["Memenuhi target"]) == (
        "",
        "",
    )  # not a sample
    waiting = by_status["diberitahukan"]
    assert (waiting["Dikonfirmasi (WIB)"], waiting["Dieskalasi"]) == ("", "ya")
    slowest = next(row for row in rows[1:] if row[header.index("Waktu tanggap (dtk)")] == "900.0")
    assert slowest[header.index("Memenuhi target")] == "tidak"


def test_the_assignments_xlsx_keeps_real_times_shown_in_wib(supervisor_client, fixture):
    response = supervisor_client.get("/performance/assignments.xlsx", ONE_DAY)
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('penugasan_2026-10-14_2026-10-14.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) - 1 == 5
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    assert first["Diterima (WIB)"] == datetime(2026, 10, 14, 8, 0)
    assert first["Waktu tanggap (dtk)"] == 100
    assert first["Memenuhi target"] == "ya"
    cell = sheet.cell(row=2, column=header.index("Diterima (WIB)") + 1)
    assert cell.number_format.endswith('"+07:00"')


def test_the_exports_follow_the_filters(supervisor_client, fixture):
    params = {"since": "2026-10-14", "until": "2026-10-15", "category": "kebakaran"}
    rows = read_csv(supervisor_client.get("/performance/assignments.csv", params))
    assert [row[1] for row in rows[1:]] == ["Kebakaran"]
    table = by_first(read_csv(supervisor_client.get("/performance/export.csv", params)), 1)
    assert (table["damkar"][3], table["dishub"][3]) == ("1", "0")


@pytest.mark.parametrize(
    "url", ["/performance/export.csv", "/performance/export.xlsx", "/performance/assignments.csv"]
)
def test_an_export_refuses_a_bad_filter_instead_of_guessing(supervisor_client, city, url):
    response = supervisor_client.get(url, {"since": "2026-10-15", "until": "2026-10-14"})
    assert response.status_code == 400
    assert "Sampai" in response.content.decode()


def test_the_assignments_csv_streams_under_asgi(supervisor, fixture):
    """Under ASGI the rows are read in chunks as they are sent, not collected first."""

    async def download():
        client = AsyncClient()
        await client.aforce_login(supervisor)
        response = await client.get("/performance/assignments.csv", ONE_DAY)
        chunks = [chunk async for chunk in response.streaming_content]
        return response, chunks

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response, chunks = async_to_sync(download)()
    assert response.status_code == 200
    assert response.is_async  # not read to the end before the first byte is sent
    assert not [w for w in caught if "must consume" in str(w.message)]
    lines = b"".join(chunks).decode("utf-8").splitlines()
    assert len(lines) == 1 + 5
