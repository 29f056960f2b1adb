"""manage.py anonymise_callers [--days N] [--dry-run] — see reports.retention."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from reports.retention import anonymisable, anonymise_callers


class Command(BaseCommand):
    help = (
        "Erases callers' names and phone numbers on closed reports and calls older than the "
        "retention period (DISPATCH_RETENTION_DAYS); statistics are unchanged."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Retention in days (default {settings.DISPATCH_RETENTION_DAYS}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be erased; change nothing."
        )

    def handle(self, *args, days, dry_run, **options):
        try:
            if dry_run:
                cutoff, reports, calls = anonymisable(days)
                result = (cutoff, reports.count(), calls.count())
                verb = "Would anonymise"
            else:
                done = anonymise_callers(days)
                result = (done.cutoff, done.reports, done.calls)
                verb = "Anonymised"
        except ValueError as error:
            raise CommandError(str(error)) from error
        cutoff, n_reports, n_calls = result
        self.stdout.write(
            f"{verb} {n_reports} reports and {n_calls} calls received before "
            f"{cutoff:%Y-%m-%d %H:%M} UTC."
        )
        for name, count in ({} if dry_run else done.others).items():
            self.stdout.write(f"{verb} {count} {name}.")
