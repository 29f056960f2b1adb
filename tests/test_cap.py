"""CAP 1.2 alerts in (SPEC §10, issue 19 §3): BMKG's warnings read with a parser that refuses
DTDs and entities (billion laughs, XXE), checked for CAP's required elements, matched to the
city by area, polled from a feed over real HTTP (an RSS index as BMKG's nowcast publishes,
or a CAP document), shown live to the board and the console, taken down by a Cancel and by
their expiry.

The fixtures in tests/data/cap/ are in BMKG's nowcast format (CAP 1.2, Indonesian `info`,
polygons per area), written for these tests: BMKG's server is not reachable from here."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from interop import services
from interop.area import area_matches, city_points, contains
from interop.cap import Area, CapError, index_links, parse_alert
from interop.models import CapAlert, CapFeed

from .factories import AgencyStaffFactory, OperatorFactory, SupervisorFactory
from .test_events_consumer import connect, run, session_headers, snapshot_of
from .waiting import received_until_quiet

CAP = Path(__file__).parent / "data" / "cap"


def fixture(name: str) -> str:
    return (CAP / name).read_text()


def in_force(xml: str) -> str:
    """The fixture with its validity moved to now … in two hours (its own dates are past)."""
    now = timezone.now()
    xml = re.sub(
        r"<effective>[^<]*</effective>",
        f"<effective>{(now - timedelta(minutes=5)).isoformat()}</effective>",
        xml,
    )
    return re.sub(
        r"<expires>[^<]*</expires>",
        f"<expires>{(now + timedelta(hours=2)).isoformat()}</expires>",
        xml,
    )


# --- The parser -----------------------------------------------------------------------------------


def test_a_bmkg_nowcast_warning_is_read_whole():
    alert = parse_alert(fixture("bmkg_semarang.xml"))
    assert (alert.identifier, alert.sender) == ("CJT20261203150000", "bmkg@bmkg.go.id")
    assert (alert.status, alert.msg_type, alert.scope) == ("Actual", "Alert", "Public")
    (info,) = alert.infos
    assert info.event == "Hujan Lebat disertai Kilat/Petir dan Angin Kencang"
    assert (info.severity, info.urgency, info.certainty) == ("Severe", "Immediate", "Likely")
    assert info.expires.isoformat() == "2026-12-03T17:30:00+07:00"
    assert [a.description for a in info.areas] == ["Kota Semarang", "Kab. Demak"]
    assert info.areas[0].polygons[0][0] == (-6.93, 110.29)


def test_a_cancel_names_the_alert_it_takes_down():
    alert = parse_alert(fixture("bmkg_semarang_cancel.xml"))
    assert alert.msg_type == "Cancel" and alert.infos == []
    assert alert.references == [("bmkg@bmkg.go.id", "CJT20261203150000")]


@pytest.mark.parametrize("name", ["billion_laughs.xml", "xxe.xml"])
def test_hostile_xml_is_refused_before_anything_is_expanded_or_fetched(name):
    with pytest.raises(CapError, match="refused XML"):
        parse_alert(fixture(name))


def without(element: str) -> str:
    return re.sub(rf"<{element}>[^<]*</{element}>", "", fixture("bmkg_semarang.xml"), count=1)


@pytest.mark.parametrize(
    ("xml", "says"),
    [
        (without("identifier"), "no <identifier>"),
        (without("sent"), "no <sent>"),
        (without("severity"), "no <severity>"),
        (without("areaDesc"), "no <areaDesc>"),
        (fixture("bmkg_semarang.xml").replace("<urgency>Immediate", "<urgency>Soon"), "urgency"),
        (fixture("bmkg_semarang.xml").replace("<status>Actual", "<status>Real"), "status"),
        (fixture("bmkg_semarang.xml").replace("+07:00</sent>", "</sent>"), "offset"),
        (
            fixture("bmkg_semarang.xml").replace(
                "-6.9300,110.2900 -6.9300,110.5100", "-6.93;110.29 -6.93,110.51"
            ),
            "lat,lon",
        ),
        (fixture("bmkg_semarang.xml").replace("cap:1.2", "cap:1.1"), "not a CAP 1.2"),
        ("<alert><identifier>x", "not well-formed"),
        ("", "not well-formed"),
    ],
)
def test_what_is_not_cap_1_2_is_refused_saying_why(xml, says):
    with pytest.raises(CapError, match=re.escape(says)):
        parse_alert(xml)


def test_an_rss_index_gives_its_items_links_and_an_alert_is_no_index():
    links = index_links(fixture("rss.xml"))
    assert links == ["{base}/bmkg_semarang.xml", "{base}/bmkg_jakarta.xml",
                     "{base}/billion_laughs.xml"]  # fmt: skip
    assert index_links(fixture("bmkg_semarang.xml")) is None


# --- The city's area ------------------------------------------------------------------------------


def test_the_ray_cast_polygon():
    square = [(0, 0), (0, 10), (10, 10), (10, 0), (0, 0)]
    assert contains(square, 5, 5) and not contains(square, 15, 5) and not contains(square, -1, 5)


def test_semarang_s_warning_is_for_the_city_and_jakarta_s_is_not(city):
    points = city_points()
    assert len(points) == 16  # the kecamatan centres
    semarang = parse_alert(fixture("bmkg_semarang.xml")).infos[0].areas
    jakarta = parse_alert(fixture("bmkg_jakarta.xml")).infos[0].areas
    assert [area_matches(a, points) for a in semarang] == [True, False]
    assert not any(area_matches(a, points) for a in jakarta)


def test_an_area_without_a_shape_matches_by_the_city_s_name(city):
    points = city_points()
    assert area_matches(Area("Kota Semarang dan sekitarnya"), points)
    assert not area_matches(Area("Kab. Sleman"), points)
    assert area_matches(Area("x", circles=[(-7.0, 110.42, 5.0)]), points)
    assert not area_matches(Area("Semarang", circles=[(-6.2, 106.8, 20.0)]), points)


# --- Polling over HTTP, storing, taking down ------------------------------------------------------


@pytest.fixture
def bmkg(tmp_path):
    """BMKG's nowcast over real HTTP: rss.xml linking to the alerts (moved into force)."""
    for path in CAP.iterdir():
        (tmp_path / path.name).write_text(in_force(path.read_text()))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(tmp_path)))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    rss = tmp_path / "rss.xml"
    rss.write_text(rss.read_text().replace("{base}", base))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_a_poll_stores_the_alerts_shows_the_city_s_and_logs_the_hostile_one(city, bmkg, client):
    feed = CapFeed.objects.create(name="BMKG nowcast", url=f"{bmkg}/rss.xml")
    result = services.poll_feed(feed)
    assert (result.stored, result.shown) == (2, 1)
    assert len(result.errors) == 1 and "billion_laughs.xml: refused XML" in result.errors[0]
    feed.refresh_from_db()
    assert feed.last_error.endswith("a DTD or entity") and feed.last_polled_at
    assert set(CapAlert.objects.values_list("identifier", "for_city")) == {
        ("CJT20261203150000", True), ("CJK20261203143000", False)}  # fmt: skip

    client.force_login(SupervisorFactory())
    shown = client.get("/api/v1/alerts/").json()
    assert [a["event"] for a in shown] == ["Hujan Lebat disertai Kilat/Petir dan Angin Kencang"]
    assert shown[0]["severity"] == "Severe" and "Kota Semarang" in shown[0]["area"]

    # The next poll fetches only what it has not read (the refused one again), stores nothing.
    again = services.poll_feed(feed)
    assert (again.stored, len(again.errors)) == (0, 1) and CapAlert.objects.count() == 2

    # BMKG cancels it: the banner loses it.
    cancel = CapFeed.objects.create(name="cancel", url=f"{bmkg}/bmkg_semarang_cancel.xml")
    assert services.poll_feed(cancel).removed == 1
    assert client.get("/api/v1/alerts/").json() == []


