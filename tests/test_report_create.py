import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agencies.models import Category
from core.errors import ActionForbidden
from reports import services
from reports.models import Call, Event, Report


def test_it_writes_report_call_assignments_and_events(make_report, operator):
    report = make_report(caller_phone="0812-3456-7890")
    assert re.fullmatch(r"LAP-\d{8}-0001", report.number)
    assert report.caller_phone == "+6281234567890"
    assert report.status == "open"
    assert report.priority == Category.objects.get(code="kemacetan").default_priority
    assert report.operator == operator
    call = Call.objects.get()
    assert (call.outcome, call.report, call.caller_phone) == ("report", report, "+6281234567890")
    assert call.received_at == report.received_at
    kinds = list(Event.objects.filter(report=report).values_list("kind", flat=True))
    assert kinds == ["report.created", "assignment.created", "assignment.created"]
    assert all(e.actor == operator for e in Event.objects.all())


def test_received_at_is_when_the_call_was_picked_up(make_report):
    picked_up = timezone.now() - timedelta(seconds=40)
    report = make_report(received_at=picked_up)
    assert report.received_at == picked_up
    assert report.assignments.first().notified_at > picked_up


def test_numbers_count_per_wib_day(make_report, settings):
    settings.DISPATCH_RECEIVED_AT_MAX_AGE = timedelta(days=3650)  # a backfilled old call
    first = make_report()
    second = make_report()
    assert int(second.number[-4:]) == int(first.number[-4:]) + 1
    # 2026-03-01 17:30 UTC is 2 March 00:30 WIB: the number carries the WIB date.
    late = make_report(received_at=datetime(2026, 3, 1, 17, 30, tzinfo=UTC))
    assert late.number == "LAP-20260302-0001"
    # Whatever time zone a request activated, the number carries the WIB date.
    with timezone.override("Asia/Jayapura"):
        early = make_report(received_at=datetime(2026, 3, 1, 16, 30, tzinfo=UTC))
    assert early.number == "LAP-20260301-0001"


def test_priority_and_coordinates_can_be_given(make_report):
    report = make_report(priority=1, latitude="-6.9932", longitude=110.4203)
    report.refresh_from_db()
    assert report.priority == 1
    assert (report.latitude, report.longitude) == (Decimal("-6.993200"), Decimal("110.420300"))


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"caller_phone": "12345"}, {"caller_phone"}),
        ({"description": "   "}, {"description"}),
        ({"address": ""}, {"address"}),
        ({"category": "nope"}, {"category"}),
        ({"category": None}, {"category"}),
        ({"kecamatan": "atlantis"}, {"kecamatan"}),
        ({"priority": 0}, {"priority"}),
        ({"priority": 4}, {"priority"}),
        ({"priority": "1"}, {"priority"}),
        ({"priority": True}, {"priority"}),
        ({"latitude": "-6.99"}, {"longitude"}),
        ({"latitude": 91, "longitude": 110}, {"latitude"}),
        ({"latitude": "abc", "longitude": 110}, {"latitude"}),
        ({"latitude": "NaN", "longitude": 110}, {"latitude"}),
        ({"description": "x" * 4001}, {"description"}),
        ({"caller_name": "Budi\x00"}, {"caller_name"}),
        ({"address": 42}, {"address"}),
        ({"received_at": "IN_10_MINUTES"}, {"received_at"}),
        ({"received_at": "25_HOURS_AGO"}, {"received_at"}),
        ({"received_at": datetime(1, 1, 1, tzinfo=UTC)}, {"received_at"}),
        ({"category": "kebakaran\x00"}, {"category"}),
        ({"kecamatan": "x" * 500}, {"kecamatan"}),
        ({"description": "Api \ud800"}, {"description"}),
        ({"received_at": datetime(2026, 1, 1, 8, 0)}, {"received_at"}),
        (
            {"caller_phone": "", "description": "", "category": "nope"},
            {"caller_phone", "description", "category"},
        ),
    ],
)
def test_bad_input_gives_every_field_error_and_saves_nothing(make_report, overrides, fields):
    relative = {"IN_10_MINUTES": timedelta(minutes=10), "25_HOURS_AGO": timedelta(hours=-25)}
    if overrides.get("received_at") in relative:  # computed when the test runs, not collected
        overrides = {"received_at": timezone.now() + relative[overrides["received_at"]]}
    with pytest.raises(ValidationError) as raised:
        make_report(**overrides)
    assert set(raised.value.message_dict) == fields
    assert not Report.objects.exists()
    assert not Call.objects.exists()
    assert not Event.objects.exists()


def test_an_inactive_category_is_refused(make_report):
    Category.objects.filter(code="kebakaran").update(active=False)
    with pytest.raises(ValidationError, match="sudah tidak dipakai"):
        make_report(category="kebakaran")


def test_only_operators_create_reports(city, supervisor, staff_of):
    for user in (supervisor, staff_of("dishub")):
        with pytest.raises(ActionForbidden):
            services.report_create(
                operator=user,
                caller_phone="081234567890",
                category="kebakaran",
                description="Api",
                address="Jl. A",
            )
    assert not Report.objects.exists()
