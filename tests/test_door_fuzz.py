"""Every door fuzzed (issue 33, deliver 5): generated bad input at the doors the DRF schema
fuzzing (test_api_fuzz) does not reach: Open311 (JSON and XML, GET query strings and POST
forms), the EIDO import, AML (SMS and form), telephony events (JSON and form), and the pages
that read a query string. Zero server errors is the test; a page never shows exception text.

Hypothesis runs derandomized with a bounded number of examples, so the file is repeatable
and fast; the real application and database answer, nothing of ours is mocked."""

from __future__ import annotations

import copy
import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from interop import eido
from interop.models import Open311Client

from . import test_eido
from .factories import TelephonyFactory
from .test_aml_parser import GNSS, HTTPS_FORM
from .test_eido import eido_client

# The EIDO tests' fixtures: a peer centre and a report worth sending.
peer, full_report = test_eido.peer, test_eido.full_report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORM = "application/x-www-form-urlencoded"

# What probes send: control characters, impossible dates and offsets, huge and odd numbers.
NASTY = st.sampled_from(
    [
        "", "\x00", "a\x00b", "\x01\x1b\x7f", "\t\r\n", "%00", "31/12/9999", "01/01/0001",
        "9999-12-31", "2026-02-30", "2026-02-30T10:00:00+07:00", "2026-12-01T10:00:00+23:00",
        "2026-12-01T10:00:00 23:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00",
        "-1", "0", "1e309", "NaN", "99999999999999999999", "open,closed,\x00", "'; --",
        "<x>&amp;", "😀" * 50, "x" * 5000, "+6281234567890", "today", "yesterday",
    ]
)  # fmt: skip
TEXT = st.one_of(NASTY, st.text(st.characters(exclude_categories=("Cs",)), max_size=40))
PARAMS = st.dictionaries(
    st.one_of(
        st.sampled_from(
            [
                "service_code",
                "service_request_id",
                "status",
                "start_date",
                "end_date",
                "api_key",
                "lat",
                "long",
                "address_string",
                "description",
                "email",
                "phone",
                "first_name",
                "media_url",
                "q",
                "day",
                "since",
                "until",
                "category",
                "kecamatan",
                "priority",
                "wall",
                "agency",
                "saved",
            ]
        ),
        TEXT,
    ),
    TEXT,
    max_size=6,
)
JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def no_server_error(response, what) -> None:
    assert response.status_code < 500, (what, response.status_code, response.content[:300])


# --- Open311 -------------------------------------------------------------------------------------


@pytest.fixture
def app(city):
    return Open311Client.objects.create(name="LAPOR! Semarang", code="lapor")


OPEN311_PATHS = st.sampled_from(
    ["requests", "services", "discovery", "services/pju_padam", "requests/LAP-20261204-0001"]
)


@FUZZ
@given(path=OPEN311_PATHS, fmt=st.sampled_from(["json", "xml"]), params=PARAMS)
def test_open311_get(app, path, fmt, params):
    response = Client().get(f"/open311/v2/{path}.{fmt}", params)
    no_server_error(response, params)


@FUZZ
@given(fmt=st.sampled_from(["json", "xml"]), params=PARAMS, keyed=st.booleans())
def test_open311_post(app, fmt, params, keyed):
    form = {"service_code": "pju_padam", "lat": "-6.99", "long": "110.42", **params}
    if keyed:
        form["api_key"] = app.api_key
    response = Client().post(f"/open311/v2/requests.{fmt}", urlencode(form), content_type=FORM)
    no_server_error(response, form)


@FUZZ
@given(segment=TEXT, fmt=st.sampled_from(["json", "xml"]))
def test_open311_path_parts(app, segment, fmt):
    for path in ("requests", "services"):
        url = f"/open311/v2/{path}/{segment.replace('/', '')}.{fmt}"
        no_server_error(Client().get(url), url)


