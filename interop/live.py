"""CAP alerts on the board and the console, live (SPEC §10):

* `{"type": "cap.alert", "id", "event", "headline", "description", "instruction",
  "severity", "urgency", "certainty", "sender_name", "area", "effective", "onset",
  "expires", "web"}` — a new alert for the city, to operators and supervisors;
* `{"type": "cap.removed", "id"}` — cancelled or replaced by its sender.

An expired alert is removed by the screens themselves at `expires` (server time), and is not
in the snapshot a (re)connecting screen gets (`cap_alerts`)."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from agencies.roles import Role, user_role
from notifications.publish import ALL_REPORTS_GROUP, publish_frame_on_commit

from .models import CapAlert


def _iso(moment):
    return moment.isoformat() if moment else None


def alert_frame(alert: CapAlert) -> dict:
    return {
        "type": "cap.alert",
        "id": alert.pk,
        "event": alert.event,
        "headline": alert.headline,
        "description": alert.description,
        "instruction": alert.instruction,
        "severity": alert.severity,
        "urgency": alert.urgency,
        "certainty": alert.certainty,
        "sender_name": alert.sender_name or alert.sender,
        "area": alert.area_description,
        "effective": _iso(alert.effective),
        "onset": _iso(alert.onset),
        "expires": _iso(alert.expires),
        "web": alert.web,
    }


def shown_alerts():
    """The alerts the banner shows now: for the city, not cancelled, not expired — from
    receipt to expiry (a warning of weather expected this evening is shown now)."""
    return CapAlert.objects.filter(for_city=True, cancelled_at__isnull=True).filter(
        Q(expires__isnull=True) | Q(expires__gt=timezone.now())
    )


def publish_alert_on_commit(alert: CapAlert) -> None:
    publish_frame_on_commit(alert_frame(alert), group=ALL_REPORTS_GROUP)


def publish_removed_on_commit(alert_ids: list[int]) -> None:
    for pk in alert_ids:
        publish_frame_on_commit({"type": "cap.removed", "id": pk}, group=ALL_REPORTS_GROUP)


def snapshot_extra(user) -> dict:
    if user_role(user) not in (Role.OPERATOR, Role.SUPERVISOR):
        return {}
    alerts = shown_alerts().order_by("-sent")[:20]
    return {"cap_alerts": [alert_frame(alert) for alert in alerts]}
