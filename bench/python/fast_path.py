"""Run.log's compiled fast path (quill._fastlog) against its ctypes fallback (QUILL_PYTHON_PURE=1), side by side.

    (cd python && python setup.py build_ext --inplace)   # the extension, next to the sources
    QUILL_LIBRARY=.build/release/libQuillC.so python3 bench/python/fast_path.py [--steps 333334] [--repeats 3]

Imports the package from python/src and, alternating the two paths in one process, measures:

  end to end   one run of --steps steps x 3 metrics (the peers benchmark's rows: loss, acc, lr built in the loop),
               timed from the first run.log to the end of run.finish(), then checked (every row in metrics.jsonl);
  per call     --latency-calls calls after --latency-warmup untimed ones, each timed alone with perf_counter_ns
               (the timer's own cost included, as in bench/peers): p50, p99, p99.9.

Prints one JSON object: medians over --repeats for each path and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List


def start(quill: Any, home: str, path: str) -> Any:
    if path == "ctypes":
        os.environ["QUILL_PYTHON_PURE"] = "1"
    else:
        os.environ.pop("QUILL_PYTHON_PURE", None)
    run = quill.init(project="fast-path", home=home, capture_git=False, capture_dependencies=False,
                     system_metrics_interval=0, capture_host=False)
    if (run._fast_log is not None) != (path == "fast"):
        sys.exit(f"error: the {path} path is not the one in use; build the extension: "
                 "(cd python && python setup.py build_ext --inplace)")
    return run


def count_rows(run_dir: str) -> int:
    with open(os.path.join(run_dir, "metrics.jsonl"), "rb") as handle:
        return sum(1 for _ in handle)


def end_to_end(quill: Any, home: str, path: str, steps: int) -> float:
    run = start(quill, home, path)
    log = run.log
    total = float(steps)
    began = time.perf_counter()
    for step in range(steps):
        x = float(step)
        log({"loss": 1.0 / (1.0 + x), "acc": x / total, "lr": 0.001 * (1.0 - x / total)}, step=step)
    run.finish()
    elapsed = time.perf_counter() - began
    rows = count_rows(run.dir)
    if rows != steps:
        sys.exit(f"error: {path}: {rows} rows written of {steps}")
    return elapsed


def latency(quill: Any, home: str, path: str, calls: int, warmup: int) -> Dict[str, float]:
    run = start(quill, home, path)
    log = run.log
    clock = time.perf_counter_ns
    for step in range(warmup):
        log({"loss": 0.5, "acc": 0.25, "lr": 0.001}, step=step)
    samples: List[int] = [0] * calls
    for index in range(calls):
        x = float(index)
        row = {"loss": 1.0 / (1.0 + x), "acc": x, "lr": 0.001}
        before = clock()
        log(row, step=warmup + index)
        samples[index] = clock() - before
    run.finish()
    if count_rows(run.dir) != warmup + calls:
        sys.exit(f"error: {path}: rows lost in the latency run")
    samples.sort()

    def at(fraction: float) -> float:
        return samples[min(calls - 1, int(fraction * calls))] / 1000.0

    return {"p50_us": at(0.50), "p99_us": at(0.99), "p999_us": at(0.999), "mean_us": sum(samples) / calls / 1000.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=333_334)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency-calls", type=int, default=100_000)
    parser.add_argument("--latency-warmup", type=int, default=10_000)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python" / "src"))
    import quill

    if not quill._fast.available():
        sys.exit("error: quill._fastlog is not built: (cd python && python setup.py build_ext --inplace)")
    paths = ("fast", "ctypes")
    seconds: Dict[str, List[float]] = {path: [] for path in paths}
    latencies: Dict[str, List[Dict[str, float]]] = {path: [] for path in paths}
    for repeat in range(args.repeats):
        for path in (paths if repeat % 2 == 0 else paths[::-1]):
            home = tempfile.mkdtemp(prefix="quill-fast-path-")
            try:
                seconds[path].append(end_to_end(quill, home, path, args.steps))
                if args.latency_calls > 0:
                    latencies[path].append(latency(quill, home, path, args.latency_calls, args.latency_warmup))
            finally:
                shutil.rmtree(home, ignore_errors=True)
            print(f"repeat {repeat + 1} {path}: {seconds[path][-1]:.3f} s", file=sys.stderr, flush=True)
    result: Dict[str, Any] = {"steps": args.steps, "points": args.steps * 3, "repeats": args.repeats,
                              "library": str(quill._native.library_path()), "python": sys.version.split()[0]}
    for path in paths:
        entry: Dict[str, Any] = {"end_to_end_s": statistics.median(seconds[path]), "end_to_end_all_s": seconds[path]}
        if latencies[path]:
            for key in latencies[path][0]:
                entry[key] = statistics.median(sample[key] for sample in latencies[path])
        result[path] = entry
    result["ctypes_over_fast_end_to_end"] = result["ctypes"]["end_to_end_s"] / result["fast"]["end_to_end_s"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
