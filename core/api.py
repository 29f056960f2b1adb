"""API plumbing shared by every endpoint: pagination, the JSON parser, and the mapping of
domain errors to HTTP (field errors 400, ActionForbidden 403, TransitionNotAllowed 409,
database unavailable 503). Who may call: agencies.permissions (roles) and
agencies.tokens.StrictTokenAuthentication."""

import logging
import time

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import JSONParser as DRFJSONParser
from rest_framework.response import Response

from .errors import ActionForbidden, TransitionNotAllowed

logger = logging.getLogger(__name__)


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500
    # An offset past any table (PostgreSQL's OFFSET is a 64-bit integer).
    max_offset = 10**9

    def get_offset(self, request):
        return min(super().get_offset(request), self.max_offset)


class JSONParser(DRFJSONParser):
    """DRF's JSON parser, with nesting deep enough to exhaust Python's stack answered as a
    parse error (400) like any other malformed body."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise exceptions.ParseError("JSON parse error - nested too deeply") from error


DB_LOG_SECONDS = 10.0
_database_logged_at = -1e9


def _log_database_unavailable(path: str, error: Exception) -> None:
    global _database_logged_at
    now = time.monotonic()
    if now - _database_logged_at >= DB_LOG_SECONDS:
        _database_logged_at = now
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        logger.warning("Database unavailable (during %s): %s", path, reason)


def exception_handler(exc, context):
    # Imported here: DRF imports this module (its parser) while rest_framework.views loads.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, OperationalError | InterfaceError):
        # Down, unreachable, or slower than DB_TIMEOUT: the transaction was rolled back. An
        # expected outage: one line, no traceback, at most every DB_LOG_SECONDS per process.
        _log_database_unavailable(context["request"].path, exc)
        return Response(
            {
                "detail": _(
                    "The database is not answering: nothing was saved. Try again in a moment."
                ),
                "code": "database_unavailable",
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
        return Response(
            {
                "detail": _("Request body too large (at most %(limit)d KB).") % {"limit": limit},
                "code": "too_large",
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, ObjectDoesNotExist | Http404):
        # Django's own 404 text names the model in English ("No Assignment matches the given
        # query."): the API says "not found" in the request's language, and nothing more.
        exc = exceptions.NotFound()
    elif isinstance(exc, ActionForbidden):
        exc = exceptions.PermissionDenied(exc.message)
    elif isinstance(exc, TransitionNotAllowed):
        return Response(
            {"detail": exc.message, "code": "transition_not_allowed"},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)
