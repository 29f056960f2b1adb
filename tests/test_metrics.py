"""GET /metrics and /status/ (SPEC §12, issue 40 §5): real websocket clients and real reports
move the series, read back through prometheus_client's own parser; the allow-list and the
token decide who may scrape; /status/ is the command centre's."""

from __future__ import annotations

import asyncio
import math
import os
import re
import textwrap
from datetime import timedelta

import pytest
import redis
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import OperationalError
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from dispatch112 import metrics
from dispatch112.asgi import application
from notifications.models import ESCALATION_SWEEP, Heartbeat
from notifications.outage import outage
from reports import live
from reports.models import Assignment

from .test_events_consumer import connect, run, session_headers, traffic_jam_reported_by
from .waiting import received_until_quiet, run_python

pytestmark = pytest.mark.django_db(transaction=True)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(autouse=True)
def fresh_figures(monkeypatch):
    """The centre's figures are read afresh on every scrape here (one test proves the cache),
    and no outage or unsent event of one test is left to the next."""
    monkeypatch.setattr(metrics, "CACHE_SECONDS", 0.0)
    metrics.forget()
    outage.since = None
    yield
    metrics.forget()
    outage.since = None
    live._unpublished.take()


def scrape(client: Client | None = None, **request) -> Samples:
    """/metrics as Prometheus reads it: every sample by (name, labels)."""
    response = (client or Client()).get("/metrics", **request)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    families = text_string_to_metric_families(response.content.decode())
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def scraped() -> Samples:
    return await database_sync_to_async(scrape)()


# --- The transport's series, with real sockets ----------------------------------------------------


def test_each_open_socket_is_counted_by_role_and_agency_until_it_closes(
    city, operator, supervisor, staff_of, field_officer_of, unit_of
):
    amb = unit_of("ambulans", "AMB-01")
    headers = [
        session_headers(operator),
        session_headers(supervisor),
        session_headers(staff_of("dishub")),
        session_headers(staff_of("dishub")),
        session_headers(field_officer_of("ambulans", unit=amb)),
    ]
    labels = [
        {"role": "operator", "agency": ""},
        {"role": "supervisor", "agency": ""},
        {"role": "agency_staff", "agency": "dishub"},
        {"role": "field", "agency": "ambulans"},
    ]

    async def scenario():
        before = await scraped()
        sockets = [await connect(h) for h in headers]
        for socket in sockets:
            assert (await socket.receive_json_from(timeout=5))["type"] == "snapshot"
        during = await scraped()
        await sockets[2].disconnect()  # one of Dishub's two desks
        one_left = await scraped()
        for socket in [*sockets[:2], *sockets[3:]]:
            await socket.disconnect()
        return before, during, one_left, await scraped()

    before, during, one_left, after = run(scenario)
    assert [grew(before, during, "dispatch_websockets", **k) for k in labels] == [1, 1, 2, 1]
    assert [grew(before, one_left, "dispatch_websockets", **k) for k in labels] == [1, 1, 1, 1]
    assert [grew(before, after, "dispatch_websockets", **k) for k in labels] == [0, 0, 0, 0]


def test_a_report_is_counted_as_published_and_its_delivery_observed(city, operator, staff_of):
    headers = session_headers(staff_of("dishub"))

    async def scenario():
        desk = await connect(headers)
        await desk.receive_json_from(timeout=5)
        before = await scraped()
        await traffic_jam_reported_by(operator)
        frames = await received_until_quiet(desk, 0.5, first=5.0)
        after = await scraped()
        await desk.disconnect()
        return before, frames, after

    before, frames, after = run(scenario)
    assert [f["type"] for f in frames] == ["report.updated", *["assignment.created"] * 2]
    # The stamp travels in the transport's message, never in what the client is sent.
    assert all("at" not in frame for frame in frames)
    # report.created and the two assignment.created
    assert grew(before, after, "dispatch_events_published_total") == 3
    observed = grew(before, after, "dispatch_delivery_seconds_count")
    assert observed >= 1  # at least one batch written to the desk's socket
    assert 0 <= grew(before, after, "dispatch_delivery_seconds_sum") < 5 * observed
    assert value(after, "dispatch_delivery_seconds_bucket", le="+Inf") == value(
        after, "dispatch_delivery_seconds_count"
    )


