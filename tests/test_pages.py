import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from reports import services


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True  # seed_demo's users are for the embedded mode
    call_command("seed_demo")
    settings.DEBUG = False


def test_login_page_speaks_indonesian_by_default(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'lang="id"' in response.text
    assert "Masuk" in response.text
    assert "Kata sandi" in response.text


def test_an_english_browser_still_gets_indonesian(client, db):
    # Command-centre PCs and officers' phones are often set to English (issue 17 §1).
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="id"' in response.text
    assert "Kata sandi" in response.text


def test_english_when_chosen_and_remembered(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en"
    assert int(cookie["max-age"]) >= 300 * 24 * 3600  # remembered, not for the session only
    english = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="id")
    assert 'lang="en"' in english.text
    assert "Password" in english.text
    client.post(reverse("set_language"), {"language": "id", "next": "/"})
    assert "Kata sandi" in client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").text


def test_a_forged_language_cookie_falls_back_to_indonesian(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx-nope"
    assert 'lang="id"' in client.get(reverse("login")).text


def test_the_api_still_follows_accept_language(client, db):
    # Machines ask for their language: an unauthenticated request's 401 in English.
    english = client.get("/api/v1/reports/", HTTP_ACCEPT_LANGUAGE="en").json()
    indonesian = client.get("/api/v1/reports/", HTTP_ACCEPT_LANGUAGE="id").json()
    assert english["detail"] != indonesian["detail"]
    assert "credentials" in english["detail"]


def test_a_wrong_password_says_so(client, demo):
    response = client.post(reverse("login"), {"username": "operator", "password": "nope"})
    assert response.status_code == 200
    assert "Nama pengguna atau kata sandi salah" in response.text


def test_anonymous_visitors_are_sent_to_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("username", ["operator", "supervisor", "dishub", "ambulans"])
def test_demo_users_log_in_and_land_on_their_page(client, demo, username):
    response = client.post(
        reverse("login"), {"username": username, "password": "demo112"}, follow=True
    )
    assert response.status_code == 200
    assert response.wsgi_request.user.username == username
    landing = {"operator": "console", "supervisor": "board"}.get(username, "agency-dashboard")
    assert response.redirect_chain[-1][0] == reverse(landing)


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("operator", {"console", "board"}),
        ("supervisor", {"board"}),
        ("dishub", {"agency-dashboard"}),
    ],
)
def test_each_role_opens_only_its_screens(client, demo, username, allowed):
    assert (
        client.post(reverse("login"), {"username": username, "password": "demo112"}).status_code
        == 302
    )
    for name in ("console", "board", "agency-dashboard"):
        expected = 200 if name in allowed else 403
        assert client.get(reverse(name)).status_code == expected, name


def test_the_agency_dashboard_names_its_agency(client, demo):
    assert (
        client.post(reverse("login"), {"username": "dishub", "password": "demo112"}).status_code
        == 302
    )
    assert "Antrean Dishub" in client.get(reverse("agency-dashboard")).text


def test_a_user_without_a_role_is_told_so(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert "Belum ada peran" in client.get("/").text


def test_health_endpoint(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(
    "model",
    [
        "agencies/agency",
        "agencies/category",
        "agencies/kecamatan",
        "auth/user",
        "reports/report",
        "reports/assignment",
        "reports/call",
        "reports/event",
        "reports/message",
    ],
)
def test_admin_lists_open(admin_client, demo, model):
    assert admin_client.get(f"/admin/{model}/").status_code == 200


def test_an_administrator_edits_routing_in_the_admin(admin_client, demo):
    from agencies.models import Agency, Category

    category = Category.objects.get(code="banjir")
    ids = list(Agency.objects.filter(code__in=["bpbd", "basarnas"]).values_list("pk", flat=True))
    response = admin_client.post(
        f"/admin/agencies/category/{category.pk}/change/",
        {
            "code": "banjir",
            "name": "Banjir",
            "default_priority": 1,
            "default_agencies": ids,
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content
    assert {a.code for a in category.default_agencies.all()} == {"bpbd", "basarnas"}


def test_events_cannot_be_edited_or_deleted_in_the_admin(admin_client, demo):
    from django.contrib.auth import get_user_model

    operator = get_user_model().objects.get(username="operator")
    report = services.report_create(
        operator=operator,
        caller_phone="081234567890",
        category="kebakaran",
        description="Api",
        address="Jl. A",
    )
    event = report.events.first()
    assert admin_client.get(f"/admin/reports/event/{event.pk}/delete/").status_code == 403
    response = admin_client.post(f"/admin/reports/event/{event.pk}/change/", {"kind": "x"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.kind == "report.created"


def test_the_app_has_an_icon_and_no_404_for_favicon(client, db):
    page = client.get(reverse("login")).text
    assert 'rel="icon"' in page and "img/icon.svg" in page
    assert 'rel="apple-touch-icon"' in page and 'rel="manifest"' in page
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.url.endswith("img/icon.svg")
