"""The one place errors are sorted into reasons: OpenSSL's messages, sslyze's command errors, in words.

OpenSSL tells what went wrong only in the text of its error ("...:wrong version number", "...:sslv3 alert
handshake failure"). `OPENSSL_ERRORS` is the one table of those texts: each kind, the fragments that mark it, and
what it means for a client's handshake in words (the handshake simulation shows these). Each probe asks
`openssl_error_kinds` which kinds a message carries and decides what that means for its own question (a curve
refused, a client certificate wanted, a server that does not speak TLS).

sslyze's own exceptions are sorted here too: into sslyze's `ScanCommandErrorReasonEnum` (as sslyze's Scanner
sorts them, so a result we build reads like one it built), and from there into words for a site owner; sslyze's
exception and enum names never reach a report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nassl.ssl_client import ClientCertificateRequested
from sslyze import ScanCommandErrorReasonEnum
from sslyze.errors import ConnectionToServerTimedOut, ServerRejectedTlsHandshake, TlsHandshakeTimedOut

if TYPE_CHECKING:
    from traceback import TracebackException

    from sslyze import ScanCommandAttempt

# Kinds of OpenSSL error.
WRONG_VERSION_NUMBER = "wrong_version_number"  # the answer is not a TLS record of a version we offered
PROTOCOL_VERSION = "protocol_version"  # no protocol version in common
DH_KEY_TOO_SMALL = "dh_key_too_small"
NO_SHARED_CIPHER = "no_shared_cipher"
NO_CIPHERS_AVAILABLE = "no_ciphers_available"  # our own list is empty for the versions offered
WRONG_CURVE = "wrong_curve"  # the server used a curve we did not offer
ILLEGAL_PARAMETER = "illegal_parameter"  # a key exchange parameter the client did not accept
RECORD_LAYER_FAILURE = "record_layer_failure"
UNEXPECTED_MESSAGE = "unexpected_message"
CLIENT_CERTIFICATE_ALERT = "client_certificate_alert"  # the server's alert when it wanted a client certificate
CERTIFICATE_TOO_LARGE = "certificate_too_large"


@dataclass(frozen=True)
class OpenSslError:
    kind: str
    marks: tuple[str, ...]  # lower-case fragments of OpenSSL's message
    refusal: str | None = None  # what it means when a client's handshake ends with it


_OTHER_PARAMETERS = "the server chose key exchange parameters this client did not offer"
# In order: when a message carries several kinds, the first with words explains a refused handshake.
OPENSSL_ERRORS: tuple[OpenSslError, ...] = (
    OpenSslError(WRONG_VERSION_NUMBER, ("wrong version number",), "no protocol version in common"),
    OpenSslError(
        PROTOCOL_VERSION, ("protocol version", "unsupported protocol", "wrong version"), "no protocol version in common"
    ),
    OpenSslError(
        DH_KEY_TOO_SMALL, ("dh key too small",), "the server's Diffie-Hellman key is too small for this client"
    ),
    OpenSslError(
        NO_SHARED_CIPHER,
        ("handshake failure", "no shared cipher", "insufficient security"),
        "no cipher suite (or key exchange group) in common",
    ),
    OpenSslError(
        NO_CIPHERS_AVAILABLE,
        ("no ciphers available",),
        "none of this client's cipher suites can be used with the protocol versions it offers",
    ),
    OpenSslError(WRONG_CURVE, ("wrong curve",), _OTHER_PARAMETERS),
    OpenSslError(ILLEGAL_PARAMETER, ("illegal parameter", "bad ecpoint"), _OTHER_PARAMETERS),
    OpenSslError(RECORD_LAYER_FAILURE, ("record layer failure",)),
    OpenSslError(UNEXPECTED_MESSAGE, ("unexpected message",)),
    OpenSslError(CLIENT_CERTIFICATE_ALERT, ("alert bad certificate", "sslv3 alert certificate unknown")),
    OpenSslError(CERTIFICATE_TOO_LARGE, ("excessive message size",)),
)
REFUSED_OTHERWISE = "the server refused the handshake (TLS alert or protocol error)"


def openssl_error_kinds(message: object) -> list[str]:
    """Every kind in OpenSSL's error `message` (an OpenSSLError's text or the exception itself), in table order."""
    text = str(message).lower()
    return [error.kind for error in OPENSSL_ERRORS if any(mark in text for mark in error.marks)]


def refusal_reason(message: object) -> str:
    """Why a client's handshake failed with this OpenSSL error, in words."""
    kinds = openssl_error_kinds(message)
    for error in OPENSSL_ERRORS:
        if error.kind in kinds and error.refusal is not None:
            return error.refusal
    return REFUSED_OTHERWISE


