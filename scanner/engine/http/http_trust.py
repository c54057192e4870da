"""What the HTTP probe checks about trust on the way: an https:// redirect hop on another host is
fetched as a browser would, with certificate verification, and a refused certificate is noted; and whether the
page's Content-Security-Policy upgrades its http:// subresources (so passive mixed content never loads)."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable

from scanner import outbound


@functools.cache
def verified_context(ca_file: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)  # the operator's CA file, as the TLS probe trusts it
    return context


def fetch_hop(
    url: str,
    policy: outbound.AddressPolicy,
    limits: outbound.Limits,
    check_certificate: ssl.SSLContext | None,
    limits_now: Callable[[], outbound.Limits | None] = lambda: None,
) -> tuple[outbound.Response, str | None]:
    """GET `url`; with `check_certificate`, an https:// hop is first fetched as a browser would, and a refused
    certificate is noted (the reason) before the hop is read again without verification, within what is left of
    the walk's deadline (`limits_now`)."""
    if check_certificate is not None:
        try:
            return outbound.request("GET", url, policy=policy, limits=limits, verify=check_certificate), None
        except outbound.OutboundTLSError as exc:
            if "CERTIFICATE_VERIFY_FAILED" not in str(exc):
                raise
            problem = str(exc)
        retry = limits_now()
        if retry is None:
            raise outbound.OutboundTimeout(f"{problem}; no time was left to read the page without verification")
        return outbound.request("GET", url, policy=policy, limits=retry, verify=False), problem
    return outbound.request("GET", url, policy=policy, limits=limits, verify=False), None


def upgrades_insecure_requests(policies: list[str]) -> bool:
    """Does any enforced CSP carry the upgrade-insecure-requests directive (W3C Upgrade Insecure Requests §3)?
    Directive names are case-insensitive and separated by ';'; every policy a response sends is enforced."""
    return any(
        directive.strip().split(" ", 1)[0].lower() == "upgrade-insecure-requests"
        for policy in policies
        for directive in policy.split(";")
    )
