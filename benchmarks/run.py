"""`make bench`: every benchmark, in production mode against the local PostgreSQL.

Each figure is printed with its ratio to a baseline measured in the same run.
BENCH_ONLY=name[,name…] runs only those (intake, notify_latency,
throughput, dashboard_scale, positions, map, performance)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (
    dashboard_scale,
    intake,
    map_viewers,
    notify_latency,
    performance,
    positions,
    throughput,
)

BENCHMARKS = {
    "intake": intake.main,
    "notify_latency": notify_latency.main,
    "throughput": throughput.main,
    "dashboard_scale": dashboard_scale.main,
    "positions": positions.main,
    "map": map_viewers.main,
    "performance": performance.main,
}

if __name__ == "__main__":
    only = [name.strip() for name in os.environ.get("BENCH_ONLY", "").split(",") if name.strip()]
    unknown = sorted(set(only) - set(BENCHMARKS))
    if unknown:
        sys.exit(f"BENCH_ONLY: unknown {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})")
    for name, run in BENCHMARKS.items():
        if not only or name in only:
            run()
