#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hubee_portal.settings")
    from django.core.management import execute_from_command_line

    from hubee_portal import file_modes

    file_modes.install()  # files and the database private to the portal's account and group

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
