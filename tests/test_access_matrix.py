"""The access matrix (issue 7 §1): every API endpoint, page and live event × every role, in
one table. Each cell is its own test against a fresh database, so a changed cell fails by
name; `test_every_route_is_in_the_matrix` fails when a route is added without a row.

Roles (columns, in this order):
  anon      no credentials
  inactive  a deactivated operator whose session still exists
  norole    signed in, active, no group and no agency
  oper      operator                    super  supervisor
  assigned  staff of an agency on the report (Dishub)
  other     staff of an agency not on it (Damkar)
  left      staff of an agency that was on it and rejected (Polrestabes, issue 20 §2)
  field     Dishub's field officer, signed on to DSH-01: the unit `{assignment}` is dispatched
            with (SPEC §7); before that step the report is not theirs, nor after it is
            finished unless they took a step of it themselves (SPEC §13)
  tel       the phone system's service account (SPEC §9): posts call events and AML, reads nothing

The report under test is a traffic jam (kemacetan → Dishub + Polrestabes) logged by an
operator; `{assignment}` is Dishub's assignment on it, walked to the state each action needs;
Polrestabes has rejected its own. `{unit}` is DSH-01. API cells are HTTP statuses; page cells are statuses (302 =
to the login page); live-event cells say what the role's websocket receives: `full` (with the
caller's number), `masked` (number masked), `withheld` (no caller at all: an agency that left
the report), `-` (nothing), `4401` (refused at connect); `a+b` for both kinds.
"""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token

from agencies.models import Kecamatan, Unit
from agencies.seed import seed_configuration
from dispatch112.asgi import application
from reports import services
from reports.models import Assignment, Event, Report

from .conftest import FAST_PASSWORD_HASHERS
from .factories import (
    OperatorFactory,
    SupervisorFactory,
    TelephonyFactory,
    UserFactory,
    field_officer_of,
    new_report,
    staff_of,
    unit_of,
)
from .test_events_consumer import run as run_until_settled
from .waiting import received_until_quiet

ROLES = ["anon", "inactive", "norole", "oper", "super", "assigned", "other", "left", "field", "tel"]
PHONE = "+6281234567890"


def cells(row: str) -> dict[str, str]:
    values = row.split()
    assert len(values) == len(ROLES), row
    return dict(zip(ROLES, values, strict=True))


# --- API -------------------------------------------------------------------------------------------
# (method, url name, path, body, state of {assignment} first) → "anon inactive norole oper super
# assigned other left"
A = "/api/v1/assignments/{assignment}"
R = "/api/v1/reports/{report}"
U = "/api/v1/units/{unit}"
NEW_REPORT = {"caller_phone": "081299990000", "category": "banjir", "description": "Banjir",
              "address": "Jl. Kaligawe"}  # fmt: skip
