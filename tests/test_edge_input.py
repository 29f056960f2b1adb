"""One edge for input (SPEC §13, issue 33 §3 and §9): control characters (tab and newlines
allowed), impossible dates, time zone offsets beyond ±14:00 and years outside 2000–2099 are
refused at every door with a 400 naming the field, nothing written, never a 500; the phone
system may post its events as a form (the README's Asterisk CURL() example)."""

from __future__ import annotations

import copy
import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import translation
from rest_framework.authtoken.models import Token

from core.validation import (
    CONTROL_CHARACTERS,
    Errors,
    clean_aware_datetime,
    clean_text,
    refuse_control_characters,
)
from interop import eido
from interop.models import ReceivedIncident
from reports.models import Report, ReportSource
from telephony.models import AmlMessage, AmlStatus, PhoneCall

from . import test_eido
from .factories import TelephonyFactory
from .test_aml_parser import GNSS, HTTPS_FORM
from .test_eido import eido_client, post_eido

# The EIDO tests' fixtures: a peer centre and a report worth sending.
peer, full_report = test_eido.peer, test_eido.full_report

FORM = "application/x-www-form-urlencoded"


def messages(errors: Errors, field: str) -> list[str]:
    return [m for e in errors.by_field.get(field, []) for m in e.messages]


# --- The shared validator ------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f"])
def test_every_control_character_is_refused_naming_the_field(char):
    errors = Errors()
    assert refuse_control_characters(errors, "description", f"a{char}b")
    assert "description" in messages(errors, "description")[0]
    errors = Errors()
    clean_text(errors, "description", f"Kebakaran{char}", max_length=100)
    assert "description" in errors.by_field


def test_tab_and_newlines_are_text():
    errors = Errors()
    assert clean_text(errors, "note", "a\tb\r\nc", max_length=100) == "a\tb\r\nc"
    assert not errors.by_field and not CONTROL_CHARACTERS.search("\t\n\r")


def test_the_refusal_is_in_indonesian():
    errors = Errors()
    with translation.override("id"):
        refuse_control_characters(errors, "note", "\x00")
    assert messages(errors, "note") == ["“note” berisi karakter kontrol, yang tidak diizinkan."]


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("2026-02-30T10:00:00+07:00", "bukan tanggal dan waktu"),
        ("2026-12-01T10:00:00+23:00", "melebihi ±14:00"),
        ("2026-12-01T10:00:00+99:00", "bukan tanggal dan waktu"),
        ("9999-12-31T23:00:00-05:00", "antara 2000-01-01 dan 2099-12-31"),
        ("1999-12-31T23:00:00+00:00", "antara 2000-01-01 dan 2099-12-31"),
        ("2026-12-01T10:00:00", "menyertakan zona waktu"),
        ("2026-12-01T10:00:00+07:00\x00", "karakter kontrol"),
        (12, "bukan tanggal dan waktu"),
    ],
)
def test_dates_that_cannot_be_are_refused_naming_the_field(value, says):
    errors = Errors()
    assert clean_aware_datetime(errors, "start_date", value) is None
    [message] = messages(errors, "start_date")
    assert says in message and "start_date" in message


@pytest.mark.parametrize("value", ["2026-12-01T10:00:00+14:00", "2026-12-01T10:00:00-12:00"])
def test_real_offsets_are_accepted(value):
    errors = Errors()
    assert clean_aware_datetime(errors, "start_date", value) is not None and not errors.by_field


# --- DRF: the shared Text and date fields ---------------------------------------------------------


@pytest.fixture
def pbx(db):
    token = Token.objects.create(user=TelephonyFactory())
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def test_the_api_refuses_control_characters_in_any_text_field(pbx):
    body = {"call_id": "1733300000.17\x1b", "event": "ringing"}
    response = pbx.post("/api/v1/telephony/events/", json.dumps(body), "application/json")
    assert response.status_code == 400 and "call_id" in response.json()
    assert not PhoneCall.objects.exists()


@pytest.mark.parametrize(
    "at", ["2026-12-01T10:00:00+23:00", "9999-12-31T23:00:00-05:00", "2026-02-30T10:00:00Z"]
)
def test_an_event_time_that_cannot_be_is_a_400_naming_it(pbx, at):
    body = {"call_id": "1733300000.17", "event": "ringing", "at": at}
    response = pbx.post("/api/v1/telephony/events/", json.dumps(body), "application/json")
    assert response.status_code == 400 and "at" in response.json(), response.content
    assert not PhoneCall.objects.exists()


def test_a_form_encoded_event_is_accepted_as_asterisk_curl_posts_it(pbx):
    body = urlencode({"call_id": "1733300000.17", "event": "ringing", "caller_phone": "0812"})
    response = pbx.post("/api/v1/telephony/events/", body, content_type=FORM)
    assert response.status_code == 201, response.content
    assert PhoneCall.objects.get().call_id == "1733300000.17"


