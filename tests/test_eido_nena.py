"""EIDO as NENA publishes it (issue 38): NENA-STA-021.1b JSON, eidoVersion 1.0.

Offline, always: our schema (interop/schemas/eido.schema.json, NENA's required members and
value lists transcribed) against our export of every kind of report, and against a call
transfer shaped as NENA's own sample (tests/data/eido/call_transfer.json, written here).

With NENA's repository at hand (NENA_EIDO_JSON=<a checkout of github.com/NENA911/EIDO-JSON>),
also against NENA's own Schema/openapi.yaml and its sample. They are not copied into this
repository: NENA's repository carries no licence and its standard is © NENA, so only facts
are transcribed. Without the checkout those tests are skipped (CI has no network)."""

from __future__ import annotations

import copy
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from interop import eido
from interop.models import ReceivedIncident
from reports import services
from reports.models import Report, ReportSource

from .test_eido import eido_client, full_report, peer, post_eido

__all__ = ["full_report", "peer"]  # the fixtures, shared with test_eido
DATA = Path(__file__).parent / "data" / "eido" / "call_transfer.json"
NENA = Path(os.environ.get("NENA_EIDO_JSON", "/nonexistent"))
WITH_NENA = pytest.mark.skipif(
    not (NENA / "Schema" / "openapi.yaml").exists(),
    reason="NENA_EIDO_JSON: no checkout of NENA911/EIDO-JSON (its files are not ours to ship)",
)
CATEGORIES = {
    "kecelakaan": "Kecelakaan lalu lintas",
    "kebakaran": "Kebakaran",
    "lainnya": "Lainnya",
}


def call_transfer(now=None) -> dict:
    """Our NENA-shaped call transfer, its timestamps a minute ago."""
    moment = (now or timezone.now() - timedelta(minutes=1)).isoformat(timespec="milliseconds")
    document = json.loads(DATA.read_text().replace('"NOW"', json.dumps(moment)))
    document.pop("$comment")
    return document


def with_incident(document: dict, common="MVAINJY") -> dict:
    """The same transfer once the sender has an incident for it (a type of ours uniquely)."""
    document = copy.deepcopy(document)
    prologue = {k: document[k] for k in ("lastUpdateTimeStamp", "updatedByAgencyReference")}
    document["incidentComponent"] = {
        "$id": "urn:emergency:uid:eidodatacomponent:inc1:psap.kendalkab.go.id", **prologue,
        "incidentTypeCommonRegistryText": common,
        "incidentStatusCommonRegistryText": ["Active"],
        "notesReference": [{"$ref": "urn:emergency:uid:eidodatacomponent:n1:psap.kendalkab.go.id"}],
    }  # fmt: skip
    document["notesComponent"] = [{
        "$id": "urn:emergency:uid:eidodatacomponent:n1:psap.kendalkab.go.id", **prologue,
        "notesActionComments": "Dua motor bertabrakan,<br>satu korban &amp; pingsan",
    }]  # fmt: skip
    return document


# --- NENA's own files, when a checkout is given -------------------------------------------------


def nena_errors(document) -> list[str]:
    """NENA's openapi.yaml, component EmergencyIncidentDataObjectType, with the NIEM files it
    refers to read from the same checkout."""
    import yaml
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    base = (NENA / "Schema").as_uri() + "/"

    def load(uri: str) -> Resource:
        path = NENA / "Schema" / uri.removeprefix(base)
        contents = yaml.safe_load(path.read_text())
        return Resource.from_contents(_published_typos(contents), default_specification=DRAFT202012)

    spec = load(base + "openapi.yaml").contents
    root = {"$id": base + "openapi.yaml", "components": spec["components"],
            "$ref": "#/components/schemas/EmergencyIncidentDataObjectType"}  # fmt: skip
    validator = Draft202012Validator(root, registry=Registry(retrieve=load))
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)]  # fmt: skip


