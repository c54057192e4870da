"""The adaptive enumeration's outcomes in sslyze's terms: the ScanCommandAttempts injected into the scan's
ServerScanResult, and the accepted suites per protocol for the handshake simulation."""

from __future__ import annotations

import logging
from traceback import TracebackException
from typing import TypeVar

from sslyze import ScanCommand, ScanCommandAttemptStatusEnum
from sslyze.errors import ServerRejectedConnection
from sslyze.plugins.openssl_cipher_suites.implementation import CipherSuitesScanResult
from sslyze.scanner.models import (
    CipherSuitesScanAttempt,
    RobotScanAttempt,
    ScanCommandAttempt,
    SupportedEllipticCurvesScanAttempt,
)
from sslyze.server_connectivity import TlsVersionEnum

from scanner.engine.protocols.suite_offers import BudgetExhausted, Inconsistent
from scanner.engine.protocols.versions import PROTOCOL_NAMES, VERSIONS
from scanner.engine.runtime.error_reasons import command_error_reason

logger = logging.getLogger("scanner.engine.protocols.adaptive")  # the enumeration's log, as before


def attempts_for(outcomes: dict) -> dict[str, object]:
    """The enumeration's outcomes as sslyze's ScanCommandAttempts, by command name (AllScanCommandsAttempts)."""
    attempts: dict[str, object] = {}
    for key, outcome in outcomes.items():
        if key == "curves":
            attempts[ScanCommand.ELLIPTIC_CURVES.value] = _attempt(
                SupportedEllipticCurvesScanAttempt, outcome, "curves"
            )
        elif key == "robot":
            attempts[ScanCommand.ROBOT.value] = _attempt(RobotScanAttempt, outcome, "ROBOT")
        else:
            attempts[VERSIONS[key].value] = _attempt(CipherSuitesScanAttempt, outcome, key.name)
    return attempts


def accepted_suites(outcomes: dict) -> dict[str, list[str]]:
    """Our protocol name -> the IANA names of the suites the server accepted, for what measured cleanly."""
    return {
        PROTOCOL_NAMES[version]: [item.cipher_suite.name for item in outcome.accepted_cipher_suites]
        for version, outcome in outcomes.items()
        if isinstance(version, TlsVersionEnum)
        and isinstance(outcome, CipherSuitesScanResult)
        and outcome.accepted_cipher_suites
    }


_Attempt = TypeVar("_Attempt", bound=ScanCommandAttempt)


def _attempt(attempt_class: type[_Attempt], outcome: object, what: str) -> _Attempt:
    if isinstance(outcome, Exception):
        logger.warning("adaptive enumeration of %s failed: %s", what, outcome)
        return attempt_class(
            status=ScanCommandAttemptStatusEnum.ERROR,
            error_reason=command_error_reason(outcome, _NOT_MEASURED),
            error_trace=TracebackException.from_exception(outcome),
            result=None,
        )
    return attempt_class(
        status=ScanCommandAttemptStatusEnum.COMPLETED, error_reason=None, error_trace=None, result=outcome
    )


# Besides sslyze's own: a used-up budget, an inconsistent server and a refused connection all mean "not
# measured"; the engine reports it as such.
_NOT_MEASURED = (BudgetExhausted, Inconsistent, ServerRejectedConnection, OSError)
