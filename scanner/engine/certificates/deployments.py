"""A server's certificate deployments (RSA, ECDSA...), each with its own path analysis, revocation and trust
facts, and the words that explain why a chain is not trusted."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sslyze import ScanCommandAttemptStatusEnum

from scanner.engine.certificates import certificate as certificates
from scanner.engine.certificates import chain, trust
from scanner.engine.results import PROBE_ERROR, PROBE_OK, CertificateInfo, ProbeOutcome
from scanner.engine.runtime.error_reasons import attempt_reason

if TYPE_CHECKING:
    from sslyze import CertificateDeploymentAnalysisResult, CertificateInfoScanResult
    from sslyze.scanner.models import CertificateInfoScanAttempt

    from scanner.engine.certificates.revocation_fetch import Checker

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CertificateFindings:
    deployments: tuple[CertificateInfo, ...]
    probes: dict[str, ProbeOutcome]  # "certificate", and "chain_completion" when an AIA download failed
    problem: str | None  # why the certificate could not be analysed (the scan is then incomplete)


def certificate_findings(
    host: str,
    attempt: CertificateInfoScanAttempt,
    fetch_aia: chain.AiaFetcher | None,
    check_revocation: Checker | None = None,
) -> CertificateFindings:
    """sslyze's certificate test, read into our certificate facts per deployment."""
    if attempt.status == ScanCommandAttemptStatusEnum.COMPLETED and attempt.result.certificate_deployments:
        deployments, aia_problem = _deployments(host, attempt.result, fetch_aia, check_revocation)
        probes = {"certificate": ProbeOutcome(PROBE_OK)}
        if aia_problem is not None:
            probes["chain_completion"] = ProbeOutcome(PROBE_ERROR, aia_problem)
        return CertificateFindings(deployments, probes, None)
    reason = (
        attempt_reason(attempt)
        if attempt.status != ScanCommandAttemptStatusEnum.COMPLETED
        else "the server sent no certificate"
    )
    return CertificateFindings(
        (), {"certificate": ProbeOutcome(PROBE_ERROR, reason)}, f"the certificate could not be analysed: {reason}"
    )


def _deployments(
    host: str,
    result: CertificateInfoScanResult,
    fetch_aia: chain.AiaFetcher | None,
    check_revocation: Checker | None = None,
) -> tuple[tuple[CertificateInfo, ...], str | None]:
    """Every certificate the server has (RSA, ECDSA...), each with its own path analysis."""
    infos: list[CertificateInfo] = []
    aia_problem = None
    now = datetime.now(UTC)
    for deployment in result.certificate_deployments:
        received = list(deployment.received_certificate_chain)
        stores = [path_result.trust_store for path_result in deployment.path_validation_results]
        outcome = chain.analyse(received, stores, fetch_aia, sslyze_verified=deployment.verified_certificate_chain)
        if outcome.aia_error and outcome.missing_intermediate:
            aia_problem = aia_problem or outcome.aia_error
        raw = [
            (r.trust_store.name, r.validation_error)
            for r in deployment.path_validation_results
            if not r.was_validation_successful and deployment.verified_certificate_chain is None
        ]
        info = certificates.certificate_info(
            hostname=host,
            received=received,
            outcome=outcome,
            validation_error=None,
            detail_raw=_raw_text(raw, outcome.raw_errors),
            ocsp_stapled=deployment.ocsp_response is not None,
            now=now,
        )
        info = replace(
            info,
            validation_error=_explain(outcome, info, host),
            **trust.facts(outcome, deployment.ocsp_response, check_revocation, public_root=_public_root(deployment)),
        )
        infos.append(info)
    return tuple(infos), aia_problem


# sslyze's name for the trust store made of the operator's --ca-file (the others are browsers' stores).
_SUPPLIED_STORE = "Supplied CA file"


def _public_root(deployment: CertificateDeploymentAnalysisResult) -> bool:
    return any(
        result.was_validation_successful and result.trust_store.name != _SUPPLIED_STORE
        for result in deployment.path_validation_results
    )


def _raw_text(sslyze_errors: list[tuple[str, str]], path_errors: tuple[str, ...]) -> str | None:
    """The verifiers' own words, one line per distinct message with the stores that gave it (support only)."""
    by_message: dict[str, list[str]] = {}
    for store, message in sslyze_errors:
        by_message.setdefault(str(message), []).append(store)
    for line in path_errors:
        store, _, message = line.partition(": ")
        by_message.setdefault(message or store, []).append(store if message else "path check")
    lines = [f"{', '.join(dict.fromkeys(stores))}: {message}" for message, stores in by_message.items()]
    return "\n".join(lines)[:4000] or None


def _explain(outcome: chain.PathOutcome, info: CertificateInfo, host: str) -> str | None:
    """The validation result in a sentence a site owner understands (None when a browser accepts it)."""
    if not outcome.chain_trusted:
        return certificates.explain_untrusted(
            outcome.leaf, outcome.path_certificates, outcome.raw_errors, outcome.aia_error
        )
    if info.expired:
        return f"the certificate expired on {info.not_after:%Y-%m-%d}"
    if info.not_yet_valid:
        return f"the certificate is only valid from {info.not_before:%Y-%m-%d}"
    if not info.hostname_match:
        return f"the certificate is not issued for {host}"
    return None
