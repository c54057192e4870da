"""Sites: what users own. Parsing and checking what was typed, tags, deletion, sharing, muting."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.db import transaction

from scanner import config
from scanner.models import Site, SiteTag
from scanner.netpolicy import TargetRefused
from scanner.services.errors import ScanRequestError
from scanner.services.portfolio_days import portfolio_days_forget
from scanner.services.site_versions import sites_changed
from scanner.targets import InvalidTarget, Target, parse_target

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def parsed_target(text: str, *, port: int | None = None, http_port: int | None = None) -> Target:
    try:
        return parse_target(text, https_port=port, http_port=http_port)
    except InvalidTarget as exc:
        raise ScanRequestError(str(exc), code="invalid_target") from None


def checked_target(text: str, *, port: int | None = None, http_port: int | None = None) -> tuple[Target, str]:
    """Parse what the user typed and resolve it once under the network policy; return target and address."""
    target = parsed_target(text, port=port, http_port=http_port)
    try:
        address = config.network_policy().resolve(target.host)
    except TargetRefused as exc:
        raise ScanRequestError(str(exc), code="target_refused") from None
    return target, address


def site_for_target(owner: User, target: Target, *, http_port_given: bool = False) -> Site:
    site, created = Site.objects.get_or_create(
        owner=owner,
        hostname=target.host,
        https_port=target.https_port,
        defaults={"http_port": target.http_port},
    )
    if created:
        sites_changed(owner_ids=[owner.pk])
    elif http_port_given and site.http_port != target.http_port:
        # An explicit plain-HTTP port is the latest word on where the site listens.
        site.http_port = target.http_port
        site.save(update_fields=["http_port"])
    return site


def site_set_tags(site: Site, tags: list[str]) -> None:
    """Add `tags` to the site (imports add; they never remove a tag someone set)."""
    SiteTag.objects.bulk_create([SiteTag(site=site, name=tag) for tag in tags], ignore_conflicts=True)


def site_delete(site: Site) -> None:
    """Delete a site with its whole history: scans, findings, alerts and their delivery log go with it."""
    with transaction.atomic():
        Site.objects.filter(pk=site.pk).update(latest_scan=None, last_scan=None)
        portfolio_days_forget(site_id=site.pk)  # its portfolios' history counted it on every day
        site.delete()
        sites_changed(owner_ids=[site.owner_id])


def site_share(site: Site, *, enabled: bool) -> Site:
    """Create (or revoke) the unguessable token of the site's public read-only report. A new share is a new
    token, so a link revoked once never works again."""
    site.share_token = secrets.token_urlsafe(32) if enabled else ""
    site.save(update_fields=["share_token"])
    return site


def site_set_badge_public(site: Site, *, public: bool) -> Site:
    site.badge_public = public
    site.save(update_fields=["badge_public"])
    return site


def site_set_muted(site: Site, *, muted: bool) -> Site:
    site.alerts_muted = muted
    site.save(update_fields=["alerts_muted"])
    return site
