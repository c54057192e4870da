"""The one JSON document a scan produces: the CLI prints it, the API serves it, the database stores it."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from .engine.results import ScanResult

SCHEMA_VERSION = 1


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def build_report(result: ScanResult, grades) -> dict[str, Any]:
    findings = [finding.to_dict() for finding in grades.findings]
    return {
        "schema_version": SCHEMA_VERSION,
        "host": result.host,
        "https_port": result.https_port,
        "http_port": result.http_port,
        "ip": result.ip,
        "status": result.status,
        "error": result.error,
        "started_at": result.started_at.isoformat(),
        "duration_s": result.duration_s,
        "grades": {
            "security": grades.security,
            "security_ignoring_trust": grades.security_ignoring_trust,
            "score": grades.score,
            "seo_score": grades.seo_score,
            "seo_grade": grades.seo_grade,
        },
        "findings": findings,
        "tls": _plain(result.tls),
        "http": _plain(result.http) if result.http else None,
    }
