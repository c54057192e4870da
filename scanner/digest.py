"""The weekly digest of a portfolio, by e-mail to the channels that opted in (Channel.weekly_digest).

Alerts say what just happened; the digest says where the portfolio stands: what changed in the last 7 days
(its alerts, with their reasons), which certificates expire within 30 days (or already have), and which
sites fail (graded F, T or M, or their last scan failed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from scanner import config
from scanner.expiry import whole_days_until
from scanner.models import Alert, Channel, Portfolio, Scan, Site

from .notifications import email
from .notifications.base import DeliveryError, Message

logger = logging.getLogger(__name__)

CHANGES_DAYS = 7
EXPIRY_WINDOW_DAYS = 30
FAILING_GRADES = ("F", "T", "M")


@dataclass(frozen=True)
class DigestLine:
    host: str
    text: str


@dataclass(frozen=True)
class Digest:
    portfolio: str
    url: str  # the portfolio's page, absolute (SCANNER_PUBLIC_URL)
    changed: tuple[DigestLine, ...]
    expiring: tuple[DigestLine, ...]
    failing: tuple[DigestLine, ...]

    def text(self) -> str:
        sections = [
            (f"What changed in the last {CHANGES_DAYS} days", self.changed, "Nothing changed."),
            (f"Certificates expiring within {EXPIRY_WINDOW_DAYS} days", self.expiring, "None."),
            ("Failing sites", self.failing, "None: every site is graded and above F."),
        ]
        parts = []
        for heading, lines, empty in sections:
            body = "\n".join(f"- {line.host}: {line.text}" for line in lines) or empty
            parts.append(f"{heading} ({len(lines)})\n{body}")
        return "\n\n".join(parts)


def portfolio_digest(portfolio: Portfolio, *, now: datetime | None = None) -> Digest:
    now = now or timezone.now()
    sites = Site.objects.filter(portfolios=portfolio)
    alerts = (
        Alert.objects.filter(site__in=sites, created_at__gte=now - timedelta(days=CHANGES_DAYS))
        .select_related("site")
        .order_by("created_at", "id")
    )
    changed = tuple(DigestLine(str(alert.site), f"{alert.get_kind_display()}: {alert.message}") for alert in alerts)
    expiring_sites = sites.filter(cert_not_after__lte=now + timedelta(days=EXPIRY_WINDOW_DAYS)).order_by(
        "cert_not_after", "hostname"
    )
    expiring = tuple(DigestLine(str(site), _expiry_words(site.cert_not_after, now)) for site in expiring_sites)
    failing = []
    for site in sites.select_related("last_scan").order_by("hostname"):
        if site.last_scan is not None and site.last_scan.status == Scan.Status.FAILED:
            reason = site.last_scan.error or "no reason recorded"
            since = f" (last good grade {site.grade})" if site.grade else ""
            failing.append(DigestLine(str(site), f"unreachable: the last scan failed: {reason}{since}"))
        elif site.grade in FAILING_GRADES:
            failing.append(DigestLine(str(site), f"graded {site.grade}"))
    base = config.public_url()
    return Digest(
        portfolio=portfolio.name,
        url=f"{base}{reverse('dashboard:portfolio', args=[portfolio.pk])}" if base else "",
        changed=changed,
        expiring=expiring,
        failing=tuple(failing),
    )


def _expiry_words(not_after: datetime, now: datetime) -> str:
    days = whole_days_until(not_after, now)
    when = not_after.date().isoformat()
    return f"expired {-days} day(s) ago ({when})" if not_after <= now else f"expires in {days} day(s) ({when})"


def digest_channels(portfolio: Portfolio) -> list[Channel]:
    """Verified e-mail channels that opted in and hear about this portfolio (every channel of the owner, or
    the portfolio's chosen ones, as for its alerts)."""
    channels = Channel.objects.filter(
        owner_id=portfolio.owner_id, kind=Channel.Kind.EMAIL, weekly_digest=True, verified_at__isnull=False
    )
    if not portfolio.notify_all_channels:
        channels = channels.filter(portfolios=portfolio)
    return list(channels.order_by("id"))


def portfolios_with_digest_readers() -> list[int]:
    """Ids of the portfolios at least one opted-in channel could hear about (the weekly beat task's fan-out)."""
    owners = Channel.objects.filter(kind=Channel.Kind.EMAIL, weekly_digest=True, verified_at__isnull=False)
    return list(Portfolio.objects.filter(owner__in=owners.values("owner")).order_by("id").values_list("id", flat=True))


def send_portfolio_digest(portfolio_id: int, *, now: datetime | None = None) -> list[str]:
    """Mail the portfolio's digest to each opted-in channel; the targets it reached. A channel that fails is
    skipped (the next week's digest is the retry), the others still get it."""
    portfolio = Portfolio.objects.filter(pk=portfolio_id).first()
    if portfolio is None:
        return []
    channels = digest_channels(portfolio)
    if not channels:
        return []
    digest = portfolio_digest(portfolio, now=now)
    message = Message(title=f"Weekly digest: {digest.portfolio}", text=digest.text(), kind="digest", url=digest.url)
    reached = []
    for channel in channels:
        try:
            email.send(channel, message)
        except DeliveryError as exc:
            logger.warning(
                "weekly digest of portfolio %s not sent to channel %s: %s", portfolio.pk, channel.pk, exc.reason
            )
            continue
        reached.append(channel.target)
    return reached