def command_error_reason(
    exc: BaseException, connectivity: Iterable[type[BaseException]] = ()
) -> ScanCommandErrorReasonEnum:
    """A failed scan command's exception as sslyze's Scanner sorts it; `connectivity` adds the caller's own
    "not measured" exceptions (a spent connection budget, a refused connection)."""
    if isinstance(exc, ClientCertificateRequested):
        return ScanCommandErrorReasonEnum.CLIENT_CERTIFICATE_NEEDED
    if isinstance(exc, (ConnectionToServerTimedOut, TlsHandshakeTimedOut, ServerRejectedTlsHandshake, *connectivity)):
        return ScanCommandErrorReasonEnum.CONNECTIVITY_ISSUE
    return ScanCommandErrorReasonEnum.BUG_IN_SSLYZE


# OpenSSL's text for an alert the server sent ("...:tlsv1 alert access denied"); a test that stops on one it
# has no meaning for ends as an sslyze error.
_UNEXPECTED_ALERT = re.compile(r"(?:sslv3|tlsv1) alert ([a-z ]+[a-z])")


def attempt_reason(attempt: ScanCommandAttempt) -> str:
    """Why an sslyze command did not complete, for a site owner (never the enum name)."""
    reason = getattr(attempt.error_reason, "value", attempt.error_reason)
    trace = str(getattr(attempt, "error_trace", "") or "")
    if reason == "CLIENT_CERTIFICATE_NEEDED":
        return "the server asked for a client certificate during this test, and the scanner has none to send"
    if reason == "CONNECTIVITY_ISSUE":
        if "timed out" in trace.lower():
            return "the server stopped answering (timeout) during this test"
        return (
            "the test could not complete a handshake with the server: it needs cipher suites or protocol "
            "features the server does not accept"
        )
    if reason == "BUG_IN_SSLYZE":
        if "valid TlsHandshakeTypeByte" in trace or "TlsRecord" in trace:
            return (
                "the test could not parse the server's handshake (its certificate message is split over "
                "several TLS records), so it gave no answer"
            )
        if alert := _UNEXPECTED_ALERT.search(trace):
            return (
                f"the server answered this test's handshake with a TLS alert the test cannot interpret "
                f"({alert.group(1)}), so it gave no answer"
            )
        return "the test ended with an internal error on this server's answers, so it gave no answer"
    return "the test could not be run"


def connectivity_reason(ip: str, port: int, trace: TracebackException | None) -> str:
    """sslyze's connectivity errors, in words; its exception names never reach a report."""
    exc_type = getattr(getattr(trace, "exc_type", None), "__name__", "") or str(getattr(trace, "exc_type", ""))
    if "TlsConfigurationNotSupported" in exc_type:
        return (
            f"no TLS handshake with {ip}:{port} succeeded: the scanner tried every protocol version from "
            "SSL 2.0 to TLS 1.3 with its full cipher suite list and the server refused them all"
        )
    if "RejectedConnection" in exc_type:
        return f"{ip}:{port} refused the connection during the TLS tests"
    if "TimedOut" in exc_type or "Timeout" in exc_type:
        return f"{ip}:{port} stopped answering during the TLS connectivity test (timeout)"
    return f"the TLS connectivity test against {ip}:{port} failed"