def _published_typos(value):
    """NENA's file has `minItems: 1,` (YAML reads the string "1,"): read as the 1 it means."""
    if isinstance(value, dict):
        return {k: (1 if k == "minItems" and v == "1," else _published_typos(v))
                for k, v in value.items()}  # fmt: skip
    return [_published_typos(v) for v in value] if isinstance(value, list) else value


@WITH_NENA
def test_nena_sample_is_valid_for_nena_and_for_us():
    sample = json.loads((NENA / "Samples" / "Sample call transfer EIDO.json").read_text())
    assert nena_errors(sample) == []
    eido.validate(sample)
    incoming = eido.read(sample, categories=CATEGORIES, agencies={"damkar"})
    assert incoming.fields["category"] == "lainnya" and incoming.fields["agencies"] == []
    assert "Wilmington" in incoming.fields["address"]
    assert incoming.sender == "state.pa.us"


@WITH_NENA
def test_our_call_transfer_is_valid_for_nena():
    assert nena_errors(call_transfer()) == []
    assert nena_errors(with_incident(call_transfer())) == []


@WITH_NENA
@pytest.mark.parametrize("kind", ["open", "attached", "handed_over", "closed"])
def test_our_export_is_valid_for_nena(every_kind, kind):
    report, status = every_kind(kind)
    assert nena_errors(eido.export(report, status=status)) == []


# --- Our export, every kind of report ------------------------------------------------------------


@pytest.fixture
def every_kind(full_report, operator):
    """full_report (pin and civic address, two agencies, a unit, a rejection, chat) as it is,
    with a second call attached, being handed over, and closed."""

    def make(kind):
        if kind in ("attached", "closed"):
            services.call_log(operator=operator, caller_phone="081311112222", caller_name="Ani",
                              outcome="attached", report=full_report,
                              note="Korban kedua di bahu jalan")  # fmt: skip
        if kind == "closed":
            services.report_close(actor=operator, report=full_report, reason="resolved",
                                  note="Selesai ditangani")  # fmt: skip
        status = "HandedOver" if kind == "handed_over" else None
        return Report.objects.get(pk=full_report.pk), status

    return make