API = [
    # Configuration: every desk role reads it. (A method a resource does not have is 405 before
    # any lookup, for every role allowed in: it reveals nothing.) The field app needs none of it.
    ("GET", "agency-list", "/api/v1/agencies/", None, None,           "401 401 403 200 200 200 200 200 403 403"),
    ("GET", "agency-detail", "/api/v1/agencies/dishub/", None, None,  "401 401 403 200 200 200 200 200 403 403"),
    ("GET", "category-list", "/api/v1/categories/", None, None,       "401 401 403 200 200 200 200 200 403 403"),
    ("GET", "category-detail", "/api/v1/categories/banjir/", None, None, "401 401 403 200 200 200 200 200 403 403"),
    ("GET", "kecamatan-list", "/api/v1/kecamatan/", None, None,       "401 401 403 200 200 200 200 200 403 403"),
    ("GET", "kecamatan-detail", "/api/v1/kecamatan/genuk/", None, None, "401 401 403 200 200 200 200 200 403 403"),
    ("POST", "agency-list", "/api/v1/agencies/", {"code": "x"}, None, "401 401 403 405 405 405 405 405 403 403"),
    ("DELETE", "category-detail", "/api/v1/categories/banjir/", None, None, "401 401 403 405 405 405 405 405 403 403"),
    # Reports: created by operators; staff see their agencies' only (others 404); a field
    # officer only those their unit was dispatched to.
    ("GET", "report-list", "/api/v1/reports/", None, None,            "401 401 403 200 200 200 200 200 200 403"),
    # Searching by number would unmask a masked one by guessing (issue 20 §1).
    ("GET", "report-list", "/api/v1/reports/?phone=081234567890", None, None,
                                                                      "401 401 403 200 200 403 403 403 403 403"),
    ("POST", "report-list", "/api/v1/reports/", NEW_REPORT, None,     "401 401 403 201 403 403 403 403 403 403"),
    ("GET", "report-detail", R + "/", None, None,                     "401 401 403 200 200 200 404 200 404 403"),
    ("GET", "report-detail", R + "/", None, "dispatched",             "401 401 403 200 200 200 404 200 200 403"),
    # A field officer: what their unit serves now and what they did themselves, never what
    # the unit served before (another crew, or the desk, finished it; issue 33 finding 4).
    ("GET", "report-detail", R + "/", None, "resolved",               "401 401 403 200 200 200 404 200 404 403"),
    ("GET", "report-detail", R + "/", None, "resolved by the field",  "401 401 403 200 200 200 404 200 200 403"),
    ("PUT", "report-detail", R + "/", NEW_REPORT, None,               "401 401 403 405 405 405 405 405 405 403"),
    ("DELETE", "report-detail", R + "/", None, None,                  "401 401 403 405 405 405 405 405 405 403"),
    ("POST", "report-close", R + "/close/", {"reason": "resolved"}, None, "401 401 403 200 403 403 404 403 404 403"),
    ("POST", "report-close", R + "/close/", {"reason": "resolved"}, "dispatched",
                                                                      "401 401 403 200 403 403 404 403 403 403"),
    ("GET", "report-messages", R + "/messages/", None, None,          "401 401 403 200 200 200 404 403 404 403"),
    ("POST", "report-messages", R + "/messages/", {"body": "Siap"}, "dispatched",
                                                                      "401 401 403 201 201 201 404 403 201 403"),
    # The operator steers an open report (SPEC §11): corrects it, adds an agency; whoever
    # may see the report reads its timeline.
    ("PATCH", "report-detail", R + "/", {"priority": 1}, None,        "401 401 403 200 403 403 404 403 404 403"),
    ("POST", "report-assignments", R + "/assignments/", {"agency": "satpolpp"}, None,
                                                                      "401 401 403 201 403 403 404 403 404 403"),
    ("GET", "report-events", R + "/events/", None, None,              "401 401 403 200 200 200 404 200 404 403"),
    ("GET", "report-events", R + "/events/", None, "dispatched",      "401 401 403 200 200 200 404 200 200 403"),
    ("GET", "report-duplicates", "/api/v1/reports/duplicates/?category=kemacetan", None, None,
                                                                      "401 401 403 200 200 403 403 403 403 403"),
    # Calls: the command centre only.
    ("GET", "call-list", "/api/v1/calls/", None, None,                "401 401 403 200 200 403 403 403 403 403"),
    ("POST", "call-list", "/api/v1/calls/", {"caller_phone": "0811111111", "outcome": "prank"},
                                                                None, "401 401 403 201 403 403 403 403 403 403"),
    ("GET", "call-history", "/api/v1/calls/history/?phone=081234567890", None, None,
                                                                      "401 401 403 200 200 403 403 403 403 403"),
    # Assignments: only the assigned agency acts (its field officer on its own unit's, in the
    # field's steps); the command centre reads all.
    ("GET", "assignment-list", "/api/v1/assignments/", None, None,    "401 401 403 200 200 200 200 200 200 403"),
    ("GET", "assignment-detail", A + "/", None, None,                 "401 401 403 200 200 200 404 404 404 403"),
    ("GET", "assignment-detail", A + "/", None, "dispatched",         "401 401 403 200 200 200 404 404 200 403"),
    ("GET", "assignment-detail", A + "/", None, "resolved",           "401 401 403 200 200 200 404 404 404 403"),
    ("GET", "assignment-detail", A + "/", None, "resolved by the field", "401 401 403 200 200 200 404 404 200 403"),
    ("PATCH", "assignment-detail", A + "/", {"status": "resolved"}, None, "401 401 403 405 405 405 405 405 405 403"),
    # An operator may record a step an agency reported by radio; a supervisor only watches.
    ("POST", "assignment-acknowledge", A + "/acknowledge/", {}, None, "401 401 403 200 403 200 404 404 404 403"),
    ("POST", "assignment-dispatch", A + "/dispatch/", {"eta_minutes": 5, "unit": "DSH-01"},
                                                       "acknowledged", "401 401 403 200 403 200 404 404 404 403"),
    ("GET", "assignment-units", A + "/units/", None, None,            "401 401 403 200 200 200 404 404 403 403"),
    ("POST", "assignment-depart", A + "/depart/", {}, "dispatched",   "401 401 403 200 403 200 404 404 200 403"),
    ("POST", "assignment-arrive", A + "/arrive/", {}, "dispatched",   "401 401 403 200 403 200 404 404 200 403"),
    ("POST", "assignment-resolve", A + "/resolve/", {}, "arrived",    "401 401 403 200 403 200 404 404 200 403"),
    ("POST", "assignment-reject", A + "/reject/", {"reason": "Bukan"}, None, "401 401 403 200 403 200 404 404 404 403"),
    ("POST", "assignment-reject", A + "/reject/", {"reason": "Bukan"}, "dispatched",
                                                                      "401 401 403 409 403 409 404 404 403 403"),
    # Only an operator takes an agency off a report, with the reason it is told.
    ("POST", "assignment-cancel", A + "/cancel/", {"reason": "Salah kirim"}, None,
                                                                      "401 401 403 200 403 403 404 404 404 403"),
    ("POST", "assignment-cancel", A + "/cancel/", {"reason": "Salah kirim"}, "dispatched",
                                                                      "401 401 403 200 403 403 404 404 403 403"),
    # Units (SPEC §7): the command centre reads all; an agency manages its own; a field
    # officer signs on to one of them and moves it.
    ("GET", "unit-list", "/api/v1/units/", None, None,                "401 401 403 200 200 200 200 200 200 403"),
    # A filter's control characters or unknown values: a 400 naming it, never a 500 (issue 33).
    ("GET", "unit-list", "/api/v1/units/?status=%00", None, None,     "401 401 403 400 400 400 400 400 400 403"),
    ("POST", "unit-list", "/api/v1/units/", {"call_sign": "X-09", "kind": "crew"}, None,
                                                                      "401 401 403 403 403 201 201 201 403 403"),
    ("GET", "unit-detail", U + "/", None, None,                       "401 401 403 200 200 200 404 404 200 403"),
    ("PATCH", "unit-detail", U + "/", {"kind": "tow_truck"}, None,    "401 401 403 403 403 200 404 404 403 403"),
    ("DELETE", "unit-detail", U + "/", None, None,                    "401 401 403 405 405 405 405 405 405 403"),
    ("POST", "unit-sign-on", U + "/sign-on/", {}, None,               "401 401 403 403 403 403 404 404 200 403"),
    ("POST", "unit-sign-off", U + "/sign-off/", {}, None,             "401 401 403 403 403 403 404 404 200 403"),
    ("POST", "unit-status", U + "/status/", {"status": "out_of_service"}, None,
                                                                      "401 401 403 403 403 200 404 404 200 403"),
    ("POST", "unit-position", U + "/position/", {"latitude": -6.99, "longitude": 110.42}, None,
                                                                      "401 401 403 403 403 204 404 404 204 403"),
    # Statistics: the command centre.
    ("GET", "agency-performance", "/api/v1/stats/agencies/", None, None, "401 401 403 200 200 403 403 403 403 403"),
    ("GET", "answering-stats", "/api/v1/stats/answering/", None, None, "401 401 403 200 200 403 403 403 403 403"),
    # Official warnings (CAP, SPEC §10): what the board and the console show.
    ("GET", "cap-alerts", "/api/v1/alerts/", None, None,          "401 401 403 200 200 403 403 403 403 403"),
    # Handover between 112 centres (EIDO, SPEC §10): the command centre reads a report's EIDO
    # (it carries the caller); an operator hands over (no peer is configured here: 400). Only
    # a peer centre's own token imports: no session of any role does.
    ("GET", "peer-centres", "/api/v1/centres/", None, None,          "401 401 403 200 200 403 403 403 403 403"),
    ("GET", "report-eido", R + "/eido/", None, None,                   "401 401 403 200 200 403 403 403 403 403"),
    ("POST", "report-handover", R + "/handover/", {"centre": "kendal"}, None,
                                                                      "401 401 403 400 403 403 403 403 403 403"),
    ("POST", "eido-import", "/api/v1/eido/", {"eidoMessageIdentifier": "x"}, None,
                                                                      "401 401 401 401 401 401 401 401 401 401"),
    # Open311 (SPEC §10): a city app's POST carries its api_key; no session stands in for it.
    ("POST", "open311-requests", "/open311/v2/requests.json", {"service_code": "pju_padam"}, None,
                                                                      "403 403 403 403 403 403 403 403 403 403"),
    # The phone system (SPEC §9): its service account posts call events and handset locations
    # (AML); it reads nothing, and nobody else may post them (a forged location would send a
    # unit to the wrong street).
    ("POST", "telephony-events", "/api/v1/telephony/events/",
     {"call_id": "1733300000.1", "event": "ringing", "caller_phone": "081234567890",
      "extension": "101"}, None,                                      "401 401 403 403 403 403 403 403 403 201"),
    # An abandoned call taken off the consoles: operators only (none in this world: 404).
    ("POST", "telephony-call-dismiss", "/api/v1/telephony/calls/x-1/dismiss/", {}, None,
                                                                      "401 401 403 404 403 403 403 403 403 403"),
    ("POST", "aml", "/api/v1/aml/",
     {"v": "1", "emergency_number": "112", "device_number": "+6281234567890",
      "location_latitude": "-6.9667", "location_longitude": "110.4167",
      "location_accuracy": "25", "location_source": "GPS"}, None,
                                                                      "401 401 403 403 403 403 403 403 403 201"),
    # Web Push on a device (SPEC §12): the people whose work comes to them — agency staff and
    # field officers — hand in their browser's subscription and read the key to make it; the
    # desk's service worker is public like the field app's.
    ("GET", "push-key", "/api/v1/push/key/", None, None,             "401 401 403 403 403 200 200 200 200 403"),
    ("POST", "push-subscriptions", "/api/v1/push/subscriptions/",
     {"endpoint": "https://fcm.googleapis.com/fcm/send/matrix-1",
      "keys": {"p256dh": "BD4pywApjh1uyKqUyn98E6-6waF57OZVzQzwFuBayGa81VqeHgzN15En39HRI6M_wjIzLScUpz6ecLkG13zLkg8",
               "auth": "ZwSdUEJ-vDKINvo5uBoaiA"}}, None,          "401 401 403 403 403 201 201 201 201 403"),
    ("DELETE", "push-subscriptions", "/api/v1/push/subscriptions/",
     {"endpoint": "https://fcm.googleapis.com/fcm/send/matrix-1"}, None,
                                                                      "401 401 403 403 403 204 204 204 204 403"),
    ("GET", "push-worker", "/api/v1/push/worker.js", None, None,     "200 200 200 200 200 200 200 200 200 200"),
    # Signing in and out; the schema and its docs are public (no data in them).
    ("POST", "api-token", "/api/v1/auth/token/", "own credentials", None, "400 400 200 200 200 200 200 200 200 200"),
    ("POST", "api-logout", "/api/v1/auth/logout/", None, None,       "401 401 204 204 204 204 204 204 204 204"),
    # Prometheus (SPEC §12): by address or token, not by role; the test client is 127.0.0.1,
    # in METRICS_ALLOWED_IPS by default (tests/test_metrics.py: other addresses get 403).
    ("GET", "metrics", "/metrics", None, None,                       "200 200 200 200 200 200 200 200 200 200"),
    ("GET", "schema", "/api/schema/", None, None,                     "200 200 200 200 200 200 200 200 200 200"),
]  # fmt: skip

