"""Is the leaf revoked? Read the stapled OCSP response; without a usable one ask the OCSP responder named in the
leaf's AIA (RFC 6960), else the CRL at its CRL distribution point (RFC 5280 §4.2.1.13, §5).

No sockets here: the caller passes `fetch_ocsp(url, request_der) -> response_der` and `fetch_crl(url) -> CRL`,
which go through scanner.outbound with the scan's network policy (see revocation_fetch.py), and raise
RevocationFetchError with a reason in words. A responder that cannot be reached makes the status `unknown`,
never an error: browsers soft-fail too, so it must never change a grade or fail a scan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, ExtensionOID

from scanner.engine.results import REVOCATION_GOOD, REVOCATION_REVOKED, REVOCATION_UNKNOWN, RevocationCheck

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

# Clocks differ; responders backdate thisUpdate a little for the same reason (RFC 6960 §4.2.2.1 leaves it open).
CLOCK_SKEW = timedelta(minutes=5)
# The TLS feature "status_request" (RFC 7633 §4.2, RFC 6066 §8): the OCSP must-staple marker.
STATUS_REQUEST_FEATURE = 5


class RevocationFetchError(Exception):
    """The responder or CRL could not be fetched; the message says why, for people."""


FetchOcsp = Callable[[str, bytes], bytes]
FetchCrl = Callable[[str], x509.CertificateRevocationList]


@dataclass(frozen=True)
class OcspAnswer:
    """One OCSP response, checked against the leaf and its issuer."""

    status: str  # good | revoked | unknown
    problem: str | None  # None: usable; "expired" | "untrusted" | "invalid"
    detail: str
    revoked_at: datetime | None = None
    next_update: datetime | None = None


# --- facts the certificate states -------------------------------------------------------------------------


def ocsp_urls(cert: x509.Certificate) -> list[str]:
    try:
        aia = cert.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    return [
        item.access_location.value
        for item in aia
        if item.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(item.access_location, x509.UniformResourceIdentifier)
    ]


def crl_urls(cert: x509.Certificate) -> list[str]:
    try:
        points = cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    return [
        name.value
        for point in points
        for name in point.full_name or ()
        if isinstance(name, x509.UniformResourceIdentifier)
    ]


def must_staple(cert: x509.Certificate) -> bool:
    try:
        features = cert.extensions.get_extension_for_oid(ExtensionOID.TLS_FEATURE).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    return any(int(feature.value) == STATUS_REQUEST_FEATURE for feature in features)


def ocsp_request(leaf: x509.Certificate, issuer: x509.Certificate) -> bytes:
    # SHA-1 CertIDs are what every responder answers (RFC 6960 §4.1.1; RFC 5019 §2.1.1 requires SHA-1).
    builder = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA1())
    return builder.build().public_bytes(serialization.Encoding.DER)


# --- checking answers -------------------------------------------------------------------------------------


def _signed_by(
    key: CertificatePublicKeyTypes, signature: bytes, data: bytes, digest: hashes.HashAlgorithm | None
) -> bool:
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(digest))
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def _delegated_signer(candidate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """A responder certificate the issuer itself made for signing OCSP answers (RFC 6960 §4.2.2.2)."""
    try:
        candidate.verify_directly_issued_by(issuer)
        usages = candidate.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE).value
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError, x509.ExtensionNotFound):
        return False
    return ExtendedKeyUsageOID.OCSP_SIGNING in usages


def _trusted_signature(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> bool:
    data, signature = response.tbs_response_bytes, response.signature
    digest = response.signature_hash_algorithm
    if _signed_by(issuer.public_key(), signature, data, digest):
        return True
    return any(
        _delegated_signer(cert, issuer) and _signed_by(cert.public_key(), signature, data, digest)
        for cert in response.certificates
    )


def _matching_single(
    response: ocsp.OCSPResponse, leaf: x509.Certificate, issuer: x509.Certificate
) -> ocsp.OCSPSingleResponse | None:
    for single in response.responses:
        if single.serial_number != leaf.serial_number:
            continue
        expected = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, single.hash_algorithm).build()
        if single.issuer_key_hash == expected.issuer_key_hash and single.issuer_name_hash == expected.issuer_name_hash:
            return single
    return None


def check_ocsp_response(
    der_or_response: bytes | ocsp.OCSPResponse, leaf: x509.Certificate, issuer: x509.Certificate, now: datetime
) -> OcspAnswer:
    """What an OCSP response says about `leaf`, and whether a client could rely on it."""
    try:
        response = (
            der_or_response
            if isinstance(der_or_response, ocsp.OCSPResponse)
            else ocsp.load_der_ocsp_response(der_or_response)
        )
    except ValueError:
        return OcspAnswer(REVOCATION_UNKNOWN, "invalid", "the OCSP response cannot be parsed")
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return OcspAnswer(
            REVOCATION_UNKNOWN,
            "invalid",
            f"the responder answered {response.response_status.name.lower()} instead of a status",
        )
    single = _matching_single(response, leaf, issuer)
    if single is None:
        return OcspAnswer(REVOCATION_UNKNOWN, "invalid", "the OCSP response is about another certificate")
    if not _trusted_signature(response, issuer):
        return OcspAnswer(
            REVOCATION_UNKNOWN,
            "untrusted",
            "the OCSP response is not signed by the certificate's issuer nor by a responder it authorised",
        )
    this_update, next_update = single.this_update_utc, single.next_update_utc
    if this_update > now + CLOCK_SKEW:
        return OcspAnswer(
            REVOCATION_UNKNOWN,
            "invalid",
            f"the OCSP response is dated in the future ({this_update:%Y-%m-%d %H:%M} UTC)",
        )
    if next_update is not None and next_update < now - CLOCK_SKEW:
        return OcspAnswer(
            REVOCATION_UNKNOWN,
            "expired",
            f"the OCSP response expired on {next_update:%Y-%m-%d %H:%M} UTC (nextUpdate)",
            next_update=next_update,
        )
    status = single.certificate_status
    if status == ocsp.OCSPCertStatus.REVOKED:
        revoked_at = single.revocation_time_utc
        reason = single.revocation_reason.name if single.revocation_reason else None
        return OcspAnswer(
            REVOCATION_REVOKED,
            None,
            f"revoked on {revoked_at:%Y-%m-%d %H:%M} UTC" + (f" (reason: {reason})" if reason else ""),
            revoked_at=revoked_at,
            next_update=next_update,
        )
    if status == ocsp.OCSPCertStatus.GOOD:
        return OcspAnswer(REVOCATION_GOOD, None, "not revoked", next_update=next_update)
    return OcspAnswer(REVOCATION_UNKNOWN, None, "the responder does not know this certificate", next_update=next_update)


def check_crl(
    crl: x509.CertificateRevocationList, leaf: x509.Certificate, issuer: x509.Certificate, now: datetime
) -> OcspAnswer:
    """What a CRL says about `leaf` (same shape as an OCSP answer)."""
    if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):
        return OcspAnswer(REVOCATION_UNKNOWN, "untrusted", "the CRL is not signed by the certificate's issuer")
    next_update = crl.next_update_utc
    if next_update is not None and next_update < now - CLOCK_SKEW:
        return OcspAnswer(REVOCATION_UNKNOWN, "expired", f"the CRL expired on {next_update:%Y-%m-%d %H:%M} UTC")
    entry = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
    if entry is not None:
        revoked_at = entry.revocation_date_utc
        return OcspAnswer(
            REVOCATION_REVOKED,
            None,
            f"listed on the CRL as revoked on {revoked_at:%Y-%m-%d %H:%M} UTC",
            revoked_at=revoked_at,
            next_update=next_update,
        )
    return OcspAnswer(REVOCATION_GOOD, None, "not on the CRL", next_update=next_update)


# --- the decision -----------------------------------------------------------------------------------------


def assess(
    leaf: x509.Certificate,
    issuer: x509.Certificate,
    staple: ocsp.OCSPResponse | bytes | None,
    *,
    fetch_ocsp: FetchOcsp | None,
    fetch_crl: FetchCrl | None,
    now: datetime,
) -> RevocationCheck:
    """The staple first (it arrived in the handshake), then the responder, then the CRL: the first usable answer."""
    staple_problem = staple_detail = None
    if staple is not None:
        answer = check_ocsp_response(staple, leaf, issuer, now)
        if answer.problem is None:
            return RevocationCheck(
                answer.status,
                "ocsp-staple",
                now,
                f"stapled OCSP response: {answer.detail}",
                revoked_at=answer.revoked_at,
            )
        staple_problem, staple_detail = answer.problem, answer.detail

    tried: list[str] = []
    if fetch_ocsp is not None:
        for url in ocsp_urls(leaf):
            try:
                answer = check_ocsp_response(fetch_ocsp(url, ocsp_request(leaf, issuer)), leaf, issuer, now)
            except RevocationFetchError as exc:
                tried.append(f"OCSP responder {url}: {exc}")
                continue
            if answer.problem is None and answer.status != REVOCATION_UNKNOWN:
                return RevocationCheck(
                    answer.status,
                    "ocsp",
                    now,
                    f"OCSP responder {url}: {answer.detail}",
                    revoked_at=answer.revoked_at,
                    staple_problem=staple_problem,
                    staple_problem_detail=staple_detail,
                )
            tried.append(f"OCSP responder {url}: {answer.detail}")
    if fetch_crl is not None:
        for url in crl_urls(leaf):
            try:
                answer = check_crl(fetch_crl(url), leaf, issuer, now)
            except RevocationFetchError as exc:
                tried.append(f"CRL {url}: {exc}")
                continue
            if answer.problem is None:
                return RevocationCheck(
                    answer.status,
                    "crl",
                    now,
                    f"CRL {url}: {answer.detail}",
                    revoked_at=answer.revoked_at,
                    staple_problem=staple_problem,
                    staple_problem_detail=staple_detail,
                )
            tried.append(f"CRL {url}: {answer.detail}")
    if not tried:
        detail = "the certificate names no OCSP responder and no CRL"
        return RevocationCheck(
            REVOCATION_UNKNOWN, "none", None, detail, staple_problem=staple_problem, staple_problem_detail=staple_detail
        )
    return RevocationCheck(
        REVOCATION_UNKNOWN,
        "none",
        now,
        "; ".join(tried),
        staple_problem=staple_problem,
        staple_problem_detail=staple_detail,
    )
