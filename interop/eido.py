"""EIDO (NENA-STA-021.1b JSON, eidoVersion 1.0; SPEC §10): a report as an Emergency Incident
Data Object, out for another centre's CAD and in from one. This module holds what both
directions share: the schema check (interop/schemas/eido.schema.json, NENA's required members
and value lists transcribed — see its description), the errors, and the location as PIDF-LO
(RFC 4119 / RFC 5491: the pin as a gml:Point, the address as a civic address), read back with
defusedxml as CAP is. `export` is interop.eido_export's; `read` is interop.eido_import's."""

from __future__ import annotations

import json
import math
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

from reports.models import Report

from .open311 import xml_text

SCHEMA_PATH = Path(__file__).parent / "schemas" / "eido.schema.json"
PIDF = "urn:ietf:params:xml:ns:pidf"
GP = "urn:ietf:params:xml:ns:pidf:geopriv10"
GML = "http://www.opengis.net/gml"
CA = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
GS = "http://www.opengis.net/pidflo/1.0"
EIDO_VERSION = "1.0"
JSON_LD = {"@vocab": "./JSON-LD_Contexts/EmergencyIncidentDataObjectType.jsonld"}
FALLBACK_CATEGORY = "lainnya"
MAX_PROBLEMS = 20


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


@dataclass
class EidoError(Exception):
    """An EIDO that is not one: each problem with the path to it."""

    problems: list[dict]


def validate(document) -> None:
    problems = [
        {"path": "/" + "/".join(str(p) for p in error.absolute_path), "message": error.message}
        for error in sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    ]
    if problems:
        raise EidoError(problems[:MAX_PROBLEMS])


def timestamp(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def text(value) -> str:
    """Stored text as it may go out: without the control characters XML cannot carry (text
    stored before the input edge refused them, SPEC §13), as Open311's XML is written."""
    return xml_text(value or "")


# --- PIDF-LO -------------------------------------------------------------------------------------


def pidf_lo(report: Report) -> str:
    for prefix, namespace in (("", PIDF), ("gp", GP), ("gml", GML), ("ca", CA), ("gs", GS)):
        ElementTree.register_namespace(prefix, namespace)
    presence = ElementTree.Element(f"{{{PIDF}}}presence", entity=f"pres:{text(report.number)}")
    tuple_ = ElementTree.SubElement(presence, f"{{{PIDF}}}tuple", id=text(report.number))
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
    ElementTree.SubElement(civic, f"{{{CA}}}A2").text = text(settings.DISPATCH_CITY_NAME)
    if report.kecamatan_id:
        ElementTree.SubElement(civic, f"{{{CA}}}A3").text = text(report.kecamatan.name)
    ElementTree.SubElement(civic, f"{{{CA}}}LOC").text = text(report.address)
    ElementTree.SubElement(geopriv, f"{{{GP}}}usage-rules")
    method = report.location_source or "Manual"
    ElementTree.SubElement(geopriv, f"{{{GP}}}method").text = text(method)
    return ElementTree.tostring(presence, encoding="unicode")


def read_pidf_lo(value: str, path: str = "/locationComponent") -> dict:
    """The point and civic address of a PIDF-LO document: no DTD, no entities. `path` names
    the member it came from in an EidoError."""
    try:
        root = SafeElementTree.fromstring(value, forbid_dtd=True)
    except (SafeElementTree.ParseError, DefusedXmlException, ValueError) as error:
        raise EidoError([{"path": path, "message": f"not PIDF-LO: {error}"}]) from error
    place: dict = {}
    pos = root.find(f".//{{{GML}}}Point/{{{GML}}}pos")
    if pos is not None and pos.text:
        try:
            lat, lng = (float(v) for v in pos.text.split())
            if not (math.isfinite(lat) and math.isfinite(lng)):
                raise ValueError("not finite")
        except ValueError as error:
            raise EidoError([{"path": path, "message": "gml:pos is not two numbers"}]) from error
        place.update(latitude=lat, longitude=lng)
    civic = root.find(f".//{{{CA}}}civicAddress")
    if civic is not None:

        def part(*keys: str) -> list[str]:
            found = (civic.findtext(f"{{{CA}}}{k}") for k in keys)
            return [p.strip() for p in found if p and p.strip()]

        street = " ".join(part("PRD", "RD", "STS", "POD"))
        line = ", ".join(part("LOC"))
        place["address"] = line or ", ".join(
            p for p in (street, *part("HNO", "A6", "A5", "A4", "A3", "A2", "A1")) if p
        )
        place["area"] = ", ".join(part("A3", "A2"))
    if "latitude" not in place and not place.get("address"):
        raise EidoError([{"path": path, "message": "has no point and no address"}])
    return place


# The two directions, named here as before (interop.api, handover and the tests use them).
from .eido_export import export  # noqa: E402
from .eido_import import Incoming, read  # noqa: E402

__all__ = ["EidoError", "Incoming", "export", "pidf_lo", "read", "read_pidf_lo", "validate"]
