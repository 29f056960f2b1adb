"""A past for the demo city (issue 17 §8): `seed_demo --history DAYS` writes DAYS days of
calls, reports and assignments before today, so that a supervisor's first look at
/performance/ has a ranking, charts and slow agencies instead of zeros.

Shaped on the figures of SPEC §1: about 38 % of calls are pranks or silent ("ghost") calls,
a share of the rest are questions; the reports are routed as the real routing routes them
(agencies.routing); each agency has a speed of its own (some fast, some clearly slow), so
acknowledgements late past their priority's timeout are escalated and arrivals past the
agency's target are overdue, as the sweep would have marked them. Every past report is
closed. Written with bulk inserts and published nowhere (it is the past); repeatable for the
same seed; a database that already has history before today is left alone."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from agencies import routing
from agencies.models import Agency, Category, Kecamatan, Unit

from .models import (
    Assignment,
    AssignmentStatus,
    Call,
    CallOutcome,
    CloseReason,
    Report,
    ReportCounter,
    ReportStatus,
)

# How each agency works, as a multiple of a typical agency's times (1.0): the ranking the
# demo shows. Damkar and Dishub are quick, DPU and PLN slow.
SPEED = {
    "damkar": 0.55, "dishub": 0.7, "ambulans": 0.8, "basarnas": 0.9, "bpbd": 1.05,
    "polrestabes": 1.25, "satpolpp": 1.35, "dpu": 1.7, "pln": 2.0,
}  # fmt: skip
# Share of calls by outcome (SPEC §1: Semarang 2023, 38.6 % prank or silent).
OUTCOMES = (
    (CallOutcome.REPORT, 0.46),
    (CallOutcome.PRANK, 0.30),
    (CallOutcome.GHOST, 0.085),
    (CallOutcome.INFORMATION, 0.12),
    (CallOutcome.OTHER, 0.035),
)
# Calls per hour of the WIB day (relative): quiet at night, busy from morning to evening.
HOURLY = (2, 1, 1, 1, 1, 2, 4, 6, 8, 8, 8, 8, 8, 7, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3)
# Reports per category (relative).
CATEGORY_WEIGHT = {
    "kemacetan": 14, "kecelakaan": 12, "kebakaran": 6, "darurat_medis": 16, "ambulans": 8,
    "kriminal": 6, "bencana": 2, "banjir": 5, "pohon_tumbang": 6, "pju_padam": 5,
    "kamtibmas": 6, "evakuasi_hewan": 3, "korsleting": 4, "penemuan_mayat": 1, "narkoba": 2,
}  # fmt: skip
STREETS = (
    "Jl. Pandanaran", "Jl. Pemuda", "Jl. Gajah Mada", "Jl. Pahlawan", "Jl. MT Haryono",
    "Jl. Majapahit", "Jl. Kaligawe", "Jl. Setiabudi", "Jl. Sultan Agung", "Jl. Veteran",
    "Jl. Imam Bonjol", "Jl. Dr. Cipto", "Jl. Siliwangi", "Jl. Brigjen Sudiarto",
    "Jl. Ngesrep Timur", "Jl. Prof. Sudarto", "Jl. Kelud Raya", "Jl. Indraprasta",
)  # fmt: skip
NAMES = ("Budi", "Siti", "Agus", "Dewi", "Rudi", "Wati", "Joko", "Rina", "Eko", "Sri", "")
REJECT_REASONS = ("Bukan wilayah kami", "Sudah ditangani instansi lain", "Laporan tidak jelas")
CALLS_PER_DAY = 240


@dataclass(frozen=True)
class Result:
    days: int
    calls: int
    reports: int
    assignments: int
    skipped: bool = False


def has_history() -> bool:
    start = datetime.combine(timezone.localdate(), time.min, tzinfo=timezone.get_default_timezone())
    return Report.objects.filter(received_at__lt=start).exists()


def _phone(rng: random.Random) -> str:
    return "+628" + "".join(rng.choice("0123456789") for _ in range(rng.choice((9, 10))))


@transaction.atomic
def seed_history(days: int, *, seed: int = 112) -> Result:
    """Writes `days` days of history before today (WIB), or nothing if there is some."""
    if days <= 0 or has_history():
        return Result(days, 0, 0, 0, skipped=days > 0)
    rng = random.Random(seed)
    users = get_user_model().objects
    operator = users.filter(groups__name="operator").order_by("pk").first()
    if operator is None:
        raise ValueError("The history needs the demo operator: run seed_demo first.")
    staff = {
        a.code: users.filter(agency_membership__agency=a, agency_membership__role="staff")
        .order_by("pk")
        .first()
        for a in Agency.objects.all()
    }
    units = {}
    for unit in Unit.objects.filter(active=True).order_by("call_sign"):
        units.setdefault(unit.agency_id, []).append(unit)
    kecamatan = list(Kecamatan.objects.exclude(latitude=None).order_by("code"))
    categories = []
    for category in Category.objects.filter(active=True).order_by("code"):
        try:
            agencies = routing.route(category=category)
        except Exception:  # a category routed nowhere (lainnya): the operator chooses
            continue
        categories.append((category, agencies, CATEGORY_WEIGHT.get(category.code, 1)))
    prank_numbers = [_phone(rng) for _ in range(25)]  # the repeat offenders
    zone = timezone.get_default_timezone()
    today = timezone.localdate()
    prefix = settings.DISPATCH_REPORT_PREFIX

    calls, reports, plans, counters = [], [], [], []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        count = round(CALLS_PER_DAY * rng.uniform(0.8, 1.2))
        hours = rng.choices(range(24), weights=HOURLY, k=count)
        moments = sorted(
            datetime.combine(day, time(hour), tzinfo=zone) + timedelta(seconds=rng.uniform(0, 3600))
            for hour in hours
        )
        sequence = 0
        for moment in moments:
            (outcome,) = rng.choices([o for o, _ in OUTCOMES], weights=[w for _, w in OUTCOMES])
            if outcome != CallOutcome.REPORT:
                pranker = outcome == CallOutcome.PRANK and rng.random() < 0.6
                calls.append(Call(
                    caller_phone=rng.choice(prank_numbers) if pranker else _phone(rng),
                    received_at=moment, operator=operator, outcome=outcome,
                ))  # fmt: skip
                continue
            sequence += 1
            category, agencies, _ = rng.choices(categories, weights=[w for *_, w in categories])[0]
            place = rng.choice(kecamatan)
            phone = _phone(rng)
            report = Report(
                number=f"{prefix}-{day:%Y%m%d}-{sequence:04d}",
                caller_phone=phone,
                caller_name=rng.choice(NAMES),
                category=category,
                priority=category.default_priority,
                description=f"{category.name} (riwayat demo)",
                address=f"{rng.choice(STREETS)} {rng.randint(1, 200)}",
                kecamatan=place,
                latitude=round(float(place.latitude) + rng.uniform(-0.008, 0.008), 6),
                longitude=round(float(place.longitude) + rng.uniform(-0.008, 0.008), 6),
                received_at=moment,
                operator=operator,
                status=ReportStatus.CLOSED,
                close_reason=CloseReason.RESOLVED,
                closed_by=operator,
            )
            reports.append(report)
            plans.append((report, agencies))
            calls.append(Call(
                caller_phone=phone, caller_name=report.caller_name, received_at=moment,
                operator=operator, outcome=CallOutcome.REPORT, report=report,
            ))  # fmt: skip
        if sequence:
            counters.append(ReportCounter(day=day, last=sequence))

    assignments = []
    for report, agencies in plans:
        finished = []
        for agency in agencies:
            assignment = _assignment(rng, report, agency, staff.get(agency.code), units)
            assignments.append(assignment)
            finished.append(assignment.resolved_at or assignment.rejected_at)
        report.closed_at = max(finished) + timedelta(minutes=rng.uniform(1, 10))
    Report.objects.bulk_create(reports, batch_size=500)  # sets their ids for what follows
    Assignment.objects.bulk_create(assignments, batch_size=500)
    Call.objects.bulk_create(calls, batch_size=500)
    for counter in counters:  # today's numbering is untouched; past days continue after it
        ReportCounter.objects.update_or_create(day=counter.day, defaults={"last": counter.last})
    return Result(days, len(calls), len(reports), len(assignments))


def _assignment(rng, report, agency, actor, units) -> Assignment:
    speed = SPEED.get(agency.code, 1.0)
    notified = report.received_at + timedelta(seconds=rng.uniform(1, 4))
    fields = {"report": report, "agency": agency, "received_at": report.received_at}
    fields["notified_at"] = notified
    ack = notified + timedelta(seconds=rng.lognormvariate(3.6, 0.7) * speed)  # median ~37 s
    timeout = settings.DISPATCH_ACK_TIMEOUT[report.priority]
    if (ack - notified).total_seconds() > timeout:
        fields["escalated_at"] = notified + timedelta(seconds=timeout)
    fields.update(acknowledged_at=ack, acknowledged_by=actor)
    if rng.random() < 0.05:
        rejected = ack + timedelta(seconds=rng.uniform(20, 120))
        return Assignment(
            **fields, status=AssignmentStatus.REJECTED, rejected_at=rejected, rejected_by=actor,
            reject_reason=rng.choice(REJECT_REASONS),
        )  # fmt: skip
    dispatched = ack + timedelta(seconds=rng.uniform(15, 90) * speed)
    travel = timedelta(seconds=rng.lognormvariate(6.0, 0.45) * speed)  # median ~7 min
    arrived = dispatched + travel
    target = agency.response_target_seconds
    if (arrived - report.received_at).total_seconds() > target:
        fields["overdue_at"] = report.received_at + timedelta(seconds=target)
    fleet = units.get(agency.pk)
    unit = rng.choice(fleet) if fleet else None
    return Assignment(
        **fields,
        status=AssignmentStatus.RESOLVED,
        dispatched_at=dispatched, dispatched_by=actor,
        eta_minutes=max(1, round(travel.total_seconds() / 60 * rng.uniform(0.8, 1.2))),
        unit=unit.call_sign if unit else "Regu 1", unit_ref=unit,
        departed_at=dispatched + timedelta(seconds=rng.uniform(10, 60)), departed_by=actor,
        arrived_at=arrived, arrived_by=actor,
        resolved_at=arrived + timedelta(seconds=rng.uniform(300, 2400) * speed),
        resolved_by=actor,
        resolution_note="Ditangani di lokasi.",
    )  # fmt: skip
