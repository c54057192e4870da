"""The scan command as a user runs it: `manage.py scan HOST` timed from outside, process start to exit.

    .venv/bin/python -m benchmarks.cli_startup [--rounds 5] [--delay 0.025]

Two figures, each the median of `--rounds` runs, against a lab running in its own process:
(a) on loopback, the command's wall time minus the scan's own `duration_s` from its JSON report: what the
    process costs beyond the scan (interpreter, Django set-up, imports, grading, storing the scan, exit);
    target at most 0.35 s;
(b) with both ports behind a proxy adding `--delay` seconds each way, the command's wall time against
    `python -m sslyze` running the same TLS checks (runs interleaved, so load hits both alike); target at
    most 0.2x.
Beside them, CPU seconds of the command (the process and its TLS child, from getrusage): on a loaded
machine wall times stretch with the load, CPU times much less.
The command stores each scan, as it does by default, in the benchmark database (BENCH_DATABASE_URL).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._setup import ROOT, database_env, prepare_database
from benchmarks.adaptive_enumeration import LabProcess, cli_scan
from benchmarks.delay_proxy import DelayProxy

CASES = ("good", "legacy")
OVERHEAD_TARGET_S = 0.35
RATIO_TARGET = 0.2


def children_cpu() -> float:
    """CPU seconds of every finished child so far (the lab is a child too, but runs until the end)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_command(
    lab: LabProcess, name: str, env: dict[str, str], https_port: int, http_port: int
) -> tuple[float, float, float]:
    """One `manage.py scan` process: (wall seconds from spawn to exit, the scan's duration_s, CPU seconds of
    the process and its TLS child; less sensitive to other load on the machine than wall time)."""
    host, ip, _, _ = lab.cases[name]
    command = [
        sys.executable,
        "manage.py",
        "scan",
        f"{host}:{https_port}",
        "--http-port",
        str(http_port),
        "--resolve",
        f"{host}:{ip}",
        "--ca-file",
        lab.ca_file,
        "--json",
    ]
    cpu, start = children_cpu(), time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu
    if finished.returncode:
        raise SystemExit(f"manage.py scan {name} failed ({finished.returncode}): {finished.stderr[-2000:]}")
    return wall, json.loads(finished.stdout)["duration_s"], cpu


def loopback(lab: LabProcess, name: str, env: dict[str, str], rounds: int) -> tuple[float, float, float, float]:
    """Medians of (wall, duration_s, wall - duration_s, CPU seconds) on loopback."""
    _, _, https, http = lab.cases[name]
    runs = [run_command(lab, name, env, https, http) for _ in range(rounds)]
    return (
        statistics.median(wall for wall, _, _ in runs),
        statistics.median(duration for _, duration, _ in runs),
        statistics.median(wall - duration for wall, duration, _ in runs),
        statistics.median(cpu for _, _, cpu in runs),
    )


def delayed(
    lab: LabProcess, name: str, env: dict[str, str], delay: float, rounds: int
) -> tuple[float, float, float, float]:
    """Medians of (manage.py scan wall, sslyze CLI wall, and the CPU seconds of each) with `delay` added each
    way on both ports."""
    _, ip, https, http = lab.cases[name]
    ours, theirs, ours_cpu, theirs_cpu = [], [], [], []
    with DelayProxy(ip, ip, https, delay=delay) as tls, DelayProxy(ip, ip, http, delay=delay) as plain:
        for _ in range(rounds):
            wall, _, cpu = run_command(lab, name, env, tls.port, plain.port)
            ours.append(wall)
            ours_cpu.append(cpu)
            cpu, start = children_cpu(), time.perf_counter()
            cli_scan(lab, name, tls.port)
            theirs.append(time.perf_counter() - start)
            theirs_cpu.append(children_cpu() - cpu)
    return (
        statistics.median(ours),
        statistics.median(theirs),
        statistics.median(ours_cpu),
        statistics.median(theirs_cpu),
    )


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.025)
    args = parser.parse_args()
    env = database_env()
    # A user's checkout caches bytecode; without it every project module is compiled again on each run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    prepare_database(env)
    print(f"load average at start: {load()}")
    with tempfile.TemporaryDirectory() as directory:
        lab = LabProcess(Path(directory))
        try:
            env["SCANNER_ALLOWED_NETWORKS"] = lab.allowed  # redirects to the lab's other names
            run_command(lab, "good", env, *lab.cases["good"][2:])  # warm-up: page cache, database connection
            print(f"\n(a) loopback, median of {args.rounds}: process wall time over the scan's duration_s")
            print(f"{'case':8} {'wall s':>7} {'scan s':>7} {'overhead s':>11} {'target s':>9} {'CPU s':>6}")
            for name in CASES:
                wall, duration, overhead, cpu = loopback(lab, name, env, args.rounds)
                print(f"{name:8} {wall:7.3f} {duration:7.3f} {overhead:11.3f} {OVERHEAD_TARGET_S:9.2f} {cpu:6.2f}")
            print(
                f"\n(b) {args.delay * 1000:.0f} ms added each way, median of {args.rounds}: manage.py scan / sslyze CLI"
            )
            print(f"{'case':8} {'scan cmd s':>11} {'sslyze CLI s':>13} {'ratio':>6} {'target':>7} {'CPU ratio':>10}")
            for name in CASES:
                ours, theirs, ours_cpu, theirs_cpu = delayed(lab, name, env, args.delay, args.rounds)
                print(
                    f"{name:8} {ours:11.3f} {theirs:13.3f} {ours / theirs:6.2f} {RATIO_TARGET:7.2f}"
                    f" {ours_cpu / theirs_cpu:10.2f}"
                )
        finally:
            lab.stop()
    print(f"\nload average at end: {load()}")


if __name__ == "__main__":
    main()
