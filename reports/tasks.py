"""Celery tasks: thin, id-free where possible, idempotent — safe to retry or run twice."""

from celery import shared_task

from .escalation import (
    assignments_escalate_unacknowledged,
    assignments_flag_overdue,
    assignments_flag_unheard,
)


@shared_task(ignore_result=True)
def sweep_escalations() -> dict:
    """Escalates late acknowledgements, flags unheard assignments and overdue responses (each
    exactly once), then
    stamps the sweep's heartbeat: /readyz alarms when it grows old (beat or worker gone)."""
    from notifications.models import ESCALATION_SWEEP, Heartbeat

    done = {
        "escalated": len(assignments_escalate_unacknowledged()),
        "unheard": len(assignments_flag_unheard()),
        "overdue": len(assignments_flag_overdue()),
    }
    Heartbeat.beat(ESCALATION_SWEEP)
    return done


@shared_task(ignore_result=True)
def anonymise_old_callers() -> dict:
    """Erases callers' names and numbers past the retention period (daily, from beat)."""
    from .retention import anonymise_callers

    done = anonymise_callers()
    return {"reports": done.reports, "calls": done.calls}
