"""`make bench`: every benchmark, in production mode against the local PostgreSQL.

Each figure is printed with its ratio to a baseline measured in the same run.
BENCH_ONLY=name[,name…] runs only those (intake, notify_latency,
throughput, dashboard_scale, positions, map, performance).

BENCH_TINY=1 (`make bench-tiny`, CI) runs every part with tiny counts, seconds each, on
databases of their own (dispatch112_bench_tiny, dispatch112_perfbench_tiny, Redis DB 13):
numbers only, no thresholds; explicit BENCH_* variables still win (benchmarks/common.py).

Each part runs in a process group of its own, bounded by BENCH_PART_TIMEOUT seconds (3600;
tiny 240) and killed with whatever it started when it ends. Every part is tried; the exit
status is non-zero if any crashed, timed out or measured nothing."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import TINY, knob

PARTS = ["intake", "notify_latency", "throughput", "dashboard_scale", "positions", "map",
         "performance"]  # fmt: skip
MODULES = {"map": "map_viewers"}
PART_TIMEOUT = knob("BENCH_PART_TIMEOUT", 3600.0, tiny=240.0)


def run_part(name: str) -> None:
    """In the part's own process: its main()."""
    import importlib

    importlib.import_module(f"benchmarks.{MODULES.get(name, name)}").main()


def kill_group(process: subprocess.Popen) -> None:
    """The part's process group (its servers and helpers too): TERM, then KILL, each with
    10 s to end."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            process.poll()  # reaps the part itself; init reaps the rest
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def spawn_part(name: str) -> str | None:
    """Runs one part; None if it passed, else why not."""
    print(f"\n=== {name} ===", flush=True)
    process = subprocess.Popen(
        [sys.executable, __file__, "--part", name], start_new_session=True
    )  # fmt: skip
    try:
        code = process.wait(timeout=PART_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"no result within {PART_TIMEOUT:g} s"
    finally:
        kill_group(process)  # whatever it left running
    return f"exit status {code}" if code else None


def main() -> None:
    only = [name.strip() for name in os.environ.get("BENCH_ONLY", "").split(",") if name.strip()]
    unknown = sorted(set(only) - set(PARTS))
    if unknown:
        sys.exit(f"BENCH_ONLY: unknown {', '.join(unknown)} (known: {', '.join(PARTS)})")
    # Stopped from outside (CI's limit): the running part's group is killed all the same.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("benchmarks: terminated"))
    began, timings, failed = time.monotonic(), [], []
    for name in PARTS:
        if only and name not in only:
            continue
        start = time.monotonic()
        why = spawn_part(name)
        timings.append((name, time.monotonic() - start, why))
        if why:
            failed.append(name)
    print(f"\n=== benchmarks{' (BENCH_TINY=1)' if TINY else ''}: wall time per part ===")
    for name, seconds, why in timings:
        print(f"{name:18}{seconds:>8.1f} s   {'FAILED: ' + why if why else 'ok'}")
    print(f"{'total':18}{time.monotonic() - began:>8.1f} s")
    if failed:
        sys.exit(f"benchmarks failed: {', '.join(failed)}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--part"]:
        run_part(sys.argv[2])
    else:
        main()
