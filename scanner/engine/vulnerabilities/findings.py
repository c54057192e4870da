"""sslyze's vulnerability results (Heartbleed, ROBOT, CCS injection, renegotiation, compression, fallback
SCSV, extended master secret), read into our types; a test that did not run reads as unknown (None)."""

from __future__ import annotations

from typing import Any

from scanner.engine.results import Vulnerabilities

# sslyze's RobotScanResultEnum values, in words (the enum names never reach a report).
_ROBOT_WORDS = {
    "VULNERABLE_WEAK_ORACLE": "a weak oracle: exploitable, but it needs many connections",
    "VULNERABLE_STRONG_ORACLE": "a strong oracle: quickly exploitable",
    "NOT_VULNERABLE_NO_ORACLE": "no oracle found",
    "NOT_VULNERABLE_RSA_NOT_SUPPORTED": "the server accepts no RSA key exchange",
    "UNKNOWN_INCONSISTENT_RESULTS": "the server's answers were inconsistent, so the result is unknown",
}


def vulnerabilities(results: dict[str, Any]) -> Vulnerabilities:
    """`results`: each optional probe's sslyze result by probe name, None when it did not complete."""
    heartbleed = results["heartbleed"]
    robot = results["robot"]
    ccs = results["ccs_injection"]
    reneg = results["renegotiation"]
    compression = results["compression"]
    fallback = results["fallback_scsv"]
    robot_name = robot.robot_result.name if robot else None
    return Vulnerabilities(
        heartbleed=heartbleed.is_vulnerable_to_heartbleed if heartbleed else None,
        robot=robot_name.startswith("VULNERABLE") if robot_name else None,
        robot_detail=_ROBOT_WORDS.get(robot_name, "see the ROBOT test result") if robot_name else None,
        ccs_injection=ccs.is_vulnerable_to_ccs_injection if ccs else None,
        insecure_renegotiation=(not reneg.supports_secure_renegotiation) if reneg else None,
        client_renegotiation_dos=reneg.is_vulnerable_to_client_renegotiation_dos if reneg else None,
        compression=compression.supports_compression if compression else None,
        fallback_scsv=fallback.supports_fallback_scsv if fallback else None,
    )


def extended_master_secret(results: dict[str, Any]) -> bool | None:
    ems = results["extended_master_secret"]
    return ems.supports_ems_extension if ems else None
