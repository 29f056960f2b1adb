import pytest
from django.core.exceptions import ValidationError

from core.errors import ActionForbidden, TransitionNotAllowed
from reports import services
from reports.models import Assignment, AssignmentStatus, Event

# The state machine of SPEC §3, written out independently of reports.services.
ALLOWED = {
    "acknowledge": {"notified"},
    "dispatch": {"notified", "acknowledged"},
    "arrive": {"dispatched"},
    "resolve": {"on_scene"},
    "reject": {"notified", "acknowledged"},
    "cancel": {"notified", "acknowledged", "dispatched", "on_scene"},
}
TARGET = {
    "acknowledge": ("acknowledged", "acknowledged"),
    "dispatch": ("dispatched", "dispatched"),
    "arrive": ("on_scene", "arrived"),
    "resolve": ("resolved", "resolved"),
    "reject": ("rejected", "rejected"),
    "cancel": ("cancelled", "cancelled"),
}
ARGUMENTS = {
    "dispatch": {"eta_minutes": 7, "unit": "Unit Lantas 2"},
    "resolve": {"note": "Arus kembali lancar"},
    "reject": {"reason": "Bukan wilayah kami"},
    "cancel": {"reason": "Salah kirim"},
}
CASES = [(a, s) for a in ALLOWED for s in AssignmentStatus.values]


def perform(action, assignment, actor):
    function = getattr(services, f"assignment_{action}")
    return function(assignment=assignment, actor=actor, **ARGUMENTS.get(action, {}))


def put_in(assignment: Assignment, status: str) -> Assignment:
    """Test setup only: places the row in `status` with the fields that state requires."""
    Assignment.objects.filter(pk=assignment.pk).update(
        status=status,
        eta_minutes=5 if status == "dispatched" else None,
        reject_reason="x" if status == "rejected" else "",
    )
    return Assignment.objects.get(pk=assignment.pk)


@pytest.fixture
def dishub_assignment(make_report):
    return make_report(category="kemacetan").assignments.get(agency__code="dishub")


@pytest.mark.parametrize(("action", "status"), CASES)
def test_every_transition(dishub_assignment, staff_of, operator, action, status):
    actor = operator if action == "cancel" else staff_of("dishub")
    assignment = put_in(dishub_assignment, status)
    events_before = Event.objects.count()
    if status in ALLOWED[action]:
        result = perform(action, assignment, actor)
        target, stamp = TARGET[action]
        result.refresh_from_db()
        assert result.status == target
        assert getattr(result, f"{stamp}_at") is not None
        assert getattr(result, f"{stamp}_by") == actor
        event = Event.objects.latest("id")
        assert (event.kind, event.assignment, event.actor) == (f"assignment.{stamp}", result, actor)
        assert Event.objects.count() == events_before + 1
    else:
        with pytest.raises(TransitionNotAllowed):
            perform(action, assignment, actor)
        assignment.refresh_from_db()
        assert assignment.status == status
        assert Event.objects.count() == events_before


def test_dispatch_records_eta_and_unit_and_acknowledges(dishub_assignment, staff_of):
    crew = staff_of("dishub")
    result = services.assignment_dispatch(
        assignment=dishub_assignment.pk, actor=crew, eta_minutes=4, unit="Derek 1"
    )
    assert (result.eta_minutes, result.unit) == (4, "Derek 1")
    assert result.acknowledged_at == result.dispatched_at
    assert result.acknowledged_by == crew


def test_dispatch_after_acknowledge_keeps_the_acknowledgement_time(dishub_assignment, staff_of):
    crew = staff_of("dishub")
    acknowledged = services.assignment_acknowledge(assignment=dishub_assignment, actor=crew)
    dispatched = services.assignment_dispatch(assignment=acknowledged, actor=crew, eta_minutes=9)
    assert dispatched.acknowledged_at == acknowledged.acknowledged_at < dispatched.dispatched_at


@pytest.mark.parametrize("eta", [None, -1, 1441, "5", 2.5, True])
def test_dispatch_needs_a_sensible_eta(dishub_assignment, staff_of, eta):
    with pytest.raises(ValidationError) as raised:
        services.assignment_dispatch(
            assignment=dishub_assignment, actor=staff_of("dishub"), eta_minutes=eta
        )
    assert "eta_minutes" in raised.value.message_dict
    dishub_assignment.refresh_from_db()
    assert dishub_assignment.status == "notified"


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 2001])
def test_reject_needs_a_reason(dishub_assignment, staff_of, reason):
    with pytest.raises(ValidationError) as raised:
        services.assignment_reject(
            assignment=dishub_assignment, actor=staff_of("dishub"), reason=reason
        )
    assert "reason" in raised.value.message_dict
    dishub_assignment.refresh_from_db()
    assert dishub_assignment.status == "notified"


@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_it_rejects_other_agency_and_supervisor(dishub_assignment, staff_of, supervisor, action):
    for outsider in (staff_of("polrestabes"), staff_of("damkar"), supervisor):
        with pytest.raises(ActionForbidden):
            perform(action, dishub_assignment, outsider)
    dishub_assignment.refresh_from_db()
    assert dishub_assignment.status == "notified"


def test_agency_staff_cannot_cancel_but_an_operator_can_act_for_them(
    dishub_assignment, staff_of, operator
):
    with pytest.raises(ActionForbidden):
        services.assignment_cancel(
            assignment=dishub_assignment, actor=staff_of("dishub"), reason="Salah kirim"
        )
    # Dishub radios the command centre: the operator records the acknowledgement.
    result = services.assignment_acknowledge(assignment=dishub_assignment, actor=operator)
    assert (result.status, result.acknowledged_by) == ("acknowledged", operator)
