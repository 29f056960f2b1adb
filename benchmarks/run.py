"""`make bench`: every benchmark, in production mode against the local PostgreSQL.

Each figure is printed with its ratio to a baseline measured in the same run."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import intake, notify_latency

if __name__ == "__main__":
    intake.main()
    notify_latency.main()
