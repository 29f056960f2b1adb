"""Every change to units, crews and positions (SPEC §7). Steps of an assignment (dispatch,
arrival…) are reports.services, which moves the serving unit's status along with them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import geo
from agencies.models import AgencyMember, Kecamatan, Unit, UnitKind, UnitStatus
from agencies.roles import Role, user_agency, user_role, user_unit_id
from core.errors import ActionForbidden, TransitionNotAllowed
from core.validation import Errors, clean_choice, clean_position, clean_text
from notifications import positions
from reports import access
from reports.models import UNIT_BUSY_STATUSES, Assignment, Report
from reports.services import event_record, unit_set_status

from .models import UnitPosition

User = AbstractBaseUser
# What a crew or its desk may set by hand; en route and on scene follow the assignment.
SETTABLE_STATUSES = (UnitStatus.AVAILABLE, UnitStatus.OUT_OF_SERVICE)


def may_manage(user: User, unit: Unit) -> bool:
    """The agency's desk staff configure and move their own units."""
    return user_role(user) == Role.AGENCY_STAFF and user_agency(user) == unit.agency


def may_operate(user: User, unit: Unit) -> bool:
    """Who may move a unit or set it available / out of service: a field officer signed on
    to it, or its agency's staff."""
    return may_manage(user, unit) or (user_unit_id(user) == unit.pk)


def _locked(unit: Unit | int) -> Unit:
    unit_id = unit.pk if isinstance(unit, Unit) else unit
    return (
        Unit.objects.select_for_update(of=("self",), no_key=True)
        .select_related("agency", "home_kecamatan")
        .get(pk=unit_id)
    )


# --- Configuration (the agency's staff; admins use the admin) ------------------------------------


def _clean_config(errors: Errors, agency, *, call_sign, kind, home_kecamatan, unit=None) -> dict:
    fields = {}
    if call_sign is not None:
        call_sign = clean_text(errors, "call_sign", call_sign, max_length=20, required=True)
        call_sign = call_sign.upper()
        candidate = Unit(agency=agency, call_sign=call_sign, kind=UnitKind.CREW)
        try:
            candidate.clean_fields(exclude=["agency", "kind", "home_kecamatan", "status"])
        except ValidationError as error:
            errors.absorb(error)
        else:
            taken = Unit.objects.filter(agency=agency, call_sign=call_sign)
            if unit is not None:
                taken = taken.exclude(pk=unit.pk)
            if taken.exists():
                errors.add("call_sign", _("%(agency)s already has a unit %(call_sign)s.")
                           % {"agency": agency.short_name, "call_sign": call_sign})  # fmt: skip
        fields["call_sign"] = call_sign
    if kind is not None:
        clean_choice(errors, "kind", kind, UnitKind)
        fields["kind"] = kind
    if home_kecamatan is not None:
        if home_kecamatan == "":
            fields["home_kecamatan"] = None
        else:
            found = (
                Kecamatan.objects.filter(code=home_kecamatan).first()
                if isinstance(home_kecamatan, str)
                else None
            )
            if found is None:
                errors.add("home_kecamatan", _("Choose one of the city's kecamatan."))
            fields["home_kecamatan"] = found
    return fields


@transaction.atomic
def unit_create(
    *, actor: User, call_sign: str, kind: str, home_kecamatan: str | None = None
) -> Unit:
    if user_role(actor) != Role.AGENCY_STAFF:
        raise ActionForbidden(_("Only an agency's staff add its units."))
    agency = user_agency(actor)
    errors = Errors()
    fields = _clean_config(
        errors, agency, call_sign=call_sign, kind=kind, home_kecamatan=home_kecamatan
    )
    errors.raise_if_any()
    unit = Unit.objects.create(agency=agency, **fields)
    event_record(None, "unit.updated", actor=actor, unit=unit,
                 data={"status": unit.status, "assignment": None, "reason": "created"})  # fmt: skip
    return unit


@transaction.atomic
def unit_update(
    *,
    actor: User,
    unit: Unit | int,
    call_sign: str | None = None,
    kind: str | None = None,
    home_kecamatan: str | None = None,
    active: bool | None = None,
) -> Unit:
    """Changes a unit's configuration. A unit serving an assignment keeps its call sign
    and cannot be retired until it is released."""
    unit = _locked(unit)
    if not may_manage(actor, unit):
        raise ActionForbidden(_("Only the unit's agency manages it."))
    errors = Errors()
    fields = _clean_config(
        errors, unit.agency, call_sign=call_sign, kind=kind, home_kecamatan=home_kecamatan,
        unit=unit,
    )  # fmt: skip
    if active is not None:
        fields["active"] = bool(active)
    errors.raise_if_any()
    busy = unit.status in (UnitStatus.DISPATCHED, UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE)
    if busy and (fields.get("active") is False or fields.get("call_sign", unit.call_sign)
                 != unit.call_sign):  # fmt: skip
        raise TransitionNotAllowed(
            _("%(unit)s is serving an assignment: release it first.") % {"unit": unit.call_sign}
        )
    for name, value in fields.items():
        setattr(unit, name, value)
    if fields:
        unit.save(update_fields=list(fields))
        if fields.get("active") is False:  # its crew is signed off (saved one by one: the
            # token cache forgets each officer's unit and their sockets reconnect,
            # agencies.revocation)
            for member in AgencyMember.objects.select_for_update().filter(unit=unit):
                member.unit, member.signed_on_at = None, None
                member.save(update_fields=["unit", "signed_on_at"])
        event_record(None, "unit.updated", actor=actor, unit=unit,
                     data={"status": unit.status, "assignment": None,
                           "reason": "configured", "changed": sorted(fields)})  # fmt: skip
    return unit


