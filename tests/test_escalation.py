"""Escalation of unacknowledged assignments and overdue responses, with a controlled clock."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agencies.models import Agency
from reports import services
from reports.escalation import assignments_escalate_unacknowledged, assignments_flag_overdue
from reports.models import Assignment, Event


@pytest.fixture(autouse=True)
def timeouts(settings):
    settings.DISPATCH_ACK_TIMEOUT = {1: 60, 2: 120, 3: 300}


def escalations(assignment) -> int:
    return Event.objects.filter(assignment=assignment, kind="assignment.escalated").count()


@pytest.mark.parametrize(("priority", "timeout"), [(1, 60), (2, 120), (3, 300)])
def test_it_escalates_after_the_priority_timeout_and_only_once(make_report, priority, timeout):
    report = make_report(category="kebakaran", priority=priority)
    assignment = report.assignments.get()
    start = assignment.notified_at

    assert assignments_escalate_unacknowledged(now=start + timedelta(seconds=timeout - 1)) == []
    assignment.refresh_from_db()
    assert assignment.escalated_at is None

    late = start + timedelta(seconds=timeout)
    assert assignments_escalate_unacknowledged(now=late) == [assignment.pk]
    assignment.refresh_from_db()
    assert assignment.escalated_at == late
    # A retried task, a second worker, a restarted beat: nothing more happens.
    assert assignments_escalate_unacknowledged(now=late + timedelta(minutes=5)) == []
    assert escalations(assignment) == 1
    event = Event.objects.get(assignment=assignment, kind="assignment.escalated")
    assert event.actor is None


def test_timeouts_come_from_settings(make_report, settings):
    settings.DISPATCH_ACK_TIMEOUT = {1: 10, 2: 20, 3: 30}
    assignment = make_report(category="kebakaran", priority=3).assignments.get()
    later = assignment.notified_at + timedelta(seconds=30)
    assert assignments_escalate_unacknowledged(now=later) == [assignment.pk]


@pytest.mark.parametrize("handled", ["acknowledge", "reject", "cancel", "dispatch"])
def test_a_handled_assignment_is_never_escalated(make_report, staff_of, operator, handled):
    assignment = make_report(category="kebakaran", priority=1).assignments.get()
    actor = operator if handled == "cancel" else staff_of("damkar")
    arguments = {
        "reject": {"reason": "Bukan wewenang"},
        "dispatch": {"eta_minutes": 3},
        "cancel": {"reason": "Salah kirim"},
    }
    getattr(services, f"assignment_{handled}")(
        assignment=assignment, actor=actor, **arguments.get(handled, {})
    )
    much_later = timezone.now() + timedelta(hours=2)
    assert assignments_escalate_unacknowledged(now=much_later) == []
    assert escalations(assignment) == 0


def test_a_closed_report_is_not_escalated(make_report, operator):
    report = make_report(category="kebakaran", priority=1)
    services.report_close(actor=operator, report=report, reason="prank")
    assert assignments_escalate_unacknowledged(now=timezone.now() + timedelta(hours=1)) == []


def test_overdue_is_flagged_once_per_agency_target(make_report, staff_of):
    Agency.objects.filter(code="dishub").update(response_target_seconds=300)
    report = make_report(category="kemacetan")  # dishub (300 s) + polrestabes (600 s)
    dishub = report.assignments.get(agency__code="dishub")
    police = report.assignments.get(agency__code="polrestabes")
    received = report.received_at

    assert assignments_flag_overdue(now=received + timedelta(seconds=299)) == []
    assert assignments_flag_overdue(now=received + timedelta(seconds=300)) == [dishub.pk]
    # Polrestabes arrives in time; it is never overdue.
    crew = staff_of("polrestabes")
    services.assignment_dispatch(assignment=police, actor=crew, eta_minutes=5)
    services.assignment_arrive(assignment=police, actor=crew)
    assert assignments_flag_overdue(now=received + timedelta(hours=1)) == []
    assert Event.objects.filter(kind="assignment.overdue").count() == 1
    police.refresh_from_db()
    assert police.overdue_at is None


def test_an_acknowledged_but_late_unit_is_still_overdue(make_report, staff_of):
    report = make_report(category="kebakaran")
    assignment = report.assignments.get()
    services.assignment_acknowledge(assignment=assignment, actor=staff_of("damkar"))
    flagged = assignments_flag_overdue(now=report.received_at + timedelta(seconds=601))
    assert flagged == [assignment.pk]


@pytest.mark.django_db(transaction=True)
def test_an_escalation_goes_out_live_to_the_agency_and_the_command_centre(make_report):
    from notifications.publish import ALL_REPORTS_GROUP, agency_group

    from .test_publish import received, subscribe

    report = make_report(category="kebakaran", priority=1)
    channel = subscribe(ALL_REPORTS_GROUP, agency_group("damkar"))
    bystander = subscribe(agency_group("dishub"))
    assignments_escalate_unacknowledged(now=timezone.now() + timedelta(minutes=2))
    messages = received(channel)
    # One delivery per group the channel is in; the same event.
    assert {(p["type"], p["event_id"]) for p in messages} == {
        ("assignment.escalated", Event.objects.get(kind="assignment.escalated").pk)
    }
    assert messages[0]["assignment"]["escalated_at"] is not None
    assert messages[0]["report"]["number"] == report.number
    assert received(bystander) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_escalate_each_assignment_exactly_once(make_report):
    from .test_concurrency import run_in_threads
    from .waiting import join_threads

    reports = [make_report(category="kecelakaan", priority=1) for _ in range(5)]  # 3 each
    later = timezone.now() + timedelta(minutes=5)
    threads, results = run_in_threads(8, lambda i: assignments_escalate_unacknowledged(now=later))
    join_threads(threads)
    assert all(isinstance(r, list) for r in results), results
    won = sorted(pk for r in results for pk in r)
    expected = sorted(Assignment.objects.filter(report__in=reports).values_list("pk", flat=True))
    assert won == expected  # every assignment won by exactly one sweep
    assert Event.objects.filter(kind="assignment.escalated").count() == 15
