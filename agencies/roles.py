"""Roles. Operators and supervisors are Django groups; agency staff are users with an
AgencyMember row. This module is the only place that turns a user into a role."""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from .models import Agency

OPERATOR_GROUP = "operator"
SUPERVISOR_GROUP = "supervisor"


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    AGENCY_STAFF = "agency_staff"
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
    elif user_agency(user) is not None:
        role = Role.AGENCY_STAFF
    else:
        role = Role.NONE
    user._dispatch_role = role
    return role


def user_agency(user: AbstractBaseUser | AnonymousUser) -> Agency | None:
    """The agency a staff user belongs to, or None."""
    if not user.is_authenticated:
        return None
    membership = getattr(user, "agency_membership", None)
    return membership.agency if membership is not None else None
