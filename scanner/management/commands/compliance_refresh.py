"""Re-evaluate every site's latest scan against the current compliance profiles (after editing profiles.toml);
with --all, every stored report (the pass-rate history and the sites' compliance changes read them too).

Reports shown to people are always evaluated at read time; this refreshes the stored failing-profile ids that
`?fails=`, the portfolio counts, the export and the compliance history read. A scan whose report was pruned
(retention) keeps the ids it has: there is nothing to evaluate them from.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from scanner.models import Scan, Site
from scanner.services import refresh_compliance


class Command(BaseCommand):
    help = "Re-evaluate the latest scan of every site (--all: every stored report) against the current profiles."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all", action="store_true", help="every done scan with a stored report, not only the latest"
        )

    def handle(self, *args: object, **options: object) -> None:
        scans = Scan.objects.filter(status=Scan.Status.DONE, result__isnull=False)
        if not options["all"]:
            scans = scans.filter(pk__in=Site.objects.filter(latest_scan__isnull=False).values("latest_scan_id"))
        changed = refresh_compliance(scans.order_by("pk").iterator(chunk_size=200))
        self.stdout.write(f"{changed} scan(s) changed compliance verdict")
