"""The audit trail (issue 7 §3): the event log is append-only and names who did what; agency
staff's reads of callers' numbers are recorded; old callers' data is erased on schedule
without changing the statistics."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from performance.selectors import (
    PerformanceFilter,
    agency_performance,
    calls_per_day,
    reports_per_day,
)
from reports import services
from reports.escalation import assignments_escalate_unacknowledged
from reports.models import (
    AppendOnlyError,
    Assignment,
    Call,
    Event,
    PersonalDataAccess,
    Report,
    ReportStatus,
)
from reports.privacy import mask_phone
from reports.retention import anonymise_callers
from tests.api.conftest import JsonClient

PHONE = "+6281234567890"


# --- Append-only ---------------------------------------------------------------------------------


@pytest.fixture
def event(make_report):
    make_report()
    return Event.objects.first()


def test_an_event_cannot_be_saved_again(event):
    event.kind = "forged"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert Event.objects.get(pk=event.pk).kind != "forged"


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert Event.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    "change",
    [
        lambda qs: qs.update(kind="forged"),
        lambda qs: qs.delete(),
        lambda qs: qs.update_or_create(pk=qs.first().pk, defaults={"kind": "forged"}),
        lambda qs: Event.objects.bulk_update(list(qs), ["kind"]),
    ],
    ids=["update", "delete", "update_or_create", "bulk_update"],
)
def test_events_cannot_be_changed_in_bulk(event, change):
    before = list(Event.objects.values_list("pk", "kind"))
    with pytest.raises(AppendOnlyError):
        change(Event.objects.all())
    assert list(Event.objects.values_list("pk", "kind")) == before


def test_a_phone_read_record_cannot_be_changed(make_report, staff_of):
    access = PersonalDataAccess.objects.create(user=staff_of("dishub"), report=make_report())
    with pytest.raises(AppendOnlyError):
        access.delete()
    with pytest.raises(AppendOnlyError):
        PersonalDataAccess.objects.all().update(field="x")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    ["UPDATE reports_event SET kind = 'forged'", "DELETE FROM reports_event"],
)
def test_postgresql_itself_refuses_to_change_events(event, statement):
    """Raw SQL, bypassing the ORM, is refused by the table's trigger."""
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert Event.objects.filter(pk=event.pk, kind=event.kind).exists()


# --- The actor of every change -----------------------------------------------------------------


def test_every_change_through_the_api_records_its_actor(city, operator, supervisor, staff_of):
    """Each role's writes through the API, then: every event names the user who made it."""
    dishub, polrestabes = staff_of("dishub"), staff_of("polrestabes")
    clients = {}
    for user in (operator, supervisor, dishub, polrestabes):
        clients[user] = JsonClient()
        clients[user].force_login(user)

    created = clients[operator].post(
        "/api/v1/reports/",
        {
            "caller_phone": "081234567890",
            "category": "kemacetan",
            "description": "Macet",
            "address": "Jl. Pahlawan",
        },
    )
    assert created.status_code == 201
    report = created.json()
    by_agency = {a["agency"]: a["id"] for a in report["assignments"]}
    steps = [
        (operator, "/api/v1/calls/", {"caller_phone": "0811111111", "outcome": "attached",
                                      "report": report["id"]}),
        (supervisor, f"/api/v1/reports/{report['id']}/messages/", {"body": "Pantau"}),
        (dishub, f"/api/v1/assignments/{by_agency['dishub']}/acknowledge/", {}),
        (dishub, f"/api/v1/assignments/{by_agency['dishub']}/dispatch/",
         {"unit": "Unit 3", "eta_minutes": 5}),
        (dishub, f"/api/v1/assignments/{by_agency['dishub']}/arrive/", {}),
        (dishub, f"/api/v1/assignments/{by_agency['dishub']}/resolve/", {"note": "Lancar"}),
        (polrestabes, f"/api/v1/assignments/{by_agency['polrestabes']}/reject/",
         {"reason": "Bukan wewenang"}),
        (operator, f"/api/v1/reports/{report['id']}/close/", {"reason": "resolved"}),
    ]  # fmt: skip
    for user, url, body in steps:
        response = clients[user].post(url, body)
        assert response.status_code in (200, 201), (url, response.content)

    events = list(Event.objects.filter(report_id=report["id"]).select_related("actor"))
    assert len(events) >= len(steps) + 3  # + report.created and two assignment.created
    expected = {
        "report.created": operator,
        "assignment.created": operator,
        "call.attached": operator,
        "message.created": supervisor,
        "assignment.acknowledged": dishub,
        "assignment.dispatched": dishub,
        "assignment.arrived": dishub,
        "assignment.resolved": dishub,
        "assignment.rejected": polrestabes,
        "report.closed": operator,
    }
    assert {e.kind for e in events} == set(expected)
    for e in events:
        assert e.actor == expected[e.kind], e.kind


def test_the_systems_own_steps_have_no_actor(make_report, settings):
    settings.DISPATCH_ACK_TIMEOUT = {1: 0, 2: 0, 3: 0}
    make_report()
    assert assignments_escalate_unacknowledged(now=timezone.now() + timedelta(seconds=1))
    assert set(
        Event.objects.filter(kind="assignment.escalated").values_list("actor", flat=True)
    ) == {None}


def test_the_event_log_holds_no_callers_number(make_report, operator):
    report = make_report()
    services.call_log(
        operator=operator, caller_phone="0811111111", outcome="attached", report=report
    )
    for data in Event.objects.values_list("data", flat=True):
        assert "+62811111111" not in str(data)
        assert "caller_phone" not in data


