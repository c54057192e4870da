"""A pytest plugin (pyproject's `-p tests.environment`), imported before pytest-django loads the settings:
the environment variables the settings require outside DEBUG, for this process and the worker, beat and
node processes tests start (they inherit os.environ)."""

from __future__ import annotations

import os

# Tests that check links set their own address; this one only satisfies the start-up check.
os.environ.setdefault("SCANNER_PUBLIC_URL", "http://testserver")
