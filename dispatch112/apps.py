from django.apps import AppConfig


class Dispatch112Config(AppConfig):
    name = "dispatch112"
    verbose_name = "Dispatch 112"

    def ready(self):
        from . import checks, lockout  # noqa: F401  (system checks, signal receivers)
