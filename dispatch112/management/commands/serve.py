"""`make run`'s server: the development server in the embedded mode, Daphne otherwise.

The choice is made here, from the settings (which read `.env`), not from Make's
environment."""

import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serves Dispatch 112 the way the current settings call for."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, host, port, **options):
        if settings.DEBUG:
            # Daphne's runserver: ASGI, websockets, static files, reload on change.
            call_command("runserver", f"{host}:{port}")
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"Serving on http://{host}:{port} (Daphne, DEBUG off)")
        self.stdout.flush()
        # The same interpreter (the venv's), whether or not its bin/ is on PATH.
        command = [sys.executable, "-m", "daphne", "-b", host, "-p", str(port)]
        os.execv(sys.executable, [*command, "dispatch112.asgi:application"])
