"""The sections of a stored scan report as typed, read-only views (scanner/report_reader.py holds the whole).

Each view wraps the stored mapping and never copies or changes it; a key a document lacks (stored before the
field existed) reads as None, False or an empty tuple, as the old `.get` chains did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

EMPTY: Mapping[str, Any] = MappingProxyType({})


def mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else EMPTY


def optional_mapping(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def items_of(value: object) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else ()


def first_of(document: Mapping[str, Any], *paths: str) -> Any:
    """The first non-empty value among dotted paths: the document gained and moved fields over time."""
    for path in paths:
        node: Any = document
        for part in path.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if node not in (None, [], {}):
            return node
    return None


@dataclass(frozen=True)
class _Section:
    """A part of the document; `data` is the stored mapping itself, for templates and re-serialisation."""

    data: Mapping[str, Any] = field(default_factory=dict)

    def _get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __bool__(self) -> bool:
        """An empty section reads as absent, as an empty dict did."""
        return bool(self.data)


@dataclass(frozen=True)
class FindingView(_Section):
    @property
    def id(self) -> str | None:
        return self._get("id")

    @property
    def area(self) -> str | None:
        return self._get("area")

    @property
    def severity(self) -> str | None:
        return self._get("severity")

    @property
    def title(self) -> str | None:
        return self._get("title")

    @property
    def detail(self) -> str | None:
        return self._get("detail")

    @property
    def remediation(self) -> str | None:
        return self._get("remediation")

    @property
    def cap(self) -> str | None:
        return self._get("cap")

    @property
    def warning(self) -> bool:
        return bool(self._get("warning"))

    @property
    def remediation_by_server(self) -> Mapping[str, str]:
        """Empty for findings without per-server fixes and for reports stored before they existed."""
        return mapping(self._get("remediation_by_server"))


@dataclass(frozen=True)
class GradeView(_Section):
    @property
    def security(self) -> str | None:
        return self._get("security")

    @property
    def security_ignoring_trust(self) -> str | None:
        return self._get("security_ignoring_trust")

    @property
    def score(self) -> int | None:
        return self._get("score")

    @property
    def seo_score(self) -> int | None:
        return self._get("seo_score")

    @property
    def seo_grade(self) -> str | None:
        return self._get("seo_grade")

    @property
    def caps(self) -> tuple[Mapping[str, Any], ...] | None:
        """None when the report was stored before caps were listed (ReportView.caps derives them then)."""
        return tuple(self.data["caps"]) if "caps" in self.data else None

    @property
    def warnings(self) -> tuple[Mapping[str, Any], ...] | None:
        return tuple(self.data["warnings"]) if "warnings" in self.data else None


@dataclass(frozen=True)
class CertificateView(_Section):
    """The leaf certificate (or one of `certificate_deployments`) with its chain, revocation and CAA."""

    @property
    def subject(self) -> str | None:
        return self._get("subject")

    @property
    def issuer(self) -> str | None:
        return self._get("issuer")

    @property
    def sha256_fingerprint(self) -> str | None:
        return self._get("sha256_fingerprint")

    @property
    def not_before(self) -> str | None:
        return self._get("not_before")

    @property
    def not_after(self) -> str | None:
        return self._get("not_after")

    @property
    def days_to_expiry(self) -> int | None:
        return self._get("days_to_expiry")

    @property
    def san_dns_names(self) -> tuple[str, ...]:
        return items_of(self._get("san_dns_names"))

    @property
    def key_type(self) -> str | None:
        return self._get("key_type")

    @property
    def key_bits(self) -> int | None:
        return self._get("key_bits")

    @property
    def signature_algorithm(self) -> str | None:
        return self._get("signature_algorithm")

    @property
    def trusted(self) -> bool | None:
        return self._get("trusted")

    @property
    def chain_trusted(self) -> bool | None:
        """The path alone (None in reports stored before it existed: read `trusted` then)."""
        return self._get("chain_trusted")

    @property
    def hostname_match(self) -> bool | None:
        return self._get("hostname_match")

    @property
    def name_mismatch(self) -> bool:
        """Whether the name was checked and did not match (reports stored before the check say nothing)."""
        return "hostname_match" in self.data and not self.data["hostname_match"]

    @property
    def self_signed(self) -> bool:
        return bool(self._get("self_signed"))

    @property
    def expired(self) -> bool:
        return bool(self._get("expired"))

    @property
    def not_yet_valid(self) -> bool:
        return bool(self._get("not_yet_valid"))

    @property
    def validation_error(self) -> str | None:
        return self._get("validation_error")

    @property
    def ocsp_stapled(self) -> bool:
        return bool(self._get("ocsp_stapled"))

    @property
    def chain(self) -> tuple[Mapping[str, Any], ...]:
        return items_of(self._get("chain"))

    @property
    def chain_order_wrong(self) -> bool:
        return bool(self._get("chain_order_wrong"))

    @property
    def chain_completed_via_aia(self) -> bool:
        return bool(self._get("chain_completed_via_aia"))

    @property
    def revocation(self) -> Mapping[str, Any] | None:
        """None when not checked (no issuer to ask, or a report stored before revocation was checked)."""
        return optional_mapping(self._get("revocation"))

    @property
    def revocation_status(self) -> str | None:
        return (self.revocation or EMPTY).get("status")

    @property
    def intermediate_revocations(self) -> tuple[Mapping[str, Any], ...]:
        return items_of(self._get("intermediate_revocations"))


@dataclass(frozen=True)
class EndpointView(_Section):
    """One address behind the name, graded on its own."""

    @property
    def ip(self) -> str | None:
        return self._get("ip")

    @property
    def status(self) -> str | None:
        return self._get("status")

    @property
    def error(self) -> str | None:
        return self._get("error")

    @property
    def grade(self) -> GradeView:
        grade = self._get("grade")
        # Very early multi-address reports stored the letter alone.
        return GradeView({"security": grade} if isinstance(grade, str) else mapping(grade))

    @property
    def protocols(self) -> Mapping[str, bool] | None:
        return optional_mapping(first_of(self.data, "protocols", "tls.protocols"))

    @property
    def certificate_fingerprint(self) -> str | None:
        return self._get("certificate_fingerprint")


@dataclass(frozen=True)
class HstsView(_Section):
    @property
    def present(self) -> bool:
        return bool(self._get("present"))

    @property
    def max_age(self) -> int | None:
        return self._get("max_age")

    @property
    def include_subdomains(self) -> bool:
        return bool(self._get("include_subdomains"))

    @property
    def preload(self) -> bool:
        return bool(self._get("preload"))

    @property
    def error(self) -> str | None:
        return self._get("error")


@dataclass(frozen=True)
class RedirectsView(_Section):
    """The walk from http://host/ and, where measured, the one from https://host/."""

    @property
    def http_listener(self) -> bool | None:
        return self._get("http_listener")

    @property
    def chain(self) -> tuple[Mapping[str, Any], ...]:
        return items_of(self._get("chain"))

    @property
    def final_url(self) -> str | None:
        return self._get("final_url")

    @property
    def loop(self) -> bool:
        return bool(self._get("loop"))

    @property
    def too_many(self) -> bool:
        return bool(self._get("too_many"))

    @property
    def error(self) -> str | None:
        return self._get("error")
