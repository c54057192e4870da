"""Parsers for what an HTTPS response tells the browser: Content-Security-Policy, Set-Cookie, security.txt and
robots.txt. Pure functions over text (no I/O), so they are tested on strings and reused by the web probe.

They only say what was sent; scanner/grading/websecurity.py decides what it is worth.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import httpx

from scanner.engine.web_results import SECURITY_HEADERS, Cookie, CspPolicy

MAX_COOKIES = 50  # Set-Cookie headers kept per scan; the score needs the worst one, not thousands
MAX_POLICY_CHARS = 16 * 1024  # a CSP longer than this is kept cut (the header block is capped at 64 KiB anyway)
_DIRECTIVE_NAME = re.compile(r"[a-z0-9-]+")  # CSP3 §2.2.1: directive-name = 1*( ALPHA / DIGIT / "-" )
_ASCII_WHITESPACE = re.compile(r"[\t\n\f\r ]+")


# --- Content-Security-Policy (W3C CSP Level 3, §2.2 "Policies") ----------------------------------------------


def parse_csp(raw: str, *, report_only: bool = False) -> tuple[CspPolicy, ...]:
    """Every policy in one header value. A comma separates policies (CSP3 §2.2.2, "serialized CSP list"); each
    policy is directives separated by ";", a directive is a name then source expressions. Names and sources
    are compared case-insensitively, so both are lower-cased; a repeated directive is ignored (§2.2.1 step 2.4)
    and remembered as a duplicate."""
    policies = []
    for text in raw[:MAX_POLICY_CHARS].split(","):
        text = text.strip()
        if not text:
            continue
        directives: dict[str, tuple[str, ...]] = {}
        duplicates: list[str] = []
        invalid: str | None = None
        for directive in text.split(";"):
            tokens = _ASCII_WHITESPACE.split(directive.strip())
            if not tokens or not tokens[0]:
                continue
            name = tokens[0].lower()
            if not _DIRECTIVE_NAME.fullmatch(name):
                invalid = invalid or f"{tokens[0][:40]!r} is not a directive name"
                continue
            if name in directives:
                duplicates.append(name)
                continue
            directives[name] = tuple(token.lower() for token in tokens[1:])
        policies.append(
            CspPolicy(
                raw=text,
                directives=directives,
                duplicates=tuple(duplicates),
                report_only=report_only,
                invalid_reason=invalid,
            )
        )
    return tuple(policies)


# --- Set-Cookie (RFC 6265 §5.2; prefixes and SameSite from RFC 6265bis) -----------------------------------------


def parse_set_cookie(raw: str, url: str) -> Cookie | None:
    """The cookie's name and attributes; None when the header has no name=value pair (user agents ignore it)."""
    pair, _, attributes = raw.partition(";")
    name, has_equals, _value = pair.partition("=")
    name = name.strip()
    if not has_equals or not name:
        return None
    secure = http_only = False
    same_site: str | None = None
    domain = path = None
    for attribute in attributes.split(";"):
        key, _, value = attribute.partition("=")
        key, value = key.strip().lower(), value.strip()
        if key == "secure":
            secure = True
        elif key == "httponly":
            http_only = True
        elif key == "samesite":
            same_site = value
        elif key == "domain":
            domain = value or None
        elif key == "path":
            path = value or None
    return Cookie(
        name=name[:200], secure=secure, http_only=http_only, same_site=same_site, domain=domain, path=path, url=url
    )


def cookies_from(responses: Iterable[tuple[str, httpx.Headers]]) -> tuple[tuple[Cookie, ...], tuple[str, ...]]:
    """(parsed cookies, raw Set-Cookie values) of some responses, each (url, headers); a later cookie of the
    same name replaces an earlier one, as in a browser's jar."""
    jar: dict[str, Cookie] = {}
    raw_values: list[str] = []
    for url, headers in responses:
        for value in headers.get_list("set-cookie"):
            if len(raw_values) >= MAX_COOKIES:
                break
            raw_values.append(value[:1024])
            cookie = parse_set_cookie(value, url)
            if cookie is not None:
                jar[cookie.name] = cookie
    return tuple(jar.values()), tuple(raw_values)


def security_headers(headers: httpx.Headers) -> dict[str, tuple[str, ...]]:
    """The SECURITY_HEADERS a response carries, each with every value it was sent with."""
    return {
        name: tuple(value[:MAX_POLICY_CHARS] for value in headers.get_list(name))
        for name in SECURITY_HEADERS
        if name in headers
    }


# --- security.txt (RFC 9116 §2) and robots.txt (RFC 9309 §2) ---------------------------------------------------


def security_txt_fields(text: str) -> tuple[tuple[str, ...], str | None]:
    """(Contact values, the first Expires value) of a security.txt; comments and other fields are skipped."""
    contacts: list[str] = []
    expires: str | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, colon, value = line.partition(":")
        if not colon:
            continue
        name, value = name.strip().lower(), value.strip()
        if name == "contact" and len(contacts) < 20:
            contacts.append(value[:300])
        elif name == "expires" and expires is None:
            expires = value[:100]
    return tuple(contacts), expires


def robots_disallows_all(text: str) -> bool:
    """Does the group that applies to every crawler (user-agent: *) disallow the whole site? RFC 9309 §2.2:
    consecutive user-agent lines open one group; `Disallow: /` matches every path unless an Allow rule opens
    some of it again (the longest match wins, so any Allow is a way back in)."""
    in_star_group = False
    group_lines_started = False
    disallow_root = allow_any = False
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        name, colon, value = line.partition(":")
        if not colon:
            continue
        name, value = name.strip().lower(), value.strip()
        if name == "user-agent":
            if group_lines_started:  # a user-agent line after rules starts a new group
                in_star_group = False
                group_lines_started = False
            in_star_group = in_star_group or value == "*"
        elif name in ("allow", "disallow"):
            group_lines_started = True
            if not in_star_group:
                continue
            if name == "disallow" and value == "/":
                disallow_root = True
            elif name == "allow" and value:
                allow_any = True
    return disallow_root and not allow_any
