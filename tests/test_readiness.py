"""/readyz (issue 35 §4): 200 when the database, the channel layer, a worker and a recent
escalation sweep are there; 503 naming what is not. /healthz stays liveness."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from dispatch112.celery import app
from notifications.models import ESCALATION_SWEEP, Heartbeat
from reports.tasks import sweep_escalations

pytestmark = pytest.mark.django_db


def ready():
    response = Client().get("/readyz")
    return response.status_code, response.json()


def test_not_ready_until_the_escalation_sweep_has_run_then_ready(city):
    production = not settings.CELERY_TASK_ALWAYS_EAGER  # then no worker in this test
    status, body = ready()
    assert status == 503
    assert body["failing"] == ["worker"] * production + ["escalation_sweep"]
    assert body["checks"]["escalation_sweep"]["error"] == "the escalation sweep never ran"
    assert body["checks"]["database"]["ok"]

    sweep_escalations()  # as beat + worker or the embedded server's thread run it

    status, body = ready()
    if production:
        assert body["failing"] == ["worker"], body
        return
    assert status == 200, body
    assert body["status"] == "ready" and body["failing"] == []
    assert body["checks"]["worker"] == {"ok": True, "mode": "in-process"}
    assert 0 <= body["checks"]["escalation_sweep"]["age_seconds"] < 5


def test_an_old_sweep_says_escalations_have_stopped(city, monkeypatch):
    monkeypatch.setattr(app.control, "ping", lambda **kwargs: [{"celery@test": {"ok": "pong"}}])
    Heartbeat.objects.create(name=ESCALATION_SWEEP, at=timezone.now() - timedelta(minutes=5))
    status, body = ready()
    assert status == 503
    assert body["failing"] == ["escalation_sweep"]
    check = body["checks"]["escalation_sweep"]
    assert check["age_seconds"] >= 300 and "stopped" in check["error"]


def test_a_missing_worker_is_named(city, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    calls = []
    monkeypatch.setattr(app.control, "ping", lambda **kwargs: calls.append(kwargs) or [])
    Heartbeat.beat(ESCALATION_SWEEP)
    status, body = ready()
    assert status == 503 and body["failing"] == ["worker"]
    assert "no Celery worker" in body["checks"]["worker"]["error"]
    assert calls == [{"timeout": 0.5, "limit": 1}]  # bounded: one reply is enough


@pytest.mark.skipif(not settings.REDIS_URL, reason="the channel layer is Redis with REDIS_URL")
def test_an_unreachable_redis_is_named_within_a_second(city, settings, monkeypatch):
    monkeypatch.setattr(app.control, "ping", lambda **kwargs: [{"celery@test": {"ok": "pong"}}])
    layers = {**settings.CHANNEL_LAYERS}
    default = {**layers["default"], "CONFIG": {**layers["default"]["CONFIG"]}}
    default["CONFIG"]["hosts"] = [{"address": "redis://127.0.0.1:1/0"}]  # nothing listens
    settings.CHANNEL_LAYERS = {"default": default}
    Heartbeat.beat(ESCALATION_SWEEP)
    start = time.monotonic()
    status, body = ready()
    assert time.monotonic() - start < 1.5
    assert status == 503 and body["failing"] == ["channel_layer"], body
    assert "ConnectionError" in body["checks"]["channel_layer"]["error"]


def test_liveness_stays_cheap_and_public(city):
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
