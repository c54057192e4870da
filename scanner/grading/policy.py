"""The grading policy as data: policy.toml, loaded and checked once at import.

A rule function says *that* something was observed (`finding(id, detail)`); the row decides what it costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scanner.grading.findings import AREAS, Finding
from scanner.grading.scale import GRADE_ORDER, SEVERITIES
from scanner.grading.toml_tables import load_toml

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
    # (family id, how to fix it there), in [server_families] order; empty where the server software does not matter
    remediation_by_server: tuple[tuple[str, str], ...] = ()


def _row(finding_id: str, raw: dict, hints: dict[str, str], by_server: dict[str, dict[str, str]]) -> PolicyRow:
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
        remediation_by_server=tuple((by_server.get(finding_id) or by_server.get(raw.get("hint", "")) or {}).items()),
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


def _remediation_by_server(data: dict) -> dict[str, dict[str, str]]:
    """[remediation.<hint or finding id>] tables, each checked to give every server family a text, in family order."""
    families = data.get("server_families", {})
    tables = data.get("remediation", {})
    known_keys = set(data.get("hints", {})) | set(data["rule"])
    checked = {}
    for key, table in tables.items():
        problems = [
            key not in known_keys and "neither a hint nor a finding id",
            *(f"no text for {family!r}" for family in families if not str(table.get(family) or "").strip()),
            *(f"unknown family {family!r}" for family in table if family not in families),
        ]
        if bad := [problem for problem in problems if problem]:
            raise ValueError(f"remediation {key!r}: " + ", ".join(bad))
        checked[key] = {family: table[family].strip() for family in families}
    return checked


def load_policy(path: Path = POLICY_FILE) -> dict[str, PolicyRow]:
    return _policy_rows(_read(path))


def _read(path: Path) -> dict:
    return load_toml(path)


def _policy_rows(data: dict) -> dict[str, PolicyRow]:
    hints = data.get("hints", {})
    by_server = _remediation_by_server(data)
    return {finding_id: _row(finding_id, raw, hints, by_server) for finding_id, raw in data["rule"].items()}


_POLICY_DATA = _read(POLICY_FILE)  # parsed once: tomllib is pure Python, and every scan process loads this file
POLICY: dict[str, PolicyRow] = _policy_rows(_POLICY_DATA)
# family id -> the name a reader knows it by ("cdn" -> "Your CDN / load balancer"), in the report's order
SERVER_FAMILIES: dict[str, str] = dict(_POLICY_DATA.get("server_families", {}))


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
        remediation_by_server=row.remediation_by_server,
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
            f"`{row.id}`",
            row.severity,
            row.cap or "–",
            "yes" if row.warning else "–",
            f"-{row.seo_penalty}" if row.seo_penalty else "–",
            row.anchor,
            row.value,
        )
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"
