"""quill.runs and run.metrics over the local home: filters, rows, and DataFrames when pandas is installed."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import quill


@pytest.fixture
def three_runs(home: Path) -> list:
    made = []
    with quill.init(project="readers", name="a", config={"lr": 0.1}, tags=["best"], home=home) as run:
        for step in range(5):
            run.log({"loss": 1.0 / (step + 1)}, step=step)
        run.log({"acc": 0.5})
        run.summary({"final": 0.2})
        made.append(run)
    run = quill.init(project="readers", name="b", home=home)
    run.log({"loss": math.nan}, step=0)
    run.finish(status="failed", error="nan loss")
    made.append(run)
    with quill.init(project="other", name="c", home=home) as run:
        made.append(run)
    return made


def test_runs_filters(home: Path, three_runs: list) -> None:
    everything = quill.runs(home=home)
    assert {record.name for record in everything} == {"a", "b", "c"}
    readers = quill.runs(project="readers", home=home)
    assert {record["name"] for record in readers} == {"a", "b"}
    assert [record.name for record in quill.runs(project="readers", status="failed", home=home)] == ["b"]
    assert [record.name for record in quill.runs(tag="best", home=home)] == ["a"]
    assert len(quill.runs(home=home, limit=1)) == 1
    record = next(record for record in readers if record.name == "a")
    assert record["status"] == "completed"
    assert record["config"] == {"lr": 0.1}
    assert record["summary"]["final"] == 0.2
    assert record["project"] == "readers"
    assert Path(record["dir"]) == home / "runs" / record.id


def test_runs_reads_quill_home_by_default(home: Path, three_runs: list) -> None:
    assert {record.name for record in quill.runs()} == {"a", "b", "c"}  # QUILL_HOME is exported by the fixture


def test_metrics_rows(home: Path, three_runs: list) -> None:
    run = three_runs[0]
    rows = run.metrics()
    assert rows.columns[:3] == ["_idx", "_step", "_time"]
    assert set(rows.columns[3:]) == {"loss", "acc"}
    assert [row["_idx"] for row in rows] == list(range(6))
    assert [row["_step"] for row in rows] == [0, 1, 2, 3, 4, None]
    assert rows[1]["loss"] == 0.5 and "acc" not in rows[1]
    assert rows[5]["acc"] == 0.5 and "loss" not in rows[5]
    assert isinstance(rows[0]["_time"], float) and rows[0]["_time"] > 1.7e9
    only = run.metrics(keys=["acc"])
    assert [row.get("acc") for row in only if "acc" in row] == [0.5]
    by_name = quill.metrics("a", home=home)
    assert by_name == rows
    failed = three_runs[1].metrics()
    assert math.isnan(failed[0]["loss"])
    with pytest.raises(quill.NotFoundError):
        quill.metrics("missing", home=home)


def test_pandas_frames(home: Path, three_runs: list) -> None:
    pandas = pytest.importorskip("pandas", reason="pandas is not installed in this Python (optional)")
    frame = three_runs[0].metrics().to_pandas()
    assert list(frame.columns[:3]) == ["_idx", "_step", "_time"]
    assert len(frame) == 6
    assert frame["loss"].iloc[1] == 0.5 and math.isnan(frame["loss"].iloc[5])
    assert str(frame["_time"].dtype).startswith("datetime64")
    runs = quill.runs(project="readers", home=home).to_pandas()
    assert set(runs["name"]) == {"a", "b"}
    assert "config.lr" in runs.columns and "summary.final" in runs.columns
    assert isinstance(frame, pandas.DataFrame)


def test_numpy_and_pandas_are_never_required(home: Path) -> None:
    import subprocess
    import sys

    from conftest import child_env

    script = (
        "import sys\n"
        "sys.modules['numpy'] = None; sys.modules['pandas'] = None; sys.modules['torch'] = None  # not installed\n"
        "import quill\n"
        "with quill.init(project='bare', config={'lr': 0.1}) as run:\n"
        "    run.log({'loss': 0.5, 'ok': True}, step=1)\n"
        "rows = run.metrics()\n"
        "assert rows[0]['loss'] == 0.5, rows\n"
        "try:\n"
        "    rows.to_pandas()\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], env=child_env(QUILL_HOME=str(home)),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "to_pandas() needs pandas: pip install pandas"
