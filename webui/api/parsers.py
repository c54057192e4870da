"""The API's body parsers: JSON and text with byte caps and a nesting limit, so a hostile body is a 400 or
413 in the API's error shape, never a 500."""

from __future__ import annotations

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser

from scanner import imports
from webui.api.errors import PayloadTooLarge

# Scan requests are a few dozen bytes; nothing legitimate comes close to this.
MAX_BODY_BYTES = 64 * 1024
MAX_IMPORT_BYTES = imports.MAX_IMPORT_BYTES


class LimitedJSONParser(JSONParser):
    """JSON only, and at most max_bytes: the body is never read past the limit."""

    max_bytes = MAX_BODY_BYTES

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise PayloadTooLarge(f"The request body is larger than {self.max_bytes // 1024} KiB.")
        raw = stream.read(self.max_bytes + 1)
        if len(raw) > self.max_bytes:
            raise PayloadTooLarge(f"The request body is larger than {self.max_bytes // 1024} KiB.")
        try:
            data = json.loads(raw.decode((parser_context or {}).get("encoding") or "utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"The request body is not valid JSON: {exc}") from None
        except RecursionError:  # "[[[[…" thousands deep: the parser's own recursion gives out
            raise ParseError(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.") from None
        if _depth_exceeds(data, MAX_JSON_DEPTH):
            # Shallower nesting still parses, but every later step that walks it (validation, error messages)
            # would recurse as deep: nothing the API takes nests more than a few levels.
            raise ParseError(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")
        return data


MAX_JSON_DEPTH = 32


def _depth_exceeds(data, limit: int) -> bool:
    """True when `data` (parsed JSON) nests lists/objects more than `limit` deep; iterative, so never recursing."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
    return False


class LimitedTextParser(BaseParser):
    """text/plain bodies (bulk imports), read up to MAX_IMPORT_BYTES and returned as {"text": ...}."""

    media_type = "text/plain"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read(MAX_IMPORT_BYTES + 1)
        if len(raw) > MAX_IMPORT_BYTES:
            raise PayloadTooLarge(f"The import is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB.")
        try:
            return {"text": raw.decode((parser_context or {}).get("encoding") or "utf-8")}
        except UnicodeDecodeError as exc:
            raise ParseError(f"The import is not valid UTF-8 text: {exc}") from None


class ImportJSONParser(LimitedJSONParser):
    max_bytes = MAX_IMPORT_BYTES
