"""The HTTP probe's parsers on their own: HSTS with ASCII-only numbers, mixed content and the canonical link."""

from __future__ import annotations

import time

import pytest

from scanner.engine.http.redirects import HSTS_MAX_AGE_CAP, MAX_MIXED_ITEMS, parse_hsts, read_page

PAGE = "https://shop.example/catalogue/"


@pytest.mark.parametrize("value", ["²", "³1536000", "٣١٥٣٦٠٠٠", "３１５３６０００", "1²", "½"])
def test_hsts_max_age_with_non_ascii_digits_is_invalid_not_a_crash(value):
    policy = parse_hsts(f"max-age={value}; includeSubDomains")
    assert policy.max_age is None and not policy.valid
    assert policy.include_subdomains


def test_hsts_max_age_in_ascii_digits_is_read():
    assert parse_hsts("max-age=31536000; includeSubDomains; preload").max_age == 31536000


def test_hsts_quoted_max_age_is_read():
    assert parse_hsts('max-age="600"').max_age == 600


@pytest.mark.parametrize("raw", ["max-age=-1", "max-age=+5", "max-age= ", "max-age", "max-age=1e6", "max-age=0x10"])
def test_hsts_max_age_that_is_not_plain_digits_is_invalid(raw):
    assert parse_hsts(raw).max_age is None


def test_hsts_with_two_max_ages_is_invalid():
    assert parse_hsts("max-age=600; max-age=600").max_age is None


def test_hsts_with_a_repeated_directive_is_invalid():
    assert parse_hsts("max-age=600; preload; preload").max_age is None


def test_hsts_huge_max_age_is_clamped_not_a_crash():
    assert parse_hsts("max-age=" + "9" * 400).max_age == HSTS_MAX_AGE_CAP


def test_hsts_directive_names_are_case_insensitive():
    policy = parse_hsts("Max-Age=600; INCLUDESUBDOMAINS; Preload")
    assert (policy.max_age, policy.include_subdomains, policy.preload) == (600, True, True)


def test_http_script_is_active_mixed_content():
    facts = read_page(PAGE, b'<script src="http://cdn.example/a.js"></script>')
    assert [(i.url, i.kind, i.element) for i in facts.mixed_content] == [
        ("http://cdn.example/a.js", "active", "script src")
    ]


@pytest.mark.parametrize(
    ("html", "element"),
    [
        ('<link rel="stylesheet" href="http://cdn.example/s.css">', "link rel=stylesheet href"),
        ('<link rel="Alternate StyleSheet" href="http://cdn.example/s.css">', "link rel=stylesheet href"),
        ('<iframe src="http://cdn.example/f"></iframe>', "iframe src"),
        ('<form action="http://cdn.example/post"></form>', "form action"),
        ('<object data="http://cdn.example/o.swf"></object>', "object data"),
        ('<embed src="http://cdn.example/e.swf">', "embed src"),
    ],
)
def test_stylesheets_frames_forms_and_plugins_over_http_are_active(html, element):
    [item] = read_page(PAGE, html.encode()).mixed_content
    assert (item.kind, item.element) == ("active", element)


@pytest.mark.parametrize(
    ("html", "element"),
    [
        ('<img src="http://cdn.example/i.png">', "img src"),
        ('<audio src="http://cdn.example/a.mp3"></audio>', "audio src"),
        ('<video src="http://cdn.example/v.mp4"></video>', "video src"),
        ('<video><source src="http://cdn.example/v.webm"></video>', "source src"),
        ('<img srcset="/small.png 1x, http://cdn.example/big.png 2x">', "img srcset"),
        ('<input type="image" src="http://cdn.example/go.png">', "input src"),
    ],
)
def test_images_and_media_over_http_are_passive(html, element):
    [item] = read_page(PAGE, html.encode()).mixed_content
    assert (item.kind, item.element) == ("passive", element)


def test_https_relative_and_protocol_relative_references_are_not_mixed():
    html = b'<script src="/a.js"></script><img src="//cdn.example/i.png"><img src="https://cdn.example/j.png">'
    assert read_page(PAGE, html).mixed_content == ()


def test_a_plain_link_to_http_is_not_mixed_content():
    assert read_page(PAGE, b'<a href="http://elsewhere.example/">x</a>').mixed_content == ()


def test_a_base_href_over_http_makes_relative_scripts_mixed():
    [item] = read_page(PAGE, b'<base href="http://cdn.example/"><script src="app.js"></script>').mixed_content
    assert item.url == "http://cdn.example/app.js"


def test_the_same_url_in_the_same_element_is_listed_once():
    html = b'<img src="http://cdn.example/i.png">' * 5
    assert len(read_page(PAGE, html).mixed_content) == 1


def test_mixed_content_items_are_capped():
    html = "".join(f'<img src="http://cdn.example/{n}.png">' for n in range(500)).encode()
    assert len(read_page(PAGE, html).mixed_content) == MAX_MIXED_ITEMS


def test_the_canonical_link_is_read_and_resolved():
    facts = read_page(PAGE, b'<link rel="canonical" href="/catalogue">')
    assert facts.canonical_url == "https://shop.example/catalogue"


def test_the_first_canonical_link_wins():
    html = b'<link rel=canonical href="http://shop.example/"><link rel=canonical href="https://shop.example/">'
    assert read_page(PAGE, html).canonical_url == "http://shop.example/"


def test_tag_soup_after_a_script_still_lets_the_script_be_found():
    html = b'<script src="http://cdn.example/a.js"></script><![foo bar <<<</ <!-- <img src="http://cdn'
    assert [item.url for item in read_page(PAGE, html).mixed_content] == ["http://cdn.example/a.js"]


@pytest.mark.parametrize("unit", [b"<a", b"<!", b"</", b"<?", b"<!--", b"<![CDATA[", b"< "])
def test_a_megabyte_of_hostile_markup_is_read_in_well_under_a_second_or_two(unit):
    # html.parser needs minutes for some of these (quadratic rescans); the probe must not hang on a page.
    body = unit * (1024 * 1024 // len(unit))
    started = time.monotonic()
    read_page(PAGE, body)
    assert time.monotonic() - started < 2.0


def test_a_page_in_a_declared_charset_is_decoded():
    html = '<img alt="café" src="http://cdn.example/é.png">'.encode("latin-1")
    [item] = read_page(PAGE, html, "text/html; charset=ISO-8859-1").mixed_content
    assert item.url.startswith("http://cdn.example/")


def test_a_megabyte_of_references_is_read_in_well_under_a_second_or_two():
    body = b'<img src="http://cdn.example/logo.png">' * (1024 * 1024 // 39)
    started = time.monotonic()
    facts = read_page(PAGE, body)
    assert time.monotonic() - started < 2.0
    assert len(facts.mixed_content) == 1
