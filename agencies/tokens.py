"""API tokens → who is calling: the token, its user, the user's role and agency, read
together and kept in the shared cache for TOKEN_CACHE_SECONDS, so that a dashboard's or an
operator's next request asks the database nothing to know who it is.

What ends a token's access ends it in the cache at once, in every process:
- deleting the token (signing out, deactivation: agencies.revocation) and any change
  to the user, its groups or its agency leave a tombstone in place of the entry, set when
  it happens and again when its transaction commits;
- a tombstone is never overwritten by a request that read the database before the change
  (entries are written with `add`, which does not replace), so a revoked token cannot come
  back from a read that raced the revocation; while it lasts the user is looked up in the
  database on every request.

With TOKEN_CACHE_SECONDS = 0 (the embedded default: one process, no shared cache) every
request reads the database. Cache keys are digests: token keys stay out of Redis.

The API's door is StrictTokenAuthentication (settings REST_FRAMEWORK); the websocket's is
agencies.ws_auth. Here, not in core: who a token is means its role and agency."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from core import shared_cache

from .models import AgencyMember
from .roles import user_role, users_of_group_change

TOMBSTONE = "revoked"


def cache_key(key: str) -> str:
    return "token." + hashlib.sha256(key.encode()).hexdigest()[:40]


def load(key: str) -> Token | None:
    """The token with its user, the user's role (remembered on it) and agency: two queries,
    which cost less Python than one with the role's subqueries."""
    token = (
        Token.objects.select_related("user", "user__agency_membership__agency")
        .prefetch_related("user__groups")
        .filter(key=key)
        .first()
    )
    if token is not None:
        user_role(token.user)
    return token


def principal(key: str) -> Token | None:
    """The token `key` as load() gives it, from the shared cache when it is there."""
    seconds = settings.TOKEN_CACHE_SECONDS
    if not seconds:
        return load(key)
    name = cache_key(key)
    cached = shared_cache.get(name)
    if isinstance(cached, Token):
        return cached
    token = load(key)
    if token is not None and cached is None:
        shared_cache.add(name, token, seconds)
    return token


class StrictTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing keys that are not plain hex before any query;
    the token, user, role and agency come in one query or from the shared cache
    (principal())."""

    def authenticate_credentials(self, key):
        if not (0 < len(key) <= 64 and key.isascii() and key.isalnum()):
            raise exceptions.AuthenticationFailed(self.keyword + " " + "invalid")
        token = principal(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token


def forget(keys: list[str]) -> None:
    """The tokens `keys` are to be read from the database again (for as long as an entry
    would have lasted)."""
    seconds = settings.TOKEN_CACHE_SECONDS
    if not seconds or not keys:
        return

    def tombstones():
        shared_cache.set_many({cache_key(key): TOMBSTONE for key in keys}, seconds)

    tombstones()
    transaction.on_commit(tombstones, robust=True)


def forget_users(user_ids) -> None:
    if settings.TOKEN_CACHE_SECONDS and user_ids:
        forget(list(Token.objects.filter(user_id__in=user_ids).values_list("key", flat=True)))


# --- What changes who a token is -------------------------------------------------------------


def _token_deleted(sender, instance, **kwargs):
    forget([instance.key])


def _user_saved(sender, instance, created, update_fields=None, **kwargs):
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return  # a new user has no token yet; signing in changes nothing a token carries
    forget_users([instance.pk])


def _membership_changed(sender, instance, **kwargs):
    forget_users([instance.user_id])


def _groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    forget_users(users_of_group_change(instance, action, reverse, pk_set))


def _group_changed(sender, instance, **kwargs):
    forget_users(list(instance.user_set.values_list("pk", flat=True)))


def connect() -> None:
    from django.contrib.auth.models import Group

    User = get_user_model()
    post_delete.connect(_token_deleted, sender=Token, dispatch_uid="tokens-deleted")
    post_save.connect(_user_saved, sender=User, dispatch_uid="tokens-user")
    post_save.connect(_membership_changed, sender=AgencyMember, dispatch_uid="tokens-member")
    post_delete.connect(_membership_changed, sender=AgencyMember, dispatch_uid="tokens-unmember")
    m2m_changed.connect(_groups_changed, sender=User.groups.through, dispatch_uid="tokens-groups")
    post_save.connect(_group_changed, sender=Group, dispatch_uid="tokens-group-saved")
    pre_delete.connect(_group_changed, sender=Group, dispatch_uid="tokens-group-deleted")
