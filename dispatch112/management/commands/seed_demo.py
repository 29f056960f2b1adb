"""`manage.py seed_demo`: the demo city. A project command, because it composes every room:
the configuration and fleet (agencies), the phone extensions (telephony), the Open311 app and
the peer centre (interop), and with --history the past (reports, telephony)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from agencies.seed import DEMO_PASSWORD, seed_configuration, seed_demo_units, seed_demo_users


class Command(BaseCommand):
    help = (
        "Loads the agencies, categories with their routing and the 16 kecamatan of Semarang "
        "(only what is missing), the demo fleet and the demo users. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-users", action="store_true", help="Load the configuration only.")
        parser.add_argument(
            "--force-demo-users",
            action="store_true",
            help="Create the demo users even with DEBUG off (they share a public password).",
        )
        parser.add_argument(
            "--history",
            type=int,
            default=0,
            metavar="DAYS",
            help="Also write DAYS days of past calls, reports and assignments before today "
            "(demo data, with the demo users; skipped if there is history already).",
        )
        parser.add_argument("--seed", type=int, default=112, help="The history's random seed.")

    def handle(self, *args, no_users=False, force_demo_users=False, history=0, seed=112, **options):
        result = seed_configuration()
        self.stdout.write(
            f"Configuration: {result.agencies} agencies, {result.categories} categories, "
            f"{result.kecamatan} kecamatan created (a table that has rows is left alone)."
        )
        if no_users:
            return
        if not settings.DEBUG and not force_demo_users:
            # Refused, but not an error: `make run` in production mode loads the
            # configuration and goes on serving.
            self.stderr.write(
                "Refusing to create demo users with DEBUG off: their password is public. "
                "Use --force-demo-users if this really is a demo."
            )
            return
        units = seed_demo_units()
        self.stdout.write(f"Demo fleet: {units} units created (only into an empty table).")
        created = seed_demo_users()
        self.stdout.write(f"Demo users: {created} created; password for all is '{DEMO_PASSWORD}'.")
        from telephony.seed import seed_demo_extensions

        extensions = seed_demo_extensions()
        self.stdout.write(f"Demo extensions: {extensions} created (operator answers 101).")
        from interop.seed import seed_demo_partners

        apps, peers = seed_demo_partners()
        self.stdout.write(
            f"Demo partners: {apps} Open311 app, {peers} peer 112 centre created (README)."
        )
        if history > 0:
            # The past is reports' data; the command composes the layers (reports → agencies).
            from reports.demo_history import seed_history

            started = time.monotonic()
            result = seed_history(history, seed=seed)
            if result.skipped:
                self.stdout.write("History: the database has history already; left alone.")
            else:
                self.stdout.write(
                    f"History: {result.days} days, {result.calls} calls, {result.reports} "
                    f"reports, {result.assignments} assignments in "
                    f"{time.monotonic() - started:.1f} s."
                )
            from telephony.demo_history import seed_phone_history

            phone_calls = seed_phone_history(seed=seed)
            self.stdout.write(f"Phone system history: {phone_calls} PBX calls written.")
