"""Escalations in real processes: a Celery worker on the Redis broker (production mode), and
the embedded mode's in-process sweep under `manage.py serve`."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from reports.models import Assignment, Event

from .waiting import COMMAND_TIMEOUT, stop_process

ROOT = Path(__file__).resolve().parent.parent


def base_env(**extra) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SQLITE_PATH", "DEBUG"}
        and not k.startswith("DISPATCH_")
    }
    env.update(ENV_FILE="/nonexistent", **extra)
    return env


def wait_for(predicate, seconds: float, what: str, log=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    output = Path(log.name).read_text() if log else ""
    pytest.fail(f"timed out after {seconds} s waiting for {what}\n{output}")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_on_redis_escalates_exactly_once(make_report, tmp_path):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs the Redis broker: run with REDIS_URL set")
    from reports.tasks import sweep_escalations

    report = make_report(category="kebakaran", priority=1)
    assignment = report.assignments.get()
    # Notified two minutes ago: past the 60-s P1 timeout.
    Assignment.objects.filter(pk=assignment.pk).update(
        notified_at=timezone.now() - timedelta(minutes=2)
    )
    database = settings.DATABASES["default"]
    queue = f"test-{uuid.uuid4().hex[:8]}"  # no other worker can take these tasks
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "dispatch112", "worker", "--pool", "solo",
         "--loglevel", "INFO", "--queues", queue, "--without-heartbeat", "--without-mingle",
         "--without-gossip"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env=base_env(
            DATABASE_URL=f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}",
            REDIS_URL=settings.REDIS_URL, SECRET_KEY="test",
        ),
    )  # fmt: skip
    try:
        for _ in range(3):  # a retried task, a duplicate from a restarted beat
            sweep_escalations.apply_async(queue=queue)
        wait_for(
            lambda: Assignment.objects.get(pk=assignment.pk).escalated_at,
            30,
            "the worker to escalate",
            log,
        )
        # The two other deliveries run too, and change nothing.
        wait_for(
            lambda: Path(log.name).read_text().count("succeeded") >= 3, 30, "all three tasks", log
        )
    finally:
        stop_process(worker, 20)  # killed if it has not stopped within 20 s
        log.close()
    assert Event.objects.filter(assignment=assignment, kind="assignment.escalated").count() == 1
    assert Path(log.name).read_text().count("succeeded") == 3


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _request(url, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=5) as r:
        return json.loads(r.read())


def test_the_embedded_server_escalates_with_no_worker_and_no_broker(tmp_path, migrated_sqlite):
    """`make run` with no environment (migrated, seeded): one process serves and sweeps."""
    env = base_env(
        DEBUG="true",  # as `make run` sets it (demo users)
        SQLITE_PATH=str(migrated_sqlite(tmp_path / "embedded.sqlite3")),
        DISPATCH_ACK_TIMEOUT_P1="1",
        DISPATCH_SWEEP_SECONDS="0.5",
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "seed_demo"], cwd=ROOT, env=env, check=True, capture_output=True,
        timeout=COMMAND_TIMEOUT,
    )  # fmt: skip
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [*manage, "serve", "--noreload", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:

        def up():
            try:
                return _request(f"{url}/healthz")["status"] == "ok"
            except OSError:
                return False

        wait_for(up, 30, "the embedded server", log)
        token = _request(
            f"{url}/api/v1/auth/token/", {"username": "operator", "password": "demo112"}
        )["token"]
        report = _request(
            f"{url}/api/v1/reports/",
            {"caller_phone": "081234567890", "category": "kebakaran", "priority": 1,
             "description": "Rumah terbakar", "address": "Jl. Pemuda"},
            token,
        )  # fmt: skip
        assignment_url = f"{url}/api/v1/assignments/{report['assignments'][0]['id']}/"
        escalated = wait_for(
            lambda: _request(assignment_url, token=token)["escalated_at"],
            15,
            "the in-process sweep to escalate",
            log,
        )
        assert escalated
    finally:
        stop_process(server, 20)
        log.close()
