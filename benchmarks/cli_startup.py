"""Wall time of `tacit --help` and of importing the CLI (target: under 0.3 s on 2 cores).

.venv/bin/python benchmarks/cli_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

TACIT = str(Path(sys.executable).with_name("tacit"))


def timed(command: list[str], runs: int) -> list[float]:
    env = {**os.environ, "COLUMNS": "100"}
    subprocess.run(command, capture_output=True, env=env, check=True)  # warm the file cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, env=env, check=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for label, command in (
        ("tacit --help", [TACIT, "--help"]),
        ("python -c 'import tacit.cli'", [sys.executable, "-c", "import tacit.cli"]),
        ("python -c 'pass' (interpreter alone)", [sys.executable, "-c", "pass"]),
    ):
        times = sorted(timed(command, args.runs))
        print(
            f"{label:40s} median {statistics.median(times) * 1000:6.0f} ms   "
            f"min {times[0] * 1000:6.0f} ms   max {times[-1] * 1000:6.0f} ms   "
            f"({args.runs} runs; target for tacit --help: < 300 ms)"
        )


if __name__ == "__main__":
    main()
