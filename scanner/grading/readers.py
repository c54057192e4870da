"""Small readers shared by the rules, and the thresholds they use."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from scanner.engine.results import CertificateInfo, CipherSuite, ScanResult, TlsResult

EXPIRY_WARNING_DAYS = 30
EXPIRY_URGENT_DAYS = 14
MODERN_PROTOCOLS = ("TLSv1.2", "TLSv1.3")  # the server's own choice for these is what modern clients get
SWEET32_PROTOCOLS = ("TLSv1.1", "TLSv1.2")
RC4_CAP_C_PROTOCOLS = ("TLSv1.1", "TLSv1.2", "TLSv1.3")
BLOCK_64_BIT_MARKERS = ("_DES_", "_DES40_", "3DES", "DES_EDE", "_IDEA_", "_RC2_")
MIN_CIPHER_BITS = 112
FORGEABLE_HASHES = ("md5", "md2")


def _complete_tls(scan: ScanResult) -> TlsResult | None:
    """TLS data we may draw "not supported" conclusions from: a timed-out probe reads as "not offered"."""
    if scan.tls is None or scan.tls.incomplete_reason:
        return None
    return scan.tls


def _suites(scan: ScanResult, predicate: Callable[[CipherSuite], bool]) -> list[CipherSuite]:
    return [suite for suite in scan.tls.cipher_suites if predicate(suite)] if scan.tls else []


def suite_names(suites: Iterable[CipherSuite]) -> str:
    names = sorted({suite.name for suite in suites})
    shown = ", ".join(names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def chain_trusted(cert: CertificateInfo) -> bool:
    """The chain-only trust fact when the engine gives it; `trusted` otherwise (older producers)."""
    return cert.chain_trusted if cert.chain_trusted is not None else cert.trusted


def rejected_by_browsers(cert: CertificateInfo) -> bool:
    return cert.expired or cert.not_yet_valid or cert.self_signed or not cert.trusted or not cert.hostname_match


def _signatures(cert: CertificateInfo) -> Iterator[tuple[str, str]]:
    """(whose, hash) for the leaf and every certificate the server sent or the path needs, except roots."""
    yield "the leaf certificate", (cert.signature_hash or "").lower()
    for issuer in cert.chain[1:]:
        # A root's self-signature is never checked by clients, so its hash does not matter.
        if issuer.source != "trust_store" and not issuer.self_signed:
            yield f"intermediate {issuer.subject}", (issuer.signature_hash or "").lower()
