"""The sign-in-less user behind each system that talks to us (an Open311 app, a peer 112
centre): its reports here are logged under it, so the report's operator column names the app
or centre. The user has no password, no group and is inactive: it cannot sign in to anything.
Created here, by the models' manager and the admin — never inside a model's save()."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction


def open_account(system) -> None:
    """Gives `system` (an unsaved or saved _ServiceAccount) its user if it has none, and keeps
    the user's name the system's."""
    name = system.name[:150]
    with transaction.atomic():
        if system.account_id is None:
            user = get_user_model()(
                username=f"{system.ACCOUNT_PREFIX}.{system.code}", first_name=name, is_active=False
            )
            user.set_unusable_password()
            user.save()
            system.account = user
        elif system.account.first_name != name:
            system.account.first_name = name
            system.account.save(update_fields=["first_name"])