# --- Crews: signing on and off -------------------------------------------------------------------


def _membership(officer: User) -> AgencyMember:
    if user_role(officer) != Role.FIELD:
        raise ActionForbidden(_("Only field officers sign on to a unit."))
    return AgencyMember.objects.select_for_update().get(user=officer)


@transaction.atomic
def sign_on(*, officer: User, unit: Unit | int) -> Unit:
    """The officer joins `unit`'s crew for the shift (leaving any other unit)."""
    member = _membership(officer)
    unit = _locked(unit)
    if unit.agency_id != member.agency_id or not unit.active:
        raise ActionForbidden(_("You can sign on only to an active unit of your agency."))
    if member.unit_id == unit.pk:
        return unit
    if member.unit_id is not None:
        _leave(member, officer)
    member.unit, member.signed_on_at = unit, timezone.now()
    member.save(update_fields=["unit", "signed_on_at"])
    event_record(None, "unit.updated", actor=officer, unit=unit,
                 data={"status": unit.status, "reason": "signed_on",
                       "officer": officer.get_username()})  # fmt: skip
    return unit


@transaction.atomic
def sign_off(*, officer: User, unit: Unit | int) -> Unit:
    member = _membership(officer)
    unit = _locked(unit)
    if member.unit_id != unit.pk:
        raise TransitionNotAllowed(_("You are not signed on to %(unit)s.") % {"unit": unit})
    _leave(member, officer)
    return unit


def _leave(member: AgencyMember, officer: User) -> None:
    unit = member.unit
    member.unit, member.signed_on_at = None, None
    member.save(update_fields=["unit", "signed_on_at"])
    event_record(None, "unit.updated", actor=officer, unit=unit,
                 data={"status": unit.status, "reason": "signed_off",
                       "officer": officer.get_username()})  # fmt: skip


# --- Status set by hand ---------------------------------------------------------------------------


@transaction.atomic
def unit_status(*, actor: User, unit: Unit | int, status: str) -> Unit:
    """available / out of service (SPEC §7); en route and on scene follow the assignment."""
    unit = _locked(unit)
    if not may_operate(actor, unit):
        raise ActionForbidden(_("You may not change this unit."))
    errors = Errors()
    if status not in SETTABLE_STATUSES:
        errors.add("status", _("Choose available or out of service."))
    errors.raise_if_any()
    serving = Assignment.objects.filter(unit_ref=unit, status__in=UNIT_BUSY_STATUSES).first()
    if serving is not None:
        raise TransitionNotAllowed(
            _("%(unit)s is serving an assignment: finish it first (or the desk diverts it).")
            % {"unit": unit.call_sign}
        )
    return unit_set_status(unit, status, actor=actor, reason="set")


# --- Positions ------------------------------------------------------------------------------------


def clean_recorded_at(errors: Errors, value, now: datetime) -> datetime:
    if value is None:
        return now
    if not isinstance(value, datetime):
        errors.add("recorded_at", _("Give a date and time (ISO 8601)."))
        return now
    if value > now + timedelta(seconds=settings.DISPATCH_FUTURE_TOLERANCE_SECONDS):
        errors.add("recorded_at", _("This is in the future."))
    elif value < now - timedelta(days=settings.DISPATCH_TRACK_DAYS):
        errors.add("recorded_at", _("Older than the track is kept."))
    return value


def record_position(
    *,
    actor: User,
    unit: Unit | int,
    latitude,
    longitude,
    accuracy_m=None,
    recorded_at: datetime | None = None,
    admit: Callable[[int], bool] | None = None,
) -> dict | None:
    """Stores a GPS fix in the unit's track and, when it is the newest, as its last position,
    published on the positions lane after commit (notifications.positions). Bad input →
    ValidationError, nothing stored. `admit(unit_id)`, asked once the fix is valid and
    allowed, may refuse to store it (a rate, units.frames): None, nothing stored. Else the
    position as published ({} for an older fix: kept in the track only).

    One statement on PostgreSQL (issue 34 §3): who may move the unit is the actor's viewer
    (pinned on a socket: no query), put in the statement's WHERE; the track row and the
    unit's newest position are written together. Only a refusal asks more (404 or 403)."""
    now = timezone.now()
    errors = Errors()
    position = clean_position(errors, latitude, longitude, accuracy_m, required=True)
    recorded_at = clean_recorded_at(errors, recorded_at, now)
    unit_id = unit.pk if isinstance(unit, Unit) else unit
    viewer = access.as_viewer(actor)
    movable = access.units_movable_by(viewer)
    if movable is None or movable.get("id", unit_id) != unit_id:
        _refuse(viewer, unit_id)
    errors.raise_if_any()
    if admit is not None and not admit(unit_id):
        return None
    lat, lng, accuracy = position
    match = {**movable, "id": unit_id}
    stored, newest = _store_position(match, lat, lng, accuracy, recorded_at, now)
    if not stored:
        _refuse(viewer, unit_id)
    if newest is None:
        return {}
    call_sign, status = newest
    entry = {
        "id": unit_id,
        "agency": viewer.agency_code,
        "call_sign": call_sign,
        "status": status,
        "latitude": lat,
        "longitude": lng,
        "accuracy_m": accuracy,
        "position_at": recorded_at.isoformat(),
    }
    positions.publish_on_commit(entry)
    return entry


