"""EIDO (NENA-STA-021 JSON, SPEC §10): a report as an Emergency Incident Data Object, out for
another 112 centre and in from one. The shape is interop/schemas/eido.schema.json (see its
description for where it comes from); every EIDO in or out is validated against it.

The location travels as a PIDF-LO document (RFC 4119 / RFC 5491): the pin as a gml:Point, the
address line and kecamatan as a civic address. It is read back with defusedxml, as CAP is."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException
from django.conf import settings
from django.utils import timezone

from agencies.models import Agency, Category
from reports.models import Report, ReportStatus
from reports.validation import (
    CONTROL_CHARACTERS,
    Errors,
    clean_aware_datetime,
    control_characters_message,
    escape_control_characters,
)

SCHEMA_PATH = Path(__file__).parent / "schemas" / "eido.schema.json"
PIDF = "urn:ietf:params:xml:ns:pidf"
GP = "urn:ietf:params:xml:ns:pidf:geopriv10"
GML = "http://www.opengis.net/gml"
CA = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
GS = "http://www.opengis.net/pidflo/1.0"
FALLBACK_CATEGORY = "lainnya"


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


@dataclass
class EidoError(Exception):
    """An EIDO that is not one: each problem with the path to it."""

    problems: list[dict]


def validate(document) -> None:
    validator = jsonschema.Draft202012Validator(schema())
    problems = [
        {"path": "/" + "/".join(str(p) for p in error.absolute_path), "message": error.message}
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]
    if problems:
        raise EidoError(problems[:20])


def timestamp(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


# --- Out -----------------------------------------------------------------------------------------


def export(report: Report, *, status: str | None = None) -> dict:
    """The report as an EIDO message. `report` needs its calls, assignments (with agency and
    unit) and messages loaded or loadable; `status` overrides the incident's (HandedOver)."""
    centre = settings.DISPATCH_CENTRE_ID
    now = timezone.now()
    incident_id = f"incident-{report.number}"
    location_id = f"location-{report.number}"
    calls = list(report.calls.order_by("received_at"))
    assignments = list(report.assignments.select_related("agency", "unit_ref").order_by("pk"))
    messages = list(report.messages.select_related("author", "author_agency").order_by("pk"))
    persons, call_components = [], []
    for call in calls or [None]:
        if call is None and not report.caller_phone:
            continue
        ident = f"call-{call.pk}" if call else f"call-{report.number}"
        component = {
            "componentIdentifier": ident,
            "callStartTimeStamp": timestamp(call.received_at if call else report.received_at),
        }
        phone, name = (call.caller_phone, call.caller_name) if call else (
            report.caller_phone, report.caller_name
        )  # fmt: skip
        if phone:
            component["callbackNumber"] = phone
        if name:
            persons.append(
                {"componentIdentifier": f"person-{ident}", "personNameText": name,
                 "personRoleText": "caller"}
            )  # fmt: skip
            component["callerReference"] = {"$ref": f"person-{ident}"}
        call_components.append(component)
    agencies = [
        {
            "componentIdentifier": f"agency-{a.agency.code}",
            "agencyIdentifier": f"{centre}:agency:{a.agency.code}",
            "agencyName": a.agency.name,
            "agencyStatusCommonRegistryText": a.status,
        }
        for a in assignments
    ]
    resources = [
        {
            "componentIdentifier": f"unit-{a.pk}",
            "emergencyResourceIdentifier": a.unit_ref.call_sign if a.unit_ref else a.unit,
            "emergencyResourceStatusCommonRegistryText": a.status,
            "agencyReference": {"$ref": f"agency-{a.agency.code}"},
        }
        for a in assignments
        if a.unit_ref_id or a.unit
    ]
    notes = [
        {
            "componentIdentifier": f"note-{m.pk}",
            "noteDateTimeStamp": timestamp(m.created_at),
            "noteText": m.body,
            "noteAuthorText": m.author_agency.short_name if m.author_agency else "112",
        }
        for m in messages
    ]
    if report.close_note:
        notes.append(
            {"componentIdentifier": f"note-{report.number}-close",
             "noteDateTimeStamp": timestamp(report.closed_at or now),
             "noteText": report.close_note, "noteAuthorText": "112"}
        )  # fmt: skip
    message_id = f"urn:uuid:{uuid.uuid4()}"
    document = {
        "$id": message_id,
        "eidoMessageIdentifier": message_id,
        "lastUpdateTimeStamp": timestamp(now),
        "sendingSystemIdentifier": centre,
        "incidentComponent": [
            {
                "componentIdentifier": incident_id,
                "incidentTrackingIdentifier": report.number,
                "lastUpdateTimeStamp": timestamp(now),
                "incidentStartTimeStamp": timestamp(report.received_at),
                "incidentTypeCommonRegistryText": [report.category.code, report.category.name],
                "incidentStatusCommonRegistryText": [status or _status(report)],
                "incidentSummaryText": report.description,
                "locationReference": {"$ref": location_id},
                "callReference": [{"$ref": c["componentIdentifier"]} for c in call_components],
                "agencyReference": [{"$ref": a["componentIdentifier"]} for a in agencies],
                "notesReference": [{"$ref": n["componentIdentifier"]} for n in notes],
                "x-dispatch112": {"category": report.category.code, "priority": report.priority},
            }
        ],
        "callComponent": call_components,
        "personComponent": persons,
        "locationComponent": [
            {"componentIdentifier": location_id, "locationByValue": pidf_lo(report)}
        ],
        "agencyComponent": agencies,
        "emergencyResourceComponent": resources,
        "notesComponent": notes,
    }
    validate(document)  # what we send is what we accept
    return document