def refuse(*args, **kwargs):
    raise redis.exceptions.ConnectionError("Error 111 connecting to redis:6379.")


def test_channel_layer_errors_are_counted(city, operator, staff_of, monkeypatch):
    """Redis away (simulated at the layer, as tests/test_layer_outage.py does, without stopping
    the shared Redis): a dashboard refused, then a report whose publication fails."""
    headers = session_headers(staff_of("dishub"))
    before = value(scrape(), "dispatch_channel_layer_errors_total")
    layer = get_channel_layer()
    monkeypatch.setattr(layer, "group_add", refuse)

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/events/", headers=headers)
        assert (await socket.connect(timeout=5))[0]
        unavailable = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return unavailable

    assert run(scenario)["type"] == "unavailable"
    refused = value(scrape(), "dispatch_channel_layer_errors_total")
    assert refused == before + 1

    monkeypatch.setattr(layer, "group_send", refuse)
    published = value(scrape(), "dispatch_events_published_total")
    run(lambda: traffic_jam_reported_by(operator))
    after = scrape()
    assert value(after, "dispatch_channel_layer_errors_total") == refused + 1
    assert value(after, "dispatch_events_published_total") == published  # nothing went out


# --- The centre's series, from the database -------------------------------------------------------


def test_the_sweep_age_comes_from_its_heartbeat(db):
    assert value(scrape(), "dispatch_escalation_sweep_age_seconds") == math.inf  # never ran
    Heartbeat.objects.create(name=ESCALATION_SWEEP, at=timezone.now() - timedelta(seconds=42))
    age = value(scrape(), "dispatch_escalation_sweep_age_seconds")
    assert 42 <= age < 52


def test_unheard_assignments_are_counted(make_report):
    report = make_report(category="kemacetan")
    assert value(scrape(), "dispatch_unheard_total") == 0
    yesterday = timezone.now() - timedelta(days=1, hours=1)
    first, second = report.assignments.order_by("pk")
    Assignment.objects.filter(pk=first.pk).update(unheard_at=timezone.now())
    Assignment.objects.filter(pk=second.pk).update(unheard_at=yesterday)
    assert value(scrape(), "dispatch_unheard_total") == 2
    figures = metrics.centre_figures()
    assert (figures.unheard_total, figures.unheard_today) == (2, 1)


def test_the_celery_queue_is_embedded_without_a_broker(db):
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("a broker is configured")
    assert ("dispatch_celery_queue_length", ()) not in scrape()
    assert metrics.centre_figures().celery_mode == "embedded"


@pytest.mark.services
@pytest.mark.skipif(not settings.REDIS_URL, reason="reads the broker's queue in Redis")
def test_the_celery_queue_is_read_from_the_broker(db):
    prefix = "metrics-test:"
    options = {"global_keyprefix": prefix}
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        client.delete(f"{prefix}celery", f"{prefix}celery\x06\x169")
        client.rpush(f"{prefix}celery", "a", "b")
        client.rpush(f"{prefix}celery\x06\x169", "c")  # a priority step's own list
        try:
            with override_settings(
                CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_TRANSPORT_OPTIONS=options
            ):
                assert value(scrape(), "dispatch_celery_queue_length") == 3
        finally:
            client.delete(f"{prefix}celery", f"{prefix}celery\x06\x169")


