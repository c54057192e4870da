"""Resolve a hostname once and decide whether the service may connect to the address.

The scan is then pinned to that address, so what was checked is what gets scanned (no DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetRefused(ValueError):
    """The target resolves somewhere the service must not connect to, or does not resolve."""


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())


def parse_pins(values: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Pins as curl's --resolve takes them: `host:ip`, `host:port:ip` (the port is ignored) and the list form
    `host:ip1,ip2`. A comma-separated SCANNER_RESOLVE may mix them: `a.test:10.0.0.1,10.0.0.2,b.test:10.0.0.3`
    (a bare address continues the pin before it). Host names are IDNA-normalised like scan targets."""
    pins: dict[str, list[str]] = {}
    current: str | None = None
    for value in values:
        for token in (part.strip() for part in value.split(",")):
            if not token:
                continue
            bare = _address(token)
            if bare is not None:
                if current is None:
                    raise ValueError(f"Expected HOST:IP before the address {token!r}")
                pins[current].append(bare)
                continue
            # A host name has no colon: split there; what follows is `ip` or `port:ip` (IPv6 may be bracketed).
            host, _, rest = token.partition(":")
            address = _address(rest)
            if address is None:
                port, _, ip = rest.partition(":")
                address = _address(ip) if port.isdigit() else None
            if not host or address is None:
                raise ValueError(f"Expected HOST:IP (or HOST:IP1,IP2), got {token!r}")
            current = _normalise_host(host)
            pins.setdefault(current, []).append(address)
    return {host: tuple(dict.fromkeys(addresses)) for host, addresses in pins.items()}


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip().strip("[]")))
    except ValueError:
        return None


def _normalise_host(host: str) -> str:
    """The same A-label form targets get, so `bücher.test` pins `xn--bcher-kva.test`."""
    from .targets import InvalidTarget, normalise_hostname

    try:
        return normalise_hostname(host)
    except InvalidTarget:
        return host.strip().rstrip(".").lower()  # not a scannable name (e.g. localhost): pin it as written


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


MAX_ENDPOINTS = 8  # addresses scanned per name (A and AAAA records together)
SERVICE_REFUSAL = "scanning it is not allowed on this service"


@dataclass(frozen=True)
class NetworkPolicy:
    allowed_networks: tuple[IPNetwork, ...] = ()
    pins: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    # Names whose pins the operator gave explicitly (the CLI's --resolve): their addresses are allowed, as curl
    # would connect to them, whatever the networks say. The service never sets this: its users choose no addresses.
    trusted_pin_hosts: frozenset[str] = frozenset()
    refusal_hint: str = SERVICE_REFUSAL

    def resolve(self, host: str) -> str:
        """Return the one address to scan `host` at, or raise TargetRefused with a clear reason."""
        return self.resolve_all(host, limit=1)[0]

    def resolve_all(self, host: str, *, limit: int = MAX_ENDPOINTS) -> list[str]:
        """Every address behind `host` (pins first, else A and AAAA), each checked; up to `limit`.

        Refused addresses are left out; when none is left, TargetRefused says why for the first one.
        """
        pinned = self._pinned(host)
        addresses = list(pinned) if pinned else self._addresses(host)
        allowed: list[str] = []
        first_refusal: TargetRefused | None = None
        for address in addresses:
            try:
                self.check_address(host, address, pinned=self._pin_trusted(host, pinned))
            except TargetRefused as exc:
                first_refusal = first_refusal or exc
                continue
            allowed.append(address)
            if len(allowed) >= limit:
                break
        if not allowed:
            raise first_refusal or TargetRefused(f"{host} does not resolve to an address.")
        return allowed

    def refused_addresses(self, host: str, scanned: Iterable[str]) -> list[str]:
        """Addresses behind `host` that the policy left out (reported, never connected to)."""
        pinned = self._pinned(host)
        addresses = list(pinned) if pinned else self._addresses(host)
        trusted = self._pin_trusted(host, pinned)
        return [address for address in addresses if address not in scanned and not self._allowed(address, trusted)]

    def _pin_trusted(self, host: str, pinned: tuple[str, ...]) -> bool:
        return bool(pinned) and (host in self.trusted_pin_hosts or _normalise_host(host) in self.trusted_pin_hosts)

    def _addresses(self, host: str) -> list[str]:
        found = self._lookup(host)
        return [found] if isinstance(found, str) else list(found)  # a one-answer _lookup (tests) still works

    def _pinned(self, host: str) -> tuple[str, ...]:
        value = self.pins.get(host) or self.pins.get(_normalise_host(host))
        if not value:
            return ()
        return (value,) if isinstance(value, str) else tuple(value)

    def _allowed(self, address: str, pinned: bool) -> bool:
        ip = ipaddress.ip_address(address)
        if pinned:
            return True
        return is_public_address(ip) or any(ip in network for network in self.allowed_networks)

    def check_address(self, host: str, address: str, *, pinned: bool = False) -> None:
        if self._allowed(address, pinned):
            return
        # The address itself is not named: a refusal must not tell a user what an internal name points at
        # (it would turn the service into a resolver for the operator's private DNS).
        raise TargetRefused(
            f"{host} resolves to a private, loopback, link-local or reserved address; {self.refusal_hint}."
        )

    @staticmethod
    def _lookup(host: str) -> list[str] | str:
        try:
            answers = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise TargetRefused(f"{host} does not resolve to an address (DNS: {exc.args[-1]}).") from None
        # IPv4 first, then IPv6, each in the resolver's order: every address is scanned, up to MAX_ENDPOINTS.
        addresses = list(dict.fromkeys(info[4][0] for info in answers))
        addresses.sort(key=lambda a: ":" in a)
        if not addresses:
            raise TargetRefused(f"{host} does not resolve to an address.")
        return addresses
