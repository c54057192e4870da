"""Trust facts beyond the handshake for one certificate deployment (issue 21): revocation, must-staple, the RSA
public exponent, and the root the path ends at. Facts only; grading decides what they cost."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from .chain import PathOutcome, issued
from .revocation import must_staple

logger = logging.getLogger(__name__)


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


def facts(outcome: PathOutcome, staple, check_revocation: Callable | None) -> dict[str, Any]:
    """Fields for CertificateInfo (keyword arguments of dataclasses.replace)."""
    leaf = outcome.leaf
    key = leaf.public_key()
    revocation = None
    issuer = issuer_of(outcome)
    if issuer is not None and check_revocation is not None:
        revocation = check_revocation(leaf, issuer, staple)
    return {
        "revocation": revocation,
        "must_staple": must_staple(leaf),
        "rsa_public_exponent": key.public_numbers().e if isinstance(key, rsa.RSAPublicKey) else None,
        "root_subject": root_subject(outcome),
    }
