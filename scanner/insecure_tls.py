"""The TLS context of the HTTP-side probes (the pre-flight handshake, the HTTP probe's HTTPS requests), apart from
the outbound client so that what only needs the context does not import httpx."""

from __future__ import annotations

import functools
import ssl


@functools.cache
def insecure_tls_context() -> ssl.SSLContext:
    """For the HTTP probe: certificate problems are the TLS probe's job; here we want the HTTP answers of any
    server a browser might still reach, old protocols included. One per process: an SSLContext is safe to
    share between threads, and building one costs more than the handshake's own Python work."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context
