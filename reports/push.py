"""Phones in a pocket (SPEC §12, issue 40 §4): who is told of what by Web Push when their tab
is closed. A new assignment goes to its agency's staff, a fleet unit's dispatch to the field
officers signed on to it; tapping the message opens the card (the desk's or the field app's).

The domain half: reports.live hands over each transaction's payloads after the commit
(`after_publish`); this picks the events that call for a push, checks them against the one
access rule (the same audience the live frames have, reports.access.live_audience), and
gives the transport (notifications.webpush) the message and who gets it. The message says
what and where — number, incident type, address, priority — never who called."""

from __future__ import annotations

import functools
import logging
import threading
from collections import OrderedDict
from functools import partial

from django.conf import settings
from django.db.models import QuerySet
from django.templatetags.static import static
from django.urls import reverse

from agencies.models import AgencyMember, MemberRole
from agencies.roles import OPERATOR_GROUP, SUPERVISOR_GROUP, TELEPHONY_GROUP
from notifications import webpush

from .access import live_audience

logger = logging.getLogger(__name__)

CREATED, DISPATCHED = "assignment.created", "assignment.dispatched"
PUSHED = (CREATED, DISPATCHED)


def after_publish(payloads: list[dict]) -> None:
    """Hands the pushes the published events call for to Web Push, which sends them on its
    own threads. Asks no query and never raises: publishing goes on whatever happens here."""
    try:
        for payload in payloads:
            if payload.get("kind") in PUSHED and _pushed.first_time(payload["event_id"]):
                _push(payload)
    except Exception:
        logger.exception("Web Push was not given the events")


def _push(payload: dict) -> None:
    assignment = payload["assignment"]
    if not assignment:
        return
    audience = live_audience(payload)
    if payload["kind"] == CREATED and assignment["agency"] in audience.agencies:
        url = f"{reverse('agency-dashboard')}#assignment-{assignment['id']}"
        webpush.send_later(partial(staff_of, assignment["agency"]), push_message(payload, url=url))
    elif payload["kind"] == DISPATCHED and assignment.get("unit_id") in audience.units:
        url = f"{reverse('field')}#assignment-{assignment['id']}"
        message = push_message(payload, url=url, unit=assignment.get("unit") or "")
        webpush.send_later(partial(crew_of, assignment["unit_id"]), message)


def push_message(payload: dict, *, url: str, unit: str = "") -> dict:
    """What the phone shows: "LAP-20261207-0003 · Kebakaran", "Jl. Kaligawe, Genuk — P1"
    (the unit first for its crew), and where a tap goes. One notification per assignment
    (`tag`): a later one about the same card replaces it."""
    report, assignment = payload["report"], payload["assignment"]
    place = ", ".join(part for part in (report["address"], report["kecamatan_name"]) if part)
    body = f"{place} — P{report['priority']}"
    return {
        "title": f"{report['number']} · {report['category_name'] or report['category']}"[:120],
        "body": (f"{unit} · {body}" if unit else body)[:240],
        "url": url,
        "tag": f"assignment-{assignment['id']}",
        "kind": payload["kind"],
        "assignment": assignment["id"],
        "priority": report["priority"],
        "icon": _icon(),
    }


@functools.cache
def _icon() -> str:
    """The app's icon, by its served name. Where the static files were never collected (a
    production-mode server in the tests), the plain path: a push is never lost to an icon."""
    try:
        return static("img/icon-192.png")
    except ValueError:
        return f"{settings.STATIC_URL}img/icon-192.png"


# --- Who: run on the push threads, as a subquery of the subscriptions' ------------------------


def _members() -> QuerySet[AgencyMember]:
    # agencies.roles.user_role: a group (or superuser) outranks a membership, and an inactive
    # user has no role at all.
    return AgencyMember.objects.filter(user__is_active=True, user__is_superuser=False).exclude(
        user__groups__name__in=(OPERATOR_GROUP, SUPERVISOR_GROUP, TELEPHONY_GROUP)
    )


def staff_of(agency_code: str) -> QuerySet:
    """The ids of the agency's staff (its desk), whose own assignments it is."""
    members = _members().filter(agency__code=agency_code, role=MemberRole.STAFF)
    return members.values_list("user_id", flat=True)


def crew_of(unit_id: int) -> QuerySet:
    """The ids of the field officers signed on to the unit (reports.access: a field officer's
    own assignments are those their unit serves now)."""
    members = _members().filter(role=MemberRole.FIELD, unit_id=unit_id)
    return members.values_list("user_id", flat=True)


class _Pushed:
    """The event ids this process has pushed: an event published again (after a channel-layer
    outage, reports.live) is not pushed twice."""

    SIZE = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: OrderedDict[int, None] = OrderedDict()

    def first_time(self, event_id: int) -> bool:
        with self._lock:
            if event_id in self._ids:
                return False
            self._ids[event_id] = None
            if len(self._ids) > self.SIZE:
                self._ids.popitem(last=False)
            return True


_pushed = _Pushed()