@pytest.mark.parametrize("kind", ["open", "attached", "handed_over", "closed"])
def test_our_export_carries_every_kind_of_content(every_kind, kind):
    report, status = every_kind(kind)
    document = eido.export(report, status=status)  # validates against our schema
    assert document["eidoVersion"] == "1.0"
    assert (
        document["$id"] == f"urn:emergency:uid:incidentid:{report.number}:urn:dispatch112:semarang"
    )
    ids = [c["$id"] for v in document.values() if isinstance(v, list) for c in v]
    ids.append(document["incidentComponent"]["$id"])
    assert len(ids) == len(set(ids))  # each component once
    refs = set()

    def walk(value):
        if isinstance(value, dict):
            if "$ref" in value:
                refs.add(value["$ref"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(document)
    assert refs <= set(ids) | {document["$id"]}, refs - set(ids)  # resolved in the document
    incident = document["incidentComponent"]
    assert incident["incidentTypeCommonRegistryText"] == "THAZ"
    assert incident["incidentTypeInternalCode"] == "kemacetan"
    expected = {"open": "Open", "attached": "Open", "handed_over": "HandedOver", "closed": "Closed"}
    assert incident["incidentStatusInternalText"] == [expected[kind]]
    assert len(document["callComponent"]) == (2 if kind in ("attached", "closed") else 1)
    roles = {a["$id"].rsplit(":", 1)[-1]: a["agencyRoleDescriptionRegistryText"]
             for a in document["agencyComponent"]}  # fmt: skip
    assert roles["polrestabes"] == ["Informational"]  # it rejected
    (unit,) = document["emergencyResourceComponent"]
    assert unit["emergencyResourceName"] == "DSH-01"
    if kind == "closed":  # closing cancels what is still open
        assert roles["dishub"] == ["Informational"]
        assert unit["secondaryUnitStatusRegistryText"] == ["AssignmentCancelled"]
    else:
        assert roles["dishub"] == ["Dispatched"]
        assert unit["secondaryUnitStatusRegistryText"] == ["Dispatched", "EnRoute"]
    comments = [n["notesActionComments"] for n in document["notesComponent"]]
    assert "Unit meluncur lewat Jl. Pemuda" in comments
    if kind == "closed":
        assert "Selesai ditangani" in comments and "Korban kedua di bahu jalan" in comments


def test_text_stored_with_control_characters_goes_out_without_them(full_report):
    # Stored before the input edge refused them (SPEC §13): written past the services.
    Report.objects.filter(pk=full_report.pk).update(
        description="Asap\x01 tebal", address="Jl. Pahlawan\x1b 5", caller_name="Budi\x07"
    )
    document = eido.export(Report.objects.get(pk=full_report.pk))
    text = json.dumps(document)
    assert "\\u0001" not in text and "\\u001b" not in text and "\\u0007" not in text
    place = eido.read_pidf_lo(document["locationComponent"][0]["locationByValue"])
    assert place["address"] == "Jl. Pahlawan 5"


# --- Import of another CAD's EIDO ----------------------------------------------------------------


def test_a_call_transfer_reads_as_a_report_to_classify():
    incoming = eido.read(call_transfer(), categories=CATEGORIES, agencies={"damkar"})
    fields = incoming.fields
    assert fields["category"] == "lainnya" and fields["agencies"] == []  # routed to nobody yet
    assert fields["caller_phone"] == "+6281298765432"  # the sip: URI's user part, normalised
    assert fields["caller_name"] == "Siti Aminah"  # NIEM given name and surname
    assert fields["address"] == "Raya Kaliwungu, 12, Kaliwungu, Kendal, Jawa Tengah"
    assert "https://lis.operator.co.id/loc/8a1f" in fields["description"]  # by reference: kept
    assert "psap.kendalkab.go.id" in fields["description"]
    assert incoming.sender == "psap.kendalkab.go.id" and incoming.number is None
    assert fields["received_at"] is not None


def test_a_call_transfer_posted_becomes_a_report_routed_to_nobody(city, peer):
    response = post_eido(eido_client(peer), call_transfer())
    assert response.status_code == 201, response.content
    report = Report.objects.get(number=response.json()["number"])
    assert report.category.code == "lainnya" and not report.assignments.exists()


def test_a_transfer_with_an_incident_is_routed_and_exported_valid(city, peer):
    document = with_incident(call_transfer())
    response = post_eido(eido_client(peer), document)
    assert response.status_code == 201, response.content
    report = Report.objects.get(number=response.json()["number"])
    assert report.source == ReportSource.EIDO and report.category.code == "kecelakaan"
    assert report.origin == (
        "112 Kabupaten Kendal (psap.kendalkab.go.id): "
        "urn:emergency:uid:incidentid:7f3a9c21:psap.kendalkab.go.id"
    )
    assert report.caller_phone == "+6281298765432" and report.caller_name == "Siti Aminah"
    assert "Dua motor bertabrakan,\nsatu korban & pingsan" in report.description
    assert report.assignments.exists()  # by our routing of kecelakaan
    assert ReceivedIncident.objects.get(report=report).document == document
    again = post_eido(eido_client(peer), document)
    assert (again.status_code, again.json()["number"]) == (200, report.number)
    exported = eido.export(report)  # NENA's sample → our import → our export: valid
    if (NENA / "Schema" / "openapi.yaml").exists():
        assert nena_errors(exported) == []


OPTIONAL = [
    "callComponent", "callbackComponent", "agentComponent", "additionalDataComponent",
    "locationComponent", "personComponent", "notesComponent", "@context",
    "updatedByAgentReference",
]  # fmt: skip


@pytest.mark.parametrize("absent", OPTIONAL)
def test_each_optional_component_may_be_absent(city, peer, absent):
    document = with_incident(call_transfer())
    document.pop(absent)
    incoming = eido.read(document, categories=CATEGORIES, agencies=())
    assert incoming.fields["category"] == "kecelakaan"
    response = post_eido(eido_client(peer), document)
    assert response.status_code == 201, response.content


def test_references_to_nothing_are_skipped():
    document = with_incident(call_transfer())
    document["callComponent"][0]["callBackReference"] = {"$ref": "nowhere"}
    document["callComponent"][0]["personReference"] = ["not a reference"]
    document["incidentComponent"]["notesReference"] = [{"$ref": "gone"}]
    fields = eido.read(document, categories=CATEGORIES, agencies=()).fields
    assert fields["caller_phone"] == "+6281298765432"  # the person's own call-back
    assert "Dua motor" in fields["description"]  # the document's notes


def test_unknown_registry_values_are_kept():
    document = with_incident(call_transfer(), common="HAZMAT")
    document["incidentComponent"]["incidentTypeInternalText"] = "Tumpahan bahan kimia"
    fields = eido.read(document, categories=CATEGORIES, agencies=()).fields
    assert fields["category"] == "lainnya"
    assert "[Tumpahan bahan kimia / HAZMAT]" in fields["description"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.pop("eidoVersion"), "/"),
        (lambda d: d.update(eidoVersion="2.0"), "/eidoVersion"),
        (lambda d: d.pop("agencyComponent"), "/"),
        (lambda d: d["agencyComponent"][0].pop("agencyType"), "/agencyComponent/0"),
        (lambda d: d["callComponent"][0].update(direction="up"), "/callComponent/0/direction"),
        (lambda d: d["callComponent"][0].pop("$id"), "/callComponent/0"),
        (lambda d: d["callComponent"][0].update(callStartTimestamp="2026-02-30T10:00:00+07:00"),
         "/callComponent/0/callStartTimestamp"),
        (lambda d: d["locationComponent"][0].update(locationByValue="<no"),
         "/locationComponent/0/locationByValue"),
        (lambda d: d["incidentComponent"].pop("incidentTypeCommonRegistryText"),
         "/incidentComponent"),
        (lambda d: d.update(incidentComponent=[]), "/incidentComponent"),
    ],
)  # fmt: skip
def test_an_invalid_eido_is_refused_naming_each_path(city, peer, change, path):
    document = with_incident(call_transfer())
    change(document)
    response = post_eido(eido_client(peer), document)
    assert response.status_code == 400, response.content
    assert path in [p["path"] for p in response.json()["errors"]], response.json()


