#!/usr/bin/env python
"""Django's command-line utility for the HTTPS compliance scanner."""

import gc
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webui.settings")
    if sys.argv[1:2] == ["scan"]:
        # A command-line scan starts before Django is set up, and sets it up beside the scan. Its start-up
        # allocates what lives until exit, so the garbage collector only costs time until the scan starts.
        gc.disable()
        # Before anything declares a dataclass: their methods' compiled code comes from the last run's.
        from scanner import dataclass_code_cache

        dataclass_code_cache.install()
        from scanner.management.commands.scan import run_from_command_line

        run_from_command_line(sys.argv)  # exits with the command's status
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
