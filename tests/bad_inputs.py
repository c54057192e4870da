"""The bad-input corpus: what an attacker tries and what a user mistypes, as scan targets.

Every entry must be refused with a clear message before anything is resolved or stored, by the API, the
dashboard's submit form and portfolio import alike. Entries are single lines without commas, so the
dashboard (which splits on commas and newlines) and import (CSV) see each as one host.
"""

from __future__ import annotations

import ipaddress

# Addresses an SSRF attempt aims at: loopback, private, link-local metadata, "this host", public DNS.
_ADDRESSES = ("127.0.0.1", "10.0.0.1", "169.254.169.254", "0.0.0.0", "8.8.8.8", "192.168.1.1")


def _numeric_forms(address: str) -> list[str]:
    """Spellings of one IPv4 address that inet_aton() and URL parsers accept."""
    a, b, c, d = (int(part) for part in address.split("."))
    value = int(ipaddress.IPv4Address(address))
    return [
        address,  # dotted decimal
        str(value),  # one decimal number
        hex(value),  # one hex number
        f"0{value:o}",  # one octal number
        ".".join(hex(part) for part in (a, b, c, d)),  # dotted hex (0x8.0x8.0x8.0x8)
        ".".join(f"0{part:o}" for part in (a, b, c, d)),  # dotted octal
        f"{a}.{b}.{(c << 8) | d}",  # a.b.c16
        f"{a}.{(b << 16) | (c << 8) | d}",  # a.b24 (127.1)
        f"{hex(a)}.{b}.{c}.{hex(d)}",  # mixed bases
        f"{address}.",  # trailing dot
    ]


NUMERIC_HOSTS = [form for address in _ADDRESSES for form in _numeric_forms(address)]

# The same numeric forms wrapped the way users type URLs.
WRAPPED_NUMERIC = [
    wrapped
    for address in ("127.0.0.1", "169.254.169.254")
    for form in _numeric_forms(address)[:8]
    for wrapped in (f"https://{form}", f"{form}:443", f"https://{form}:8443/")
]

IP_LITERALS = [
    "::1",
    "[::1]",
    "[::1]:443",
    "https://[::1]/",
    "https://[fe80::1%25eth0]/",
    "[::ffff:127.0.0.1]",
    "::ffff:7f00:1",
    "2001:db8::1",
    "[2001:db8::1]:8443",
    "0:0:0:0:0:0:0:1",
    "１２７.０.０.１",  # full-width digits: UTS #46 maps them to ASCII
    "127。0。0。1",  # ideographic full stops
]

BAD_PORTS = [
    "example.com:0",
    "example.com:00",
    "https://example.com:0/",
    "example.com:65536",
    "example.com:99999",
    "example.com:4294967739",
    "example.com:²",
    "example.com:4⁴3",
    "example.com:٤٤٣",  # Arabic-Indic digits
    "example.com:४४३",  # Devanagari digits
    "example.com:４４３",  # full-width digits
    "example.com:-1",
    "example.com:+443",
    "example.com:0x1bb",
    "example.com:443a",
    "example.com:1e3",
    "example.com:",
    "example.com:443:443",
    "https://example.com:/",
    "http://example.com:8080",  # an http:// port is not the HTTPS port
]

SCHEMES_AND_URLS = [
    "ftp://example.com",
    "file:///etc/passwd",
    "gopher://example.com:70/",
    "javascript:alert(1)",
    "ldap://example.com",
    "dict://127.0.0.1:11211/",
    "example.com/path",
    "https://example.com/path",
    "https://example.com/?q=1",
    "https://example.com/#top",
    "example.com?x=1",
    "example.com#frag",
    "https://user:pass@example.com/",
    "https://user@example.com",
    "user@example.com",
    "https://example.com@127.0.0.1/",
    "https://127.0.0.1#@example.com/",
    "https://",
    "https:///example.com",
    "//example.com",
    "https://[::1",
    "https://exa mple.com",
    "<script>alert(1)</script>",
    "example.com/<script>",
    '"><img src=x onerror=alert(1)>',
]

