"""The grading's TOML tables read as `tomllib` reads them, parsed once per change of the file, not once per process.

tomllib is pure Python: the three tables (the policy, the web security modifiers, the compliance profiles) took
about 22 ms to parse in every process that grades, a command-line scan's storing process among them. The parsed
table is kept beside the bytecode (scanner/cache_files.py) under a hash of the file's bytes, so an edited table is
parsed again at once; marshal keeps the tables' order, which the grading relies on (a table holding a date or
time, which marshal cannot keep, is simply parsed every time).
"""

from __future__ import annotations

import hashlib
import marshal
import sys
import tomllib
from pathlib import Path

from scanner import cache_files

__all__ = ["load_toml"]

_FORMAT = b"toml-table 1\n"


def load_toml(path: Path) -> dict:
    """`tomllib.loads` of the file's text (UTF-8), from the kept copy while the file is unchanged."""
    raw = path.read_bytes()
    header = _FORMAT + hashlib.blake2b(raw, digest_size=16).digest()
    kept_at = cache_files.beside_bytecode(path, f"{path.name}.{sys.implementation.cache_tag}.bin")
    kept = cache_files.read(kept_at, header)
    if kept is not None:
        try:
            return marshal.loads(kept)
        except (ValueError, EOFError, TypeError):
            pass  # damaged: parsed again below, and replaced
    data = tomllib.loads(raw.decode("utf-8"))
    try:
        payload = marshal.dumps(data)
    except ValueError:  # a date or time value
        return data
    cache_files.write(kept_at, header, payload)
    return data
