#!/usr/bin/env python
"""Django's command-line utility for aimap."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aimap.settings")
    from aimap.env import ConfigError

    try:
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018 (load settings now: a bad variable stops us here)
    except ConfigError as exc:
        sys.exit(f"aimap: configuration error: {exc}")

    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
