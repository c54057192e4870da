"""Protocol support and the accepted cipher suites, read from sslyze's cipher suite results into our types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sslyze import ScanCommandAttemptStatusEnum

from scanner.engine.protocols.versions import PROTOCOL_COMMANDS
from scanner.engine.results import CipherSuite
from scanner.engine.runtime.error_reasons import attempt_reason

if TYPE_CHECKING:
    from sslyze import AllScanCommandsAttempts, CipherSuiteAcceptedByServer

# sslyze reports a stalled handshake as a *rejected* suite with this text; a
# silent false "not supported" must make the scan incomplete instead.
_TIMEOUT_MARKER = "timed out"


@dataclass
class ProtocolSupport:
    protocols: dict[str, bool] = field(default_factory=dict)  # every protocol: offered or not
    suites: list[CipherSuite] = field(default_factory=list)
    ephemeral_keys: list[tuple[str, object]] = field(default_factory=list)  # (suite name, sslyze's key info)
    problems: list[str] = field(default_factory=list)  # why some protocol's answer cannot be trusted


def protocol_support(scan: AllScanCommandsAttempts) -> ProtocolSupport:
    """Every protocol's cipher suite enumeration; a failed or timed-out one is a problem, never a "no"."""
    support = ProtocolSupport()
    for protocol, command in PROTOCOL_COMMANDS.items():
        attempt = getattr(scan, command.value)
        if attempt.status != ScanCommandAttemptStatusEnum.COMPLETED:
            support.problems.append(f"the {protocol} cipher suite test failed: {attempt_reason(attempt)}")
            support.protocols[protocol] = False
            continue
        result = attempt.result
        timed_out = [r for r in result.rejected_cipher_suites if _TIMEOUT_MARKER in (r.error_message or "")]
        if timed_out:
            # A stalled handshake reads as "suite not accepted": never grade that as a cleaner server.
            support.problems.append(
                f"{len(timed_out)} {protocol} cipher suite handshakes timed out, so the server's {protocol} "
                "support cannot be told"
            )
        support.protocols[protocol] = bool(result.accepted_cipher_suites)
        for accepted in result.accepted_cipher_suites:
            support.suites.append(cipher_suite(protocol, accepted))
            support.ephemeral_keys.append((accepted.cipher_suite.name, accepted.ephemeral_key))
    return support


def cipher_suite(protocol: str, accepted: CipherSuiteAcceptedByServer) -> CipherSuite:
    suite = accepted.cipher_suite
    ephemeral = accepted.ephemeral_key
    name = suite.name
    # TLS 1.3 suites always use an ephemeral key exchange.
    forward_secrecy = protocol == "TLSv1.3" or "_DHE_" in name or "_ECDHE_" in name
    aead = protocol == "TLSv1.3" or any(mode in name for mode in ("_GCM_", "CHACHA20", "_CCM"))
    return CipherSuite(
        name=name,
        protocol=protocol,
        key_bits=suite.key_size,
        forward_secrecy=forward_secrecy,
        aead=aead,
        kex_bits=ephemeral.size if ephemeral else None,
        kex_type=getattr(ephemeral, "type_name", None) if ephemeral else None,
    )
