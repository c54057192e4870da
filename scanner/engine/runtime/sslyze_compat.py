"""Every private sslyze and nassl name the engine uses, imported here and only here.

sslyze's plugins keep the single handshakes we reuse (one suite, one curve, one ROBOT payload, the
secure-renegotiation test) in underscore modules and functions, and nassl raises its OpenSSL errors from its
C extension `nassl._nassl`. None of that is a promised API: an upgrade of either may move or rename it. Keeping
every such import in this one module means an upgrade breaks here, at import time, with one list to read, and
the rest of the engine uses our names for them. tests/test_architecture.py fails on a private sslyze/nassl
import anywhere else.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from cryptography.x509 import ObjectIdentifier, load_pem_x509_certificates
from cryptography.x509.verification import Store

# nassl's errors, raised by its C extension: a failed OpenSSL call, and the two "call again" signals of a
# non-blocking handshake.
from nassl._nassl import OpenSSLError, WantReadError, WantX509LookupError

# nassl's table from OpenSSL curve ids to the curve names sslyze reports.
from nassl.ephemeral_key_info import _OPENSSL_NID_TO_SECG_ANSI_X9_62 as OPENSSL_NID_TO_CURVE_NAME

# The one handshake of three plugins' jobs, recognised in their job lists (runtime/plugin_jobs.py): the
# certificate chain with its OCSP staple, the TLS_FALLBACK_SCSV test, and the Extended Master Secret test
# (replaced there by one reading the ServerHello).
from sslyze.plugins.certificate_info._get_cert_chain import get_certificate_chain as certificate_chain_job
from sslyze.plugins.certificate_info.trust_stores.trust_store import TrustStore

# One handshake offering one elliptic curve (sslyze's curve enumeration, one step).
from sslyze.plugins.elliptic_curves_plugin import _test_curve as probe_curve
from sslyze.plugins.ems_extension_plugin import _test_ems as extended_master_secret_job
from sslyze.plugins.fallback_scsv_plugin import _test_scsv as fallback_scsv_job

# One handshake offering one cipher suite, and the cipher string setter it uses for a list of suites.
from sslyze.plugins.openssl_cipher_suites._test_cipher_suite import (
    _set_cipher_suite_string as set_cipher_suite_string,
)
from sslyze.plugins.openssl_cipher_suites._test_cipher_suite import connect_with_cipher_suite

# sslyze's ROBOT test module, whose payload sender `use_robot_payload_sender` replaces.
from sslyze.plugins.robot import _robot_tester

# ROBOT: the server's RSA parameters, the padding-oracle payloads (ClientKeyExchange and Finished records), and
# the analysis of the answers. The handshake that sends a payload is ours (vulnerabilities/robot_payload.py).
from sslyze.plugins.robot._robot_tester import (
    RobotPmsPaddingPayloadEnum,
    RobotServerResponsesAnalyzer,
)
from sslyze.plugins.robot._robot_tester import _get_rsa_parameters as get_rsa_parameters
from sslyze.plugins.robot._robot_tester import _RobotTlsRecordPayloads as RobotTlsRecordPayloads

# sslyze's own ROBOT handshake: the reference tests/test_robot_payload.py compares ours with on servers where it
# works, and what `use_robot_payload_sender` replaces inside sslyze's ROBOT plugin.
from sslyze.plugins.robot._robot_tester import _send_robot_payload as sslyze_send_robot_payload

# The secure-renegotiation job (recognised in a plugin's job list and answered by our shared handshake) and
# the kind of answer it returns.
from sslyze.plugins.session_renegotiation_plugin import _ScanJobResultEnum as RenegotiationJobResult
from sslyze.plugins.session_renegotiation_plugin import _test_secure_renegotiation as secure_renegotiation_job

# The steps of sslyze's connectivity test (check_connectivity_to_server), asked at once by
# runtime/connectivity.py: TLS 1.3's handshake, whether an ECDH key exchange is possible, and the answer a
# version's question gives. connectivity.py asks TLS 1.2's with a handshake of its own; sslyze's question for
# TLS 1.2 and older is the reference tests/test_connectivity_lab.py compares it with.
from sslyze.server_connectivity import _detect_ecdh_support as detect_ecdh_support
from sslyze.server_connectivity import _detect_support_for_tls_1_2_or_below as detect_tls_1_2_or_below
from sslyze.server_connectivity import _detect_support_for_tls_1_3 as detect_tls_1_3
from sslyze.server_connectivity import _TlsVersionDetectionResult as TlsVersionDetectionResult
from sslyze.server_connectivity import _TlsVersionNotSupported as TlsVersionNotSupported

__all__ = [
    "OPENSSL_NID_TO_CURVE_NAME",
    "OpenSSLError",
    "RenegotiationJobResult",
    "RobotPmsPaddingPayloadEnum",
    "RobotServerResponsesAnalyzer",
    "RobotTlsRecordPayloads",
    "TlsVersionDetectionResult",
    "TlsVersionNotSupported",
    "TrustStoreReadOnDemand",
    "WantReadError",
    "WantX509LookupError",
    "certificate_chain_job",
    "connect_with_cipher_suite",
    "detect_ecdh_support",
    "detect_tls_1_2_or_below",
    "detect_tls_1_3",
    "extended_master_secret_job",
    "fallback_scsv_job",
    "get_rsa_parameters",
    "probe_curve",
    "secure_renegotiation_job",
    "set_cipher_suite_string",
    "sslyze_send_robot_payload",
    "use_robot_payload_sender",
]


def use_robot_payload_sender(sender: Callable[..., str]) -> None:
    """Make sslyze's ROBOT plugin (sslyze's own Scanner, the engine's sslyze mode) send each payload with
    `sender`, which takes the arguments of sslyze's `_send_robot_payload` in the same order. Its test calls that
    module global for every payload, so the global is the one place to replace it."""
    _robot_tester._send_robot_payload = sender


class TrustStoreReadOnDemand(TrustStore):
    """sslyze's TrustStore whose root certificates are read from its file the first time a chain is verified
    against it, not when it is created.

    A scan result names every store its chain was checked against (Mozilla, Apple, Android, Java, Microsoft, the
    operator's CA file), and the process that reads the result gets them as it unpickles it. sslyze's own
    TrustStore parses its whole file (a few hundred certificates) when created: 45-75 ms for the five stores in
    a command-line scan on a 2 GHz core. A trusted chain never needs them again; only an untrusted one is
    verified once more (certificates/chain.py). sslyze keeps the parsed roots in `_x509_store`, a private
    attribute, which is why this lives here."""

    def __init__(self, path: Path, name: str, version: str, ev_oids: list[ObjectIdentifier] | None = None) -> None:
        # sslyze's __init__ is the eager read this class avoids; these are the attributes it sets besides.
        self.path = path
        self.name = name
        self.version = version
        self.ev_oids = ev_oids

    @functools.cached_property
    def _x509_store(self) -> Store:
        return Store(load_pem_x509_certificates(self.path.read_bytes()))
