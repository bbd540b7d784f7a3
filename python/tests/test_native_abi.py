"""The raw C ABI of libQuillC (python-abi.md), called through ctypes with no Python package in between.

Every function round-trips through the run directory it writes, every bad input answers 1 with the right
error code while the process survives, and the library loads with no Swift toolchain on PATH. The library is
the one in QUILL_LIBRARY, else ../.build/debug/libQuillC.so from python/ (`swift build --product QuillC`);
the server tests start the real `quill serve` (QUILL_BINARY or QUILL_TEST_QUILL, else `quill` next to the
library, else .build/debug/quill).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import math
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIBRARY = Path(os.environ.get("QUILL_LIBRARY") or REPO / ".build" / "debug" / "libQuillC.so")
QUILL_BINARY = Path(
    os.environ.get("QUILL_BINARY")
    or os.environ.get("QUILL_TEST_QUILL")
    or next((p for p in (LIBRARY.parent / "quill", REPO / ".build" / "debug" / "quill") if p.exists()), LIBRARY.parent / "quill")
)

c_char_pp = ctypes.POINTER(ctypes.c_char_p)
STEP_LIMIT = 2**53 - 1

# Every function: (restype, argtypes). Strings go in as bytes and come out as void pointers, so the test
# frees exactly what the library allocated.
SIGNATURES = {
    "quill_abi_version": (ctypes.c_int32, []),
    "quill_free": (None, [ctypes.c_void_p]),
    "quill_run_start": (
        ctypes.c_int32,
        [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p)],
    ),
    "quill_run_resume": (
        ctypes.c_int32,
        [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p)],
    ),
    "quill_run_release": (None, [ctypes.c_void_p]),
    "quill_log": (
        ctypes.c_int32,
        [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.POINTER(ctypes.c_double),
            ctypes.c_int32,
            ctypes.c_int64,
            ctypes.c_int32,
            ctypes.POINTER(ctypes.c_void_p),
        ],
    ),
    "quill_log_rows": (
        ctypes.c_int32,
        [
            ctypes.c_void_p,
            ctypes.c_int32,
            ctypes.POINTER(ctypes.c_int32),
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.POINTER(ctypes.c_double),
            ctypes.POINTER(ctypes.c_int64),
            ctypes.POINTER(ctypes.c_uint8),
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_void_p),
        ],
    ),
    "quill_log_params": (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]),
    "quill_set_tag": (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]),
    "quill_add_link": (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]),
    "quill_log_summary": (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]),
    "quill_log_message": (
        ctypes.c_int32,
        [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)],
    ),
    "quill_save_artifact": (
        ctypes.c_int32,
        [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p)],
    ),
    "quill_flush": (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_int32, ctypes.POINTER(ctypes.c_void_p)]),
    "quill_finish": (
        ctypes.c_int32,
        [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)],
    ),
    "quill_run_snapshot": (
        ctypes.c_int32,
        [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p)],
    ),
    "quill_runs": (ctypes.c_int32, [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p)]),
    "quill_run_metrics": (
        ctypes.c_int32,
        [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p)],
    ),
}


class NativeError(Exception):
    """A call answered 1: the decoded {"code","message"} object."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Lib:
    """The library with typed functions and helpers that free what it returns."""

    def __init__(self, path: Path):
        if not path.exists():
            pytest.fail(f"{path} is missing: build it with `swift build --product QuillC` or set QUILL_LIBRARY")
        self.cdll = ctypes.CDLL(str(path))
        for name, (restype, argtypes) in SIGNATURES.items():
            function = getattr(self.cdll, name)
            function.restype = restype
            function.argtypes = argtypes

    def take(self, pointer: ctypes.c_void_p) -> str | None:
        """The string a call returned, freed with quill_free."""
        if not pointer.value:
            return None
        text = ctypes.string_at(pointer.value).decode("utf-8")
        self.cdll.quill_free(pointer)
        return text

    def call(self, name: str, *args, out: int = 0):
        """Calls a function; raises NativeError on 1; returns the JSON out-strings (parsed) it filled."""
        outs = [ctypes.c_void_p() for _ in range(out)]
        error = ctypes.c_void_p()
        rc = getattr(self.cdll, name)(*args, *[ctypes.byref(o) for o in outs], ctypes.byref(error))
        text = self.take(error)
        if rc != 0:
            assert rc == 1, f"{name} returned {rc}"
            assert text is not None, f"{name} failed without an error object"
            decoded = json.loads(text)
            assert set(decoded) == {"code", "message"}, decoded
            assert decoded["message"] and "\n" not in decoded["message"]
            raise NativeError(decoded["code"], decoded["message"])
        assert text is None, f"{name} succeeded but set an error: {text}"
        values = [json.loads(t) if (t := self.take(o)) is not None else None for o in outs]
        return values[0] if out == 1 else values

    def start(self, request: dict) -> tuple[ctypes.c_void_p, dict]:
        run = ctypes.c_void_p()
        info = ctypes.c_void_p()
        error = ctypes.c_void_p()
        rc = self.cdll.quill_run_start(json.dumps(request).encode(), ctypes.byref(run), ctypes.byref(info), ctypes.byref(error))
        text = self.take(error)
        if rc != 0:
            decoded = json.loads(text)
            raise NativeError(decoded["code"], decoded["message"])
        assert run.value
        return run, json.loads(self.take(info))

    def resume(self, request: dict) -> tuple[ctypes.c_void_p, dict]:
        run = ctypes.c_void_p()
        info = ctypes.c_void_p()
        error = ctypes.c_void_p()
        rc = self.cdll.quill_run_resume(json.dumps(request).encode(), ctypes.byref(run), ctypes.byref(info), ctypes.byref(error))
        text = self.take(error)
        if rc != 0:
            decoded = json.loads(text)
            raise NativeError(decoded["code"], decoded["message"])
        return run, json.loads(self.take(info))

    def log(self, run, values: dict, step: int | None = None) -> None:
        keys = (ctypes.c_char_p * len(values))(*[k.encode() for k in values])
        doubles = (ctypes.c_double * len(values))(*values.values())
        self.call("quill_log", run, keys, doubles, len(values), step or 0, 0 if step is None else 1)

    def log_rows(self, run, rows: list[tuple[int | None, dict]], extras: dict | None = None, steps: bool = True) -> None:
        counts = (ctypes.c_int32 * len(rows))(*[len(values) for _, values in rows])
        flat_keys = [k.encode() for _, values in rows for k in values]
        flat_values = [v for _, values in rows for v in values.values()]
        keys = (ctypes.c_char_p * len(flat_keys))(*flat_keys)
        doubles = (ctypes.c_double * len(flat_values))(*flat_values)
        step_array = (ctypes.c_int64 * len(rows))(*[s or 0 for s, _ in rows]) if steps else None
        has = (ctypes.c_uint8 * len(rows))(*[s is not None for s, _ in rows]) if steps else None
        extras_json = json.dumps(extras).encode() if extras is not None else None
        self.call("quill_log_rows", run, len(rows), counts, keys, doubles, step_array, has, extras_json)

    def finish(self, run, status: str | None = "completed", error_text: str | None = None) -> None:
        self.call(
            "quill_finish",
            run,
            status.encode() if status else None,
            error_text.encode() if error_text else None,
        )

    def snapshot(self, run) -> dict:
        return self.call("quill_run_snapshot", run, out=1)


