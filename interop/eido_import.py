"""An EIDO received (NENA-STA-021.1b JSON) as a report's fields: a pure function of the
document and of what this centre has (its categories and agencies, given by the caller — no
ORM here, STYLE "Adapters at the edge").

Anything NENA's schema allows is taken: references are resolved within the document and one
that points nowhere is skipped; every component but the agencies may be absent. A call
transfer without an incident yet becomes a report of category *lainnya* for the operator to
classify, with the caller's call-back number and the location given by value (PIDF-LO) — or,
by reference, the URL kept in the description (it is not fetched: a document does not get to
send this server to an address of its choosing). Registry values we have no mapping for are
kept in the description, in brackets."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.validation import (
    CONTROL_CHARACTERS,
    Errors,
    clean_aware_datetime,
    control_characters_message,
    escape_control_characters,
)
from reports.phone import normalize_phone

from .eido import FALLBACK_CATEGORY, MAX_PROBLEMS, EidoError, read_pidf_lo, validate
from .eido_export import INCIDENT_TYPES

KEY_LENGTH = 100  # ReceivedIncident.incident_id / message_id
# Which location describes the incident best (EIDO-LocationType), first found wins.
LOCATION_ORDER = ("CurrentIncident", "InitialIncident", "Caller", "Other", "RoutingLocation")
LEFT = {"Informational"}  # agency roles that do not mean "working on it"
TAG = re.compile(r"<[^>]*>")
BREAK = re.compile(r"<br\s*/?>|</p>", re.IGNORECASE)


@dataclass
class Incoming:
    """What an EIDO says, as report_receive's fields."""

    incident_id: str  # the document's $id: the same incident sent again is the same report
    message_id: str
    number: str | None  # the sender's own number for it (internalIncidentId), if it gave one
    reference: str  # the document's $id as sent
    sender: str  # the agency that sent (updatedByAgencyReference)
    fields: dict


def read(document, *, categories: Mapping[str, str], agencies: Collection[str]) -> Incoming:
    """An EIDO received, validated, as a report's fields; EidoError if it is not usable.
    `categories` are this centre's active ones (code → name), `agencies` its active codes."""
    validate(document)
    if problems := _control_characters(document, ""):
        raise EidoError(problems[:MAX_PROBLEMS])
    index = _index(document)
    incident = document.get("incidentComponent")
    calls = document.get("callComponent", [])
    lines: list[str] = []
    if incident is None:
        sender = _ref(document["updatedByAgencyReference"])
        known = ("agencyComponent", sender) in index
        name = sender if known else document["issuingElementIdentification"]
        lines.append(_("Call transferred by %(agency)s, no incident yet: classify it.")
                     % {"agency": name})  # fmt: skip
        category, priority, unmatched = FALLBACK_CATEGORY, None, False
    else:
        category, priority, unmatched = _category(incident, categories)
    phone, name, extra = _caller(calls, index, document.get("personComponent", []))
    place, where = _place(document, incident, calls, index)
    notes = _notes(document, incident, index)
    lines += notes or ([] if incident is None else [_type_text(incident)])
    if unmatched:
        lines.append(f"[{_type_text(incident)}]")
    lines += extra + where
    fields = {
        "category": category,
        "description": "\n".join(line for line in lines if line)[:4000],
        "address": (place.get("address") or place.get("area") or _("Location not given"))[:300],
        "latitude": place.get("latitude"),
        "longitude": place.get("longitude"),
        "caller_phone": phone,
        "caller_name": name[:120],
        "received_at": _start(calls, incident),
    }
    if priority is not None:
        fields["priority"] = priority
    if unmatched or incident is None:
        # Nothing here to route it by: to the agencies the sender had on it that exist here
        # too (the same codes), else to nobody yet — the operator classifies it.
        fields["agencies"] = [c for c in _agency_codes(document) if c in agencies]
    internal = incident.get("internalIncidentId") if incident else None
    internal = internal.strip() if isinstance(internal, str) and internal.strip() else None
    return Incoming(
        incident_id=_key(document["$id"]),
        message_id=_key(f"{document['$id']}@{document['lastUpdateTimeStamp']}"),
        number=internal,
        reference=document["$id"],
        sender=_ref(document["updatedByAgencyReference"]) or "",
        fields=fields,
    )