def test_an_exercise_is_never_shown(city, bmkg):
    feed = CapFeed.objects.create(name="latihan", url=f"{bmkg}/bmkg_exercise.xml")
    result = services.poll_feed(feed)
    assert (result.stored, result.errors) == (0, []) and CapAlert.objects.count() == 0


def test_an_unreachable_feed_is_its_last_error(city):
    feed = CapFeed.objects.create(name="down", url="http://127.0.0.1:9/rss.xml")
    result = services.poll_feed(feed)
    feed.refresh_from_db()
    assert result.stored == 0 and "127.0.0.1:9" in feed.last_error and feed.last_ok_at is None


def test_an_expired_alert_leaves_the_banner(city, client):
    feed = CapFeed.objects.create(name="f", url="https://example.invalid/cap.xml")
    alert = parse_alert(in_force(fixture("bmkg_semarang.xml")))
    stored, _ = services.store_alert(feed, feed.url, alert)
    client.force_login(OperatorFactory())
    assert len(client.get("/api/v1/alerts/").json()) == 1
    CapAlert.objects.filter(pk=stored.pk).update(expires=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/alerts/").json() == []


# --- Live -----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_new_alert_reaches_the_board_and_the_console_live_and_not_the_agencies(city):
    from agencies.models import Agency

    operator, supervisor = OperatorFactory(), SupervisorFactory()
    staff = AgencyStaffFactory(agency=Agency.objects.get(code="bpbd"))
    users = {"oper": operator, "super": supervisor, "bpbd": staff}
    headers = {name: session_headers(user) for name, user in users.items()}
    feed = CapFeed.objects.create(name="f", url="https://example.invalid/cap.xml")
    alert = parse_alert(in_force(fixture("bmkg_semarang.xml")))
    cancel = parse_alert(fixture("bmkg_semarang_cancel.xml"))

    async def scenario():
        sockets = {name: await connect(h) for name, h in headers.items()}
        for socket in sockets.values():
            await socket.receive_json_from(timeout=5)  # the snapshot
        store = database_sync_to_async(services.store_alert)
        await store(feed, feed.url, alert)
        got = {name: await received_until_quiet(s, 0.3, first=1.5) for name, s in sockets.items()}
        await store(feed, feed.url, cancel)
        gone = {name: await received_until_quiet(s, 0.3, first=1.5) for name, s in sockets.items()}
        # A screen that connects now gets no cancelled alert in its snapshot.
        late = await connect(headers["super"])
        snapshot = await late.receive_json_from(timeout=5)
        for socket in [*sockets.values(), late]:
            await socket.disconnect()
        return got, gone, snapshot

    got, gone, snapshot = run(scenario)
    for name in ("oper", "super"):
        # (The command centre also hears who came online meanwhile: presence.updated.)
        shown = [m for m in got[name] if m["type"] != "presence.updated"]
        assert [m["type"] for m in shown] == ["cap.alert"], got[name]
        assert shown[0]["event"].startswith("Hujan Lebat") and shown[0]["expires"]
        removed = [m["type"] for m in gone[name] if m["type"] != "presence.updated"]
        assert removed == ["cap.removed"]
    assert got["bpbd"] == [] and gone["bpbd"] == []
    assert snapshot["cap_alerts"] == []


@pytest.mark.django_db(transaction=True)
def test_a_screen_that_connects_gets_the_alerts_in_force(city):
    feed = CapFeed.objects.create(name="f", url="https://example.invalid/cap.xml")
    services.store_alert(feed, feed.url, parse_alert(in_force(fixture("bmkg_semarang.xml"))))
    services.store_alert(feed, feed.url, parse_alert(in_force(fixture("bmkg_jakarta.xml"))))
    headers = session_headers(OperatorFactory())

    snapshot = snapshot_of(headers)
    assert [a["event"] for a in snapshot["cap_alerts"]] == [
        "Hujan Lebat disertai Kilat/Petir dan Angin Kencang"
    ]


def test_an_administrator_polls_a_new_feed_from_the_admin(city, bmkg, admin_client):
    feed = CapFeed.objects.create(name="BMKG nowcast", url=f"{bmkg}/rss.xml")
    response = admin_client.post(
        "/admin/interop/capfeed/",
        {"action": "poll_now", "_selected_action": [feed.pk]},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "BMKG nowcast: 2" in text and "billion_laughs.xml" in text
    assert CapAlert.objects.filter(for_city=True).count() == 1


def test_an_index_may_not_send_the_poller_to_another_host(city, bmkg, tmp_path):
    """The bmkg server serves tmp_path: an index there pointing into the internal network."""
    index = (CAP / "rss.xml").read_text().replace("{base}", "http://10.0.0.1:6379")
    (tmp_path / "elsewhere.xml").write_text(index)
    feed = CapFeed.objects.create(name="x", url=f"{bmkg}/elsewhere.xml")
    result = services.poll_feed(feed)
    assert result.stored == 0 and len(result.errors) == 3
    assert all("another host, not followed" in error for error in result.errors)


def test_a_test_message_cannot_cancel_a_real_warning(city):
    feed = CapFeed.objects.create(name="f", url="https://example.invalid/cap.xml")
    services.store_alert(feed, feed.url, parse_alert(in_force(fixture("bmkg_semarang.xml"))))
    prank = fixture("bmkg_semarang_cancel.xml").replace("<status>Actual", "<status>Test")
    _, removed = services.store_alert(feed, feed.url, parse_alert(prank))
    assert removed == 0 and CapAlert.objects.get().cancelled_at is None


def test_a_sample_warning_can_be_shown_without_an_internet_feed(city, operator):
    """Trying the banner offline (issue 37 §11): the sample goes through the real parser and
    store, is labelled [CONTOH], shows from now for two hours, and its feed is never polled."""
    from io import StringIO

    from django.core.management import call_command

    from interop.live import shown_alerts

    out = StringIO()
    call_command("load_sample_cap_warning", stdout=out)
    assert "[CONTOH]" in out.getvalue()
    (alert,) = shown_alerts()
    assert alert.headline.startswith("[CONTOH]") and alert.for_city
    assert timedelta(hours=1, minutes=59) < alert.expires - timezone.now() <= timedelta(hours=2)
    assert not alert.feed.active  # the poller never fetches the sample's made-up URL
    snapshot = snapshot_of(session_headers(operator))
    assert [a["headline"] for a in snapshot["cap_alerts"]] == [alert.headline]
