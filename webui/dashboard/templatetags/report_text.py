"""Text from stored reports, made readable: Python collection literals that slipped into a finding's words
(e.g. "{'secp521r1', 'X448'}") become plain lists ("secp521r1, X448"), and enum names become words."""

from __future__ import annotations

import re

from django import template

register = template.Library()

# A set, list or tuple literal of quoted strings: {'a', 'b'}, ['a'], ('a', 'b').
_LITERAL = re.compile(r"""[\[{(]\s*((?:'[^']*'|"[^"]*")(?:\s*,\s*(?:'[^']*'|"[^"]*"))*)\s*,?\s*[\]})]""")
_ITEM = re.compile(r"""'([^']*)'|"([^"]*)\"""")
_ENUM = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")


def readable_text(value: object) -> str:
    text = "" if value is None else str(value)
    text = _LITERAL.sub(lambda m: ", ".join(sorted(a or b for a, b in _ITEM.findall(m.group(1)))), text)
    text = text.replace("set()", "none")
    if _ENUM.match(text):  # e.g. NOT_VULNERABLE_RSA_NOT_SUPPORTED
        text = text.replace("_", " ").lower()
    return text


@register.filter
def readable(value: object) -> str:
    return readable_text(value)


_MORE = re.compile(r"\band \d+ more\b")
# Where the full list behind a shortened finding is on the report page, by the finding's area.
FULL_LIST_ANCHORS = {"protocol": "suites-heading", "vulnerability": "suites-heading", "http": "mixed-heading"}


@register.filter
def full_list_anchor(finding: dict) -> str:
    """The section holding the whole list when a finding's detail shortens one ("… and 3 more"), else ""."""
    if not isinstance(finding, dict) or not _MORE.search(str(finding.get("detail") or "")):
        return ""
    return FULL_LIST_ANCHORS.get(str(finding.get("area") or ""), "findings-heading")