# --- Pages -----------------------------------------------------------------------------------------
PAGES = [
    ("home", "/",                                           "302 302 200 302 302 302 302 302 302 200"),
    ("console", "/console/",                                "302 302 403 200 403 403 403 403 403 403"),
    ("agency-dashboard", "/agency/",                        "302 302 403 403 403 200 200 200 403 403"),
    ("agency-history", "/agency/history/",                  "302 302 403 403 403 200 200 200 200 403"),
    ("agency-history", "/agency/history/?q=%00",            "302 302 403 403 403 400 400 400 400 403"),
    ("agency-handover", "/agency/handover/",                "302 302 403 403 403 200 200 200 403 403"),
    ("field", "/field/",                                    "302 302 403 403 403 403 403 403 200 403"),
    ("field-sw", "/field/sw.js",                            "200 200 200 200 200 200 200 200 200 200"),
    ("field-manifest", "/field/manifest.webmanifest",       "200 200 200 200 200 200 200 200 200 200"),
    ("board", "/board/",                                    "302 302 403 200 200 403 403 403 403 403"),
    ("live-map", "/map/",                                   "302 302 403 200 200 200 200 200 403 403"),
    ("performance", "/performance/",                        "302 302 403 200 200 403 403 403 403 403"),
    ("performance-agency", "/performance/agency/dishub/",   "302 302 403 200 200 403 403 403 403 403"),
    ("performance-csv", "/performance/export.csv",          "302 302 403 200 200 403 403 403 403 403"),
    ("performance-xlsx", "/performance/export.xlsx",        "302 302 403 200 200 403 403 403 403 403"),
    ("performance-answering-csv", "/performance/answering.csv", "302 302 403 200 200 403 403 403 403 403"),
    ("performance-assignments-csv", "/performance/assignments.csv", "302 302 403 200 200 403 403 403 403 403"),
    ("performance-assignments-xlsx", "/performance/assignments.xlsx", "302 302 403 200 200 403 403 403 403 403"),
    ("status", "/status/",                                  "302 302 403 200 200 403 403 403 403 403"),
    # Open311 GeoReport v2 (SPEC §10): public reading, as the format intends; only what came
    # through Open311, without submitters (the report under test is a call: never there).
    ("open311-root", "/open311/v2/",                        "200 200 200 200 200 200 200 200 200 200"),
    ("open311-discovery", "/open311/v2/discovery.json",     "200 200 200 200 200 200 200 200 200 200"),
    ("open311-services", "/open311/v2/services.xml",        "200 200 200 200 200 200 200 200 200 200"),
    ("open311-service", "/open311/v2/services/pju_padam.json", "200 200 200 200 200 200 200 200 200 200"),
    ("open311-requests", "/open311/v2/requests.json",       "200 200 200 200 200 200 200 200 200 200"),
    ("open311-request", "/open311/v2/requests/LAP-20261204-0001.json", "404 404 404 404 404 404 404 404 404 404"),
    ("api-docs", "/api/docs/",                              "200 200 200 200 200 200 200 200 200 200"),
    ("javascript-catalog", "/jsi18n/",                      "200 200 200 200 200 200 200 200 200 200"),
    ("healthz", "/healthz",                                 "200 200 200 200 200 200 200 200 200 200"),
    # Public like /healthz; 503 here: no escalation sweep has run in this world.
    ("readyz", "/readyz",                                   "503 503 503 503 503 503 503 503 503 503"),
    ("favicon", "/favicon.ico",                             "301 301 301 301 301 301 301 301 301 301"),
    ("login", "/accounts/login/",                           "200 200 302 302 302 302 302 302 302 302"),
    ("logout", "/accounts/logout/",                         "302 302 302 302 302 302 302 302 302 302"),
    ("set_language", "/i18n/setlang/",                      "302 302 302 302 302 302 302 302 302 302"),
    ("admin", "/admin/",                                    "302 302 302 302 302 302 302 302 302 302"),
    ("admin", "/admin/reports/event/",                      "302 302 302 302 302 302 302 302 302 302"),
]  # fmt: skip
POST_PAGES = {"logout", "set_language"}  # the others are GET

