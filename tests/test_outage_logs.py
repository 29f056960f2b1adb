"""An outage is one line in the log, not a traceback (issue 35 §3): the console handler's
filter (core.logs) strips the stack of database and Redis connection errors, and only those."""

import io
import logging

import redis.exceptions
from django.db import OperationalError

from core.logs import OutageWithoutTraceback


def logged(log) -> str:
    """What `log(logger)` writes through a handler with the filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(OutageWithoutTraceback())
    logger = logging.getLogger("tests.outage")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        log(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def logged_exception(error: BaseException) -> str:
    def log(logger):
        try:
            raise error
        except BaseException:
            logger.exception("Couldn't apply scheduled task %s", "sweep-escalations")

    return logged(log)


def test_a_redis_or_database_outage_is_one_line():
    for error in (
        redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.\nmore"),
        OperationalError("connection failed: server closed the connection"),
    ):
        text = logged_exception(error)
        assert "Traceback" not in text and text.count("\n") == 1, text
        assert "Couldn't apply scheduled task sweep-escalations" in text
        assert type(error).__name__ in text


def test_a_scheduled_task_that_cannot_reach_redis_is_one_line_too():
    """Celery's beat wraps the broker's error and appends the stack to its message."""

    def log(logger):
        try:
            try:
                raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")
            except redis.exceptions.ConnectionError as cause:
                raise RuntimeError("Couldn't apply scheduled task") from cause
        except RuntimeError as error:
            logger.error("Message Error: %s\n%s", error, ["  File x, line 1\n"], exc_info=True)

    text = logged(log)
    assert "Traceback" not in text and "File x" not in text and text.count("\n") == 1, text
    assert "Message Error: Couldn't apply scheduled task" in text


def test_a_bug_keeps_its_traceback():
    text = logged_exception(ValueError("a bug"))
    assert "Traceback" in text and "ValueError: a bug" in text
