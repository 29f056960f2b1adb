"""A report as an EIDO (NENA-STA-021.1b, eidoVersion 1.0): every data component with NENA's
prologue ($id, lastUpdateTimeStamp, updatedByAgencyReference), linked by `$ref` to `$id`s in
the same document, and NENA's registry values where NENA has a registry. What only a Dispatch
112 peer uses rides in NENA's own "internal" members (incidentTypeInternalCode, the priority
in incidentPriorityInternalText, the number in internalIncidentId, unitStatusInternal) and in
an `x-dispatch112` member on agencies (NENA's schema is open: extra members are allowed)."""

from __future__ import annotations

import html

from django.conf import settings
from django.utils import timezone

from reports.models import Report, ReportStatus

from . import eido
from .eido import EIDO_VERSION, JSON_LD, text, timestamp

# Our categories in NENA's EIDO-IncidentType-Common registry (its initial values are APCO
# ANS 2.103.2-2019 codes, listed in NENA-STA-021.1b §3.2). TROUBLE ("unknown type trouble")
# for a category added locally; the category itself travels as incidentTypeInternalCode.
INCIDENT_TYPES = {
    "kemacetan": "THAZ",
    "kecelakaan": "MVAINJY",
    "kebakaran": "FUNK",
    "darurat_medis": "SICK",
    "ambulans": "TRANSFER",
    "kriminal": "SUSP",
    "bencana": "HAZ",
    "banjir": "WATER",
    "pohon_tumbang": "HAZ",
    "pju_padam": "PUBWKS",
    "kamtibmas": "DISORD",
    "evakuasi_hewan": "ANIMAL",
    "korsleting": "ELECHZD",
    "penemuan_mayat": "DEATH",
    "narkoba": "DRUGS",
    "lainnya": "TROUBLE",
}
UNKNOWN_INCIDENT_TYPE = "TROUBLE"
# Agencies in IANA's urn:emergency:service:responder registry (without the prefix), and the
# EIDO-EmergencyResourceType-Common value for their units (NENA-STA-021.1b §3.11).
AGENCY_TYPES = {"polrestabes": "police", "damkar": "fire", "ambulans": "ems"}
RESOURCE_TYPES = {"police": "PatrolUnit", "fire": "FireWaterTender", "ems": "GroundBLSAmbulance"}
OTHER_RESOURCE = "LightRescue"
# An assignment's status as the agency's role (EIDO-AgencyRole) and as the unit's status
# (EIDO-PrimaryUnitStatus-Common, EIDO-SecondaryUnitStatus-Common).
AGENCY_ROLES = {
    "notified": "Assisting",
    "acknowledged": "Assisting",
    "dispatched": "Dispatched",
    "on_scene": "Dispatched",
    "resolved": "Dispatched",
    "rejected": "Informational",
    "cancelled": "Informational",
}
UNIT_STATUSES = {
    "notified": ("ConditionallyAvailable", ["Assigned"]),
    "acknowledged": ("ConditionallyAvailable", ["AcknowledgedTransmission"]),
    "dispatched": ("NotAvailable", ["Dispatched", "EnRoute"]),
    "on_scene": ("NotAvailable", ["Arrived"]),
    "resolved": ("Available", ["Cleared"]),
    "rejected": ("Available", ["AssignmentCancelled"]),
    "cancelled": ("Available", ["AssignmentCancelled"]),
}


def incident_id(number: str) -> str:
    """NENA's incident identifier form: urn:emergency:uid:incidentid:<unique>:<agency>."""
    return f"urn:emergency:uid:incidentid:{number}:{settings.DISPATCH_CENTRE_ID}"


def agency_id(code: str) -> str:
    return f"{settings.DISPATCH_CENTRE_ID}:agency:{code}"


def _component_id(kind: str, key) -> str:
    """NENA's form for a component without an identifier of its own: the same in every EIDO
    of the incident (the row's key), unique in the document (the kind)."""
    return f"urn:emergency:uid:eidodatacomponent:{kind}-{key}:{settings.DISPATCH_CENTRE_ID}"


