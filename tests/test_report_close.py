import pytest
from django.core.exceptions import ValidationError

from core.errors import ActionForbidden, TransitionNotAllowed
from reports import services
from reports.models import Event


def test_closing_cancels_open_assignments_and_keeps_finished_ones(make_report, operator, staff_of):
    report = make_report(category="kecelakaan")  # polrestabes, ambulans, dishub
    ambulance = report.assignments.get(agency__code="ambulans")
    crew = staff_of("ambulans")
    services.assignment_dispatch(assignment=ambulance, actor=crew, eta_minutes=5, unit="AMB-3")
    services.assignment_arrive(assignment=ambulance, actor=crew)
    services.assignment_resolve(assignment=ambulance, actor=crew, note="Dibawa ke RSUP Kariadi")
    police = report.assignments.get(agency__code="polrestabes")
    services.assignment_acknowledge(assignment=police, actor=staff_of("polrestabes"))

    closed = services.report_close(actor=operator, report=report, reason="resolved", note="OK")
    assert (closed.status, closed.close_reason, closed.closed_by) == (
        "closed",
        "resolved",
        operator,
    )
    statuses = dict(report.assignments.values_list("agency__code", "status"))
    assert statuses == {"ambulans": "resolved", "polrestabes": "cancelled", "dishub": "cancelled"}
    assert Event.objects.filter(report=report, kind="assignment.cancelled").count() == 2
    assert Event.objects.filter(report=report, kind="report.closed").count() == 1


@pytest.mark.parametrize("reason", ["prank", "ghost", "information", "non_emergency"])
def test_it_closes_non_emergencies_without_dispatch(make_report, operator, reason):
    report = make_report()
    services.report_close(actor=operator, report=report.pk, reason=reason)
    assert set(report.assignments.values_list("status", flat=True)) == {"cancelled"}


def test_a_duplicate_links_to_the_original(make_report, operator):
    original, copy = make_report(), make_report()
    services.report_close(actor=operator, report=copy, reason="duplicate", duplicate_of=original)
    copy.refresh_from_db()
    assert copy.duplicate_of == original
    assert list(original.duplicates.all()) == [copy]


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"reason": "duplicate"}, "duplicate_of"),
        ({"reason": "duplicate", "duplicate_of": 999999}, "duplicate_of"),
        ({"reason": "duplicate", "duplicate_of": "SELF"}, "duplicate_of"),
        ({"reason": "prank", "duplicate_of": "SELF"}, "duplicate_of"),
        ({"reason": "because"}, "reason"),
        ({"reason": "prank", "note": "\x00"}, "note"),
        ({"reason": "duplicate", "duplicate_of": True}, "duplicate_of"),
        ({"reason": "duplicate", "duplicate_of": "12"}, "duplicate_of"),
    ],
)
def test_it_refuses_bad_closes_and_changes_nothing(make_report, operator, fields, error_field):
    report = make_report()
    if fields.get("duplicate_of") == "SELF":
        fields["duplicate_of"] = report
    with pytest.raises(ValidationError) as raised:
        services.report_close(actor=operator, report=report, **fields)
    assert error_field in raised.value.message_dict
    report.refresh_from_db()
    assert report.status == "open"
    assert set(report.assignments.values_list("status", flat=True)) == {"notified"}


def test_a_closed_report_cannot_be_closed_again(make_report, operator):
    report = make_report()
    services.report_close(actor=operator, report=report, reason="prank")
    with pytest.raises(TransitionNotAllowed):
        services.report_close(actor=operator, report=report, reason="resolved")


def test_only_operators_close(make_report, supervisor, staff_of):
    report = make_report()
    for user in (supervisor, staff_of("dishub")):
        with pytest.raises(ActionForbidden):
            services.report_close(actor=user, report=report, reason="prank")


def test_duplicates_link_to_the_original_never_to_another_duplicate(make_report, operator):
    original, first_copy, second_copy = make_report(), make_report(), make_report()
    services.report_close(
        actor=operator, report=first_copy, reason="duplicate", duplicate_of=original
    )
    with pytest.raises(ValidationError) as raised:
        services.report_close(
            actor=operator, report=second_copy, reason="duplicate", duplicate_of=first_copy
        )
    assert original.number in raised.value.message_dict["duplicate_of"][0]
    # …and so no cycle: the original cannot become a duplicate of its own duplicate.
    with pytest.raises(ValidationError):
        services.report_close(
            actor=operator, report=original, reason="duplicate", duplicate_of=first_copy
        )
    original.refresh_from_db()
    assert original.status == "open"
