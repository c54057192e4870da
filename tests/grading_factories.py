"""Hand-built scan results for the grading tests: a perfect site, and one-line ways to break one thing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from scanner.engine.results import (
    CertificateInfo,
    CipherSuite,
    HstsPolicy,
    HttpHop,
    HttpResult,
    ScanResult,
    TlsResult,
    Vulnerabilities,
)
from scanner.grading import Finding, Grades, grade  # noqa: F401 - re-exported for the tests

HOST = "example.com"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def suite(
    name="TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    protocol="TLSv1.2",
    key_bits=128,
    forward_secrecy=True,
    aead=True,
    kex_bits=253,
    kex_type="X25519",
) -> CipherSuite:
    return CipherSuite(name, protocol, key_bits, forward_secrecy, aead, kex_bits, kex_type)


PERFECT_SUITES = (
    suite("TLS_AES_128_GCM_SHA256", "TLSv1.3", 128),
    suite("TLS_AES_256_GCM_SHA384", "TLSv1.3", 256),
    suite("TLS_CHACHA20_POLY1305_SHA256", "TLSv1.3", 256),
    suite("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLSv1.2", 128),
    suite("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLSv1.2", 256),
)


def certificate(**changes) -> CertificateInfo:
    base = CertificateInfo(
        subject=f"CN={HOST}",
        issuer="CN=Example Trusted CA",
        serial="01",
        sha256_fingerprint="ab" * 32,
        not_before=NOW - timedelta(days=0),
        not_after=NOW + timedelta(days=90),
        days_to_expiry=90,
        san_dns_names=(HOST, f"www.{HOST}"),
        key_type="EC",
        key_bits=256,
        signature_algorithm="ecdsa-with-SHA256",
        signature_hash="sha256",
        trusted=True,
        hostname_match=True,
        self_signed=False,
        expired=False,
        not_yet_valid=False,
        chain_incomplete=False,
        chain_length=2,
        sha1_in_chain=False,
        ocsp_stapled=True,
        validation_error=None,
    )
    return replace(base, **changes)


def vulnerabilities(**changes) -> Vulnerabilities:
    base = Vulnerabilities(
        heartbleed=False,
        robot=False,
        robot_detail=None,
        ccs_injection=False,
        insecure_renegotiation=False,
        client_renegotiation_dos=False,
        compression=False,
        fallback_scsv=True,
    )
    return replace(base, **changes)


def tls(protocols=("TLSv1.2", "TLSv1.3"), suites=PERFECT_SUITES, **changes) -> TlsResult:
    base = TlsResult(
        protocols={name: name in protocols for name in ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")},
        cipher_suites=tuple(suites),
        certificate=certificate(),
        vulnerabilities=vulnerabilities(),
        curves=("X25519", "secp256r1"),
        extended_master_secret=True,
        mozilla_intermediate_issues={},
    )
    return replace(base, **changes)


PERFECT_HSTS = HstsPolicy("max-age=63072000; includeSubDomains; preload", 63072000, True, True)


def http(hops=None, hsts=PERFECT_HSTS, **changes) -> HttpResult:
    hops = (
        hops
        if hops is not None
        else (
            HttpHop(f"http://{HOST}/", 301, f"https://{HOST}/"),
            HttpHop(f"https://{HOST}/", 200),
        )
    )
    base = HttpResult(http_listener=True, chain=tuple(hops), final_url=hops[-1].url if hops else None, hsts=hsts)
    return replace(base, **changes)


def scan(tls_result="perfect", http_result="perfect", **changes) -> ScanResult:
    base = ScanResult(
        host=HOST,
        https_port=443,
        http_port=80,
        ip="192.0.2.1",
        started_at=NOW,
        duration_s=3.2,
        tls=tls() if tls_result == "perfect" else tls_result,
        http=http() if http_result == "perfect" else http_result,
    )
    return replace(base, **changes)


def with_cert(**changes) -> ScanResult:
    return scan(tls(certificate=certificate(**changes)))


def ids(grades: Grades) -> set[str]:
    return {finding.id for finding in grades.findings}


def finding(grades: Grades, finding_id: str) -> Finding:
    return next(f for f in grades.findings if f.id == finding_id)
