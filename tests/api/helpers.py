"""Shared constants and checks of the API tests."""

from reports.models import Assignment, Call, Event, Message, Report

ROLES = [
    "anonymous",
    "inactive",
    "no_role",
    "operator",
    "supervisor",
    "assigned_staff",
    "other_staff",
]
ASSIGNED_AGENCY = "dishub"  # make_report() defaults to kemacetan → dishub, polrestabes
OTHER_AGENCY = "damkar"


def counts() -> dict[str, int]:
    """Rows of every table a write may touch: compare before and after a refused request."""
    return {
        model.__name__: model.objects.count()
        for model in (Report, Call, Assignment, Event, Message)
    }


def expect(table: dict[str, int]) -> list[tuple[str, int]]:
    """Parametrize rows (role, expected status) from a {role: status} table covering ROLES."""
    assert set(table) == set(ROLES), set(ROLES) ^ set(table)
    return [(role, table[role]) for role in ROLES]
