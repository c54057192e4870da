"""Real nginx (the Debian package) serving Mozilla's Server Side TLS 6.0 configurations, for the compliance tests.

The server blocks below are what https://ssl-config.mozilla.org/ generates for guideline 6.0, nginx 1.22,
OpenSSL 3.0 (modern and intermediate), with only the paths, addresses and ports filled in. nginx 1.22 on
OpenSSL 3.0 has no X25519MLKEM768, so the generator's curve list for that OpenSSL is used.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

MOZILLA_6_0 = {
    "modern": """
    ssl_protocols TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    ssl_prefer_server_ciphers off;
""",
    "intermediate": """
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers off;
""",
}

CONFIG = """
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp;
    proxy_temp_path {prefix}/tmp;
    fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp;
    scgi_temp_path {prefix}/tmp;

    server {{
        listen {ip}:{https_port} ssl http2;
        ssl_certificate {chain};
        ssl_certificate_key {key};
        # HSTS (ngx_http_headers_module is required) (63072000 seconds)
        add_header Strict-Transport-Security "max-age=63072000" always;
        location / {{ return 200 "mozilla {profile}\\n"; }}
    }}

    # {profile} configuration (Mozilla Server Side TLS 6.0)
{settings}
    ssl_session_timeout 1d;
    ssl_session_cache shared:MozSSL:10m;  # about 40000 sessions

    # OCSP stapling (the lab's certificates name no OCSP responder, so nothing is stapled)
    ssl_stapling on;
    ssl_stapling_verify on;
    resolver 127.0.0.1;

    server {{
        listen {ip}:{http_port} default_server;
        return 301 https://$host$request_uri;
    }}
}}
"""


@dataclass
class NginxSite:
    hostname: str
    ip: str
    https_port: int
    http_port: int
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _free_port(ip: str) -> int:
    with socket.socket() as sock:
        sock.bind((ip, 0))
        return sock.getsockname()[1]


def _wait_for(ip: str, port: int, process: subprocess.Popen, error_log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {error_log.read_text() if error_log.exists() else ''}")
        try:
            socket.create_connection((ip, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on {ip}:{port}")


def start_mozilla_nginx(
    profile: str, *, hostname: str, ip: str, chain_file: Path, key_file: Path, directory: Path
) -> NginxSite:
    prefix = directory / f"nginx-{profile}"
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    https_port, http_port = _free_port(ip), _free_port(ip)
    conf = prefix / "nginx.conf"
    conf.write_text(
        CONFIG.format(
            prefix=prefix,
            ip=ip,
            https_port=https_port,
            http_port=http_port,
            chain=chain_file,
            key=key_file,
            profile=profile,
            settings=MOZILLA_6_0[profile],
        )
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(ip, https_port, process, prefix / "error.log")
    return NginxSite(hostname, ip, https_port, http_port, process)