@pytest.fixture(scope="session")
def lib() -> Lib:
    return Lib(LIBRARY)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh Quill home; no environment run to attach to."""
    for name in ("QUILL_RUN_DIR", "WHIRR_RUN_DIR", "WHIRR_JOB_ID", "QUILL_TRACKING_URI", "QUILL_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "home"
    monkeypatch.setenv("QUILL_HOME", str(folder))
    return folder


def quiet(home: Path, **fields) -> dict:
    """A start request that captures nothing slow (no git, dependencies or system sampling)."""
    return {
        "home": str(home),
        "capture_git": False,
        "capture_dependencies": False,
        "system_metrics_interval_s": 0,
        **fields,
    }


def metric_lines(directory: str) -> list[dict]:
    text = (Path(directory) / "metrics.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines() if line]


def events(directory: str) -> list[dict]:
    path = Path(directory) / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line] if path.exists() else []


def meta(directory: str) -> dict:
    return json.loads((Path(directory) / "meta.json").read_text())


# MARK: Round trips


def test_abi_version(lib):
    assert lib.cdll.quill_abi_version() == 1


def test_start_log_flush_finish_round_trip(lib, home):
    run, info = lib.start(
        quiet(
            home,
            project="Vision",
            name="baseline",
            config={"lr": 0.001, "layers": [64, 64], "opt": {"name": "adam"}},
            tags=["smoke", "team=nlp"],
            kind="evaluation",
            description="a first run",
        )
    )
    try:
        assert info["name"] == "baseline"
        assert info["project"] == "Vision"
        assert info["kind"] == "evaluation"
        assert info["parent"] is None
        assert info["attached"] is False
        assert info["config"] == {"lr": 0.001, "layers": [64, 64], "opt": {"name": "adam"}}
        assert Path(info["dir"]).name == info["id"]
        assert Path(info["dir"]).parent == home / "runs"
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", info["started_at"])
        for step in range(10):
            lib.log(run, {"loss": 1.0 / (step + 1), "acc": step / 10, "lr": 0.001}, step=step)
        lib.log(run, {"eval": 0.5})
        lib.call("quill_flush", run, 0)
        rows = metric_lines(info["dir"])
        assert [row["_idx"] for row in rows] == list(range(11))
        assert [row.get("step") for row in rows] == list(range(10)) + [None]
        assert rows[3]["loss"] == 0.25 and rows[3]["acc"] == 0.3 and rows[3]["lr"] == 0.001
        assert list(rows[3])[3:] == ["loss", "acc", "lr"], "keys keep the caller's order"
        assert rows[10]["eval"] == 0.5
        lib.call("quill_flush", run, 1)
        lib.finish(run)
        written = meta(info["dir"])
        assert written["status"] == "completed"
        assert written["finished_at"]
        assert written["description"] == "a first run"
        assert written["tag_values"] == {"smoke": "", "team": "nlp"}
        assert json.loads((Path(info["dir"]) / "config.json").read_text())["opt"] == {"name": "adam"}
    finally:
        lib.cdll.quill_run_release(run)


def test_finish_with_status_and_error_text(lib, home):
    run, info = lib.start(quiet(home, flush_interval_ms=5000))  # clamped to 200, as QUILL_FLUSH_INTERVAL_MS is
    lib.finish(run, "failed", "ValueError: boom")
    written = meta(info["dir"])
    assert written["status"] == "failed"
    assert written["error"] == "ValueError: boom"
    assert events(info["dir"])[-1]["status"] == "failed"
    lib.cdll.quill_run_release(run)


def test_metadata_round_trip(lib, home):
    run, info = lib.start(quiet(home))
    lib.call("quill_log_params", run, json.dumps({"batch": 32, "opt": {"beta": [0.9, 0.99]}, "nan": float("nan")}).encode())
    lib.call("quill_set_tag", run, b"team", b"vision")
    lib.call("quill_set_tag", run, b"baseline", None)
    lib.call("quill_add_link", run, b"paper", b"https://arxiv.org/abs/1706.03762")
    lib.call("quill_log_summary", run, b'{"best": 0.98, "worst": -Infinity}')
    lib.call("quill_log_summary", run, b'{"best": 0.99}')
    lib.call("quill_log_message", run, "héllo\nsecond line".encode(), b"warning")
    lib.call("quill_log_message", run, b"default level", None)
    lib.finish(run)
    written = meta(info["dir"])
    assert written["params"]["batch"] == 32
    assert written["params"]["opt"] == {"beta": [0.9, 0.99]}
    assert written["params"]["nan"] == "NaN"
    assert written["tag_values"] == {"team": "vision", "baseline": ""}
    assert [(link["label"], link["url"]) for link in written["links"]] == [("paper", "https://arxiv.org/abs/1706.03762")]
    assert written["summary"] == {"best": 0.99, "worst": "-Infinity"}
    kinds = [event["type"] for event in events(info["dir"])]
    for kind in ("param", "tag", "link", "summary", "status"):
        assert kind in kinds, kinds
    log = (Path(info["dir"]) / "output.log").read_text()
    assert "WARNING" in log.upper() and "héllo" in log and "second line" in log and "default level" in log
    assert len(log.splitlines()) == 3
    lib.cdll.quill_run_release(run)


def test_save_artifact(lib, home, tmp_path):
    source = tmp_path / "weights.bin"
    source.write_bytes(os.urandom(4096))
    run, info = lib.start(quiet(home))
    record = lib.call("quill_save_artifact", run, str(source).encode(), b"checkpoints", out=1)
    assert record["name"] == "checkpoints"
    assert record["path"] == "checkpoints/weights.bin"
    assert record["size"] == 4096
    assert record["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    stored = Path(record["file"])
    assert stored == Path(info["dir"]) / "artifacts" / "checkpoints" / "weights.bin"
    assert stored.read_bytes() == source.read_bytes()
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    record = lib.call("quill_save_artifact", run, str(folder).encode(), None, out=1)
    assert record["path"] == "folder" and record["sha256"] is None and record["size"] == 1
    with pytest.raises(NativeError) as missing:
        lib.call("quill_save_artifact", run, str(tmp_path / "nope").encode(), None, out=1)
    assert missing.value.code == "not_found"
    with pytest.raises(NativeError) as escaping:
        lib.call("quill_save_artifact", run, str(source).encode(), b"../outside", out=1)
    assert escaping.value.code == "invalid_argument"
    lib.finish(run)
    assert "artifact" in [event["type"] for event in events(info["dir"])]
    lib.cdll.quill_run_release(run)


def test_snapshot(lib, home):
    run, info = lib.start(quiet(home, project="snap", name="s1"))
    lib.log(run, {"loss": 0.5, "inf": float("inf")}, step=1)
    lib.call("quill_log_params", run, b'{"lr": 0.1}')
    lib.call("quill_set_tag", run, b"k", b"v")
    lib.call("quill_log_summary", run, b'{"best": 1}')
    lib.call("quill_flush", run, 0)
    snap = lib.snapshot(run)
    assert snap["id"] == info["id"] and snap["name"] == "s1" and snap["project"] == "snap"
    assert snap["kind"] == "training" and snap["status"] == "running" and snap["finished_at"] is None
    assert snap["rows_written"] == 1 and snap["rows_pending"] == 0
    assert snap["last_values"] == {"loss": 0.5, "inf": "Infinity"}
    assert snap["params"] == {"lr": 0.1} and snap["tags"] == {"k": "v"} and snap["summary"] == {"best": 1}
    assert snap["dir"] == info["dir"]
    lib.finish(run, "killed")
    snap = lib.snapshot(run)
    assert snap["status"] == "killed" and snap["finished_at"]
    lib.cdll.quill_run_release(run)


def test_log_rows_with_extras(lib, home):
    run, info = lib.start(quiet(home))
    lib.log_rows(
        run,
        [(0, {"a": 1.0, "b": 2.0}), (None, {"a": 3.0}), (2, {}), (-5, {"c": float("nan")})],
        extras={"params": {"p": 1}, "tags": {"t": "x", "label": None}, "links": [{"label": "l", "url": "https://u"}]},
    )
    lib.log_rows(run, [(None, {"z": 9.0})], steps=False)
    lib.log_rows(run, [])
    lib.finish(run)
    rows = metric_lines(info["dir"])
    assert [row.get("step") for row in rows] == [0, None, 2, -5, None]
    assert rows[0]["a"] == 1.0 and rows[0]["b"] == 2.0 and rows[1]["a"] == 3.0
    assert rows[3]["c"] == "NaN" and rows[4]["z"] == 9.0
    written = meta(info["dir"])
    assert written["params"] == {"p": 1}
    assert written["tag_values"] == {"t": "x", "label": ""}
    assert [(link["label"], link["url"]) for link in written["links"]] == [("l", "https://u")]
    lib.cdll.quill_run_release(run)


def test_repeated_key_keeps_last_value(lib, home):
    run, info = lib.start(quiet(home))
    keys = (ctypes.c_char_p * 3)(b"x", b"y", b"x")
    values = (ctypes.c_double * 3)(1.0, 2.0, 3.0)
    lib.call("quill_log", run, keys, values, 3, 0, 0)
    many = {f"k{i}": float(i) for i in range(40)}
    keys = (ctypes.c_char_p * 41)(*[k.encode() for k in many], b"k7")
    values = (ctypes.c_double * 41)(*many.values(), 70.0)
    lib.call("quill_log", run, keys, values, 41, 0, 0)
    lib.call("quill_log", run, None, None, 0, 0, 0)  # count 0: nothing logged
    lib.finish(run)
    rows = metric_lines(info["dir"])
    assert len(rows) == 2
    assert rows[0] == {**{k: rows[0][k] for k in ("_idx", "_timestamp")}, "x": 3.0, "y": 2.0}
    assert rows[1]["k7"] == 70.0 and len(rows[1]) == 42
    lib.cdll.quill_run_release(run)


def test_non_finite_values_round_trip(lib, home):
    run, info = lib.start(quiet(home))
    lib.log(run, {"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"), "tiny": 5e-324}, step=0)
    lib.finish(run)
    row = metric_lines(info["dir"])[0]
    assert row["nan"] == "NaN" and row["inf"] == "Infinity" and row["ninf"] == "-Infinity" and row["tiny"] == 5e-324
    table = lib.call("quill_run_metrics", json.dumps({"run": info["id"], "home": str(home)}).encode(), out=1)
    assert table["columns"] == ["_idx", "_step", "_time", "inf", "nan", "ninf", "tiny"]
    assert table["rows"][0][3:] == ["Infinity", "NaN", "-Infinity", 5e-324]
    lib.cdll.quill_run_release(run)


def test_step_extremes(lib, home):
    run, info = lib.start(quiet(home))
    lib.log(run, {"x": 1.0}, step=STEP_LIMIT)
    lib.log(run, {"x": 2.0}, step=-STEP_LIMIT)
    for step in (STEP_LIMIT + 1, -STEP_LIMIT - 1, 2**63 - 1, -(2**63)):
        with pytest.raises(NativeError) as refused:
            lib.log(run, {"x": 3.0}, step=step)
        assert refused.value.code == "invalid_argument" and "step" in refused.value.message
        with pytest.raises(NativeError) as refused:
            lib.log_rows(run, [(step, {"x": 3.0})])
        assert refused.value.code == "invalid_argument"
    # A step that is not flagged is ignored, whatever its value.
    keys = (ctypes.c_char_p * 1)(b"x")
    values = (ctypes.c_double * 1)(4.0)
    lib.call("quill_log", run, keys, values, 1, -(2**63), 0)
    lib.finish(run)
    rows = metric_lines(info["dir"])
    assert [row.get("step") for row in rows] == [STEP_LIMIT, -STEP_LIMIT, None]
    assert [row["x"] for row in rows] == [1.0, 2.0, 4.0]
    lib.cdll.quill_run_release(run)


def test_resume_supersedes_rows_from_step(lib, home):
    run, info = lib.start(quiet(home, name="long"))
    for step in range(10):
        lib.log(run, {"loss": float(step)}, step=step)
    lib.finish(run, "crashed")
    lib.cdll.quill_run_release(run)
    with pytest.raises(NativeError) as unknown:
        lib.resume({"run": "no-such-run", "home": str(home)})
    assert unknown.value.code == "not_found"
    resumed, again = lib.resume({"run": "long", "from_step": 5, "home": str(home), "capture_host": False})
    assert again["id"] == info["id"] and again["attached"] is False
    for step in range(5, 8):
        lib.log(resumed, {"loss": 100.0 + step}, step=step)
    lib.finish(resumed)
    lib.cdll.quill_run_release(resumed)
    assert len(metric_lines(info["dir"])) == 13
    table = lib.call("quill_run_metrics", json.dumps({"run": "long", "home": str(home)}).encode(), out=1)
    assert [row[1] for row in table["rows"]] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert [row[3] for row in table["rows"]] == [0.0, 1.0, 2.0, 3.0, 4.0, 105.0, 106.0, 107.0]
    assert meta(info["dir"])["status"] == "completed"


def test_attach_to_environment_run(lib, home, monkeypatch):
    owner, owner_info = lib.start(quiet(home, name="owner"))
    monkeypatch.setenv("QUILL_RUN_DIR", owner_info["dir"])
    child, child_info = lib.start(quiet(home, config={"extra": 1}, tags=["child"]))
    assert child_info["attached"] is True and child_info["id"] == owner_info["id"]
    assert child_info["config"] == {"extra": 1}
    lib.log(child, {"from_child": 1.0}, step=0)
    lib.finish(child)
    assert meta(owner_info["dir"])["status"] == "running", "an attached run leaves the status to its owner"
    separate, separate_info = lib.start(quiet(home, attach=False))
    assert separate_info["attached"] is False and separate_info["id"] != owner_info["id"]
    lib.finish(separate)
    lib.finish(owner)
    assert metric_lines(owner_info["dir"])[0]["from_child"] == 1.0
    for run in (owner, child, separate):
        lib.cdll.quill_run_release(run)


def test_runs_and_metrics_from_a_local_home(lib, home):
    made = []
    for index, (project, status, tag) in enumerate(
        [("alpha", "completed", "team=a"), ("alpha", "failed", "team=b"), ("beta", "completed", "solo")]
    ):
        run, info = lib.start(quiet(home, project=project, name=f"r{index}", tags=[tag], config={"i": index}))
        lib.call("quill_log_params", run, json.dumps({"p": index}).encode())
        lib.log(run, {"loss": 1.0 + index, "acc": 0.5}, step=0)
        lib.log(run, {"loss": 0.5 + index}, step=1)
        lib.call("quill_log_summary", run, json.dumps({"best": index}).encode())
        lib.finish(run, status)
        lib.cdll.quill_run_release(run)
        made.append(info)
        time.sleep(0.01)

    def runs(**query):
        return lib.call("quill_runs", json.dumps({"home": str(home), **query}).encode(), out=1)

    everything = runs()
    assert [run["name"] for run in everything] == ["r2", "r1", "r0"], "newest first"
    first = everything[-1]
    assert first["id"] == made[0]["id"] and first["project"] == "alpha" and first["kind"] == "training"
    assert first["status"] == "completed" and first["started_at"] and first["finished_at"]
    assert first["params"] == {"p": 0} and first["config"] == {"i": 0}
    assert first["tags"] == {"team": "a"} and first["summary"] == {"best": 0}
    assert first["dir"] == made[0]["dir"] and first["parent"] is None
    assert [run["name"] for run in runs(project="alpha")] == ["r1", "r0"]
    assert [run["name"] for run in runs(status="completed")] == ["r2", "r0"]
    assert [run["name"] for run in runs(tag="team=b")] == ["r1"]
    assert [run["name"] for run in runs(tag="team")] == ["r1", "r0"]
    assert [run["name"] for run in runs(tag="solo", project="beta")] == ["r2"]
    assert [run["name"] for run in runs(limit=1)] == ["r2"]
    assert runs(limit=0) == [] and runs(project="nobody") == []

    table = lib.call("quill_run_metrics", json.dumps({"run": "r0", "home": str(home)}).encode(), out=1)
    assert table["columns"] == ["_idx", "_step", "_time", "acc", "loss"]
    assert [row[:2] for row in table["rows"]] == [[0, 0], [1, 1]]
    assert [row[3:] for row in table["rows"]] == [[0.5, 1.0], [None, 0.5]]
    assert all(abs(row[2] - time.time()) < 600 for row in table["rows"])
    only = lib.call(
        "quill_run_metrics", json.dumps({"run": made[0]["id"][:12], "home": str(home), "keys": ["acc"]}).encode(), out=1
    )
    assert only["columns"] == ["_idx", "_step", "_time", "acc"] and only["rows"] == [[0, 0, only["rows"][0][2], 0.5]]
    with pytest.raises(NativeError) as missing:
        lib.call("quill_run_metrics", json.dumps({"run": "nope", "home": str(home)}).encode(), out=1)
    assert missing.value.code == "not_found"


# MARK: Bad input


def test_bad_input_answers_invalid_argument(lib, home):
    run, info = lib.start(quiet(home))
    keys1 = (ctypes.c_char_p * 1)(b"x")
    values1 = (ctypes.c_double * 1)(1.0)
    null_key = (ctypes.c_char_p * 1)(None)
    bad_utf8 = (ctypes.c_char_p * 1)(b"\xff\xfe")
    empty_key = (ctypes.c_char_p * 1)(b"")
    reserved = (ctypes.c_char_p * 1)(b"step")
    counts_negative = (ctypes.c_int32 * 2)(1, -1)
    counts_huge = (ctypes.c_int32 * 4)(2**31 - 1, 2**31 - 1, 2**31 - 1, 2**31 - 1)
    one = (ctypes.c_int32 * 1)(1)
    steps1 = (ctypes.c_int64 * 1)(0)
    has1 = (ctypes.c_uint8 * 1)(1)
    cases = {
        "NULL run": ("quill_log", (None, keys1, values1, 1, 0, 0)),
        "NULL keys": ("quill_log", (run, None, values1, 1, 0, 0)),
        "NULL values": ("quill_log", (run, keys1, None, 1, 0, 0)),
        "negative count": ("quill_log", (run, keys1, values1, -1, 0, 0)),
        "huge count": ("quill_log", (run, keys1, values1, 2**31 - 1, 0, 0)),
        "NULL key": ("quill_log", (run, null_key, values1, 1, 0, 0)),
        "invalid UTF-8 key": ("quill_log", (run, bad_utf8, values1, 1, 0, 0)),
        "empty key": ("quill_log", (run, empty_key, values1, 1, 0, 0)),
        "reserved key": ("quill_log", (run, reserved, values1, 1, 0, 0)),
        "rows NULL run": ("quill_log_rows", (None, 1, one, keys1, values1, None, None, None)),
        "rows negative": ("quill_log_rows", (run, -1, one, keys1, values1, None, None, None)),
        "rows NULL counts": ("quill_log_rows", (run, 1, None, keys1, values1, None, None, None)),
        "rows negative count": ("quill_log_rows", (run, 2, counts_negative, keys1, values1, None, None, None)),
        "rows overflowing counts": ("quill_log_rows", (run, 4, counts_huge, keys1, values1, None, None, None)),
        "rows NULL keys": ("quill_log_rows", (run, 1, one, None, values1, None, None, None)),
        "rows has_step without steps": ("quill_log_rows", (run, 1, one, keys1, values1, None, has1, None)),
        "rows bad key": ("quill_log_rows", (run, 1, one, bad_utf8, values1, steps1, has1, None)),
        "rows bad extras": ("quill_log_rows", (run, 1, one, keys1, values1, None, None, b"{nope")),
        "rows unknown extra": ("quill_log_rows", (run, 1, one, keys1, values1, None, None, b'{"metrics":{}}')),
        "rows bad tag": ("quill_log_rows", (run, 1, one, keys1, values1, None, None, b'{"tags":{"a":1}}')),
        "rows bad link": ("quill_log_rows", (run, 1, one, keys1, values1, None, None, b'{"links":[{"label":"x"}]}')),
        "params NULL": ("quill_log_params", (run, None)),
        "params malformed": ("quill_log_params", (run, b'{"a": ')),
        "params not an object": ("quill_log_params", (run, b"[1, 2]")),
        "params bad UTF-8": ("quill_log_params", (run, b'{"a": "\xff"}')),
        "params nested too deep": ("quill_log_params", (run, b'{"a": ' + b"[" * 200_000)),
        "params NULL run": ("quill_log_params", (None, b"{}")),
        "tag NULL key": ("quill_set_tag", (run, None, b"v")),
        "tag empty key": ("quill_set_tag", (run, b"", b"v")),
        "tag bad UTF-8": ("quill_set_tag", (run, b"k", b"\xc3")),
        "link NULL url": ("quill_add_link", (run, b"label", None)),
        "summary malformed": ("quill_log_summary", (run, b"not json")),
        "message NULL text": ("quill_log_message", (run, None, b"info")),
        "message bad level": ("quill_log_message", (run, b"text", b"loud")),
        "flush NULL run": ("quill_flush", (None, 0)),
        "finish bad status": ("quill_finish", (run, b"running", None)),
        "finish NULL run": ("quill_finish", (None, None, None)),
    }
    for label, (name, args) in cases.items():
        with pytest.raises(NativeError) as answered:
            lib.call(name, *args)
        assert answered.value.code == "invalid_argument", (label, answered.value)
    for label, (name, args) in {
        "artifact NULL path": ("quill_save_artifact", (run, None, None)),
        "snapshot NULL run": ("quill_run_snapshot", (None,)),
    }.items():
        with pytest.raises(NativeError) as answered:
            lib.call(name, *args, out=1)
        assert answered.value.code == "invalid_argument", label
    # NULL out-parameters and a NULL error pointer answer 1 without crashing.
    error = ctypes.c_void_p()
    assert lib.cdll.quill_run_snapshot(run, None, ctypes.byref(error)) == 1
    assert json.loads(lib.take(error))["code"] == "invalid_argument"
    assert lib.cdll.quill_log(None, keys1, values1, 1, 0, 0, None) == 1
    assert lib.cdll.quill_runs(None, None, None) == 1
    # Nothing bad was logged, and the run still works.
    lib.log(run, {"ok": 1.0}, step=0)
    lib.finish(run)
    assert [list(row)[2:] for row in metric_lines(info["dir"])] == [["step", "ok"]]
    lib.cdll.quill_run_release(run)


def test_bad_requests_answer_invalid_argument(lib, home):
    for request in [
        b"",
        b"{",
        b"[]",
        b'{"project": 5}',
        b'{"unknown_field": 1}',
        b'{"tags": "a"}',
        b'{"config": [1]}',
        b'{"flush_interval_ms": 1.5}',
        b'{"flush_interval_ms": "100"}',
        b'{"system_metrics_interval_s": -1}',
        b'{"parent": "not an id"}',
        b'{"tracking_uri": "localhost:8080"}',
        b'{"attach": "yes"}',
        b'{"name": "\xff"}',
    ]:
        run = ctypes.c_void_p()
        error = ctypes.c_void_p()
        assert lib.cdll.quill_run_start(request, ctypes.byref(run), None, ctypes.byref(error)) == 1, request
        assert json.loads(lib.take(error))["code"] == "invalid_argument", request
        assert not run.value
    error = ctypes.c_void_p()
    assert lib.cdll.quill_run_start(b"{}", None, None, ctypes.byref(error)) == 1
    assert json.loads(lib.take(error))["code"] == "invalid_argument"
    for request in [b'{"from_step": 1}', b'{"run": 5}', b'{"run": "x", "from_step": 9007199254740992}']:
        with pytest.raises(NativeError) as answered:
            lib.resume(json.loads(request))
        assert answered.value.code == "invalid_argument", request
    for query in [b"{", b'{"status": "sleeping"}', b'{"limit": -1}', b'{"home": "h", "tracking_uri": "http://x"}', b'{"x": 1}']:
        with pytest.raises(NativeError) as answered:
            lib.call("quill_runs", query, out=1)
        assert answered.value.code == "invalid_argument", query
    for query in [b"{}", b'{"run": ""}', b'{"run": "r", "keys": "loss"}', b'{"run": "r", "timeout_s": 0}']:
        with pytest.raises(NativeError) as answered:
            lib.call("quill_run_metrics", query, out=1)
        assert answered.value.code == "invalid_argument", query


def test_finished_run_answers_run_finished(lib, home, tmp_path):
    run, info = lib.start(quiet(home))
    lib.log(run, {"x": 1.0}, step=0)
    lib.finish(run)
    source = tmp_path / "f.txt"
    source.write_text("x")
    keys1 = (ctypes.c_char_p * 1)(b"x")
    values1 = (ctypes.c_double * 1)(1.0)
    one = (ctypes.c_int32 * 1)(1)
    for name, args, out in [
        ("quill_log", (run, keys1, values1, 1, 5, 1), 0),
        ("quill_log_rows", (run, 1, one, keys1, values1, None, None, None), 0),
        ("quill_log_params", (run, b'{"a": 1}'), 0),
        ("quill_set_tag", (run, b"k", b"v"), 0),
        ("quill_add_link", (run, b"l", b"https://u"), 0),
        ("quill_log_summary", (run, b'{"a": 1}'), 0),
        ("quill_log_message", (run, b"late", None), 0),
        ("quill_save_artifact", (run, str(source).encode(), None), 1),
    ]:
        with pytest.raises(NativeError) as answered:
            lib.call(name, *args, out=out)
        assert answered.value.code == "run_finished", name
        assert info["id"] in answered.value.message or "finished" in answered.value.message
    lib.call("quill_flush", run, 1)
    lib.finish(run)  # a second finish does nothing
    assert lib.snapshot(run)["status"] == "completed"
    assert len(metric_lines(info["dir"])) == 1
    lib.cdll.quill_run_release(run)
    lib.cdll.quill_run_release(None)
    # Released and finished: the SDK keeps every run of the process (Quill.runsInThisProcess), so a late call
    # through the old handle (a finaliser racing a log call) still answers run_finished instead of crashing.
    with pytest.raises(NativeError) as late:
        lib.call("quill_log", run, keys1, values1, 1, 0, 0)
    assert late.value.code == "run_finished"


# MARK: Threads and loading


def test_eight_threads_lose_no_row(lib, home):
    run, info = lib.start(quiet(home))
    per_thread = 5000
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            keys = (ctypes.c_char_p * 3)(b"thread", b"i", f"t{number}".encode())
            values = (ctypes.c_double * 3)(float(number), 0.0, 1.0)
            error = ctypes.c_void_p()
            for index in range(per_thread):
                values[1] = float(index)
                assert lib.cdll.quill_log(run, keys, values, 3, index, 1, ctypes.byref(error)) == 0
        except BaseException as failure:  # noqa: BLE001 - reported below
            errors.append(failure)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and not any(thread.is_alive() for thread in threads)
    lib.finish(run)
    rows = metric_lines(info["dir"])
    assert len(rows) == 8 * per_thread
    assert sorted(row["_idx"] for row in rows) == list(range(8 * per_thread))
    seen = {(int(row["thread"]), int(row["i"])) for row in rows}
    assert seen == {(n, i) for n in range(8) for i in range(per_thread)}
    assert all(row["step"] == row["i"] and row[f"t{int(row['thread'])}"] == 1.0 for row in rows)
    assert lib.snapshot(run)["rows_written"] == 8 * per_thread
    lib.cdll.quill_run_release(run)


def test_finish_racing_eight_logging_threads(lib, home):
    run, info = lib.start(quiet(home))
    accepted = [0] * 8
    refused: list[str] = []

    def worker(number: int) -> None:
        keys = (ctypes.c_char_p * 2)(b"thread", b"i")
        values = (ctypes.c_double * 2)(float(number), 0.0)
        error = ctypes.c_void_p()
        for index in range(200_000):
            values[1] = float(index)
            if lib.cdll.quill_log(run, keys, values, 2, index, 1, ctypes.byref(error)) != 0:
                refused.append(json.loads(lib.take(error))["code"])
                return
            accepted[number] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    lib.finish(run)
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert set(refused) <= {"run_finished"}
    rows = metric_lines(info["dir"])
    assert len(rows) == sum(accepted), "every accepted row is written, none after the finish"
    assert sorted(row["_idx"] for row in rows) == list(range(len(rows)))
    lib.cdll.quill_run_release(run)


FORK_CHILD = """
import ctypes, json, os, sys, time
sys.path.insert(0, sys.argv[1])
from test_native_abi import Lib, LIBRARY, NativeError, quiet
from pathlib import Path
lib = Lib(LIBRARY)
home = Path(sys.argv[2])
run, info = lib.start(quiet(home, name="parent"))
lib.log(run, {"x": 1.0}, step=0)
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    answers = {}
    for name, call in [
        ("log", lambda: lib.log(run, {"x": 9.0}, step=9)),
        ("flush", lambda: lib.call("quill_flush", run, 0)),
        ("snapshot", lambda: lib.snapshot(run)),
        ("finish", lambda: lib.finish(run)),
    ]:
        try:
            call()
            answers[name] = "ok"
        except NativeError as failure:
            answers[name] = failure.code
    own, own_info = lib.start(quiet(home, name="child"))
    lib.log(own, {"y": 1.0}, step=0)
    lib.finish(own)
    answers["own"] = own_info["dir"]
    os.write(write, json.dumps(answers).encode())
    sys.exit(0)  # a normal exit: atexit runs in the child and must leave the parent's run alone
