"""Typed, immutable results of the probes. The engine fills them; grading only reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from scanner.engine.protocols.table import PROTOCOLS  # noqa: F401 - re-exported: our protocol names, oldest first
from scanner.engine.web_results import WebFacts

# Probe outcome statuses: measured, skipped for a stated reason, or failed while measuring.
PROBE_OK, PROBE_NOT_TESTED, PROBE_ERROR = "ok", "not_tested", "error"


@dataclass(frozen=True)
class ProbeOutcome:
    """How one probe (protocols, certificate, heartbleed, robot, http, simulation...) went."""

    status: str  # PROBE_OK | PROBE_NOT_TESTED | PROBE_ERROR
    reason: str | None = None  # in words a site owner understands; never a raw sslyze status name


@dataclass(frozen=True)
class ScanSettings:
    connect_timeout: float = 5.0  # TCP connect and the first TLS handshake (pre-flight)
    network_timeout: float = 5.0  # each sslyze socket operation
    network_retries: int = 2
    http_timeout: float = 10.0  # each HTTP socket operation
    max_redirects: int = 10
    # Wall-clock budgets per probe inside the scan's time limit: a slow or hostile server ends that probe
    # with a clear finding and the scan still finishes with everything else it measured.
    tls_deadline: float = 150.0  # the whole TLS scan of a site, shared by its addresses (one address gets all of it)
    http_deadline: float = 30.0  # the whole HTTP side: both redirect walks, HSTS and the page read
    # Cipher-suite enumeration: "adaptive" (default) offers every suite and removes the one the server
    # picks (about one handshake per accepted suite; ROBOT and the client simulation reuse what it learned);
    # "sslyze" tries every suite it knows, one handshake each.
    cipher_enumeration: str = "adaptive"
    # Concurrent connections to one scanned address (sslyze and adaptive): sslyze's own default
    # (Scanner(per_server_concurrent_connections_limit=5)), so a scan asks no more of a server than sslyze does.
    per_target_connections: int = 5
    connection_budget: int = 400  # adaptive only: most handshakes its enumeration may open for one endpoint
    # DNS servers for the CAA lookup ("IP" or "IP:PORT"); empty: the system resolver
    dns_servers: tuple[str, ...] = ()
    # Fetches to hosts the scanned site names (AIA, OCSP/CRL, redirect hops), counted together (0: no limit).
    outbound_budget: int = 20


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
    validation_error: str | None  # the verifier's reason when not trusted, rewritten for people
    # --- chain analysis; defaults keep older producers and stored reports readable ---
    chain_trusted: bool | None = None  # the path reaches a trusted root, ignoring name and dates (None: unknown)
    chain_order_wrong: bool = False  # the server sent its certificates out of order
    chain_completed_via_aia: bool = False  # a missing intermediate was fetched from the leaf's AIA caIssuers URL
    chain: tuple[ChainCertificate, ...] = ()  # the path as built, leaf first (sent, AIA-fetched and root)
    detail_raw: str | None = None  # the verifier's own text, for support; never shown as a title or remediation
    # --- trust beyond the handshake; defaults keep older producers and stored reports readable ---
    revocation: RevocationCheck | None = None  # None: not checked (no issuer to check against)
    must_staple: bool = False  # the TLS feature extension asks for status_request (RFC 7633)
    rsa_public_exponent: int | None = None  # RSA keys only
    root_subject: str | None = None  # the trust anchor the path ends at (its full name, for distrust lists)
    scts: SctCounts | None = None  # Certificate Transparency timestamps by how they were delivered
    public_root: bool | None = None  # a browser trust store (not the operator's CA file) validated the chain
    intermediate_revocations: tuple[IntermediateRevocation, ...] = ()  # each CA certificate below the root
    issuer_organization: str | None = None  # the issuing CA's O= (to tell whether CAA allows it)


@dataclass(frozen=True)
class IntermediateRevocation:
    subject: str
    revocation: RevocationCheck


@dataclass(frozen=True)
class SctCounts:
    """Signed certificate timestamps (RFC 6962 §3.3) per delivery: in the certificate, the OCSP staple, the TLS
    extension. None: that channel was not measured (the TLS extension is not requested by the scanner)."""

    embedded: int
    ocsp: int | None
    tls_extension: int | None = None


REVOCATION_GOOD, REVOCATION_REVOKED, REVOCATION_UNKNOWN = "good", "revoked", "unknown"


@dataclass(frozen=True)
class RevocationCheck:
    """Is the leaf revoked, and who said so (RFC 6960 OCSP, stapled or asked; RFC 5280 CRL)."""

    status: str  # good | revoked | unknown
    source: str  # ocsp-staple | ocsp | crl | none
    checked_at: datetime | None
    detail: str  # what was asked and what came back, in words
    revoked_at: datetime | None = None
    # A staple the client cannot use: "expired" (past nextUpdate), "untrusted" (not signed for this issuer) or
    # "invalid" (unparsable, or for another certificate). The status then comes from the responder or the CRL.
    staple_problem: str | None = None
    staple_problem_detail: str | None = None


@dataclass(frozen=True)
class ChainCertificate:
    subject: str
    issuer: str
    sha256_fingerprint: str
    key_type: str
    key_bits: int
    signature_algorithm: str
    signature_hash: str | None  # md5, sha1, sha256... None for EdDSA
    is_ca: bool
    self_signed: bool
    source: str  # "sent" | "aia" | "trust_store"


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
class KeyExchangeGroup:
    """A (EC)DH group the server used for ephemeral key exchange."""

    kind: str  # "DH" | "ECDH"
    name: str | None  # curve name (X25519, secp256r1) or known DH group name (ffdhe2048, RFC 3526 group 14)
    bits: int
    prime: bool | None = None  # DH only: is the modulus prime
    safe_prime: bool | None = None  # DH only: is (p-1)/2 prime too
    suites: tuple[str, ...] = ()  # accepted suites that used this group


@dataclass(frozen=True)
class ClientSimulation:
    """What one reference client (defined as data in the engine) negotiates with the server."""

    client: str  # e.g. "Chrome 131 / Windows 11"
    protocol: str | None  # None when the handshake failed
    suite: str | None
    forward_secrecy: bool | None
    error: str | None = None  # why the handshake failed, in words
    # A client in common use today (engine/simulation/clients.py). Old clients (IE 11 / Windows 7, Android 7) are shown
    # for compatibility; only a modern client negotiating a weak suite says something about today's visitors.
    modern: bool = True


@dataclass(frozen=True)
class SessionResumption:
    """Abbreviated handshakes before TLS 1.3: session IDs (RFC 5246 §7.3) and session tickets (RFC 5077),
    as sslyze's session resumption test measures them (a few full handshakes, each followed by a resume)."""

    # "yes" (every attempt resumed), "partly", "no", or "tls1.3_only" (neither mechanism exists in TLS 1.3)
    session_ids: str
    session_ids_resumed: int
    session_ids_attempted: int
    tickets: str
    tickets_resumed: int
    tickets_attempted: int