def test_a_scrape_storm_reads_the_database_once_per_period(
    db, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(metrics, "CACHE_SECONDS", 60.0)
    scrape()  # reads
    with django_assert_num_queries(0):
        for _ in range(20):
            scrape()


def test_a_database_that_does_not_answer_leaves_the_transports_series(
    city, supervisor, monkeypatch
):
    def unreachable():
        raise OperationalError("connection refused")

    monkeypatch.setattr(metrics, "_read_centre", unreachable)
    samples = scrape()
    assert ("dispatch_events_published_total", ()) in samples
    assert ("dispatch_unheard_total", ()) not in samples
    assert "Basis data tidak menjawab" in status_page(supervisor)


@pytest.mark.parametrize(
    ("cumulative", "p50", "p99"),
    [
        ([], None, None),
        ([(0.01, 0), (0.1, 0), (math.inf, 0)], None, None),
        ([(0.01, 10), (0.1, 10), (math.inf, 10)], 0.005, 0.0099),  # all in the first bucket
        ([(0.01, 0), (0.1, 100), (math.inf, 100)], 0.055, 0.0991),
        ([(0.01, 50), (0.1, 50), (math.inf, 100)], 0.01, 0.1),  # half past every bound
    ],
)
def test_quantiles_are_read_from_the_buckets_as_prometheus_does(cumulative, p50, p99):
    for q, expected in ((0.5, p50), (0.99, p99)):
        found = metrics.histogram_quantile(q, cumulative)
        assert found == pytest.approx(expected) if expected is not None else found is None


# --- Who may scrape -------------------------------------------------------------------------------


def get(remote_addr: str = "127.0.0.1", **headers):
    return Client().get("/metrics", REMOTE_ADDR=remote_addr, headers=headers)


def test_it_answers_this_machine_and_is_never_cached(db):
    response = get()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert get("::1").status_code == 200
    assert get("::ffff:127.0.0.1").status_code == 200


def test_it_speaks_openmetrics_to_who_asks(db):
    response = get(accept="application/openmetrics-text; version=1.0.0; charset=utf-8")
    assert response["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    text = response.content.decode()
    assert text.endswith("# EOF\n") and text.count("# EOF") == 1
    assert "# TYPE dispatch_unheard counter" in text


def test_it_refuses_other_addresses_without_a_word(db):
    response = get("203.0.113.7")
    assert (response.status_code, response.content) == (403, b"")
    # X-Forwarded-For is anyone's to write: never trusted here.
    assert get("203.0.113.7", x_forwarded_for="127.0.0.1").status_code == 403
    assert get("not an address").status_code == 403


@override_settings(METRICS_ALLOWED_IPS=["10.0.0.0/8", " 192.0.2.1 "])
def test_it_answers_the_networks_it_is_told(db):
    assert get("10.20.30.40").status_code == 200
    assert get("192.0.2.1").status_code == 200
    assert get("127.0.0.1").status_code == 403  # the default is replaced, not extended


@override_settings(METRICS_TOKEN="s3cret-token-for-prometheus")
def test_it_answers_the_token_from_anywhere(db):
    assert get("203.0.113.7", authorization="Bearer s3cret-token-for-prometheus").status_code == 200
    assert get("203.0.113.7", authorization="bearer s3cret-token-for-prometheus").status_code == 200
    assert get("203.0.113.7", authorization="Bearer wrong").status_code == 403
    assert get("203.0.113.7", authorization="Token s3cret-token-for-prometheus").status_code == 403
    assert get("203.0.113.7", authorization="Bearer ").status_code == 403


@override_settings(METRICS_TOKEN="")
def test_an_empty_token_opens_nothing(db):
    assert get("203.0.113.7", authorization="Bearer ").status_code == 403
    assert get("203.0.113.7", authorization="Bearer").status_code == 403


def test_it_is_not_for_posting(db):
    assert Client().post("/metrics").status_code == 405


# --- Several processes: prometheus_client's multiprocess mode -------------------------------------


def test_processes_sharing_a_multiprocess_directory_are_added_up(tmp_path, migrated_sqlite):
    """gunicorn's workers (docker-compose.yml's web): each process writes its values into
    PROMETHEUS_MULTIPROC_DIR, and /metrics in any of them reports the sum."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "SQLITE_PATH": str(migrated_sqlite(tmp_path / "db.sqlite3")),
        "ENV_FILE": "/nonexistent",
        "SECRET_KEY": "metrics-test",
        "DJANGO_SETTINGS_MODULE": "dispatch112.settings",
    }
    worker = textwrap.dedent("""
        import sys
        from notifications import metrics
        metrics.published(int(sys.argv[1]))
        metrics.delivered(metrics.now() - 0.02)
    """)
    for count in ("3", "4"):
        done = run_python("-c", worker, count, env=env)
        assert done.returncode == 0, done.stderr
    render = textwrap.dedent("""
        import django
        django.setup()
        from dispatch112 import metrics
        print(metrics.exposition().decode())
    """)
    done = run_python("-c", render, env=env)
    assert done.returncode == 0, done.stderr
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(done.stdout)
        for s in family.samples
    }
    assert value(samples, "dispatch_events_published_total") == 7
    assert value(samples, "dispatch_delivery_seconds_count") == 2
    assert value(samples, "dispatch_delivery_seconds_bucket", le="0.025") == 2
    assert value(samples, "dispatch_escalation_sweep_age_seconds") == math.inf, done.stderr


# --- /status/ -------------------------------------------------------------------------------------


def status_page(user) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/status/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return response.content.decode()


def row_of(html: str, agency: str) -> str:
    return re.search(rf'<tr data-agency="{agency}"[^>]*>(.*?)</tr>', html, re.S)[0]


def numbers_of(row: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', row)]


def test_status_shows_a_supervisor_who_is_online_in_indonesian(
    city, supervisor, staff_of, field_officer_of, unit_of
):
    headers = [
        session_headers(staff_of("dishub")),
        session_headers(field_officer_of("ambulans", unit=unit_of("ambulans", "AMB-01"))),
    ]

    async def scenario():
        sockets = [await connect(h) for h in headers]
        for socket in sockets:
            await socket.receive_json_from(timeout=5)
        # With Redis each process stores its counts a moment after a socket joins.
        deadline = asyncio.get_running_loop().time() + 5
        while True:
            html = await database_sync_to_async(status_page)(supervisor)
            if numbers_of(row_of(html, "ambulans")) == [0, 1] or (
                asyncio.get_running_loop().time() > deadline
            ):
                break
            await asyncio.sleep(0.1)
        for socket in sockets:
            await socket.disconnect()
        return html

    html = run(scenario)
    assert "Status operasional" in html and 'http-equiv="refresh" content="10"' in html
    assert numbers_of(row_of(html, "dishub")) == [1, 0]
    assert "tidak ada yang daring" not in row_of(html, "dishub")
    assert numbers_of(row_of(html, "ambulans")) == [0, 1]
    damkar = row_of(html, "damkar")
    assert numbers_of(damkar) == [0, 0] and "tidak ada yang daring" in damkar
    assert "tertanam" in html or not settings.CELERY_TASK_ALWAYS_EAGER  # embedded mode


def test_status_shows_a_late_sweep_in_red_and_in_words(city, operator):
    tile = re.compile(r'<div id="sweep" class="tile (\w+)">(.*?)</div>', re.S)
    Heartbeat.objects.create(name=ESCALATION_SWEEP, at=timezone.now() - timedelta(seconds=2))
    good = tile.search(status_page(operator))
    assert good[1] == "good" and "2 detik lalu" in good[2]
    late = 3 * settings.DISPATCH_SWEEP_SECONDS + 10
    Heartbeat.objects.filter(name=ESCALATION_SWEEP).update(
        at=timezone.now() - timedelta(seconds=late)
    )
    bad = tile.search(status_page(operator))
    assert bad[1] == "bad" and "Terlambat" in bad[2]


def test_status_is_for_the_command_centre_only(city, staff_of):
    staff = Client()
    staff.force_login(staff_of("dishub"))
    assert staff.get("/status/").status_code == 403
    anonymous = Client().get("/status/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
