"""Who may call an API view, by role (agencies.roles): the default for every view (HasRole,
settings REST_FRAMEWORK) and the narrower ones views name."""

from rest_framework.permissions import BasePermission

from .roles import Role, user_role


class HasRole(BasePermission):
    """Signed in, active, and with a role; `roles` narrows it for a view. By default every
    desk role; a field officer only where a view says `with_field` (their own unit's work)."""

    roles: frozenset[Role] = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY_STAFF})

    def __init__(self, *, with_field: bool = False) -> None:
        if with_field:
            self.roles = self.roles | {Role.FIELD}

    def has_permission(self, request, view) -> bool:
        return user_role(request.user) in self.roles


class IsOperator(HasRole):
    roles = frozenset({Role.OPERATOR})


class IsCommandCentre(HasRole):
    """Operators and supervisors: everything in the command centre, no agency staff."""

    roles = frozenset({Role.OPERATOR, Role.SUPERVISOR})
