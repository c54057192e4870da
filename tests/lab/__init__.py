"""A local lab of TLS/HTTP servers on loopback, one address per case, for real scans.

Each case gets its own 127.x.y.z address so that it can listen on the real
ports 443/80 (when running as root) exactly like a production site; scanners
reach it by pinning `<case>.lab.test` to that address.
"""

from __future__ import annotations

import ipaddress
import random
import socket
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from .cases import CaseSpec, all_cases
from .pki import LabPKI
from .servers import HostileHttpServer, HttpServer, HttpsServer, ServerGroup, TarpitServer

__all__ = ["Lab", "LabCase"]


@dataclass(frozen=True)
class LabCase:
    name: str
    hostname: str
    description: str
    ip: str
    https_port: int
    http_port: int
    has_http: bool

    @property
    def pin(self) -> str:
        return f"{self.hostname}:{self.ip}"


def _random_network() -> ipaddress.IPv4Network:
    # Random /24 inside 127/8 so parallel test runs never fight over addresses.
    return ipaddress.IPv4Network(f"127.{random.randint(64, 250)}.{random.randint(0, 255)}.0/24")


def _can_bind_privileged(ip: str) -> bool:
    sock = socket.socket()
    try:
        sock.bind((ip, 443))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def _unused_port(ip: str) -> int:
    sock = socket.socket()
    sock.bind((ip, 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class Lab:
    def __init__(self, network: str | None = None, directory: Path | None = None) -> None:
        self.network = ipaddress.IPv4Network(network) if network else _random_network()
        self._tmp = None if directory else tempfile.TemporaryDirectory(prefix="https-lab-")
        self.directory = Path(directory or self._tmp.name)
        self.specs = all_cases()
        self.cases: list[LabCase] = []
        self._group = ServerGroup()
        self.pki: LabPKI | None = None

    @property
    def ca_file(self) -> str:
        assert self.pki is not None, "lab not started"
        return str(self.pki.ca_file)

    @property
    def allowed_network(self) -> str:
        return str(self.network)

    def case(self, name: str) -> LabCase:
        for case in self.cases:
            if case.name == name:
                return case
        raise KeyError(name)

    def resolve_map(self) -> list[str]:
        return [case.pin for case in self.cases]

    def start(self) -> Lab:
        self.pki = LabPKI(self.directory)
        hosts = list(self.network.hosts())
        privileged = _can_bind_privileged(str(hosts[0]))
        try:
            for index, spec in enumerate(self.specs):
                self.cases.append(self._start_case(spec, str(hosts[index]), privileged))
            self._group.start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_case(self, spec: CaseSpec, ip: str, privileged: bool) -> LabCase:
        https_port, http_port = (443, 80) if privileged else (0, 0)
        if spec.kind == "tarpit":
            https = self._group.add(TarpitServer(ip, https_port))
            http = self._group.add(TarpitServer(ip, http_port))
            return self._case(spec, ip, https.port, http.port, True)
        if spec.kind == "closed":
            closed_https = https_port or _unused_port(ip)
            closed_http = http_port or _unused_port(ip)
            return self._case(spec, ip, closed_https, closed_http, False)

        credentials = self.pki.issue(spec.name, spec.leaf)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = spec.min_version
        context.maximum_version = spec.max_version
        context.set_ciphers(spec.ciphers)
        if not spec.server_preference:
            context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
        context.load_cert_chain(credentials.chain_file, credentials.key_file)
        if spec.hostile_https:
            https = self._group.add(HostileHttpServer(spec.hostile_https, ip, https_port, tls=context))
        else:
            https = self._group.add(HttpsServer(ip, https_port, context, spec.https_routes))
        if spec.hostile_http:
            http = self._group.add(HostileHttpServer(spec.hostile_http, ip, http_port))
            return self._case(spec, ip, https.port, http.port, True)
        if spec.http_routes is None:
            return self._case(spec, ip, https.port, http_port or _unused_port(ip), False)
        http = self._group.add(HttpServer(ip, http_port, spec.http_routes))
        return self._case(spec, ip, https.port, http.port, True)

    @staticmethod
    def _case(spec: CaseSpec, ip: str, https_port: int, http_port: int, has_http: bool) -> LabCase:
        return LabCase(spec.name, spec.hostname, spec.description, ip, https_port, http_port, has_http)

    def stop(self) -> None:
        self._group.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