def _status(report: Report) -> str:
    if report.close_reason == "handed_over":
        return "HandedOver"
    return "Closed" if report.status == ReportStatus.CLOSED else "Open"


def pidf_lo(report: Report) -> str:
    for prefix, namespace in (("", PIDF), ("gp", GP), ("gml", GML), ("ca", CA), ("gs", GS)):
        ElementTree.register_namespace(prefix, namespace)
    presence = ElementTree.Element(f"{{{PIDF}}}presence", entity=f"pres:{report.number}")
    tuple_ = ElementTree.SubElement(presence, f"{{{PIDF}}}tuple", id=report.number)
    status = ElementTree.SubElement(tuple_, f"{{{PIDF}}}status")
    geopriv = ElementTree.SubElement(status, f"{{{GP}}}geopriv")
    info = ElementTree.SubElement(geopriv, f"{{{GP}}}location-info")
    if report.latitude is not None:
        point = ElementTree.SubElement(
            info, f"{{{GML}}}Point", srsName="urn:ogc:def:crs:EPSG::4326"
        )
        ElementTree.SubElement(
            point, f"{{{GML}}}pos"
        ).text = f"{report.latitude} {report.longitude}"
    civic = ElementTree.SubElement(info, f"{{{CA}}}civicAddress")
    ElementTree.SubElement(civic, f"{{{CA}}}country").text = "ID"
    ElementTree.SubElement(civic, f"{{{CA}}}A2").text = settings.DISPATCH_CITY_NAME
    if report.kecamatan_id:
        ElementTree.SubElement(civic, f"{{{CA}}}A3").text = report.kecamatan.name
    ElementTree.SubElement(civic, f"{{{CA}}}LOC").text = report.address
    ElementTree.SubElement(geopriv, f"{{{GP}}}usage-rules")
    method = report.location_source or "Manual"
    ElementTree.SubElement(geopriv, f"{{{GP}}}method").text = method
    return ElementTree.tostring(presence, encoding="unicode")


# --- In ------------------------------------------------------------------------------------------


@dataclass
class Incoming:
    """What an EIDO says, as report_receive's fields."""

    incident_id: str
    message_id: str
    fields: dict


