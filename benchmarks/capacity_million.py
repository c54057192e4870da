"""The capacity simulation (benchmarks/capacity_day.py) at 1,000,000 sites in 10,000 portfolios: opt-in by name,
`bin/bench capacity_million`, since seeding and the day take most of an hour on a 2-core machine. Per tick it runs
20 releases and 2 stores through the product's code, every 8th tick one fan-out, and writes the rest in bulk (see capacity_day).

    .venv/bin/python -m benchmarks.capacity_million [--hours 24]   # any capacity_day option; default 02:57-05:57
"""

from __future__ import annotations

import sys

from benchmarks.capacity_day import main

MILLION = [
    "--sites",
    "1000000",
    "--start-hour",
    "2.95",
    "--hours",
    "3",
    "--plan-real",
    "1",
    "--plan-every",
    "8",
    "--release-real",
    "20",
    "--store-real",
    "2",
    "--progress",
]

if __name__ == "__main__":
    main([*MILLION, *sys.argv[1:]], sites=1_000_000)
