"""Runs every benchmark of this folder that has a ``--smoke`` size, at that size, so
the benchmarks keep working as the code changes (``make test`` calls it).

    .venv/bin/python bench/smoke.py

A benchmark takes part by accepting ``--smoke``: a small data set, a run or two,
checks intact, done in seconds. The figures printed at that size mean nothing; a
failure (a non-zero exit) fails the run.
"""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def smoke_scripts() -> list[Path]:
    """The benchmarks that accept --smoke, by name."""
    return sorted(
        path
        for path in HERE.glob("*.py")
        if path.name != Path(__file__).name and '"--smoke"' in path.read_text(encoding="utf-8")
    )


def main() -> int:
    failed = []
    for script in smoke_scripts():
        started = time.perf_counter()
        print(f"== {script.name} --smoke", flush=True)
        result = subprocess.run([sys.executable, str(script), "--smoke"], check=False)
        seconds = time.perf_counter() - started
        status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        print(f"== {script.name}: {status} in {seconds:.1f} s", flush=True)
        if result.returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"benchmark smoke runs failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
