"""One observation about a scanned site, with what it costs the security grade and the SEO score."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from scanner.grading.scale import GRADE_ORDER, SEVERITIES

AREAS = ("certificate", "protocol", "vulnerability", "scan", "http", "hsts", "content", "seo", "web")


@dataclass(frozen=True)
class Finding:
    id: str  # stable machine name, e.g. "cert.expired"; its row in policy.toml sets everything but `detail`
    area: str  # one of AREAS
    severity: str  # one of SEVERITIES
    title: str
    detail: str  # what was observed, with the actual values
    remediation: str  # how to fix it
    cap: str | None = None  # best security grade this finding allows: "B", "C", "F", or the special "T" / "M"
    warning: bool = False  # SSL Labs-style warning: turns an A into A- and rules out A+
    seo_penalty: int = 0  # points taken off the 100-point SEO score
    # (server family id, how to fix it there) from policy.toml's [remediation.*]; () where the software does not matter
    remediation_by_server: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # Typos here would silently drop a finding from every report filter, so refuse them early.
        if self.area not in AREAS:
            raise ValueError(f"unknown area {self.area!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        if self.cap is not None and self.cap not in GRADE_ORDER:
            raise ValueError(f"unknown cap {self.cap!r}")

    def to_dict(self) -> dict:
        return {**asdict(self), "remediation_by_server": dict(self.remediation_by_server)}
