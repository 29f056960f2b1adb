"""reports.wire builds the live payload's report by hand (issue 34 §4): it must be exactly
what the API's serializers give — same keys, same order, same JSON — for reports in every
state, in any time zone."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from reports import services, wire
from reports.api.serializers import MessageSerializer, ReportSerializer
from reports.models import Assignment, Message, Report
from reports.selectors import with_details

pytestmark = pytest.mark.django_db


def as_json(data) -> str:
    return json.dumps(data, ensure_ascii=False)  # keeps key order and int/float apart


def assert_same(report_id: int) -> None:
    report = with_details(Report.objects.filter(pk=report_id)).get()
    built = wire.report_data(report, list(report.assignments.all()))
    assert as_json(built) == as_json(ReportSerializer(report).data)


def test_a_new_report_with_its_agencies(make_report):
    report = make_report(category="kebakaran", kecamatan="semarang_utara", address="Pasar Johar")
    assert_same(report.pk)


def test_a_report_without_kecamatan_or_pin_and_one_with_a_pin(make_report):
    assert_same(make_report(category="darurat_medis", kecamatan=None).pk)
    pinned = make_report(category="darurat_medis", latitude=-6.99, longitude=110.42)
    assert_same(pinned.pk)


def test_assignments_in_every_state_and_a_closed_duplicate(make_report):
    report = make_report(category="kebakaran", kecamatan="semarang_utara")
    other = make_report(category="kebakaran", kecamatan="semarang_utara")
    now = timezone.now().replace(microsecond=0)  # a time with no fraction, and one with
    states = [
        {"status": "acknowledged", "acknowledged_at": now},
        {"status": "dispatched", "dispatched_at": now, "eta_minutes": 7, "unit": "AMB-01"},
        {"status": "arrived", "arrived_at": now + timedelta(microseconds=5),
         "arrival_distance_m": 120, "arrival_synced_late": True},
        {"status": "resolved", "resolved_at": now, "resolution_note": "Padam"},
        {"status": "rejected", "rejected_at": now, "reject_reason": "Bukan wilayah kami"},
        {"status": "cancelled", "cancelled_at": now, "cancel_reason": "Salah kirim",
         "escalated_at": now, "overdue_at": now},
    ]  # fmt: skip
    assignments = list(report.assignments.all()) + list(other.assignments.all())
    for assignment, fields in zip(assignments, states, strict=False):
        Assignment.objects.filter(pk=assignment.pk).update(**fields)
    Report.objects.filter(pk=other.pk).update(
        status="closed", close_reason="duplicate", duplicate_of=report, closed_at=now,
        close_note="Sama", public_note="Ditangani",
    )  # fmt: skip
    assert_same(report.pk)
    assert_same(other.pk)


def test_times_in_utc_end_in_z_as_drf_writes_them(make_report):
    report = make_report(category="kebakaran")
    with timezone.override("UTC"):
        assert_same(report.pk)
    assert wire.report_data(report, [])["received_at"].endswith("+07:00")  # WIB by default


def test_a_chat_line(make_report, operator):
    report = make_report(category="kebakaran")
    services.message_post(author=operator, report=report, body="Pasien di lantai 2")
    message = Message.objects.select_related("author", "author_agency").get()
    assert as_json(wire.message_data(message)) == as_json(MessageSerializer(message).data)
