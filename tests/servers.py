"""Real servers for tests that need a network between client and application: Daphne and
gunicorn processes on the test database, HTTP through urllib, websockets through `websockets`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token
from websockets.asyncio.client import connect

from .waiting import stop_process

REPO_ROOT = Path(__file__).resolve().parent.parent
REPORT = {
    "caller_phone": "081234567890",
    "category": "kemacetan",  # dishub + polrestabes
    "description": "Macet total",
    "address": "Jl. Pemuda",
    "kecamatan": "semarang_tengah",
}

# No proxy from the environment for loopback requests.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def command(kind: str, port: int) -> list[str]:
    """The production layout's servers: Daphne (websockets, or everything) or gunicorn
    (HTTP: pages and API)."""
    if kind == "gunicorn":
        return [
            *(sys.executable, "-m", "gunicorn", "-c", "python:dispatch112.gunicorn"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "2", "dispatch112.wsgi:application"),
        ]
    return [
        *(sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)),
        *("--websocket_connect_timeout", "30"),  # as in docker-compose.yml
        "dispatch112.asgi:application",
    ]


class Server:
    def __init__(self, name: str, port: int, env: dict[str, str], kind: str = "daphne"):
        self.name, self.port = name, port
        # Closed in stop(): the log outlives this constructor.
        self.log = tempfile.TemporaryFile(mode="w+b")  # noqa: SIM115
        self.process = subprocess.Popen(
            command(kind, port),
            cwd=REPO_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/events/"

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        text = self.log.read().decode(errors="replace")
        return f"--- server {self.name} (port {self.port}, exit {self.process.poll()}) ---\n{text}"

    def healthy(self) -> bool:
        try:
            with _http.open(f"{self.http}/healthz", timeout=2) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def stop(self) -> None:
        stop_process(self.process)
        self.log.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(*servers: Server, deadline: float = 20.0) -> None:
    import pytest

    until = time.monotonic() + deadline
    for server in servers:
        while not server.healthy():
            if server.process.poll() is not None or time.monotonic() > until:
                pytest.fail(
                    f"server {server.name} did not answer /healthz within {deadline:.0f} s\n"
                    + "\n".join(s.output() for s in servers)
                )
            time.sleep(0.1)


def server_env() -> dict[str, str]:
    """The test's own database (test_<name>) and Redis, in production mode."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}{password}@{host}{port}/{quote(db['NAME'])}",
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_COOKIES": "false",
        "ENV_FILE": "/nonexistent",
        "DEBUG": "false",
        "PYTHONUNBUFFERED": "1",
        # The fault tests post streams of reports as one operator, at machine speed.
        "API_RATE_LIMIT_BURST": "none",
        "API_RATE_LIMIT_SUSTAINED": "none",
    }


def token(user) -> str:
    return Token.objects.create(user=user).key


def post_json(url: str, key: str, body: dict, timeout: float = 10) -> tuple[int, dict]:
    """POSTs `body` with the token `key`: (status, the JSON answer, or {"error": its text})."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
    )
    try:
        with _http.open(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, {"error": text}


def post_report(base: str, key: str) -> tuple[int, dict]:
    return post_json(f"{base}/api/v1/reports/", key, REPORT)


def dashboard(url: str, key: str):
    return connect(
        url, additional_headers={"Authorization": f"Token {key}"}, proxy=None, open_timeout=5
    )
