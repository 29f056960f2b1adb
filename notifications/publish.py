"""The one place events leave the process: after commit, to channel-layer groups.

Groups are per agency (`agency.<code>`: staff of the agencies on the report) plus one for the
command centre (`reports.all`: operators and supervisors), so a fan-out costs one group_send
per group, never a loop over users.

Events recorded in one transaction are published together by a single flush after it
commits: two queries and one trip into the channel layer's event loop, however many events
the transaction wrote."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

if TYPE_CHECKING:
    from reports.models import Event

logger = logging.getLogger(__name__)

ALL_REPORTS_GROUP = "reports.all"
_PENDING = "_dispatch_events_to_publish"


def agency_group(code: str) -> str:
    return f"agency.{code}"


def publish_on_commit(event: Event) -> None:
    """Publishes `event` once the current transaction commits; never if it rolls back."""
    connection.__dict__.setdefault(_PENDING, []).append(event.pk)
    # One callback per event, so a savepoint rollback that discards some callbacks cannot
    # strand the others; the first to run flushes them all, the rest find nothing to do.
    transaction.on_commit(_flush, robust=True)


def _flush() -> None:
    event_ids = connection.__dict__.pop(_PENDING, None)
    if event_ids:
        publish(event_ids)


def publish(event_ids: list[int]) -> None:
    """Sends the given events to every group that may see their reports, in id order.

    Ids of events that were rolled back are simply not found. A channel-layer outage is
    logged, not raised: the Event rows are committed and clients catch up by resuming."""
    from reports.models import Assignment, Event

    events = list(
        Event.objects.filter(pk__in=event_ids)
        .order_by("pk")
        .values("id", "kind", "report_id", "assignment_id")
    )
    if not events:
        return
    agencies_by_report = defaultdict(list)
    for report_id, code in Assignment.objects.filter(
        report_id__in={e["report_id"] for e in events}
    ).values_list("report_id", "agency__code"):
        agencies_by_report[report_id].append(code)
    deliveries = []
    for event in events:
        message = {
            "type": "dispatch.event",
            "event_id": event["id"],
            "kind": event["kind"],
            "report_id": event["report_id"],
            "assignment_id": event["assignment_id"],
        }
        groups = [ALL_REPORTS_GROUP, *map(agency_group, agencies_by_report[event["report_id"]])]
        deliveries.extend((group, message) for group in groups)
    try:
        async_to_sync(_send_all)(deliveries)
    except Exception:
        logger.exception("Could not publish events %s", event_ids)


async def _send_all(deliveries: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    for group, message in deliveries:
        await layer.group_send(group, message)
