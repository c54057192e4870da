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

import gmpy2

from .cases import CaseSpec, all_cases
from .pki import LabPKI, dh_parameters_pem
from .servers import HostileHttpServer, HttpServer, HttpsServer, Response, ServerGroup, TarpitServer

__all__ = ["AIA_HOST", "Lab", "LabCase"]

AIA_HOST = "aia.lab.test"  # where the lab's CAs publish their certificates (AIA caIssuers)


@dataclass(frozen=True)
class LabCase:
    name: str
    hostname: str
    description: str
    ip: str
    https_port: int
    http_port: int
    has_http: bool
    more_ips: tuple[str, ...] = ()  # further addresses of the same name (same ports)

    @property
    def ips(self) -> tuple[str, ...]:
        return (self.ip, *self.more_ips)

    @property
    def pin(self) -> str:
        # curl's list form, `host:ip1,ip2`, when the name has several addresses.
        return f"{self.hostname}:{','.join(self.ips)}"


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
        self._aia_ip = ""
        self._spare_hosts: list = []

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

    def scan_command(self, name: str, *extra: str) -> tuple[str, ...]:
        """`manage.py scan` arguments that check case `name` at its pinned address against the lab's CA."""
        case = self.case(name)
        pinned = (f"{case.hostname}:{case.https_port}", "--http-port", str(case.http_port), "--resolve", case.pin)
        return ("scan", *pinned, "--ca-file", self.ca_file, *extra)

    def resolve_map(self) -> list[str]:
        return [case.pin for case in self.cases] + [f"{AIA_HOST}:{self._aia_ip}"]

    def start(self) -> Lab:
        hosts = list(self.network.hosts())
        privileged = _can_bind_privileged(str(hosts[0]))
        try:
            # The CAs' download host (AIA caIssuers), plain HTTP like real CAs; the leaves name its URL.
            self._aia_ip = str(hosts[-1])
            self._spare_hosts = hosts[len(self.specs) : -1]  # second addresses of multi-address cases
            aia = self._group.add(HttpServer(self._aia_ip, 80 if privileged else 0, {}))
            self.pki = LabPKI(self.directory, aia_url=f"http://{AIA_HOST}" + ("" if aia.port == 80 else f":{aia.port}"))
            for index, spec in enumerate(self.specs):
                self.cases.append(self._start_case(spec, str(hosts[index]), privileged))
            aia.routes = {
                path: Response(200, (("Content-Type", "application/pkix-cert"),), der)
                for path, der in self.pki.aia_documents().items()
            }
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

        context = self._tls_context(spec)
        if spec.hostile_https:
            https = self._group.add(HostileHttpServer(spec.hostile_https, ip, https_port, tls=context))
        else:
            https = self._group.add(
                HttpsServer(ip, https_port, context, spec.https_routes, fallback_alert=spec.fallback_alert)
            )
        more_ips: tuple[str, ...] = ()
        if spec.second_address is not None:
            second_ip = str(self._spare_hosts.pop())
            if spec.second_address.kind != "closed":  # closed: nothing listens at the second address
                context = self._tls_context(spec.second_address, "-2")
                self._group.add(HttpsServer(second_ip, https.port, context, spec.https_routes))
            more_ips = (second_ip,)
        if spec.hostile_http:
            http = self._group.add(HostileHttpServer(spec.hostile_http, ip, http_port))
            return self._case(spec, ip, https.port, http.port, True, more_ips)
        if spec.http_routes is None:
            return self._case(spec, ip, https.port, http_port or _unused_port(ip), False, more_ips)
        http = self._group.add(HttpServer(ip, http_port, spec.http_routes))
        return self._case(spec, ip, https.port, http.port, True, more_ips)

    def _tls_context(self, spec: CaseSpec, suffix: str = "") -> ssl.SSLContext:
        credentials = self.pki.issue(spec.name + suffix, spec.leaf)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = spec.min_version
        context.maximum_version = spec.max_version
        context.set_ciphers(spec.ciphers)
        if not spec.server_preference:
            context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
        context.load_cert_chain(credentials.chain_file, credentials.key_file)
        for number, extra in enumerate(spec.extra_leaves, start=2):
            more = self.pki.issue(f"{spec.name}{suffix}-{number}", extra)
            context.load_cert_chain(more.chain_file, more.key_file)
        if spec.dh_prime:
            context.load_dh_params(self._dh_file(spec.dh_prime))
        if spec.client_auth:
            context.verify_mode = ssl.CERT_OPTIONAL
            context.load_verify_locations(self.pki.root_file)
        return context

    def _dh_file(self, kind: str) -> Path:
        """A DH group a careless `openssl dhparam` replacement could produce: composite, or prime but not safe."""
        rng = random.SystemRandom()

        def prime(bits: int) -> int:
            # The top two bits set: a product of two such 1024-bit primes has exactly 2048 bits.
            return int(gmpy2.next_prime(rng.getrandbits(bits) | (3 << (bits - 2))))

        if kind == "composite":
            modulus = prime(1024) * prime(1024)
        elif kind == "nonsafe":
            modulus = prime(2048)
            while gmpy2.is_prime((modulus - 1) // 2):  # astronomically unlikely, but then it would be safe
                modulus = prime(2048)
        else:
            raise ValueError(f"unknown DH group kind {kind!r}")
        path = self.directory / f"dh-{kind}.pem"
        path.write_bytes(dh_parameters_pem(modulus))
        return path

    @staticmethod
    def _case(
        spec: CaseSpec, ip: str, https_port: int, http_port: int, has_http: bool, more_ips: tuple[str, ...] = ()
    ) -> LabCase:
        return LabCase(spec.name, spec.hostname, spec.description, ip, https_port, http_port, has_http, more_ips)

    def stop(self) -> None:
        self._group.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
