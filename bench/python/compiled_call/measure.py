"""An experiment, not part of the package: the benchmark's loop through the package's `run.log` (ctypes) against the
same rows handed to the same `quill_log` through a compiled CPython function (fastlog.c, built here with the
system's C compiler), in one process, interleaved; medians.

    QUILL_LIBRARY=.build/release/libQuillC.so python3 bench/python/compiled_call/measure.py [--steps 333334]

Prints one JSON object: ns per call for each path (the loop's dict building included), the caller latency p50/p99
of each, and whether both wrote every row.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build(out_dir: str) -> object:
    target = os.path.join(out_dir, "_quill_fastlog.so")
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-I", sysconfig.get_paths()["include"], "-o", target,
                    str(HERE / "fastlog.c")], check=True)
    spec = importlib.util.spec_from_file_location("_quill_fastlog", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=333_334)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency-calls", type=int, default=100_000)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parents[2] / "python" / "src"))
    import quill
    from quill import _native

    work = tempfile.mkdtemp(prefix="quill-compiled-call-")
    fast = build(work)
    lib = _native.load()
    fast.bind(ctypes.cast(lib.quill_log, ctypes.c_void_p).value, ctypes.cast(lib.quill_free, ctypes.c_void_p).value)
    options = dict(home=os.path.join(work, "home"), capture_git=False, capture_dependencies=False,
                   system_metrics_interval=0)

    def ctypes_path(steps: int) -> tuple:
        run = quill.init(project="cost", **options)
        log = run.log
        n = float(steps)
        start = time.perf_counter()
        for step in range(steps):
            x = float(step)
            log({"loss": 1.0 / (1.0 + x), "acc": x / n, "lr": 0.001 * (1.0 - x / n)}, step=step)
        run.finish()
        return time.perf_counter() - start, run

    def compiled_path(steps: int) -> tuple:
        run = quill.init(project="cost", **options)
        log = fast.log
        handle = run._handle.value
        n = float(steps)
        start = time.perf_counter()
        for step in range(steps):
            x = float(step)
            log(handle, {"loss": 1.0 / (1.0 + x), "acc": x / n, "lr": 0.001 * (1.0 - x / n)}, step)
        run.finish()
        return time.perf_counter() - start, run

    def latency(call) -> dict:  # noqa: ANN001
        clock = time.perf_counter_ns
        samples = []
        for step in range(args.latency_calls + 10_000):
            x = float(step)
            values = {"loss": 1.0 / (1.0 + x), "acc": x, "lr": 0.001}
            t0 = clock()
            call(values, step)
            t1 = clock()
            samples.append(t1 - t0)
        samples = sorted(samples[10_000:])
        return {"p50": samples[len(samples) // 2], "p99": samples[int(len(samples) * 0.99)]}

    walls: dict = {"ctypes run.log": [], "compiled call": []}
    rows_ok = True
    for _ in range(args.repeats):
        for name, path in (("ctypes run.log", ctypes_path), ("compiled call", compiled_path)):
            seconds, run = path(args.steps)
            walls[name].append(seconds)
            with open(os.path.join(run.dir, "metrics.jsonl"), "rb") as f:
                rows_ok = rows_ok and sum(1 for _ in f) == args.steps
    run = quill.init(project="cost", **options)
    lat_ctypes = latency(lambda values, step: run.log(values, step=step))
    handle = run._handle.value
    lat_compiled = latency(lambda values, step: fast.log(handle, values, step))
    run.finish()
    print(json.dumps({
        "steps": args.steps, "repeats": args.repeats, "loadavg": os.getloadavg(), "every_row_written": rows_ok,
        "wall_seconds_median": {k: round(statistics.median(v), 3) for k, v in walls.items()},
        "ns_per_call_median": {k: round(statistics.median(v) / args.steps * 1e9) for k, v in walls.items()},
        "latency_ns (lambda wrapper included)": {"ctypes run.log": lat_ctypes, "compiled call": lat_compiled},
    }, indent=1))


if __name__ == "__main__":
    main()