@dataclass(frozen=True)
class TlsResult:
    protocols: dict[str, bool]
    cipher_suites: tuple[CipherSuite, ...]
    certificate: CertificateInfo | None
    vulnerabilities: Vulnerabilities
    curves: tuple[str, ...]
    extended_master_secret: bool | None
    mozilla_intermediate_issues: dict[str, str] | None  # {} = compliant, None = not checked
    incomplete_reason: str | None = None  # set when a *core* probe timed out or errored: never grade on it
    # --- all optional so hand-built results in tests stay short ---
    certificate_deployments: tuple[CertificateInfo, ...] = ()  # every deployment (RSA, ECDSA...); [0] is `certificate`
    key_exchange_groups: tuple[KeyExchangeGroup, ...] = ()
    server_cipher_preference: bool | None = None  # the server enforces its own suite order
    preferred_suites: dict[str, str] = field(default_factory=dict)  # protocol -> suite chosen when offered all
    simulations: tuple[ClientSimulation, ...] = ()
    client_certificate_requested: bool = False
    probes: dict[str, ProbeOutcome] = field(default_factory=dict)  # per sslyze-backed probe
    # protocol -> accepted suites in the server's order, when it enforces one and the enumeration saw it
    server_suite_order: dict[str, tuple[str, ...]] = field(default_factory=dict)
    session_resumption: SessionResumption | None = None  # None: not tested or the test failed (see probes)


