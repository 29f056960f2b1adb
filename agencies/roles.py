"""Roles. Operators and supervisors are Django groups; agency staff and field officers are
users with an AgencyMember row (its `role`). This module is the only place that turns a user
into a role."""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from .models import Agency, AgencyMember, MemberRole

OPERATOR_GROUP = "operator"
SUPERVISOR_GROUP = "supervisor"
# The phone system's service account (SPEC §9): it posts call events and AML messages with a
# token, and reads nothing.
TELEPHONY_GROUP = "telephony"


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    AGENCY_STAFF = "agency_staff"
    FIELD = "field"  # a field officer: the unit they are signed on to (SPEC §7)
    TELEPHONY = "telephony"  # the PBX / AML gateway (SPEC §9): posts, never reads
    NONE = "none"


def user_role(user: AbstractBaseUser | AnonymousUser) -> Role:
    """The user's role. Superusers act as supervisors outside the admin (read everything).

    An active user with no group and no agency has Role.NONE and sees nothing."""
    if not user.is_authenticated or not user.is_active:
        return Role.NONE
    cached = getattr(user, "_dispatch_role", None)
    if cached is not None:
        return cached
    group_names = {g.name for g in user.groups.all()}
    if OPERATOR_GROUP in group_names:
        role = Role.OPERATOR
    elif SUPERVISOR_GROUP in group_names or user.is_superuser:
        role = Role.SUPERVISOR
    elif TELEPHONY_GROUP in group_names:
        role = Role.TELEPHONY
    elif (membership := _membership(user)) is not None:
        role = Role.FIELD if membership.role == MemberRole.FIELD else Role.AGENCY_STAFF
    else:
        role = Role.NONE
    user._dispatch_role = role
    return role


def _membership(user) -> AgencyMember | None:
    return getattr(user, "agency_membership", None)


def user_agency(user: AbstractBaseUser | AnonymousUser) -> Agency | None:
    """The agency a staff user or field officer belongs to, or None."""
    if not user.is_authenticated:
        return None
    membership = _membership(user)
    return membership.agency if membership is not None else None


def user_unit_id(user: AbstractBaseUser | AnonymousUser) -> int | None:
    """The id of the unit a field officer is signed on to, or None (not signed on, or not a
    field officer)."""
    if user_role(user) != Role.FIELD:
        return None
    return _membership(user).unit_id


def users_of_group_change(instance, action: str, reverse: bool, pk_set) -> list[int]:
    """The ids of the users whose groups (so whose role) an `m2m_changed` signal on
    User.groups reports changed: [] for no-ops and for the pre_ steps."""
    if reverse and action == "pre_clear":
        # group.user_set.clear() names no users (pk_set is None) and, once done, the group
        # has none left: its members are read now, for post_clear.
        instance._cleared_user_ids = list(instance.user_set.values_list("pk", flat=True))
        return []
    if not action.startswith("post_"):
        return []
    if not reverse:  # user.groups.add/remove/clear; add() of groups it had: pk_set empty
        return [instance.pk] if action == "post_clear" or pk_set else []
    if action == "post_clear":
        return getattr(instance, "_cleared_user_ids", [])
    return list(pk_set or [])
