"""Compliance profiles (PCI DSS, NIST, BSI, ANSSI, NCSC-NL, Mozilla): does a scanned site meet each standard?

The profiles are data (profiles.toml, one row per requirement with its source section); each row's `check`
is a function in checks.py. evaluate() reads the stored scan report (scanner/report.py's document), so an old
scan is re-evaluated against the current profiles without rescanning. Plain Python: no Django, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.grading.compliance.checks import CHECKS, NotMeasured
from scanner.grading.toml_tables import load_toml
from scanner.report_reader import ReportView

# A stored report document, or a view already made of one.
Report = Mapping[str, Any] | ReportView

PROFILES_FILE = Path(__file__).with_name("profiles.toml")
FAILING_LEVELS = ("must", "must not")
WARNING_LEVELS = ("should", "should not")


@dataclass(frozen=True)
class Profile:
    id: str
    title: str
    short: str  # a column heading: "PCI DSS"
    version: str
    document: str


@dataclass(frozen=True)
class Requirement:
    profile: str
    id: str  # its id or section in the source document
    check: str
    level: str
    source: str
    remediation: str
    values: tuple = ()
    value: int | str | None = None
    suites: frozenset[str] = frozenset()

    @property
    def fails(self) -> bool:
        return self.level in FAILING_LEVELS


def _load(path: Path = PROFILES_FILE) -> tuple[dict[str, Profile], tuple[Requirement, ...]]:
    data = load_toml(path)
    profiles = {key: Profile(id=key, **raw) for key, raw in data["profiles"].items()}
    suite_sets = data.get("suite_sets", {})
    requirements = []
    for raw in data["requirement"]:
        raw = dict(raw)
        names = raw.pop("suite_set", ())
        names = [names] if isinstance(names, str) else list(names)
        requirement = Requirement(
            **{**raw, "values": tuple(raw.get("values", ()))},
            suites=frozenset(suite for name in names for suite in suite_sets[name]),
        )
        # A typo in the table must fail at import, not quietly pass every site.
        if requirement.profile not in profiles:
            raise ValueError(f"{requirement.id}: unknown profile {requirement.profile!r}")
        if requirement.check not in CHECKS:
            raise ValueError(f"{requirement.profile} {requirement.id}: unknown check {requirement.check!r}")
        if requirement.level not in FAILING_LEVELS + WARNING_LEVELS:
            raise ValueError(f"{requirement.profile} {requirement.id}: unknown level {requirement.level!r}")
        requirements.append(requirement)
    return profiles, tuple(requirements)


PROFILES, REQUIREMENTS = _load()
PROFILE_IDS = tuple(PROFILES)


def _item(requirement: Requirement, seen: str) -> dict:
    return {
        "requirement": requirement.id,
        "level": requirement.level,
        "source": requirement.source,
        "seen": seen,
        "remediation": requirement.remediation,
    }


def evaluate_profile(report: Report, profile_id: str) -> dict:
    """One profile's verdict on one stored report: pass | fail | not_applicable, with every failed requirement."""
    profile = PROFILES[profile_id]
    entry = {
        "profile": profile.id,
        "title": profile.title,
        "version": profile.version,
        "status": "not_applicable",
        "failed": [],
        "warnings": [],
        "not_checked": [],
    }
    report = ReportView.from_document(report)
    if not report.is_done or not report.protocols:
        return entry  # a failed scan says nothing about the site's configuration
    for requirement in REQUIREMENTS:
        if requirement.profile != profile_id:
            continue
        try:
            seen = CHECKS[requirement.check](report, requirement)
        except NotMeasured as reason:
            entry["not_checked"].append(
                {"requirement": requirement.id, "source": requirement.source, "reason": str(reason)}
            )
            continue
        if seen is not None:
            entry["failed" if requirement.fails else "warnings"].append(_item(requirement, seen))
    entry["status"] = "fail" if entry["failed"] else "pass"
    return entry


def evaluate(report: Report, profiles: tuple[str, ...] | list[str] | None = None) -> list[dict]:
    """The report's `compliance` list: one entry per profile, in the order of profiles.toml."""
    wanted = PROFILE_IDS if profiles is None else tuple(p for p in PROFILE_IDS if p in profiles)
    view = ReportView.from_document(report)
    return [evaluate_profile(view, profile_id) for profile_id in wanted]


def failing_profiles(report: Report) -> list[str]:
    return [entry["profile"] for entry in evaluate(report) if entry["status"] == "fail"]