def read(document) -> Incoming:
    """An EIDO received, validated, as a report's fields; EidoError if it is not usable."""
    validate(document)
    if problems := _control_characters(document, ""):
        raise EidoError(problems[:20])
    incident = document["incidentComponent"][0]
    components = {
        c["componentIdentifier"]: c
        for kind in ("callComponent", "personComponent", "locationComponent", "notesComponent")
        for c in document.get(kind, [])
    }
    location = components.get(incident["locationReference"]["$ref"])
    if location is None or "locationByValue" not in location:
        raise EidoError([{"path": "/incidentComponent/0/locationReference",
                          "message": "refers to no locationComponent"}])  # fmt: skip
    place = read_pidf_lo(location["locationByValue"])
    calls = [components.get(r["$ref"]) for r in incident.get("callReference", [])]
    calls = [c for c in calls if c and "callStartTimeStamp" in c]
    caller = calls[0] if calls else {}
    person = components.get(caller.get("callerReference", {}).get("$ref", ""), {})
    extension = incident.get("x-dispatch112", {})
    category, unmatched = _category(
        extension.get("category"), incident["incidentTypeCommonRegistryText"]
    )
    summary = incident.get("incidentSummaryText", "").strip()
    lines = [summary or " / ".join(incident["incidentTypeCommonRegistryText"])]
    if unmatched:
        lines.append(f"[{' / '.join(incident['incidentTypeCommonRegistryText'])}]")
    notes = [components.get(r["$ref"]) for r in incident.get("notesReference", [])]
    for note in (n for n in notes if n and "noteText" in n):
        author = note.get("noteAuthorText", "")
        lines.append(f"— {author + ': ' if author else ''}{note['noteText']}")
    received_at = _start(incident, caller)
    fields = {
        "category": category,
        "description": "\n".join(lines)[:4000],
        "address": (place.get("address") or place.get("area") or "—")[:300],
        "latitude": place.get("latitude"),
        "longitude": place.get("longitude"),
        "caller_phone": caller.get("callbackNumber", ""),
        "caller_name": person.get("personNameText", ""),
        "received_at": received_at,
    }
    if "priority" in extension:
        fields["priority"] = extension["priority"]
    if unmatched:
        # A type we have no category for: routed to the agencies the peer had on it that
        # exist here too (the same codes); with none, the import is refused with why.
        codes = _agency_codes(document.get("agencyComponent", []))
        fields["agencies"] = list(
            Agency.objects.filter(code__in=codes, active=True).values_list("code", flat=True)
        )
    return Incoming(
        incident_id=incident["incidentTrackingIdentifier"],
        message_id=document["eidoMessageIdentifier"],
        fields=fields,
    )


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


def _start(incident: dict, caller: dict) -> datetime | None:
    """When it began: the incident's start, else its first call's; a date that cannot be
    (2026-02-30, an offset of +23:00, the year 9999) is an EidoError naming where."""
    path, value = (
        "/incidentComponent/0/incidentStartTimeStamp",
        incident.get("incidentStartTimeStamp"),
    )
    if not value:
        path, value = "/callComponent/callStartTimeStamp", caller.get("callStartTimeStamp")
    errors = Errors()
    moment = clean_aware_datetime(errors, path, value)
    if path in errors.by_field:
        raise EidoError(
            [{"path": path, "message": m} for e in errors.by_field[path] for m in e.messages]
        )
    return moment


def _agency_codes(components: list[dict]) -> list[str]:
    left = {"rejected", "cancelled"}
    return [
        c["agencyIdentifier"].rsplit(":agency:", 1)[1]
        for c in components
        if ":agency:" in c["agencyIdentifier"]
        and c.get("agencyStatusCommonRegistryText") not in left
    ]


def _category(code: str | None, texts: list[str]) -> tuple[str, bool]:
    """Ours by the peer's code, else by a registry text naming one of ours; else `lainnya`
    (the operator re-routes it), with the peer's text kept in the description."""
    active = Category.objects.filter(active=True)
    if code and active.filter(code=code).exists():
        return code, False
    for text in texts:
        match = active.filter(code__iexact=text).first() or active.filter(name__iexact=text).first()
        if match:
            return match.code, False
    return FALLBACK_CATEGORY, True


def read_pidf_lo(text: str) -> dict:
    """The point and civic address of a PIDF-LO document: no DTD, no entities."""
    try:
        root = SafeElementTree.fromstring(text, forbid_dtd=True)
    except (SafeElementTree.ParseError, DefusedXmlException, ValueError) as error:
        raise EidoError(
            [{"path": "/locationComponent", "message": f"not PIDF-LO: {error}"}]
        ) from error
    place: dict = {}
    pos = root.find(f".//{{{GML}}}Point/{{{GML}}}pos")
    if pos is not None and pos.text:
        try:
            lat, lng = (float(v) for v in pos.text.split())
        except ValueError as error:
            raise EidoError([{"path": "/locationComponent",
                              "message": "gml:pos is not two numbers"}]) from error  # fmt: skip
        place.update(latitude=lat, longitude=lng)
    civic = root.find(f".//{{{CA}}}civicAddress")
    if civic is not None:
        line = (civic.findtext(f"{{{CA}}}LOC") or "").strip()
        parts = [civic.findtext(f"{{{CA}}}{k}") for k in ("RD", "HNO", "A3", "A2")]
        place["address"] = line or ", ".join(p.strip() for p in parts if p and p.strip())
        place["area"] = ", ".join(
            p.strip() for p in (civic.findtext(f"{{{CA}}}A3"), civic.findtext(f"{{{CA}}}A2")) if p
        )
    if "latitude" not in place and not place.get("address"):
        raise EidoError([{"path": "/locationComponent", "message": "has no point and no address"}])
    return place
