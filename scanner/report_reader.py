"""The one way to read a stored scan report (scanner/report.py's document) back: a typed, read-only view.

`ReportView.from_document(scan.result)` wraps the stored document without copying or changing it, so the
document the API serves and the CLI prints stays byte-for-byte what was stored. Documents stored before a
field existed lack it: every accessor then answers None (not known) or an empty tuple (nothing listed), never
raises, and the fields that moved are still found in their old places (key exchange groups and simulations
once under `tls`, the https walk once in `https_redirects`, mixed content once at the top level).
No module outside this one and scanner/report_sections.py indexes the document by key
(tests/test_architecture.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scanner.report_sections import (
    EMPTY,
    CertificateView,
    EndpointView,
    FindingView,
    GradeView,
    HstsView,
    RedirectsView,
    first_of,
    items_of,
    mapping,
    once,
    optional_mapping,
)

__all__ = [
    "SECTIONS",
    "CertificateView",
    "EndpointView",
    "FindingView",
    "GradeView",
    "HstsView",
    "RedirectsView",
    "ReportView",
    "report_path",
]

# The document's top-level keys as scanner/report.py writes them (a test compares the two).
SECTIONS = frozenset(
    {
        *("schema_version", "target", "status", "error", "partial", "probes", "started_at", "duration_s"),
        *("grade", "endpoints", "outbound", "certificate", "protocols", "cipher_suites", "vulnerabilities"),
        *("curves", "certificate_deployments", "key_exchange_groups", "client_certificate_requested"),
        *("cipher_preference", "simulations", "mozilla_intermediate", "redirects", "hsts", "content"),
        *("web_security", "headers", "cookies", "security_txt", "robots_txt", "alpn", "www_apex", "web_page"),
        *("findings", "extended_master_secret", "session_resumption", "compliance"),
    }
)
# Where documents stored by older versions kept some of them (read as fallbacks below).
FORMER_SECTIONS = frozenset({"tls", "https_redirects", "mixed_content", "handshake_simulation"})


def report_path(*keys: str, column: str = "result") -> str:
    """The ORM lookup of a value inside stored documents (`result__grade__caps`), for queries that let the
    database pick a few values out instead of loading whole documents. A section the document does not have
    is a mistake in the caller, so it raises rather than quietly selecting nothing."""
    if not keys or keys[0] not in SECTIONS:
        raise ValueError(f"not a section of the report: {keys[:1]}")
    return "__".join((column, *keys))


@dataclass(frozen=True)
class ReportView:
    document: Mapping[str, Any]

    @classmethod
    def from_document(cls, document: Mapping[str, Any] | ReportView | None) -> ReportView:
        """A view of `document`; None (a scan without a result) reads as an empty report."""
        if isinstance(document, ReportView):
            return document
        return cls(document if isinstance(document, (dict, Mapping)) else EMPTY)

    def _get(self, key: str) -> Any:
        return self.document.get(key)

    def __bool__(self) -> bool:
        """False for a scan without a stored document."""
        return bool(self.document)

    # --- the scan -------------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int | None:
        """None for a document that is not a scan report (pruned, or from elsewhere)."""
        return self.document.get("schema_version")

    @property
    def status(self) -> str | None:
        return self.document.get("status")

    @property
    def is_done(self) -> bool:
        return self.status == "done"

    @property
    def error(self) -> str | None:
        return self.document.get("error")

    @property
    def partial(self) -> bool:
        return bool(self.document.get("partial"))

    @property
    def probes(self) -> Mapping[str, Mapping[str, Any]]:
        return mapping(self.document.get("probes"))

    @property
    def target(self) -> Mapping[str, Any]:
        return mapping(self.document.get("target"))

    @property
    def duration_s(self) -> float | None:
        return self.document.get("duration_s")

    # --- grades and findings --------------------------------------------------------------------------

    @once
    def grade(self) -> GradeView:
        return GradeView(mapping(self.document.get("grade")))

    @once
    def findings(self) -> tuple[FindingView, ...]:
        return tuple(FindingView(mapping(item)) for item in items_of(self.document.get("findings")))

    @once
    def finding_ids(self) -> frozenset[str]:
        return frozenset(finding.id for finding in self.findings if finding.id)

    def findings_by_id(self) -> dict[str, FindingView]:
        return {finding.id: finding for finding in self.findings if finding.id}

    def _reasons(self, stored: tuple[Mapping[str, Any], ...] | None, flag: str) -> list[Mapping[str, Any]]:
        if stored is not None:
            return list(stored)
        # Reports stored before the grade listed them: the flagged findings say the same.
        return [
            {"finding_id": finding.id, "cap": finding.cap, "title": finding.title}
            for finding in self.findings
            if finding.data.get(flag)
        ]

    @property
    def caps(self) -> list[Mapping[str, Any]]:
        """What keeps the grade down: [{finding_id, cap, title}]."""
        return self._reasons(self.grade.caps, "cap")

    @property
    def warnings(self) -> list[Mapping[str, Any]]:
        return self._reasons(self.grade.warnings, "warning")

    @property
    def web_security(self) -> Mapping[str, Any] | None:
        """{score, grade, modifiers}; None when the https page was not read."""
        return optional_mapping(self.document.get("web_security"))

    @property
    def compliance(self) -> tuple[Mapping[str, Any], ...]:
        return items_of(self.document.get("compliance"))

    # --- addresses, certificate, protocols -------------------------------------------------------------

    @once
    def endpoints(self) -> tuple[EndpointView, ...]:
        return tuple(EndpointView(mapping(item)) for item in items_of(self.document.get("endpoints")))

    @once
    def certificate(self) -> CertificateView | None:
        """The leaf the first address served; None without TLS (a failed scan)."""
        certificate = self.document.get("certificate")
        return CertificateView(certificate) if isinstance(certificate, (dict, Mapping)) and certificate else None

    @once
    def certificate_deployments(self) -> tuple[CertificateView, ...]:
        """Every certificate the server has; reports stored before deployments existed list the leaf alone."""
        deployments = items_of(self.document.get("certificate_deployments"))
        if deployments:
            return tuple(CertificateView(mapping(item)) for item in deployments)
        return (self.certificate,) if self.certificate else ()

    @once
    def protocols(self) -> Mapping[str, bool] | None:
        return optional_mapping(self.document.get("protocols"))

    @once
    def enabled_protocols(self) -> frozenset[str]:
        return frozenset(name for name, enabled in (self.protocols or EMPTY).items() if enabled)

    @once
    def protocol_tables(self) -> tuple[Mapping[str, bool], ...]:
        """Each address's protocol table; the site's own for reports with no per-address tables."""
        tables = tuple(endpoint.protocols for endpoint in self.endpoints if endpoint.protocols)
        return tables or ((self.protocols,) if self.protocols else ())

    @once
    def cipher_suites(self) -> tuple[Mapping[str, Any], ...] | None:
        """None when suites were not measured; () when none was accepted."""
        suites = self.document.get("cipher_suites")
        return None if suites is None else items_of(suites)

    @once
    def key_exchange_groups(self) -> tuple[Mapping[str, Any], ...] | None:
        found = first_of(self.document, "key_exchange_groups", "tls.key_exchange_groups")
        if found is not None:
            return items_of(found)
        return () if isinstance(self.document.get("key_exchange_groups"), list) else None

    @once
    def curves(self) -> tuple[str, ...] | None:
        curves = self.document.get("curves")
        return None if curves is None else items_of(curves)

    @once
    def simulations(self) -> tuple[Mapping[str, Any], ...]:
        return items_of(first_of(self.document, "simulations", "handshake_simulation", "tls.simulations"))

    @property
    def cipher_preference(self) -> Mapping[str, Any]:
        """{server_enforced, preferred_suites, suite_order}; empty when not measured."""
        return mapping(self.document.get("cipher_preference"))

    @once
    def vulnerabilities(self) -> Mapping[str, Any]:
        """Each known vulnerability's state: True, False or None (not determined); empty when not tested."""
        return mapping(self.document.get("vulnerabilities"))

    @property
    def extended_master_secret(self) -> bool | None:
        return self.document.get("extended_master_secret")

    @property
    def session_resumption(self) -> Mapping[str, Any] | None:
        return optional_mapping(self.document.get("session_resumption"))

    @property
    def alpn(self) -> tuple[str, ...] | None:
        """Protocols accepted in ALPN; () none; None not tested."""
        alpn = self.document.get("alpn")
        return None if alpn is None else items_of(alpn)

    # --- the HTTP side ---------------------------------------------------------------------------------

    @once
    def redirects(self) -> RedirectsView | None:
        """None when the HTTP side was not scanned."""
        redirects = self.document.get("redirects")
        return RedirectsView(redirects) if isinstance(redirects, (dict, Mapping)) else None

    @property
    def has_https_walk(self) -> bool:
        """Whether the walk from https://host/ was recorded (reports stored before it existed lack it)."""
        return "https_chain" in (self.redirects.data if self.redirects else EMPTY) or bool(
            self.document.get("https_redirects")
        )

    @property
    def https_chain(self) -> tuple[Mapping[str, Any], ...]:
        return items_of(first_of(self.document, "redirects.https_chain", "https_redirects.chain"))

    @property
    def https_final_url(self) -> str | None:
        return first_of(self.document, "redirects.https_final_url", "https_redirects.final_url")

    @property
    def https_error(self) -> str | None:
        return first_of(self.document, "redirects.https_error", "https_redirects.error")

    @property
    def https_downgrade(self) -> bool:
        return bool(first_of(self.document, "redirects.https_downgrade", "https_redirects.downgrade"))

    @once
    def hsts(self) -> HstsView | None:
        """None when the HTTP side was not scanned."""
        hsts = self.document.get("hsts")
        return HstsView(hsts) if isinstance(hsts, (dict, Mapping)) else None

    @property
    def content(self) -> Mapping[str, Any]:
        """{page_fetched, url, mixed_content, canonical_url}; empty when the page was not read."""
        return mapping(self.document.get("content"))

    @property
    def mixed_content(self) -> tuple[Mapping[str, Any], ...] | None:
        """The page's http:// resources; None when the document does not say."""
        items = self.content.get("mixed_content") if self.content else self.document.get("mixed_content")
        return None if items is None else items_of(items)

    @property
    def headers(self) -> Mapping[str, Mapping[str, Any]]:
        return mapping(self.document.get("headers"))

    @property
    def cookies(self) -> tuple[Mapping[str, Any], ...]:
        return items_of(self.document.get("cookies"))

    @property
    def security_txt(self) -> Mapping[str, Any] | None:
        return optional_mapping(self.document.get("security_txt"))

    @property
    def www_apex(self) -> Mapping[str, Any] | None:
        return optional_mapping(self.document.get("www_apex"))