# --- Reading a caller's number -----------------------------------------------------------------


def client_for(user):
    client = JsonClient()
    client.force_login(user)
    return client


def test_agency_staff_see_numbers_masked_in_lists(make_report, staff_of):
    make_report(caller_phone=PHONE)
    body = client_for(staff_of("dishub")).get("/api/v1/reports/").json()
    (report,) = body["results"]
    assert report["caller_phone"] == "+62812*****890" == mask_phone(PHONE)
    assert report["caller_phone_masked"] is True
    assert not PersonalDataAccess.objects.exists()


def test_agency_staffs_read_of_a_number_is_recorded(make_report, staff_of):
    report = make_report(caller_phone=PHONE)
    staff = staff_of("dishub")
    client = client_for(staff)
    before = timezone.now()
    for _ in range(2):
        body = client.get(f"/api/v1/reports/{report.pk}/").json()
        assert body["caller_phone"] == PHONE
        assert body["caller_phone_masked"] is False
    reads = list(PersonalDataAccess.objects.order_by("id"))
    assert len(reads) == 2
    assert {(r.user, r.report_id, r.field) for r in reads} == {(staff, report.pk, "caller_phone")}
    assert all(r.accessed_at >= before for r in reads)


def test_a_refused_read_records_nothing(make_report, staff_of):
    report = make_report(caller_phone=PHONE)  # dishub + polrestabes, not damkar
    assert client_for(staff_of("damkar")).get(f"/api/v1/reports/{report.pk}/").status_code == 404
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize("role", ["operator", "supervisor"])
def test_the_command_centre_sees_numbers_without_a_record(make_report, operator, supervisor, role):
    report = make_report(caller_phone=PHONE)
    client = client_for(operator if role == "operator" else supervisor)
    assert client.get("/api/v1/reports/").json()["results"][0]["caller_phone"] == PHONE
    assert client.get(f"/api/v1/reports/{report.pk}/").json()["caller_phone"] == PHONE
    assert not PersonalDataAccess.objects.exists()


# --- Retention -----------------------------------------------------------------------------------


@pytest.fixture
def history(make_report, operator, staff_of):
    """Two years of work: an old closed report with a handled assignment and an attached
    call, an old prank call, an old report still open, and a recent closed report."""
    now = timezone.now()
    dishub = staff_of("dishub")

    def report_at(days_ago, close):
        received = now - timedelta(days=days_ago)
        report = make_report(caller_phone=PHONE, caller_name="Siti")
        for assignment in report.assignments.filter(agency__code="dishub"):
            services.assignment_acknowledge(assignment=assignment, actor=dishub)
            services.assignment_dispatch(
                assignment=assignment, actor=dishub, eta_minutes=5, unit="U1"
            )
            services.assignment_arrive(assignment=assignment, actor=dishub)
        if close:
            services.call_log(
                operator=operator, caller_phone="0899999999", outcome="attached", report=report
            )
            services.report_close(actor=operator, report=report, reason="resolved")
        # As if it all happened `days_ago` (the services accept times up to a day old only).
        Report.objects.filter(pk=report.pk).update(received_at=received)
        Call.objects.filter(report=report).update(received_at=received)
        Assignment.objects.filter(report=report).update(received_at=received)
        return report

    reports = {
        "old_closed": report_at(800, close=True),
        "old_open": report_at(790, close=False),
        "recent": report_at(10, close=True),
    }
    prank = services.call_log(operator=operator, caller_phone=PHONE, outcome="prank")
    Call.objects.filter(pk=prank.pk).update(received_at=now - timedelta(days=800))
    return reports


def statistics():
    period = PerformanceFilter(since=date(2020, 1, 1), until=timezone.localdate())
    return agency_performance(period), calls_per_day(period), reports_per_day(period)


def test_anonymisation_erases_old_callers_and_keeps_the_statistics(history, settings):
    settings.DISPATCH_RETENTION_DAYS = 730
    before = statistics()
    events_before = list(Event.objects.values_list("pk", "kind", "data"))

    done = anonymise_callers()

    assert (done.reports, done.calls) == (1, 3)  # the report's own call, attached, prank
    old = Report.objects.get(pk=history["old_closed"].pk)
    assert (old.caller_name, old.caller_phone) == ("", "")
    assert old.anonymised_at is not None
    assert old.status == ReportStatus.CLOSED and old.category.code == "kemacetan"
    assert not Call.objects.filter(report=old).exclude(caller_phone="").exists()
    # Still being worked on, or within the retention period: untouched.
    for key in ("old_open", "recent"):
        kept = Report.objects.get(pk=history[key].pk)
        assert (kept.caller_name, kept.caller_phone) == ("Siti", PHONE)
    assert Call.objects.filter(report=history["old_open"], caller_phone=PHONE).exists()
    assert statistics() == before
    assert list(Event.objects.values_list("pk", "kind", "data")) == events_before

    assert anonymise_callers().reports == 0  # idempotent


def test_the_command_reports_and_can_dry_run(history, capsys):
    call_command("anonymise_callers", "--days", "730", "--dry-run")
    assert "Would anonymise 1 reports and 3 calls" in capsys.readouterr().out
    assert Report.objects.filter(anonymised_at__isnull=False).count() == 0
    call_command("anonymise_callers", "--days", "730")
    assert "Anonymised 1 reports and 3 calls" in capsys.readouterr().out
    call_command("anonymise_callers", "--days", "5")
    assert "Anonymised 1 reports and 2 calls" in capsys.readouterr().out  # now the recent one


def test_the_command_refuses_a_retention_below_a_day(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="at least one day"):
        call_command("anonymise_callers", "--days", "0")
