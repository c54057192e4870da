"""Session resumption (session IDs and tickets), as sslyze's session resumption plugin measures it, in our words.

sslyze makes a few full handshakes, each followed by an attempt to resume it: with the session ID the server
gave (RFC 5246 §7.3) and with the session ticket it gave (RFC 5077). Neither mechanism exists in TLS 1.3 (its
resumption uses pre-shared keys, RFC 8446 §2.2), so a TLS 1.3-only server is reported as such, not as "no".
"""

from __future__ import annotations

from sslyze import SessionResumptionSupportExtraArgument, SessionResumptionSupportScanResult, TlsResumptionSupportEnum

from scanner.engine.results import SessionResumption

# Two resumptions per mechanism: enough to tell "yes" from "partly" (a farm of servers without a shared cache
# resumes some attempts only) at 8 connections instead of sslyze's default 20.
RESUMPTION_ATTEMPTS = SessionResumptionSupportExtraArgument(number_of_resumptions_to_attempt=2)

_WORDS = {
    TlsResumptionSupportEnum.FULLY_SUPPORTED: "yes",
    TlsResumptionSupportEnum.PARTIALLY_SUPPORTED: "partly",
    TlsResumptionSupportEnum.NOT_SUPPORTED: "no",
    TlsResumptionSupportEnum.SERVER_IS_TLS_1_3_ONLY: "tls1.3_only",
}


def session_resumption(result: SessionResumptionSupportScanResult | None) -> SessionResumption | None:
    """sslyze's SessionResumptionSupportScanResult as ours; None when the test did not complete."""
    if result is None:
        return None
    return SessionResumption(
        session_ids=_WORDS[result.session_id_resumption_result],
        session_ids_resumed=result.session_id_successful_resumptions_count,
        session_ids_attempted=result.session_id_attempted_resumptions_count,
        tickets=_WORDS[result.tls_ticket_resumption_result],
        tickets_resumed=result.tls_ticket_successful_resumptions_count,
        tickets_attempted=result.tls_ticket_attempted_resumptions_count,
    )
