"""Log records of an expected outage without their traceback (issue 35 §3): a database or a
Redis that is away is a state to report in one line — what failed and why — not a stack per
request, per task or per retry. Everything else keeps its traceback."""

from __future__ import annotations

import logging


def _outage_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError]
    try:
        import redis.exceptions

        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:  # pragma: no cover - a dependency
        pass
    try:
        import kombu.exceptions

        errors.append(kombu.exceptions.OperationalError)
    except ImportError:  # pragma: no cover - a dependency
        pass
    try:
        from django.db import InterfaceError, OperationalError

        errors += [OperationalError, InterfaceError]
    except ImportError:  # pragma: no cover - a dependency
        pass
    return tuple(errors)


class OutageWithoutTraceback(logging.Filter):
    """On a handler: a record whose exception is an outage loses the traceback and gains the
    exception's first line."""

    errors: tuple[type[BaseException], ...] | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            if self.errors is None:
                type(self).errors = _outage_errors()
            error = _outage_in(record.exc_info[1], self.errors)
            if error is not None:
                reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
                # The message's first line only: Celery's beat appends the stack to it.
                message = (record.getMessage().splitlines() or [""])[0]
                record.msg = f"{message} ({type(error).__name__}: {reason})"
                record.args = None
                record.exc_info = record.exc_text = None
        return True


def _outage_in(error: BaseException | None, errors) -> BaseException | None:
    """The outage error in `error`'s chain (a task's SchedulingError raised from a Redis
    ConnectionError counts), or None."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, errors):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None
