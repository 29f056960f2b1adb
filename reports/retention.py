"""Retention of callers' personal data (UU PDP No. 27/2022): after a configurable period the
names and numbers of callers are erased; everything the statistics use (times, agencies,
categories, outcomes, kecamatan) stays, so supervisors' figures do not change.

Only closed reports are erased (an open one is still being worked on), and calls once their
report, if any, is closed. Rows are updated in batches so no lock is held for long."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Call, Report, ReportStatus

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000


@dataclass(frozen=True)
class Anonymised:
    cutoff: datetime
    reports: int
    calls: int
    # What the apps above reports/ erased of their own (telephony: AML messages), by name.
    others: dict = field(default_factory=dict)


# Apps that keep callers' personal data of their own register an eraser here (telephony's AML
# messages): a callable (cutoff, now) → (name, rows erased), run by anonymise_callers.
ERASERS: list = []


def register_eraser(eraser) -> None:
    if eraser not in ERASERS:
        ERASERS.append(eraser)


def anonymisable(days: int | None = None, *, now: datetime | None = None):
    """(cutoff, reports, calls): what an anonymisation run would erase."""
    days = settings.DISPATCH_RETENTION_DAYS if days is None else days
    if days < 1:
        raise ValueError("The retention period must be at least one day.")
    cutoff = (now or timezone.now()) - timedelta(days=days)
    reports = Report.objects.filter(
        received_at__lt=cutoff, status=ReportStatus.CLOSED, anonymised_at__isnull=True
    )
    calls = Call.objects.filter(received_at__lt=cutoff, anonymised_at__isnull=True).filter(
        Q(report__isnull=True) | Q(report__status=ReportStatus.CLOSED)
    )
    return cutoff, reports, calls


def anonymise_callers(days: int | None = None, *, now: datetime | None = None) -> Anonymised:
    """Erases callers' names and numbers older than `days` (DISPATCH_RETENTION_DAYS)."""
    now = now or timezone.now()
    cutoff, reports, calls = anonymisable(days, now=now)
    counts = {}
    for name, queryset in (("reports", reports), ("calls", calls)):
        total = 0
        while ids := list(queryset.values_list("pk", flat=True)[:BATCH_SIZE]):
            with transaction.atomic():
                total += queryset.model.objects.filter(pk__in=ids).update(
                    caller_name="", caller_phone="", anonymised_at=now, **_ERASED[name]
                )
        counts[name] = total
    others = dict(eraser(cutoff, now) for eraser in ERASERS)
    logger.info(
        "Anonymised callers received before %s: %s reports, %s calls",
        cutoff.isoformat(),
        counts["reports"],
        counts["calls"],
    )
    return Anonymised(cutoff=cutoff, others=others, **counts)


# Besides the name and number: the caller's handset position on a call (AML, SPEC §9).
_ERASED = {
    "reports": {},
    "calls": {
        "caller_latitude": None,
        "caller_longitude": None,
        "caller_accuracy_m": None,
        "caller_located_at": None,
    },
}
