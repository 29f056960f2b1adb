"""Browser tests: Playwright (Python) driving Debian's Chromium (`apt-get install chromium`).
Run with `make test-browser`; `make test` leaves them out so a fresh machine needs no browser."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command

from ..waiting import stop_process

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# for setup are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


ROOT = Path(__file__).resolve().parents[2]
# Every page's default for actions and waits (Playwright's own is 30 s); `expect` has its own
# default of 5 s (assertions that need longer pass `timeout=`).
PAGE_TIMEOUT_MS = 10_000
SCREENSHOTS = ROOT / "docs" / "screenshots"


def screenshot(page, name: str) -> None:
    """Saves the README's screenshot `name`.png, so the pictures there stay current."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def chromium_path() -> str:
    path = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not path:
        pytest.fail("Chromium not found: apt-get install chromium (or set CHROMIUM=/path)")
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def fast_password_hashing():
    """Overrides the suite's MD5 hashing: the server process checks passwords with the real
    hashers, so the demo users must be stored with them."""


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The pages are served by a Daphne process of their own (websockets need ASGI): an
    SQLite test database must be a file that process can open too."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        # One file per pytest-xdist worker: workers never share a database.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        database.setdefault("TEST", {})["NAME"] = str(
            ROOT / "var" / f"test-browser{worker}.sqlite3"
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """Dispatch 112 served by Daphne (HTTP + websockets) on the test database."""

    def __init__(self, log_dir: Path, port: int | None = None, **extra_env: str):
        self.extra_env = extra_env
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"daphne-{self.port}.log"
        self.process = None

    def start(self) -> "Server":
        from django.conf import settings

        database = settings.DATABASES["default"]
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_PATH"}}
        env.update(ENV_FILE="/nonexistent", DEBUG="true", ALLOWED_HOSTS="127.0.0.1,localhost")
        env.update(self.extra_env)
        if database["ENGINE"].endswith("sqlite3"):
            env["SQLITE_PATH"] = str(database["NAME"])
        else:
            env["DATABASE_URL"] = (
                f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
                f"{database['NAME']}"
            )
        log = self.log_path.open("a")
        # `manage.py serve` as `make run` starts it: in this (embedded) mode one process
        # serves HTTP and websockets and runs the escalation sweep.
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--noreload", "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()  # a fixture that fails in setup gets no teardown
                pytest.fail(f"the test server did not start:\n{self.log_path.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process:
            stop_process(self.process)


@pytest.fixture(scope="session")
def server_url(django_db_setup, tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("server")).start()
    yield server.url
    server.stop()


@pytest.fixture
def own_server(django_db_setup, tmp_path_factory):
    """A server of the test's own, which the test may stop and start again."""
    server = Server(tmp_path_factory.mktemp("own-server")).start()
    yield server
    server.stop()


@pytest.fixture
def hasty_server(django_db_setup, tmp_path_factory):
    """A server whose P1 acknowledgement timeout is 2 s, swept every half second."""
    server = Server(
        tmp_path_factory.mktemp("hasty-server"),
        DISPATCH_ACK_TIMEOUT_P1="2",
        DISPATCH_SWEEP_SECONDS="0.5",
    ).start()
    yield server
    server.stop()


@pytest.fixture
def demo_city(transactional_db, settings):
    settings.DEBUG = True  # demo users exist in the embedded mode only
    call_command("seed_demo")
    settings.DEBUG = False


@pytest.fixture
def new_page(browser):
    """new_page(**context options) → a page in a fresh browser context (its own cookies),
    with PAGE_TIMEOUT_MS as its default timeout; every context is closed at teardown."""
    contexts = []

    def make(**options):
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page_for(new_page, server_url, demo_city):
    """page_for("operator") → a logged-in page in a fresh browser context (its own cookies)."""

    def login(username: str, *, width: int = 1366, height: int = 800, url: str = server_url):
        page = new_page(
            viewport={"width": width, "height": height}, locale="id-ID", timezone_id="Asia/Jakarta"
        )
        page.goto(f"{url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", "demo112")
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    return login


def type_report(page, *, phone, category, kecamatan, address, description, name="", send=True):
    """The operator logs a report in the console with the keyboard alone: F2, the number,
    the name, the incident type (type-ahead + Enter), kecamatan, address, description,
    Ctrl+Enter."""
    keyboard = page.keyboard
    keyboard.press("F2")
    keyboard.type(phone)
    keyboard.press("Tab")
    keyboard.type(name)
    keyboard.press("Tab")
    keyboard.type(category)
    keyboard.press("Enter")
    keyboard.type(kecamatan)
    keyboard.press("Tab")
    keyboard.type(address)
    keyboard.press("Tab")
    keyboard.type(description)
    if send:
        keyboard.press("Control+Enter")


@pytest.fixture
def demo_report(demo_city):
    """demo_report(category=…, …) → a report logged by the demo operator through the service,
    with plausible defaults for the fields a test does not care about."""
    from django.contrib.auth import get_user_model

    from reports import services

    operator = get_user_model().objects.get(username="operator")

    def make(**fields):
        fields = {"caller_phone": "081234567890", "description": "-", "address": "-", **fields}
        return services.report_create(operator=operator, **fields)

    return make
