"""Run.log's compiled fast path (quill._fastlog) and its ctypes fallback: the extension is built and used, both
paths write the same rows and raise the same exceptions, threads lose nothing, a dict mutated during a call is safe.

scripts/test.sh builds the extension in place (`python setup.py build_ext --inplace` in python/) before pytest;
QUILL_PYTHON_PURE=1, read when a run starts, forces the ctypes path.
"""

from __future__ import annotations

import collections
import math
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

import quill
from conftest import LIBRARY, PYTHON_DIR, read_metrics

PATHS = ("fast", "ctypes")


def start(home: Path, path: str, monkeypatch: pytest.MonkeyPatch, **options: Any) -> quill.Run:
    """A run whose log goes through the given path (asserted, so a silent fallback fails)."""
    if path == "ctypes":
        monkeypatch.setenv("QUILL_PYTHON_PURE", "1")
    else:
        monkeypatch.delenv("QUILL_PYTHON_PURE", raising=False)
    run = quill.init(project="fastlog", home=home, **options)
    assert (run._fast_log is not None) == (path == "fast"), (path, run._fast_log)
    return run


def test_the_extension_is_built_and_used(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert quill._fast.available(), (
        "quill._fastlog is not built: run `python setup.py build_ext --inplace` in python/ (scripts/test.sh does)")
    assert Path(quill._fast._fastlog.__file__).parent == PYTHON_DIR / "src" / "quill"
    run = start(home, "fast", monkeypatch)
    run.log({"loss": 0.5}, step=1)
    run.finish()
    monkeypatch.setenv("QUILL_PYTHON_PURE", "1")
    pure = quill.init(project="fastlog", home=home)
    assert pure._fast_log is None
    pure.finish()
    assert [row["loss"] for row in read_metrics(run.dir)] == [0.5]


def test_run_log_is_the_compiled_call_with_the_documented_arguments(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = start(home, "fast", monkeypatch)
    assert type(run.log).__name__ == "LogCall", type(run.log)
    run.log({"a": 1.0})
    run.log({"a": 2.0}, 5)
    run.log({"a": 3.0}, step=6)
    run.log(metrics={"a": 4.0}, step=7)
    run.log({"a": 5.0}, step=None)
    for bad_call, message in [
        (lambda: run.log(), "missing 1 required argument"),
        (lambda: run.log({"a": 1.0}, 1, 2), "at most 2 arguments"),
        (lambda: run.log({"a": 1.0}, stp=1), "unexpected keyword argument 'stp'"),
        (lambda: run.log({"a": 1.0}, 1, step=1), "multiple values for argument 'step'"),
    ]:
        with pytest.raises(TypeError, match=message):
            bad_call()
    # A row the compiled call leaves to the ctypes path (a mapping that is not a dict) is logged there.
    run.log(collections.OrderedDict(a=6.0), step=8)
    run.finish()
    # After finish, the engine refuses; the fallback raises the usual exception.
    with pytest.raises(quill.RunFinishedError):
        run.log({"a": 7.0}, step=9)
    rows = read_metrics(run.dir)
    assert [row["a"] for row in rows] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert [row.get("step") for row in rows] == [None, 5, 6, 7, None, 8]


def test_a_log_call_kept_after_its_run_is_gone_refuses_to_log(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    run = start(home, "fast", monkeypatch)
    log = run.log
    run.finish()
    del run
    gc.collect()
    with pytest.raises(RuntimeError, match="released"):
        log({"a": 1.0}, step=1)


class Floaty:
    def __init__(self, value: float) -> None:
        self.value = value

    def __float__(self) -> float:
        return self.value


class Indexy:
    def __index__(self) -> int:
        return 7


def good_rows() -> List[Tuple[Dict[str, Any], Optional[int]]]:
    """Rows both paths take: every kind of value, key sets of every size (a big one goes to the heap)."""
    numpy = pytest.importorskip("numpy")
    return [
        ({"loss": 0.25, "acc": 1, "flag": True, "off": False}, 0),
        ({"loss": -0.0, "big": 2**63, "neg": -(2**70)}, 1),
        ({"nan": math.nan, "inf": math.inf, "-inf": -math.inf}, None),
        ({"np64": numpy.float64(1.5), "np32": numpy.float32(0.5), "i64": numpy.int64(-3), "b": numpy.bool_(True)}, 2),
        ({"zero_d": numpy.array(2.5), "object": Floaty(3.25), "index": Indexy()}, 3),
        ({"ünïcode/キー": 1.0, "a b": 2.0}, 2**53 - 1),
        ({"loss": 0.125}, -(2**53 - 1)),
        ({}, 4),
        ({}, None),
        ({f"k{index:03d}": float(index) for index in range(200)}, 5),
        ({f"s{index:02d}": float(index) for index in range(32)}, 6),
        ({f"t{index:02d}": float(index) for index in range(33)}, 7),
        (collections.OrderedDict([("od", 1.0)]), 8),  # not a plain dict: the ctypes path
        ({"step_np": 9.0}, numpy.int64(9)),  # a NumPy step: the ctypes path's __index__
    ]


def comparable(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [{key: value for key, value in row.items() if key != "_timestamp"} for row in rows]


def test_both_paths_write_the_same_rows(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = {}
    for path in PATHS:
        run = start(home, path, monkeypatch)
        for metrics, step in good_rows():
            run.log(metrics, step=step)
        run.finish()
        written[path] = comparable(read_metrics(run.dir))
    assert written["fast"] == written["ctypes"]
    rows = written["fast"]
    assert rows[0] == {"_idx": 0, "step": 0, "loss": 0.25, "acc": 1.0, "flag": 1.0, "off": 0.0}
    assert rows[1]["big"] == 2.0**63 and rows[1]["neg"] == -(2.0**70)
    assert rows[4]["object"] == 3.25 and rows[4]["index"] == 7.0 and rows[4]["zero_d"] == 2.5
    assert rows[5]["step"] == 2**53 - 1 and rows[6]["step"] == -(2**53 - 1)
    assert sum(1 for row in rows if any(key.startswith("k") for key in row)) == 1
    big = next(row for row in rows if "k000" in row)
    assert [big[f"k{index:03d}"] for index in range(200)] == [float(index) for index in range(200)]


def bad_calls() -> List[Tuple[str, Callable[[quill.Run], None]]]:
    numpy = pytest.importorskip("numpy")
    return [
        ("int key", lambda run: run.log({1: 1.0})),  # type: ignore[dict-item]
        ("None key", lambda run: run.log({None: 1.0})),  # type: ignore[dict-item]
        ("empty key", lambda run: run.log({"": 1.0})),
        ("reserved step", lambda run: run.log({"step": 1.0})),
        ("reserved _idx", lambda run: run.log({"a": 1.0, "_idx": 1.0})),
        ("reserved _timestamp", lambda run: run.log({"_timestamp": 1.0})),
        ("NUL key", lambda run: run.log({"a\0b": 1.0})),
        ("surrogate key", lambda run: run.log({"a\udc80": 1.0})),
        ("str value", lambda run: run.log({"ok": 1.0, "bad": "0.5"}, step=1)),
        ("None value", lambda run: run.log({"bad": None})),
        ("bytes value", lambda run: run.log({"bad": b"1"})),
        ("list value", lambda run: run.log({"bad": [1.0]})),
        ("dict value", lambda run: run.log({"bad": {}})),
        ("complex value", lambda run: run.log({"bad": 1j})),
        ("array value", lambda run: run.log({"bad": numpy.array([1.0, 2.0])})),
        ("huge int value", lambda run: run.log({"bad": 10**400})),
        ("__float__ raising", lambda run: run.log({"bad": Floaty("x")})),  # type: ignore[arg-type]
        ("bool step", lambda run: run.log({"a": 1.0}, step=True)),
        ("float step", lambda run: run.log({"a": 1.0}, step=1.0)),  # type: ignore[arg-type]
        ("str step", lambda run: run.log({"a": 1.0}, step="1")),  # type: ignore[arg-type]
        ("step 2**63", lambda run: run.log({"a": 1.0}, step=2**63)),
        ("step -(2**63) - 1", lambda run: run.log({"a": 1.0}, step=-(2**63) - 1)),
        ("step 2**53", lambda run: run.log({"a": 1.0}, step=2**53)),
        ("step -(2**53)", lambda run: run.log({"a": 1.0}, step=-(2**53))),
        ("step 2**63 - 1", lambda run: run.log({"a": 1.0}, step=2**63 - 1)),
        ("not a mapping", lambda run: run.log([("a", 1.0)])),  # type: ignore[arg-type]
    ]


def outcome(call: Callable[[], None]) -> Tuple[str, str]:
    try:
        call()
    except Exception as error:  # compared across the paths
        return type(error).__name__, str(error)
    return "no error", ""


def test_both_paths_raise_the_same_exceptions(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes: Dict[str, List[Tuple[str, str, str]]] = {}
    for path in PATHS:
        run = start(home, path, monkeypatch)
        results = [(name, *outcome(lambda: call(run))) for name, call in bad_calls()]
        run.finish()
        results.append(("after finish", *outcome(lambda: run.log({"a": 1.0}, step=1))))
        results.append(("after finish, no step", *outcome(lambda: run.log({"a": 1.0}))))
        outcomes[path] = [(name, kind, message.replace(run.id, "<run id>")) for name, kind, message in results]
        assert read_metrics(run.dir) == [], f"{path}: a refused row was written"
    assert outcomes["fast"] == outcomes["ctypes"]
    for name, kind, message in outcomes["fast"]:
        assert kind != "no error", name
        if name.endswith("value"):
            assert "'bad'" in message, (name, message)  # the message names the key
    kinds = {name: kind for name, kind, _ in outcomes["fast"]}
    assert kinds["int key"] == "TypeError" and kinds["str value"] == "TypeError"
    assert kinds["reserved step"] == "InvalidArgumentError" and kinds["step 2**53"] == "InvalidArgumentError"
    assert kinds["step 2**63"] == "OverflowError" and kinds["bool step"] == "TypeError"
    assert kinds["after finish"] == "RunFinishedError" and kinds["after finish, no step"] == "RunFinishedError"


def test_many_threads_lose_nothing_on_the_fast_path(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = start(home, "fast", monkeypatch)
    threads, per_thread = 8, 4000
    barrier = threading.Barrier(threads)
    failures: List[BaseException] = []

    def work(number: int) -> None:
        try:
            barrier.wait()
            for index in range(per_thread):
                run.log({"thread": number, "index": index, "check": number * 1_000_000 + index},
                        step=number * per_thread + index)
        except BaseException as error:  # reported below
            failures.append(error)

    workers = [threading.Thread(target=work, args=(number,)) for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not any(worker.is_alive() for worker in workers)
    run.finish()
    assert not failures, failures
    rows = read_metrics(run.dir)
    assert len(rows) == threads * per_thread
    assert [row["_idx"] for row in rows] == list(range(len(rows)))
    for row in rows:
        assert row["check"] == row["thread"] * 1_000_000 + row["index"], row
        assert row["step"] == row["thread"] * per_thread + row["index"], row
    assert {(row["thread"], row["index"]) for row in rows} == {
        (number, index) for number in range(threads) for index in range(per_thread)}


def test_a_dict_mutated_by_another_thread_during_calls(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = start(home, "fast", monkeypatch)
    shared: Dict[str, Any] = {"base": 1.0}
    stop = threading.Event()
    logged = [0]
    failures: List[BaseException] = []

    def mutate() -> None:
        index = 0
        while not stop.is_set():
            key = f"m{index % 50}"
            shared[key] = float(index)  # new key strings each time: the old ones may be freed
            shared.pop(f"m{(index + 25) % 50}", None)
            index += 1

    def log() -> None:
        try:
            for step in range(3000):
                run.log(shared, step=step)
                logged[0] += 1
        except BaseException as error:  # reported below
            failures.append(error)

    mutator = threading.Thread(target=mutate)
    loggers = [threading.Thread(target=log) for _ in range(2)]
    mutator.start()
    for worker in loggers:
        worker.start()
    for worker in loggers:
        worker.join(timeout=300)
    stop.set()
    mutator.join(timeout=60)
    run.finish()
    assert not failures, failures
    rows = read_metrics(run.dir)
    assert len(rows) == logged[0] == 6000
    for row in rows:
        assert row["base"] == 1.0
        assert all(key in ("_idx", "_timestamp", "step", "base") or key.startswith("m") for key in row), row


def test_a_float_that_mutates_the_dict(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A value's __float__ runs Python code mid-call; changing the row's own dict then must not crash."""
    run = start(home, "fast", monkeypatch)
    metrics: Dict[str, Any] = {}

    class Meddler:
        def __float__(self) -> float:
            metrics.clear()
            for index in range(100):
                metrics[f"new{index}"] = float(index)
            return 4.0

    metrics.update({"a": 1.0, "meddler": Meddler(), "c": 3.0})
    run.log(metrics, step=1)
    run.finish()
    rows = read_metrics(run.dir)
    assert len(rows) == 1
    assert rows[0]["a"] == 1.0 and rows[0]["meddler"] == 4.0 and rows[0]["c"] == 3.0


def test_the_key_api_tests_pass_on_the_ctypes_path(tmp_path: Path) -> None:
    """The main API, value and thread tests run again in a child pytest with QUILL_PYTHON_PURE=1 (this process
    runs them on the fast path)."""
    env = dict(os.environ, QUILL_PYTHON_PURE="1", QUILL_LIBRARY=str(LIBRARY))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", "tests/test_api.py",
         "tests/test_values.py", "tests/test_threads.py", "tests/test_lifecycle.py"],
        cwd=PYTHON_DIR, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout, result.stdout[-2000:]


NO_EXTENSION_CHECK = """
import quill
assert not quill._fast.available(), "quill._fastlog imported from a wheel built without a compiler"
assert quill._native.library_path().parent.name == "_lib", quill._native.library_path()
with quill.init(project="no-compiler") as run:
    assert run._fast_log is None
    for step in range(10):
        run.log({"loss": 1.0 / (step + 1)}, step=step)
print(run.dir)
"""


def test_without_a_compiler_the_wheel_builds_and_logs_through_ctypes(tmp_path: Path) -> None:
    """The extension is optional: with a C compiler that fails, `pip wheel` warns, succeeds, tags the wheel
    py3-none, and the package logs through ctypes."""
    import zipfile

    # A copy of the package without the in-place build (python/build and src/quill/_fastlog*.so), which
    # setuptools would otherwise reuse as up to date.
    source = tmp_path / "python"
    shutil.copytree(PYTHON_DIR, source, ignore=shutil.ignore_patterns(
        "build", "*.so", "*.egg-info", "__pycache__", ".pytest_cache", "tests"))
    wheels = tmp_path / "wheels"
    env = dict(os.environ, QUILL_LIBRARY=str(LIBRARY), PIP_DISABLE_PIP_VERSION_CHECK="1", CC="/bin/false")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--wheel-dir", str(wheels), str(source)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    output = build.stdout + build.stderr
    assert build.returncode == 0, output[-4000:]
    assert "warning: quill-tracking: could not compile quill._fastlog" in output, output[-4000:]
    built = list(wheels.glob("quill_tracking-*.whl"))
    assert len(built) == 1, built
    assert "-py3-none-linux_" in built[0].name, built[0].name
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(built[0]) as archive:
        assert not any(name.startswith("quill/_fastlog") for name in archive.namelist())
        archive.extractall(unpacked)
    os.chmod(unpacked / "quill" / "_lib" / "libQuillC.so", 0o755)
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "QUILL_HOME": str(tmp_path / "home"),
             "QUILL_CAPTURE_DEPS": "0", "QUILL_CAPTURE_GIT": "0", "QUILL_SYSTEM_METRICS_INTERVAL": "0",
             "PYTHONPATH": str(unpacked), "LANG": "C.UTF-8"}
    result = subprocess.run([sys.executable, "-c", NO_EXTENSION_CHECK], env=clean, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(read_metrics(result.stdout.strip())) == 10
