"""The phone system (SPEC §9): CTI events (idempotent, abandoned calls, pops to the right
console), AML messages over the API (accepted, no fix, rejected and kept), matched to the
logged call within 10 minutes either way, and erased with the caller's number."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.authtoken.models import Token

from reports import services as report_services
from reports.models import Call
from reports.retention import anonymise_callers
from telephony.models import AmlMessage, AmlStatus, CallEvent, Extension, PhoneCall

from .factories import OperatorFactory, SupervisorFactory, TelephonyFactory
from .test_aml_parser import GNSS, HTTPS_FORM, sms
from .test_events_consumer import connect, run, session_headers, snapshot_of
from .waiting import received_until_quiet

PHONE = "+6281234567890"
FUTURE_TOP = "lt=-6.99;lg=110.42;rd=10;top=20991204184010;lc=68;pm=G"


@pytest.fixture
def pbx(db):
    user = TelephonyFactory()
    token = Token.objects.create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def event(client, call_id, kind, **extra):
    return post(client, "/api/v1/telephony/events/", {"call_id": call_id, "event": kind, **extra})


# --- CTI ------------------------------------------------------------------------------------------


def test_a_call_rings_is_answered_and_ends(pbx, operator):
    Extension.objects.create(number="101", operator=operator)
    start = timezone.now() - timedelta(seconds=60)
    ringing = event(pbx, "1733300000.17", "ringing", caller_phone="0812-3456-7890",
                    extension="101", at=start.isoformat())  # fmt: skip
    assert ringing.status_code == 201, ringing.content
    assert (
        ringing.json()["caller_phone"] == PHONE and ringing.json()["operator"] == operator.username
    )
    answered = event(
        pbx, "1733300000.17", "answered", at=(start + timedelta(seconds=9)).isoformat()
    )
    assert answered.json()["state"] == "answered" and answered.json()["ring_seconds"] == 9
    ended = event(pbx, "1733300000.17", "ended", at=(start + timedelta(seconds=50)).isoformat())
    assert ended.json()["state"] == "ended" and ended.json()["talk_seconds"] == 41


def test_a_repeated_event_changes_nothing(pbx):
    first = event(pbx, "c-1", "ringing", caller_phone=PHONE)
    again = event(pbx, "c-1", "ringing", caller_phone="081100000000",
                  at=(timezone.now() - timedelta(minutes=1)).isoformat())  # fmt: skip
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["repeated"] is True
    call = PhoneCall.objects.get(call_id="c-1")
    assert call.caller_phone == PHONE
    assert call.ringing_at == parse_datetime(first.json()["ringing_at"])
    assert CallEvent.objects.filter(phone_call=call).count() == 1


def test_ringing_then_ended_without_an_answer_is_an_abandoned_call(pbx):
    event(pbx, "c-2", "ringing", caller_phone=PHONE)
    assert event(pbx, "c-2", "ended").json()["state"] == "abandoned"
    # The answer's event arriving late (out of order) makes it an answered, ended call.
    assert event(pbx, "c-2", "answered").json()["state"] == "ended"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": "ringing"}, "call_id"),
        ({"call_id": "x", "event": "hold"}, "event"),
        ({"call_id": "x", "event": "ringing", "at": "tomorrow"}, "at"),
        ({"call_id": "x", "event": "ringing", "at": "2099-01-01T00:00:00Z"}, "at"),
        ({"call_id": "x" * 101, "event": "ringing"}, "call_id"),
    ],
)
def test_a_bad_event_is_400_naming_the_field(pbx, body, field):
    response = post(pbx, "/api/v1/telephony/events/", body)
    assert response.status_code == 400 and field in response.json(), response.content
    assert not PhoneCall.objects.exists()


def test_a_withheld_or_foreign_number_is_kept_not_refused(pbx):
    assert event(pbx, "c-3", "ringing", caller_phone="anonymous").json()["caller_phone"] == ""
    assert event(pbx, "c-4", "ringing", caller_phone="+44 20 7946 0958").json()["caller_phone"] == (
        "+442079460958"
    )


# --- Live pops ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ringing_pops_at_the_operators_desk_only(city):
    at_desk, other, supervisor = OperatorFactory(), OperatorFactory(), SupervisorFactory()
    Extension.objects.create(number="101", operator=at_desk)
    pbx_user = TelephonyFactory()
    from telephony import services

    headers = {
        name: session_headers(user)
        for name, user in (("desk", at_desk), ("other", other), ("super", supervisor))
    }

    async def scenario():
        sockets = {name: await connect(h) for name, h in headers.items()}
        for socket in sockets.values():
            await socket.receive_json_from(timeout=5)  # the snapshot
        record = database_sync_to_async(services.call_event)
        await record(actor=pbx_user, call_id="p-1", event="ringing", caller_phone=PHONE,
                     extension="101")  # fmt: skip
        got = {name: await received_until_quiet(s, 0.3, first=1.5) for name, s in sockets.items()}
        # No extension: every operator's console, still no supervisor's.
        await record(actor=pbx_user, call_id="p-2", event="ringing", caller_phone=PHONE)
        got2 = {name: await received_until_quiet(s, 0.3, first=1.5) for name, s in sockets.items()}
        for socket in sockets.values():
            await socket.disconnect()
        return got, got2

    got, got2 = run(scenario)
    assert [m["call_id"] for m in got["desk"]] == ["p-1"]
    frame = got["desk"][0]
    assert frame["type"] == "telephony.call" and frame["state"] == "ringing"
    assert frame["caller_phone"] == PHONE and frame["history"]["calls_total"] == 0
    assert got["other"] == [] and got["super"] == []
    assert [m["call_id"] for m in got2["desk"]] == ["p-2"] == [m["call_id"] for m in got2["other"]]
    assert got2["super"] == []


@pytest.mark.django_db(transaction=True)
def test_a_console_that_reconnects_gets_the_ringing_call_and_the_aml_in_its_snapshot(city):
    operator, pbx_user = OperatorFactory(), TelephonyFactory()
    Extension.objects.create(number="102", operator=operator)
    from telephony import services

    services.call_event(actor=pbx_user, call_id="s-1", event="ringing", caller_phone=PHONE,
                        extension="102")  # fmt: skip
    services.aml_receive(actor=pbx_user, sms=GNSS, sender=PHONE)

    headers = session_headers(operator)

    snapshot = snapshot_of(headers)
    assert [c["call_id"] for c in snapshot["phone_calls"]] == ["s-1"]
    assert snapshot["aml"][0]["latitude"] == -6.98322 and snapshot["aml"][0]["accuracy_m"] == 8


# --- A call the caller gave up on, dismissed (issue 37 §5) ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_dismissed_abandoned_call_leaves_every_console_and_stays_gone(city):
    """Tutup on one console is recorded (who, when), takes the call off the other operators'
    consoles live, and a console that reconnects does not get it back."""
    first, second, pbx_user = OperatorFactory(), OperatorFactory(), TelephonyFactory()
    from telephony import services

    services.call_event(actor=pbx_user, call_id="a-1", event="ringing", caller_phone=PHONE)
    services.call_event(actor=pbx_user, call_id="a-1", event="ended", caller_phone=PHONE)
    headers = session_headers(second)
    assert [c["call_id"] for c in snapshot_of(headers)["phone_calls"]] == ["a-1"]
    client = Client()
    client.force_login(first)

    async def scenario():
        socket = await connect(headers)
        await socket.receive_json_from(timeout=5)  # the snapshot
        dismiss = database_sync_to_async(client.post)
        answer = await dismiss("/api/v1/telephony/calls/a-1/dismiss/")
        again = await dismiss("/api/v1/telephony/calls/a-1/dismiss/")
        got = await received_until_quiet(socket, 0.3, first=1.5)
        await socket.disconnect()
        return answer, again, got

    answer, again, got = run(scenario)
    assert answer.status_code == 200 and answer.json()["dismissed_by"] == first.username
    assert again.json() == answer.json()  # once: the same who and when
    call = PhoneCall.objects.get(call_id="a-1")
    assert call.dismissed_by == first and call.dismissed_at is not None
    assert [(m["call_id"], m["dismissed_by"]) for m in got] == [("a-1", first.username)]
    assert snapshot_of(headers)["phone_calls"] == []  # a reload does not bring it back


def test_only_an_operator_dismisses_and_only_an_abandoned_call(pbx, operator, supervisor):
    event(pbx, "r-1", "ringing", caller_phone="081234567890")
    as_operator, as_supervisor = Client(), Client()
    as_operator.force_login(operator)
    as_supervisor.force_login(supervisor)
    assert as_operator.post("/api/v1/telephony/calls/r-1/dismiss/").status_code == 404  # ringing
    assert as_operator.post("/api/v1/telephony/calls/nope/dismiss/").status_code == 404
    event(pbx, "r-1", "ended")
    assert as_supervisor.post("/api/v1/telephony/calls/r-1/dismiss/").status_code == 403
    assert pbx.post("/api/v1/telephony/calls/r-1/dismiss/").status_code == 403
    assert PhoneCall.objects.get(call_id="r-1").dismissed_at is None


# --- AML ------------------------------------------------------------------------------------------


def test_an_sms_aml_is_accepted(pbx):
    response = post(pbx, "/api/v1/aml/", {"sms": GNSS, "sender": "081234567890"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "accepted" and body["caller_phone"] == PHONE
    assert (body["latitude"], body["accuracy_m"], body["positioning"]) == (-6.98322, 8, "gnss")


def test_a_text_plain_sms_and_the_https_form(pbx):
    plain = pbx.post("/api/v1/aml/?sender=%2B6281234567890", GNSS, content_type="text/plain")
    assert plain.status_code == 201 and plain.json()["caller_phone"] == PHONE
    form = pbx.post(  # form-encoded, as the handset posts it
        "/api/v1/aml/", urlencode(HTTPS_FORM), content_type="application/x-www-form-urlencoded"
    )
    assert form.status_code == 201, form.content
    assert form.json()["format"] == "https" and form.json()["accuracy_m"] == 12.5


def test_a_no_fix_message_is_kept_without_a_position(pbx):
    response = post(pbx, "/api/v1/aml/", {"sms": sms("lt=;lg=;rd=N;pm=N;mcc=510;mnc=10"),
                                          "sender": PHONE})  # fmt: skip
    assert response.status_code == 201 and response.json()["status"] == "no_fix"
    assert response.json()["latitude"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sms": GNSS[:-3] + "999", "sender": PHONE}, "ml"),
        ({"sms": sms("lt=-6.99;lg=110.42;rd=10;pm=Q"), "sender": PHONE}, "pm"),
        ({**HTTPS_FORM, "location_latitude": "123"}, "location_latitude"),
        ({"sms": ["a", "b"]}, "sms"),
        # YYYYMMDDhhmmss where milliseconds belong: the year 2612, no position to send a unit to
        ({**HTTPS_FORM, "location_time": "20261204184010"}, "location_time"),
        # a position fixed in the year 2099 is not a position
        ({"sms": sms(FUTURE_TOP), "sender": PHONE}, "top"),
    ],
)
def test_a_malformed_message_is_400_naming_the_field_and_kept_as_rejected(pbx, body, field):
    response = post(pbx, "/api/v1/aml/", body)
    assert response.status_code == 400 and field in response.json(), response.content
    kept = AmlMessage.objects.get(pk=response.json()["id"])
    assert kept.status == AmlStatus.REJECTED and kept.error_field == field and kept.raw


def test_garbage_is_never_a_5xx(pbx):
    garbage = [
        (b"\xff\xfe", "text/plain"),
        (b"[1,2]", "application/json"),
        (b"{", "application/json"),
        (b"a=%ZZ", "application/x-www-form-urlencoded"),
    ]
    for body, kind in garbage:
        assert pbx.post("/api/v1/aml/", body, content_type=kind).status_code == 400, body


# --- Matching ------------------------------------------------------------------------------------


def _log(operator, **extra):
    return report_services.call_log(operator=operator, caller_phone="0812 3456 7890",
                                    outcome="information", **extra)  # fmt: skip


def test_aml_before_the_call_is_put_on_the_call_when_it_is_logged(pbx, operator):
    post(pbx, "/api/v1/aml/", {"sms": GNSS, "sender": PHONE})
    call = _log(operator)
    call.refresh_from_db()
    assert (call.caller_latitude, call.caller_accuracy_m, call.caller_location_source) == (
        -6.98322, 8, "aml",
    )  # fmt: skip
    assert AmlMessage.objects.get().call == call


def test_aml_after_the_call_is_put_on_it(pbx, operator):
    call = _log(operator, received_at=timezone.now() - timedelta(minutes=9))
    post(pbx, "/api/v1/aml/", {"sms": GNSS, "sender": PHONE})
    call.refresh_from_db()
    assert call.caller_longitude == 110.40936 and call.caller_location_source == "aml"


def test_outside_the_ten_minutes_nothing_is_matched(pbx, operator):
    old = _log(operator, received_at=timezone.now() - timedelta(minutes=11))
    post(pbx, "/api/v1/aml/", {"sms": GNSS, "sender": PHONE})
    old.refresh_from_db()
    assert old.caller_latitude is None and AmlMessage.objects.get().call is None
    # Nor another number's call.
    other = report_services.call_log(operator=operator, caller_phone="081299998888",
                                     outcome="information")  # fmt: skip
    other.refresh_from_db()
    assert other.caller_latitude is None


def test_the_report_keeps_the_aml_source_and_accuracy(city, operator):
    report = report_services.report_create(
        operator=operator, caller_phone=PHONE, category="banjir", description="Banjir",
        address="Jl. Kaligawe", latitude=-6.98322, longitude=110.40936,
        location_source="aml", location_accuracy_m=8,
    )  # fmt: skip
    assert (report.location_source, report.location_accuracy_m) == ("aml", 8)
    clicked = report_services.report_create(
        operator=operator, caller_phone=PHONE, category="banjir", description="Banjir",
        address="Jl. Kaligawe", latitude=-6.98, longitude=110.4,
    )  # fmt: skip
    assert clicked.location_source == "operator" and clicked.location_accuracy_m is None


def test_the_answered_pbx_call_is_linked_to_the_logged_call(pbx, operator):
    event(pbx, "l-1", "ringing", caller_phone=PHONE)
    event(pbx, "l-1", "answered")
    call = _log(operator)
    assert PhoneCall.objects.get(call_id="l-1").logged_call == call


def test_anonymise_callers_erases_the_handset_positions(pbx, operator):
    post(pbx, "/api/v1/aml/", {"sms": GNSS, "sender": PHONE})
    event(pbx, "a-1", "ringing", caller_phone=PHONE)
    call = _log(operator)
    later = timezone.now() + timedelta(days=400)
    done = anonymise_callers(30, now=later)
    assert done.others["AML messages"] == 1
    call.refresh_from_db()
    message = AmlMessage.objects.get()
    assert call.caller_latitude is None and call.caller_phone == ""
    assert message.latitude is None and message.raw == "" and message.caller_phone == ""
    assert PhoneCall.objects.get().caller_phone == ""
    assert Call.objects.filter(caller_located_at__isnull=False).count() == 0


def test_only_the_telephony_account_posts(operator):
    client = Client()
    client.force_login(operator)
    assert event(client, "z", "ringing").status_code == 403
    assert post(client, "/api/v1/aml/", {"sms": GNSS}).status_code == 403
    assert not AmlMessage.objects.exists() and not PhoneCall.objects.exists()
