"""HSTS rules: the header on the HTTPS response (security warning and SEO), and hstspreload's own checks."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.engine.results import HstsPolicy, ScanResult
from scanner.grading.findings import Finding
from scanner.grading.policy import finding
from scanner.grading.rules import rejected_by_browsers, rule

HSTS_MIN_MAX_AGE = 15_552_000  # 180 days: SSL Labs A+ (testssl HSTS_MIN) and Observatory threshold
HSTS_PRELOAD_MAX_AGE = 31_536_000  # 1 year: hstspreload header.go
HSTS_MAX_SENSIBLE_AGE = 10 * HSTS_PRELOAD_MAX_AGE  # hstspreload warns above 10 years
FETCH_FAILED_PREFIX = "could not fetch"  # how the engine words a failed HTTPS fetch in HttpResult.hsts_error


def duration(seconds: int) -> str:
    days = seconds / 86_400
    if days >= 365 and days % 365 < 1:
        years = int(days // 365)
        return f"{years} year" + ("s" if years != 1 else "")
    if days >= 1:
        return f"{int(days)} day" + ("s" if int(days) != 1 else "")
    return f"{seconds} seconds"


def _valid_policy(scan: ScanResult) -> HstsPolicy | None:
    hsts = scan.http.hsts if scan.http else None
    return hsts if hsts is not None and hsts.valid else None


def _fetch_failed(scan: ScanResult) -> str | None:
    """Why the HTTPS page could not be read, if it could not: then HSTS is unknown, not missing or invalid."""
    http = scan.http
    if http is None or http.hsts is not None:
        return None
    if http.hsts_error and http.hsts_error.lower().startswith(FETCH_FAILED_PREFIX):
        return http.hsts_error
    return http.https_error


@rule
def hsts_presence(scan: ScanResult) -> Iterator[Finding]:
    http = scan.http
    # The HSTS fetch is its own request to https://host/, so a closed or broken port 80 (http.error) says
    # nothing about it: only a TLS scan that reached the server and a completed fetch count.
    if scan.tls is None or http is None:
        return
    if reason := _fetch_failed(scan):
        yield finding("hsts.not_checked", f"The HTTPS page could not be read ({reason}).")
    elif http.hsts is None and http.hsts_error:
        yield finding("hsts.invalid", f"The header could not be used: {http.hsts_error}.")
    elif http.hsts is None:
        yield finding(
            "hsts.missing",
            "The HTTPS response has no Strict-Transport-Security header, so browsers "
            "keep trying http:// first, where the connection can be intercepted.",
        )
    elif not http.hsts.valid:
        yield finding("hsts.invalid", f"The header `{http.hsts.raw}` has no valid max-age; browsers ignore it.")


@rule
def hsts_max_age(scan: ScanResult) -> Iterator[Finding]:
    hsts = _valid_policy(scan)
    if hsts and hsts.max_age < HSTS_MIN_MAX_AGE:
        yield finding(
            "hsts.short_max_age",
            f"max-age={hsts.max_age} ({duration(hsts.max_age)}); at least "
            f"{HSTS_MIN_MAX_AGE} ({duration(HSTS_MIN_MAX_AGE)}) is needed for an A+.",
        )
    if hsts and hsts.max_age > HSTS_MAX_SENSIBLE_AGE:
        yield finding("hsts.max_age_over_10_years", f"max-age={hsts.max_age} ({duration(hsts.max_age)}).")


@rule
def hsts_preload(scan: ScanResult) -> Iterator[Finding]:
    hsts = _valid_policy(scan)
    if hsts is None:
        return
    if not hsts.include_subdomains:
        yield finding(
            "hsts.no_include_subdomains",
            f"`{hsts.raw}` lacks includeSubDomains, so subdomains (and cookies scoped to them) stay exposed.",
        )
    requirements = (
        (
            hsts.max_age >= HSTS_PRELOAD_MAX_AGE,
            f"max-age >= {HSTS_PRELOAD_MAX_AGE} (is {hsts.max_age}, {duration(hsts.max_age)})",
        ),
        (hsts.include_subdomains, "includeSubDomains"),
        (hsts.preload, "preload"),
    )
    missing = [requirement for met, requirement in requirements if not met]
    if missing:
        yield finding("hsts.not_preload_ready", "hstspreload.org requires: " + ", ".join(missing) + ".")


@rule
def hsts_over_http(scan: ScanResult) -> Iterator[Finding]:
    if scan.http and scan.http.hsts_over_http:
        yield finding(
            "hsts.sent_over_http",
            "A plain-http response carries Strict-Transport-Security; browsers ignore it there (RFC 6797 §8.1).",
        )


@rule
def hsts_ignored_untrusted(scan: ScanResult) -> Iterator[Finding]:
    cert = scan.tls.certificate if scan.tls else None
    if cert and scan.http and scan.http.hsts and rejected_by_browsers(cert):
        yield finding(
            "hsts.ignored_untrusted",
            "HSTS is only honoured over a connection with a valid certificate; "
            "this certificate is not accepted, so the header has no effect (RFC 6797 §8.1).",
        )


def serves_long_hsts(scan: ScanResult) -> bool:
    """The A+ condition besides "no warnings": a valid header of at least 180 days."""
    hsts = _valid_policy(scan)
    return hsts is not None and hsts.max_age >= HSTS_MIN_MAX_AGE
