"""The policy table: loaded and checked at import, the only source of what a finding costs and of the README table."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.grading import POLICY
from scanner.grading.policy import finding, load_policy
from scanner.grading.readme import readme_with_table
from scanner.report import build_report
from tests.grading_factories import grade, scan, tls

README = Path(__file__).resolve().parent.parent / "docs" / "grading.md"


def test_readme_rule_table_is_generated_from_the_current_policy():
    current = README.read_text(encoding="utf-8")
    assert readme_with_table(current) == current, "run `manage.py grading_table --write`"


def test_readme_table_lists_every_finding_id():
    text = README.read_text(encoding="utf-8")
    assert all(f"`{finding_id}`" in text for finding_id in POLICY)


def test_finding_costs_come_from_its_policy_row():
    made = finding("tls.cipher.sweet32", "seen")
    row = POLICY["tls.cipher.sweet32"]
    assert (made.cap, made.severity, made.warning, made.seo_penalty, made.title) == (
        row.cap,
        row.severity,
        row.warning,
        row.seo_penalty,
        row.title,
    )


def test_every_row_names_its_anchor_and_value():
    assert all(row.anchor and row.value and row.remediation for row in POLICY.values())


def test_policy_row_with_an_unknown_cap_is_refused(tmp_path):
    bad = tmp_path / "policy.toml"
    bad.write_text(
        '[rule."x.y"]\narea = "protocol"\nseverity = "high"\ncap = "Z"\ntitle = "t"\n'
        'remediation = "r"\nanchor = "a"\nvalue = "v"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="cap 'Z'"):
        load_policy(bad)


def test_finding_id_missing_from_the_table_is_an_error():
    with pytest.raises(KeyError):
        finding("tls.no_such_rule", "seen")


def test_report_json_lists_every_cap_and_warning_that_applied():
    result = scan(tls(protocols=("TLSv1.0", "TLSv1.2")))
    report = build_report(result, grade(result))
    assert report["grade"]["caps"] == [
        {"finding_id": "tls.protocol.tls1_0", "cap": "B", "title": POLICY["tls.protocol.tls1_0"].title}
    ]
    assert report["grade"]["warnings"] == [
        {"finding_id": "tls.protocol.no_tls1_3", "title": POLICY["tls.protocol.no_tls1_3"].title}
    ]
