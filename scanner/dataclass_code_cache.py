"""Dataclass methods compiled once, not in every process: part of a command-line scan's start-up.

`@dataclass` writes each class's methods (`__init__`, `__repr__`, `__eq__`, a frozen class's `__setattr__`, ...)
as Python source and compiles it while the class is created. sslyze, pydantic, annotated_types and the engine's
results declare about 150 dataclasses; compiling their 800 methods cost 58-66 ms of CPU on a 2 GHz core, a
fifth of what a command-line scan did before its TLS scan could start. A method's source depends only on its
class's declaration, so its compiled code can be kept between runs as Python keeps a module's bytecode
(https://docs.python.org/3/tutorial/modules.html#compiled-python-files): in a file beside this module's own
bytecode, keyed by a hash of the source, for this interpreter's bytecode version and optimisation level.

`install()` puts a function named `exec` among the `dataclasses` module's globals, where that module looks the
name up before the builtins: it sees every method source the module compiles, and runs the cached code of a
source it has seen, or compiles it as `exec` would (with no `__future__` flags, as `dataclasses` has none). The
classes come out the same either way; only the compiling is skipped. `save()` (run at exit once installed)
adds what this process compiled to the file (scanner/cache_files.py: where it lives, when it is not written).
"""

from __future__ import annotations

import atexit
import builtins
import dataclasses
import hashlib
import marshal
import sys
from pathlib import Path
from types import CodeType

from scanner import cache_files

__all__ = ["default_path", "install", "installed", "save", "stats"]

# After the interpreter's magic number (cache_files): a file of another format is read as empty.
_FORMAT = b"dataclass-code 1\n"
# Beyond this many entries (sources of classes no longer declared, after upgrades), a save keeps only the entries
# this process used.
MAX_ENTRIES = 4096

_path: Path | None = None
_cached: dict[bytes, CodeType] = {}
_compiled_here: dict[bytes, CodeType] = {}
_used: set[bytes] = set()


def default_path() -> Path:
    """Beside this module's bytecode, named for the interpreter and its optimisation level."""
    return cache_files.beside_bytecode(
        __file__, f"dataclass-code.{sys.implementation.cache_tag}.opt{sys.flags.optimize}.bin"
    )


def install(path: Path | None = None) -> None:
    """Compile dataclass methods through the cache at `path` (default_path()) from now on; saved at exit."""
    global _path
    if installed():
        return
    _path = path or default_path()
    _cached.update(_read(_path))
    dataclasses.exec = _exec  # type: ignore[attr-defined]
    atexit.register(save)


def installed() -> bool:
    return getattr(dataclasses, "exec", None) is _exec


def stats() -> dict[str, int]:
    """Method sources this process ran from the cache, and those it compiled."""
    return {"from_cache": len(_used - _compiled_here.keys()), "compiled": len(_compiled_here)}


def save() -> None:
    """Add what this process compiled to the cache file (merged with what other processes added meanwhile)."""
    if not _compiled_here or _path is None or sys.dont_write_bytecode:
        return
    entries = {**_read(_path), **_compiled_here}
    if len(entries) > MAX_ENTRIES:
        entries = {key: code for key, code in entries.items() if key in _used}
    if cache_files.write(_path, _FORMAT, marshal.dumps(entries)):
        _cached.update(_compiled_here)
        _compiled_here.clear()


def _exec(source: object, *args: object, **kwargs: object) -> None:
    if not isinstance(source, str):
        builtins.exec(source, *args, **kwargs)  # noqa: S102 - what `dataclasses` asked to run, unchanged
        return
    key = hashlib.blake2b(source.encode(), digest_size=16).digest()
    _used.add(key)
    code = _cached.get(key) or _compiled_here.get(key)
    if code is None:
        # dont_inherit: this module's `from __future__ import annotations` must not reach the methods' annotations.
        code = _compiled_here[key] = compile(source, "<string>", "exec", dont_inherit=True)
    builtins.exec(code, *args, **kwargs)  # noqa: S102 - the method source `dataclasses` wrote, compiled


def _read(path: Path) -> dict[bytes, CodeType]:
    payload = cache_files.read(path, _FORMAT)
    try:
        entries = marshal.loads(payload) if payload else {}
    except (ValueError, EOFError, TypeError):
        return {}
    if not isinstance(entries, dict):
        return {}
    return {key: code for key, code in entries.items() if isinstance(key, bytes) and isinstance(code, CodeType)}
