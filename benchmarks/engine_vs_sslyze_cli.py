"""Wall time of our full scan (TLS + HTTP + grading) against the plain sslyze CLI, same lab servers, same process.

    .venv/bin/python -m benchmarks.engine_vs_sslyze_cli [--rounds 3]

Prints per-case medians and the ratio engine / CLI (below 1.0 = we are faster than the reference).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from scanner.engine import ScanSettings, scan
from scanner.grading import grade
from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins
from scanner.targets import parse_target
from tests.lab import Lab

# The sslyze CLI options for the checks our scan makes: every benchmark that runs sslyze beside it uses these.
SSLYZE_CLI_COMMANDS = (
    "--certinfo",
    "--sslv2",
    "--sslv3",
    "--tlsv1",
    "--tlsv1_1",
    "--tlsv1_2",
    "--tlsv1_3",
    "--heartbleed",
    "--robot",
    "--openssl_ccs",
    "--reneg",
    "--compression",
    "--fallback",
    "--elliptic_curves",
    "--ems",
)

CASES = ("good", "legacy", "expired", "nohsts")
SETTINGS = ScanSettings(connect_timeout=5, network_timeout=5, network_retries=2, http_timeout=10)


def time_engine(lab: Lab, policy: NetworkPolicy, name: str) -> float:
    case = lab.case(name)
    target = parse_target(case.hostname, https_port=case.https_port, http_port=case.http_port)
    start = time.perf_counter()
    grade(scan(target, policy=policy, settings=SETTINGS, ca_file=lab.ca_file))
    return time.perf_counter() - start


def time_cli(lab: Lab, name: str) -> float:
    case = lab.case(name)
    command = [
        sys.executable,
        "-m",
        "sslyze",
        "--quiet",
        "--mozilla_config=disable",
        "--certinfo_ca_file",
        lab.ca_file,
        *SSLYZE_CLI_COMMANDS,
        f"{case.hostname}:{case.https_port}{{{case.ip}}}",
    ]
    start = time.perf_counter()
    subprocess.run(command, check=False, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with Lab() as lab:
        policy = NetworkPolicy(parse_networks([lab.allowed_network]), parse_pins(lab.resolve_map()))
        print(f"{'case':10} {'engine s':>9} {'sslyze CLI s':>13} {'ratio':>6}")
        ratios = []
        for name in CASES:
            engine = statistics.median(time_engine(lab, policy, name) for _ in range(args.rounds))
            cli = statistics.median(time_cli(lab, name) for _ in range(args.rounds))
            ratios.append(engine / cli)
            print(f"{name:10} {engine:9.2f} {cli:13.2f} {engine / cli:6.2f}")
        print(f"median ratio engine/CLI: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