def _refuse(viewer, unit_id: int):
    """Why a position was not stored: no such unit for this viewer (404), or not theirs to
    move (403)."""
    if not access.units_visible_to(viewer).filter(pk=unit_id).exists():
        raise Unit.DoesNotExist
    raise ActionForbidden(_("Only the unit's crew or its agency may move it."))


_TRACK_COLUMNS = "unit_id, latitude, longitude, accuracy_m, recorded_at, received_at"


def _store_position(match: dict, lat, lng, accuracy, recorded_at, now):
    """(whether the unit matched and the fix went into its track, (call_sign, status) if it is
    the unit's newest position else None)."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    unit_table, track_table = quote(Unit._meta.db_table), quote(UnitPosition._meta.db_table)
    where = " AND ".join(f"{quote(column)} = %s" for column in match)
    keys = list(match.values())
    at = connection.ops.adapt_datetimefield_value(recorded_at)
    received = connection.ops.adapt_datetimefield_value(now)
    insert = (
        f"INSERT INTO {track_table} ({_TRACK_COLUMNS}) "
        f"SELECT id, %s, %s, %s, %s, %s FROM {unit_table} WHERE {where}"
    )
    update = (
        f"UPDATE {unit_table} SET latitude = %s, longitude = %s, accuracy_m = %s, "
        f"position_at = %s WHERE {where} AND (position_at IS NULL OR position_at <= %s)"
    )
    insert_params = [lat, lng, accuracy, at, received, *keys]
    update_params = [lat, lng, accuracy, at, *keys, at]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH track AS ({insert} RETURNING unit_id), "
                f"moved AS ({update} RETURNING call_sign, status) "
                "SELECT (SELECT count(*) FROM track), moved.call_sign, moved.status "
                "FROM (SELECT 1) AS one LEFT JOIN moved ON TRUE",
                insert_params + update_params,
            )
            count, call_sign, status = cursor.fetchone()
            return bool(count), (call_sign, status) if call_sign is not None else None
        with transaction.atomic(using=connection.alias):  # SQLite: no writes in a WITH
            cursor.execute(insert, insert_params)
            if cursor.rowcount != 1:
                return False, None
            cursor.execute(f"{update} RETURNING call_sign, status", update_params)
            return True, cursor.fetchone()


def prune_tracks(*, now: datetime | None = None) -> int:
    """Deletes positions older than DISPATCH_TRACK_DAYS. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.DISPATCH_TRACK_DAYS)
    deleted, _ = UnitPosition.objects.filter(recorded_at__lt=cutoff).delete()
    return deleted


# --- The closest unit first ---------------------------------------------------------------------


def recommend(assignment: Assignment, *, now: datetime | None = None) -> list[dict]:
    """The assignment's agency's active units, available first, then by estimated travel
    time from their last position (or home kecamatan's centre) to the report (or its
    kecamatan's centre), SPEC §7. Units with no place to measure from come last."""
    now = now or timezone.now()
    report: Report = assignment.report
    target = geo.place_of(report.latitude, report.longitude, report.kecamatan)
    rows = []
    units = Unit.objects.filter(agency_id=assignment.agency_id, active=True).select_related(
        "home_kecamatan"
    )
    for unit in units:
        start = geo.place_of(unit.latitude, unit.longitude, unit.home_kecamatan)
        distance = round(geo.metres(*start, *target)) if start and target else None
        rows.append(
            {
                "id": unit.pk,
                "call_sign": unit.call_sign,
                "kind": unit.kind,
                "status": unit.status,
                "distance_m": distance,
                "eta_minutes": geo.travel_minutes(distance) if distance is not None else None,
                "position_age_s": (
                    round((now - unit.position_at).total_seconds()) if unit.position_at else None
                ),
                "from_home": unit.position_at is None,
            }
        )
    rows.sort(
        key=lambda r: (
            r["status"] != UnitStatus.AVAILABLE,
            r["distance_m"] is None,
            r["distance_m"] or 0,
            r["call_sign"],
        )
    )
    return rows


def prune_idempotency_keys(*, now: datetime | None = None) -> int:
    """A queued tap is replayed within minutes or hours; its stored answer is kept a week."""
    from reports.models import IdempotentRequest

    cutoff = (now or timezone.now()) - timedelta(days=7)
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
