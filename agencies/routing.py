"""Routing: which agencies a report goes to. The category's defaults, or the operator's
explicit choice, which replaces them entirely."""

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from . import directory
from .codes import is_code
from .models import Agency, Category


def route(
    *,
    category: Category,
    agency_codes: Sequence[str] | None = None,
    known: directory.Directory | None = None,
) -> list[Agency]:
    """The active agencies a new report of `category` is sent to, in a stable order.

    Raises ValidationError (field ``agencies``) for an unknown or inactive code, or when no
    agency would be notified. `known` (agencies.directory) answers without a query."""
    known = known or directory.current()
    if agency_codes is None:
        if known is not None:
            agencies = list(known.routing.get(category.pk, []))
        else:
            agencies = list(category.default_agencies.filter(active=True).order_by("code"))
        if not agencies:
            raise ValidationError(
                {
                    "agencies": _(
                        "Category “%(category)s” has no default agencies: choose at least one."
                    )
                    % {"category": category.name}
                }
            )
        return agencies

    if not all(is_code(code) for code in agency_codes):
        raise ValidationError({"agencies": _("Give agencies as a list of codes.")})
    codes = list(dict.fromkeys(agency_codes))  # de-duplicated, order kept
    if known is not None:
        found = {code: known.agencies[code] for code in codes if code in known.agencies}
    else:
        found = {a.code: a for a in Agency.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError(
            {"agencies": _("Unknown agency: %(codes)s.") % {"codes": ", ".join(unknown)}}
        )
    inactive = [c for c in codes if not found[c].active]
    if inactive:
        raise ValidationError(
            {"agencies": _("Agency no longer active: %(codes)s.") % {"codes": ", ".join(inactive)}}
        )
    if not codes:
        raise ValidationError({"agencies": _("Choose at least one agency.")})
    return sorted(found.values(), key=lambda a: a.code)
