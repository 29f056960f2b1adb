"""Reports (SPEC §4): create (operators), list and detail (agency staff: their agency's only,
others 404), close (operators), possible duplicates (command centre)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agencies.models import Category
from reports import services
from reports.models import Assignment, Call, Event, Report

from .helpers import counts, expect

URL = "/api/v1/reports/"
VALID = {
    "caller_name": "Siti Aminah",
    "caller_phone": "0812-3456-7890",
    "category": "kebakaran",
    "description": "Rumah terbakar, asap tebal",
    "address": "Jl. Pandanaran 12",
}


def detail(report) -> str:
    return f"{URL}{report.pk}/"


def close_url(report) -> str:
    return f"{URL}{report.pk}/close/"


def by_agency(assignments) -> dict[str, str]:
    return {a["agency"]: a["status"] for a in assignments}


# --- Create -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    expect(
        {
            "anonymous": 401,
            "inactive": 401,
            "no_role": 403,
            "operator": 201,
            "supervisor": 403,
            "assigned_staff": 403,
            "other_staff": 403,
        }
    ),
)
def test_only_operators_create_reports(client_as, role, status):
    client = client_as(role)
    before = counts()
    response = client.post(URL, VALID)
    assert response.status_code == status
    if status == 201:
        assert Report.objects.count() == before["Report"] + 1
    else:
        assert "detail" in response.json()
        assert counts() == before


def test_an_operator_creates_a_report_with_its_assignments(api, operator, city):
    response = api.post(
        URL,
        {
            **VALID,
            "kecamatan": "semarang_tengah",
            "latitude": -6.9932,
            "longitude": 110.4203,
            "priority": 1,
        },
    )
    assert response.status_code == 201
    body = response.json()
    report = Report.objects.get()
    assert body["id"] == report.pk
    assert body["number"] == report.number
    assert body["caller_phone"] == "+6281234567890"
    assert body["caller_name"] == "Siti Aminah"
    assert (body["category"], body["priority"], body["status"]) == ("kebakaran", 1, "open")
    assert body["kecamatan"] == "semarang_tengah"
    assert body["operator"] == operator.username
    assert body["close_reason"] == ""
    assert body["closed_at"] is None
    [assignment] = body["assignments"]
    stored = Assignment.objects.get()
    assert {k: assignment[k] for k in ("id", "agency", "status")} == {
        "id": stored.pk,
        "agency": "damkar",
        "status": "notified",
    }
    call = Call.objects.get()
    assert (call.outcome, call.report_id, call.caller_phone) == (
        "report",
        report.pk,
        "+6281234567890",
    )
    kinds = sorted(Event.objects.filter(report=report).values_list("kind", flat=True))
    assert kinds == ["assignment.created", "report.created"]


def test_the_201_body_is_the_report_as_a_fresh_read_shows_it(api, city):
    # The view answers with the report its live event carried (serialised once after the
    # commit); it must be exactly what reading the report back gives.
    response = api.post(URL, {**VALID, "agencies": ["damkar", "polrestabes", "dishub"]})
    assert response.status_code == 201
    body = response.json()
    assert len(body["assignments"]) == 3
    assert api.get(f"{URL}{body['id']}/").json() == body


def test_the_category_gives_the_default_priority_and_routing(api, city):
    body = api.post(URL, {**VALID, "category": "kecelakaan"}).json()
    assert body["priority"] == Category.objects.get(code="kecelakaan").default_priority
    assert by_agency(body["assignments"]) == {
        "polrestabes": "notified",
        "ambulans": "notified",
        "dishub": "notified",
    }
    assert len({a["id"] for a in body["assignments"]}) == 3


def test_explicit_agencies_replace_the_default_routing(api, city):
    response = api.post(URL, {**VALID, "category": "kemacetan", "agencies": ["dpu", "satpolpp"]})
    assert response.status_code == 201
    assert set(by_agency(response.json()["assignments"])) == {"dpu", "satpolpp"}
    report = Report.objects.get()
    assert set(report.assignments.values_list("agency__code", flat=True)) == {"dpu", "satpolpp"}


def test_null_agencies_mean_the_default_routing(api, city):
    response = api.post(URL, {**VALID, "agencies": None})
    assert response.status_code == 201
    assert set(by_agency(response.json()["assignments"])) == {"damkar"}


def test_received_at_is_kept(api, city):
    picked_up = (timezone.now() - timedelta(minutes=3)).replace(microsecond=0)
    response = api.post(URL, {**VALID, "received_at": picked_up.isoformat()})
    assert response.status_code == 201
    assert Report.objects.get().received_at == picked_up
    assert Call.objects.get().received_at == picked_up


LONG = "x" * 4001


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"caller_phone": None}, "caller_phone"),
        ({"caller_phone": "12345"}, "caller_phone"),
        ({"caller_phone": "+1 202"}, "caller_phone"),
        ({"category": "nope"}, "category"),
        ({"category": ""}, "category"),
        ({"category": ["kebakaran"]}, "category"),
        ({"description": ""}, "description"),
        ({"description": "   "}, "description"),
        ({"description": "Api\x00besar"}, "description"),
        ({"description": "Api \ud800 besar"}, "description"),
        ({"address": "Jl. \udfff"}, "address"),
        ({"description": LONG}, "description"),
        ({"caller_name": "Budi\x00"}, "caller_name"),
        ({"caller_name": "Budi\ud83d"}, "caller_name"),
        ({"category": "kebakaran\x00"}, "category"),
        ({"category": "\ud800"}, "category"),
        ({"kecamatan": "tugu\x00"}, "kecamatan"),
        ({"agencies": ["damkar\x00"]}, "agencies"),
        ({"agencies": ["\udc00"]}, "agencies"),
        ({"caller_name": "n" * 121}, "caller_name"),
        ({"address": ""}, "address"),
        ({"kecamatan": "atlantis"}, "kecamatan"),
        ({"priority": "abc"}, "priority"),
        ({"priority": 0}, "priority"),
        ({"priority": 4}, "priority"),
        ({"priority": 1.5}, "priority"),
        ({"priority": True}, "priority"),
        ({"priority": 10**30}, "priority"),
        ({"agencies": "dishub"}, "agencies"),
        ({"agencies": {"code": "dishub"}}, "agencies"),
        ({"agencies": []}, "agencies"),
        ({"agencies": ["nope"]}, "agencies"),
        ({"agencies": ["damkar", "nope"]}, "agencies"),
        ({"agencies": [None]}, "agencies"),
        ({"agencies": [{"code": "dishub"}]}, "agencies"),
        ({"agencies": ["dishub"] * 21}, "agencies"),
        ({"latitude": 999, "longitude": 110.4}, "latitude"),
        ({"latitude": -6.99, "longitude": 181}, "longitude"),
        ({"latitude": "abc", "longitude": 110.4}, "latitude"),
        ({"latitude": "NaN", "longitude": 110.4}, "latitude"),
        ({"latitude": -6.99}, "longitude"),
        ({"longitude": 110.4}, "latitude"),
        ({"received_at": "kemarin"}, "received_at"),
        ({"received_at": "2999-01-01T00:00:00+07:00"}, "received_at"),
    ],
)
def test_invalid_input_is_a_400_with_field_errors_and_saves_nothing(api, city, overrides, field):
    before = counts()
    payload = {**VALID, **overrides}
    response = api.post(URL, payload)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    messages = errors[field]
    if isinstance(messages, dict):  # a list's items are keyed by index
        messages = [m for item in messages.values() for m in item]
    assert messages
    assert all(isinstance(m, str) and m for m in messages)
    assert counts() == before


def test_missing_fields_are_all_reported_at_once(api, city):
    response = api.post(URL, {})
    assert response.status_code == 400
    assert set(response.json()) == {"caller_phone", "category", "description", "address"}
    assert counts() == dict.fromkeys(counts(), 0)


def test_service_errors_are_all_reported_at_once(api, city):
    response = api.post(
        URL,
        {**VALID, "caller_phone": "123", "category": "nope", "kecamatan": "atlantis"},
    )
    assert response.status_code == 400
    assert {"caller_phone", "category", "kecamatan"} <= set(response.json())


def test_the_other_category_needs_explicit_agencies(api, city):
    before = counts()
    response = api.post(URL, {**VALID, "category": "lainnya"})
    assert response.status_code == 400
    assert "agencies" in response.json()
    assert counts() == before
    response = api.post(URL, {**VALID, "category": "lainnya", "agencies": ["basarnas"]})
    assert response.status_code == 201
    assert by_agency(response.json()["assignments"]) == {"basarnas": "notified"}


@pytest.mark.parametrize(
    "body", ['{"caller_phone": ', "{'a': 1}", "", "NaN", '{"priority": NaN}', "\x00"]
)
def test_malformed_json_is_a_400(api, city, body):
    before = counts()
    response = api.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert counts() == before


@pytest.mark.parametrize("body", [[], [VALID], "text", 42, None])
def test_a_body_that_is_not_an_object_is_a_400(api, city, body):
    before = counts()
    response = api.post(URL, body)
    assert response.status_code == 400
    assert counts() == before


def test_an_unsupported_content_type_is_a_415(api, city):
    response = api.post(URL, "caller_phone=0812", content_type="text/plain")
    assert response.status_code == 415
    assert not Report.objects.exists()


def test_errors_are_in_indonesian_by_default(api, city):
    response = api.post(URL, {**VALID, "description": None, "priority": "abc"})
    assert response.status_code == 400
    errors = response.json()
    assert errors["description"] == ['Bidang ini tidak boleh diisi dengan "null".']
    assert errors["priority"] == ["Nilai bidang ini harus berupa bilangan bulat."]
    missing = api.post(URL, {}).json()
    assert missing["category"] == ["Bidang ini wajib diisi."]


def test_errors_are_in_english_on_request(api, city):
    response = api.post(
        URL, {**VALID, "description": None, "priority": "abc"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    errors = response.json()
    assert errors["description"] == ["This field may not be null."]
    assert errors["priority"] == ["A valid integer is required."]
    missing = api.post(URL, {}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert missing["category"] == ["This field is required."]


def test_service_errors_follow_the_language_too(api, city):
    indonesian = api.post(URL, {**VALID, "category": "lainnya"}).json()["agencies"]
    english = api.post(URL, {**VALID, "category": "lainnya"}, HTTP_ACCEPT_LANGUAGE="en").json()[
        "agencies"
    ]
    assert english == ["Category “Lainnya” has no default agencies: choose at least one."]
    assert indonesian != english


# --- List and detail --------------------------------------------------------------------------


@pytest.fixture
def two_reports(make_report):
    """A traffic jam (dishub, polrestabes) and a fire (damkar)."""
    jam = make_report(category="kemacetan")
    fire = make_report(category="kebakaran", caller_phone="085712345678")
    return jam, fire


@pytest.mark.parametrize(
    ("role", "status", "visible"),
    [
        ("anonymous", 401, None),
        ("inactive", 401, None),
        ("no_role", 403, None),
        ("operator", 200, {"jam", "fire"}),
        ("supervisor", 200, {"jam", "fire"}),
        ("assigned_staff", 200, {"jam"}),  # dishub
        ("other_staff", 200, {"fire"}),  # damkar
    ],
)
def test_each_role_lists_the_reports_it_may_see(client_as, two_reports, role, status, visible):
    jam, fire = two_reports
    names = {jam.pk: "jam", fire.pk: "fire"}
    response = client_as(role).get(URL)
    assert response.status_code == status
    if visible is not None:
        body = response.json()
        assert body["count"] == len(visible)
        assert {names[r["id"]] for r in body["results"]} == visible


@pytest.mark.parametrize(
    ("role", "status"),
    expect(
        {
            "anonymous": 401,
            "inactive": 401,
            "no_role": 403,
            "operator": 200,
            "supervisor": 200,
            "assigned_staff": 200,
            "other_staff": 404,
        }
    ),
)
def test_each_role_reads_a_report(client_as, make_report, role, status):
    report = make_report()  # dishub, polrestabes
    response = client_as(role).get(detail(report))
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert (body["id"], body["number"]) == (report.pk, report.number)
        # agencies on one incident see each other's progress
        assert by_agency(body["assignments"]) == {"dishub": "notified", "polrestabes": "notified"}


def test_staff_get_the_same_404_for_hidden_and_missing_reports(client_as, make_report):
    report = make_report()
    client = client_as("other_staff")
    hidden = client.get(detail(report))
    missing = client.get(f"{URL}{report.pk + 1000}/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


@pytest.mark.parametrize("pk", ["999999", "abc", "99999999999999999999", "-1"])
def test_a_missing_report_is_a_404(api, city, pk):
    assert api.get(f"{URL}{pk}/").status_code == 404


def test_staff_still_see_a_report_after_their_agency_rejected_it(client_as, make_report, users):
    report = make_report()
    services.assignment_reject(
        assignment=report.assignments.get(agency__code="dishub"),
        actor=users["assigned_staff"],
        reason="Bukan wewenang kami",
    )
    response = client_as("assigned_staff").get(detail(report))
    assert response.status_code == 200
    assert by_agency(response.json()["assignments"])["dishub"] == "rejected"


def test_the_list_is_newest_first_and_paginated(api, make_report):
    old = make_report(received_at=timezone.now() - timedelta(minutes=30))
    new = make_report()
    body = api.get(URL).json()
    assert [r["id"] for r in body["results"]] == [new.pk, old.pk]
    page = api.get(URL, {"limit": 1, "offset": 1}).json()
    assert page["count"] == 2
    assert [r["id"] for r in page["results"]] == [old.pk]
    assert page["previous"] is not None


@pytest.fixture
def filtered(make_report, operator):
    """Four reports differing in one field each from `base`."""
    base = make_report(category="kemacetan", kecamatan="semarang_tengah", priority=2)
    other_category = make_report(category="kebakaran", kecamatan="semarang_tengah", priority=2)
    other_place = make_report(category="kemacetan", kecamatan="tugu", priority=2)
    urgent = make_report(
        category="kemacetan", kecamatan="semarang_tengah", priority=1, caller_phone="0857 1111 2222"
    )
    closed = make_report(category="kemacetan", kecamatan="semarang_tengah", priority=2)
    services.report_close(actor=operator, report=closed, reason="prank")
    return {
        "base": base,
        "other_category": other_category,
        "other_place": other_place,
        "urgent": urgent,
        "closed": closed,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "open"}, {"base", "other_category", "other_place", "urgent"}),
        ({"status": "closed"}, {"closed"}),
        ({"category": "kebakaran"}, {"other_category"}),
        ({"kecamatan": "tugu"}, {"other_place"}),
        ({"priority": "1"}, {"urgent"}),
        ({"phone": "0857-1111-2222"}, {"urgent"}),
        ({"phone": "+62 857 1111 2222"}, {"urgent"}),
        ({"phone": "0812-3456-7890"}, {"base", "other_category", "other_place", "closed"}),
        (
            {"status": "open", "category": "kemacetan", "kecamatan": "semarang_tengah"},
            {"base", "urgent"},
        ),
        ({"category": "nope"}, set()),
    ],
)
def test_filters(api, filtered, query, expected):
    names = {r.pk: name for name, r in filtered.items()}
    response = api.get(URL, query)
    assert response.status_code == 200
    assert {names[r["id"]] for r in response.json()["results"]} == expected


def test_filters_do_not_widen_what_staff_see(client_as, filtered):
    response = client_as("other_staff").get(URL, {"category": "kemacetan"})  # damkar
    assert response.status_code == 200
    assert response.json()["results"] == []
    response = client_as("other_staff").get(URL, {"category": "kebakaran"})
    assert [r["id"] for r in response.json()["results"]] == [filtered["other_category"].pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "+1 202"}, "phone"),
        ({"status": "pending"}, "status"),
        ({"priority": "abc"}, "priority"),
        ({"received_after": "yesterday"}, "received_after"),
        ({"category": "a\x00b"}, "category"),
    ],
)
def test_invalid_filters_are_a_400(api, city, query, field):
    response = api.get(URL, query)
    assert response.status_code == 400
    assert field in response.json()


# --- Close --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    expect(
        {
            "anonymous": 401,
            "inactive": 401,
            "no_role": 403,
            "operator": 200,
            "supervisor": 403,
            "assigned_staff": 403,
            "other_staff": 404,  # a report not assigned to their agency does not exist for them
        }
    ),
)
def test_only_operators_close_reports(client_as, make_report, role, status):
    report = make_report()
    response = client_as(role).post(close_url(report), {"reason": "prank"})
    assert response.status_code == status
    report.refresh_from_db()
    assert report.status == ("closed" if status == 200 else "open")
    if status != 200:
        assert set(report.assignments.values_list("status", flat=True)) == {"notified"}


@pytest.mark.parametrize("role", ["supervisor", "assigned_staff"])
@pytest.mark.parametrize("payload", [{}, {"reason": "bored"}])
def test_a_non_operator_gets_403_whatever_the_close_input(client_as, make_report, role, payload):
    report = make_report()
    response = client_as(role).post(close_url(report), payload)
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.status == "open"


def test_staff_get_the_same_answer_for_closing_hidden_and_missing_reports(client_as, make_report):
    report = make_report()
    client = client_as("other_staff")
    hidden = client.post(close_url(report), {"reason": "prank"})
    missing = client.post(f"{URL}{report.pk + 1000}/close/", {"reason": "prank"})
    assert hidden.status_code == missing.status_code
    assert hidden.json() == missing.json()


def test_an_operator_closes_a_report_and_its_assignments_are_cancelled(api, make_report, operator):
    report = make_report()
    response = api.post(close_url(report), {"reason": "non_emergency", "note": "Hanya bertanya"})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["close_reason"], body["close_note"]) == (
        "closed",
        "non_emergency",
        "Hanya bertanya",
    )
    assert body["closed_at"] is not None
    assert by_agency(body["assignments"]) == {"dishub": "cancelled", "polrestabes": "cancelled"}
    assert all(a["cancelled_at"] for a in body["assignments"])
    report.refresh_from_db()
    assert (report.status, report.closed_by) == ("closed", operator)
    assert set(report.assignments.values_list("status", flat=True)) == {"cancelled"}
    assert Event.objects.filter(report=report, kind="report.closed").count() == 1


def test_closing_keeps_finished_assignments(api, make_report, users):
    report = make_report()
    dishub = report.assignments.get(agency__code="dishub")
    staff = users["assigned_staff"]
    services.assignment_dispatch(assignment=dishub, actor=staff, eta_minutes=5)
    services.assignment_arrive(assignment=dishub, actor=staff)
    services.assignment_resolve(assignment=dishub, actor=staff)
    body = api.post(close_url(report), {"reason": "resolved"}).json()
    assert by_agency(body["assignments"]) == {"dishub": "resolved", "polrestabes": "cancelled"}


def test_closing_twice_is_a_409(api, make_report):
    report = make_report()
    assert api.post(close_url(report), {"reason": "prank"}).status_code == 200
    events = Event.objects.count()
    response = api.post(close_url(report), {"reason": "resolved"})
    assert response.status_code == 409
    assert report.number in response.json()["detail"]
    assert response.json()["code"] == "transition_not_allowed"
    report.refresh_from_db()
    assert report.close_reason == "prank"
    assert Event.objects.count() == events


def test_a_duplicate_links_to_the_original(api, make_report):
    original, copy = make_report(), make_report()
    response = api.post(close_url(copy), {"reason": "duplicate", "duplicate_of": original.pk})
    assert response.status_code == 200
    assert response.json()["duplicate_of"] == original.pk
    copy.refresh_from_db()
    assert copy.duplicate_of == original


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"reason": "duplicate"}, "duplicate_of"),
        ({"reason": "duplicate", "duplicate_of": None}, "duplicate_of"),
        ({"reason": "duplicate", "duplicate_of": "SELF"}, "duplicate_of"),
        ({"reason": "duplicate", "duplicate_of": 999999}, "duplicate_of"),
        ({"reason": "duplicate", "duplicate_of": 10**20}, "duplicate_of"),
        ({"reason": "duplicate", "duplicate_of": "abc"}, "duplicate_of"),
        ({"reason": "prank", "duplicate_of": "OTHER"}, "duplicate_of"),
        ({}, "reason"),
        ({"reason": "bored"}, "reason"),
        ({"reason": ["prank"]}, "reason"),
        ({"reason": "prank", "note": "n" * 2001}, "note"),
        ({"reason": "prank", "note": "a\x00"}, "note"),
    ],
)
def test_invalid_close_input_is_a_400_and_changes_nothing(api, make_report, payload, field):
    report, other = make_report(), make_report()
    replace = {"SELF": report.pk, "OTHER": other.pk}
    if payload.get("duplicate_of") in replace:
        payload = {**payload, "duplicate_of": replace[payload["duplicate_of"]]}
    before = counts()
    response = api.post(close_url(report), payload)
    assert response.status_code == 400
    assert field in response.json()
    report.refresh_from_db()
    assert report.status == "open"
    assert set(report.assignments.values_list("status", flat=True)) == {"notified"}
    assert counts() == before


def test_closing_a_missing_report_is_a_404(api, city):
    assert api.post(f"{URL}999999/close/", {"reason": "prank"}).status_code == 404


# --- Possible duplicates ------------------------------------------------------------------------

DUPLICATES = f"{URL}duplicates/"


@pytest.mark.parametrize(
    ("role", "status"),
    expect(
        {
            "anonymous": 401,
            "inactive": 401,
            "no_role": 403,
            "operator": 200,
            "supervisor": 200,
            "assigned_staff": 403,
            "other_staff": 403,
        }
    ),
)
def test_the_command_centre_looks_for_duplicates(client_as, make_report, role, status):
    report = make_report(category="kemacetan", kecamatan="tugu")
    response = client_as(role).get(DUPLICATES, {"category": "kemacetan", "kecamatan": "tugu"})
    assert response.status_code == status
    if status == 200:
        assert [r["id"] for r in response.json()] == [report.pk]


def _duplicates(api, **query):
    response = api.get(DUPLICATES, query)
    assert response.status_code == 200
    return [r["id"] for r in response.json()]


def test_same_category_in_the_same_kecamatan_within_the_hour_is_found(api, make_report):
    recent = make_report(category="kecelakaan", kecamatan="tugu")
    make_report(category="kecelakaan", kecamatan="mijen")
    make_report(
        category="kecelakaan", kecamatan="tugu", received_at=timezone.now() - timedelta(hours=2)
    )
    assert _duplicates(api, category="kecelakaan", kecamatan="tugu") == [recent.pk]


def test_another_category_is_not_a_duplicate(api, make_report):
    make_report(category="kebakaran", kecamatan="tugu", caller_phone="0857 1111 2222")
    assert _duplicates(api, category="kecelakaan", kecamatan="tugu", phone="0813 9999 8888") == []


def test_closed_reports_are_not_duplicates(api, make_report, operator):
    report = make_report(category="kecelakaan", kecamatan="tugu")
    services.report_close(actor=operator, report=report, reason="resolved")
    assert _duplicates(api, category="kecelakaan", kecamatan="tugu", phone="081234567890") == []


def test_the_same_phone_is_found_whatever_the_category(api, make_report):
    report = make_report(
        category="kebakaran", kecamatan="mijen", received_at=timezone.now() - timedelta(hours=5)
    )
    assert _duplicates(api, phone="0812-3456-7890") == [report.pk]
    assert _duplicates(api, category="kecelakaan", kecamatan="tugu", phone="+6281234567890") == [
        report.pk
    ]


def test_a_report_within_500_metres_is_found_nearest_first(api, make_report):
    near = make_report(
        category="kecelakaan", kecamatan="tugu", latitude="-6.990000", longitude="110.420000"
    )
    nearer = make_report(
        category="kecelakaan", kecamatan="mijen", latitude="-6.991000", longitude="110.421000"
    )
    make_report(
        category="kecelakaan", kecamatan="mijen", latitude="-6.950000", longitude="110.420000"
    )
    found = _duplicates(api, category="kecelakaan", latitude="-6.9912", longitude="110.4212")
    assert found == [nearer.pk, near.pk]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"phone": "08"},
        {"latitude": "abc", "longitude": "1e999"},
        {"category": "kecelakaan", "latitude": "999", "longitude": "110"},
    ],
)
def test_partial_or_odd_duplicate_queries_are_answered(api, make_report, query):
    make_report(category="kecelakaan", kecamatan="tugu")
    assert _duplicates(api, **query) == []


@pytest.mark.parametrize("field", ["category", "kecamatan"])
def test_a_nul_character_in_duplicate_queries_is_not_a_500(api, make_report, field):
    make_report(category="kecelakaan", kecamatan="tugu")
    query = {"category": "kecelakaan", "kecamatan": "tugu", field: "tu\x00gu"}
    response = api.get(DUPLICATES, query)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json() == []
