"""New versions of owners' sites (scanner.site_state_models.SitesVersion) once a change to them commits."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable

from django.db import DatabaseError, transaction

from scanner.changes_made_here import count_changes
from scanner.models import SitesVersion

logger = logging.getLogger(__name__)

# Owners whose sites changed in this thread's transaction, renewed together by its first commit callback: a
# scan stored creates its site, records the attempt and stores the result, one upsert for all three. A change
# rolled back leaves its owner here, renewed with the next commit: one renewal too many, never one too few.
_pending = threading.local()


def sites_changed(*, owner_ids: Iterable[int]) -> None:
    """Something the dashboard counts over all of these owners' sites changed (an attempt asked for or failed, a
    result stored, a site added or deleted, a site joining or leaving a portfolio, a compliance verdict
    re-evaluated): once the change commits
    (now, outside a transaction), each owner's sites get a new version, so no process keeps counting as before;
    this process stops at once (scanner.changes_made_here).

    After the commit, not in the transaction: a process that reads the new version then sees the change too,
    and no transaction waits on another's version row."""
    owners = set(owner_ids)
    if owners:
        count_changes(owners)
        _owners_pending().update(owners)
        transaction.on_commit(renew_versions)


def _owners_pending() -> set[int]:
    if not hasattr(_pending, "owners"):
        _pending.owners = set()
    return _pending.owners


def renew_versions() -> None:
    """Give every owner whose sites changed a new version (a no-op when an earlier callback of the same commit
    already did)."""
    owners = sorted(_owners_pending())
    if not owners:
        return
    _pending.owners = set()
    try:
        with transaction.atomic():  # a savepoint where the commit was nested (tests): a failure stays here
            SitesVersion.objects.bulk_create(
                [SitesVersion(owner_id=owner_id, version=uuid.uuid4()) for owner_id in owners],
                update_conflicts=True,
                unique_fields=["owner_id"],
                update_fields=["version"],
            )
    except DatabaseError as exc:
        # The change itself is committed; counts kept under the old version last at most their maximum age
        # (webui.dashboard.kept_counts.MAX_AGE).
        logger.warning("sites of users %s changed but their version could not be renewed: %s", owners, exc)
