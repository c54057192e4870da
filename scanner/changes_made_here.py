"""Changes this process has made to owners' sites (scanner.services.sites_changed), counted when made.

The committed version of an owner's sites (scanner.site_state_models.SitesVersion) is renewed when a change
commits. Until then the process that made the change sees it and others do not: counted here as well, the
change is part of the version the process itself reads (scanner.selectors.sites_version), so what it kept
counting before is not used again, even inside the transaction (a test's, or a request's that reads back
what it wrote). A change rolled back only costs that process one more count."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable

_made: Counter[int] = Counter()
_lock = threading.Lock()


def count_changes(owner_ids: Iterable[int]) -> None:
    with _lock:
        _made.update(owner_ids)


def changes_made_here(owner_id: int) -> int:
    return _made[owner_id]