def _key(value: str) -> str:
    """A stored key of at most KEY_LENGTH: a longer id keeps its start and a digest (never
    truncated into another incident's id)."""
    if len(value) <= KEY_LENGTH:
        return value
    return f"{value[: KEY_LENGTH - 41]}#{hashlib.sha1(value.encode()).hexdigest()}"


def _ref(value) -> str | None:
    """The `$id` a reference points at; None for anything else (NENA's Reference has no type:
    a string in its place validates, and is skipped here)."""
    target = value.get("$ref") if isinstance(value, dict) else None
    return target if isinstance(target, str) else None


def _refs(component: dict | None, member: str, index: dict, kind: str) -> list[dict]:
    """The `kind` components (callComponent, …) that `component`'s `member` refers to; a
    reference to nothing, or to a component of another kind, is skipped."""
    found = component.get(member, []) if isinstance(component, dict) else []
    targets = [index.get((kind, _ref(r))) for r in (found if isinstance(found, list) else [found])]
    return [t for t in targets if t is not None]


def _index(document: dict) -> dict[tuple[str, str], dict]:
    """Every data component by its kind and $id (references are resolved in the document)."""
    index = {}
    for key, value in document.items():
        for component in value if isinstance(value, list) else [value]:
            if key.endswith("Component") and isinstance(component, dict):
                index.setdefault((key, component.get("$id")), component)
    return index


def _strings(value) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _category(incident: dict, categories: Mapping[str, str]) -> tuple[str, int | None, bool]:
    """Ours by the sender's internal code (a Dispatch 112 peer's category), else by its
    internal text naming one of ours, else by NENA's common type where one of ours alone has
    it; else `lainnya` with the sender's texts kept (True)."""
    code = incident.get("incidentTypeInternalCode")
    if isinstance(code, str) and code in categories:
        priority = incident.get("incidentPriorityInternalText")
        return code, int(priority) if priority in ("1", "2", "3") else None, False
    texts = [incident.get("incidentTypeInternalText"), incident["incidentTypeCommonRegistryText"]]
    by_name = {name.casefold(): c for c, name in categories.items()}
    for value in (t for t in texts if isinstance(t, str)):
        if (match := by_name.get(value.casefold())) or (match := _by_code(value, categories)):
            return match, None, False
    common = [c for c, t in INCIDENT_TYPES.items() if t == texts[1] and c in categories]
    if len(common) == 1 and common[0] != FALLBACK_CATEGORY:
        return common[0], None, False
    return FALLBACK_CATEGORY, None, True


def _by_code(value: str, categories: Mapping[str, str]) -> str | None:
    return next((c for c in categories if c.casefold() == value.casefold()), None)


def _type_text(incident: dict) -> str:
    texts = (incident.get("incidentTypeInternalText"), incident["incidentTypeCommonRegistryText"])
    return " / ".join(dict.fromkeys(t for t in texts if isinstance(t, str) and t))


def _caller(calls: list, index: dict, persons: list) -> tuple[str, str, list[str]]:
    """The first call's call-back number (a number this country's rules take, else kept as
    text) and its caller's name."""
    call = calls[0] if calls else {}
    people = _refs(call, "personReference", index, "personComponent") or persons
    callers = [p for p in people if "Caller" in _strings(p["personIncidentRoleRegistryText"])]
    person = (callers or people or [{}])[0]
    callbacks = [
        *_refs(call, "callBackReference", index, "callbackComponent"),
        *_refs(person, "callBackReference", index, "callbackComponent"),
    ]
    uris = [u for c in callbacks for u in _strings(c.get("callBackInformationUri"))]
    phone, extra = "", []
    for uri in uris:
        number = re.sub(r"^(tel:|sip:|sips:)", "", uri).split(";")[0].split("@")[0]
        try:
            phone = normalize_phone(number)
            break
        except ValidationError:
            continue
    if not phone and uris:
        extra.append(_("Call-back: %(uri)s") % {"uri": ", ".join(uris)[:300]})
    return phone, _person_name(person), extra


