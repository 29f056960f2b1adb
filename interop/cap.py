"""CAP 1.2 (OASIS Common Alerting Protocol) as BMKG publishes it: parse one alert, or an
RSS / Atom index of alerts, refusing what is not CAP.

XML is read with defusedxml: no DTD at all (a CAP message never has one), so entity
expansion ("billion laughs") and external entities (XXE: a `SYSTEM "file:///etc/passwd"`) are
refused before anything is expanded or fetched. Then the elements CAP 1.2 requires are
checked (alert: identifier, sender, sent, status, msgType, scope; info: category, event,
urgency, severity, certainty; area: areaDesc) with their value lists. Areas keep their
polygons and circles for matching to the city (interop.area)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from django.utils.dateparse import parse_datetime

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
MAX_BYTES = 2_000_000

STATUS = {"Actual", "Exercise", "System", "Test", "Draft"}
MSG_TYPE = {"Alert", "Update", "Cancel", "Ack", "Error"}
SCOPE = {"Public", "Restricted", "Private"}
CATEGORY = {"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
            "Transport", "Infra", "CBRNE", "Other"}  # fmt: skip
URGENCY = {"Immediate", "Expected", "Future", "Past", "Unknown"}
SEVERITY = {"Extreme", "Severe", "Moderate", "Minor", "Unknown"}
CERTAINTY = {"Observed", "Likely", "Possible", "Unlikely", "Unknown"}


class CapError(ValueError):
    """Not a CAP 1.2 alert we may show; the message says why (it goes to the log and the
    feed's last error, never to a screen)."""


@dataclass(frozen=True)
class Area:
    description: str
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)  # (lat, lon)
    circles: list[tuple[float, float, float]] = field(default_factory=list)  # lat, lon, km


@dataclass(frozen=True)
class Info:
    language: str
    categories: list[str]
    event: str
    urgency: str
    severity: str
    certainty: str
    sender_name: str = ""
    headline: str = ""
    description: str = ""
    instruction: str = ""
    web: str = ""
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    areas: list[Area] = field(default_factory=list)


@dataclass(frozen=True)
class Alert:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    references: list[tuple[str, str]]  # (sender, identifier) of the alerts it updates/cancels
    infos: list[Info]


def _xml(data: bytes | str):
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise CapError(f"larger than {MAX_BYTES} bytes")
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise CapError(f"refused XML ({type(error).__name__}): a DTD or entity") from None
    except ParseError as error:
        raise CapError(f"not well-formed XML: {error}") from None


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def _text(parent, name: str, *, required: bool = False, where: str = "alert") -> str:
    element = parent.find(f"{{{CAP_NS}}}{name}")
    value = (element.text or "").strip() if element is not None else ""
    if required and not value:
        raise CapError(f"<{where}> has no <{name}>")
    return value


def _all(parent, name: str) -> list[str]:
    return [(e.text or "").strip() for e in parent.findall(f"{{{CAP_NS}}}{name}")]


def _choice(value: str, allowed: set[str], name: str) -> str:
    if value not in allowed:
        raise CapError(f"<{name}> {value!r} is not one of CAP 1.2's values")
    return value


def _time(value: str, name: str, *, required: bool = False) -> datetime | None:
    if not value:
        if required:
            raise CapError(f"no <{name}>")
        return None
    moment = parse_datetime(value)
    if moment is None or moment.tzinfo is None:
        raise CapError(f"<{name}> {value!r} is not a date and time with its offset")
    return moment


def _points(text: str, name: str) -> list[tuple[float, float]]:
    points = []
    for pair in text.split():
        try:
            lat, lon = (float(part) for part in pair.split(","))
        except ValueError:
            raise CapError(f"<{name}> has a point that is not lat,lon: {pair!r}") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise CapError(f"<{name}> has a point off the globe: {pair!r}")
        points.append((lat, lon))
    return points


def _area(element) -> Area:
    description = _text(element, "areaDesc", required=True, where="area")
    polygons = []
    for text in _all(element, "polygon"):
        points = _points(text, "polygon")
        if len(points) < 4 or points[0] != points[-1]:
            raise CapError("<polygon> needs four or more points, the first repeated last")
        polygons.append(points)
    circles = []
    for text in _all(element, "circle"):
        centre, _, radius = text.partition(" ")
        points = _points(centre, "circle")
        try:
            if len(points) != 1:
                raise ValueError
            circles.append((*points[0], float(radius)))
        except ValueError:
            raise CapError(f"<circle> is not 'lat,lon radius': {text!r}") from None
    return Area(description, polygons, circles)


def _info(element) -> Info:
    categories = [_choice(c, CATEGORY, "category") for c in _all(element, "category")]
    if not categories:
        raise CapError("<info> has no <category>")
    return Info(
        language=_text(element, "language") or "en-US",
        categories=categories,
        event=_text(element, "event", required=True, where="info"),
        urgency=_choice(_text(element, "urgency", required=True, where="info"), URGENCY, "urgency"),
        severity=_choice(
            _text(element, "severity", required=True, where="info"), SEVERITY, "severity"
        ),
        certainty=_choice(
            _text(element, "certainty", required=True, where="info"), CERTAINTY, "certainty"
        ),
        sender_name=_text(element, "senderName"),
        headline=_text(element, "headline"),
        description=_text(element, "description"),
        instruction=_text(element, "instruction"),
        web=_text(element, "web"),
        effective=_time(_text(element, "effective"), "effective"),
        onset=_time(_text(element, "onset"), "onset"),
        expires=_time(_text(element, "expires"), "expires"),
        areas=[_area(area) for area in element.findall(f"{{{CAP_NS}}}area")],
    )


def _references(text: str) -> list[tuple[str, str]]:
    # "sender,identifier,sent sender,identifier,sent"
    found = []
    for triple in text.split():
        parts = triple.split(",")
        if len(parts) >= 2:
            found.append((parts[0], parts[1]))
    return found


def parse_alert(data: bytes | str) -> Alert:
    root = _xml(data)
    namespace, name = _local(root.tag)
    if name != "alert" or namespace != CAP_NS:
        raise CapError(f"the root is <{name}> in {namespace or 'no namespace'}, not a CAP 1.2 "
                       "<alert>")  # fmt: skip
    return Alert(
        identifier=_text(root, "identifier", required=True),
        sender=_text(root, "sender", required=True),
        sent=_time(_text(root, "sent", required=True), "sent", required=True),
        status=_choice(_text(root, "status", required=True), STATUS, "status"),
        msg_type=_choice(_text(root, "msgType", required=True), MSG_TYPE, "msgType"),
        scope=_choice(_text(root, "scope", required=True), SCOPE, "scope"),
        references=_references(_text(root, "references")),
        infos=[_info(info) for info in root.findall(f"{{{CAP_NS}}}info")],
    )


def index_links(data: bytes | str) -> list[str] | None:
    """The alert links of an RSS 2.0 or Atom index (BMKG's nowcast rss.xml); None when the
    document is not an index (then it may be a CAP alert itself)."""
    root = _xml(data)
    _, name = _local(root.tag)
    if name == "rss":
        links = [(item.findtext("link") or "").strip() for item in root.iter("item")]
        return [link for link in links if link]
    if name == "feed":
        links = []
        for entry in root.iter():
            if _local(entry.tag)[1] == "entry":
                for link in entry:
                    if _local(link.tag)[1] == "link" and link.get("href"):
                        links.append(link.get("href"))
        return links
    return None
