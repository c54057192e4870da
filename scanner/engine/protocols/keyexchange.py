"""Ephemeral key-exchange groups: which (EC)DH groups the server uses, and whether its DH modulus is sound.

A DHE server chooses its own group. A composite modulus, or a prime p whose (p-1)/2 is not prime (not a "safe
prime"), lets an attacker work in a small subgroup and recover the key (RFC 7919 §1, the Logjam paper).
Primality is tested with gmpy2 (GMP's Miller-Rabin with a Baillie-PSW base), not a hand-written test. It is
imported where it is used, after the TLS scan: its import was a tenth of what a command-line scan imports before
its TLS scan can start (the engine imports it beside the scan, with its other late probes).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from scanner.engine.results import KeyExchangeGroup

_MILLER_RABIN_ROUNDS = 32  # error probability below 2^-64 on top of gmpy2's BPSW check


def _named_prime(bits: int, constant: str, offset: int) -> int:
    """The RFC 2409/3526 (pi) and RFC 7919 (e) construction: 2^b - 2^(b-64) - 1 + 2^64 * (floor(2^(b-130) c) + k)."""
    import gmpy2

    with gmpy2.context(gmpy2.get_context(), precision=bits + 256):
        value = gmpy2.const_pi() if constant == "pi" else gmpy2.exp(1)
        middle = int(gmpy2.floor(gmpy2.mpfr(2) ** (bits - 130) * value))
    return 2**bits - 2 ** (bits - 64) - 1 + 2**64 * (middle + offset)


# (name, bits, constant, offset): the offsets are the published values of each RFC.
_KNOWN_GROUPS = (
    ("RFC 2409 group 1 (768-bit MODP)", 768, "pi", 149686),
    ("RFC 2409 group 2 (1024-bit MODP)", 1024, "pi", 129093),
    ("RFC 3526 group 5 (1536-bit MODP)", 1536, "pi", 741804),
    ("RFC 3526 group 14 (2048-bit MODP)", 2048, "pi", 124476),
    ("RFC 3526 group 15 (3072-bit MODP)", 3072, "pi", 1690314),
    ("RFC 3526 group 16 (4096-bit MODP)", 4096, "pi", 240904),
    ("ffdhe2048", 2048, "e", 560316),
    ("ffdhe3072", 3072, "e", 2625351),
    ("ffdhe4096", 4096, "e", 5736041),
    ("ffdhe6144", 6144, "e", 15705020),
    ("ffdhe8192", 8192, "e", 10965728),
)


@cache
def known_groups() -> dict[int, str]:
    return {_named_prime(bits, constant, offset): name for name, bits, constant, offset in _KNOWN_GROUPS}


@cache
def analyse_dh_prime(prime: int) -> tuple[bool, bool, str | None]:
    """(is prime, is a safe prime, well-known group name or None). Cached: one server reuses its group."""
    name = known_groups().get(prime)
    if name is not None:
        return True, True, name  # published safe primes
    import gmpy2

    is_prime = bool(gmpy2.is_prime(prime, _MILLER_RABIN_ROUNDS))
    safe = is_prime and bool(gmpy2.is_prime((prime - 1) // 2, _MILLER_RABIN_ROUNDS))
    return is_prime, safe, None


def groups_from_suites(
    accepted: Iterable[tuple[str, object]], supported_curves: Iterable[str] = ()
) -> tuple[KeyExchangeGroup, ...]:
    """Group the accepted suites by the ephemeral key they used; add the curves the curve probe found.

    `accepted` holds (suite name, sslyze/nassl ephemeral key info or None) pairs.
    """
    dh: dict[tuple[int, int], list[str]] = {}
    dh_bits: dict[tuple[int, int], int] = {}
    ecdh: dict[str, list[str]] = {}
    ecdh_bits: dict[str, int] = {}
    for suite, key in accepted:
        if key is None:
            continue
        prime = getattr(key, "prime", None)
        if prime is not None:
            group = (int.from_bytes(bytes(prime), "big"), int.from_bytes(bytes(key.generator), "big"))
            dh.setdefault(group, []).append(suite)
            dh_bits[group] = key.size
            continue
        curve = getattr(key, "curve_name", None) or getattr(key, "type_name", None)
        if curve:
            ecdh.setdefault(curve, []).append(suite)
            ecdh_bits[curve] = key.size
    groups: list[KeyExchangeGroup] = []
    for (prime, _generator), suites in dh.items():
        is_prime, safe, name = analyse_dh_prime(prime)
        groups.append(
            KeyExchangeGroup(
                kind="DH",
                name=name,
                bits=dh_bits[(prime, _generator)] or prime.bit_length(),
                prime=is_prime,
                safe_prime=safe,
                suites=tuple(dict.fromkeys(suites)),
            )
        )
    for curve, suites in ecdh.items():
        groups.append(
            KeyExchangeGroup(kind="ECDH", name=curve, bits=ecdh_bits[curve], suites=tuple(dict.fromkeys(suites)))
        )
    for curve in supported_curves:
        if curve not in ecdh:
            groups.append(KeyExchangeGroup(kind="ECDH", name=curve, bits=_curve_bits(curve)))
    return tuple(groups)


def _curve_bits(name: str) -> int:
    sizes = {"X25519": 253, "X448": 448, "prime256v1": 256, "secp256r1": 256, "secp384r1": 384, "secp521r1": 521}
    if name in sizes:
        return sizes[name]
    digits = "".join(ch for ch in name if ch.isdigit())
    return int(digits[:3]) if digits else 0
