"""`Idempotency-Key` (SPEC §7): the field app queues a tap made without network and sends it
later, perhaps more than once (the answer to the first try may be what was lost). The first
successful answer to a key is stored in the same transaction as the change it answers, so a
replay gets that answer back and writes nothing; an answer that is an error (400, 403, 409)
is not stored, and a retry is judged afresh. Keys belong to the user who sent them.

It lives beside its model (reports.IdempotentRequest), which any view at or above reports may
use: reports.api and units.api."""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.errors import TransitionNotAllowed

from .models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 100
REPLAYED = "Idempotent-Replayed"


def idempotent(request, act: Callable[[], Response]) -> Response:
    """Runs `act` (a view's work, which answers with a Response) once per key."""
    key = request.headers.get(HEADER)
    if key is None:
        return act()
    if not (0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()):
        raise ValidationError(
            {HEADER: [_("At most %(n)d printable ASCII characters.") % {"n": MAX_KEY_LENGTH}]}
        )
    if (earlier := _answer(request, key)) is not None:
        return earlier
    try:
        with transaction.atomic():
            response = act()
            if status.is_success(response.status_code):
                IdempotentRequest.objects.create(
                    user=request.user, key=key, path=request.path[:200],
                    status_code=response.status_code, body=response.data,
                )  # fmt: skip
        return response
    except (IntegrityError, TransitionNotAllowed):
        # The same key sent twice at once: the other request did it (this one then found the
        # step already taken, or the key already stored): its answer is this one's.
        if (earlier := _answer(request, key)) is not None:
            return earlier
        raise


def _answer(request, key: str) -> Response | None:
    stored = IdempotentRequest.objects.filter(user=request.user, key=key).first()
    if stored is None:
        return None
    if stored.path != request.path[:200]:
        raise ValidationError({HEADER: [_("This key was already used for another request.")]})
    return Response(stored.body, status=stored.status_code, headers={REPLAYED: "true"})
