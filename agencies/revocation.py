"""Signing out, being deactivated, and any change to who a user is end the ways in they
cover at once: API tokens are deleted (a new one on the next sign-in) and the matching open
websockets are closed.

- Signing out (browser or `POST /api/v1/auth/logout/`): the user's API tokens, the websockets
  opened with them, and the websockets of the session that signed out (4401). The user's
  other browser sessions (the phone in the ambulance) stay signed in.
- Deactivation, a new password: every token, every websocket (4401: to the login page).
  Django already refuses the user's old sessions on their next request.
- A change of access (SPEC §13) — groups (operator, supervisor…), superuser, an agency
  membership created, moved to another agency or role, or removed: every token, and every
  websocket closed with 4003, to reconnect with the new scope (or be refused).
- A field officer's unit (signing on or off, a unit retired): every websocket closed with
  4001, to reconnect into the new unit's group; tokens stay (the token cache forgets the
  old unit, agencies.tokens).

These are model signals, sent after the change commits: the admin, `manage.py
changepassword`, the shell and the services all end up here. (A queryset `update()` sends
no signal: code that changes these fields saves the instances.)"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from notifications.revocation import (
    ACCESS_CHANGED,
    REVOKED,
    UNIT_CHANGED,
    close_after_commit,
    session_group,
    token_group,
    user_group,
)

from .models import AgencyMember
from .roles import users_of_group_change

logger = logging.getLogger(__name__)
User = get_user_model()


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
    close_after_commit(groups)


@receiver(user_logged_out, dispatch_uid="dispatch112-revoke-on-logout")
def _on_logout(sender, request, user, **kwargs):
    if user is not None and user.pk is not None:
        session = getattr(request, "session", None)
        signed_out(user.pk, getattr(session, "session_key", None))


def access_changed(user_ids, message: dict = ACCESS_CHANGED) -> None:
    """The users' access changed: their tokens are deleted now, their websockets closed
    with `message` once the change commits."""
    user_ids = sorted(set(user_ids))
    if not user_ids:
        return
    deleted, _ = Token.objects.filter(user_id__in=user_ids).delete()
    if deleted:
        logger.info("Revoked the API tokens of users %s: their access changed", user_ids)
    close_after_commit([user_group(pk) for pk in user_ids], message)


# --- What changes who a user is (the state before a save is read in pre_save) ---------------

_BEFORE = "_dispatch_access_before"
_USER_FIELDS = ("is_active", "is_superuser", "password")
_MEMBER_FIELDS = ("agency_id", "role", "unit_id")


def _remember(instance, fields, update_fields) -> None:
    concerned = update_fields is None or {f.removesuffix("_id") for f in fields} & set(
        update_fields
    )
    before = None
    if instance.pk is not None and concerned:
        before = type(instance).objects.filter(pk=instance.pk).values(*fields).first()
    setattr(instance, _BEFORE, before)


def _changed(instance, fields) -> set[str]:
    before = getattr(instance, _BEFORE, None)
    if before is None:
        return set()
    return {f for f in fields if before[f] != getattr(instance, f)}


@receiver(pre_save, sender=User, dispatch_uid="dispatch112-access-user-before")
def _user_before(sender, instance, update_fields=None, **kwargs):
    _remember(instance, _USER_FIELDS, update_fields)


@receiver(post_save, sender=User, dispatch_uid="dispatch112-revoke-on-deactivate")
def _user_saved(sender, instance, created, **kwargs):
    if created:
        return
    changed = _changed(instance, _USER_FIELDS)
    if ("is_active" in changed and not instance.is_active) or "password" in changed:
        access_changed([instance.pk], REVOKED)  # signed out everywhere
    elif changed - {"password"}:
        access_changed([instance.pk])


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="dispatch112-access-groups")
def _groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    access_changed(users_of_group_change(instance, action, reverse, pk_set))


@receiver(pre_delete, sender=Group, dispatch_uid="dispatch112-access-group-deleted")
def _group_deleted(sender, instance, **kwargs):
    access_changed(instance.user_set.values_list("pk", flat=True))


@receiver(pre_save, sender=AgencyMember, dispatch_uid="dispatch112-access-member-before")
def _member_before(sender, instance, update_fields=None, **kwargs):
    _remember(instance, _MEMBER_FIELDS, update_fields)


@receiver(post_save, sender=AgencyMember, dispatch_uid="dispatch112-access-member")
def _member_saved(sender, instance, created, **kwargs):
    changed = _changed(instance, _MEMBER_FIELDS)
    if created or changed - {"unit_id"}:
        access_changed([instance.user_id])
    elif changed:  # signed on or off: same access, another unit's group
        close_after_commit([user_group(instance.user_id)], UNIT_CHANGED)


@receiver(post_delete, sender=AgencyMember, dispatch_uid="dispatch112-access-member-deleted")
def _member_deleted(sender, instance, **kwargs):
    access_changed([instance.user_id])
