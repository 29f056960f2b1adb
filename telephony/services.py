"""The phone system's events and the callers' handset positions (SPEC §9).

`call_event` takes the PBX's ringing / answered / ended, once each per call; `aml_receive`
stores an AML message (accepted, no fix, or rejected with the field at fault) and matches it
to the call logged from the same number within AML_MATCH_WINDOW, whichever came first (the
other direction is `match_logged_call`, on reports.signals.call_logged). What an operator
must see is published live after the commit (telephony.live)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.roles import Role, user_role
from core.errors import ActionForbidden
from core.validation import Errors, clean_choice, clean_text, escape_control_characters
from reports.models import Call
from reports.phone import normalize_phone
from reports.services import call_set_caller_location

from . import live
from .aml import AmlError, AmlReading, parse_https, parse_sms
from .models import (
    AmlFormat,
    AmlMessage,
    AmlStatus,
    CallEvent,
    CallEventKind,
    CallState,
    Extension,
    PhoneCall,
)

# An AML message and a logged call from the same number are the same emergency when this
# close in time (SPEC §9), in either order.
AML_MATCH_WINDOW = timedelta(minutes=10)
# How far a PBX's clock (`at`) may be ahead of ours before the event is refused.
CLOCK_SLACK = timedelta(minutes=5)


def _require_telephony(actor) -> None:
    if user_role(actor) != Role.TELEPHONY:
        raise ActionForbidden(_("Only the phone system's account posts call events."))


def caller_number(raw: str) -> str:
    """E.164 for an Indonesian number; otherwise the digits as the network gave them (a
    foreign roamer, a short code), never an error: a call must not be lost over its CLI."""
    raw = (raw or "").strip()
    if raw.lower() in ("", "anonymous", "unknown", "restricted", "private"):
        return ""
    try:
        return normalize_phone(raw)
    except ValidationError:
        kept = "".join(c for c in raw if c.isdigit() or c == "+")
        return kept[:40]


# --- Call events (CTI) ------------------------------------------------------------------------


def call_event(
    *,
    actor,
    call_id: str,
    event: str,
    caller_phone: str = "",
    extension: str = "",
    at: datetime | None = None,
) -> tuple[PhoneCall, bool]:
    """Records one PBX event; returns (the call, False when it was a repeat). Bad input →
    ValidationError naming the field, nothing stored."""
    _require_telephony(actor)
    errors = Errors()
    call_id = clean_text(errors, "call_id", call_id, max_length=100, required=True)
    clean_choice(errors, "event", event, CallEventKind)
    extension = clean_text(errors, "extension", extension or "", max_length=16)
    now = timezone.now()
    if at is None:
        at = now
    elif not isinstance(at, datetime) or timezone.is_naive(at):
        errors.add("at", _("Give a date and time with its time zone."))
    elif at > now + CLOCK_SLACK:
        errors.add("at", _("The event is in the future: check the PBX's clock."))
    if not isinstance(caller_phone, str):
        errors.add("caller_phone", _("Enter a phone number."))
    errors.raise_if_any()
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _call_event(call_id, event, caller_number(caller_phone), extension, at)
        except IntegrityError:
            # Two events of one new call at once (ringing and answered racing in): the
            # second sees the first's row on its retry.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _call_event(call_id, event, phone, extension, at) -> tuple[PhoneCall, bool]:
    call = PhoneCall.objects.select_for_update().filter(call_id=call_id).first()
    if call is None:
        call = PhoneCall.objects.create(
            call_id=call_id, caller_phone=phone, state=CallState.RINGING
        )
    elif CallEvent.objects.filter(phone_call=call, kind=event).exists():
        return call, False
    CallEvent.objects.create(phone_call=call, kind=event, at=at)
    if phone and not call.caller_phone:
        call.caller_phone = phone
    if extension:
        call.extension = extension
        owner = Extension.objects.filter(number=extension).select_related("operator").first()
        call.operator = owner.operator if owner else call.operator
    if event == CallEventKind.RINGING:
        call.ringing_at = at
    elif event == CallEventKind.ANSWERED:
        call.answered_at = at
        # Events may arrive out of order: a late `answered` after `ended` keeps the end.
        call.state = CallState.ENDED if call.ended_at else CallState.ANSWERED
    else:
        call.ended_at = at
        # Ringing → ended without an answer: the caller gave up (abandoned, SPEC §9).
        call.state = CallState.ENDED if call.answered_at else CallState.ABANDONED
    call.save(
        update_fields=[
            "caller_phone", "extension", "operator", "state", "ringing_at", "answered_at",
            "ended_at",
        ]
    )  # fmt: skip
    live.publish_call_on_commit(call, event)
    return call, True


def phone_call_dismiss(*, actor, call_id: str) -> PhoneCall:
    """An operator dealt with a call the caller gave up on (called back, or nothing to do):
    recorded (who, when) and taken down from every console that showed it. Dismissing it
    again changes nothing."""
    if user_role(actor) != Role.OPERATOR:
        raise ActionForbidden(_("Your role may not do this."))
    with transaction.atomic():
        call = (
            PhoneCall.objects.select_for_update(of=("self",))
            .select_related("operator", "dismissed_by")
            .get(call_id=call_id, state=CallState.ABANDONED)
        )
        if call.dismissed_at is None:
            call.dismissed_at, call.dismissed_by = timezone.now(), actor
            call.save(update_fields=["dismissed_at", "dismissed_by"])
            live.publish_dismissed_on_commit(call)
    return call


# --- AML ----------------------------------------------------------------------------------------


def aml_receive(*, actor, sms: str | None = None, sender: str = "", form=None) -> AmlMessage:
    """Stores one AML message. The SMS text when `sms` is given, the HTTPS form otherwise.
    Returns the stored message; a rejected one has `error_field` and `error` (the API
    answers 400 with them)."""
    _require_telephony(actor)
    if sms is not None:
        kind, raw = AmlFormat.SMS, sms if isinstance(sms, str) else repr(sms)
    else:
        kind = AmlFormat.HTTPS
        raw = "&".join(f"{k}={v}" for k, v in (form or {}).items())
    # Kept as received, for the record, but legible and storable: PostgreSQL refuses a NUL,
    # and a rejected message is kept too.
    raw = escape_control_characters(raw[:20000])
    try:
        if kind == AmlFormat.SMS:
            reading = parse_sms(sms, sender=sender)
        else:
            reading = parse_https(form or {})
        if reading.located_at is not None and reading.located_at > timezone.now() + CLOCK_SLACK:
            # A clock off by years (or seconds read as milliseconds) is no position to send a
            # unit to.
            raise AmlError(
                "top" if kind == AmlFormat.SMS else "location_time",
                _("The position time is in the future: check the handset's or gateway's clock."),
            )
    except AmlError as error:
        return AmlMessage.objects.create(
            format=kind,
            status=AmlStatus.REJECTED,
            raw=raw,
            error_field=error.field[:40],
            error=error.message[:300],
            caller_phone=caller_number(sender if kind == AmlFormat.SMS else _field(form)),
        )
    with transaction.atomic():
        message = AmlMessage.objects.create(
            format=kind,
            status=AmlStatus.ACCEPTED if reading.has_fix else AmlStatus.NO_FIX,
            raw=raw,
            **_reading_fields(reading),
        )
        if message.status == AmlStatus.ACCEPTED and message.caller_phone:
            call = (
                Call.objects.select_for_update()
                .filter(
                    caller_phone=message.caller_phone,
                    received_at__gte=message.received_at - AML_MATCH_WINDOW,
                    received_at__lte=message.received_at + AML_MATCH_WINDOW,
                )
                .order_by("-received_at")
                .first()
            )
            if call is not None:
                _attach(message, call)
        live.publish_aml_on_commit(message)
    return message


def _field(form) -> str:
    value = (form or {}).get("device_number", "")
    return value if isinstance(value, str) else ""


def _reading_fields(reading: AmlReading) -> dict:
    return {
        "caller_phone": caller_number(reading.caller_phone),
        "latitude": reading.latitude,
        "longitude": reading.longitude,
        "accuracy_m": reading.accuracy_m,
        "positioning": reading.positioning,
        "confidence_pct": reading.confidence_pct,
        "located_at": reading.located_at,
        "imei": reading.imei,
        "imsi": reading.imsi,
        "mcc": reading.mcc,
        "mnc": reading.mnc,
    }


def _attach(message: AmlMessage, call: Call) -> None:
    message.call = call
    message.save(update_fields=["call"])
    call_set_caller_location(
        call,
        latitude=message.latitude,
        longitude=message.longitude,
        accuracy_m=message.accuracy_m,
        located_at=message.located_at or message.received_at,
    )


def match_logged_call(sender, call: Call, **kwargs) -> None:
    """reports.signals.call_logged: an operator logged a call. The AML from its number in
    the window before it (the handset sends it as the call starts) goes onto it, and the
    PBX's call from that number is linked to it (per-operator answering statistics)."""
    if not call.caller_phone:
        return
    message = (
        AmlMessage.objects.filter(
            caller_phone=call.caller_phone,
            status=AmlStatus.ACCEPTED,
            call__isnull=True,
            received_at__gte=call.received_at - AML_MATCH_WINDOW,
            received_at__lte=call.received_at + AML_MATCH_WINDOW,
        )
        .order_by("-received_at")
        .first()
    )
    if message is not None:
        _attach(message, call)
    phone_call = (
        PhoneCall.objects.filter(
            caller_phone=call.caller_phone,
            logged_call__isnull=True,
            answered_at__isnull=False,
            answered_at__gte=call.received_at - AML_MATCH_WINDOW,
            answered_at__lte=call.received_at + AML_MATCH_WINDOW,
        )
        .order_by("-answered_at")
        .first()
    )
    if phone_call is not None:
        phone_call.logged_call = call
        phone_call.save(update_fields=["logged_call"])


# --- Retention ------------------------------------------------------------------------------------


def erase_before(cutoff: datetime, now: datetime) -> tuple[str, int]:
    """reports.retention: AML messages and PBX calls are personal data like the number."""
    messages = AmlMessage.objects.filter(received_at__lt=cutoff, anonymised_at__isnull=True)
    erased = messages.update(
        raw="",
        caller_phone="",
        latitude=None,
        longitude=None,
        accuracy_m=None,
        imei="",
        imsi="",
        anonymised_at=now,
    )
    PhoneCall.objects.filter(created_at__lt=cutoff, anonymised_at__isnull=True).update(
        caller_phone="", anonymised_at=now
    )
    return "AML messages", erased
