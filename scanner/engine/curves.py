"""Elliptic curves the server accepts: every curve offered, the one the server used removed, offered again."""

from __future__ import annotations

import logging

from nassl.ephemeral_key_info import EcDhEphemeralKeyInfo, OpenSslEcNidEnum
from nassl.ssl_client import ClientCertificateRequested
from sslyze.errors import (
    ConnectionToServerTimedOut,
    ServerRejectedConnection,
    ServerRejectedTlsHandshake,
    TlsHandshakeTimedOut,
)
from sslyze.plugins.elliptic_curves_plugin import EllipticCurve, SupportedEllipticCurvesScanResult
from sslyze.server_connectivity import (
    ServerConnectivityInfo,
    enable_ecdh_cipher_suites,
)

from scanner.engine.runtime.error_reasons import UNEXPECTED_MESSAGE, WRONG_CURVE, openssl_error_kinds
from scanner.engine.runtime.resets import is_reset, retried
from scanner.engine.runtime.short_handshake import stop_at_server_key_exchange
from scanner.engine.runtime.sslyze_compat import OPENSSL_NID_TO_CURVE_NAME, OpenSSLError, probe_curve

logger = logging.getLogger(__name__)

from scanner.engine.protocols.suite_offers import Budget, BudgetExhausted, Inconsistent


def _curves_or_error(
    info: ServerConnectivityInfo, budget: Budget, confirm: bool = True
) -> SupportedEllipticCurvesScanResult | Exception:
    try:
        return enumerate_curves(info, budget=budget, confirm=confirm)
    except (BudgetExhausted, ServerRejectedConnection, OSError, OpenSSLError) as exc:
        return exc


def _curves_one_by_one_or_error(
    info: ServerConnectivityInfo, budget: Budget
) -> SupportedEllipticCurvesScanResult | Exception:
    try:
        return _curves_one_by_one(info, budget)
    except (BudgetExhausted, ServerRejectedConnection, OSError, OpenSSLError) as exc:
        return exc


def _curve(nid: OpenSslEcNidEnum) -> EllipticCurve:
    name = OPENSSL_NID_TO_CURVE_NAME.get(nid, f"unknown-curve-with-openssl-id-{nid.value}")
    return EllipticCurve(name=name, openssl_nid=nid.value)


def _offer_curves(
    info: ServerConnectivityInfo, offered: list[OpenSslEcNidEnum], budget: Budget
) -> OpenSslEcNidEnum | None:
    try:
        return retried(lambda: _offer_curves_once(info, offered, budget))
    except ServerRejectedTlsHandshake:  # reset on every try: the server refuses by resetting
        return None


def _offer_curves_once(
    info: ServerConnectivityInfo, offered: list[OpenSslEcNidEnum], budget: Budget
) -> OpenSslEcNidEnum | None:
    budget.take()
    version = info.tls_probing_result.highest_tls_version_supported
    connection = info.get_preconfigured_tls_connection(override_tls_version=version, should_use_legacy_openssl=False)
    enable_ecdh_cipher_suites(version, connection.ssl_client)
    connection.ssl_client.set_groups(offered)
    stop_at_server_key_exchange(connection, version, info)
    key = None
    try:
        connection.connect()
        key = connection.ssl_client.get_ephemeral_key()
    except ClientCertificateRequested:
        key = connection.ssl_client.get_ephemeral_key()
    except ServerRejectedTlsHandshake as exc:
        if is_reset(exc):
            raise  # for _offer_curves to try again
        return None
    except (TlsHandshakeTimedOut, ConnectionToServerTimedOut) as exc:
        raise Inconsistent(f"a handshake timed out ({exc.error_message})") from None
    except OpenSSLError as exc:
        # What sslyze's own curve test counts as "this curve is refused" (servers answering oddly).
        if {UNEXPECTED_MESSAGE, WRONG_CURVE} & set(openssl_error_kinds(exc.args[0])):
            return None
        raise
    finally:
        connection.close()
    if not isinstance(key, EcDhEphemeralKeyInfo):
        return None
    if key.curve not in offered:
        raise Inconsistent(f"the server used curve {key.curve}, which was not offered")
    return OpenSslEcNidEnum(key.curve)


def _curves_one_by_one(info: ServerConnectivityInfo, budget: Budget) -> SupportedEllipticCurvesScanResult:
    results = []
    for nid in OpenSslEcNidEnum.get_supported_by_ssl_client():
        budget.take()
        results.append(retried(lambda nid=nid: probe_curve(info, nid)))
    return SupportedEllipticCurvesScanResult(
        supports_ecdh_key_exchange=True,
        supported_curves=[r.curve for r in results if r.was_accepted_by_server],
        rejected_curves=[r.curve for r in results if not r.was_accepted_by_server],
    )


def enumerate_curves(
    info: ServerConnectivityInfo, *, budget: Budget | None = None, confirm: bool = True
) -> SupportedEllipticCurvesScanResult:
    """`confirm=False` leaves the closing re-check to the caller (enumerate_all confirms once for everything)."""
    budget = budget or Budget()
    if not info.tls_probing_result.supports_ecdh_key_exchange:
        return SupportedEllipticCurvesScanResult(
            supports_ecdh_key_exchange=False, supported_curves=None, rejected_curves=None
        )
    candidates = list(OpenSslEcNidEnum.get_supported_by_ssl_client())
    remaining = list(candidates)
    accepted: list[OpenSslEcNidEnum] = []
    try:
        while remaining:
            chosen = _offer_curves(info, remaining, budget)
            if chosen is None:
                break
            accepted.append(chosen)
            remaining.remove(chosen)
        if confirm and accepted and _offer_curves(info, [accepted[0]], budget) is None:
            raise Inconsistent(f"the server refused curve {accepted[0].name} alone after using it")
    except Inconsistent as exc:
        logger.info(
            "%s: adaptive curve enumeration fell back to one curve per handshake: %s",
            info.server_location.hostname,
            exc,
        )
        return _curves_one_by_one(info, budget)
    return SupportedEllipticCurvesScanResult(
        supports_ecdh_key_exchange=True,
        supported_curves=[_curve(nid) for nid in accepted],
        rejected_curves=[_curve(nid) for nid in candidates if nid not in accepted],
    )


def supported_curve_names(result: SupportedEllipticCurvesScanResult | None) -> tuple[str, ...]:
    """The curves the server accepts, by name; () when the test did not run or found none."""
    return tuple(curve.name for curve in result.supported_curves) if result and result.supported_curves else ()
