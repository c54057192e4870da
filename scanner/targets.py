"""Parse and normalise what a user typed into a scan target.

One function, one error message per kind of bad input, shared by the CLI, the API, the dashboard and imports.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna

MAX_INPUT_LENGTH = 300
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidTarget(ValueError):
    """The input cannot be scanned; the message says why, for the person who typed it."""


@dataclass(frozen=True)
class Target:
    host: str  # normalised A-label hostname, lower case, no trailing dot
    https_port: int = 443
    http_port: int = 80

    def __str__(self) -> str:
        return self.host if self.https_port == 443 else f"{self.host}:{self.https_port}"


def parse_target(text: str, *, https_port: int | None = None, http_port: int | None = None) -> Target:
    """Turn `example.com`, `Example.COM.`, `https://example.com/`, `bücher.de:8443` into a Target."""
    if not isinstance(text, str):
        raise InvalidTarget("Enter a hostname such as example.com.")
    raw = text.strip()
    if not raw:
        raise InvalidTarget("Enter a hostname such as example.com.")
    if len(raw) > MAX_INPUT_LENGTH:
        raise InvalidTarget(f"That is too long to be a hostname ({len(raw)} characters).")
    if any(ch.isspace() for ch in raw):
        raise InvalidTarget("A hostname cannot contain spaces.")

    host, port_from_text = _split_host_and_port(raw)
    port = https_port or port_from_text or 443
    for value in (port, http_port or 80):
        if not 1 <= value <= 65535:
            raise InvalidTarget(f"Port {value} is out of range (1-65535).")
    return Target(host=normalise_hostname(host), https_port=port, http_port=http_port or 80)


def _split_host_and_port(raw: str) -> tuple[str, int | None]:
    if "://" in raw:
        parts = urlsplit(raw)
        if parts.scheme.lower() not in {"http", "https"}:
            raise InvalidTarget(f"Only http:// and https:// addresses can be scanned, not {parts.scheme}://.")
        if parts.path not in {"", "/"} or parts.query or parts.fragment:
            raise InvalidTarget("Enter just the hostname: scans cover a whole site, so paths and queries are not accepted.")
        if parts.username or parts.password:
            raise InvalidTarget("Addresses with a user name or password are not accepted.")
        netloc = parts.netloc
        scheme_is_http = parts.scheme.lower() == "http"
    else:
        if "/" in raw or "?" in raw or "#" in raw:
            raise InvalidTarget("Enter just the hostname: scans cover a whole site, so paths and queries are not accepted.")
        if "@" in raw:
            raise InvalidTarget("Addresses with a user name or password are not accepted.")
        netloc = raw
        scheme_is_http = False

    if netloc.startswith("["):
        raise InvalidTarget("IP addresses cannot be scanned: certificates are issued for names. Enter the site's hostname.")
    host, sep, port_text = netloc.rpartition(":")
    if not sep:
        host, port_text = netloc, ""
    elif host.count(":"):
        raise InvalidTarget("IP addresses cannot be scanned: certificates are issued for names. Enter the site's hostname.")
    port: int | None = None
    if port_text:
        if not port_text.isdigit():
            raise InvalidTarget(f"'{port_text}' is not a port number.")
        port = int(port_text)
        if scheme_is_http:
            # http://host:8080 names the plain-HTTP port, not the HTTPS one.
            raise InvalidTarget("Give the HTTPS port (host:port or https://host:port), not an http:// port.")
    if sep and not port_text:
        raise InvalidTarget("A port number is missing after ':'.")
    return host, port


def normalise_hostname(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if not host:
        raise InvalidTarget("Enter a hostname such as example.com.")
    if _is_ip_literal(host):
        raise InvalidTarget("IP addresses cannot be scanned: certificates are issued for names. Enter the site's hostname.")
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidTarget(f"'{host}' is not a valid hostname ({exc}).") from None
    except UnicodeError:
        raise InvalidTarget(f"'{host}' is not a valid hostname.") from None
    if len(ascii_host) > 253:
        raise InvalidTarget("A hostname can be at most 253 characters long.")
    labels = ascii_host.split(".")
    if len(labels) < 2:
        raise InvalidTarget(f"'{host}' is not a public hostname: use a fully qualified name such as example.com.")
    for label in labels:
        if not _LABEL.match(label):
            raise InvalidTarget(
                f"'{host}' is not a valid hostname: each part between dots must be 1-63 letters, digits or hyphens, "
                "not starting or ending with a hyphen."
            )
    if labels[-1].isdigit():
        raise InvalidTarget(f"'{host}' is not a valid hostname: the last part cannot be numeric.")
    return ascii_host


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
