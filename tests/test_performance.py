"""Agency performance against numbers computed by hand (same results on SQLite and
PostgreSQL: CI runs this module on both)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from agencies.models import Agency
from performance.selectors import PerformanceFilter, agency_performance
from reports.models import Assignment

DAY = date(2026, 10, 14)
WIB_MORNING = datetime(2026, 10, 14, 1, 0, tzinfo=UTC)  # 08:00 WIB


@pytest.fixture(autouse=True)
def history_allowed(settings):
    settings.DISPATCH_RECEIVED_AT_MAX_AGE = timedelta(days=3650)


def dishub_assignment(make_report, *, received, ack=None, arrive=None, status="resolved"):
    """A dishub assignment with the given times in seconds after `received`."""
    report = make_report(category="kemacetan", agencies=["dishub"], received_at=received)
    assignment = report.assignments.get()
    Assignment.objects.filter(pk=assignment.pk).update(
        status=status,
        notified_at=received + timedelta(seconds=5),
        acknowledged_at=received + timedelta(seconds=5 + ack) if ack is not None else None,
        arrived_at=received + timedelta(seconds=arrive) if arrive is not None else None,
        reject_reason="x" if status == "rejected" else "",
    )
    return assignment


def row(code, period=None):
    period = period or PerformanceFilter(since=DAY, until=DAY)
    return next(r for r in agency_performance(period) if r["agency"] == code)


def test_odd_number_of_samples(make_report):
    for minute, (ack, arrive) in enumerate([(10, 100), (30, 300), (50, 900)]):
        dishub_assignment(
            make_report, received=WIB_MORNING + timedelta(minutes=minute), ack=ack, arrive=arrive
        )
    dishub = row("dishub")
    assert (dishub["assignments"], dishub["acknowledged"], dishub["arrived"]) == (3, 3, 3)
    assert dishub["response_seconds_median"] == pytest.approx(300)
    # p90: position (3 - 1) × 0.9 = 1.8 → 300 + (900 − 300) × 0.8
    assert dishub["response_seconds_p90"] == pytest.approx(780)
    assert dishub["ack_seconds_median"] == pytest.approx(30)
    assert dishub["ack_seconds_p90"] == pytest.approx(46)  # 30 + 20 × 0.8
    assert dishub["within_target_pct"] == pytest.approx(66.7)  # 100 and 300 ≤ 600
    assert dishub["target_seconds"] == 600


def test_even_number_of_samples(make_report):
    for minute, arrive in enumerate([1000, 100, 400, 200]):
        dishub_assignment(
            make_report, received=WIB_MORNING + timedelta(minutes=minute), ack=1, arrive=arrive
        )
    dishub = row("dishub")
    assert dishub["response_seconds_median"] == pytest.approx(300)  # (200 + 400) / 2
    assert dishub["response_seconds_p90"] == pytest.approx(820)  # 400 + 600 × 0.7
    assert dishub["within_target_pct"] == pytest.approx(75.0)


def test_time_to_a_screen_and_to_seen_and_unheard_per_agency(make_report):
    """SPEC §12: notified → delivered (first screen), notified → seen (a person), medians per
    agency; an assignment nobody's screen showed in time counts as unheard."""
    receipts = [(2, 10, False), (4, 30, False), (60, None, True)]  # (to screen, to seen, unheard)
    for minute, (delivered, seen, unheard) in enumerate(receipts):
        received = WIB_MORNING + timedelta(minutes=minute)
        assignment = dishub_assignment(make_report, received=received, ack=90, arrive=300)
        notified = received + timedelta(seconds=5)
        Assignment.objects.filter(pk=assignment.pk).update(
            delivered_at=notified + timedelta(seconds=delivered),
            seen_at=notified + timedelta(seconds=seen) if seen is not None else None,
            unheard_at=notified + timedelta(seconds=15) if unheard else None,
        )
    dishub = row("dishub")
    assert dishub["delivery_seconds_median"] == pytest.approx(4)  # 2, 4, 60
    assert dishub["seen_seconds_median"] == pytest.approx(20)  # (10 + 30) / 2
    assert dishub["unheard"] == 1
    other = row("damkar")
    assert (other["delivery_seconds_median"], other["seen_seconds_median"]) == (None, None)
    assert other["unheard"] == 0


def test_no_samples_give_null_not_zero(make_report):
    dishub_assignment(make_report, received=WIB_MORNING, status="notified")
    dishub = row("dishub")
    assert dishub["assignments"] == 1
    assert dishub["arrived"] == 0
    for field in ("ack_seconds_median", "ack_seconds_p90", "response_seconds_median",
                  "response_seconds_p90", "within_target_pct"):  # fmt: skip
        assert dishub[field] is None
    assert dishub["ranked"] is False
    assert row("basarnas")["assignments"] == 0  # every active agency has a row


