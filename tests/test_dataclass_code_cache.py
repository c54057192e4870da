"""Dataclass methods compiled in one run are reused by the next (scanner/dataclass_code_cache.py).

Each test runs fresh interpreters, as the command line does: the cache changes how the `dataclasses` module of the
process compiles, and a process keeps what it has declared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Declares dataclasses of every kind of generated method, then prints what they do and the cache's counts.
DECLARE_AND_USE = """
import dataclasses, json, sys
from pathlib import Path
from scanner import dataclass_code_cache
if sys.argv[1] != "-":
    dataclass_code_cache.install(Path(sys.argv[1]))

@dataclasses.dataclass(frozen=True, order=True, slots=True)
class Version:
    major: int
    minor: int = 0
    tags: tuple = ()

@dataclasses.dataclass(kw_only=True)
class Settings:
    name: str
    retries: int = 2
    hosts: list = dataclasses.field(default_factory=list)
    seen: int = dataclasses.field(init=False, default=0)

    def __post_init__(self):
        self.seen = len(self.hosts)

version = Version(3, 11)
settings = Settings(name="x", hosts=["a", "b"])
try:
    version.major = 4
    frozen = "assigned"
except dataclasses.FrozenInstanceError as exc:
    frozen = type(exc).__name__
print(json.dumps({
    "repr": [repr(version), repr(settings)],
    "eq": [version == Version(3, 11), version == Version(3, 12), settings == Settings(name="x", hosts=["a", "b"])],
    "order": [Version(3, 9) < version, sorted([Version(3, 12), version]) == [version, Version(3, 12)]],
    "hash": hash(version) == hash(Version(3, 11)),
    "frozen": frozen,
    "post_init": settings.seen,
    "init_annotations": {k: repr(v) for k, v in Version.__init__.__annotations__.items()},
    "stats": dataclass_code_cache.stats(),
}))
"""


def _run(cache: Path | str, *, env: dict[str, str] | None = None) -> dict:
    finished = subprocess.run(
        [sys.executable, "-c", DECLARE_AND_USE, str(cache)],
        cwd=ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "", **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(finished.stdout)


def _behaviour(outcome: dict) -> dict:
    return {key: value for key, value in outcome.items() if key != "stats"}


def test_a_second_process_runs_the_first_ones_compiled_methods_and_compiles_none(tmp_path):
    cache = tmp_path / "dataclass-code.bin"
    first = _run(cache)
    second = _run(cache)
    assert first["stats"]["compiled"] > 0
    assert cache.exists()
    assert second["stats"] == {"from_cache": first["stats"]["compiled"], "compiled": 0}


def test_classes_behave_the_same_with_a_cold_cache_a_warm_one_and_none(tmp_path):
    cache = tmp_path / "dataclass-code.bin"
    without = _behaviour(_run("-"))
    assert _behaviour(_run(cache)) == without
    assert _behaviour(_run(cache)) == without
    assert without["frozen"] == "FrozenInstanceError"
    assert without["post_init"] == 2


def test_generated_methods_keep_real_annotations_not_the_cache_modules_future_strings(tmp_path):
    # The cache module itself uses `from __future__ import annotations`; compiled methods must not inherit it.
    cache = tmp_path / "dataclass-code.bin"
    _run(cache)
    annotations = _run(cache)["init_annotations"]
    assert annotations["major"] == "<class 'int'>"
    assert annotations["return"] == "None"


def test_a_damaged_cache_file_is_ignored_and_written_again(tmp_path):
    cache = tmp_path / "dataclass-code.bin"
    cache.write_bytes(b"not a cache at all")
    outcome = _run(cache)
    assert outcome["stats"]["from_cache"] == 0
    assert _run(cache)["stats"]["compiled"] == 0


def test_a_file_from_another_python_is_ignored(tmp_path):
    cache = tmp_path / "dataclass-code.bin"
    _run(cache)
    data = cache.read_bytes()
    cache.write_bytes(b"\x00\x00" + data[2:])  # another bytecode magic number
    assert _run(cache)["stats"]["from_cache"] == 0


def test_nothing_is_written_when_python_writes_no_bytecode(tmp_path):
    cache = tmp_path / "dataclass-code.bin"
    _run(cache, env={"PYTHONDONTWRITEBYTECODE": "1"})
    assert not cache.exists()


def test_a_cache_that_cannot_be_written_leaves_the_classes_working(tmp_path):
    # A file where the cache's directory should be: nothing can be written there (whoever runs the test, root too).
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    outcome = _run(blocker / "dataclass-code.bin")
    assert outcome["post_init"] == 2
    assert blocker.read_text() == ""
    assert sorted(path.name for path in tmp_path.iterdir()) == ["not-a-directory"]


def test_the_scan_commands_imports_compile_nothing_once_the_cache_is_warm(tmp_path):
    # What a command-line scan imports before its TLS scan starts (the command, the probes): all from the cache.
    cache = tmp_path / "dataclass-code.bin"
    script = (
        "import json, sys\nfrom pathlib import Path\nfrom scanner import dataclass_code_cache\n"
        "dataclass_code_cache.install(Path(sys.argv[1]))\n"
        "import scanner.management.commands.scan\nfrom scanner.engine import load_probes\nload_probes()\n"
        "print(json.dumps(dataclass_code_cache.stats()))\n"
    )

    def run() -> dict:
        finished = subprocess.run(
            [sys.executable, "-c", script, str(cache)],
            cwd=ROOT,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""},
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(finished.stdout)

    cold = run()
    warm = run()
    assert cold["compiled"] > 300  # sslyze's, pydantic's and the engine's dataclasses
    assert warm == {"from_cache": cold["compiled"], "compiled": 0}
