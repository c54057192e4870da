"""Certificate path analysis as a browser does it: find the leaf, build the path from the certificates themselves
(not from their order on the wire), complete a missing intermediate from the leaf's AIA caIssuers URL, and
describe every certificate of the path (signature hash, key size, where it came from).

Validation itself is cryptography's strict web-PKI verifier, through sslyze's trust stores (the bundled
browser stores plus the operator's CA file). No Django, no sockets: AIA downloads are done by a callable the
caller passes in, so the network policy and its limits stay in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID

from scanner.engine.certificates.certificate import (
    describe_name,
    dns_subject_for_revalidation,
    is_self_signed,
    public_key_facts,
)
from scanner.engine.results import ChainCertificate

logger = logging.getLogger(__name__)

# A fetcher returns the certificates found at an AIA URL, or raises AiaError with a reason in words.
AiaFetcher = Callable[[str], list[x509.Certificate]]
MAX_AIA_HOPS = 3  # leaf -> intermediate -> cross-signed intermediate -> ...: real chains need at most two


class AiaError(Exception):
    """The AIA download failed; the message says why, for people."""


class AiaBudgetSpent(AiaError):
    """The scan's outbound budget (engine.outbound_budget) is spent: no further AIA URL is tried."""


@dataclass(frozen=True)
class PathOutcome:
    """What path building and validation found for one certificate deployment."""

    leaf: x509.Certificate
    chain_trusted: bool  # reaches a trusted root, ignoring the scanned name and the dates
    path: tuple[ChainCertificate, ...]  # leaf first
    path_certificates: tuple[x509.Certificate, ...]
    order_wrong: bool
    completed_via_aia: bool
    missing_intermediate: bool  # the server does not send an intermediate the path needs
    aia_error: str | None  # why chain completion did not work, when it was tried
    raw_errors: tuple[str, ...]  # the verifier's own text per trust store, for detail_raw


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def issued(issuer: x509.Certificate, subject: x509.Certificate) -> bool:
    """Did `issuer` sign `subject`? Names first (cheap), then the signature itself."""
    if subject.issuer != issuer.subject:
        return False
    try:
        subject.verify_directly_issued_by(issuer)
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):  # MD5 and such: the named issuer
        return _same_key_id(issuer, subject)
    return True


def _same_key_id(issuer: x509.Certificate, subject: x509.Certificate) -> bool:
    try:
        aki = subject.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_KEY_IDENTIFIER).value.key_identifier
        ski = issuer.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER).value.digest
    except (x509.ExtensionNotFound, ValueError):
        return True  # no identifiers to tell them apart: trust the names
    return aki is None or aki == ski


def find_leaf(received: Sequence[x509.Certificate]) -> int:
    """Index of the server's own certificate: the first one that is no CA and issued none of the others.

    Servers normally send it first; a server that sends its chain in another order must not make an
    intermediate read as the site's certificate.
    """
    if not received or not is_ca(received[0]):
        return 0
    for index, cert in enumerate(received):
        if is_ca(cert):
            continue
        if not any(other is not cert and issued(cert, other) for other in received):
            return index
    return 0


def order_is_wrong(received: Sequence[x509.Certificate], leaf_index: int) -> bool:
    """Each certificate on the wire must be followed by its issuer, starting with the leaf (RFC 8446 4.4.2)."""
    if leaf_index != 0:
        return True
    return any(received[i].subject != received[i - 1].issuer for i in range(1, len(received)))


def aia_ca_issuer_urls(cert: x509.Certificate) -> list[str]:
    try:
        aia = cert.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    return [
        description.access_location.value
        for description in aia
        if description.access_method == AuthorityInformationAccessOID.CA_ISSUERS
        and isinstance(description.access_location, x509.UniformResourceIdentifier)
    ]


def parse_aia_body(body: bytes) -> list[x509.Certificate]:
    """caIssuers answers are a DER certificate (RFC 5280 4.2.2.1), a PKCS#7 bundle, or in practice sometimes PEM."""
    from cryptography.hazmat.primitives.serialization import pkcs7

    for loader in (
        lambda data: [x509.load_der_x509_certificate(data)],
        lambda data: x509.load_pem_x509_certificates(data),
        pkcs7.load_der_pkcs7_certificates,
        pkcs7.load_pem_pkcs7_certificates,
    ):
        try:
            certs = loader(body)
        except ValueError:  # not this format; try the next one
            logger.debug("AIA body is not in this format", exc_info=True)
            continue
        if certs:
            return list(certs)
    raise AiaError("the answer is not a certificate (neither DER, PEM nor PKCS#7)")


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _validation_moment(leaf: x509.Certificate) -> datetime:
    # Mid-life of the leaf: "would this chain be trusted at all?", whatever today's date is. Dates get
    # their own findings (expired, not yet valid), so they must not hide a trust problem or fake one.
    start, end = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    return start + (end - start) / 2


