"""The API schema's error answers: every operation lists the 4xx/5xx it can give, each in the one error shape.

drf-spectacular documents the success answers from each view's @extend_schema; the errors come from one place
(webui/api/errors.py), so they are documented from one place too, by this postprocessing hook.
"""

from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "A stable identifier, e.g. invalid, not_found, throttled."},
                "message": {"type": "string", "description": "What went wrong, for people."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Messages by input field; empty when the error is not about one field.",
                },
                "retry_after": {
                    "type": ["integer", "null"],
                    "description": "Seconds to wait before retrying (429 and 503; also in Retry-After).",
                },
            },
        }
    },
}

DESCRIPTIONS = {
    "400": "Bad input: a field is invalid or unknown, or the body is not JSON (or nests too deep).",
    "401": "No valid token or session. Repeated 401s from one address are throttled (429).",
    "403": "Not allowed yet: e.g. an account created through sign-up must confirm its e-mail address before scanning.",
    "404": "No such object for this account (another account's objects are not found either).",
    "409": "Conflicts with what exists: e.g. a portfolio with that name already exists.",
    "413": "The request body is too large (64 KiB; imports 4 MiB).",
    "415": "The body's media type is not one the operation takes.",
    "429": "Too many requests, scans or login failures: see Retry-After and error.retry_after.",
    "503": "The scan was stored but could not be queued (broker down); it is failed with the reason. Retry later.",
}

WRITE_METHODS = ("post", "put", "patch")


def error_codes(method: str, path: str, operation: dict) -> list[str]:
    """The error answers one operation can give."""
    codes = ["400", "429"]
    if operation.get("security") != [] and path != "/api/v1/token":
        codes += ["401", "403"]
    id_query = any(
        p.get("in") == "query" and p.get("name") in ("site", "portfolio") for p in operation.get("parameters", [])
    )
    if "{" in path or id_query:  # an id in the path, or a filter naming a site or portfolio the account lacks
        codes.append("404")
    if method in WRITE_METHODS:
        codes += ["409", "413", "415"]
    if method == "post" and path.rstrip("/").endswith(("/scans", "/scan")):
        codes.append("503")
    return sorted(set(codes))


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for code in error_codes(method, path, operation):
                responses.setdefault(
                    code, {"description": DESCRIPTIONS[code], "content": {"application/json": {"schema": reference}}}
                )
    return result
