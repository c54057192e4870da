"""`manage.py grading_table [--write]` — print (or write into docs/grading.md) the tables generated from the policy."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from scanner.grading.readme import GRADING_DOC, readme_with_table


class Command(BaseCommand):
    help = "Print the grading rule table generated from scanner/grading/policy.toml; --write updates docs/grading.md."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", action="store_true", help="rewrite the tables in docs/grading.md in place")

    def handle(self, *args: object, write: bool = False, **options: object) -> None:
        readme = Path(settings.BASE_DIR) / GRADING_DOC
        current = readme.read_text(encoding="utf-8")
        updated = readme_with_table(current)
        if not write:
            self.stdout.write(updated[updated.index("<!-- grading-rules:start") :].split("<!-- grading-rules:end")[0])
            return
        if updated == current:
            self.stdout.write(f"{GRADING_DOC} tables are up to date.")
            return
        readme.write_text(updated, encoding="utf-8")
        self.stdout.write(f"{GRADING_DOC} tables rewritten.")
