"""Measures what one `run.log({...}, step=n)` costs the Python caller: each call timed with perf_counter_ns.

Usage (the release library gives the figures worth quoting):

    QUILL_LIBRARY=.build/release/libQuillC.so python3 python/tools/measure_log.py [--calls 1000000] [--keys 3]

Prints the median, p90, p99, p99.9 and max of the per-call time, and the end-to-end rate including finish.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import quill  # noqa: E402


def percentile(sorted_values: List[int], fraction: float) -> int:
    """The value at a fraction of a sorted list (nearest rank)."""
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * len(sorted_values))) - 1))
    return sorted_values[index]


def _timer_cost(clock: "type[time.perf_counter_ns] | object") -> int:
    before = clock()  # type: ignore[operator]
    return clock() - before  # type: ignore[operator,no-any-return]


def measure(calls: int, keys: int, home: str, *, warmup: int = 10_000) -> Dict[str, float]:
    """Logs `calls` rows of `keys` metrics into a fresh run; the per-call figures in nanoseconds."""
    run = quill.init(project="measure", home=home, capture_git=False, capture_dependencies=False,
                     system_metrics_interval=0)
    names = [f"metric_{index}" for index in range(keys)]
    clock = time.perf_counter_ns
    timings = [0] * calls
    log = run.log
    for step in range(warmup):
        log({name: 0.5 for name in names}, step=-1 - step)
    gc.disable()
    started = clock()
    for step in range(calls):
        row = {name: step * 0.001 for name in names}
        before = clock()
        log(row, step=step)
        timings[step] = clock() - before
    run.finish()
    ended = clock()
    gc.enable()
    overhead = min(_timer_cost(clock) for _ in range(1000))  # included in every figure above
    timings.sort()
    return {
        "calls": calls,
        "keys": keys,
        "p50_ns": percentile(timings, 0.50),
        "p90_ns": percentile(timings, 0.90),
        "p99_ns": percentile(timings, 0.99),
        "p999_ns": percentile(timings, 0.999),
        "max_ns": timings[-1],
        "timer_ns": overhead,
        "end_to_end_s": (ended - started) / 1e9,
        "library": str(quill._native.library_path()),
    }


def main() -> None:
    """Parses arguments, measures, prints JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--keys", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        print(json.dumps(measure(arguments.calls, arguments.keys, home), indent=2))


if __name__ == "__main__":
    os.environ.setdefault("QUILL_CAPTURE_DEPS", "0")
    main()
