"""`make run`'s server. The choice is made here, from the settings (which read `.env`), not
from Make's environment:

- no REDIS_URL (embedded): one process serves everything and runs the escalation sweep and
  the CAP feeds' poll on timer threads — no worker, no beat, no broker;
- REDIS_URL set: web, a Celery worker and exactly one beat, started together from the
  Procfile (honcho), the way docker-compose.yml runs them as services.

The web process is the development server when DEBUG is on, Daphne otherwise."""

import logging
import os
import sys
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

logger = logging.getLogger(__name__)


def sweep_forever(interval: float, stop: threading.Event) -> None:
    """The embedded mode's beat + worker: the same task, run in-process on a timer."""
    from reports.tasks import sweep_escalations

    run_every(interval, stop, sweep_escalations, "Escalation sweep")


def poll_cap_forever(interval: float, stop: threading.Event) -> None:
    """CAP feeds, on a thread of their own: a slow feed never delays an escalation."""
    from interop.tasks import poll_cap_feeds

    run_every(interval, stop, poll_cap_feeds, "CAP poll")


def run_every(interval: float, stop: threading.Event, task, name: str) -> None:
    while not stop.wait(interval):
        try:
            task()
        except Exception:
            logger.exception("%s failed; trying again in %s s", name, interval)
        finally:
            close_old_connections()


class Command(BaseCommand):
    help = "Serves Dispatch 112 with every process the current settings call for."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument(
            "--web-only", action="store_true", help="Only the web server (the Procfile's web)."
        )
        parser.add_argument(
            "--noreload", action="store_true", help="No autoreloader for the development server."
        )

    def handle(self, *args, host, port, web_only, noreload, **options):
        if settings.REDIS_URL and not web_only:
            self.stdout.write("Starting web, Celery worker and beat (Procfile)")
            self.stdout.flush()
            # The Procfile's `python` and `celery` are this environment's, on PATH or not.
            bin_dir = os.path.dirname(sys.executable)
            path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
            env = {**os.environ, "HOST": host, "PORT": str(port), "PATH": path}
            os.execve(sys.executable, [sys.executable, "-m", "honcho", "start"], env)
        if not settings.REDIS_URL and (noreload or self._serving_process()):
            stop = threading.Event()
            threading.Thread(
                target=sweep_forever,
                args=(settings.DISPATCH_SWEEP_SECONDS, stop),
                name="escalation-sweep",
                daemon=True,
            ).start()
            threading.Thread(
                target=poll_cap_forever,
                args=(settings.DISPATCH_CAP_POLL_SECONDS, stop),
                name="cap-poll",
                daemon=True,
            ).start()
        if settings.DEBUG:
            # Daphne's runserver: ASGI, websockets, static files, reload on change.
            call_command("runserver", f"{host}:{port}", use_reloader=not noreload)
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"Serving on http://{host}:{port} (Daphne, DEBUG off)")
        self.stdout.flush()
        # A burst of reconnecting dashboards waits rather than being dropped after Daphne's
        # default 5 s handshake limit (docker-compose.yml has the same flag).
        daphne = [sys.executable, "-m", "daphne", "-b", host, "-p", str(port)]
        daphne += ["--websocket_connect_timeout", "30"]
        if not settings.REDIS_URL:
            # The sweep thread lives in this process: run Daphne here rather than exec it.
            from daphne.cli import CommandLineInterface

            CommandLineInterface().run([*daphne[3:], "dispatch112.asgi:application"])
            return
        os.execv(sys.executable, [*daphne, "dispatch112.asgi:application"])

    @staticmethod
    def _serving_process() -> bool:
        # With DEBUG, runserver's autoreloader re-runs this command in a child process
        # (RUN_MAIN=true) that does the serving; the parent only watches files.
        return not settings.DEBUG or os.environ.get("RUN_MAIN") == "true"
