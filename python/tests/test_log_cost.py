"""The per-call cost of run.log as the caller sees it (python/tools/measure_log.py), with a loose bound: a debug
library on a loaded CI machine is far from the release figure quoted in Docs/Python.md."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import PYTHON_DIR, read_metrics

sys.path.insert(0, str(PYTHON_DIR / "tools"))

import measure_log  # noqa: E402


def test_log_cost_is_microseconds(home: Path) -> None:
    figures = measure_log.measure(100_000, 3, str(home), warmup=2_000)
    print("run.log cost:", {key: value for key, value in figures.items() if key != "library"})
    assert figures["p50_ns"] < 50_000, figures  # a debug build on a loaded machine: tens of µs would be a defect
    runs = list((home / "runs").iterdir())
    assert len(read_metrics(runs[0])) == 102_000