# --- Live events ---------------------------------------------------------------------------------
# What each role's /ws/events/ receives when the step happens (SPEC §5).
# A new kemacetan report is logged, Polrestabes rejects it, Dishub acknowledges and writes in
# the chat, Dishub's desk reports the card seen, the first report's Dishub assignment
# escalates and is flagged unheard, the operator closes the new report
# (cancelling Dishub's open assignment: Dishub leaves it too), then each socket resumes.
EVENTS = [
    ("connect: snapshot of the report's assignments",   "4401 4401 4401 full full masked - - - 4401"),
    ("report.created (report.updated)",                 "4401 4401 4401 full full masked - masked - 4401"),
    ("assignment.created ×2",                           "4401 4401 4401 full full masked - masked - 4401"),
    ("assignment.rejected by Polrestabes",              "4401 4401 4401 full full masked - withheld - 4401"),
    ("assignment.acknowledged (assignment.updated)",    "4401 4401 4401 full full masked - - - 4401"),
    ("assignment.dispatched with DSH-01",               "4401 4401 4401 full full masked - - masked 4401"),
    ("message.created",                                 "4401 4401 4401 full full masked - - masked 4401"),
    # Receipts (SPEC §12): Dishub's desk has the card on screen.
    ("assignment.seen (assignment.updated)",            "4401 4401 4401 full full masked - - masked 4401"),
    ("assignment.escalated",                            "4401 4401 4401 full full masked - - - 4401"),
    # Nobody's screen at Dishub showed the first report's assignment: the command centre alone.
    ("assignment.unheard",                              "4401 4401 4401 full full - - - - 4401"),
    ("report.closed: Dishub's assignment cancelled",    "4401 4401 4401 full full withheld - - withheld 4401"),
    ("resume after the last event seen",                "4401 4401 4401 full full masked+withheld - withheld withheld 4401"),
]  # fmt: skip


