"""The final HTTPS page's HTML, read once: mixed content, canonical links and the scripts it loads (for
Subresource Integrity). Split out of http.py, which fetches the page and calls `read_page`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
from lxml import etree

from scanner.engine.results import MixedContentItem
from scanner.engine.web_results import Script

MAX_STORED_URL = 2048  # characters of any URL kept in the result (a 60 KB Location is stored once, cut here)
MAX_MIXED_ITEMS = 50  # offending URLs kept in the result; the finding needs examples, not a full crawl
MAX_SCRIPTS = 200  # <script src> kept for the SRI test; a page with more is judged on these
MAX_CANONICALS = 10  # <link rel=canonical> kept; more than one is already the finding


def cap_url(url: str) -> str:
    return url if len(url) <= MAX_STORED_URL else url[:MAX_STORED_URL] + "…"


# (tag, attribute) -> kind, after the W3C Mixed Content spec: "blockable" (active) and "upgradeable" (passive).
_ACTIVE = {
    ("script", "src"),
    ("iframe", "src"),
    ("frame", "src"),
    ("form", "action"),
    ("object", "data"),
    ("embed", "src"),
}
_PASSIVE = {
    ("img", "src"),
    ("img", "srcset"),
    ("audio", "src"),
    ("video", "src"),
    ("video", "poster"),
    ("source", "src"),
    ("source", "srcset"),
    ("track", "src"),
    ("input", "src"),
}
_STYLESHEET_RELS = {"stylesheet"}
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


class _PageReader:
    """An lxml parser target: collects http:// subresources and the canonical link from start tags; URLs are
    resolved against the page (or its first <base href>)."""

    def __init__(self, page_url: str) -> None:
        self.base = page_url
        self.base_seen = False
        self.items: list[MixedContentItem] = []
        self._seen: set[tuple[str, str]] = set()
        self.canonical: str | None = None
        self.canonicals: list[str] = []
        self.scripts: list[Script] = []

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        tag = tag.lower() if isinstance(tag, str) else ""
        values = {str(name).lower(): value for name, value in attrib.items()}
        if tag == "base" and not self.base_seen and values.get("href"):
            self.base_seen = True
            self.base = self._resolve(values["href"]) or self.base
            return
        if tag == "link":
            rels = {rel.lower() for rel in values.get("rel", "").split()}
            href = values.get("href")
            if href is not None and "canonical" in rels and len(self.canonicals) < MAX_CANONICALS:
                resolved = self._resolve(href) if href.strip() else None
                self.canonicals.append(cap_url(resolved) if resolved else href)
                if self.canonical is None and resolved:
                    self.canonical = resolved
            if href and rels & _STYLESHEET_RELS:
                self._add(href, "active", "link rel=stylesheet href")
            return
        if tag == "script" and values.get("src") is not None and len(self.scripts) < MAX_SCRIPTS:
            src = values["src"].strip()
            resolved = self._resolve(src) if src else None
            self.scripts.append(
                Script(
                    src=cap_url(src),
                    url=cap_url(resolved) if resolved else None,
                    integrity=bool(values.get("integrity", "").strip()),
                    protocol_relative=src.startswith("//"),
                )
            )
        for name, value in values.items():
            pair = (tag, name)
            if pair in _ACTIVE:
                self._add(value, "active", f"{tag} {name}")
            elif pair in _PASSIVE:
                if tag == "input" and values.get("type", "").lower() != "image":
                    continue
                for url in _srcset_urls(value) if name == "srcset" else (value,):
                    self._add(url, "passive", f"{tag} {name}")

    def end(self, tag: str) -> None:
        pass

    def data(self, data: str) -> None:
        pass

    def close(self) -> None:
        return None

    def _resolve(self, reference: str) -> str | None:
        try:
            return str(httpx.URL(self.base).join(reference.strip()))
        except (httpx.InvalidURL, ValueError, TypeError):
            return None

    def _add(self, reference: str, kind: str, element: str) -> None:
        if len(self.items) >= MAX_MIXED_ITEMS:
            return
        reference = reference.strip()
        # Cheap test first (a page may hold tens of thousands of references): only an explicit http: scheme,
        # or a relative reference under an http:// <base>, can be mixed content.
        scheme = _SCHEME.match(reference)
        if scheme:
            if scheme.group(1).lower() != "http":
                return
        elif not self.base.lower().startswith("http://"):
            return
        if (reference, element) in self._seen:
            return
        self._seen.add((reference, element))
        url = self._resolve(reference)
        if url is None or not url.lower().startswith("http://"):
            return
        self.items.append(MixedContentItem(url=cap_url(url), kind=kind, element=element))


def _srcset_urls(srcset: str) -> list[str]:
    # "a.jpg 1x, http://b/c.jpg 2x": each candidate is a URL then an optional descriptor.
    return [candidate.split()[0] for candidate in srcset.split(",") if candidate.split()]


def _charset(content_type: str) -> str | None:
    match = re.search(r"charset=\"?([A-Za-z0-9._:-]+)", content_type, re.ASCII)
    return match.group(1) if match else None


@dataclass(frozen=True)
class PageFacts:
    mixed_content: tuple[MixedContentItem, ...]
    canonical_url: str | None
    canonical_links: tuple[str, ...] = ()  # every <link rel=canonical href> (resolved when valid), in order
    scripts: tuple[Script, ...] = ()


def read_page(url: str, body: bytes, content_type: str = "text/html") -> PageFacts:
    """Mixed content, canonical links and scripts of one HTML page (`body` already capped by the caller).

    libxml2's HTML parser (through lxml) reads any tag soup in linear time; the standard library's html.parser
    goes quadratic on some malformed input (a megabyte of "<a" takes minutes), which a hostile page would use.
    """
    reader = _PageReader(url)
    try:
        parser = etree.HTMLParser(target=reader, encoding=_charset(content_type), recover=True, no_network=True)
    except LookupError:  # a charset libxml2 does not know: let it guess from the document
        parser = etree.HTMLParser(target=reader, recover=True, no_network=True)
    try:
        parser.feed(body)
        parser.close()
    except etree.LxmlError:
        pass  # unparsable past some point (or empty): keep what was read
    return PageFacts(
        mixed_content=tuple(reader.items),
        canonical_url=cap_url(reader.canonical) if reader.canonical else None,
        canonical_links=tuple(reader.canonicals),
        scripts=tuple(reader.scripts),
    )


def is_html(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("", "text/html", "application/xhtml+xml")
