"""ROBOT (the Bleichenbacher oracle), with sslyze's payloads and analysis and our own reading of the server's
handshake (robot_payload.py), run only when an RSA key-exchange suite was accepted and stopped as soon as the
answer is certain."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sslyze import RobotScanResultEnum
from sslyze.plugins.robot.implementation import RobotScanResult
from sslyze.server_connectivity import (
    ServerConnectivityInfo,
    TlsVersionEnum,
)

from scanner.engine.runtime.resets import retried
from scanner.engine.runtime.short_handshake import FirstFlightConnectivity
from scanner.engine.runtime.sslyze_compat import (
    RobotPmsPaddingPayloadEnum,
    RobotServerResponsesAnalyzer,
    get_rsa_parameters,
)
from scanner.engine.vulnerabilities.robot_payload import send_robot_payload

logger = logging.getLogger(__name__)

from scanner.engine.protocols.suite_offers import Budget

_ROBOT_GCM = "AES128-GCM-SHA256:AES256-GCM-SHA384"  # what sslyze tries first with TLS 1.2
_ROBOT_ATTEMPTS = 3  # sslyze's: an oracle must show the same answers three times


def _one_after_another(function: Callable, items: list) -> list:
    return [function(item) for item in items]


def _robot(
    info: ServerConnectivityInfo,
    version: TlsVersionEnum,
    budget: Budget,
    run_all: Callable[[Callable, list], list] = _one_after_another,
) -> RobotScanResult:
    """sslyze's ROBOT test (same cipher strings, payloads and analysis), one attempt at a time.

    sslyze always makes three attempts and calls differing answers "inconsistent"; a first attempt whose five
    payloads all got the same answer shows no oracle, so the other two (ten more connections) are only made
    when the first one saw an oracle and it must be confirmed.
    """
    rsa = None
    cipher_string = "RSA"
    # The server's RSA key is in its Certificate message: that handshake ends at the server's first flight.
    certificate_only = FirstFlightConnectivity.of(info)
    if version == TlsVersionEnum.TLS_1_2:
        budget.take()
        rsa = retried(lambda: get_rsa_parameters(certificate_only, version, _ROBOT_GCM))
        cipher_string = _ROBOT_GCM
    if rsa is None:
        cipher_string = "RSA"
        budget.take()
        rsa = retried(lambda: get_rsa_parameters(certificate_only, version, cipher_string))
    if rsa is None:
        return RobotScanResult(robot_result=RobotScanResultEnum.NOT_VULNERABLE_RSA_NOT_SUPPORTED)
    responses: dict[RobotPmsPaddingPayloadEnum, list[str]] = {payload: [] for payload in RobotPmsPaddingPayloadEnum}

    def send(payload: RobotPmsPaddingPayloadEnum) -> str:
        budget.take()
        return send_robot_payload(info, version, cipher_string, payload, True, rsa.n, rsa.e)

    for attempt in range(_ROBOT_ATTEMPTS):
        # The five payloads of one attempt are independent connections (sslyze makes them separate jobs too).
        for payload, answer in zip(
            RobotPmsPaddingPayloadEnum, run_all(send, list(RobotPmsPaddingPayloadEnum)), strict=True
        ):
            responses[payload].append(answer)
        if attempt == 0:
            first = RobotServerResponsesAnalyzer(responses, 1).compute_result_enum()
            if first == RobotScanResultEnum.NOT_VULNERABLE_NO_ORACLE:
                return RobotScanResult(robot_result=first)
    return RobotScanResult(robot_result=RobotServerResponsesAnalyzer(responses, _ROBOT_ATTEMPTS).compute_result_enum())


def _robot_or_error(
    info: ServerConnectivityInfo,
    version: TlsVersionEnum,
    budget: Budget,
    run_all: Callable[[Callable, list], list] = _one_after_another,
) -> RobotScanResult | Exception:
    try:
        return _robot(info, version, budget, run_all)
    except Exception as exc:  # noqa: BLE001 - becomes the command's error, sorted as sslyze sorts it
        return exc
