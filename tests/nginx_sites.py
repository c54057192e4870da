"""Real nginx (the Debian package) serving a few sites for the web-posture tests (issue 23).

Each site gets its own loopback address inside the lab's network, an https port and an http port, and a
certificate from the lab's CA; `NginxSites.policy()` pins the names to those addresses. nginx runs in the
foreground under this test process and is stopped (by its pid) when the context ends.
"""

from __future__ import annotations

import ipaddress
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from typing import Self

from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins
from tests.lab import Lab
from tests.lab.pki import LeafSpec

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
FIRST_HOST_INDEX = 180  # addresses of the lab's /24 from here on: well past the lab's own cases and spares


@dataclass(frozen=True)
class NginxSite:
    """One server block: `headers` become `add_header ... always`; `files` maps exact paths to (type, body)."""

    name: str
    headers: tuple[tuple[str, str], ...] = ()
    page: str = "<!doctype html><title>nginx lab</title><p>hello</p>"
    files: dict[str, tuple[str, str]] = field(default_factory=dict)
    http2: bool = True
    http_redirects: bool = True  # port 80 answers 301 to https on the same host (else it serves the page)
    gzip: bool = False  # compress responses when the client asks (BREACH note)
    # Other names (the www./apex counterpart) on this certificate, pinned to this site's address; with
    # alias_redirects they only 301 to the site, otherwise they serve the same page.
    aliases: tuple[str, ...] = ()
    alias_redirects: bool = True
    unserved: tuple[str, ...] = ()  # names pinned here that nginx does not serve (its first server block answers)

    @property
    def hostname(self) -> str:
        return f"{self.name}.lab.test"


@dataclass(frozen=True)
class RunningSite:
    hostname: str
    ip: str
    https_port: int
    http_port: int


def _free_port(ip: str) -> int:
    with socket.socket() as sock:
        sock.bind((ip, 0))
        return sock.getsockname()[1]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "${dollar}") + '"'


def _alias_block(site: NginxSite, running: RunningSite, cert: str, key: str) -> str:
    return f"""
server {{
    listen {running.ip}:{running.https_port} ssl{" http2" if site.http2 else ""};
    server_name {" ".join(site.aliases)};
    ssl_certificate {cert};
    ssl_certificate_key {key};
    return 301 https://{site.hostname}:{running.https_port}$request_uri;
}}
"""


def _server_blocks(site: NginxSite, running: RunningSite, cert: str, key: str) -> str:
    headers = "".join(f"    add_header {name} {_quoted(value)} always;\n" for name, value in site.headers)
    files = "".join(
        f"    location = {path} {{ default_type {content_type}; return 200 {_quoted(body)}; }}\n"
        for path, (content_type, body) in site.files.items()
    )
    http2 = " http2" if site.http2 else ""  # nginx 1.22 (Debian 12): `listen ... http2`; 1.25.1+ also `http2 on`
    plain = (
        f"return 301 https://{site.hostname}:{running.https_port}$request_uri;"
        if site.http_redirects
        else f"default_type text/html; return 200 {_quoted(site.page)};"
    )
    served = " ".join((site.hostname, *(() if site.alias_redirects else site.aliases)))
    aliases = _alias_block(site, running, cert, key) if site.aliases and site.alias_redirects else ""
    return f"""
server {{
    listen {running.ip}:{running.https_port} ssl{http2};
    server_name {served};
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    gzip {"on" if site.gzip else "off"}; gzip_min_length 1;
{headers}{files}    location / {{ default_type text/html; return 200 {_quoted(site.page)}; }}
}}
server {{
    listen {running.ip}:{running.http_port};
    server_name {site.hostname};
    location / {{ {plain} }}
}}
{aliases}"""


class NginxSites:
    def __init__(self, lab: Lab, sites: list[NginxSite]) -> None:
        self.lab = lab
        self.sites = sites
        self.running: dict[str, RunningSite] = {}
        self.directory = lab.directory / "nginx"
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> Self:
        self.directory.mkdir(exist_ok=True)
        hosts = list(ipaddress.IPv4Network(self.lab.allowed_network).hosts())
        blocks = []
        for index, site in enumerate(self.sites):
            ip = str(hosts[FIRST_HOST_INDEX + index])
            running = RunningSite(site.hostname, ip, _free_port(ip), _free_port(ip))
            self.running[site.name] = running
            credentials = self.lab.pki.issue(site.name, LeafSpec(hostnames=(site.hostname, *site.aliases)))
            blocks.append(_server_blocks(site, running, credentials.chain_file, credentials.key_file))
        config = self.directory / "nginx.conf"
        temp = self.directory / "temp"
        temp.mkdir(exist_ok=True)
        config.write_text(f"""
daemon off;
worker_processes 1;
pid {self.directory / "nginx.pid"};
error_log {self.directory / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {temp};
    proxy_temp_path {temp};
    fastcgi_temp_path {temp};
    uwsgi_temp_path {temp};
    scgi_temp_path {temp};
    geo $dollar {{ default "$"; }}
    {"".join(blocks)}
}}
""")
        self._process = subprocess.Popen(
            [NGINX, "-p", str(self.directory), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self._wait_until_listening()
        return self

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 10
        for running in self.running.values():
            while True:
                if self._process.poll() is not None:
                    raise RuntimeError(
                        f"nginx exited: {self._process.stderr.read().decode(errors='replace')}"
                        + (self.directory / "error.log").read_text(errors="replace")
                    )
                try:
                    socket.create_connection((running.ip, running.https_port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)

    def __exit__(self, *exc_info) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGQUIT)  # graceful stop of this nginx's master (and its worker)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def policy(self) -> NetworkPolicy:
        pins = [
            f"{name}:{self.running[site.name].ip}"
            for site in self.sites
            for name in (site.hostname, *site.aliases, *site.unserved)
        ]
        return NetworkPolicy(parse_networks([self.lab.allowed_network]), parse_pins(pins + self.lab.resolve_map()))
