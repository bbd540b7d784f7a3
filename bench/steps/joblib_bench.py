"""The joblib side of bench/steps: the cost of one call of a `joblib.Memory`-cached function on a warm
cache (hit) and on a miss, per call, in a fresh temporary root.

    python joblib_bench.py [--n 2000] [--warmup 50] [--root DIR] [--keep]

The cached function takes three arguments (a string, a float and an int, like the Swift step's three
configuration fields) and returns a small value (the int). A hit calls it again with the same arguments;
a miss calls it with new ones, so joblib computes it and writes its output and metadata. Prints one JSON
object with the same shape as quill-steps-bench: {"tool": "joblib", "n": N, "hit": {...}, "miss": {...}}.
"""

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time

import joblib


def summary(nanoseconds):
    ordered = sorted(nanoseconds)

    def percentile(p):
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        return ordered[min(rank, len(ordered)) - 1] / 1000

    return {
        "median_us": percentile(50),
        "p90_us": percentile(90),
        "p99_us": percentile(99),
        "mean_us": sum(ordered) / len(ordered) / 1000,
        "min_us": ordered[0] / 1000,
        "max_us": ordered[-1] / 1000,
        "calls": float(len(ordered)),
    }


def bench_value(name, lr, seed):
    return seed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--root")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    n, warmup = max(1, args.n), max(0, args.warmup)
    if args.root:
        os.makedirs(args.root, exist_ok=True)
        root = args.root
    else:
        root = tempfile.mkdtemp(prefix="joblib-steps-bench.")
    os.chdir(root)
    memory = joblib.Memory(location=os.path.join(root, "cache"), verbose=0)
    cached = memory.cache(bench_value)
    clock = time.perf_counter_ns

    # (a) Hit: one computation, then `warmup` untimed and `n` timed calls with the same arguments.
    cached("bench", 0.001, 42)
    for _ in range(warmup):
        cached("bench", 0.001, 42)
    hits = []
    for _ in range(n):
        start = clock()
        value = cached("bench", 0.001, 42)
        hits.append(clock() - start)
        if value != 42:
            raise SystemExit(f"wrong value {value}")

    # (b) Miss: `warmup` untimed and `n` timed distinct argument sets, each computed once.
    for index in range(warmup):
        cached("warmup", 0.001, index)
    misses = []
    for index in range(n):
        start = clock()
        value = cached("bench", 0.001, 1000 + index)
        misses.append(clock() - start)
        if value != 1000 + index:
            raise SystemExit(f"wrong value {value}")

    report = {
        "tool": "joblib",
        "version": joblib.__version__,
        "python": sys.version.split()[0],
        "n": n,
        "warmup": warmup,
        "hit": summary(hits),
        "miss": summary(misses),
    }
    print(json.dumps(report, sort_keys=True))
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
