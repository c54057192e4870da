"""Which application protocols the HTTPS server accepts, learned from real ALPN handshakes (RFC 7301).

One handshake per protocol, each offering only that protocol: the server either selects it or does not (it
may also refuse with the no_application_protocol alert). A server without ALPN selects nothing, which the
report shows as an empty list: HTTP/1.1 still works there, HTTP/2 does not (RFC 9113 §3.2 requires ALPN "h2"
over TLS).
"""

from __future__ import annotations

import socket
import ssl
import time
from concurrent.futures import Executor

PROTOCOLS = ("h2", "http/1.1")


def _context(protocol: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # Only the protocol selection is measured here; the certificate is judged by the TLS probe.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols([protocol])
    return context


def accepted_protocols(
    host: str, ip: str, port: int, timeout: float, *, deadline: float, pool: Executor | None = None
) -> tuple[str, ...]:
    """The PROTOCOLS the server at `ip` (already approved by the network policy) selects for `host`; every
    socket operation waits at most `timeout` and never past `deadline` (time.monotonic()). With `pool`, the
    handshakes run there side by side; without, one after another.

    Raises OSError (refused, timed out) when no handshake could be made at all.
    """
    if pool is None:
        answers = [_offer(host, ip, port, protocol, timeout, deadline) for protocol in PROTOCOLS]
    else:
        futures = [pool.submit(_offer, host, ip, port, protocol, timeout, deadline) for protocol in PROTOCOLS]
        answers = [future.result() for future in futures]
    if not any(answered for answered, _, _ in answers):
        raise next(error for _, _, error in answers if error is not None)
    return tuple(protocol for protocol, (_, accepted, _) in zip(PROTOCOLS, answers, strict=True) if accepted)


def _offer(
    host: str, ip: str, port: int, protocol: str, timeout: float, deadline: float
) -> tuple[bool, bool, OSError | None]:
    """One handshake offering only `protocol`: (the server answered, it selected `protocol`, the error if any)."""
    left = deadline - time.monotonic()
    if left <= 0:
        # A partial list would read as "refused" for the protocols not tried: no answer instead.
        raise TimeoutError("the HTTP probe's deadline passed before every protocol was tried")
    try:
        with (
            socket.create_connection((ip, port), timeout=min(timeout, left)) as raw,
            _context(protocol).wrap_socket(raw, server_hostname=host) as tls,
        ):
            return True, tls.selected_alpn_protocol() == protocol, None
    except ssl.SSLError as exc:
        return True, False, exc  # a TLS alert is an answer: this protocol is refused
    except OSError as exc:
        return False, False, exc
