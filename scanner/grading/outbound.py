"""The scan's outbound budget (scanner.engine.runtime.outbound_budget): what it skipped is reported, never graded."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.engine.results import ScanResult
from scanner.grading.findings import Finding
from scanner.grading.policy import finding
from scanner.grading.rules import rule

KIND_WORDS = {
    "aia": "issuer certificate downloads (AIA)",
    "ocsp": "OCSP requests",
    "crl": "CRL downloads",
    "redirect": "redirect hops",
}


@rule
def outbound_budget_exhausted(scan: ScanResult) -> Iterator[Finding]:
    if scan.outbound_skipped:
        skipped = ", ".join(f"{count} {KIND_WORDS.get(kind, kind)}" for kind, count in scan.outbound_skipped)
        yield finding(
            "scan.outbound_budget_exhausted",
            f"After {scan.outbound_budget} fetches to hosts the site names, the scan skipped {skipped}.",
        )
