"""Human-readable report numbers: PREFIX-YYYYMMDD-NNNN, counted per WIB day.

The counter row is incremented by one INSERT … ON CONFLICT … RETURNING statement, which both
PostgreSQL and SQLite run atomically; the row lock it takes is held until the report's
transaction commits, so two reports can never get the same number, and a rolled-back report
gives its number back (no gaps).

That lock makes every report of the day wait for the one before it to commit, so it is taken
last: report_create writes the report under a provisional number, then numbers it just before
committing. Taken first, the lock was held across all of a report's inserts (with the Python
between them) and capped intake at about 90 reports/s on two cores (benchmarks/throughput.py)."""

import uuid
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import ReportCounter


def next_report_number(received_at: datetime) -> str:
    day = timezone.localdate(received_at, timezone=timezone.get_default_timezone())
    table = connection.ops.quote_name(ReportCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [day],
        )
        (sequence,) = cursor.fetchone()
    return f"{settings.DISPATCH_REPORT_PREFIX}-{day:%Y%m%d}-{sequence:04d}"


def provisional_number() -> str:
    """A unique placeholder, replaced by number_report() before the transaction commits."""
    return f"~{uuid.uuid4().hex[:31]}"  # 32 characters, the field's length


def number_report(report) -> str:
    """Gives `report` its number (the last write of its transaction: see the module doc)."""
    from .models import Report

    report.number = next_report_number(report.received_at)
    Report.objects.filter(pk=report.pk).update(number=report.number)
    return report.number