def _ref(identifier: str) -> dict:
    return {"$ref": identifier}


def _prologue(identifier: str, when, agency: str | None = None) -> dict:
    return {
        "$id": identifier,
        "lastUpdateTimeStamp": timestamp(when),
        "updatedByAgencyReference": _ref(agency or settings.DISPATCH_CENTRE_ID),
    }


def _note(identifier: str, when, body: str, agency: str | None = None, **extra) -> dict:
    """NENA's notes are HTML5: the stored text escaped, line breaks kept."""
    comments = html.escape(text(body)).replace("\n", "<br>")
    return {**_prologue(identifier, when, agency), "notesActionComments": comments, **extra}


def export(report: Report, *, status: str | None = None) -> dict:
    """The report as an EIDO message. `report` needs its calls, assignments (with agency and
    unit) and messages loaded or loadable; `status` overrides the incident's (HandedOver)."""
    centre = settings.DISPATCH_CENTRE_ID
    now = timezone.now()
    location_id = _component_id("location", report.pk)
    assignments = list(report.assignments.select_related("agency", "unit_ref").order_by("pk"))
    latest = {a.agency.code: a for a in assignments}  # one component per agency: its last
    agencies = [
        {
            **_prologue(centre, now),
            "agencyRoleDescriptionRegistryText": ["CallReceiving", "Dispatching"],
            "agencyType": ["psap"],
            "incidentOwningAgencyIndicator": status is None and report.status == ReportStatus.OPEN,
        }
    ]
    for code, a in latest.items():
        agencies.append(
            {
                **_prologue(agency_id(code), now),
                "agencyRoleDescriptionRegistryText": [AGENCY_ROLES.get(a.status, "Assisting")],
                "agencyType": [AGENCY_TYPES.get(code, "other")],
                "x-dispatch112": {"code": code, "name": text(a.agency.name), "status": a.status},
            }
        )
    agents, resources = [], []
    for a in assignments:
        call_sign = a.unit_ref.call_sign if a.unit_ref else a.unit
        if not call_sign:
            continue
        agent_id = _component_id("unit", a.pk)
        agents.append(
            {
                **_prologue(agent_id, now, agency_id(a.agency.code)),
                "agentRoleRegistryText": ["Responder"],
                "agencyReference": _ref(agency_id(a.agency.code)),
            }
        )
        primary, secondary = UNIT_STATUSES.get(a.status, ("NotAvailable", ["Assigned"]))
        kind = AGENCY_TYPES.get(a.agency.code, "")
        resources.append(
            {
                **_prologue(_component_id("resource", a.pk), now, agency_id(a.agency.code)),
                "agentReference": [_ref(agent_id)],
                "emergencyResourceTypeCommonRegistryText": RESOURCE_TYPES.get(kind, OTHER_RESOURCE),
                "emergencyResourceName": text(call_sign),
                "primaryUnitStatusRegistryText": primary,
                "secondaryUnitStatusRegistryText": secondary,
                "resourceAttributeRegistryText": [],
                "unitStatusInternal": [a.status],
            }
        )
    calls, callbacks, persons, notes = _calls(report, location_id)
    summary_id = _component_id("summary", report.pk)
    notes.insert(0, _note(summary_id, report.received_at, report.description))
    for m in report.messages.select_related("author_agency").order_by("pk"):
        author = m.author_agency.code if m.author_agency_id else None
        notes.append(
            _note(_component_id("note", m.pk), m.created_at, m.body,
                  agency_id(author) if author in latest else None)
        )  # fmt: skip
    if report.close_note:
        notes.append(_note(_component_id("close", report.pk), report.closed_at or now,
                           report.close_note))  # fmt: skip
    incident = {
        **_prologue(_component_id("incident", report.pk), now),
        "incidentTypeCommonRegistryText": INCIDENT_TYPES.get(
            report.category.code, UNKNOWN_INCIDENT_TYPE
        ),
        "incidentTypeInternalCode": report.category.code,
        "incidentTypeInternalText": text(report.category.name),
        "incidentStatusCommonRegistryText": [_common_status(report, status)],
        "incidentStatusInternalText": [status or _status(report)],
        "internalIncidentId": report.number,
        "incidentPriorityInternalText": str(report.priority),
        "locationReference": [_ref(location_id)],
        "personReference": [_ref(p["$id"]) for p in persons],
        "notesReference": [_ref(n["$id"]) for n in notes],
    }
    location = {
        **_prologue(location_id, now),
        "locationTypeDescriptionRegistryText": "CurrentIncident",
        "locationByValue": eido.pidf_lo(report),
        "locationDescriptionText": text(report.address),
    }
    document = {
        **_prologue(incident_id(report.number), now),
        "eidoVersion": EIDO_VERSION,
        "issuingElementIdentification": centre,
        "incidentComponent": incident,
        "callComponent": calls,
        "callbackComponent": callbacks,
        "agencyComponent": agencies,
        "agentComponent": agents,
        "emergencyResourceComponent": resources,
        "locationComponent": [location],
        "personComponent": persons,
        "notesComponent": notes,
        "@context": dict(JSON_LD),
    }
    document = {k: v for k, v in document.items() if v != []}  # absent rather than empty
    eido.validate(document)  # what we send is what we accept
    return document


