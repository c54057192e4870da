"""One reference client's ClientHello as data (scanner/engine/clients.py lists them all)."""

from __future__ import annotations

from dataclasses import dataclass

from scanner.engine.results import PROTOCOLS


@dataclass(frozen=True)
class ClientProfile:
    name: str  # shown in the report, e.g. "Chrome 131 / Windows 11"
    min_protocol: str  # one of results.PROTOCOLS
    max_protocol: str
    suites: tuple[str, ...]  # IANA names, in the client's preference order (TLS 1.3 suites first when offered)
    groups: tuple[str, ...]  # key exchange groups in the client's order: x25519, secp256r1, ...
    # A client still in common use today. Grading reads ClientSimulation.modern: a non-forward-secret or RC4
    # suite negotiated by a *modern* client is what matters; an old client's fallback is only informative.
    modern: bool = True

    @property
    def protocols(self) -> tuple[str, ...]:
        low, high = PROTOCOLS.index(self.min_protocol), PROTOCOLS.index(self.max_protocol)
        return PROTOCOLS[low : high + 1]


_TLS13_BROWSER = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
