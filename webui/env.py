"""Reading settings from the environment: the helpers webui/settings.py and its parts use."""

from __future__ import annotations

import os
from pathlib import Path


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def generated_secret_key(path: Path) -> str:
    """The key in `path`, created once (owner-only) so sessions survive restarts without a key in the repo."""
    if not path.exists():
        from django.core.management.utils import get_random_secret_key

        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of the same start won the race; read what it wrote
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(get_random_secret_key())
    return path.read_text().strip()
