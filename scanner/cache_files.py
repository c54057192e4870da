"""Files kept beside Python's own bytecode: what a process would otherwise rebuild at every start.

A command-line scan is a new process each time, and part of its start-up is work whose result depends only on
files that rarely change (dataclass methods compiled from their source, the grading tables parsed from their
TOML). Such results are kept as Python keeps a module's bytecode
(https://docs.python.org/3/tutorial/modules.html#compiled-python-files): in the `__pycache__` directory beside the
file they come from (or under PYTHONPYCACHEPREFIX), never written when Python writes no bytecode
(PYTHONDONTWRITEBYTECODE, `-B`) or where the directory cannot be written, replaced atomically (a reader sees the
old file or the new one, never half of one), and read back only under the header they were written with: one that
names the interpreter's bytecode version, the format, and whatever the content was derived from. A missing,
damaged or foreign file is simply not used. They hold data or code with the same trust as the `.pyc` beside them.
"""

from __future__ import annotations

import contextlib
import os
import sys
from importlib.util import MAGIC_NUMBER, cache_from_source
from pathlib import Path

__all__ = ["beside_bytecode", "read", "write"]


def beside_bytecode(source: str | Path, name: str) -> Path:
    """Where a file called `name`, derived from `source`, goes: the directory of `source`'s own bytecode."""
    return Path(cache_from_source(str(source))).with_name(name)


def read(path: Path, header: bytes) -> bytes | None:
    """The payload written under exactly `header` (prefixed with the interpreter's magic number), else None."""
    expected = MAGIC_NUMBER + header
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data[len(expected) :] if data.startswith(expected) else None


def write(path: Path, header: bytes, payload: bytes) -> bool:
    """Replace the file with `payload` under `header`; False when nothing was written (not allowed or not able)."""
    if sys.dont_write_bytecode:
        return False
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(MAGIC_NUMBER + header + payload)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
        return False
    return True
