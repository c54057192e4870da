"""Alerts about a site after each finished scan, and their delivery by signed webhook and email.

Each condition carries a state key (the expiring certificate's fingerprint, the grade drop, the outage's
start); Alert's unique (site, kind, state_key) makes a condition alert once until its state changes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from scanner import config, outbound
from scanner.models import Alert, Scan, WebhookEndpoint
from scanner.netpolicy import TargetRefused

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Scanner-Signature"
WEBHOOK_TIMEOUT_S = 10  # the whole delivery: connect, send, and read the reply
WEBHOOK_REPLY_CAP = 64 * 1024  # receivers' replies are not used; reading more only costs memory


class WebhookServerError(Exception):
    """The receiver answered 5xx: worth retrying, unlike a 4xx."""


class WebhookRefused(Exception):
    """An endpoint's address is outside the network policy: retrying cannot help."""


class WebhookUnreachable(Exception):
    """The receiver could not be reached, timed out or answered something that is not HTTP: worth retrying."""


class WebhookRejected(Exception):
    """The receiver answered 4xx: it refuses the delivery, so it is not retried."""


# --- Evaluating ------------------------------------------------------------


def _previous_finished(scan: Scan) -> Scan | None:
    return (
        Scan.objects.filter(site_id=scan.site_id, status__in=[Scan.Status.DONE, Scan.Status.FAILED])
        .exclude(pk=scan.pk)
        .order_by("-finished_at", "-id")
        .first()
    )


def expiry_window_days(site) -> int:
    """The widest window among the site's portfolios: whoever asked to hear earliest is told."""
    windows = [days for days in site.portfolios.values_list("alert_expiry_days", flat=True) if days is not None]
    return max(windows, default=settings.SCANNER_ALERT_EXPIRY_DAYS)


def _expiring_certificate(scan: Scan) -> tuple[str, str] | None:
    certificate = (scan.result or {}).get("certificate") if scan.status == Scan.Status.DONE else None
    if not certificate or certificate.get("days_to_expiry") is None:
        return None
    days = certificate["days_to_expiry"]
    if days > expiry_window_days(scan.site):
        return None
    when = "has expired" if days < 0 else f"expires in {days} day{'s' if days != 1 else ''}"
    return certificate["sha256_fingerprint"], f"The certificate of {scan.site} {when}."


def _grade_drop(scan: Scan) -> tuple[str, str] | None:
    changes = scan.changes or {}
    if scan.status != Scan.Status.DONE or changes.get("direction") != "down":
        return None
    before, after = changes["grade_before"], changes["grade_after"]
    # The previous done scan is part of the key: a later drop between the same grades is a new event.
    key = f"{before}->{after}@{changes.get('previous_scan_id')}"
    return key, f"The grade of {scan.site} dropped from {before} to {after}."


def _unreachable(scan: Scan) -> tuple[str, str] | None:
    if scan.status != Scan.Status.FAILED:
        return None
    previous = _previous_finished(scan)
    if previous is None or previous.status != Scan.Status.FAILED:
        return None
    # One outage = the failures since the last good scan.
    key = f"since-scan-{scan.site.latest_scan_id or 0}"
    return key, f"{scan.site} could not be scanned twice in a row: {scan.error}"[:2000]


CONDITIONS = (
    (Alert.Kind.CERT_EXPIRING, _expiring_certificate),
    (Alert.Kind.GRADE_DROPPED, _grade_drop),
    (Alert.Kind.UNREACHABLE, _unreachable),
)


def evaluate_alerts(scan: Scan) -> list[Alert]:
    """Create the alerts `scan` raises that were not raised before, and queue their delivery after commit."""
    raised = []
    for kind, condition in CONDITIONS:
        found = condition(scan)
        if found is None:
            continue
        state_key, message = found
        alert, created = Alert.objects.get_or_create(
            site=scan.site, kind=kind, state_key=state_key[:128], defaults={"message": message, "scan": scan}
        )
        if created:
            raised.append(alert)
            transaction.on_commit(lambda alert_id=alert.pk: _enqueue_delivery(alert_id))
    return raised