# --- Fixtures -----------------------------------------------------------------------------------------


def build_world() -> dict:
    """The people, the unit and the report of the module's docstring."""
    seed_configuration()
    dishub, polrestabes = staff_of("dishub"), staff_of("polrestabes")
    unit = unit_of(
        "dishub", "DSH-01", kind="patrol_car",
        home_kecamatan=Kecamatan.objects.get(code="semarang_tengah"),
    )  # fmt: skip
    operator = OperatorFactory()
    users = {
        "anon": None,
        "inactive": OperatorFactory(),
        "norole": UserFactory(),
        "oper": operator,
        "super": SupervisorFactory(),
        "assigned": dishub,
        "other": staff_of("damkar"),
        "left": polrestabes,
        "field": field_officer_of("dishub", unit=unit),
        "tel": TelephonyFactory(),
    }
    report = new_report(operator=operator, caller_phone=PHONE)
    services.assignment_reject(
        assignment=report.assignments.get(agency__code="polrestabes"),
        actor=polrestabes,
        reason="Bukan wewenang",
    )
    return {
        "users": users,
        "report": report,
        "assignment": report.assignments.get(agency__code="dishub"),
        "unit": unit,
    }


@pytest.fixture
def world(db):
    """A world of the test's own (the live events commit theirs)."""
    return build_world()


