"""New versions of owners' sites (scanner.site_state_models.SitesVersion) once a change to them commits."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from functools import partial

from django.db import DatabaseError, transaction

from scanner.changes_made_here import count_changes
from scanner.models import SitesVersion

logger = logging.getLogger(__name__)


def sites_changed(*, owner_ids: Iterable[int]) -> None:
    """Something the dashboard counts over all of these owners' sites changed (an attempt asked for or failed, a
    result stored, a site added or deleted, a site joining or leaving a portfolio): once the change commits
    (now, outside a transaction), each owner's sites get a new version, so no process keeps counting as before;
    this process stops at once (scanner.changes_made_here).

    After the commit, not in the transaction: a process that reads the new version then sees the change too,
    and no transaction waits on another's version row."""
    owners = sorted(set(owner_ids))
    if owners:
        count_changes(owners)
        transaction.on_commit(partial(renew_versions, owners))


def renew_versions(owner_ids: list[int]) -> None:
    try:
        SitesVersion.objects.bulk_create(
            [SitesVersion(owner_id=owner_id, version=uuid.uuid4()) for owner_id in owner_ids],
            update_conflicts=True,
            unique_fields=["owner"],
            update_fields=["version"],
        )
    except DatabaseError as exc:
        # The change itself is committed; counts kept under the old version last at most their maximum age
        # (webui.dashboard.kept_triage.MAX_AGE).
        logger.warning("sites of users %s changed but their version could not be renewed: %s", owner_ids, exc)