def _enqueue_delivery(alert_id: int) -> None:
    from scanner.tasks import deliver_alert

    try:
        deliver_alert.delay(alert_id)
    except Exception:  # broker down: the alert stays undelivered (visible in its row) rather than failing a scan
        logger.exception("could not queue delivery of alert %s", alert_id)


# --- Delivering ------------------------------------------------------------


def alert_payload(alert: Alert) -> dict:
    return {
        "alert_id": alert.pk,
        "kind": alert.kind,
        "message": alert.message,
        "created_at": alert.created_at.isoformat(),
        "site": {"id": alert.site_id, "host": alert.site.hostname, "https_port": alert.site.https_port},
        "scan_id": alert.scan_id,
    }


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(endpoint: WebhookEndpoint, body: bytes) -> None:
    """POST `body` through the outbound client: the host is resolved once, checked by the network policy and
    connected to at that address (no DNS rebinding), within one deadline and a capped reply.

    Raises WebhookRefused (policy: not retried), WebhookUnreachable or WebhookServerError on 5xx (retried),
    WebhookRejected on 4xx (the receiver refuses: not retried)."""
    try:
        response = outbound.request(
            "POST",
            endpoint.url,
            policy=config.network_policy(),
            limits=outbound.Limits(deadline=WEBHOOK_TIMEOUT_S, max_body=WEBHOOK_REPLY_CAP),
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, endpoint.secret)},
            content=body,
        )
    except outbound.OutboundRefused as exc:
        raise WebhookRefused(f"{endpoint.url}: {exc}") from None
    except outbound.OutboundError as exc:
        raise WebhookUnreachable(f"{endpoint.url}: {exc}") from None
    if response.status >= 500:
        raise WebhookServerError(f"{endpoint.url} answered {response.status}")
    if response.status >= 400:
        raise WebhookRejected(f"{endpoint.url} answered {response.status}")


def email_alert(alert: Alert) -> None:
    address = alert.site.owner.email
    if address:
        send_mail(f"[scanner] {alert.get_kind_display()}: {alert.site}", alert.message, None, [address])


def check_webhook_target(endpoint: WebhookEndpoint) -> None:
    """Raise WebhookRefused unless the endpoint's host passes the same network policy as scan targets.

    Checked at delivery, not only when saved: a hostname can be re-pointed at an internal address later.
    """
    host = httpx.URL(endpoint.url).host
    try:
        config.network_policy().resolve(host)
    except (TargetRefused, ValueError) as exc:
        raise WebhookRefused(f"{endpoint.url}: {exc}") from None


def deliver_webhooks(alert: Alert) -> None:
    """POST the alert to each of the owner's endpoints. Refused endpoints are skipped so the others still
    receive it, then reported together as WebhookRefused."""
    body = json.dumps(alert_payload(alert), sort_keys=True).encode()
    refusals = []
    for endpoint in WebhookEndpoint.objects.filter(owner_id=alert.site.owner_id, active=True):
        try:
            post_webhook(endpoint, body)  # the policy is checked there, on the address actually connected to
        except WebhookRefused as exc:
            refusals.append(str(exc))
    if refusals:
        raise WebhookRefused("; ".join(refusals))


def mark_delivered(alert: Alert) -> None:
    alert.delivered_at = timezone.now()
    alert.delivery_error = ""
    alert.save(update_fields=["delivered_at", "delivery_error"])


def mark_failed(alert: Alert, error: Exception) -> None:
    alert.delivery_error = f"{type(error).__name__}: {error}"[:2000]
    alert.save(update_fields=["delivery_error"])


def mark_refused(alert: Alert, error: WebhookRefused) -> None:
    alert.delivery_error = f"refused: {error}"[:2000]
    alert.save(update_fields=["delivery_error"])
