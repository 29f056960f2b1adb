"""Deployment checks of our own (`manage.py check --deploy`): an install, embedded or
production, has no DEBUG and no demo accounts, whose password is printed in the README."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError


@register(Tags.security, deploy=True)
def no_debug_in_production(app_configs, **kwargs):
    # The embedded mode is a real install too (a small city's): no debug pages there either.
    if settings.DEBUG:
        return [
            Error(
                "DEBUG is on.",
                hint="Unset DEBUG: it shows tracebacks and settings to anyone who hits an error.",
                id="dispatch112.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def no_demo_users_in_production(app_configs, **kwargs):
    from django.contrib.auth import get_user_model

    from agencies.seed import DEMO_PASSWORD, demo_usernames

    try:
        demo = [
            user.username
            for user in get_user_model().objects.filter(
                username__in=demo_usernames(), is_active=True
            )
            if user.check_password(DEMO_PASSWORD)
        ]
    except DatabaseError as error:
        return [
            Error(
                f"Cannot check for demo accounts: {error}".strip(),
                hint="Run the deploy check against the production database, migrated.",
                id="dispatch112.E003",
            )
        ]
    if not demo:
        return []
    return [
        Error(
            f"Active accounts with the public demo password: {', '.join(sorted(demo))}.",
            hint="Deactivate them or set real passwords (manage.py changepassword).",
            id="dispatch112.E002",
        )
    ]
