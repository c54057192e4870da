"""The grading policy as data: policy.toml, loaded and checked once at import.

A rule function says *that* something was observed (`finding(id, detail)`); the row decides what it costs.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from scanner.grading.findings import AREAS, Finding
from scanner.grading.scale import GRADE_ORDER, SEVERITIES

POLICY_FILE = Path(__file__).with_name("policy.toml")


@dataclass(frozen=True)
class PolicyRow:
    id: str
    area: str
    severity: str
    cap: str | None
    warning: bool
    seo_penalty: int
    title: str
    remediation: str
    anchor: str
    value: str


def _row(finding_id: str, raw: dict, hints: dict[str, str]) -> PolicyRow:
    known = {"area", "severity", "cap", "warning", "seo_penalty", "title", "remediation", "hint", "anchor", "value"}
    if unknown := set(raw) - known:
        raise ValueError(f"{finding_id}: unknown column(s) {sorted(unknown)}")
    remediation = " ".join(part for part in (raw.get("remediation"), hints.get(raw.get("hint", ""))) if part)
    row = PolicyRow(
        id=finding_id,
        area=raw["area"],
        severity=raw["severity"],
        cap=raw.get("cap"),
        warning=raw.get("warning", False),
        seo_penalty=raw.get("seo_penalty", 0),
        title=raw["title"],
        remediation=remediation,
        anchor=raw["anchor"],
        value=raw["value"],
    )
    # A typo in the table must fail at import, not quietly grade every site differently.
    problems = [
        row.area not in AREAS and f"area {row.area!r}",
        row.severity not in SEVERITIES and f"severity {row.severity!r}",
        row.cap is not None and row.cap not in GRADE_ORDER and f"cap {row.cap!r}",
        not 0 <= row.seo_penalty <= 100 and f"seo_penalty {row.seo_penalty!r}",
        "hint" in raw and raw["hint"] not in hints and f"hint {raw['hint']!r}",
        not row.remediation and "no remediation",
    ]
    if bad := [problem for problem in problems if problem]:
        raise ValueError(f"{finding_id}: " + ", ".join(bad))
    return row


def load_policy(path: Path = POLICY_FILE) -> dict[str, PolicyRow]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    hints = data.get("hints", {})
    return {finding_id: _row(finding_id, raw, hints) for finding_id, raw in data["rule"].items()}


POLICY: dict[str, PolicyRow] = load_policy()


def finding(finding_id: str, detail: str) -> Finding:
    """The finding `finding_id` with what was observed; an id missing from the table is a KeyError on purpose."""
    row = POLICY[finding_id]
    return Finding(
        id=row.id,
        area=row.area,
        severity=row.severity,
        title=row.title,
        detail=detail,
        remediation=row.remediation,
        cap=row.cap,
        warning=row.warning,
        seo_penalty=row.seo_penalty,
    )


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|")


def markdown_table() -> str:
    """The README's rule table, one line per policy row, in table order."""
    lines = [
        "| finding id | severity | cap | warning (A-) | SEO penalty | anchor | anchor value |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in POLICY.values():
        cells = (
            f"`{row.id}`", row.severity, row.cap or "–", "yes" if row.warning else "–",
            f"-{row.seo_penalty}" if row.seo_penalty else "–", row.anchor, row.value,
        )
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"