def _calls(report: Report, location_id: str) -> tuple[list, list, list, list]:
    """The report's calls (the first and any attached later) with their callers: a callback
    component for the number, a person (role Caller) for the name; the call's note as a
    note. A report received without a call here gets one call from its own caller fields."""
    calls, callbacks, persons, notes = [], [], [], []
    rows = list(report.calls.order_by("received_at", "pk"))
    if not rows and report.caller_phone:
        rows = [None]
    for call in rows:
        key = f"{call.pk}" if call else f"r{report.pk}"
        received = call.received_at if call else report.received_at
        phone, name = (call.caller_phone, call.caller_name) if call else (
            report.caller_phone, report.caller_name
        )  # fmt: skip
        call_id = _component_id("call", key)
        component = {
            **_prologue(call_id, received),
            "callStateRegistryText": "callEnd",
            "standardPrimaryCallType": "emergency",
            "direction": "incoming",
            "callStartTimestamp": timestamp(received),
            "locationReference": [_ref(location_id)],
        }
        if phone:
            callback_id = _component_id("callback", key)
            callbacks.append(
                {**_prologue(callback_id, received), "callBackInformationUri": [f"tel:{phone}"]}
            )
            component["callBackReference"] = _ref(callback_id)
        if phone or name:
            person = {
                **_prologue(_component_id("caller", key), received),
                "personIncidentRoleRegistryText": ["Caller"],
                "callIdentifier": [call_id],
            }
            if phone:
                person["callBackReference"] = component["callBackReference"]
            if name:  # NIEM nc:PersonType → nc:PersonName → nc:PersonFullName
                person["ncPersonComponent"] = {
                    "name": [{"personFullName": [{"value": text(name)}]}]
                }
            persons.append(person)
            component["personReference"] = [_ref(person["$id"])]
        if call is not None and call.note:
            note = _note(_component_id("callnote", key), call.created_at, call.note)
            notes.append(note)
            component["notesReference"] = [_ref(note["$id"])]
        calls.append(component)
    return calls, callbacks, persons, notes


def _status(report: Report) -> str:
    if report.close_reason == "handed_over":
        return "HandedOver"
    return "Closed" if report.status == ReportStatus.CLOSED else "Open"


def _common_status(report: Report, status: str | None) -> str:
    """EIDO-IncidentStatus-Common: a report being handed over is still active (the receiving
    centre takes it on); a closed one is Closed."""
    if status is None and report.status == ReportStatus.CLOSED:
        return "Closed"
    if any(a.status == "on_scene" for a in report.assignments.all()):
        return "ResourcesOnscene"
    if any(a.status == "dispatched" for a in report.assignments.all()):
        return "ResourcesEnroute"
    return "Active"
