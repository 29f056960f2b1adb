"""Human-readable report numbers: PREFIX-YYYYMMDD-NNNN, counted per WIB day.

The counter row is incremented by one INSERT … ON CONFLICT … RETURNING statement, which both
PostgreSQL and SQLite run atomically; the row lock it takes is held until the report's
transaction commits, so two reports can never get the same number."""

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
