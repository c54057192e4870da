"""Parse and normalise what a user typed into a scan target.

One function, one error message per kind of bad input, shared by the CLI, the API, the dashboard and imports.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna

MAX_INPUT_LENGTH = 300
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# A port is 1-5 ASCII digits. str.isdigit() is not enough: it accepts '²' and '٤٤٣', which int() then
# either rejects (a crash) or quietly turns into a number the user never typed.
_PORT = re.compile(r"^[0-9]{1,5}$", re.ASCII)
# A label that URL parsers (WHATWG) and inet_aton() read as a number: decimal, octal (leading 0) or hex.
# A host whose last label is such a number is an IPv4 address in disguise: '127.1', '0x7f000001',
# '0x8.0x8.0x8.0x8', '017700000001'. Refused before anything resolves it.
_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)$", re.ASCII | re.IGNORECASE)
IP_REFUSED = "IP addresses cannot be scanned: certificates are issued for names. Enter the site's hostname."


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
    # Control and format characters (NUL, zero-width space, right-to-left override) are invisible where the
    # user reads the host back; UTS #46 would silently drop some, so what is scanned would differ from what shows.
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"} for ch in raw):
        raise InvalidTarget("A hostname cannot contain invisible or control characters.")

    host, port_from_text = _split_host_and_port(raw)
    # `is not None`, never `or`: port 0 is an error to report, not a missing value to default.
    port = https_port if https_port is not None else port_from_text if port_from_text is not None else 443
    plain_port = http_port if http_port is not None else 80
    for value in (port, plain_port):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidTarget(f"'{value}' is not a port number.")
        if not 1 <= value <= 65535:
            raise InvalidTarget(f"Port {value} is out of range (1-65535).")
    return Target(host=normalise_hostname(host), https_port=port, http_port=plain_port)


def parse_port(text: str) -> int:
    """A port as typed: ASCII digits only, 1-65535. Port 0 is refused, not read as 'the default'."""
    text = text.strip()
    if not _PORT.match(text):
        raise InvalidTarget(f"'{text}' is not a port number: use digits 0-9 only, from 1 to 65535.")
    value = int(text)
    if not 1 <= value <= 65535:
        raise InvalidTarget(f"Port {value} is out of range (1-65535).")
    return value


def _split_host_and_port(raw: str) -> tuple[str, int | None]:
    if "://" in raw:
        try:
            parts = urlsplit(raw)
        except ValueError:  # e.g. an unbalanced '[' in the authority
            raise InvalidTarget("That is not a valid address: enter a hostname such as example.com.") from None
        if parts.scheme.lower() not in {"http", "https"}:
            raise InvalidTarget(f"Only http:// and https:// addresses can be scanned, not {parts.scheme}://.")
        if parts.path not in {"", "/"} or parts.query or parts.fragment:
            raise InvalidTarget(
                "Enter just the hostname: scans cover a whole site, so paths and queries are not accepted."
            )
        if parts.username or parts.password:
            raise InvalidTarget("Addresses with a user name or password are not accepted.")
        netloc = parts.netloc
        scheme_is_http = parts.scheme.lower() == "http"
    else:
        if "/" in raw or "?" in raw or "#" in raw:
            raise InvalidTarget(
                "Enter just the hostname: scans cover a whole site, so paths and queries are not accepted."
            )
        if "@" in raw:
            raise InvalidTarget("Addresses with a user name or password are not accepted.")
        netloc = raw
        scheme_is_http = False

    if netloc.startswith("["):
        raise InvalidTarget(IP_REFUSED)
    host, sep, port_text = netloc.rpartition(":")
    if not sep:
        host, port_text = netloc, ""
    elif host.count(":"):
        raise InvalidTarget(IP_REFUSED)
    port: int | None = None
    if port_text:
        port = parse_port(port_text)
        if scheme_is_http:
            # http://host:8080 names the plain-HTTP port, not the HTTPS one.
            raise InvalidTarget("Give the HTTPS port (host:port or https://host:port), not an http:// port.")
    if sep and not port_text:
        raise InvalidTarget("A port number is missing after ':'.")
    return host, port


def normalise_hostname(host: str) -> str:
    host = host.strip().lower()
    # One trailing dot is the DNS root ('example.com.'); more than one is an empty label.
    host = host.removesuffix(".")
    if not host:
        raise InvalidTarget("Enter a hostname such as example.com.")
    if _is_ip_literal(host) or _is_numeric_host(host):
        raise InvalidTarget(IP_REFUSED)
    if ".." in host or host.startswith(".") or host.endswith("."):
        raise InvalidTarget(f"'{host}' is not a valid hostname: it has an empty part between dots.")
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidTarget(f"'{host}' is not a valid hostname ({exc}).") from None
    except (UnicodeError, ValueError):
        raise InvalidTarget(f"'{host}' is not a valid hostname.") from None
    # UTS #46 maps full-width digits and dots ('１２７。０。０。１') to ASCII: check what it produced, too.
    if _is_ip_literal(ascii_host) or _is_numeric_host(ascii_host):
        raise InvalidTarget(IP_REFUSED)
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
    return ascii_host


def _is_numeric_host(host: str) -> bool:
    """True when a URL parser or inet_aton() would read the host as an IPv4 address (WHATWG "ends in a number")."""
    last = host.rstrip(".").rpartition(".")[2]
    return bool(_NUMERIC_LABEL.match(last))


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
