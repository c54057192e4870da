"""The rule registry: rules register themselves in the order they are defined, and `evaluate` runs them all.

Certificate rules run once per certificate deployment (an RSA and an ECDSA certificate are both checked);
the other rules once per scan. See scanner/grading/rules.py for where the rules live.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from scanner.engine.results import CertificateInfo, ScanResult
from scanner.grading import scoring
from scanner.grading.findings import Finding
from scanner.grading.policy import finding

Rule = Callable[[ScanResult], Iterable[Finding]]
CertificateRule = Callable[[ScanResult, CertificateInfo], Iterable[Finding]]

RULES: list[Rule] = []
CERTIFICATE_RULES: list[CertificateRule] = []


def rule(check: Rule) -> Rule:
    """Register a rule; rules run in the order they are defined."""
    RULES.append(check)
    return check


def certificate_rule(check: CertificateRule) -> CertificateRule:
    CERTIFICATE_RULES.append(check)
    return check


def evaluate(scan: ScanResult) -> list[Finding]:
    """Every finding, once per (id, detail); certificate rules run once per certificate deployment."""
    found: dict[tuple[str, str], Finding] = {}
    seen_ids: set[str] = set()
    certificates = scoring.deployments(scan.tls) if scan.tls else ()
    for index, cert in enumerate(certificates):
        for check in CERTIFICATE_RULES:
            for item in check(scan, cert):
                # The second deployment only adds what the first did not already show.
                if index and item.id in seen_ids:
                    continue
                if index:
                    item = _for_deployment(item, cert)
                found.setdefault((item.id, item.detail), item)
        seen_ids = {key[0] for key in found}
    for check in RULES:
        for item in check(scan):
            found.setdefault((item.id, item.detail), item)
    return list(found.values())


def _for_deployment(item: Finding, cert: CertificateInfo) -> Finding:
    detail = f"On the {cert.key_type} certificate ({cert.subject}): {item.detail}"
    return finding(item.id, detail)
