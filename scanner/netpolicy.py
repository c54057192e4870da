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


def parse_pins(values: Iterable[str]) -> dict[str, str]:
    """`host:ip` pairs as curl's --resolve takes them (the port part of `host:port:ip` is ignored)."""
    pins: dict[str, str] = {}
    for value in values:
        host, sep, ip = value.strip().rpartition(":")
        if ":" in host and not host.startswith("["):  # host:port:ip
            host = host.split(":", 1)[0]
        if not sep or not host:
            raise ValueError(f"Expected HOST:IP, got {value!r}")
        ipaddress.ip_address(ip.strip("[]"))
        pins[host.lower().rstrip(".")] = ip.strip("[]")
    return pins


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


@dataclass(frozen=True)
class NetworkPolicy:
    allowed_networks: tuple[IPNetwork, ...] = ()
    pins: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, host: str) -> str:
        """Return the one address to scan `host` at, or raise TargetRefused with a clear reason."""
        pinned = self.pins.get(host)
        address = pinned or self._lookup(host)
        self.check_address(host, address)
        return address

    def check_address(self, host: str, address: str) -> None:
        ip = ipaddress.ip_address(address)
        if is_public_address(ip) or any(ip in network for network in self.allowed_networks):
            return
        raise TargetRefused(
            f"{host} resolves to {address}, a private, loopback, link-local or reserved address; "
            "scanning it is not allowed on this service."
        )

    @staticmethod
    def _lookup(host: str) -> str:
        try:
            answers = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise TargetRefused(f"{host} does not resolve to an address (DNS: {exc.args[-1]}).") from None
        # IPv4 first: most sites' certificates and redirects are exercised there; one answer is checked and used.
        addresses = sorted({info[4][0] for info in answers}, key=lambda a: (":" in a, a))
        if not addresses:
            raise TargetRefused(f"{host} does not resolve to an address.")
        return addresses[0]
