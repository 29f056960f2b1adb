"""Celery tasks of the field units (beat schedule in settings)."""

from celery import shared_task


@shared_task(ignore_result=True)
def prune_tracks() -> dict:
    """Deletes unit positions older than DISPATCH_TRACK_DAYS, and replay keys a week old."""
    from .services import prune_idempotency_keys
    from .services import prune_tracks as prune

    return {"positions": prune(), "idempotency_keys": prune_idempotency_keys()}
