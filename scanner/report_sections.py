"""The sections of a stored scan report as typed, read-only views (scanner/report_reader.py holds the whole).

Each view wraps the stored mapping and never copies or changes it; a key a document lacks (stored before the
field existed) reads as None, False or an empty tuple, as the old `.get` chains did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

EMPTY: Mapping[str, Any] = MappingProxyType({})
T = TypeVar("T")


class once(Generic[T]):
    """A property computed on its first read and kept on the instance (the document under a view never changes).
    functools.cached_property does the same behind a lock on Python 3.11, a measurable part of evaluating every
    compliance profile against a report."""

    def __init__(self, function: Callable[[Any], T]) -> None:
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> T:
        if instance is None:
            return self  # type: ignore[return-value]
        value = self.function(instance)
        instance.__dict__[self.name] = value  # bypasses the frozen dataclass's __setattr__, as cached_property does
        return value


# Stored documents are JSON, so their mappings are dicts: `dict` is checked first, the ABC check costs more.
def mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, (dict, Mapping)) else EMPTY


def optional_mapping(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, (dict, Mapping)) else None


def items_of(value: object) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else ()


def first_of(document: Mapping[str, Any], *paths: str) -> Any:
    """The first non-empty value among dotted paths: the document gained and moved fields over time."""
    for path in paths:
        node: Any = document
        for part in path.split("."):
            node = node.get(part) if isinstance(node, (dict, Mapping)) else None
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
        return self.data.get("id")

    @property
    def area(self) -> str | None:
        return self.data.get("area")

    @property
    def severity(self) -> str | None:
        return self.data.get("severity")

    @property
    def title(self) -> str | None:
        return self.data.get("title")

    @property
    def detail(self) -> str | None:
        return self.data.get("detail")

    @property
    def remediation(self) -> str | None:
        return self.data.get("remediation")

    @property
    def cap(self) -> str | None:
        return self.data.get("cap")

    @property
    def warning(self) -> bool:
        return bool(self.data.get("warning"))

    @property
    def remediation_by_server(self) -> Mapping[str, str]:
        """Empty for findings without per-server fixes and for reports stored before they existed."""
        return mapping(self.data.get("remediation_by_server"))


@dataclass(frozen=True)
class GradeView(_Section):
    @property
    def security(self) -> str | None:
        return self.data.get("security")

    @property
    def security_ignoring_trust(self) -> str | None:
        return self.data.get("security_ignoring_trust")

    @property
    def score(self) -> int | None:
        return self.data.get("score")

    @property
    def seo_score(self) -> int | None:
        return self.data.get("seo_score")

    @property
    def seo_grade(self) -> str | None:
        return self.data.get("seo_grade")

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
        return self.data.get("subject")

    @property
    def issuer(self) -> str | None:
        return self.data.get("issuer")

    @property
    def sha256_fingerprint(self) -> str | None:
        return self.data.get("sha256_fingerprint")

    @property
    def not_before(self) -> str | None:
        return self.data.get("not_before")

    @property
    def not_after(self) -> str | None:
        return self.data.get("not_after")

    @property
    def days_to_expiry(self) -> int | None:
        return self.data.get("days_to_expiry")

    @property
    def san_dns_names(self) -> tuple[str, ...]:
        return items_of(self.data.get("san_dns_names"))

    @property
    def key_type(self) -> str | None:
        return self.data.get("key_type")

    @property
    def key_bits(self) -> int | None:
        return self.data.get("key_bits")

    @property
    def signature_algorithm(self) -> str | None:
        return self.data.get("signature_algorithm")

    @property
    def trusted(self) -> bool | None:
        return self.data.get("trusted")

    @property
    def chain_trusted(self) -> bool | None:
        """The path alone (None in reports stored before it existed: read `trusted` then)."""
        return self.data.get("chain_trusted")

    @property
    def hostname_match(self) -> bool | None:
        return self.data.get("hostname_match")

    @property
    def name_mismatch(self) -> bool:
        """Whether the name was checked and did not match (reports stored before the check say nothing)."""
        return "hostname_match" in self.data and not self.data["hostname_match"]

    @property
    def self_signed(self) -> bool:
        return bool(self.data.get("self_signed"))

    @property
    def expired(self) -> bool:
        return bool(self.data.get("expired"))

    @property
    def not_yet_valid(self) -> bool:
        return bool(self.data.get("not_yet_valid"))

    @property
    def validation_error(self) -> str | None:
        return self.data.get("validation_error")

    @property
    def ocsp_stapled(self) -> bool:
        return bool(self.data.get("ocsp_stapled"))

    @property
    def chain(self) -> tuple[Mapping[str, Any], ...]:
        return items_of(self.data.get("chain"))

    @property
    def chain_order_wrong(self) -> bool:
        return bool(self.data.get("chain_order_wrong"))

    @property
    def chain_completed_via_aia(self) -> bool:
        return bool(self.data.get("chain_completed_via_aia"))

    @property
    def revocation(self) -> Mapping[str, Any] | None:
        """None when not checked (no issuer to ask, or a report stored before revocation was checked)."""
        return optional_mapping(self.data.get("revocation"))

    @property
    def revocation_status(self) -> str | None:
        return (self.revocation or EMPTY).get("status")

    @property
    def intermediate_revocations(self) -> tuple[Mapping[str, Any], ...]:
        return items_of(self.data.get("intermediate_revocations"))


@dataclass(frozen=True)
class EndpointView(_Section):
    """One address behind the name, graded on its own."""

    @property
    def ip(self) -> str | None:
        return self.data.get("ip")

    @property
    def status(self) -> str | None:
        return self.data.get("status")

    @property
    def error(self) -> str | None:
        return self.data.get("error")

    @property
    def grade(self) -> GradeView:
        grade = self.data.get("grade")
        # Very early multi-address reports stored the letter alone.
        return GradeView({"security": grade} if isinstance(grade, str) else mapping(grade))

    @property
    def protocols(self) -> Mapping[str, bool] | None:
        return optional_mapping(first_of(self.data, "protocols", "tls.protocols"))

    @property
    def certificate_fingerprint(self) -> str | None:
        return self.data.get("certificate_fingerprint")


@dataclass(frozen=True)
class HstsView(_Section):
    @property
    def present(self) -> bool:
        return bool(self.data.get("present"))

    @property
    def max_age(self) -> int | None:
        return self.data.get("max_age")

    @property
    def include_subdomains(self) -> bool:
        return bool(self.data.get("include_subdomains"))

    @property
    def preload(self) -> bool:
        return bool(self.data.get("preload"))

    @property
    def error(self) -> str | None:
        return self.data.get("error")


@dataclass(frozen=True)
class RedirectsView(_Section):
    """The walk from http://host/ and, where measured, the one from https://host/."""

    @property
    def http_listener(self) -> bool | None:
        return self.data.get("http_listener")

    @property
    def chain(self) -> tuple[Mapping[str, Any], ...]:
        return items_of(self.data.get("chain"))

    @property
    def final_url(self) -> str | None:
        return self.data.get("final_url")

    @property
    def loop(self) -> bool:
        return bool(self.data.get("loop"))

    @property
    def too_many(self) -> bool:
        return bool(self.data.get("too_many"))

    @property
    def error(self) -> str | None:
        return self.data.get("error")
