"""The one error sorter (scanner/engine/runtime/error_reasons.py): OpenSSL's messages and sslyze's command
errors become reasons. The messages are the texts OpenSSL 1.1.1 (nassl's build) and Python's ssl module raise."""

from __future__ import annotations

import pytest
from nassl.ssl_client import ClientCertificateRequested
from sslyze import ScanCommandErrorReasonEnum, ServerNetworkConfiguration, ServerNetworkLocation
from sslyze.errors import ServerRejectedConnection, ServerRejectedTlsHandshake, TlsHandshakeTimedOut

from scanner.engine.runtime import error_reasons
from scanner.engine.runtime.error_reasons import (
    CERTIFICATE_TOO_LARGE,
    CLIENT_CERTIFICATE_ALERT,
    DH_KEY_TOO_SMALL,
    NO_SHARED_CIPHER,
    PROTOCOL_VERSION,
    RECORD_LAYER_FAILURE,
    UNEXPECTED_MESSAGE,
    WRONG_CURVE,
    WRONG_VERSION_NUMBER,
    command_error_reason,
    openssl_error_kinds,
    refusal_reason,
)

LOCATION = ServerNetworkLocation("lab.test", 443, ip_address="127.0.0.1")
NETWORK = ServerNetworkConfiguration(tls_server_name_indication="lab.test")


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("error:1409442E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version", PROTOCOL_VERSION),
        ("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)", WRONG_VERSION_NUMBER),
        ("[SSL: RECORD_LAYER_FAILURE] record layer failure (_ssl.c:1006)", RECORD_LAYER_FAILURE),
        ("error:14094410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure", NO_SHARED_CIPHER),
        ("error:141A318A:SSL routines:tls_process_ske_dhe:dh key too small", DH_KEY_TOO_SMALL),
        ("error:141A3108:SSL routines:tls_process_ske_ecdhe:wrong curve", WRONG_CURVE),
        ("error:14160100:SSL routines:ossl_statem_client_read_transition:unexpected message", UNEXPECTED_MESSAGE),
        ("error:14094412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate", CLIENT_CERTIFICATE_ALERT),
        ("error:14094416:SSL routines:ssl3_read_bytes:sslv3 alert certificate unknown", CLIENT_CERTIFICATE_ALERT),
        ("[SSL: EXCESSIVE_MESSAGE_SIZE] excessive message size (_ssl.c:1006)", CERTIFICATE_TOO_LARGE),
    ],
)
def test_openssl_message_is_sorted_into_its_kind(message, kind):
    assert kind in openssl_error_kinds(message)


def test_an_unknown_openssl_message_has_no_kind():
    assert openssl_error_kinds("error:0A000126:SSL routines::unexpected eof while reading") == []


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("tlsv1 alert protocol version", "no protocol version in common"),
        ("wrong version number", "no protocol version in common"),
        ("dh key too small", "the server's Diffie-Hellman key is too small for this client"),
        ("sslv3 alert handshake failure", "no cipher suite (or key exchange group) in common"),
        (
            "no ciphers available",
            "none of this client's cipher suites can be used with the protocol versions it offers",
        ),
        ("tlsv1 alert illegal parameter", "the server chose key exchange parameters this client did not offer"),
        ("tls_process_ske_ecdhe:wrong curve", "the server chose key exchange parameters this client did not offer"),
        ("sslv3 alert bad record mac", "the server refused the handshake (TLS alert or protocol error)"),
    ],
)
def test_a_refused_client_handshake_is_explained_in_words(message, words):
    assert refusal_reason(message) == words


def test_every_kind_of_openssl_error_appears_once_in_the_table():
    kinds = [error.kind for error in error_reasons.OPENSSL_ERRORS]
    assert len(kinds) == len(set(kinds))


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (ClientCertificateRequested([]), ScanCommandErrorReasonEnum.CLIENT_CERTIFICATE_NEEDED),
        (TlsHandshakeTimedOut(LOCATION, NETWORK, "timed out"), ScanCommandErrorReasonEnum.CONNECTIVITY_ISSUE),
        (ServerRejectedTlsHandshake(LOCATION, NETWORK, "alert"), ScanCommandErrorReasonEnum.CONNECTIVITY_ISSUE),
        (ValueError("unexpected"), ScanCommandErrorReasonEnum.BUG_IN_SSLYZE),
    ],
)
def test_a_command_error_is_sorted_as_sslyzes_scanner_sorts_it(exc, reason):
    assert command_error_reason(exc) == reason


def test_a_callers_own_not_measured_errors_are_connectivity_issues():
    refused = ServerRejectedConnection(LOCATION, NETWORK, "refused")
    assert command_error_reason(refused) == ScanCommandErrorReasonEnum.BUG_IN_SSLYZE
    assert command_error_reason(refused, (ServerRejectedConnection,)) == ScanCommandErrorReasonEnum.CONNECTIVITY_ISSUE
