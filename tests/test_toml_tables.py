"""The grading's TOML tables are read as tomllib reads them, from a kept copy while the file is unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from scanner.grading import toml_tables
from scanner.grading.toml_tables import load_toml

GRADING = Path(toml_tables.__file__).parent
TABLES = [GRADING / "policy.toml", GRADING / "web_security.toml", GRADING / "compliance" / "profiles.toml"]


@pytest.fixture(autouse=True)
def bytecode_is_written(monkeypatch):
    # As in a user's checkout; the suite may run with PYTHONDONTWRITEBYTECODE set.
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


def _ordered(data: dict) -> str:
    # Key order included: the grading reads its tables in file order.
    return json.dumps(data, ensure_ascii=False)


def _kept_files(directory: Path) -> list[Path]:
    return sorted((directory / "__pycache__").glob("*.bin")) if (directory / "__pycache__").exists() else []


@pytest.mark.parametrize("table", TABLES, ids=lambda path: path.name)
def test_each_grading_table_reads_the_same_parsed_and_kept(tmp_path, table):
    copy = tmp_path / table.name
    copy.write_bytes(table.read_bytes())
    parsed = load_toml(copy)
    assert len(_kept_files(tmp_path)) == 1
    kept = load_toml(copy)
    assert _ordered(kept) == _ordered(parsed) == _ordered(tomllib.loads(table.read_text(encoding="utf-8")))


def test_an_edited_table_is_read_as_edited_not_as_kept(tmp_path):
    table = tmp_path / "rules.toml"
    table.write_text('[rule.a]\ntitle = "first"\n', encoding="utf-8")
    assert load_toml(table)["rule"]["a"]["title"] == "first"
    table.write_text('[rule.a]\ntitle = "second"\n', encoding="utf-8")
    assert load_toml(table)["rule"]["a"]["title"] == "second"


def test_a_damaged_kept_copy_is_parsed_again_and_replaced(tmp_path):
    table = tmp_path / "rules.toml"
    table.write_text('[rule.a]\ntitle = "first"\n', encoding="utf-8")
    load_toml(table)
    (kept,) = _kept_files(tmp_path)
    data = kept.read_bytes()
    kept.write_bytes(data[:-4])  # cut short: marshal cannot read it
    assert load_toml(table) == {"rule": {"a": {"title": "first"}}}
    assert kept.read_bytes() == data


def test_a_table_with_a_date_is_parsed_every_time_and_nothing_is_kept(tmp_path):
    table = tmp_path / "dated.toml"
    table.write_text("updated = 2026-12-07\n", encoding="utf-8")
    assert str(load_toml(table)["updated"]) == "2026-12-07"
    assert _kept_files(tmp_path) == []


def test_nothing_is_kept_when_python_writes_no_bytecode(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    table = tmp_path / "rules.toml"
    table.write_text('[rule.a]\ntitle = "first"\n', encoding="utf-8")
    assert load_toml(table) == {"rule": {"a": {"title": "first"}}}
    assert _kept_files(tmp_path) == []


def test_a_broken_table_still_fails_as_tomllib_says(tmp_path):
    table = tmp_path / "broken.toml"
    table.write_text("[rule.a\n", encoding="utf-8")
    with pytest.raises(tomllib.TOMLDecodeError):
        load_toml(table)


def test_grading_reads_its_three_tables_through_the_kept_copies(tmp_path):
    # A fresh process importing the grading, its bytecode (and so the kept tables) under a prefix of its own.
    root = GRADING.parent.parent
    subprocess.run(
        [sys.executable, "-c", "import scanner.report, scanner.grading.compliance"],
        cwd=root,
        env={**os.environ, "PYTHONPYCACHEPREFIX": str(tmp_path), "PYTHONDONTWRITEBYTECODE": ""},
        check=True,
    )
    kept = sorted(path.name.split(".")[0] for path in tmp_path.rglob("*.toml.*.bin"))
    assert kept == ["policy", "profiles", "web_security"]
