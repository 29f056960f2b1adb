"""Signing out, or being deactivated, ends the ways in it covers at once: API tokens are
deleted and the matching open websockets are closed with 4401 (dashboards then show the login
page).

- Signing out (browser or `POST /api/v1/auth/logout/`): the user's API tokens, the websockets
  opened with them, and the websockets of the session that signed out. The user's other
  browser sessions (the phone in the ambulance) stay signed in.
- Deactivation: every token, every websocket. Django already refuses an inactive user's
  session on its next request."""

from __future__ import annotations

import hashlib
import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from .publish import deliver_safely

logger = logging.getLogger(__name__)
REVOKED = {"type": "session.revoked"}


def user_group(user_id: int) -> str:
    """Every websocket of one user."""
    return f"user.{user_id}"


def token_group(user_id: int) -> str:
    """The websockets a user opened with an API token."""
    return f"token.{user_id}"


def session_group(session_key: str) -> str:
    """The websockets of one browser session (by digest: session keys stay out of Redis)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def _close_after_commit(groups: list[str]) -> None:
    transaction.on_commit(
        lambda: deliver_safely([(group, REVOKED) for group in groups]), robust=True
    )


def revoke_tokens(user_id: int) -> None:
    deleted, _ = Token.objects.filter(user_id=user_id).delete()
    if deleted:
        logger.info("Revoked the API token of user %s", user_id)


def signed_out(user_id: int, session_key: str | None = None) -> None:
    """The user signed out (of the session `session_key`, if a browser)."""
    revoke_tokens(user_id)
    groups = [token_group(user_id)]
    if session_key:
        groups.append(session_group(session_key))
    _close_after_commit(groups)


@receiver(user_logged_out, dispatch_uid="dispatch112-revoke-on-logout")
def _on_logout(sender, request, user, **kwargs):
    if user is not None and user.pk is not None:
        session = getattr(request, "session", None)
        signed_out(user.pk, getattr(session, "session_key", None))


@receiver(post_save, sender=get_user_model(), dispatch_uid="dispatch112-revoke-on-deactivate")
def _on_deactivate(sender, instance, created, update_fields=None, **kwargs):
    if created or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    revoke_tokens(instance.pk)
    _close_after_commit([user_group(instance.pk)])
