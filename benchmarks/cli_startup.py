"""CLI start-up: wall time and peak RSS of `hf-behavior CMD --help` for every command, best of `--repeats` runs,
against the peer of a bare interpreter start (`python -c pass`) in the same run (target: every --help under a second).

    uv run --locked python benchmarks/cli_startup.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from hf_behavior.cli import COMMANDS


def best_run(argv: list[str], repeats: int) -> tuple[float, float]:
    """The fastest of `repeats` runs of `argv`: (wall seconds, peak RSS in MiB of that run)."""
    best = None
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if status != 0:
            raise RuntimeError(f"{argv} failed with status {status}")
        if best is None or wall < best[0]:
            best = (wall, usage.ru_maxrss / 1024)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    script = Path(sys.executable).with_name("hf-behavior")
    peer, _ = best_run([sys.executable, "-c", "pass"], args.repeats)
    print(f"load average: {os.getloadavg()[0]:.1f}; bare interpreter start: {peer:.2f} s")
    for command in [None, *COMMANDS]:
        wall, rss = best_run([str(script), *([command] if command else []), "--help"], args.repeats)
        name = f"hf-behavior {command + ' ' if command else ''}--help"
        print(f"{name:<38} {wall:5.2f} s ({wall / peer:4.1f}x the bare start), {rss:5,.0f} MiB")


if __name__ == "__main__":
    main()
