"""The operator steers an open report (SPEC §11): the services in reports/steering.py."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agencies.models import UnitStatus
from core.errors import ActionForbidden, TransitionNotAllowed
from reports import services
from reports.models import Event


def test_an_edit_records_the_changed_fields_only(make_report, operator):
    report = make_report(priority=3)
    services.report_edit(
        actor=operator, report=report, priority=1, address="Jl. Pahlawan",
        description="Macet, dua orang terjebak di mobil",
    )  # fmt: skip
    report.refresh_from_db()
    assert (report.priority, report.description) == (1, "Macet, dua orang terjebak di mobil")
    event = Event.objects.get(report=report, kind="report.edited")
    assert event.data["fields"] == ["description", "priority"]  # the address did not change
    assert (event.data["before"]["priority"], event.data["after"]["priority"]) == (3, 1)
    assert event.actor == operator


def test_an_edit_that_changes_nothing_records_nothing(make_report, operator):
    report = make_report()
    services.report_edit(actor=operator, report=report, address=report.address)
    assert not Event.objects.filter(kind="report.edited").exists()


def test_moving_the_pin_makes_it_the_operators(make_report, operator):
    report = make_report(
        latitude=-6.99, longitude=110.42, location_source="aml", location_accuracy_m=30
    )
    services.report_edit(actor=operator, report=report, latitude=-6.98, longitude=110.41)
    report.refresh_from_db()
    assert (float(report.latitude), report.location_source) == (-6.98, "operator")
    assert report.location_accuracy_m is None
    fields = Event.objects.get(kind="report.edited").data["fields"]
    assert fields == ["latitude", "longitude"]


def test_an_edit_refuses_bad_fields_all_at_once_and_saves_nothing(make_report, operator):
    report = make_report()
    with pytest.raises(ValidationError) as error:
        services.report_edit(
            actor=operator, report=report, description="", priority=7, kecamatan="atlantis",
            latitude=-6.9,
        )  # fmt: skip
    assert {"description", "priority", "kecamatan"} <= set(error.value.message_dict)
    report.refresh_from_db()
    assert report.priority != 7 and report.description


def test_only_an_operator_edits_an_open_report(make_report, operator, staff_of, supervisor):
    report = make_report()
    for someone in (staff_of("dishub"), supervisor):
        with pytest.raises(ActionForbidden):
            services.report_edit(actor=someone, report=report, priority=1)
    services.report_close(actor=operator, report=report, reason="resolved")
    with pytest.raises(TransitionNotAllowed):
        services.report_edit(actor=operator, report=report, priority=1)


def test_an_added_agency_is_notified_now_with_its_own_clock(make_report, operator, staff_of):
    report = make_report(category="kemacetan")  # dishub + polrestabes
    services.assignment_reject(
        assignment=report.assignments.get(agency__code="polrestabes"),
        actor=staff_of("polrestabes"),
        reason="Bukan wewenang kami, hubungi Satpol PP",
    )
    before = timezone.now()
    added = services.assignment_add(
        actor=operator, report=report, agency="satpolpp", note="Penertiban PKL"
    )
    assert added.status == "notified" and added.agency.code == "satpolpp"
    assert added.notified_at >= before and added.received_at == added.notified_at
    event = Event.objects.get(assignment=added)
    assert event.kind == "assignment.created"
    assert event.data == {"added": True, "note": "Penertiban PKL"}


def test_an_agency_already_on_the_report_is_a_conflict(make_report, operator, staff_of):
    report = make_report(category="kemacetan")
    with pytest.raises(TransitionNotAllowed, match="Dishub"):
        services.assignment_add(actor=operator, report=report, agency="dishub")
    services.assignment_reject(
        assignment=report.assignments.get(agency__code="polrestabes"),
        actor=staff_of("polrestabes"),
        reason="Bukan",
    )
    with pytest.raises(TransitionNotAllowed):
        services.assignment_add(actor=operator, report=report, agency="polrestabes")
    with pytest.raises(ValidationError):
        services.assignment_add(actor=operator, report=report, agency="atlantis")
    with pytest.raises(ActionForbidden):
        services.assignment_add(actor=staff_of("dishub"), report=report, agency="satpolpp")


def test_cancelling_tells_the_agency_why_and_frees_its_unit(
    make_report, operator, staff_of, unit_of
):
    unit = unit_of("dishub", "DSH-07", latitude=-6.99, longitude=110.42)
    report = make_report(category="kemacetan")
    assignment = report.assignments.get(agency__code="dishub")
    services.assignment_dispatch(
        assignment=assignment, actor=staff_of("dishub"), unit="DSH-07", eta_minutes=4
    )
    cancelled = services.assignment_cancel(
        assignment=assignment, actor=operator, reason="Kemacetan sudah terurai"
    )
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "Kemacetan sudah terurai")
    event = Event.objects.get(assignment=assignment, kind="assignment.cancelled")
    assert event.data["reason"] == "Kemacetan sudah terurai"
    unit.refresh_from_db()
    assert unit.status == UnitStatus.AVAILABLE


def test_a_cancel_needs_a_reason_and_an_operator(make_report, operator, staff_of):
    assignment = make_report().assignments.get(agency__code="dishub")
    with pytest.raises(ValidationError):
        services.assignment_cancel(assignment=assignment, actor=operator, reason="  ")
    with pytest.raises(ActionForbidden):
        services.assignment_cancel(assignment=assignment, actor=staff_of("dishub"), reason="x")
    services.assignment_cancel(assignment=assignment, actor=operator, reason="Salah kirim")
    with pytest.raises(TransitionNotAllowed):
        services.assignment_cancel(assignment=assignment, actor=operator, reason="Lagi")
