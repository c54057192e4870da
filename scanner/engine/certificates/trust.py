"""Trust facts beyond the handshake for one certificate deployment: revocation, must-staple, the RSA
public exponent, and the root the path ends at. Facts only; grading decides what they cost."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from scanner.engine.certificates.certificate import describe_name, is_self_signed
from scanner.engine.certificates.chain import PathOutcome, issued
from scanner.engine.certificates.revocation import must_staple
from scanner.engine.results import REVOCATION_UNKNOWN, IntermediateRevocation, RevocationCheck, SctCounts

if TYPE_CHECKING:
    from cryptography.x509 import ocsp

logger = logging.getLogger(__name__)


def _never_raising(check_revocation: Callable) -> Callable:
    """A revocation check must never fail a scan: anything unexpected (a CA's malformed CRL or response that
    the parser rejects in a way not foreseen) is `unknown`, with the reason, and logged for us."""

    def check(cert: x509.Certificate, issuer: x509.Certificate, staple: ocsp.OCSPResponse | None) -> RevocationCheck:
        try:
            return check_revocation(cert, issuer, staple)
        except Exception as exc:  # the scan goes on; the reason is kept and logged
            logger.warning("revocation check of %s failed", cert.subject.rfc4514_string(), exc_info=True)
            return RevocationCheck(REVOCATION_UNKNOWN, "none", None, f"the revocation check failed ({exc})")

    return check


def issuer_of(outcome: PathOutcome) -> x509.Certificate | None:
    """The certificate that signed the leaf, when the path found it (not for a self-signed leaf)."""
    certs = outcome.path_certificates
    if len(certs) >= 2 and issued(certs[1], outcome.leaf):
        return certs[1]
    return None


def root_subject(outcome: PathOutcome) -> str | None:
    top = outcome.path_certificates[-1] if outcome.path_certificates else None
    if top is None or len(outcome.path_certificates) < 2:
        return None
    return top.subject.rfc4514_string()


def intermediate_revocations(outcome: PathOutcome, check_revocation: Callable) -> tuple[IntermediateRevocation, ...]:
    """Each intermediate of the path, asked about with its own issuer (as SSL Labs does); the trust anchor is not."""
    certs = outcome.path_certificates
    checks = []
    for index in range(1, len(certs) - 1):
        intermediate, issuer = certs[index], certs[index + 1]
        if is_self_signed(intermediate) or not issued(issuer, intermediate):
            continue
        checks.append(
            IntermediateRevocation(describe_name(intermediate.subject), check_revocation(intermediate, issuer, None))
        )
    return tuple(checks)


def sct_counts(leaf: x509.Certificate, staple: ocsp.OCSPResponse | None) -> SctCounts:
    try:
        embedded = len(leaf.extensions.get_extension_for_oid(ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS).value)
    except (x509.ExtensionNotFound, ValueError):
        embedded = 0
    stapled = None
    if staple is not None:
        try:
            scts = staple.single_extensions.get_extension_for_oid(ExtensionOID.SIGNED_CERTIFICATE_TIMESTAMPS).value
            stapled = len(scts)
        except (x509.ExtensionNotFound, ValueError):
            stapled = 0
    return SctCounts(embedded=embedded, ocsp=stapled)


def facts(
    outcome: PathOutcome,
    staple: ocsp.OCSPResponse | None,
    check_revocation: Callable | None,
    *,
    public_root: bool | None = None,
) -> dict[str, Any]:
    """Fields for CertificateInfo (keyword arguments of dataclasses.replace)."""
    leaf = outcome.leaf
    key = leaf.public_key()
    revocation = None
    issuer = issuer_of(outcome)
    intermediates: tuple[IntermediateRevocation, ...] = ()
    if issuer is not None and check_revocation is not None:
        guarded = _never_raising(check_revocation)
        revocation = guarded(leaf, issuer, staple)
        intermediates = intermediate_revocations(outcome, guarded)
    return {
        "revocation": revocation,
        "must_staple": must_staple(leaf),
        "rsa_public_exponent": key.public_numbers().e if isinstance(key, rsa.RSAPublicKey) else None,
        "root_subject": root_subject(outcome),
        "scts": sct_counts(leaf, staple),
        "public_root": public_root,
        "intermediate_revocations": intermediates,
        "issuer_organization": _organization(leaf.issuer),
    }


def _organization(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(values[0].value) if values else None