def _person_name(person: dict) -> str:
    """NIEM nc:PersonName: the full name, else given and surname."""
    try:
        name = person["ncPersonComponent"]["name"][0]
        full = name.get("personFullName") or []
        parts = full[:1] or [*name.get("personGivenName", [])[:1], *name.get("personSurName", [])]
        return " ".join(p["value"].strip() for p in parts if isinstance(p.get("value"), str))
    except (KeyError, IndexError, TypeError, AttributeError):
        return ""


def _place(document: dict, incident, calls: list, index: dict) -> tuple[dict, list[str]]:
    """The best location given by value, read from its PIDF-LO (an unreadable one is an
    EidoError naming it); locations given only by reference are kept as text."""
    candidates = _refs(incident, "locationReference", index, "locationComponent")
    for call in calls:
        candidates += _refs(call, "locationReference", index, "locationComponent")
    candidates += document.get("locationComponent", [])
    order = {kind: rank for rank, kind in enumerate(LOCATION_ORDER)}
    candidates.sort(key=lambda c: order.get(c["locationTypeDescriptionRegistryText"], 99))
    positions = {id(c): i for i, c in enumerate(document.get("locationComponent", []))}
    where = []
    for location in candidates:
        value = location.get("locationByValue")
        if isinstance(value, str) and value.strip():
            path = f"/locationComponent/{positions.get(id(location), 0)}/locationByValue"
            place = read_pidf_lo(value, path)
            if not place.get("address") and location.get("locationDescriptionText"):
                place["address"] = location["locationDescriptionText"]
            return place, where
        url = location.get("locationByReferenceUrl")
        if isinstance(url, str) and url and len(where) < 3:
            where.append(_("Location by reference: %(url)s") % {"url": url[:300]})
    described = [c.get("locationDescriptionText") for c in candidates]
    text = next((d for d in described if isinstance(d, str) and d.strip()), "")
    return {"address": text.strip()}, where


def _notes(document: dict, incident, index: dict) -> list[str]:
    """The incident's notes (else all the document's), HTML5 read back as text."""
    notes = _refs(incident, "notesReference", index, "notesComponent")
    notes = notes or document.get("notesComponent", [])
    lines = []
    for note in notes:
        comments = note.get("notesActionComments")
        if isinstance(comments, str):
            lines.append(html.unescape(TAG.sub("", BREAK.sub("\n", comments))).strip())
    return lines


def _start(calls: list, incident) -> datetime | None:
    """When it began: the first call's start (the response clock's start), else none (now);
    a date that cannot be (2026-02-30, an offset of +23:00) is an EidoError naming where."""
    errors, moments = Errors(), []
    for i, call in enumerate(calls):
        path = f"/callComponent/{i}/callStartTimestamp"
        moment = clean_aware_datetime(errors, path, call["callStartTimestamp"])
        if path in errors.by_field:
            raise EidoError(
                [{"path": path, "message": m} for e in errors.by_field[path] for m in e.messages]
            )
        moments.append(moment)
    return min((m for m in moments if m is not None), default=None)


def _agency_codes(document: dict) -> list[str]:
    """The agencies the sender has on the incident, as codes: a Dispatch 112 peer's code, or
    the last part of an agency id "…:agency:<code>"; not those only informed (rejected,
    cancelled)."""
    codes = []
    for agency in document["agencyComponent"]:
        if LEFT.issuperset(_strings(agency["agencyRoleDescriptionRegistryText"])):
            continue
        ours = agency.get("x-dispatch112")
        code = ours.get("code") if isinstance(ours, dict) else None
        if not isinstance(code, str) and ":agency:" in agency["$id"]:
            code = agency["$id"].rsplit(":agency:", 1)[1]
        if isinstance(code, str) and code:
            codes.append(code)
    return codes


def _control_characters(value, path: str) -> list[dict]:
    """Each place, key or value, where the document holds a control character (SPEC §13):
    ids and texts are stored and shown as they come."""
    if isinstance(value, str):
        found = CONTROL_CHARACTERS.search(value)
        return [{"path": path, "message": control_characters_message(path)}] if found else []
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(index), item) for index, item in enumerate(value))
    else:
        return []
    problems = []
    for key, item in items:
        where = f"{path}/{escape_control_characters(key)}"
        if CONTROL_CHARACTERS.search(key):
            problems.append({"path": where, "message": control_characters_message(key)})
        else:
            problems.extend(_control_characters(item, where))
    return problems
