"""Open311 GeoReport v2 (SPEC §10): city apps file non-emergency requests, which become
reports routed as usual, and follow them by status.

The format is the one of http://wiki.open311.org/GeoReport_v2/: the services are the
categories marked non-emergency, a request's id is its report's number, and its `status`
(open / closed) and `status_notes` follow the report. A GET shows only the reports that came
through Open311, and never a submitter's name, number or e-mail."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.etree import ElementTree

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Category
from core.validation import (
    CONTROL_CHARACTERS,
    Errors,
    clean_aware_datetime,
    control_characters_message,
)
from reports.models import (
    LEFT_ASSIGNMENT_STATUSES,
    Assignment,
    Report,
    ReportStatus,
)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"json": "application/json", "xml": "text/xml"}
# A GET with no dates covers this much (the format's default), and returns at most this many.
DEFAULT_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
# The report's field → the Open311 parameter it came from, for error messages.
PARAMETER = {
    "category": "service_code",
    "latitude": "lat",
    "longitude": "long",
    "address": "address_string",
    "description": "description",
    "caller_phone": "phone",
    "caller_name": "first_name",
    "received_at": "requested_datetime",
}


@dataclass
class Open311Error(Exception):
    """An error in the format's own shape: [{code, description}] with that HTTP status."""

    status: int
    descriptions: list[str]
    retry_after: int | None = None  # with 429: the seconds to wait

    def body(self) -> list[dict]:
        return [{"code": self.status, "description": d} for d in self.descriptions]


def too_many(seconds: int) -> Open311Error:
    return Open311Error(
        429,
        [_("Too many requests: try again in %(seconds)d seconds.") % {"seconds": seconds}],
        retry_after=seconds,
    )


def check_control_characters(params, **path_parts: str) -> None:
    """The door's check (SPEC §13): no parameter, by name or value, and no part of the path
    may hold a control character. One 400 naming each such parameter."""
    texts = {name: [name, *params.getlist(name)] for name in params}
    texts.update((name, [value]) for name, value in path_parts.items())
    refused = [
        control_characters_message(name)
        for name, values in texts.items()
        if any(CONTROL_CHARACTERS.search(value) for value in values)
    ]
    if refused:
        raise Open311Error(400, refused)


# --- Services -------------------------------------------------------------------------------------


def service_item(category: Category) -> dict:
    agencies = ", ".join(a.short_name for a in category.default_agencies.all())
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": _("Routed to %(agencies)s.") % {"agencies": agencies or "112"},
        "metadata": False,  # no extra attributes: the service definition lists none
        "type": "realtime",  # a POST answers with the request's id at once
        "keywords": category.code.replace("_", ","),
        "group": _("Non-emergency"),
    }


# --- Reading what an app sends (pure: no database) ----------------------------------------------


def parse_request(data, is_service) -> dict:
    """A POSTed request's form fields as report fields, and what the Open311Request row
    keeps; Open311Error (400) naming every problem. `is_service(code)` says whether a
    service_code is one of ours (the caller asks the database)."""
    problems = []
    code = (data.get("service_code") or "").strip()
    if not code:
        problems.append(_("service_code is required."))
    elif not is_service(code):
        problems.append(_("service_code %(code)s is not a service here.") % {"code": code})
    lat, lng = (data.get("lat") or "").strip(), (data.get("long") or "").strip()
    address = (data.get("address_string") or "").strip()
    if bool(lat) != bool(lng):
        problems.append(_("Give lat and long together."))
    elif not lat and not address:
        problems.append(_("Give the location: lat and long, or address_string."))
    if problems:
        raise Open311Error(400, problems)
    name = " ".join(
        part
        for part in ((data.get("first_name") or "").strip(), (data.get("last_name") or "").strip())
        if part
    )
    return {
        "code": code,
        "description": (data.get("description") or "").strip(),
        "address": address or _("Coordinates %(lat)s, %(long)s") % {"lat": lat, "long": lng},
        "latitude": lat or None,
        "longitude": lng or None,
        "caller_phone": (data.get("phone") or "").strip(),
        "caller_name": name,
        "kept": _request_fields(data),
    }


def _request_fields(data) -> dict:
    fields, problems = {}, []
    for name, limit in (("email", 254), ("device_id", 100), ("account_id", 100),
                        ("address_id", 100), ("media_url", 500)):  # fmt: skip
        value = (data.get(name) or "").strip()
        if len(value) > limit:
            problems.append(
                _("%(field)s is longer than %(limit)d characters.")
                % {"field": name, "limit": limit}
            )
        fields[name] = value
    if fields["email"] and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", fields["email"]):
        problems.append(_("email is not an e-mail address."))
    if fields["media_url"] and not re.match(r"https?://", fields["media_url"]):
        problems.append(_("media_url must be an http(s) URL."))
    if problems:
        raise Open311Error(400, problems)
    return fields


def descriptions(error: ValidationError) -> list[str]:
    """A report's validation errors, named by the Open311 parameters they came from."""
    if not hasattr(error, "error_dict"):
        return [str(m) for m in error.messages]
    return [
        f"{PARAMETER.get(field, field)}: {message}"
        for field, errors in error.error_dict.items()
        for e in errors
        for message in e.messages
    ]


