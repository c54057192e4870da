"""Property-based fuzzing of target parsing: whatever a user types, the parser either returns a well-formed
Target or raises its own InvalidTarget, never anything else; and no spelling of an IPv4 address gets through."""

from __future__ import annotations

import ipaddress
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.imports import ImportLineError, _target_from_cells
from scanner.services import ScanRequestError
from scanner.targets import InvalidTarget, Target, parse_port, parse_target

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LDH_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

# Characters that make parsers disagree: digits of every script, dots and their look-alikes, URL syntax.
TRICKY = st.sampled_from(
    list("0123456789abcdefxX.:/?#@[]%-_ \t")
    + ["。", "．", "１", "²", "٤", "४", "\u200b", "\u0301", "ß", "ü", "xn--", "0x", "::", "https://", "\x00"]
)
hostish = st.lists(TRICKY, max_size=30).map("".join)
ports = st.one_of(st.none(), st.integers(min_value=-(2**70), max_value=2**70))


def well_formed(target: Target) -> bool:
    labels = target.host.split(".")
    return (
        len(target.host) <= 253
        and len(labels) >= 2
        and all(LDH_LABEL.match(label) for label in labels)
        and not re.fullmatch(r"[0-9]+|0x[0-9a-f]*", labels[-1])
        and 1 <= target.https_port <= 65535
        and 1 <= target.http_port <= 65535
    )


def parse_or_error(text, **kwargs) -> Target | None:
    try:
        return parse_target(text, **kwargs)
    except InvalidTarget as exc:
        assert str(exc).strip(), "an error without a message"
        return None


@FUZZ
@given(st.text(max_size=400))
def test_any_text_parses_to_a_well_formed_target_or_raises_invalid_target(text):
    target = parse_or_error(text)
    assert target is None or well_formed(target)


@FUZZ
@given(hostish, ports, ports)
def test_host_like_text_with_any_ports_parses_or_raises_invalid_target(text, https_port, http_port):
    target = parse_or_error(text, https_port=https_port, http_port=http_port)
    assert target is None or well_formed(target)


@FUZZ
@given(st.one_of(st.integers(), st.binary(), st.none(), st.lists(st.text(max_size=5))))
def test_non_text_input_raises_invalid_target(value):
    assert parse_or_error(value) is None


@FUZZ
@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.sampled_from(["", "https://", "http://"]),
    st.sampled_from(["", ".", ":443", ":8443"]),
)
def test_no_spelling_of_an_ipv4_address_is_accepted(value, prefix, suffix):
    a, b, c, d = ipaddress.IPv4Address(value).packed
    spellings = [
        str(ipaddress.IPv4Address(value)),
        str(value),
        hex(value),
        f"0{value:o}",
        f"{hex(a)}.{hex(b)}.{hex(c)}.{hex(d)}",
        f"0{a:o}.0{b:o}.0{c:o}.0{d:o}",
        f"{a}.{b}.{c * 256 + d}",
        f"{a}.{b * 65536 + c * 256 + d}",
    ]
    if prefix == "http://" and suffix.startswith(":"):
        suffix = ""  # an http:// port is refused for another reason; keep the property about the host
    for spelling in spellings:
        assert parse_or_error(f"{prefix}{spelling}{suffix}") is None, spelling


@FUZZ
@given(st.text(max_size=12))
def test_a_port_is_ascii_digits_from_1_to_65535_or_an_invalid_target(text):
    try:
        port = parse_port(text)
    except InvalidTarget:
        return
    assert text.strip().isascii() and text.strip().isdigit()
    assert 1 <= port <= 65535


@FUZZ
@given(st.lists(st.text(max_size=40), max_size=5))
def test_an_import_line_becomes_a_target_or_a_line_error(cells):
    try:
        target, tags = _target_from_cells(cells)
    except (ImportLineError, ScanRequestError):
        return
    assert well_formed(target)
    assert all(tag and ";" not in tag for tag in tags)
