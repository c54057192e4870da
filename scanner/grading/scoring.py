"""SSL Labs-style numeric score (SSL Server Rating Guide 2009e, see /work/shared/GRADING-NOTES.md §1).

total = 0.3 * protocol + 0.3 * key exchange + 0.4 * cipher strength, then a letter.
Caps, warnings, A+/A-, T and M are applied on top of this letter in scanner.grading.grade().
"""

from __future__ import annotations

from scanner.engine.results import TlsResult

# Best to worst. T (untrusted) and M (name mismatch) are not on this scale: they replace the letter.
GRADE_ORDER = ("A+", "A", "A-", "B", "C", "D", "E", "F")

PROTOCOL_SCORES = {"SSLv2": 0, "SSLv3": 80, "TLSv1.0": 90, "TLSv1.1": 95, "TLSv1.2": 100, "TLSv1.3": 100}

WEIGHT_PROTOCOL = 0.3
WEIGHT_KEY_EXCHANGE = 0.3
WEIGHT_CIPHER = 0.4

# Key types whose size is measured on the elliptic-curve scale rather than the RSA/DH one.
ELLIPTIC_KEY_TYPES = {"EC", "ECDSA", "Ed25519", "Ed448"}
FINITE_FIELD_DH_TYPES = {"DH", "DHE", "FFDHE"}


def worse_grade(a: str, b: str) -> str:
    """The lower of two letters on GRADE_ORDER."""
    return a if GRADE_ORDER.index(a) >= GRADE_ORDER.index(b) else b


def letter_for_score(score: int) -> str:
    for threshold, letter in ((80, "A"), (65, "B"), (50, "C"), (35, "D"), (20, "E")):
        if score >= threshold:
            return letter
    return "F"


def rsa_equivalent_bits(key_type: str, bits: int) -> int:
    """Map an elliptic-curve key size onto the RSA size of similar strength (NIST SP 800-57 part 1, table 2).

    The rating guide's key table is written for RSA/DH bits; without this an EC P-256 key would score 20.
    """
    if key_type not in ELLIPTIC_KEY_TYPES:
        return bits
    for ec_bits, rsa_bits in ((384, 7680), (256, 3072), (224, 2048), (160, 1024)):
        if bits >= ec_bits:
            return rsa_bits
    return 512


def key_strength_score(rsa_bits: int) -> int:
    for limit, score in ((512, 20), (1024, 40), (2048, 80), (4096, 90)):
        if rsa_bits < limit:
            return score
    return 100


def cipher_strength_score(key_bits: int) -> int:
    if key_bits <= 0:
        return 0
    if key_bits < 128:
        return 20
    if key_bits < 256:
        return 80
    return 100


def protocol_score(tls: TlsResult) -> int | None:
    scores = [PROTOCOL_SCORES[name] for name, accepted in tls.protocols.items() if accepted and name in PROTOCOL_SCORES]
    if not scores:
        return None
    return (max(scores) + min(scores)) / 2


def weakest_dh_bits(tls: TlsResult) -> int | None:
    """Smallest finite-field DH group among accepted suites; ECDH sizes are judged through the certificate instead."""
    sizes = [
        suite.kex_bits
        for suite in tls.cipher_suites
        if suite.kex_bits and (suite.kex_type or "").upper() in FINITE_FIELD_DH_TYPES
    ]
    return min(sizes) if sizes else None


def key_exchange_score(tls: TlsResult) -> int | None:
    """The weakest of the certificate key and the DH parameters decides (guide: "weakest of the key and DH")."""
    cert = tls.certificate
    if cert is None:
        return None
    candidates = [rsa_equivalent_bits(cert.key_type, cert.key_bits)]
    dh_bits = weakest_dh_bits(tls)
    if dh_bits is not None:
        candidates.append(dh_bits)
    return key_strength_score(min(candidates))


def cipher_score(tls: TlsResult) -> int | None:
    if not tls.cipher_suites:
        return None
    scores = [cipher_strength_score(suite.key_bits) for suite in tls.cipher_suites]
    return (max(scores) + min(scores)) / 2


def ssl_labs_score(tls: TlsResult) -> int | None:
    """0-100, or None when a category cannot be measured (no protocol, no suite or no certificate seen)."""
    categories = (
        (protocol_score(tls), WEIGHT_PROTOCOL),
        (key_exchange_score(tls), WEIGHT_KEY_EXCHANGE),
        (cipher_score(tls), WEIGHT_CIPHER),
    )
    if any(score is None for score, _ in categories):
        return None
    # The guide: "a zero in any category forces the total to zero".
    if any(score == 0 for score, _ in categories):
        return 0
    return round(sum(score * weight for score, weight in categories))
