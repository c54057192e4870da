"""Portfolios: named groups of a user's sites, with their alert channels and schedule."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from scanner.models import Channel, Portfolio, Site
from scanner.services.errors import ScanRequestError
from scanner.services.portfolio_days import portfolio_days_forget
from scanner.services.site_versions import sites_changed
from scanner.services.sites import checked_target, site_for_target

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def portfolio_create(*, owner: User, name: str) -> Portfolio:
    try:
        with transaction.atomic():
            return Portfolio.objects.create(owner=owner, name=name)
    except IntegrityError:
        raise ScanRequestError(
            f"You already have a portfolio named '{name}'.", field="name", code="duplicate"
        ) from None


_UNSET = object()


def portfolio_update(
    portfolio: Portfolio, *, name: str | None = None, alert_expiry_days: int | None | object = _UNSET
) -> Portfolio:
    """Change the given fields only (PATCH semantics); `alert_expiry_days=None` restores the default window."""
    if name is not None and name != portfolio.name:
        if Portfolio.objects.filter(owner=portfolio.owner, name=name).exclude(pk=portfolio.pk).exists():
            raise ScanRequestError(f"You already have a portfolio named '{name}'.", field="name", code="duplicate")
        portfolio.name = name
    if alert_expiry_days is not _UNSET:
        portfolio.alert_expiry_days = alert_expiry_days
    portfolio.save(update_fields=["name", "alert_expiry_days"])
    return portfolio


def portfolio_add_site(
    portfolio: Portfolio,
    *,
    host: str | None = None,
    port: int | None = None,
    http_port: int | None = None,
    site: Site | None = None,
) -> Site:
    """Add an existing site, or a hostname (checked like a scan request, so unscannable hosts never get in)."""
    if site is None:
        target, _ = checked_target(host or "", port=port, http_port=http_port)
        site = site_for_target(portfolio.owner, target, http_port_given=http_port is not None)
    portfolio.sites.add(site)
    portfolio_days_forget(portfolio_ids=[portfolio.pk])  # its history counts its sites of now, on every day
    sites_changed(owner_ids=[portfolio.owner_id])
    return site


def portfolio_delete(portfolio: Portfolio) -> None:
    """Delete a portfolio, and with it its rescan schedule (a column of the row). Its sites stay: a site belongs to
    its owner, and may be in other portfolios."""
    portfolio.delete()


def portfolio_remove_site(portfolio: Portfolio, *, site: Site) -> None:
    portfolio.sites.remove(site)
    portfolio_days_forget(portfolio_ids=[portfolio.pk])
    sites_changed(owner_ids=[portfolio.owner_id])


def portfolio_set_channels(portfolio: Portfolio, *, notify_all: bool, channels: list[Channel]) -> Portfolio:
    if any(channel.owner_id != portfolio.owner_id for channel in channels):
        raise ScanRequestError("You have no such channel.", field="channels")
    with transaction.atomic():
        portfolio.notify_all_channels = notify_all
        portfolio.save(update_fields=["notify_all_channels"])
        portfolio.channels.set([] if notify_all else channels)
    return portfolio