@pytest.fixture(scope="class")
def world_of_the_class(django_db_setup, django_db_blocker):
    """The world, built once for a class of cells in a transaction that is rolled back after
    the class; each cell runs in a savepoint of it (the `db` fixture), rolled back after the
    cell. What each cell sees is what a world of its own would show, at a fraction of the
    cost (building it was most of the module's time)."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS),
        transaction.atomic(),
    ):
        built = build_world()
        yield {
            "users": {role: user and user.pk for role, user in built["users"].items()},
            "report": built["report"].pk,
            "assignment": built["assignment"].pk,
            "unit": built["unit"].pk,
        }
        transaction.set_rollback(True)


@pytest.fixture
def shared_world(world_of_the_class, db):
    """The class's world, read afresh: the cell before this one changed rows in memory."""
    ids = world_of_the_class
    users = get_user_model().objects.in_bulk([pk for pk in ids["users"].values() if pk])
    return {
        "users": {role: users.get(pk) for role, pk in ids["users"].items()},
        "report": Report.objects.get(pk=ids["report"]),
        "assignment": Assignment.objects.get(pk=ids["assignment"]),
        "unit": Unit.objects.get(pk=ids["unit"]),
    }


def client_for(world, role: str, **kwargs) -> Client:
    client = Client(**kwargs)
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    if role == "inactive":  # deactivated after signing in: the session must stop working
        user.is_active = False
        user.save(update_fields=["is_active"])
    return client