def test_a_form_encoded_event_is_checked_like_json(pbx):
    body = urlencode({"call_id": "17\x00", "event": "ringing"})
    response = pbx.post("/api/v1/telephony/events/", body, content_type=FORM)
    assert response.status_code == 400 and "call_id" in response.json()


def test_the_phone_system_is_throttled_per_token_at_a_machines_pace(pbx, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "telephony": "3/min"}
    body = {"call_id": "1733300000.17", "event": "ringing"}
    answers = [
        pbx.post("/api/v1/telephony/events/", json.dumps(body), "application/json")
        for _ in range(4)
    ]
    assert [a.status_code for a in answers] == [201, 200, 200, 429]
    assert int(answers[-1]["Retry-After"]) > 0
    other = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=TelephonyFactory())}")
    assert (
        other.post("/api/v1/telephony/events/", json.dumps(body), "application/json").status_code
        == 200
    )


# --- AML -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sms": GNSS + "\x00", "sender": "+6281234567890"}, "sms"),
        ({"sms": GNSS, "sender": "+62812\x00"}, "sender"),
        ({**HTTPS_FORM, "device_number": "0812\x00"}, "device_number"),
        ({**HTTPS_FORM, "device_model": "Pixel\x01"}, "device_model"),
        ({**HTTPS_FORM, "x\x00": "1"}, "x\\x00"),
        ({**HTTPS_FORM, "location_time": "2026-12-01T10:00:00+23:00"}, "location_time"),
        ({**HTTPS_FORM, "location_time": "0"}, "location_time"),  # 1970
    ],
)
def test_aml_refuses_control_characters_and_bad_times_naming_the_field(pbx, body, field):
    response = pbx.post("/api/v1/aml/", json.dumps(body), "application/json")
    assert response.status_code == 400 and field in response.json(), response.content
    kept = AmlMessage.objects.get()
    assert kept.status == AmlStatus.REJECTED and not CONTROL_CHARACTERS.search(kept.raw)


def test_aml_form_keys_with_control_characters_are_refused(pbx):
    body = urlencode({**HTTPS_FORM, "a\x00": "1"})
    response = pbx.post("/api/v1/aml/", body, content_type=FORM)
    assert response.status_code == 400 and "a\\x00" in response.json()


# --- EIDO ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["incidentComponent"].update(internalIncidentId="LAP-1\x00"),
         "/incidentComponent/internalIncidentId"),
        (lambda d: d.update({"$id": "urn:uuid:1\x1f"}), "/$id"),
        (lambda d: d["incidentComponent"].update(incidentTypeInternalText="Macet\x07"),
         "/incidentComponent/incidentTypeInternalText"),
        (lambda d: d["incidentComponent"].update({"k\x00": 1}), "/incidentComponent/k\\x00"),
        (lambda d: d["callComponent"][0].update(callStartTimestamp="2026-02-30T10:00:00+07:00"),
         "/callComponent/0/callStartTimestamp"),
        (lambda d: d["callComponent"][0].update(callStartTimestamp="2026-12-01T10:00:00+23:00"),
         "/callComponent/0/callStartTimestamp"),
    ],
)  # fmt: skip
def test_eido_refuses_control_characters_and_bad_dates_naming_where(
    full_report, peer, change, path
):
    document = copy.deepcopy(eido.export(full_report))
    change(document)
    response = post_eido(eido_client(peer), document)
    assert response.status_code == 400, response.content
    assert path in [p["path"] for p in response.json()["errors"]], response.json()
    assert not Report.objects.filter(source=ReportSource.EIDO).exists()
    assert not ReceivedIncident.objects.exists()


def test_eido_import_is_throttled_per_peer(full_report, peer, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "eido": "2/min"}
    client = eido_client(peer)
    answers = [post_eido(client, eido.export(full_report)).status_code for _ in range(3)]
    assert answers == [201, 200, 429]


def test_wrong_peer_tokens_are_slowed_per_address(full_report, peer, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "refused_key": "3/min"}
    guesses = [
        post_eido(Client(HTTP_AUTHORIZATION=f"Token guess{n}"), {}).status_code for n in range(4)
    ]
    assert guesses == [401, 401, 401, 429]


# --- Pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["31/12/9999", "01/01/0001", "9999-12-31"])
def test_the_history_page_refuses_a_day_the_centre_cannot_have_had(staff_of, day):
    client = Client()
    client.force_login(staff_of("dishub"))
    response = client.get("/agency/history/", {"day": day})
    assert response.status_code == 200
    assert "bukan tanggal" in response.content.decode()
