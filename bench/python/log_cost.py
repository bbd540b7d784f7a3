"""Where the time of one `run.log({...}, step=n)` goes, from Python: the package's call against the layers under it.

    QUILL_LIBRARY=.build/release/libQuillC.so python3 bench/python/log_cost.py [--calls 300000] [--repeats 5]

Imports the package from python/src (or the installed one with --installed) and times, per call, the median over
--repeats loops of --calls calls each:

  loop             the benchmark's loop alone: the row's dict built from the step, no call
  run.log          the package's public call, as a training loop makes it (dict built in the loop too)
  prepare          run.log's Python work before the C call: the key tuple, the per-thread cache, packing values
  ctypes argtypes  quill_log called through the package's declared function (argtypes set), arrays ready
  ctypes bare      the same C function through a CDLL function without argtypes: ready ctypes objects only
  ctypes count=0   the bare call with count 0: ctypes and the entry into Swift, no row
  abi_version      ctypes' own floor: a call with no argument and almost no work

So `run.log` = loop + prepare + the C call; `ctypes argtypes - ctypes bare` is what ctypes' argument conversion
costs; `ctypes bare - ctypes count=0` is the Swift side's work for the row. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--installed", action="store_true", help="use the installed quill, not python/src")
    args = parser.parse_args()
    if not args.installed:
        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python" / "src"))
    import quill
    from quill import _native

    home = tempfile.mkdtemp(prefix="quill-log-cost-")
    run = quill.init(project="cost", home=home, capture_git=False, capture_dependencies=False,
                     system_metrics_interval=0, capture_host=False)
    n = args.calls
    values = {"loss": 0.5, "acc": 0.25, "lr": 0.001}
    run.log(values, step=0)
    prepared = run._local.prepared[tuple(values)]
    handle = run._handle
    error_ref = run._local.error_ref
    declared = _native.load().quill_log
    bare_lib = ctypes.CDLL(str(_native.library_path()))
    bare = bare_lib.quill_log
    bare.restype = ctypes.c_int32
    abi = bare_lib.quill_abi_version
    abi.restype = ctypes.c_int32
    bare_handle = ctypes.c_void_p(handle.value)
    step_box = ctypes.c_int64(0)
    keys, doubles, count = prepared.keys, prepared.values, prepared.count
    total = float(n)

    def loop() -> None:
        for step in range(n):
            x = float(step)
            {"loss": 1.0 / (1.0 + x), "acc": x / total, "lr": 0.001 * (1.0 - x / total)}

    def public() -> None:
        log = run.log
        for step in range(n):
            x = float(step)
            log({"loss": 1.0 / (1.0 + x), "acc": x / total, "lr": 0.001 * (1.0 - x / total)}, step=step)

    def prepare() -> None:
        local = run._local
        for _ in range(n):
            found = local.prepared.get(tuple(values))
            found.packer(found.values, 0, *values.values())

    def with_argtypes() -> None:
        for step in range(n):
            declared(handle, keys, doubles, count, step, 1, error_ref)

    def without_argtypes() -> None:
        for step in range(n):
            step_box.value = step
            bare(bare_handle, keys, doubles, count, step_box, 1, error_ref)

    def count_zero() -> None:
        for step in range(n):
            step_box.value = step
            bare(bare_handle, keys, doubles, 0, step_box, 1, error_ref)

    def abi_version() -> None:
        for _ in range(n):
            abi()

    cases = {"loop": loop, "run.log": public, "prepare": prepare, "ctypes argtypes": with_argtypes,
             "ctypes bare": without_argtypes, "ctypes count=0": count_zero, "abi_version": abi_version}
    samples: dict = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, body in cases.items():  # interleaved, so drift hits every case alike
            start = time.perf_counter_ns()
            body()
            samples[name].append((time.perf_counter_ns() - start) / n)
    run.finish()
    result = {"library": str(_native.library_path()), "calls": n, "repeats": args.repeats,
              "loadavg": os.getloadavg(), "ns_per_call_median": {k: round(statistics.median(v), 1)
                                                                 for k, v in samples.items()}}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
