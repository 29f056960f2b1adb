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

    def handle(self, *args, no_users=False, force_demo_users=False, **options):
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