@dataclass
class Query:
    """A GET's filters: service_request_id, service_code, status (comma-separated),
    start_date, end_date (W3C date-times); with no id and no dates, the last 90 days."""

    ids: list[str]
    codes: list[str]
    statuses: list[str]
    start: datetime | None
    end: datetime | None


def parse_query(params, now: datetime) -> Query:
    ids = _listed(params.get("service_request_id"))
    if ids:
        return Query(ids[:MAX_RESULTS], [], [], None, None)
    problems = []
    codes = _listed(params.get("service_code"))
    statuses = _listed(params.get("status"))
    unknown = [s for s in statuses if s not in ReportStatus.values]
    if unknown:
        problems.append(
            _("status is open or closed, not %(value)s.") % {"value": ", ".join(unknown)}
        )
    start, end = (_date(params, name, problems) for name in ("start_date", "end_date"))
    if problems:
        raise Open311Error(400, problems)
    if start and end and end < start:
        raise Open311Error(400, [_("end_date is before start_date.")])
    if start is None and end is None:
        start = now - DEFAULT_WINDOW
    return Query([], codes, statuses, start, end)


def _listed(value) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _date(params, name: str, problems: list) -> datetime | None:
    """A W3C date-time with its offset, in the years and offsets a date can have."""
    errors = Errors()
    value = (params.get(name) or "").strip().replace(" ", "+")  # an unescaped '+' is a space
    moment = clean_aware_datetime(errors, name, value)
    problems.extend(m for e in errors.by_field.get(name, []) for m in e.messages)
    return moment


def request_item(report: Report) -> dict:
    """A request as GET shows it: the report's public side, no submitter."""
    extra = getattr(report, "open311_request", None)
    on_it = [a for a in report.assignments.all() if a.status not in LEFT_ASSIGNMENT_STATUSES]
    closed = report.status == ReportStatus.CLOSED
    updated = max(t for t in (report.received_at, report.closed_at, report.last_event_at) if t)
    return {
        "service_request_id": report.number,
        "status": "closed" if closed else "open",
        "status_notes": status_notes(report, on_it),
        "service_name": report.category.name,
        "service_code": report.category.code,
        "description": report.description,
        "agency_responsible": ", ".join(a.agency.short_name for a in on_it),
        "service_notice": "",
        "requested_datetime": w3c(report.received_at),
        "updated_datetime": w3c(updated),
        "expected_datetime": None,
        "address": report.address,
        "address_id": extra.address_id if extra else "",
        "zipcode": "",
        "lat": float(report.latitude) if report.latitude is not None else None,
        "long": float(report.longitude) if report.longitude is not None else None,
        "media_url": extra.media_url if extra else "",
    }


def status_notes(report: Report, on_it: list[Assignment]) -> str:
    """Closed: why, and the note the operator wrote for the public; never the close note,
    which is the operators' own and may name the caller (issue 33). Open: where each agency
    on it stands."""
    if report.status == ReportStatus.CLOSED:
        reason = report.get_close_reason_display()
        return f"{reason}: {report.public_note}" if report.public_note else str(reason)
    return "; ".join(f"{a.agency.short_name}: {a.get_status_display()}" for a in on_it)


def w3c(moment: datetime) -> str:
    """A W3C date-time in WIB, with its offset (the format's examples carry one)."""
    return timezone.localtime(moment).isoformat(timespec="seconds")


def created_item(report: Report) -> dict:
    return {
        "service_request_id": report.number,
        "service_notice": _(
            "Received by the 112 command centre and sent to the agencies responsible."
        ),
        "account_id": None,
    }


# --- Discovery -----------------------------------------------------------------------------------


def discovery(base_url: str, changeset: datetime, contact: str) -> dict:
    return {
        "changeset": w3c(changeset),
        "contact": contact,
        "key_service": _("Ask the 112 command centre's administrator for an api_key."),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": w3c(changeset),
                "type": "production",
                "formats": list(FORMATS.values()),
            }
        ],
    }


# --- XML -----------------------------------------------------------------------------------------

# The root and the item element of each list, as the format's XML examples name them.
XML_ROOTS = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
}


def to_xml(kind: str, body) -> bytes:
    if kind == "discovery":
        root = ElementTree.Element("discovery")
        _fill(root, body, list_items={"endpoints": "endpoint", "formats": "format"})
    elif kind == "service_definition":
        root = ElementTree.Element("service_definition")
        _fill(root, body, list_items={"attributes": "attribute"})
    else:
        root_name, item_name = XML_ROOTS[kind]
        root = ElementTree.Element(root_name)
        for item in body:
            _fill(ElementTree.SubElement(root, item_name), item, list_items={})
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


# What XML 1.0 cannot carry at all, escaped or not (its Char production), and DEL: text
# stored before the door refused control characters must not break the feed (issue 33).
NOT_XML = re.compile("[^\t\n\r\u0020-\u007e\u0080-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value) -> str:
    return NOT_XML.sub("", str(value))


def _fill(element, data: dict, *, list_items: dict) -> None:
    for key, value in data.items():
        child = ElementTree.SubElement(element, key)
        if isinstance(value, list):
            for item in value:
                sub = ElementTree.SubElement(child, list_items.get(key, "item"))
                if isinstance(item, dict):
                    _fill(sub, item, list_items=list_items)
                else:
                    sub.text = xml_text(item)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = xml_text(value)
