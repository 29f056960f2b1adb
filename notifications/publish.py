"""The one place events leave the process: after commit, to channel-layer groups.

Groups are per agency (`agency.<code>`: staff of the agencies on the report) plus one for the
command centre (`reports.all`: operators and supervisors), so a fan-out costs one group_send
per group, never a loop over users."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

if TYPE_CHECKING:
    from reports.models import Event

logger = logging.getLogger(__name__)

ALL_REPORTS_GROUP = "reports.all"


def agency_group(code: str) -> str:
    return f"agency.{code}"


def publish_on_commit(event: Event) -> None:
    """Publishes `event` once the current transaction commits; never if it rolls back."""
    transaction.on_commit(lambda: publish(event.pk), robust=True)


def publish(event_id: int) -> None:
    """Sends event `event_id` to every group that may see its report. A channel-layer outage
    is logged, not raised: the Event row is already committed and clients resume from it."""
    from agencies.models import Agency
    from reports.models import Event

    event = Event.objects.only("id", "kind", "report_id", "assignment_id").get(pk=event_id)
    codes = Agency.objects.filter(assignments__report_id=event.report_id).values_list(
        "code", flat=True
    )
    message = {
        "type": "dispatch.event",
        "event_id": event.pk,
        "kind": event.kind,
        "report_id": event.report_id,
        "assignment_id": event.assignment_id,
    }
    layer = get_channel_layer()
    for group in [ALL_REPORTS_GROUP, *map(agency_group, codes)]:
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:
            logger.exception("Could not publish event %s to %s", event.pk, group)
