from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def poll_cap_feeds() -> None:
    """Beat runs it every DISPATCH_CAP_POLL_SECONDS (the embedded server: a thread)."""
    services.poll_all()
