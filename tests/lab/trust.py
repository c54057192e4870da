"""Lab cases for trust beyond the handshake (issue 21): revocation served by real software.

Python's `ssl` cannot staple OCSP, so the stapling cases run in nginx (Debian package, `ssl_stapling_file` with
a response made by `openssl ocsp`); the responder cases ask a real `openssl ocsp -port` responder; the CRL is a
file on the lab's plain-HTTP PKI host, next to the AIA certificates. Each case has its own 127.x address.
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from . import LabCase, _random_network, _unused_port
from .cases import GOOD_HSTS, MODERN_CIPHERS, hostname, page
from .dns import DnsServer
from .pki import ROOT_CRL_PATH, LabPKI, LeafSpec
from .servers import ANY_PATH, HttpServer, HttpsServer, Response, ServerGroup

PKI_HOST = "pki.trust.lab.test"  # AIA certificates and the CRL, plain HTTP
OCSP_HOST = "ocsp.trust.lab.test"  # `openssl ocsp -port`
DOWN_HOST = "ocspdown.trust.lab.test"  # an OCSP URL where nothing listens
CRL_PATH = "/intermediate.crl"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass(frozen=True)
class TrustCaseSpec:
    name: str
    description: str
    server: str = "python"  # "python" (ssl module, cannot staple) | "nginx"
    ocsp: str | None = None  # "responder" | "down": where the leaf's AIA OCSP URL points
    crl: bool = False  # the leaf names the lab's CRL
    revoked: bool = False  # revoked at the responder and on the CRL
    staple: str | None = None  # nginx only: "responder" (made by `openssl ocsp`) | "expired" (past nextUpdate)
    leaf: dict = field(default_factory=dict)  # more LeafSpec fields


def trust_cases() -> list[TrustCaseSpec]:
    return [
        TrustCaseSpec(
            "staplegood", "nginx stapling a good OCSP response", "nginx", ocsp="responder", staple="responder"
        ),
        TrustCaseSpec(
            "staplerevoked",
            "nginx stapling a REVOKED OCSP response for its own leaf",
            "nginx",
            ocsp="responder",
            staple="responder",
            revoked=True,
        ),
        TrustCaseSpec(
            "stapleexpired",
            "nginx stapling an OCSP response past its nextUpdate (the responder says good)",
            "nginx",
            ocsp="responder",
            staple="expired",
        ),
        TrustCaseSpec(
            "ocsprevoked", "no staple; the leaf's OCSP responder says revoked", ocsp="responder", revoked=True
        ),
        TrustCaseSpec("crlrevoked", "no staple, no OCSP URL; the leaf is on its CA's CRL", crl=True, revoked=True),
        TrustCaseSpec("crlgood", "no staple, no OCSP URL; the same CRL, leaf not on it", crl=True),
        TrustCaseSpec("ocspdown", "no staple; nothing listens at the leaf's OCSP URL", ocsp="down"),
        TrustCaseSpec(
            "muststaple",
            "must-staple certificate, served without a staple",
            ocsp="responder",
            leaf={"must_staple": True},
        ),
        TrustCaseSpec(
            "longlived",
            "leaf valid for 400 days, issued now (after 2026-03-15: at most 200 allowed)",
            leaf={"not_after": dt.timedelta(days=399)},
        ),
        TrustCaseSpec(
            "intermediaterevoked",
            "leaf issued by an intermediate CA that the root's CRL revokes",
            leaf={"issuer": "revoked"},
        ),
        TrustCaseSpec("rsaexp3", "RSA leaf with public exponent 3", leaf={"key_type": "rsa", "rsa_exponent": 3}),
    ]


def _serial_hex(cert: x509.Certificate) -> str:
    text = format(cert.serial_number, "X")
    return text if len(text) % 2 == 0 else "0" + text


def _wait_for_port(ip: str, port: int, process: subprocess.Popen, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection((ip, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {ip}:{port} within {timeout:g} s")


class TrustLab:
    def __init__(self) -> None:
        self.network = _random_network()
        self._tmp = tempfile.TemporaryDirectory(prefix="https-trust-lab-")
        self.directory = Path(self._tmp.name)
        self.cases: list[LabCase] = []
        self._group = ServerGroup()
        self._processes: list[subprocess.Popen] = []
        self.pki: LabPKI | None = None
        self.pki_server: HttpServer | None = None
        self._pins: list[str] = []
        self.dns: DnsServer | None = None  # CAA lookups of these names stay on loopback (no records: caa.missing)

    @property
    def ca_file(self) -> str:
        return str(self.pki.ca_file)

    @property
    def allowed_network(self) -> str:
        return str(self.network)

    def resolve_map(self) -> list[str]:
        return [case.pin for case in self.cases] + self._pins

    def case(self, name: str) -> LabCase:
        return next(case for case in self.cases if case.name == name)

    def start(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        hosts = [str(host) for host in self.network.hosts()]
        self.dns = DnsServer("127.0.0.1", 0).start()
        pki_ip, ocsp_ip, down_ip = hosts[-1], hosts[-2], hosts[-3]
        self.pki_server = self._group.add(HttpServer(pki_ip, 0, {}))
        base = f"http://{PKI_HOST}:{self.pki_server.port}"
        self.pki = LabPKI(self.directory, aia_url=base)
        ocsp_port, down_port = _unused_port("127.0.0.1"), _unused_port(down_ip)
        self._pins = [f"{PKI_HOST}:{pki_ip}", f"{OCSP_HOST}:{ocsp_ip}", f"{DOWN_HOST}:{down_ip}"]
        urls = {"responder": f"http://{OCSP_HOST}:{ocsp_port}/", "down": f"http://{DOWN_HOST}:{down_port}/"}

        issued: dict[str, tuple[TrustCaseSpec, object, str]] = {}
        for index, spec in enumerate(trust_cases()):
            leaf = LeafSpec(
                hostnames=(hostname(spec.name),),
                ocsp_url=urls.get(spec.ocsp or ""),
                crl_url=base + CRL_PATH if spec.crl else None,
                **spec.leaf,
            )
            issued[spec.name] = (spec, self.pki.issue(spec.name, leaf), hosts[index])

        index_file = self.directory / "index.txt"
        index_file.write_text(
            "".join(
                f"{'R' if spec.revoked else 'V'}\t{creds.certificate.not_valid_after_utc:%y%m%d%H%M%SZ}\t"
                f"{'261201000000Z' if spec.revoked else ''}\t{_serial_hex(creds.certificate)}\tunknown\t/CN={spec.name}\n"
                for spec, creds, _ip in issued.values()
            )
        )
        key_file = self.pki.intermediate_key_file()
        revoked = [creds.certificate for spec, creds, _ip in issued.values() if spec.revoked and spec.crl]
        self.pki_server.routes = {
            **{
                path: Response(200, (("Content-Type", "application/pkix-cert"),), der)
                for path, der in self.pki.aia_documents().items()
            },
            CRL_PATH: Response(200, (("Content-Type", "application/pkix-crl"),), self.pki.intermediate_crl(revoked)),
            ROOT_CRL_PATH: Response(200, (("Content-Type", "application/pkix-crl"),), self.pki.root_crl()),
        }

        nginx_servers: list[str] = []
        for spec, creds, ip in issued.values():
            if spec.server == "nginx":
                port = _unused_port(ip)
                staple = self._staple(spec, creds, index_file, key_file)
                nginx_servers.append(self._nginx_server(ip, port, spec.name, creds, staple))
            else:
                port = self._group.add(HttpsServer(ip, 0, self._context(creds), {ANY_PATH: _page()})).port
            self.cases.append(
                LabCase(spec.name, hostname(spec.name), spec.description, ip, port, _unused_port(ip), False)
            )
        self._group.start()
        any_leaf = next(iter(issued.values()))[1].certificate
        self._start_responder(index_file, key_file, ocsp_port, any_leaf)
        self._start_nginx(nginx_servers)

    @staticmethod
    def _context(creds) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(MODERN_CIPHERS)
        context.load_cert_chain(creds.chain_file, creds.key_file)
        return context

    def _staple(self, spec: TrustCaseSpec, creds, index_file: Path, key_file: Path) -> Path:
        out = self.directory / f"{spec.name}.staple.der"
        leaf_file = self.directory / f"{spec.name}.leaf.pem"
        leaf_file.write_bytes(creds.certificate.public_bytes(serialization.Encoding.PEM))
        if spec.staple == "expired":
            # `openssl ocsp` only dates answers from now on; an old answer is made the same way a CA would sign it.
            key = serialization.load_pem_private_key(key_file.read_bytes(), None)
            issuer, now = self.pki.intermediate_certificate, dt.datetime.now(dt.UTC)
            response = (
                ocsp.OCSPResponseBuilder()
                .add_response(
                    cert=creds.certificate,
                    issuer=issuer,
                    algorithm=hashes.SHA1(),
                    cert_status=ocsp.OCSPCertStatus.GOOD,
                    this_update=now - dt.timedelta(days=10),
                    next_update=now - dt.timedelta(days=3),
                    revocation_time=None,
                    revocation_reason=None,
                )
                .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
                .sign(key, hashes.SHA256())
            )
            out.write_bytes(response.public_bytes(serialization.Encoding.DER))
            return out
        ca = str(self.pki.intermediate_file)
        subprocess.run(
            [
                "openssl",
                "ocsp",
                "-index",
                str(index_file),
                "-rsigner",
                ca,
                "-rkey",
                str(key_file),
                "-CA",
                ca,
                "-issuer",
                ca,
                "-cert",
                str(leaf_file),
                "-respout",
                str(out),
                "-ndays",
                "7",
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        return out

    def _nginx_server(self, ip: str, port: int, name: str, creds, staple: Path) -> str:
        return f"""
    server {{
        listen {ip}:{port} ssl;
        server_name {hostname(name)};
        ssl_certificate {creds.chain_file};
        ssl_certificate_key {creds.key_file};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers {MODERN_CIPHERS};
        ssl_prefer_server_ciphers on;
        ssl_stapling on;
        ssl_stapling_file {staple};
        add_header Strict-Transport-Security "{GOOD_HSTS}" always;
        location / {{ return 200 "hello\\n"; }}
    }}"""

    def _start_nginx(self, servers: list[str]) -> None:
        if not servers:
            return
        root = self.directory / "nginx"
        root.mkdir()
        temp = "\n".join(
            f"    {kind}_temp_path {root}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        conf = root / "nginx.conf"
        conf.write_text(f"""daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    default_type text/html;
{temp}
{"".join(servers)}
}}
""")
        process = subprocess.Popen(
            [NGINX, "-p", str(root), "-c", str(conf), "-e", str(root / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._processes.append(process)
        first = next(case for case in self.cases if case.name.startswith("staple"))
        _wait_for_port(first.ip, first.https_port, process, "nginx")

    def _start_responder(self, index_file: Path, key_file: Path, port: int, leaf: x509.Certificate) -> None:
        ca = str(self.pki.intermediate_file)
        process = subprocess.Popen(
            [
                "openssl",
                "ocsp",
                "-index",
                str(index_file),
                "-port",
                str(port),
                "-rsigner",
                ca,
                "-rkey",
                str(key_file),
                "-CA",
                ca,
                "-ndays",
                "7",
                "-ignore_err",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._processes.append(process)
        # Ready when it answers a real request: OpenSSL 3.0's responder hangs for good on a connection that
        # closes without sending one, so a bare connect() must never be its readiness probe.
        request = ocsp.OCSPRequestBuilder().add_certificate(leaf, self.pki.intermediate_certificate, hashes.SHA1())
        body = request.build().public_bytes(serialization.Encoding.DER)
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"openssl ocsp exited with {process.returncode}")
            try:
                urllib.request.urlopen(
                    urllib.request.Request(
                        f"http://127.0.0.1:{port}/", data=body, headers={"Content-Type": "application/ocsp-request"}
                    ),
                    timeout=2,
                ).read()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"openssl ocsp did not answer on port {port}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._group.stop()
        if self.dns is not None:
            self.dns.stop()
        self._tmp.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _page() -> Response:
    return page((("Strict-Transport-Security", GOOD_HSTS),))
