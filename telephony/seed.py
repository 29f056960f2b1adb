"""The demo's desk phones: the demo operator answers extension 101 (SPEC §9)."""

from django.contrib.auth import get_user_model

from .models import Extension

DEMO_EXTENSIONS = {"101": "operator"}


def seed_demo_extensions() -> int:
    created = 0
    for number, username in DEMO_EXTENSIONS.items():
        user = get_user_model().objects.filter(username=username).first()
        if user is not None and not Extension.objects.filter(operator=user).exists():
            _, made = Extension.objects.get_or_create(number=number, defaults={"operator": user})
            created += made
    return created
