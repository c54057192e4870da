"""A scan's detail document as JSON bytes. A finished scan does not change, so its document is rendered once,
stored (scanner.models.ScanDocument) and served as stored afterwards, with a strong ETag: a client that sends
it back in If-None-Match gets a 304 without the body.

The stored bytes carry the scan's own link relative to the service (`"url":"/api/v1/scans/7"`); each answer
puts the origin the request came to in front of it, as the rendered document would have.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import reverse
from django.utils.http import parse_etags
from rest_framework.renderers import JSONRenderer

from scanner import selectors, services
from scanner.models import Scan
from webui.api.serializers import ScanDetailOutput

ROOT = Path(__file__).resolve().parent.parent.parent
# What decides a stored document's bytes: the serializers, the report document and the compliance profiles it
# is evaluated against at read time. A deploy that changes any of them renders finished scans again.
RENDERED_BY = (
    "webui/api/serializers.py",
    "webui/api/documents.py",
    "scanner/report.py",
    "scanner/report_reader.py",
    "scanner/report_sections.py",
    "scanner/grading/compliance/__init__.py",
    "scanner/grading/compliance/checks.py",
    "scanner/grading/compliance/profiles.toml",
)
# Authenticated: no shared cache may keep it; a browser may, but asks each time (revalidating with the ETag).
CACHE_CONTROL = "private, no-cache"

_renderer = JSONRenderer()


@functools.cache
def document_version() -> str:
    digest = hashlib.sha256()
    for name in RENDERED_BY:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()[:32]


def sends_plain_json(request) -> bool:
    """The answer is compact JSON (not the browsable API, not indented on request): what is stored."""
    return type(request.accepted_renderer) is JSONRenderer and "indent" not in (request.accepted_media_type or "")


def render(scan: Scan) -> bytes:
    """The detail document with its links relative (no request in the serializer's context)."""
    return _renderer.render(ScanDetailOutput(scan, context={}).data)


def scan_detail_response(request: HttpRequest, pk: int) -> HttpResponse:
    stored = selectors.scan_document_get(user=request.user, scan_id=pk)
    if stored is None:
        raise Http404
    finished = stored.status not in Scan.ACTIVE_STATUSES
    version = document_version()
    if finished and stored.body and stored.version == version and stored.rendered_portfolio_id == stored.portfolio_id:
        body = stored.body
    else:
        scan = selectors.scan_get(user=request.user, scan_id=pk)
        if scan is None:  # deleted since the first read
            raise Http404
        body = render(scan)
        finished = not scan.is_active
        if finished:
            services.scan_document_store(scan, version=version, body=body)
    body = _with_origin(body, pk, request)
    if not finished:
        return HttpResponse(body, content_type="application/json")
    etag = f'"{hashlib.sha256(body).hexdigest()[:40]}"'
    if _matches(request.META.get("HTTP_IF_NONE_MATCH", ""), etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response


def _with_origin(body: bytes, pk: int, request: HttpRequest) -> bytes:
    path = reverse("api:scan-detail", kwargs={"pk": pk})
    relative = b'{"id":%d,"url":%s' % (pk, _renderer.render(path))
    if not body.startswith(relative):
        raise ValueError(f"scan {pk}'s document does not begin with its id and link")
    return b'{"id":%d,"url":%s' % (pk, _renderer.render(request.build_absolute_uri(path))) + body[len(relative) :]


def _matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x"."""
    if not if_none_match:
        return False
    tags = parse_etags(if_none_match)
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)