def test_rejected_and_cancelled_never_enter_response_times(make_report):
    dishub_assignment(make_report, received=WIB_MORNING, ack=5, arrive=200)
    dishub_assignment(make_report, received=WIB_MORNING, ack=5, status="rejected")
    dishub_assignment(
        make_report, received=WIB_MORNING, ack=5, arrive=5000, status="cancelled"
    )  # on scene, then the report was closed: not a response time
    dishub = row("dishub")
    assert (dishub["assignments"], dishub["rejected"], dishub["arrived"]) == (3, 1, 1)
    assert dishub["response_seconds_median"] == pytest.approx(200)
    assert dishub["within_target_pct"] == pytest.approx(100.0)
    assert dishub["acknowledged"] == 3  # acknowledgement times still count


def test_the_period_is_whole_wib_days(make_report):
    # 23:59 WIB on the 14th is 16:59 UTC; 00:01 WIB on the 15th is 17:01 UTC.
    dishub_assignment(make_report, received=datetime(2026, 10, 14, 16, 59, tzinfo=UTC), arrive=60)
    dishub_assignment(make_report, received=datetime(2026, 10, 14, 17, 1, tzinfo=UTC), arrive=600)
    assert row("dishub")["arrived"] == 1
    assert row("dishub")["response_seconds_median"] == pytest.approx(60)
    next_day = PerformanceFilter(since=DAY + timedelta(days=1), until=DAY + timedelta(days=1))
    assert row("dishub", next_day)["response_seconds_median"] == pytest.approx(600)


def test_targets_are_per_agency_and_the_ranking_is_fast_to_slow(make_report, settings):
    Agency.objects.filter(code="dishub").update(response_target_seconds=120)
    for minute in range(10):  # ten samples: enough to be ranked
        dishub_assignment(make_report, received=WIB_MORNING + timedelta(minutes=minute), arrive=100)
        report = make_report(
            category="kebakaran", received_at=WIB_MORNING + timedelta(minutes=minute)
        )
        Assignment.objects.filter(report=report).update(
            status="resolved", arrived_at=report.received_at + timedelta(seconds=50)
        )
    rows = agency_performance(PerformanceFilter(since=DAY, until=DAY))
    assert [r["agency"] for r in rows[:2]] == ["damkar", "dishub"]
    assert rows[0]["ranked"] and rows[1]["ranked"]
    assert row("dishub")["within_target_pct"] == pytest.approx(100.0)  # 100 ≤ 120
    assert row("dishub")["target_seconds"] == 120


def test_filters_by_category_kecamatan_and_priority(make_report):
    dishub_assignment(make_report, received=WIB_MORNING, arrive=100)
    period = PerformanceFilter(since=DAY, until=DAY, category="kebakaran")
    assert row("dishub", period)["assignments"] == 0
    period = PerformanceFilter(since=DAY, until=DAY, kecamatan="semarang_tengah", priority=3)
    assert row("dishub", period)["assignments"] == 1
    period = PerformanceFilter(since=DAY, until=DAY, priority=1)
    assert row("dishub", period)["assignments"] == 0


URL = "/api/v1/stats/agencies/"


def test_the_api_gives_the_same_numbers(make_report, supervisor):
    for minute, arrive in enumerate([100, 300, 900]):
        dishub_assignment(
            make_report, received=WIB_MORNING + timedelta(minutes=minute), arrive=arrive
        )
    client = APIClient()
    client.force_login(supervisor)
    response = client.get(URL, {"since": "2026-10-14", "until": "2026-10-14"})
    assert response.status_code == 200
    dishub = next(r for r in response.json() if r["agency"] == "dishub")
    assert dishub == row("dishub")
    assert set(dishub) >= {
        "agency", "assignments", "acknowledged", "arrived", "resolved", "ack_seconds_median",
        "ack_seconds_p90", "response_seconds_median", "response_seconds_p90",
        "within_target_pct", "target_seconds",
    }  # fmt: skip


@pytest.mark.parametrize(
    "params",
    [{"since": "2026-13-01"}, {"since": "2026-10-15", "until": "2026-10-14"}, {"priority": 9}],
)
def test_the_api_refuses_bad_filters(city, supervisor, params):
    client = APIClient()
    client.force_login(supervisor)
    response = client.get(URL, params)
    assert response.status_code == 400


def test_who_may_read_performance(city, operator, supervisor, staff_of):
    assert APIClient().get(URL).status_code == 401
    for user, status in [(operator, 200), (supervisor, 200), (staff_of("dishub"), 403)]:
        client = APIClient()
        client.force_login(user)
        assert client.get(URL).status_code == status