# --- EIDO import ---------------------------------------------------------------------------------


def _paths(value, prefix=()):
    """Every place in a JSON document, as a tuple of keys and indexes."""
    yield prefix
    if isinstance(value, dict | list):
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            yield from _paths(item, (*prefix, key))


@FUZZ
@given(data=st.data())
def test_eido_import(full_report, peer, data):
    document = copy.deepcopy(eido.export(full_report))
    places = [p for p in _paths(document) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        *parent, last = data.draw(st.sampled_from(places))
        target = document
        try:
            for key in parent:
                target = target[key]
            target[last] = data.draw(JSON_VALUE)
        except (KeyError, IndexError, TypeError):  # an earlier change took the place away
            continue
    response = eido_client(peer).post(
        "/api/v1/eido/", json.dumps(document), content_type="application/json"
    )
    no_server_error(response, document)


# --- Telephony: AML and call events --------------------------------------------------------------


@pytest.fixture
def pbx(db):
    token = Token.objects.create(user=TelephonyFactory())
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


@FUZZ
@given(body=st.one_of(
    st.builds(lambda sms, sender: {"sms": sms, "sender": sender},
              st.one_of(TEXT, TEXT.map(lambda t: GNSS[:40] + t + GNSS[40:])), TEXT),
    st.builds(lambda extra: {**HTTPS_FORM, **extra}, st.dictionaries(TEXT, TEXT, max_size=3)),
    st.dictionaries(st.sampled_from(list(HTTPS_FORM)), TEXT, max_size=5),
))  # fmt: skip
def test_aml(pbx, body):
    as_json = pbx.post("/api/v1/aml/", json.dumps(body), content_type="application/json")
    no_server_error(as_json, body)
    as_form = pbx.post("/api/v1/aml/", urlencode(body), content_type=FORM)
    no_server_error(as_form, body)
    if isinstance(body.get("sms"), str):
        plain = pbx.post("/api/v1/aml/?" + urlencode({"sender": body["sender"]}),
                         body["sms"].encode(), content_type="text/plain")  # fmt: skip
        no_server_error(plain, body)


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {"call_id": TEXT, "event": st.one_of(st.sampled_from(["ringing", "answered", "ended"]),
                                             TEXT)},
        optional={"caller_phone": TEXT, "extension": TEXT, "at": TEXT},
    )
)  # fmt: skip
def test_telephony_events(pbx, body):
    as_json = pbx.post("/api/v1/telephony/events/", json.dumps(body), "application/json")
    no_server_error(as_json, body)
    as_form = pbx.post("/api/v1/telephony/events/", urlencode(body), content_type=FORM)
    no_server_error(as_form, body)
    assert as_form.status_code != 415


# --- Pages that read a query string --------------------------------------------------------------

PAGES = {
    "agency": ["/agency/", "/agency/history/", "/agency/handover/", "/map/", "/board/"],
    "command": [
        "/console/", "/performance/", "/performance/agency/damkar/", "/performance/export.csv",
        "/performance/export.xlsx", "/performance/answering.csv",
        "/performance/assignments.csv", "/map/", "/board/",
    ],
}  # fmt: skip


@pytest.fixture
def signed_in(staff_of, supervisor):
    agency, command = Client(), Client()
    agency.force_login(staff_of("damkar"))
    command.force_login(supervisor)
    return {"agency": agency, "command": command}


@FUZZ
@given(data=st.data(), params=PARAMS)
def test_pages(signed_in, data, params):
    who = data.draw(st.sampled_from(sorted(PAGES)))
    path = data.draw(st.sampled_from(PAGES[who]))
    response = signed_in[who].get(path, params)
    no_server_error(response, (path, params))
    if response.get("Content-Type", "").startswith("text/html"):
        page = response.content.decode()
        for leak in ("Traceback", "Exception Value", "ValueError", "OverflowError"):
            assert leak not in page, (path, params)