WALK = {
    "acknowledged": ["acknowledge"],
    "dispatched": ["acknowledge", "dispatch"],
    "arrived": ["acknowledge", "dispatch", "arrive"],
    "resolved": ["acknowledge", "dispatch", "arrive", "resolve"],
    # The field officer's own steps (the others are the desk's).
    "resolved by the field": ["acknowledge", "dispatch", "field:arrive", "field:resolve"],
}


def walk(world, state: str | None) -> None:
    for step in WALK.get(state, []):
        role, _, step = step.rpartition(":")
        extra = {"eta_minutes": 5, "unit": "DSH-01"} if step == "dispatch" else {}
        getattr(services, f"assignment_{step}")(
            assignment=world["assignment"], actor=world["users"][role or "assigned"], **extra
        )


# --- API and pages -----------------------------------------------------------------------------------


def api_cases():
    for method, _name, path, body, state, row in API:
        for role, status in cells(row).items():
            yield pytest.param(method, path, body, state, role, int(status),
                               id=f"{method} {path} · {role}")  # fmt: skip


def check_api(world, method, path, body, state, role, status):
    walk(world, state)
    client = client_for(world, role)
    url = path.format(
        report=world["report"].pk, assignment=world["assignment"].pk, unit=world["unit"].pk
    )
    if body == "own credentials":
        user = world["users"][role]
        body = {"username": user.username, "password": "secret-112"} if user else {}
    data = json.dumps(body) if body is not None else None
    response = client.generic(method, url, data or "", content_type="application/json")
    assert response.status_code == status, response.content[:300]


def page_cases():
    for name, path, row in PAGES:
        for role, status in cells(row).items():
            yield pytest.param(name, path, role, int(status), id=f"{path} · {role}")


def check_page(world, name, path, role, status):
    client = client_for(world, role)
    if name in POST_PAGES:
        response = client.post(path, {"language": "id", "next": "/"})
    else:
        response = client.get(path)
    assert response.status_code == status, response.content[:300]
    if status == 302 and name not in POST_PAGES | {"home", "login"}:
        assert "login" in response["Location"], response["Location"]


class TestCells:
    """The API and page cells: one world for all of them (`world_of_the_class`)."""

    @pytest.mark.parametrize(("method", "path", "body", "state", "role", "status"), api_cases())
    def test_api(self, shared_world, method, path, body, state, role, status):
        check_api(shared_world, method, path, body, state, role, status)

    @pytest.mark.parametrize(("name", "path", "role", "status"), page_cases())
    def test_page(self, shared_world, name, path, role, status):
        check_page(shared_world, name, path, role, status)


# --- Live events -----------------------------------------------------------------------------------


