"""SSL Labs-style numeric score (SSL Server Rating Guide 2009e,
https://github.com/ssllabs/research/wiki/SSL-Server-Rating-Guide, "Methodology Overview" and the three tables).

total = 0.3 * protocol + 0.3 * key exchange + 0.4 * cipher strength, then a letter (scale.letter_for_score).
Caps, warnings, A+/A-, T and M are applied on top of this letter in scanner.grading.grade().
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.engine.results import CertificateInfo, KeyExchangeGroup, TlsResult

# Policy data, one score per name of the engine's protocol table (results.PROTOCOLS; tests/test_protocol_table.py).
PROTOCOL_SCORES = {"SSLv2": 0, "SSLv3": 80, "TLSv1.0": 90, "TLSv1.1": 95, "TLSv1.2": 100, "TLSv1.3": 100}

WEIGHT_PROTOCOL = 0.3
WEIGHT_KEY_EXCHANGE = 0.3
WEIGHT_CIPHER = 0.4

# Key exchange scores, (size limit, score) pairs: below the limit, that score; at or above the last, 100.
# RSA, DSA and finite-field DH: rating guide 2009e. Elliptic curves (certificate keys and ECDHE groups):
# testssl.sh's run_rating (https://github.com/testssl/testssl.sh), as the guide has no EC table.
FINITE_FIELD_SCORES = ((512, 20), (1024, 40), (2048, 80), (4096, 90))
ELLIPTIC_SCORES = ((110, 20), (123, 40), (163, 80), (225, 90))
# testssl turns the key exchange score into caps: <= 40 is insecure (F), <= 80 weak (B).
INSECURE_KEX_SCORE = 40
WEAK_KEX_SCORE = 80

ELLIPTIC_KEY_TYPES = {"EC", "ECDSA", "ED25519", "ED448", "ECDH", "ECDHE", "X25519", "X448"}
FINITE_FIELD_DH_TYPES = {"DH", "DHE", "FFDHE"}


@dataclass(frozen=True)
class KeySize:
    """One key or group that takes part in the key exchange, with what to call it in a finding."""

    label: str  # "RSA 2048-bit certificate key", "ECDH secp256r1 (256 bits)"
    elliptic: bool
    bits: int

    @property
    def score(self) -> int:
        table = ELLIPTIC_SCORES if self.elliptic else FINITE_FIELD_SCORES
        return next((score for limit, score in table if self.bits < limit), 100)


def certificate_key(cert: CertificateInfo) -> KeySize:
    return KeySize(
        f"{cert.key_type} {cert.key_bits}-bit certificate key",
        cert.key_type.upper() in ELLIPTIC_KEY_TYPES,
        cert.key_bits,
    )


# Curve names as the clients' profiles spell them (engine/simulation/clients.py) and as sslyze reports them.
_CURVE_ALIASES = {"prime256v1": "secp256r1", "secp256r1": "secp256r1"}


def _simulated_curves() -> set[str]:
    from scanner.engine.simulation.clients import CLIENTS  # data only: each reference client's key exchange groups

    return {_CURVE_ALIASES.get(name.lower(), name.lower()) for client in CLIENTS for name in client.groups}


def _unused_curve(tls: TlsResult, group: KeyExchangeGroup) -> bool:
    """A curve only the curve probe found (no accepted suite used it) that no simulated client offers: no
    client of the simulation ever negotiates it, so it must not lower the score.
    Without a simulation every supported curve counts, the stricter reading."""
    if not tls.simulations or group.kind.upper() == "DH" or group.suites:
        return False
    return _CURVE_ALIASES.get((group.name or "").lower(), (group.name or "").lower()) not in _simulated_curves()


def ephemeral_groups(tls: TlsResult) -> list[KeySize]:
    """Every (EC)DH group a client may end up with: the engine's group list (less curves no simulated client
    offers), and each accepted suite's ephemeral key."""
    groups = [
        KeySize(f"{group.kind} {group.name or 'group'} ({group.bits} bits)", group.kind.upper() != "DH", group.bits)
        for group in tls.key_exchange_groups
        if not _unused_curve(tls, group)
    ]
    for suite in tls.cipher_suites:
        kind = (suite.kex_type or "").upper()
        if suite.kex_bits and (kind in FINITE_FIELD_DH_TYPES or kind in ELLIPTIC_KEY_TYPES):
            elliptic = kind not in FINITE_FIELD_DH_TYPES
            groups.append(
                KeySize(
                    f"{'ECDH' if elliptic else 'DH'} {suite.kex_bits}-bit group of {suite.name}",
                    elliptic,
                    suite.kex_bits,
                )
            )
    return groups


def deployments(tls: TlsResult) -> tuple[CertificateInfo, ...]:
    """Every certificate the server presents (RSA and ECDSA deployments); the first is `tls.certificate`."""
    if tls.certificate_deployments:
        return tls.certificate_deployments
    return (tls.certificate,) if tls.certificate else ()


def weakest(keys: list[KeySize]) -> KeySize | None:
    return min(keys, key=lambda key: key.score, default=None)


def cipher_strength_score(key_bits: int) -> int:
    if key_bits <= 0:
        return 0
    if key_bits < 128:
        return 20
    if key_bits < 256:
        return 80
    return 100


def _best_plus_worst(scores: list[int]) -> float | None:
    return (max(scores) + min(scores)) / 2 if scores else None


def protocol_score(tls: TlsResult) -> float | None:
    return _best_plus_worst(
        [PROTOCOL_SCORES[name] for name, on in tls.protocols.items() if on and name in PROTOCOL_SCORES]
    )


def key_exchange_score(tls: TlsResult) -> int | None:
    """The weakest of every certificate key and every ephemeral group decides ("weakest of the key and DH")."""
    certificates = [certificate_key(cert) for cert in deployments(tls)]
    if not certificates:
        return None
    return weakest(certificates + ephemeral_groups(tls)).score


def cipher_score(tls: TlsResult) -> float | None:
    return _best_plus_worst([cipher_strength_score(suite.key_bits) for suite in tls.cipher_suites])


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
