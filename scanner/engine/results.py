"""Typed, immutable results of the probes. The engine fills them; grading only reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")


@dataclass(frozen=True)
class ScanSettings:
    connect_timeout: float = 5.0  # TCP connect and the first TLS handshake (pre-flight)
    network_timeout: float = 5.0  # each sslyze socket operation
    network_retries: int = 2
    http_timeout: float = 10.0
    max_redirects: int = 10


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    issuer: str
    serial: str
    sha256_fingerprint: str
    not_before: datetime
    not_after: datetime
    days_to_expiry: int
    san_dns_names: tuple[str, ...]
    key_type: str  # RSA, EC, Ed25519, Ed448, DSA
    key_bits: int
    signature_algorithm: str  # e.g. sha256WithRSAEncryption
    signature_hash: str | None  # sha256, sha1, md5... None for EdDSA
    trusted: bool  # the chain leads to a trusted root, whatever the name on the certificate
    hostname_match: bool
    self_signed: bool
    expired: bool
    not_yet_valid: bool
    chain_incomplete: bool  # the server did not send every intermediate the path needs
    chain_length: int
    sha1_in_chain: bool
    ocsp_stapled: bool
    validation_error: str | None  # the verifier's reason when not trusted


@dataclass(frozen=True)
class CipherSuite:
    name: str  # IANA name, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    protocol: str
    key_bits: int
    forward_secrecy: bool
    aead: bool
    kex_bits: int | None  # size of the ephemeral (EC)DH key, when there is one
    kex_type: str | None  # ECDH, X25519, DH...

    @property
    def is_rc4(self) -> bool:
        return "_RC4_" in self.name

    @property
    def is_3des(self) -> bool:
        return "3DES" in self.name or "DES_EDE" in self.name

    @property
    def is_null(self) -> bool:
        return "_NULL_" in self.name or self.name.endswith("_NULL")

    @property
    def is_export(self) -> bool:
        return "EXPORT" in self.name

    @property
    def is_anonymous(self) -> bool:
        return "_anon_" in self.name.lower() or "_ANON_" in self.name


@dataclass(frozen=True)
class Vulnerabilities:
    heartbleed: bool | None
    robot: bool | None
    robot_detail: str | None
    ccs_injection: bool | None
    insecure_renegotiation: bool | None  # no RFC 5746 secure renegotiation
    client_renegotiation_dos: bool | None
    compression: bool | None  # CRIME
    fallback_scsv: bool | None


@dataclass(frozen=True)
class TlsResult:
    protocols: dict[str, bool]
    cipher_suites: tuple[CipherSuite, ...]
    certificate: CertificateInfo | None
    vulnerabilities: Vulnerabilities
    curves: tuple[str, ...]
    extended_master_secret: bool | None
    mozilla_intermediate_issues: dict[str, str] | None  # {} = compliant, None = not checked
    incomplete_reason: str | None = None  # set when probes timed out or errored: never grade on it


@dataclass(frozen=True)
class HttpHop:
    url: str
    status: int
    location: str | None = None


@dataclass(frozen=True)
class HstsPolicy:
    raw: str
    max_age: int | None  # None when missing or unparsable
    include_subdomains: bool
    preload: bool

    @property
    def valid(self) -> bool:
        return self.max_age is not None


@dataclass(frozen=True)
class HttpResult:
    http_listener: bool
    chain: tuple[HttpHop, ...] = ()
    final_url: str | None = None
    loop: bool = False
    too_many_redirects: bool = False
    error: str | None = None  # why the redirect walk stopped early (timeout, TLS failure...)
    hsts: HstsPolicy | None = None
    hsts_error: str | None = None

    @property
    def redirects(self) -> tuple[HttpHop, ...]:
        return tuple(hop for hop in self.chain if 300 <= hop.status < 400 and hop.location)


@dataclass(frozen=True)
class ScanResult:
    host: str
    https_port: int
    http_port: int
    ip: str | None
    started_at: datetime
    duration_s: float
    error: str | None = None  # a failed scan: the reason, for people
    tls: TlsResult | None = None
    http: HttpResult | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def status(self) -> str:
        return "failed" if self.error else "done"
