"""Adaptive cipher-suite enumeration (issue 15) against today's engine and the sslyze CLI, in one run.

    .venv/bin/python -m benchmarks.adaptive_enumeration [--rounds 3] [--delay 0.025]

The lab runs in its own process so that the CPU time measured here is the scanner's alone. Three figures:
1. TLS connections per full scan (pre-flight, sslyze commands, enumeration, handshake simulation, the HTTPS
   fetch of the HTTP probe), counted by a proxy in front of the HTTPS port; good and legacy lab servers.
2. Wall time of one full scan with both ports behind a proxy adding `--delay` seconds each way: the adaptive
   engine (whole scan: TLS, simulation, HTTP, grading) against the sslyze CLI running the same TLS commands.
3. CPU-seconds per scan on loopback (no proxy): the adaptive engine against today's engine (sslyze mode),
   this process and the child process sslyze runs in.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

from benchmarks.delay_proxy import DelayProxy
from benchmarks.engine_vs_sslyze_cli import SSLYZE_CLI_COMMANDS
from scanner.engine import ScanSettings, scan
from scanner.grading import grade
from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins
from scanner.targets import parse_target

CASES = ("good", "legacy")
SSLYZE = ScanSettings(
    connect_timeout=5, network_timeout=5, network_retries=2, http_timeout=10, cipher_enumeration="sslyze"
)
ADAPTIVE = replace(SSLYZE, cipher_enumeration="adaptive")


class LabProcess:
    """`python -m tests.lab` in a child process; its listing tells where each case listens."""

    def __init__(self, directory: Path) -> None:
        network = f"127.{os.getpid() % 180 + 64}.{int(time.time()) % 250}.0/24"
        self.ca_file = str(directory / "lab-ca.pem")
        self.process = subprocess.Popen(
            # Unbuffered: the listing must arrive while the lab keeps running.
            [sys.executable, "-u", "-m", "tests.lab", "--network", network, "--ca-out", self.ca_file],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.cases: dict[str, tuple[str, str, int, int]] = {}
        self.allowed = network
        for line in self.process.stdout:
            match = re.match(r"(\S+)\s+(\S+)\s+https:(\d+) http:(\d+)", line)
            if match:
                host, ip, https, http = match.groups()
                self.cases[host.split(".")[0]] = (host, ip, int(https), int(http))
            if line.startswith("export SCANNER_ALLOWED_NETWORKS="):
                break

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(10)


def engine_scan(
    lab: LabProcess, name: str, settings: ScanSettings, https_port: int | None = None, http_port: int | None = None
):
    host, ip, https, http = lab.cases[name]
    policy = NetworkPolicy(parse_networks([lab.allowed]), parse_pins([f"{host}:{ip}"]))
    target = parse_target(host, https_port=https_port or https, http_port=http_port or http)
    result = scan(target, policy=policy, settings=settings, ca_file=lab.ca_file)
    assert result.status == "done", result.error
    return result, grade(result)


def cli_scan(lab: LabProcess, name: str, https_port: int) -> None:
    host, ip, _, _ = lab.cases[name]
    command = [
        sys.executable,
        "-m",
        "sslyze",
        "--quiet",
        "--mozilla_config=disable",
        "--certinfo_ca_file",
        lab.ca_file,
        *SSLYZE_CLI_COMMANDS,
        f"{host}:{https_port}{{{ip}}}",
    ]
    subprocess.run(command, check=False, capture_output=True)


def connections(lab: LabProcess, name: str, settings: ScanSettings) -> int:
    _, ip, https, _ = lab.cases[name]
    with DelayProxy(ip, ip, https) as proxy:
        engine_scan(lab, name, settings, https_port=proxy.port)
        return proxy.connections


def wall_times(lab: LabProcess, name: str, delay: float, rounds: int) -> tuple[float, float]:
    _, ip, https, http = lab.cases[name]
    with DelayProxy(ip, ip, https, delay=delay) as tls, DelayProxy(ip, ip, http, delay=delay) as plain:
        engine, cli = [], []
        for _ in range(rounds):  # interleaved, so machine load hits both alike
            start = time.perf_counter()
            engine_scan(lab, name, ADAPTIVE, https_port=tls.port, http_port=plain.port)
            engine.append(time.perf_counter() - start)
            start = time.perf_counter()
            cli_scan(lab, name, tls.port)
            cli.append(time.perf_counter() - start)
    return statistics.median(engine), statistics.median(cli)


def _cpu_now() -> float:
    # Every thread of this process, plus reaped children: sslyze runs in a forked child (sslyze_runner).
    # The lab is another process and is not counted. getrusage, not os.times: os.times counts children in
    # 10 ms clock ticks, coarser than one scan's child.
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cpu_seconds(lab: LabProcess, name: str, settings: ScanSettings) -> float:
    start = _cpu_now()
    engine_scan(lab, name, settings)
    return _cpu_now() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.025)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as directory:
        lab = LabProcess(Path(directory))
        try:
            engine_scan(lab, "good", ADAPTIVE)  # warm-up: trust stores, cipher repositories
            print("1. TLS connections per full scan")
            print(f"{'case':8} {'sslyze mode':>12} {'adaptive':>9}")
            for name in CASES:
                print(f"{name:8} {connections(lab, name, SSLYZE):12d} {connections(lab, name, ADAPTIVE):9d}")
            print(f"\n2. wall time, {args.delay * 1000:.0f} ms added each way (median of {args.rounds})")
            print(f"{'case':8} {'adaptive s':>11} {'sslyze CLI s':>13} {'ratio':>6}")
            for name in CASES:
                engine, cli = wall_times(lab, name, args.delay, args.rounds)
                print(f"{name:8} {engine:11.2f} {cli:13.2f} {engine / cli:6.2f}")
            print(f"\n3. CPU-s per scan on loopback (median of {args.rounds})")
            print(f"{'case':8} {'sslyze mode':>12} {'adaptive':>9} {'ratio':>6}")
            for name in CASES:
                today, adaptive = [], []
                for _ in range(args.rounds):
                    today.append(cpu_seconds(lab, name, SSLYZE))
                    adaptive.append(cpu_seconds(lab, name, ADAPTIVE))
                a, b = statistics.median(today), statistics.median(adaptive)
                print(f"{name:8} {a:12.3f} {b:9.3f} {b / a:6.2f}")
        finally:
            lab.stop()


if __name__ == "__main__":
    main()
