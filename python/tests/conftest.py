"""Fixtures for the quill package's tests: the library, a fresh home per test, the real `quill` binary and a real
`quill serve` process.

The tests import the package from python/src and load the library named by QUILL_LIBRARY (default
<repo>/.build/debug/libQuillC.so); server, attach and wheel tests run the `quill` binary named by QUILL_TEST_QUILL
(default <repo>/.build/debug/quill). A missing library or binary fails the tests that need it with one line
saying how to build it.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

PYTHON_DIR = Path(__file__).resolve().parent.parent
REPO = PYTHON_DIR.parent
SOURCE = PYTHON_DIR / "src"

if str(SOURCE) not in sys.path:
    sys.path.insert(0, str(SOURCE))

os.environ.setdefault("QUILL_LIBRARY", str(REPO / ".build" / "debug" / "libQuillC.so"))
# Keep run starts fast and quiet: no `pip freeze`, no git, no system sampler, unless a test asks.
os.environ["QUILL_CAPTURE_DEPS"] = "0"
os.environ["QUILL_CAPTURE_GIT"] = "0"
os.environ["QUILL_SYSTEM_METRICS_INTERVAL"] = "0"
for _name in ("QUILL_RUN_DIR", "QUILL_RUN_ID", "QUILL_TRACKING_URI", "QUILL_API_KEY", "WHIRR_RUN_DIR", "WHIRR_JOB_ID"):
    os.environ.pop(_name, None)

LIBRARY = Path(os.environ["QUILL_LIBRARY"])
QUILL = Path(os.environ.get("QUILL_TEST_QUILL") or REPO / ".build" / "debug" / "quill")


def require_library() -> None:
    """Fails the calling test with one line when the library is missing."""
    if not LIBRARY.is_file():
        pytest.fail(f"{LIBRARY} is missing: build it with `swift build --product QuillC` or set QUILL_LIBRARY", False)


def require_quill() -> Path:
    """The quill binary, or a one-line failure saying how to build it."""
    if not QUILL.is_file():
        pytest.fail(f"{QUILL} is missing: build it with `swift build --product quill` or set QUILL_TEST_QUILL", False)
    return QUILL


@pytest.fixture(autouse=True)
def _library() -> None:
    require_library()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh QUILL_HOME for one test (also exported, for children and the engine's defaults)."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("QUILL_HOME", str(path))
    return path


def child_env(**extra: str) -> Dict[str, str]:
    """The environment for a Python child that imports quill from the source tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SOURCE) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


# MARK: Reading run directories as files


def read_jsonl(path: Path) -> List[Dict[str, Any]]:
    """The objects of a JSON-lines file (bare NaN/Infinity accepted), skipping a torn last line."""
    if not path.exists():
        return []
    rows = []
    lines = path.read_text(encoding="utf-8").split("\n")
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError:
            if number == len(lines) - 1:  # an unterminated last line: a writer died mid-line
                continue
            raise
    return rows


def metric_value(value: Any) -> float:
    """A metrics.jsonl value as a float (NaN and infinities are written as strings)."""
    if isinstance(value, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[value]
    return float(value)


def read_meta(run_dir: str | Path) -> Dict[str, Any]:
    """meta.json of a run directory."""
    return json.loads((Path(run_dir) / "meta.json").read_text(encoding="utf-8"))


def read_metrics(run_dir: str | Path) -> List[Dict[str, Any]]:
    """metrics.jsonl of a run directory."""
    return read_jsonl(Path(run_dir) / "metrics.jsonl")


def read_events(run_dir: str | Path) -> List[Dict[str, Any]]:
    """events.jsonl of a run directory."""
    return read_jsonl(Path(run_dir) / "events.jsonl")


# MARK: The real quill serve


class Server:
    """A `quill serve` process on 127.0.0.1 with its own data folder, single-user mode (no keys)."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.log = open(data.parent / "serve.log", "wb")
        self.process = subprocess.Popen(
            [str(require_quill()), "serve", "--data", str(data), "--port", "0", "--local-workers", "0"],
            stdout=subprocess.PIPE,
            stderr=self.log,
            stdin=subprocess.DEVNULL,
        )
        self.port = self._read_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def _read_port(self) -> int:
        assert self.process.stdout is not None
        collected = b""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            chunk = self.process.stdout.readline()
            if not chunk:
                break
            collected += chunk
            match = re.search(rb"listening on http://[^ ]+:([0-9]+) ", collected)
            if match:
                return int(match.group(1))
        self.stop()
        raise RuntimeError(f"quill serve did not report a port: {collected.decode(errors='replace')}")

    def get(self, path: str, **query: Any) -> Any:
        """GET /api/v1/PATH with query parameters; the parsed JSON body."""
        url = f"{self.url}/api/v1/{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read().decode("utf-8"))

    def stop(self) -> None:
        """SIGTERM, then wait."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `quill serve` for the session's server tests."""
    require_library()
    data = tmp_path_factory.mktemp("serve") / "data"
    data.mkdir()
    running = Server(data)
    try:
        yield running
    finally:
        running.stop()


def wait_for(condition: Any, timeout: float = 30.0, interval: float = 0.05, what: str = "condition") -> Any:
    """Polls until condition() is truthy and returns it; fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def optional(module: str) -> Optional[Any]:
    """Imports an optional package, or skips the test saying which package is missing."""
    return pytest.importorskip(module, reason=f"{module} is not installed in this Python ({sys.executable})")
