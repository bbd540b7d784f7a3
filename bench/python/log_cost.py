"""Where the time of one `run.log({...}, step=n)` goes, from Python: the package's call against the layers under it.

    QUILL_LIBRARY=.build/release/libQuillC.so python3 bench/python/log_cost.py [--calls 300000] [--repeats 5]

Imports the package from python/src (or the installed one with --installed) and times, per call, the median over
--repeats loops of --calls calls each:

  loop             the benchmark's loop alone: the row's dict built from the step, no call
  run.log          the package's public call, as a training loop makes it (dict built in the loop too)
  prepare          Python work before the C call: the key tuple, the cache lookup, packing three doubles
  ctypes argtypes  quill_log through a ctypes function with argtypes declared, arrays ready
  ctypes bare      the same C function without argtypes: ready ctypes objects only (what run.log does since
                   the package dropped argtypes on its hot path)
  ctypes count=0   the bare call with count 0: ctypes and the entry into Swift, no row
  abi_version      ctypes' own floor: a call with no argument and almost no work

So `run.log` ≈ loop + prepare + the bare C call; `ctypes argtypes - ctypes bare` is what ctypes' argument
conversion costs; `ctypes bare - ctypes count=0` is the Swift side's work for the row. Prints one JSON object.
Only the run's handle is taken from the package's internals; the rest is built here.
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
    import struct

    values = {"loss": 0.5, "acc": 0.25, "lr": 0.001}
    run.log(values, step=0)
    handle = ctypes.c_void_p(run._handle.value)
    error = ctypes.c_void_p()
    error_ref = ctypes.byref(error)
    path = str(_native.library_path())
    declared = ctypes.CDLL(path).quill_log
    declared.restype = ctypes.c_int32
    declared.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_double),
                         ctypes.c_int32, ctypes.c_int64, ctypes.c_int32, ctypes.POINTER(ctypes.c_void_p)]
    bare_lib = ctypes.CDLL(path)
    bare = bare_lib.quill_log
    bare.restype = ctypes.c_int32
    abi = bare_lib.quill_abi_version
    abi.restype = ctypes.c_int32
    step_box = ctypes.c_int64(0)
    keys = (ctypes.c_char_p * 3)(*(key.encode() for key in values))
    doubles = (ctypes.c_double * 3)(*values.values())
    count = 3
    cache = {tuple(values): (keys, struct.Struct("=3d").pack)}
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
        for _ in range(n):
            found = cache.get(tuple(values))
            found[1](*values.values())

    def with_argtypes() -> None:
        for step in range(n):
            declared(handle, keys, doubles, count, step, 1, error_ref)

    def without_argtypes() -> None:
        for step in range(n):
            step_box.value = step
            bare(handle, keys, doubles, count, step_box, 1, error_ref)

    def count_zero() -> None:
        for step in range(n):
            step_box.value = step
            bare(handle, keys, doubles, 0, step_box, 1, error_ref)

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