os.close(write)
began = time.monotonic()
while time.monotonic() - began < 60:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.05)
else:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    print(json.dumps({"hung": True}))
    sys.exit(1)
answers = json.loads(os.read(read, 65536))
lib.log(run, {"x": 2.0}, step=1)
lib.finish(run)
print(json.dumps({"child": answers, "status": os.waitstatus_to_exitcode(status), "dir": info["dir"]}))
"""


def test_a_forked_child_refuses_its_parents_run_and_exits(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", FORK_CHILD, str(Path(__file__).parent), str(tmp_path / "home")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["status"] == 0, "the child exits normally instead of waiting for a writer it does not have"
    assert {k: outcome["child"][k] for k in ("log", "flush", "snapshot", "finish")} == dict.fromkeys(
        ("log", "flush", "snapshot", "finish"), "conflict"
    )
    assert [row["y"] for row in metric_lines(outcome["child"]["own"])] == [1.0], "a run of the child's own works"
    assert meta(outcome["child"]["own"])["status"] == "completed"
    assert [row["x"] for row in metric_lines(outcome["dir"])] == [1.0, 2.0]
    assert meta(outcome["dir"])["status"] == "completed"


def test_loads_without_swift_on_path(tmp_path):
    script = (
        "import ctypes, json, sys\n"
        "lib = ctypes.CDLL(sys.argv[1])\n"
        "assert lib.quill_abi_version() == 1\n"
        "run = ctypes.c_void_p(); err = ctypes.c_void_p()\n"
        "req = json.dumps({'home': sys.argv[2], 'capture_git': False, 'system_metrics_interval_s': 0}).encode()\n"
        "assert lib.quill_run_start(ctypes.c_char_p(req), ctypes.byref(run), None, ctypes.byref(err)) == 0\n"
        "keys = (ctypes.c_char_p * 1)(b'x'); values = (ctypes.c_double * 1)(1.5)\n"
        "lib.quill_log.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64, ctypes.c_int32, ctypes.c_void_p]\n"
        "assert lib.quill_log(run, keys, values, 1, 0, 1, ctypes.byref(err)) == 0\n"
        "lib.quill_finish.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]\n"
        "assert lib.quill_finish(run, b'completed', None, ctypes.byref(err)) == 0\n"
        "print('ok')\n"
    )
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    result = subprocess.run(
        [sys.executable, "-c", script, str(LIBRARY), str(tmp_path / "home")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
    assert list((tmp_path / "home" / "runs").iterdir())
    linked = subprocess.run(["ldd", str(LIBRARY)], capture_output=True, text=True, env=environment, timeout=60)
    assert linked.returncode == 0, linked.stderr
    assert "libswift" not in linked.stdout and "libFoundation" not in linked.stdout, linked.stdout
    assert "not found" not in linked.stdout, linked.stdout


# MARK: Server


# The data folder of each running server, by URL (for `quill users create`).
server_data: dict[str, Path] = {}


@pytest.fixture
def server(tmp_path):
    """A real `quill serve` on 127.0.0.1 with its own data folder and no embedded worker."""
    if not QUILL_BINARY.exists():
        pytest.fail(f"{QUILL_BINARY} is missing: build it with `swift build --product quill` or set QUILL_BINARY")
    data = tmp_path / "server-data"
    log = open(tmp_path / "serve.log", "w")
    process = subprocess.Popen(
        [str(QUILL_BINARY), "serve", "--data", str(data), "--port", "0", "--local-workers", "0"],
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = None
        deadline = time.monotonic() + 120
        collected = ""
        while port is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            collected += line
            match = re.search(r"listening on http://[^ ]+:([0-9]+) ", line)
            if match:
                port = int(match.group(1))
        assert port, f"quill serve did not report a port: {collected}"
        url = f"http://127.0.0.1:{port}"
        import urllib.request

        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        server_data[url] = data
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        log.close()


def test_runs_and_metrics_from_a_server(lib, home, server):
    run, info = lib.start(quiet(home, project="remote", name="streamed", tracking_uri=server, tags=["team=x"], config={"lr": 0.1}))
    for step in range(5):
        lib.log(run, {"loss": 1.0 / (step + 1), "acc": step / 5}, step=step)
    lib.call("quill_log_params", run, b'{"batch": 8}')
    lib.call("quill_log_summary", run, b'{"best": 0.2}')
    lib.finish(run)
    lib.cdll.quill_run_release(run)

    query = {"tracking_uri": server, "project": "remote"}
    deadline = time.monotonic() + 60
    found = []
    while time.monotonic() < deadline:
        found = lib.call("quill_runs", json.dumps(query).encode(), out=1)
        if found and found[0]["status"] == "completed" and found[0]["summary"]:
            break
        time.sleep(0.2)
    assert len(found) == 1, found
    remote = found[0]
    assert remote["id"] == info["id"] and remote["name"] == "streamed" and remote["kind"] == "training"
    assert remote["params"].get("batch") == 8 and remote["config"] == {"lr": 0.1}
    assert remote["tags"] == {"team": "x"} and remote["summary"] == {"best": 0.2}
    assert "dir" not in remote and remote["started_at"] and remote["finished_at"]
    assert lib.call("quill_runs", json.dumps({**query, "status": "failed"}).encode(), out=1) == []
    assert [r["id"] for r in lib.call("quill_runs", json.dumps({**query, "tag": "team=x"}).encode(), out=1)] == [info["id"]]

    table = None
    while time.monotonic() < deadline:
        table = lib.call("quill_run_metrics", json.dumps({"run": info["id"], "tracking_uri": server}).encode(), out=1)
        if len(table["rows"]) == 5:
            break
        time.sleep(0.2)
    assert table["columns"] == ["_idx", "_step", "_time", "acc", "loss"]
    assert [row[:2] for row in table["rows"]] == [[i, i] for i in range(5)]
    assert [row[4] for row in table["rows"]] == [1.0 / (i + 1) for i in range(5)]
    by_name = lib.call(
        "quill_run_metrics", json.dumps({"run": "streamed", "tracking_uri": server, "keys": ["loss"]}).encode(), out=1
    )
    assert by_name["columns"] == ["_idx", "_step", "_time", "loss"] and len(by_name["rows"]) == 5
    with pytest.raises(NativeError) as missing:
        lib.call("quill_run_metrics", json.dumps({"run": "nothing", "tracking_uri": server}).encode(), out=1)
    assert missing.value.code == "not_found"


def test_api_key_reaches_a_server_with_users(lib, home, server):
    created = subprocess.run(
        [str(QUILL_BINARY), "users", "create", "alice", "--data", str(server_data[server]), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["api_key"]
    run, info = lib.start(quiet(home, project="keyed", tracking_uri=server, api_key=key))
    lib.log(run, {"loss": 0.5}, step=0)
    lib.finish(run)
    lib.cdll.quill_run_release(run)
    query = {"tracking_uri": server, "api_key": key, "project": "keyed"}
    deadline = time.monotonic() + 60
    found = []
    while time.monotonic() < deadline and not found:
        found = lib.call("quill_runs", json.dumps(query).encode(), out=1)
        time.sleep(0.1 if not found else 0)
    assert [run["id"] for run in found] == [info["id"]]
    table = lib.call("quill_run_metrics", json.dumps({"run": info["id"], "tracking_uri": server, "api_key": key}).encode(), out=1)
    assert table["rows"] and table["rows"][0][3] == 0.5
    with pytest.raises(NativeError) as refused:
        lib.call("quill_runs", json.dumps({**query, "api_key": "qk_not_a_key"}).encode(), out=1)
    assert refused.value.code == "unauthorized"


def test_unreachable_or_silent_server_answers_io_in_time(lib):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(NativeError) as refused:
        lib.call("quill_runs", json.dumps({"tracking_uri": f"http://127.0.0.1:{port}"}).encode(), out=1)
    assert refused.value.code == "io"
    # A server that accepts and never answers: the call gives up after timeout_s with a clear message.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        for name, query in [
            ("quill_runs", {"tracking_uri": url, "timeout_s": 1}),
            ("quill_run_metrics", {"run": "x", "tracking_uri": url, "timeout_s": 1}),
        ]:
            began = time.monotonic()
            with pytest.raises(NativeError) as waited:
                lib.call(name, json.dumps(query).encode(), out=1)
            assert waited.value.code == "io", waited.value
            assert time.monotonic() - began < 10, "a server read waits at most about timeout_s"
    finally:
        silent.close()


def _bench(calls: int = 1_000_000) -> None:
    """Times quill_log with 3 keys from Python: `python python/tests/test_native_abi.py [calls]`."""
    import tempfile

    lib = Lib(LIBRARY)
    with tempfile.TemporaryDirectory() as folder:
        run, info = lib.start(quiet(Path(folder)))
        keys = (ctypes.c_char_p * 3)(b"loss", b"acc", b"lr")
        values = (ctypes.c_double * 3)(0.5, 0.25, 0.001)
        error = ctypes.c_void_p()
        error_ref = ctypes.byref(error)
        log = lib.cdll.quill_log
        began = time.perf_counter_ns()
        for step in range(calls):
            log(run, keys, values, 3, step, 1, error_ref)
        logged = time.perf_counter_ns()
        lib.finish(run)
        finished = time.perf_counter_ns()
        rows = sum(1 for _ in open(Path(info["dir"]) / "metrics.jsonl"))
        lib.cdll.quill_run_release(run)
    assert rows == calls
    print(
        f"{LIBRARY}: {calls} quill_log calls with 3 keys: {(logged - began) / calls:.0f} ns per call, "
        f"{(finished - began) / calls:.0f} ns per row to the end of finish"
    )


if __name__ == "__main__":
    _bench(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
