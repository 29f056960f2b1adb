#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatch112.settings")
    if sys.argv[1:2] not in (["serve"], ["runserver"]):
        # Maintenance commands (migrate on a big table…) are not bound by the per-statement
        # timeout that protects the operators' requests (settings.DB_TIMEOUT).
        os.environ.setdefault("DB_TIMEOUT", "0")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