def observe_live(world, role: str) -> list[str]:
    """What `role`'s websocket gets through the steps of EVENTS, one value per step."""
    from notifications.consumers import UNAUTHENTICATED
    from reports.escalation import assignments_escalate_unacknowledged
    from reports.services.receipts import assignment_seen

    client = client_for(world, role)
    headers = [(b"origin", b"http://testserver")]
    if "sessionid" in client.cookies:
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    users, operator = world["users"], world["users"]["oper"]
    steps: list[str] = []

    def verdict(messages) -> str:
        reports = [m["report"] for m in messages if m.get("report")]
        reports += [a["report"] for m in messages for a in m.get("assignments", [])]
        if not reports:
            return "-"
        return "+".join(
            sorted({seen(r) for r in reports}, key=["full", "masked", "withheld"].index)
        )

    def seen(report) -> str:
        if report["caller_withheld"]:
            assert report["caller_phone"] == report["caller_name"] == "", report
            return "withheld"
        if report["caller_phone"] == PHONE:
            return "full"
        assert report["caller_phone_masked"] and report["caller_phone"] != PHONE, report
        return "masked"

    async def drain(socket) -> list[dict]:
        """Everything the step sent: waits up to 1 s for a first message, then reads until
        the socket is quiet for 0.2 s."""
        return await received_until_quiet(socket, 0.2, first=1.0)

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/events/", headers=headers)
        await socket.connect()
        first = await socket.receive_output(timeout=2)
        if first["type"] == "websocket.close":
            assert first["code"] == UNAUTHENTICATED
            steps.extend(["4401"] * len(EVENTS))
            return
        snapshot = json.loads(first["text"])
        snapshot["assignments"] = [
            a for a in snapshot["assignments"] if a["report"]["id"] == world["report"].pk
        ]
        steps.append(verdict([snapshot]))
        run = database_sync_to_async
        new = await run(services.report_create)(
            operator=operator, caller_phone=PHONE, category="kemacetan",
            description="Macet lagi", address="Jl. Pemuda", priority=1,
        )  # fmt: skip
        got = await drain(socket)
        steps.append(verdict([m for m in got if m["type"] == "report.updated"]))
        steps.append(verdict([m for m in got if m["type"] == "assignment.created"]))
        rejected = await run(lambda: new.assignments.get(agency__code="polrestabes"))()
        await run(services.assignment_reject)(
            assignment=rejected, actor=users["left"], reason="Bukan wewenang"
        )
        steps.append(verdict(await drain(socket)))
        assignment = await run(lambda: new.assignments.get(agency__code="dishub"))()
        await run(services.assignment_acknowledge)(assignment=assignment, actor=users["assigned"])
        steps.append(verdict(await drain(socket)))
        await run(services.assignment_dispatch)(
            assignment=assignment, actor=users["assigned"], unit="DSH-01", eta_minutes=7
        )
        steps.append(verdict(await drain(socket)))
        await run(services.message_post)(author=users["assigned"], report=new, body="Meluncur")
        steps.append(verdict(await drain(socket)))
        await run(assignment_seen)(users["assigned"], assignment.pk)
        steps.append(verdict(await drain(socket)))
        await run(_escalate_now)(assignments_escalate_unacknowledged)
        steps.append(verdict(await drain(socket)))
        await run(_unheard_now)()
        steps.append(verdict(await drain(socket)))
        await run(services.report_close)(actor=operator, report=new, reason="resolved")
        steps.append(verdict(await drain(socket)))
        last_seen = await run(lambda: Event.objects.filter(report=world["report"]).first().pk)()
        await socket.send_json_to({"type": "resume", "last_event_id": last_seen})
        replayed = [m for m in await drain(socket) if m.get("event_id", 0) > last_seen]
        steps.append(verdict(replayed))
        await socket.disconnect()

    run_until_settled(scenario)
    return steps


def _unheard_now():
    from datetime import timedelta

    from django.utils import timezone

    from reports.escalation import assignments_flag_unheard

    assert assignments_flag_unheard(now=timezone.now() + timedelta(seconds=20))


def _escalate_now(escalate):
    from datetime import timedelta

    from django.utils import timezone

    return escalate(now=timezone.now() + timedelta(hours=1))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ROLES)
def test_live_events(world, role):
    expected = [cells(row)[role] for _, row in EVENTS]
    observed = observe_live(world, role)
    assert dict(zip([step for step, _ in EVENTS], observed, strict=True)) == dict(
        zip([step for step, _ in EVENTS], expected, strict=True)
    )


# --- Completeness -------------------------------------------------------------------------------------


def _route_names(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                yield "admin"  # Django's admin: staff-only as a whole (rows above)
                continue
            yield from _route_names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name


def test_every_route_is_in_the_matrix():
    routes = set(_route_names(get_resolver().url_patterns))
    covered = {name for _, name, *_ in API} | {name for name, *_ in PAGES}
    assert routes - covered == set(), "routes without a row in the access matrix"
    assert covered - routes == set(), "rows for routes that no longer exist"


def test_the_matrix_size():
    """Printed in the issue note: how many cells the module checks."""
    size = (len(API) + len(PAGES) + len(EVENTS)) * len(ROLES)
    assert size == 1210


def test_token_and_session_agree(world, no_rate_limits):
    """The API cells above use sessions; a token for the same user gets the same answers.
    (Two requests per route, at machine speed: a user's burst limit would answer some 429.)"""
    for role in ("oper", "assigned", "other", "left", "field"):
        token = Token.objects.create(user=world["users"][role])
        by_token = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
        by_session = client_for(world, role)
        for method, _, path, *_ in API:
            if method != "GET":
                continue
            url = path.format(
                report=world["report"].pk, assignment=world["assignment"].pk, unit=world["unit"].pk
            )
            assert by_token.get(url).status_code == by_session.get(url).status_code, (role, url)
