"""The Strict-Transport-Security header, parsed as RFC 6797 section 6.1 defines it."""

from __future__ import annotations

import re

from scanner.engine.results import HstsPolicy

HSTS_MAX_AGE_CAP = 10**12  # seconds (~31,700 years): larger values are clamped so they fit every consumer
_ASCII_DIGITS = re.compile(r"[0-9]+")  # never str.isdigit(): "²" and "٣" are digits to Python, not to RFC 6797


def parse_hsts(raw: str) -> HstsPolicy:
    """RFC 6797 section 6.1: directives split on ";", max-age is 1*DIGIT (ASCII), optionally quoted.

    A missing, unparsable or repeated max-age makes the policy invalid (max_age None); a repeated directive of
    any kind does too (RFC 6797 section 6.1, rule 2).
    """
    max_age: int | None = None
    seen: dict[str, int] = {}
    include_subdomains = preload = False
    valid = True
    for directive in raw.split(";"):
        name, has_value, value = directive.strip().partition("=")
        name = name.strip().lower()
        if not name:
            continue
        seen[name] = seen.get(name, 0) + 1
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name == "max-age":
            if has_value and _ASCII_DIGITS.fullmatch(value):
                max_age = min(int(value), HSTS_MAX_AGE_CAP)
            else:
                valid = False
        elif name == "includesubdomains":
            include_subdomains = True
        elif name == "preload":
            preload = True
    if not valid or seen.get("max-age") != 1 or any(count > 1 for count in seen.values()):
        max_age = None
    return HstsPolicy(raw=raw, max_age=max_age, include_subdomains=include_subdomains, preload=preload)
