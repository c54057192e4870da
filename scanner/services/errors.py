"""The errors services raise: each carries a message meant for the person who typed the input."""

from __future__ import annotations


class ScanRequestError(ValueError):
    """Input the service will not act on. `field` names the input it is about, for form/API errors."""

    def __init__(self, message: str, *, field: str = "host", code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class ScanNotQueued(ScanRequestError):
    """The scan row was stored but its message could not be sent (broker down); the scan is failed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="host", code="queue_unavailable")


class ScanRequestTooSoon(ScanRequestError):
    """A request refused for now, not for good (HTTP 429): `retry_after` says in how many seconds to retry."""

    status = 429

    def __init__(self, message: str, *, retry_after: int, field: str = "host", code: str = "too_soon") -> None:
        super().__init__(message, field=field, code=code)
        self.retry_after = retry_after


class ScanRequestForbidden(ScanRequestError):
    """The account may not do this until it does something first (HTTP 403), e.g. confirm its e-mail address."""

    status = 403