SPACES_AND_CONTROL = [
    "exa mple.com",
    "example .com",
    "\texample.com x",
    "example.com\x00",
    "exam\x00ple.com",
    "example\x07.com",
    "example.com\r\nHost: evil",
    "example\u200b.com",  # zero-width space
    "example\u00ad.com.\u00ad",  # soft hyphens that map away, leaving an empty label
    "\u3000example.com\u3000x",  # ideographic space inside
    "",
    "   ",
]

BAD_NAMES = [
    "localhost",
    "localhost.",
    "intranet",
    "example",
    "com",
    ".",
    "..",
    "example.com..",
    ".example.com",
    "example..com",
    "-example.com",
    "example-.com",
    "exa_mple.com",
    "example.com-",
    "*.example.com",
    "example.*",
    "a" * 64 + ".com",
    ".".join(["a" * 60] * 5) + ".com",  # over 253 characters
    "x" * 400,
    "example.c%6fm",
    "example.com%00",
    "exa!mple.com",
    "exa$mple.com",
    "example.com;rm -rf",
    "example.com|id",
    "example.com'",
    "`id`.example.com",
    "$(id).example.com",
    "example.123",  # numeric top-level label
    "0x.0x",
]

IDN_AND_PUNYCODE = [
    "xn--.com",
    "xn--zz.com",
    "xn--abc-.com",
    "xn---.com",
    "xn--a.com",
    "xn--ls8h.xn--",
    "☃.com",  # symbols are not allowed in IDNA 2008
    "example.☃",
    "💩.la",
    "\u0301example.com",
    "ex\u202eample.com",  # right-to-left override
    "مثال.example\u200d",
    "a\u0600b.com",
    "Ⅷ.\u0000com",
    "ß\u0000.de",
]

HOST_CORPUS: list[str] = [
    *NUMERIC_HOSTS,
    *WRAPPED_NUMERIC,
    *IP_LITERALS,
    *BAD_PORTS,
    *SCHEMES_AND_URLS,
    *SPACES_AND_CONTROL,
    *BAD_NAMES,
    *IDN_AND_PUNYCODE,
]

# What the dashboard form sees as one entry (it splits on commas and newlines, and drops blank entries: those
# are a separate "enter at least one domain" error, still a 400).
DASHBOARD_CORPUS = [entry for entry in HOST_CORPUS if "," not in entry and "\n" not in entry]

# Import lines are CSV `host[,port][,tags]`: the host corpus plus bad port and tag cells. Blank lines and
# '#' comments are skipped by design, so they are not bad input to an import.
IMPORT_CORPUS = [
    *(
        entry
        for entry in HOST_CORPUS
        if entry.strip() and "\n" not in entry and "\r" not in entry and not entry.lstrip().startswith("#")
    ),
    "example.com,0",
    "example.com,00",
    "example.com,65536",
    "example.com,²",
    "example.com,٤٤٣",
    "example.com,४४३",
    "example.com,-443",
    "example.com,443.0",
    "example.com,0x1bb",
    "example.com,443,bad tag",
    "example.com,443,<script>",
    "example.com,443,a;b,c",
    "127.1,443",
    "0x8.0x8.0x8.0x8,443",
]

# JSON bodies for POST /api/v1/scans beyond the host strings: types and numeric fields.
API_BODIES: list[dict] = [
    {"host": 2130706433},
    {"host": ["example.com"]},
    {"host": {"name": "example.com"}},
    {"host": None},
    {"host": True},
    {},
    {"hots": "example.com"},
    {"host": "example.com", "port": 0},
    {"host": "example.com", "port": -1},
    {"host": "example.com", "port": 65536},
    {"host": "example.com", "port": "²"},
    {"host": "example.com", "port": "٤٤٣"},
    {"host": "example.com", "port": "0x1bb"},
    {"host": "example.com", "port": 443.5},
    {"host": "example.com", "port": "443abc"},
    {"host": "example.com", "port": 10**20},
    {"host": "example.com", "http_port": 0},
    {"host": "example.com", "http_port": "٨٠"},
    {"host": "example.com", "max_age": 10**20},
    {"host": "example.com", "max_age": -1},
    {"host": "example.com", "max_age": "1e400"},
    {"host": "example.com", "max_age": "²"},
    {"host": "example.com", "portfolio": 10**20},
    {"host": "example.com", "portfolio": 0},
    {"host": "example.com", "portfolio": 999999},
]