def _verify(
    trust_stores: Iterable, leaf: x509.Certificate, others: Sequence[x509.Certificate]
) -> tuple[list[x509.Certificate] | None, tuple[str, ...]]:
    """(verified chain or None, raw errors) against every store, ignoring the scanned name and the dates."""
    subject = dns_subject_for_revalidation(leaf)
    if subject is None:
        return None, ("the leaf certificate names no DNS name or IP address",)
    pems = [_pem(leaf), *(_pem(cert) for cert in others)]
    moment = _validation_moment(leaf)
    errors: list[str] = []
    for store in trust_stores:
        try:
            result = store.verify_certificate_chain(pems, subject, moment)
        except ValueError as exc:  # an unparsable chain is simply untrusted
            errors.append(f"{store.name}: {exc}")
            continue
        if result.was_validation_successful:
            return list(result.verified_certificate_chain), ()
        errors.append(f"{store.name}: {result.validation_error}")
    return None, tuple(errors)


def _walk_by_issuer(leaf: x509.Certificate, pool: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """The path from the leaf as far as the available certificates go (for an untrusted chain's description)."""
    path = [leaf]
    while len(path) < 10 and not is_self_signed(path[-1]):
        parent = next((c for c in pool if c not in path and issued(c, path[-1])), None)
        if parent is None:
            break
        path.append(parent)
    return path


def _describe(cert: x509.Certificate, source: str) -> ChainCertificate:
    key_type, key_bits = public_key_facts(cert)
    try:
        digest = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:  # an algorithm cryptography does not know
        digest = None
    oid = cert.signature_algorithm_oid
    return ChainCertificate(
        subject=describe_name(cert.subject),
        issuer=describe_name(cert.issuer),
        sha256_fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
        key_type=key_type,
        key_bits=key_bits,
        signature_algorithm=getattr(oid, "_name", oid.dotted_string),
        signature_hash=digest.name if digest else None,
        is_ca=is_ca(cert),
        self_signed=is_self_signed(cert),
        source=source,
    )


def analyse(
    received: Sequence[x509.Certificate],
    trust_stores: Sequence,
    fetch_aia: AiaFetcher | None,
    *,
    sslyze_verified: Sequence[x509.Certificate] | None = None,
) -> PathOutcome:
    """Build and validate the path of one deployment, completing it via AIA when the sent chain falls short."""
    leaf_index = find_leaf(received)
    leaf = received[leaf_index]
    others = [cert for i, cert in enumerate(received) if i != leaf_index]
    fetched: list[x509.Certificate] = []
    aia_error = None

    verified, raw_errors = (list(sslyze_verified), ()) if sslyze_verified and leaf_index == 0 else (None, ())
    if verified is None:
        verified, raw_errors = _verify(trust_stores, leaf, others)
    if verified is None and not is_self_signed(leaf) and fetch_aia is not None:
        fetched, aia_error = _complete_via_aia(leaf, others, fetch_aia)
        if fetched:
            verified, retry_errors = _verify(trust_stores, leaf, others + fetched)
            if verified is None:
                raw_errors = retry_errors
                aia_error = aia_error or "the downloaded certificates did not lead to a trusted root either"

    if verified is not None:
        path_certs = verified
    else:
        path_certs = _walk_by_issuer(leaf, others + fetched)
    path = tuple(
        _describe(cert, "sent" if cert in received else "aia" if cert in fetched else "trust_store")
        for cert in path_certs
    )
    needed = [cert for cert in path_certs[1:] if not is_self_signed(cert)]
    # Incomplete: the path uses an intermediate the server did not send or, untrusted, nothing issued the leaf.
    missing = any(cert not in received for cert in needed) or (
        verified is None and len(path_certs) == 1 and not is_self_signed(leaf)
    )
    completed = verified is not None and any(cert in fetched for cert in verified)
    return PathOutcome(
        leaf=leaf,
        chain_trusted=verified is not None,
        path=path,
        path_certificates=tuple(path_certs),
        order_wrong=order_is_wrong(received, leaf_index),
        completed_via_aia=completed,
        missing_intermediate=missing,
        aia_error=None if completed else aia_error,
        raw_errors=raw_errors,
    )


def _complete_via_aia(
    leaf: x509.Certificate, sent: Sequence[x509.Certificate], fetch_aia: AiaFetcher
) -> tuple[list[x509.Certificate], str | None]:
    """Follow caIssuers from the top of what we have, as browsers do, a few hops at most."""
    fetched: list[x509.Certificate] = []
    current = _walk_by_issuer(leaf, sent)[-1]
    error = None
    budget_spent = False
    for _hop in range(MAX_AIA_HOPS):
        if is_self_signed(current):
            break
        urls = aia_ca_issuer_urls(current)
        if not urls:
            error = error or f"the certificate of {describe_name(current.subject)} names no issuer download URL (AIA)"
            break
        parent = None
        for url in urls:
            try:
                found = fetch_aia(url)
            except AiaBudgetSpent as exc:  # no request is sent; the budget counts every URL it skipped
                if not budget_spent:
                    error, budget_spent = f"{url} and the issuer URLs after it were skipped: {exc}", True
                continue
            except AiaError as exc:
                error = f"downloading the issuer certificate from {url} failed: {exc}"
                continue
            for cert in found:
                if cert not in fetched and cert not in sent:
                    fetched.append(cert)
            parent = next((cert for cert in found if issued(cert, current)), None)
            if parent is not None:
                break
            error = f"{url} did not serve the issuer of {describe_name(current.subject)}"
        if parent is None:
            break
        current = parent
    return fetched, error
