"""The compliance alert: a site stops meeting (or meets again) a profile one of its portfolios watches."""

from __future__ import annotations

from scanner.grading.compliance import PROFILES, failing_profiles
from scanner.models import Scan


def _failing(scan: Scan) -> set[str]:
    # Evaluated from the stored report with the current profiles, so a profile update alone changes nothing;
    # a report pruned by retention falls back to the ids stored with the scan.
    return set(failing_profiles(scan.result)) if scan.result else set(scan.compliance_failing.split())


def compliance_change(scan: Scan) -> tuple[str, str] | None:
    """(state key, message) when this done scan changes the verdict of a watched profile since the previous one."""
    if scan.status != Scan.Status.DONE:
        return None
    watched = {
        profile
        for chosen in scan.site.portfolios.values_list("compliance_profiles", flat=True)
        for profile in chosen or []
        if profile in PROFILES
    }
    if not watched:
        return None
    previous = (
        Scan.objects.filter(site_id=scan.site_id, status=Scan.Status.DONE)
        .exclude(pk=scan.pk)
        .order_by("-finished_at", "-id")
        .first()
    )
    if previous is None:
        return None  # a first scan is a state, not a change
    before, after = _failing(previous) & watched, _failing(scan) & watched
    stopped, restored = sorted(after - before), sorted(before - after)
    if not stopped and not restored:
        return None
    parts = []
    if stopped:
        parts.append(f"{scan.site} no longer meets {', '.join(PROFILES[p].title for p in stopped)}.")
    if restored:
        parts.append(f"{scan.site} meets {', '.join(PROFILES[p].title for p in restored)} again.")
    # The previous scan is part of the key: the same change later (after a fix and a relapse) alerts again.
    key = f"fails:{','.join(sorted(after)) or '-'}@{previous.pk}"
    return key, " ".join(parts)
