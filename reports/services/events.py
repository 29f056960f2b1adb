"""The Event log every service writes to (published live after the commit, reports.live), and
the role check they share."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from agencies.models import Unit
from agencies.roles import Role, user_role
from core.errors import ActionForbidden

from ..live import publish_on_commit
from ..models import Assignment, Event, Report

User = AbstractBaseUser


def _require_role(user: User, *roles: Role) -> None:
    if user_role(user) not in roles:
        raise ActionForbidden(_("Your role may not do this."))


def event_record(
    report: Report | None,
    kind: str,
    *,
    actor: User | None,
    assignment: Assignment | None = None,
    unit: Unit | None = None,
    data: dict | None = None,
) -> Event:
    """Appends an Event and has it published once the surrounding transaction commits. An
    event is about a report (and maybe one of its assignments) or about a unit."""
    event = Event.objects.create(
        report=report, assignment=assignment, unit=unit, kind=kind, actor=actor, data=data or {}
    )
    publish_on_commit(event)
    return event


def events_record(
    events: list[Event],
    *,
    report: Report | None = None,
    assignments: list[Assignment] | None = None,
) -> list[Event]:
    """Appends several Events in one INSERT; published together after commit. An action that
    has just written `report` and all its `assignments` hands them over: the live payload is
    built from them, not read back (reports.live)."""
    created = Event.objects.bulk_create(events)
    for event in created:
        publish_on_commit(event, report=report, assignments=assignments)
    return created
