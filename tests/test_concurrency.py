"""Races on PostgreSQL with real connections, one per thread."""

import threading
import time

import pytest
from django.db import connection, transaction

from core.errors import TransitionNotAllowed
from reports import services
from reports.models import Assignment, Event, Report

from .waiting import join_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_threads(count: int, work) -> list:
    """Runs work(i) in `count` threads started together; returns the threads (for the
    caller to join_threads, in a finally if anything can fail before it) and each result or
    exception."""
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def target(i):
        try:
            barrier.wait(timeout=10)  # BrokenBarrierError, collected, if one never starts
            results[i] = work(i)
        except Exception as error:  # collected and asserted on by the test
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    return threads, results


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        # Statistics are snapshotted per transaction; this poll runs inside one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_concurrent_acknowledges_exactly_one_wins(make_report, staff_of):
    assignment = make_report().assignments.get(agency__code="dishub")
    crew = [staff_of("dishub") for _ in range(8)]
    pk = assignment.pk
    # Hold the row so that all eight requests are in flight at once, then let them go.
    threads: list = []
    try:
        with transaction.atomic():
            Assignment.objects.select_for_update().get(pk=assignment.pk)
            threads, results = run_in_threads(
                8, lambda i: services.assignment_acknowledge(assignment=pk, actor=crew[i])
            )
            deadline = time.monotonic() + 10
            while waiting_on_locks() < 8 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert waiting_on_locks() == 8
    finally:  # after the lock is released, whatever happened
        join_threads(threads)

    winners = [r for r in results if isinstance(r, Assignment)]
    losers = [r for r in results if isinstance(r, TransitionNotAllowed)]
    assert (len(winners), len(losers)) == (1, 7), results
    assignment.refresh_from_db()
    assert assignment.acknowledged_by == winners[0].acknowledged_by
    assert Event.objects.filter(assignment=assignment, kind="assignment.acknowledged").count() == 1


def test_closing_never_overwrites_a_resolution_committed_meanwhile(make_report, staff_of, operator):
    """The ambulance resolves while the operator closes the report: the close must see the
    resolution (and leave it), not cancel over it from a stale read."""
    report = make_report(category="kecelakaan")
    ambulance = report.assignments.get(agency__code="ambulans")
    crew = staff_of("ambulans")
    services.assignment_dispatch(assignment=ambulance, actor=crew, eta_minutes=4)
    services.assignment_arrive(assignment=ambulance, actor=crew)
    pk = report.pk

    threads: list = []
    try:
        with transaction.atomic():
            services.assignment_resolve(assignment=ambulance, actor=crew, note="Ke RS Kariadi")
            # Not committed yet: the close starts now and must wait for this row.
            threads, results = run_in_threads(
                1, lambda i: services.report_close(actor=operator, report=pk, reason="resolved")
            )
            deadline = time.monotonic() + 10
            while waiting_on_locks() < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert waiting_on_locks() == 1
    finally:
        join_threads(threads)

    assert isinstance(results[0], Report), results
    statuses = dict(report.assignments.values_list("agency__code", "status"))
    assert statuses == {"ambulans": "resolved", "polrestabes": "cancelled", "dishub": "cancelled"}
    assert not Event.objects.filter(assignment=ambulance, kind="assignment.cancelled").exists()


def test_report_numbers_are_unique_under_concurrent_creation(city, operator):
    count = 16

    def create(i):
        return services.report_create(
            operator=operator,
            caller_phone=f"0812000000{i:02d}",
            category="kebakaran",
            description=f"Kebakaran rumah {i}",
            address="Jl. Gajahmada",
        )

    threads, results = run_in_threads(count, create)
    join_threads(threads)
    assert all(isinstance(r, Report) for r in results), results
    numbers = sorted(r.number for r in results)
    assert [int(n[-4:]) for n in numbers] == list(range(1, count + 1))
    assert Report.objects.count() == count
    assert Assignment.objects.count() == count  # kebakaran → damkar only


# --- Through the API: eight people tap the same button at once (issue 7 §6) ----------------------

ACTIONS = {
    # action: (states to walk through first, request body, event kind)
    "acknowledge": ([], {}, "assignment.acknowledged"),
    "dispatch": (["acknowledge"], {"eta_minutes": 7, "unit": "Unit 2"}, "assignment.dispatched"),
    "arrive": (["acknowledge", "dispatch"], {}, "assignment.arrived"),
    "resolve": (["acknowledge", "dispatch", "arrive"], {"note": "Selesai"}, "assignment.resolved"),
    "reject": ([], {"reason": "Bukan wewenang"}, "assignment.rejected"),
}


@pytest.mark.parametrize("action", ACTIONS)
def test_eight_identical_api_actions_one_succeeds_seven_conflict(make_report, staff_of, action):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    before_steps, body, kind = ACTIONS[action]
    assignment = make_report().assignments.get(agency__code="dishub")
    crew = [staff_of("dishub") for _ in range(8)]
    clients = []
    for member in crew:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=member).key}")
        clients.append(client)
    url = f"/api/v1/assignments/{assignment.pk}/"
    for step in before_steps:
        step_body = ACTIONS[step][1]
        assert clients[0].post(url + f"{step}/", step_body, format="json").status_code == 200
    events_before = Event.objects.filter(assignment=assignment, kind=kind).count()

    threads: list = []
    try:
        with transaction.atomic():
            Assignment.objects.select_for_update().get(pk=assignment.pk)
            threads, results = run_in_threads(
                8, lambda i: clients[i].post(url + f"{action}/", body, format="json")
            )
            deadline = time.monotonic() + 10
            while waiting_on_locks() < 8 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert waiting_on_locks() == 8  # all eight requests are in flight together
    finally:
        join_threads(threads, seconds=20)

    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [409] * 7, [getattr(r, "content", r) for r in results]
    assert all(
        r.json()["code"] == "transition_not_allowed" for r in results if r.status_code == 409
    )
    assert Event.objects.filter(assignment=assignment, kind=kind).count() == events_before + 1


# --- Over the wire: sixteen phones tap "acknowledge" at once (issue 20 §6) -----------------------


def test_sixteen_parallel_acknowledges_over_http_one_200(make_report, staff_of):
    """The probe's case, kept: sixteen staff of the agency, each with a token, POST acknowledge
    to the production HTTP server (gunicorn, two workers, its own connections) in the same
    instant. Exactly one wins; the others get 409 and the assignment has one acknowledgement."""
    from .servers import Server, free_port, post_json, server_env, token, wait_healthy

    assignment = make_report().assignments.get(agency__code="dishub")
    keys = [token(staff_of("dishub")) for _ in range(16)]
    server = Server("http", free_port(), server_env(), kind="gunicorn")
    url = f"{server.http}/api/v1/assignments/{assignment.pk}/acknowledge/"

    def tap(i):
        return post_json(url, keys[i], {}, timeout=20)

    try:
        wait_healthy(server)
        threads, results = run_in_threads(16, tap)
        join_threads(threads)  # each tap has its own 20-s timeout
    finally:
        server.stop()

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * 15, results
    assert {body["code"] for status, body in results if status == 409} == {"transition_not_allowed"}
    assignment.refresh_from_db()
    assert assignment.status == "acknowledged"
    winner = next(body for status, body in results if status == 200)
    assert winner["status"] == "acknowledged"
    assert Event.objects.filter(assignment=assignment, kind="assignment.acknowledged").count() == 1
