import pytest
from django.core.exceptions import ValidationError

from core.errors import ActionForbidden
from reports import services
from reports.models import Call, Event


@pytest.mark.parametrize("outcome", ["information", "prank", "ghost", "other"])
def test_it_logs_calls_without_a_report(city, operator, outcome):
    call = services.call_log(
        operator=operator, caller_phone="+62 813 1111 2222", outcome=outcome, note="  "
    )
    assert (call.outcome, call.report, call.caller_phone) == (outcome, None, "+6281311112222")
    assert call.received_at is not None
    assert not Event.objects.exists()


def test_a_call_about_an_open_report_is_attached_not_dispatched(make_report, operator):
    report = make_report()
    assignments = report.assignments.count()
    call = services.call_log(
        operator=operator, caller_phone="0856 1234 5678", outcome="attached", report=report.pk
    )
    assert call.report == report
    assert report.assignments.count() == assignments
    event = Event.objects.get(kind="call.attached")
    assert (event.report, event.data["call"]) == (report, call.pk)


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"outcome": "report"}, "outcome"),
        ({"outcome": "bogus"}, "outcome"),
        ({"outcome": "attached"}, "report"),
        ({"outcome": "attached", "report": 999999}, "report"),
        ({"outcome": "prank", "report": "REPORT"}, "report"),
        ({"outcome": "prank", "caller_phone": "hello"}, "caller_phone"),
        ({"outcome": "prank", "note": "x" * 2001}, "note"),
        ({"outcome": "attached", "report": True}, "report"),
        ({"outcome": "attached", "report": "abc"}, "report"),
        ({"outcome": "attached", "report": 2**70}, "report"),
    ],
)
def test_it_rejects_bad_calls(make_report, operator, fields, error_field):
    report = make_report()
    if fields.get("report") == "REPORT":
        fields["report"] = report
    fields.setdefault("caller_phone", "081234567890")
    before = Call.objects.count()
    with pytest.raises(ValidationError) as raised:
        services.call_log(operator=operator, **fields)
    assert error_field in raised.value.message_dict
    assert Call.objects.count() == before


def test_a_call_cannot_attach_to_a_closed_report(make_report, operator):
    report = make_report()
    services.report_close(actor=operator, report=report, reason="resolved")
    with pytest.raises(ValidationError, match="sudah ditutup"):
        services.call_log(
            operator=operator, caller_phone="081234567890", outcome="attached", report=report
        )


def test_only_operators_log_calls(city, supervisor):
    with pytest.raises(ActionForbidden):
        services.call_log(operator=supervisor, caller_phone="081234567890", outcome="prank")
