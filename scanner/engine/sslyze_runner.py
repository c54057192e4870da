"""Run one sslyze scan request to its end, leaving no thread or result behind.

Owned by the worker-reliability work (issue 10): the place to stop sslyze on a deadline or a time limit.
"""

from __future__ import annotations

import warnings

from sslyze import Scanner, ServerScanRequest, ServerScanResult


def run_scan(request: ServerScanRequest, *, per_server_connections: int = 5) -> ServerScanResult:
    # One Scanner per target: a slow host in a shared batch delays every result.
    scanner = Scanner(per_server_concurrent_connections_limit=per_server_connections)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a bundled trust-store PEM triggers a harmless deprecation warning
        scanner.queue_scans([request])
        # Read the generator to its end: stopping after the first result leaves sslyze's producer
        # thread blocked forever, holding every scan's results (about 9 MiB and a thread per scan).
        (result,) = list(scanner.get_results())
    return result
