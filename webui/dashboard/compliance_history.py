"""A site's compliance over its history: when it started or stopped meeting each profile, read from the
failing profiles stored with each scan (Scan.compliance_failing), consecutive done scans compared."""

from __future__ import annotations

from itertools import pairwise

from scanner.grading.compliance import PROFILES
from scanner.models import Scan


def _short(profile: str) -> str:
    return PROFILES[profile].short if profile in PROFILES else profile


def change_lines(failed: list[str], met: list[str]) -> dict:
    """{"failed": [short names], "met": [short names]}: the profiles a scan stopped / started meeting."""
    return {"failed": [_short(p) for p in failed], "met": [_short(p) for p in met]}


def history_changes(history: list[Scan]) -> dict[int, dict]:
    """For each done scan of `history` (newest first, as the site page lists it) after the oldest done one
    shown: the profiles it stopped or started meeting against the done scan before it."""
    done = [scan for scan in reversed(history) if scan.status == Scan.Status.DONE]
    changes = {}
    for previous, scan in pairwise(done):
        before, after = set(previous.compliance_failing.split()), set(scan.compliance_failing.split())
        if before != after:
            changes[scan.pk] = change_lines(sorted(after - before), sorted(before - after))
    return changes
