"""Protocol, cipher-suite, key-exchange and vulnerability rules, and the note on probes that did not run."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from scanner.engine.results import PROBE_OK, CipherSuite, ScanResult, TlsResult
from scanner.grading import scoring
from scanner.grading.findings import Finding
from scanner.grading.policy import finding
from scanner.grading.readers import (
    BLOCK_64_BIT_MARKERS,
    MIN_CIPHER_BITS,
    MODERN_PROTOCOLS,
    RC4_CAP_C_PROTOCOLS,
    SWEET32_PROTOCOLS,
    _complete_tls,
    _suites,
    suite_names,
)
from scanner.grading.registry import rule

# --- protocols -----------------------------------------------------------------------------------------

LEGACY_PROTOCOL_IDS = {
    "SSLv2": ("tls.protocol.sslv2", "which is broken (DROWN)"),
    "SSLv3": ("tls.protocol.sslv3", "which is broken (POODLE)"),
    "TLSv1.0": ("tls.protocol.tls1_0", "deprecated by RFC 8996"),
    "TLSv1.1": ("tls.protocol.tls1_1", "deprecated by RFC 8996"),
}


def _offered(tls: TlsResult) -> list[str]:
    return [name for name in scoring.PROTOCOL_SCORES if tls.protocols.get(name)]


@rule
def protocol_legacy(scan: ScanResult) -> Iterator[Finding]:
    for protocol in _offered(scan.tls) if scan.tls else ():
        if protocol in LEGACY_PROTOCOL_IDS:
            finding_id, why = LEGACY_PROTOCOL_IDS[protocol]
            yield finding(finding_id, f"The server accepts {protocol}, {why}.")


@rule
def protocol_best(scan: ScanResult) -> Iterator[Finding]:
    """What the newest protocol offered says: SSLv3 at best is F, no TLS 1.2 caps C, no TLS 1.3 warns."""
    offered = _offered(scan.tls) if _complete_tls(scan) else []
    listed = f"Protocols offered: {', '.join(offered)}."
    if offered and offered[-1] == "SSLv3":
        yield finding("tls.protocol.sslv3_best", f"{listed} Nothing newer than SSLv3.")
    # A TLS 1.3-only server is modern, not old: only the absence of both counts for "no TLS 1.2".
    if offered and not {"TLSv1.2", "TLSv1.3"} & set(offered):
        yield finding("tls.protocol.no_tls1_2", listed)
    if offered and "TLSv1.3" not in offered:
        yield finding(
            "tls.protocol.no_tls1_3", f"{listed} SSL Labs counts the lack of TLS 1.3 as a warning since May 2025."
        )


# --- cipher suites -------------------------------------------------------------------------------------


def _is_64_bit_block(suite: CipherSuite) -> bool:
    return any(marker in suite.name for marker in BLOCK_64_BIT_MARKERS)


CIPHER_CLASSES: tuple[tuple[str, Callable[[CipherSuite], bool], str], ...] = (
    ("tls.cipher.null", lambda s: s.is_null, "These suites do not encrypt at all."),
    (
        "tls.cipher.export",
        lambda s: s.is_export,
        "Export-grade keys (40-56 bits) are broken in minutes (FREAK, Logjam).",
    ),
    (
        "tls.cipher.anonymous",
        lambda s: s.is_anonymous,
        "Without server authentication anyone on the path can impersonate the server.",
    ),
    (
        "tls.cipher.under_112_bits",
        lambda s: 0 < s.key_bits < MIN_CIPHER_BITS and not s.is_export,
        f"Keys under {MIN_CIPHER_BITS} bits (single DES has 56) can be brute-forced.",
    ),
)


@rule
def cipher_broken_classes(scan: ScanResult) -> Iterator[Finding]:
    for finding_id, predicate, why in CIPHER_CLASSES:
        if matching := _suites(scan, predicate):
            yield finding(finding_id, f"Accepted: {suite_names(matching)}. {why}")


@rule
def cipher_rc4(scan: ScanResult) -> Iterator[Finding]:
    rc4 = _suites(scan, lambda s: s.is_rc4)
    if not rc4:
        return
    why = "RC4 has practical biases that leak plaintext (RFC 7465 forbids it)."
    if len(rc4) == len(scan.tls.cipher_suites):
        yield finding("tls.cipher.rc4_only", f"Every accepted suite is RC4: {suite_names(rc4)}. {why}")
    elif newer := [suite for suite in rc4 if suite.protocol in RC4_CAP_C_PROTOCOLS]:
        yield finding("tls.cipher.rc4", f"Accepted with TLS 1.1 or newer: {suite_names(newer)}. {why}")
    else:
        yield finding("tls.cipher.rc4_legacy", f"Accepted with TLS 1.0 or older only: {suite_names(rc4)}. {why}")


@rule
def cipher_64_bit_block(scan: ScanResult) -> Iterator[Finding]:
    blocks = _suites(scan, _is_64_bit_block)
    modern = [suite for suite in blocks if suite.protocol in SWEET32_PROTOCOLS]
    why = "A 64-bit block makes long connections vulnerable to SWEET32 (CVE-2016-2183)."
    if modern and _only_as_last_choice(scan.tls, modern):
        yield finding(
            "tls.cipher.3des_last_choice",
            f"Accepted with TLS 1.1/1.2: {suite_names(modern)}, but only as "
            f"the server's last choice (it enforces its own order). {why}",
        )
    elif modern:
        yield finding("tls.cipher.sweet32", f"Accepted with TLS 1.1/1.2: {suite_names(modern)}. {why}")
    elif blocks:
        yield finding("tls.cipher.64bit_block", f"Accepted with older protocols only: {suite_names(blocks)}. {why}")


def _only_as_last_choice(tls: TlsResult, weak: list[CipherSuite]) -> bool:
    """Every weak suite comes after every other suite in the server's enforced order, in each protocol it is in.
    Without a known order (no adaptive enumeration, client's order wins) the stricter reading stays."""
    if tls.server_cipher_preference is not True:
        return False
    weak_names = {suite.name for suite in weak}
    for protocol in {suite.protocol for suite in weak}:
        order = tls.server_suite_order.get(protocol)
        if not order:
            return False
        flags = [name in weak_names for name in order]
        if True in flags and False in flags[flags.index(True) :]:
            return False
    return True


def _non_fs_negotiators(tls: TlsResult) -> list[str] | None:
    """Who ends up on a non-forward-secret suite: modern simulated clients, else the server's own choice.

    None when the scan has neither (no simulation, no preference data): then every non-FS suite is assumed
    reachable, the stricter reading, so missing data never improves a grade.
    """
    if tls.simulations:
        return [
            f"{sim.client} ({sim.suite})"
            for sim in tls.simulations
            if sim.modern and sim.protocol and sim.forward_secrecy is False
        ]
    if tls.preferred_suites:
        fs_names = {suite.name for suite in tls.cipher_suites if suite.forward_secrecy}
        return [
            f"the server's choice for {protocol} ({name})"
            for protocol, name in tls.preferred_suites.items()
            if protocol in MODERN_PROTOCOLS and name not in fs_names
        ]
    return None


@rule
def cipher_forward_secrecy(scan: ScanResult) -> Iterator[Finding]:
    non_fs = _suites(scan, lambda s: not s.forward_secrecy)
    if not non_fs:
        return
    negotiators = _non_fs_negotiators(scan.tls)
    accepted = f"Accepted without forward secrecy: {suite_names(non_fs)}."
    if negotiators is None:
        yield finding(
            "tls.cipher.no_forward_secrecy",
            f"{accepted} No client simulation was available, so modern clients are assumed to negotiate them.",
        )
    elif negotiators:
        yield finding("tls.cipher.no_forward_secrecy", f"{accepted} Negotiated by {', '.join(negotiators)}.")
    else:
        yield finding(
            "tls.cipher.non_fs_accepted",
            f"{accepted} Every modern client still negotiates a "
            "forward-secret suite; only old clients can fall back to these.",
        )


def _aead(protocol: str, name: str) -> bool:
    return protocol == "TLSv1.3" or any(mode in name for mode in ("_GCM_", "CHACHA20", "_CCM"))


@rule
def cipher_no_aead(scan: ScanResult) -> Iterator[Finding]:
    tls = _complete_tls(scan)
    if not tls or not tls.cipher_suites:
        return
    if not any(suite.aead for suite in tls.cipher_suites):
        yield finding(
            "tls.cipher.no_aead", f"Only CBC or stream suites are accepted: {suite_names(tls.cipher_suites)}."
        )
        return
    # AEAD on offer is not enough: what modern browsers actually negotiate decides (SSL Labs caps on what is used).
    cbc = [
        f"{sim.client} ({sim.suite})"
        for sim in tls.simulations
        if sim.modern and sim.protocol and sim.suite and not _aead(sim.protocol, sim.suite)
    ]
    if cbc:
        yield finding(
            "tls.cipher.cbc_negotiated", f"AEAD suites are accepted, but modern clients end on CBC: {', '.join(cbc)}."
        )


# --- key exchange --------------------------------------------------------------------------------------


@rule
def kex_group_strength(scan: ScanResult) -> Iterator[Finding]:
    group = scoring.weakest(scoring.ephemeral_groups(scan.tls)) if scan.tls else None
    if group is None or group.score > scoring.WEAK_KEX_SCORE:
        return
    finding_id = "tls.kex.insecure_group" if group.score <= scoring.INSECURE_KEX_SCORE else "tls.kex.weak_group"
    yield finding(
        finding_id,
        f"The weakest key exchange uses {group.label}: key exchange score {group.score} "
        "(Logjam: DH below 1024 bits is insecure, below 2048 weak).",
    )


@rule
def kex_dh_prime(scan: ScanResult) -> Iterator[Finding]:
    for group in scan.tls.key_exchange_groups if scan.tls else ():
        if group.prime is False or group.safe_prime is False:
            what = "is not prime at all" if group.prime is False else "is prime but not a safe prime"
            yield finding(
                "tls.kex.dh_unsafe_prime",
                f"The {group.bits}-bit DH modulus {group.name or ''} {what}; "
                "small subgroups let an attacker learn the server's exponent.",
            )


# --- known vulnerabilities -----------------------------------------------------------------------------

# (flag on Vulnerabilities, finding id, what it means). None means "not tested": only True is a finding.
VULNERABILITY_FLAGS = (
    ("heartbleed", "vuln.heartbleed", "The server leaks process memory, including private keys, to anyone who asks."),
    (
        "ccs_injection",
        "vuln.ccs_injection",
        "An attacker on the path can force weak keys and decrypt or alter traffic.",
    ),
    ("robot", "vuln.robot", "RSA key exchange leaks an oracle that allows decrypting recorded traffic."),
    ("compression", "vuln.compression", "Compressed TLS records let an attacker recover secrets such as cookies."),
    (
        "client_renegotiation_dos",
        "vuln.client_renegotiation_dos",
        "Clients may trigger renegotiations repeatedly, an easy CPU denial of service.",
    ),
)


@rule
def vulnerabilities(scan: ScanResult) -> Iterator[Finding]:
    flags = scan.tls.vulnerabilities if scan.tls else None
    for flag, finding_id, detail in VULNERABILITY_FLAGS if flags else ():
        if getattr(flags, flag) is True:
            extra = f" ({flags.robot_detail})" if flag == "robot" and flags.robot_detail else ""
            yield finding(finding_id, detail + extra)


@rule
def renegotiation(scan: ScanResult) -> Iterator[Finding]:
    flags = scan.tls.vulnerabilities if scan.tls else None
    if flags is None or flags.insecure_renegotiation is not True:
        return
    # Exploitable only when a client can start the renegotiation (CVE-2009-3555); otherwise a warning.
    if flags.client_renegotiation_dos is True:
        yield finding(
            "vuln.insecure_renegotiation",
            "The server lacks RFC 5746 secure renegotiation and accepts "
            "client-initiated renegotiation: requests can be injected (CVE-2009-3555).",
        )
    else:
        tested = "refuses" if flags.client_renegotiation_dos is False else "could not be tested for"
        yield finding(
            "tls.no_secure_renegotiation",
            f"The server lacks RFC 5746 secure renegotiation; it {tested} client-initiated renegotiation.",
        )


@rule
def mozilla_intermediate(scan: ScanResult) -> Iterator[Finding]:
    issues = scan.tls.mozilla_intermediate_issues if scan.tls else None
    if issues:  # None = not checked, {} = compliant
        yield finding("tls.mozilla.intermediate", "; ".join(f"{key}: {value}" for key, value in sorted(issues.items())))


# --- how complete the scan was -------------------------------------------------------------------------


@rule
def probes_not_tested(scan: ScanResult) -> Iterator[Finding]:
    probes = {**(scan.tls.probes if scan.tls else {}), **scan.probes}
    for name, outcome in sorted(probes.items()):
        if outcome.status != PROBE_OK:
            reason = outcome.reason or ("not tested" if outcome.status == "not_tested" else "failed")
            yield finding("scan.probe_not_tested", f"{name}: {reason}. Nothing is concluded from this check.")
