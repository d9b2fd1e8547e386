#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keneyapp.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from keneyapp.core.secret_key import OFFLINE_COMMANDS, refuse_insecure_secret_key

    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    if command not in OFFLINE_COMMANDS:
        django.setup()
        try:
            refuse_insecure_secret_key(f"manage.py {command}")
        except ImproperlyConfigured as refused:
            sys.exit(str(refused))
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