def _places(value, prefix=()):
    yield prefix
    if isinstance(value, dict | list):
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            yield from _places(item, (*prefix, key))


ODD_VALUES = [None, 0, -1, 1.5, True, "", "x", [], {}, [{}], {"$ref": 3}, ["tel:"], "<a/>",
              {"$ref": "psap.kendalkab.go.id"}, [{"value": 5}],
              "2026-02-30T10:00:00+07:00"]  # fmt: skip


@pytest.mark.timeout(60)
def test_any_change_to_a_nena_document_is_read_or_refused_never_a_crash():
    """Each member of the call transfer (with and without an incident) replaced by odd values,
    deterministically: `read` returns fields or raises EidoError, nothing else (a 5xx)."""
    import random

    chooser = random.Random(38)
    for base in (call_transfer(), with_incident(call_transfer())):
        places = [p for p in _places(base) if p]
        for _ in range(int(os.environ.get("EIDO_FUZZ_ROUNDS", "400"))):
            document = copy.deepcopy(base)
            for _ in range(chooser.randint(1, 3)):
                *parent, last = chooser.choice(places)
                target = document
                try:
                    for key in parent:
                        target = target[key]
                    target[last] = copy.deepcopy(chooser.choice(ODD_VALUES))
                except (KeyError, IndexError, TypeError):
                    continue
            document = json.loads(json.dumps(document))  # as it comes off the wire
            try:
                incoming = eido.read(document, categories=CATEGORIES, agencies={"damkar"})
            except eido.EidoError:
                continue
            assert isinstance(incoming.fields["description"], str)
            assert isinstance(incoming.fields["address"], str)
