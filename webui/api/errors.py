"""One error body for every API failure: {"error": {"code": ..., "message": ..., "fields": {...}}}."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from scanner.services import ScanNotQueued, ScanRequestError, ScanRequestTooSoon


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


class EvidenceNotReady(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "not_ready"
    default_detail = "The report is not built yet."


def error_response(code: str, message: str, *, status_code: int, fields: dict | None = None) -> Response:
    return Response({"error": {"code": code, "message": message, "fields": fields or {}}}, status=status_code)


# How long a client should wait before trying again while the database is unreachable.
DATABASE_RETRY_AFTER_S = 10


def api_exception_handler(exc, context):
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is unreachable (restart, failover, a statement that hit DATABASE_STATEMENT_TIMEOUT):
        # nothing is wrong with the request, and the same request will work again shortly.
        response = error_response(
            "database_unavailable", "The database is unavailable right now; try again shortly.", status_code=503
        )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
        return response
    if isinstance(exc, RequestDataTooBig):  # Django's own cap (DATA_UPLOAD_MAX_MEMORY_SIZE), hit as DRF reads the body
        return error_response(PayloadTooLarge.default_code, PayloadTooLarge.default_detail, status_code=413)
    if isinstance(exc, ScanNotQueued):
        # Stored but never sent: the service cannot run scans right now. Retrying later is the right move.
        response = error_response(exc.code, exc.message, status_code=503)
        response["Retry-After"] = "30"
        return response
    if isinstance(exc, ScanRequestTooSoon):
        response = error_response(exc.code, exc.message, status_code=429, fields={exc.field: [exc.message]})
        response.data["error"]["retry_after"] = exc.retry_after
        response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, ScanRequestError):
        # 403 for ScanRequestForbidden; 409 (RFC 9110 section 15.5.10) when the input clashes with what exists.
        code = 409 if exc.code == "duplicate" else getattr(exc, "status", 400)
        return error_response(exc.code, exc.message, status_code=code, fields={exc.field: [exc.message]})

    response = exception_handler(exc, context)  # maps Http404, PermissionDenied and APIException
    if response is None:
        return None  # a real bug: let Django's 500 handling (and its logging) take it

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = _first_message(fields) or "The request is invalid."
        response.data = {"error": {"code": "invalid", "message": message, "fields": fields}}
        return response

    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait) if exc.wait is not None else None
        message = str(exc.detail)
        response.data = {"error": {"code": "throttled", "message": message, "fields": {}, "retry_after": wait}}
        if wait is not None:
            response["Retry-After"] = str(wait)
        return response

    detail = getattr(exc, "detail", None)
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    if isinstance(exc, exceptions.NotFound) or response.status_code == 404:
        code, detail = "not_found", "Not found."
    response.data = {"error": {"code": str(code), "message": str(detail), "fields": {}}}
    return response


def _flatten(detail) -> dict[str, list[str]]:
    """ValidationError detail as {field: [messages]}; errors not tied to a field go under "non_field_errors"."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for name, value in detail.items():
            if isinstance(value, dict):
                for sub, messages in _flatten(value).items():
                    flat[f"{name}.{sub}"] = messages
            else:
                flat[str(name)] = [str(item) for item in (value if isinstance(value, list) else [value])]
        return flat
    items = detail if isinstance(detail, list) else [detail]
    return {"non_field_errors": [str(item) for item in items]}


def _first_message(fields: dict[str, list[str]]) -> str | None:
    for name, messages in fields.items():
        if messages:
            return messages[0] if name == "non_field_errors" else f"{name}: {messages[0]}"
    return None


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login: 429 with the time to retry, in the API's shape under /api/."""
    from django.conf import settings
    from django.http import JsonResponse
    from django.shortcuts import render

    wait = int(settings.AXES_COOLOFF_TIME.total_seconds())
    message = f"Too many failed logins for this account or from this address. Try again in {wait // 60} minutes."
    if request.path.startswith("/api/"):
        body = {"error": {"code": "locked_out", "message": message, "fields": {}, "retry_after": wait}}
        response = JsonResponse(body, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(wait)
    return response


def json_or_html_404(request, exception=None):
    """URLs under /api/ that match no route answer in the API's error shape too (used when DEBUG is off)."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        body = {"error": {"code": "not_found", "message": f"No API endpoint at {request.path}.", "fields": {}}}
        return JsonResponse(body, status=404)
    return page_not_found(request, exception)


def json_or_html_500(request):
    from django.http import JsonResponse
    from django.views.defaults import server_error

    if request.path.startswith("/api/"):
        body = {"error": {"code": "server_error", "message": "Internal server error.", "fields": {}}}
        return JsonResponse(body, status=500)
    return server_error(request)
