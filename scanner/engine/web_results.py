"""Typed, immutable results of the web-posture probe: what the HTTPS site tells a browser beyond TLS.

The engine fills these from responses it already read (the first HTTPS response and the final page) and a few
small extra requests (security.txt, robots.txt, one request with an Origin and Accept-Encoding, ALPN
handshakes). It never judges them: scanner/grading/websecurity.py turns them into the web security score.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Response headers kept (lower-case names), in the order the report lists them.
SECURITY_HEADERS = (
    "content-security-policy",
    "content-security-policy-report-only",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
    "cross-origin-opener-policy",
    "cross-origin-resource-policy",
    "cross-origin-embedder-policy",
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "alt-svc",
)


@dataclass(frozen=True)
class CspPolicy:
    """One Content-Security-Policy (a header value may hold several, separated by commas)."""

    raw: str
    # directive name (lower case) -> its source expressions (lower case), first occurrence only (CSP3 §2.2.1)
    directives: dict[str, tuple[str, ...]]
    duplicates: tuple[str, ...] = ()  # directive names that appeared again and were ignored
    report_only: bool = False  # from Content-Security-Policy-Report-Only: reported, never enforced
    invalid_reason: str | None = None  # the policy cannot be parsed (a directive name that is not a token...)

    def sources(self, name: str) -> tuple[str, ...] | None:
        return self.directives.get(name)


@dataclass(frozen=True)
class Cookie:
    """One Set-Cookie the HTTPS site sent (RFC 6265bis attributes; values are never kept)."""

    name: str
    secure: bool
    http_only: bool
    same_site: (
        str | None
    )  # the attribute's value as sent ("Lax", "Strict", "None", "" or anything else); None if absent
    domain: str | None
    path: str | None
    url: str  # the response that set it


@dataclass(frozen=True)
class Script:
    """One <script src> of the final page."""

    src: str  # as written
    url: str | None  # resolved against the page (None when it is not a valid URL)
    integrity: bool  # an integrity="..." attribute is present (Subresource Integrity)
    protocol_relative: bool  # src="//host/..." (the Observatory counts it as not loaded securely)


@dataclass(frozen=True)
class SecurityTxt:
    """/.well-known/security.txt (RFC 9116)."""

    url: str
    status: int | None  # None: no answer (error says why)
    content_type: str | None = None
    https: bool = True  # the final URL after redirects is https:// (RFC 9116 §3: must be served over HTTPS)
    contact: tuple[str, ...] = ()  # Contact: fields (required, §2.5.3)
    expires: str | None = None  # the Expires: field as written (required, §2.5.5)
    error: str | None = None


@dataclass(frozen=True)
class RobotsTxt:
    """/robots.txt over HTTPS (RFC 9309)."""

    url: str
    status: int | None
    disallow_all: bool = False  # the group for user-agent * has `Disallow: /` and no `Allow:` rule
    error: str | None = None


@dataclass(frozen=True)
class SiblingHost:
    """The www. name of a submitted apex, or the apex of a submitted www. name: does it serve HTTPS too?"""

    host: str
    resolves: bool  # False: no address, or the network policy refused it (nothing was connected to)
    https_ok: bool = False  # a TLS handshake verified for this name, and an HTTP answer
    status: int | None = None
    location: str | None = None  # where https://sibling/ redirects, as sent
    error: str | None = None


@dataclass(frozen=True)
class WebFacts:
    """Everything the web security score and the SEO extras read. `headers` holds the final page's headers."""

    page_url: str  # the final https:// page the headers were read from
    page_status: int
    page_is_html: bool
    headers: dict[str, tuple[str, ...]]  # SECURITY_HEADERS present on the final page -> every value sent
    csp: tuple[CspPolicy, ...] = ()  # enforced policies (Content-Security-Policy headers)
    csp_report_only: tuple[CspPolicy, ...] = ()
    cookies: tuple[Cookie, ...] = ()
    set_cookie_raw: tuple[str, ...] = ()  # the Set-Cookie values (attributes only matter; kept for SameSite checks)
    scripts: tuple[Script, ...] = ()
    canonical_links: tuple[str, ...] = ()  # every <link rel=canonical href>, resolved
    # The extra request to the final page with `Origin: <a foreign origin>` and `Accept-Encoding: gzip, br`.
    cors_origin_sent: str | None = None
    cors_allow_origin: str | None = None  # Access-Control-Allow-Origin answered to that request
    cors_allow_credentials: bool = False
    content_encoding: str | None = None  # HTTP compression used over HTTPS when asked (BREACH, internet.nl)
    security_txt: SecurityTxt | None = None
    robots_txt: RobotsTxt | None = None
    alpn: tuple[str, ...] | None = None  # protocols the server accepted in ALPN handshakes; None: not tested
    alpn_error: str | None = None
    sibling: SiblingHost | None = None  # www./apex counterpart; None when the name has none (or not checked)
    notes: tuple[str, ...] = field(default_factory=tuple)  # what could not be read, in words
