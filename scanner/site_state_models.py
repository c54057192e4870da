"""Which version of each owner's sites is committed, so that a process may keep numbers counted over all of them.
Imported by scanner.models (Django finds the model there); kept apart because models.py is at its size limit."""

from __future__ import annotations

from django.db import models


class SitesVersion(models.Model):
    """A new random value each time scanner.services commits a change to the state of one of the owner's sites
    that the dashboard counts (its grade, triage rank, certificate expiry, last attempt, latest result, its
    portfolios, the site itself). A process that counted all of an owner's sites under the version it read
    first (webui.dashboard.kept_counts) may show those numbers again while the version is unchanged."""

    # The user's id, not a foreign key: a renewal may name an owner whose creation was rolled back since
    # (scanner.services.site_versions), and a constraint would fail the renewal of every owner with it.
    owner_id = models.BigIntegerField(primary_key=True)
    version = models.UUIDField()

    def __str__(self) -> str:
        return f"sites of user {self.owner_id} at {self.version}"
