"""The one navigation (issue 17 §2): the screens a user's role may open, in a fixed order, the
current one marked. The access rules stay in the views (and tests/test_access_matrix.py);
this only lists, for each role, the screens its views let it open."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from agencies.roles import Role, user_role

# (url name, label, roles that may open it, url names that count as this screen)
SCREENS = (
    ("console", _("Console"), {Role.OPERATOR}, ()),
    ("agency-dashboard", _("Queue"), {Role.AGENCY_STAFF}, ()),
    ("field", _("Field"), {Role.FIELD}, ()),
    ("board", _("Board"), {Role.OPERATOR, Role.SUPERVISOR}, ()),
    ("live-map", _("Map"), {Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY_STAFF}, ()),
    ("performance", _("Performance"), {Role.OPERATOR, Role.SUPERVISOR}, ("performance-agency",)),
    ("agency-history", _("History"), {Role.AGENCY_STAFF, Role.FIELD}, ()),
    ("agency-handover", _("Handover"), {Role.AGENCY_STAFF}, ()),
    ("status", _("Status"), {Role.OPERATOR, Role.SUPERVISOR}, ()),
)


@dataclass(frozen=True)
class Item:
    url: str
    label: str
    current: bool


def items_for(request: HttpRequest) -> list[Item]:
    user = request.user
    if not user.is_authenticated:
        return []
    role = user_role(user)
    match = getattr(request, "resolver_match", None)
    here = match.url_name if match else None
    items = [
        Item(reverse(name), str(label), here == name or here in also)
        for name, label, roles, also in SCREENS
        if role in roles
    ]
    if user.is_active and user.is_staff:  # the Django admin's own rule
        items.append(Item(reverse("admin:index"), str(_("Admin")), False))
    return items


def navigation(request: HttpRequest) -> dict:
    """Context processor: `nav_items` for templates/base.html."""
    return {"nav_items": items_for(request)}