@dataclass(frozen=True)
class HttpHop:
    url: str
    status: int
    location: str | None = None
    # An https:// hop on another host whose certificate a browser refuses: why. The walk goes on
    # without verification so the chain is still known; the scanned host's own certificate is the TLS probe's.
    certificate_error: str | None = None


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
class MixedContentItem:
    url: str  # the http:// URL the https page loads
    kind: str  # "active" (script, stylesheet, iframe, form action...) | "passive" (img, audio, video...)
    element: str  # the tag (and attribute) it was found in, e.g. "script src"


@dataclass(frozen=True)
class HttpResult:
    http_listener: bool
    chain: tuple[HttpHop, ...] = ()
    final_url: str | None = None
    loop: bool = False
    too_many_redirects: bool = False
    error: str | None = None  # why the redirect walk stopped early (timeout, TLS failure...)
    # The walk stopped at a redirect too long to follow: a Location past MAX_STORED_URL characters, or a
    # response head past the header cap (h11 stops at 100 KiB). `error` says which.
    oversized_redirect: bool = False
    hsts: HstsPolicy | None = None
    hsts_error: str | None = None  # the HTTPS fetch failed ("could not fetch..."), or the header was unparsable
    # --- the HTTPS side ---
    https_chain: tuple[HttpHop, ...] = ()  # the walk from https://host/
    https_final_url: str | None = None
    https_downgrade: bool = False  # an https:// response redirects to http://
    https_error: str | None = None  # why the https walk stopped early
    hsts_over_http: bool = False  # HSTS header sent on a plain-http response (ignored by browsers)
    mixed_content: tuple[MixedContentItem, ...] = ()
    canonical_url: str | None = None  # <link rel=canonical href> of the final https page
    page_fetched: bool = False  # the final https page's HTML was read (mixed content checked)
    # The final page's Content-Security-Policy header asks browsers to fetch http:// subresources over https://
    upgrade_insecure_requests: bool = False
    # --- headers, cookies, security.txt, robots.txt, ALPN of the final https page (None: not read) ---
    web: WebFacts | None = None

    @property
    def redirects(self) -> tuple[HttpHop, ...]:
        return tuple(hop for hop in self.chain if 300 <= hop.status < 400 and hop.location)


CAA_FOUND, CAA_NONE, CAA_UNKNOWN = "found", "none", "unknown"


@dataclass(frozen=True)
class CaaRecord:
    flags: int
    tag: str  # issue | issuewild | iodef | ...
    value: str


@dataclass(frozen=True)
class CaaResult:
    """The CAA record set that applies to the name (RFC 8659 §3), or why it is not known."""

    status: str  # found | none | unknown
    domain: str | None = None  # where the record set was found (the name or a parent)
    records: tuple[CaaRecord, ...] = ()
    error: str | None = None  # why the lookup failed (status unknown)


@dataclass(frozen=True)
class EndpointResult:
    """One address behind the name (A or AAAA record), scanned on its own."""

    ip: str
    tls: TlsResult | None = None
    error: str | None = None  # this address could not be scanned: the reason, for people


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
    # Every address scanned. `ip`/`tls` above are the first endpoint's, for compatibility.
    endpoints: tuple[EndpointResult, ...] = ()
    probes: dict[str, ProbeOutcome] = field(default_factory=dict)  # every probe, TLS and HTTP, by name
    caa: CaaResult | None = None  # None: not looked up
    # Fetches skipped because the scan's outbound budget was spent: (kind, count) pairs (engine.outbound_budget).
    outbound_skipped: tuple[tuple[str, int], ...] = ()
    outbound_budget: int | None = None

    @property
    def partial(self) -> bool:
        """Graded from what was measured, but some optional probe was not tested or failed."""
        return any(outcome.status != PROBE_OK for outcome in self.probes.values())

    @property
    def status(self) -> str:
        return "failed" if self.error else "done"
