"""Re-evaluate every site's latest scan against the current compliance profiles (after editing profiles.toml).

Reports shown to people are always evaluated at read time; this refreshes the stored failing-profile ids that
`?fails=`, the portfolio counts and the export read.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from scanner.models import Scan, Site
from scanner.services import refresh_compliance


class Command(BaseCommand):
    help = "Re-evaluate the latest scan of every site against the current compliance profiles."

    def handle(self, *args, **options):
        latest = Site.objects.filter(latest_scan__isnull=False).values("latest_scan_id")
        scans = Scan.objects.filter(pk__in=latest).iterator(chunk_size=200)
        changed = refresh_compliance(scans)
        self.stdout.write(f"{changed} scan(s) changed compliance verdict")
