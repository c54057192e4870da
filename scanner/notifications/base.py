"""What every channel kind shares: the message it is given, the error it raises, the one HTTP POST."""

from __future__ import annotations

from dataclasses import dataclass

from scanner import config


@dataclass(frozen=True)
class Message:
    """An alert (or a test) in channel-neutral words; each kind renders it in its own format."""

    title: str
    text: str
    kind: str  # the alert kind, or "test"
    url: str  # where the reader can see more (the site's report), absolute when the site's base URL is set
    site_host: str = ""
    site_id: int | None = None
    alert_id: int | None = None
    scan_id: int | None = None
    created_at: str = ""
    site_port: int | None = None
    portfolios: tuple[str, ...] = ()  # names of the portfolios the site is in, when the alert was sent
    tags: tuple[str, ...] = ()
    details: dict | None = None  # why (scanner.alert_reasons.scan_details), None for a test message

    @property
    def context(self) -> str:
        """Where the site belongs, in one line: which client an alert concerns is the first thing asked."""
        if not self.site_host:
            return ""
        parts = [f"Site: {self.site_host}"]
        parts.append(f"Portfolio: {', '.join(self.portfolios)}" if self.portfolios else "Portfolio: none")
        if self.tags:
            parts.append(f"Tags: {', '.join(self.tags)}")
        return " | ".join(parts)


class DeliveryError(Exception):
    """A send that did not succeed. `retryable` says whether trying again later can help."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


def post_json(url: str, body: bytes, *, headers: dict[str, str] | None = None) -> None:
    """POST `body` through scanner.outbound (network policy, pinned address, one deadline).

    2xx is success; 5xx, 429 and network trouble are retryable; other answers and refused addresses are not.
    """
    from scanner import outbound

    limits = outbound.Limits(
        connect_timeout=config.notify_timeout(), deadline=config.notify_timeout(), max_body=16 * 1024
    )
    try:
        response = outbound.request(
            "POST",
            url,
            policy=config.network_policy(),
            limits=limits,
            headers={"Content-Type": "application/json", **(headers or {})},
            content=body,
        )
    except outbound.OutboundRefused as exc:
        raise DeliveryError(f"refused: {exc}", retryable=False) from None
    except outbound.OutboundError as exc:
        raise DeliveryError(str(exc), retryable=True) from None
    if 200 <= response.status < 300:
        return
    answer = response.body[:200].decode("utf-8", "replace").strip()
    reason = f"the receiver answered HTTP {response.status}" + (f": {answer}" if answer else "")
    raise DeliveryError(reason, retryable=response.status >= 500 or response.status == 429)
