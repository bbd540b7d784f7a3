"""Every API call of a live run round-trips through the run directory's files (meta.json, config.json,
metrics.jsonl, events.jsonl, output.log, artifacts/)."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from pathlib import Path

import pytest

import quill
from conftest import metric_value, read_events, read_meta, read_metrics


def test_init_writes_meta_and_config(home: Path) -> None:
    run = quill.init(
        project="Image Classifier",
        name="baseline",
        config={"lr": 0.001, "layers": [64, 32], "nested": {"dropout": 0.1}},
        tags=["smoke", "team=vision"],
        kind="evaluation",
        home=home,
    )
    try:
        assert len(run.id) == 8
        assert run.name == "baseline"
        assert run.project == "Image Classifier"
        assert run.kind == "evaluation"
        assert run.parent is None
        assert Path(run.dir) == home / "runs" / run.id
        assert run.config == {"lr": 0.001, "layers": [64, 32], "nested": {"dropout": 0.1}}
        assert not run.attached
        meta = read_meta(run.dir)
        assert meta["id"] == run.id
        assert meta["name"] == "baseline"
        assert meta["project"] == "Image Classifier"
        assert meta["project_slug"] == "image-classifier"
        assert meta["kind"] == "evaluation"
        assert meta["status"] == "running"
        assert "smoke" in meta["tags"]
        assert meta["tag_values"]["team"] == "vision"
        config = json.loads((Path(run.dir) / "config.json").read_text())
        assert config == run.config
        assert run.status == "running"
    finally:
        run.finish()
    assert read_meta(run.dir)["status"] == "completed"
    assert run.status == "completed"


def test_a_taken_name_gets_a_suffix_and_a_parent_is_recorded(home: Path) -> None:
    first = quill.init(project="p", name="same", home=home)
    second = quill.init(project="p", name="same", parent=first, home=home)
    third = quill.init(project="p", parent=first.id, home=home)
    for run in (first, second, third):
        run.finish()
    assert second.name == "same_1"
    assert second.parent == first.id
    assert read_meta(second.dir)["parent"] == first.id
    assert read_meta(third.dir)["parent"] == first.id
    assert third.name  # a random readable name


def test_log_rows_with_and_without_step(home: Path) -> None:
    run = quill.init(project="p", home=home)
    run.log({"loss": 0.5, "acc": 0.25}, step=10)
    run.log({"loss": 0.25})
    run.log({}, step=11)  # an empty row logs nothing
    run.log({"lr": 1e-3}, step=12)
    run.finish()
    rows = read_metrics(run.dir)
    assert [row["_idx"] for row in rows] == [0, 1, 2]
    assert rows[0]["step"] == 10 and rows[0]["loss"] == 0.5 and rows[0]["acc"] == 0.25
    assert "step" not in rows[1] and rows[1]["loss"] == 0.25
    assert rows[2] == {**rows[2], "step": 12, "lr": 1e-3}
    assert all(row["_timestamp"].endswith("Z") for row in rows)


def test_log_many_key_sets_and_key_order(home: Path) -> None:
    run = quill.init(project="p", home=home)
    for step in range(200):
        run.log({f"k{step % 7}": float(step), "z": -step, "a": step * 0.5}, step=step)
        run.log({"a": 1.0, "z": 2.0}, step=step)  # same keys in another order: another prepared set
    run.finish()
    rows = read_metrics(run.dir)
    assert len(rows) == 400
    assert rows[0]["k0"] == 0.0 and rows[0]["z"] == 0 and rows[0]["a"] == 0.0
    assert rows[399] == {**rows[399], "a": 1.0, "z": 2.0, "step": 199}
    assert rows[398]["k3"] == 199.0 and rows[398]["z"] == -199


def test_params_tags_links_summary_messages(home: Path) -> None:
    @dataclasses.dataclass
    class Optimizer:
        name: str = "adam"
        betas: tuple = (0.9, 0.999)

    class Mode(enum.Enum):
        FAST = "fast"

    run = quill.init(project="p", home=home)
    run.log_param("lr", 0.01)
    run.log_params({"optimizer": Optimizer(), "mode": Mode.FAST, "path": Path("/data/x"), "none": None})
    run.set_tag("baseline")
    run.set_tag("team", "vision")
    run.set_tag("seed", 7)
    run.add_link("paper", "https://example.org/paper")
    run.summary({"best_acc": 0.9, "nan": float("nan"), "text": "ok"})
    run.summary({"best_acc": 0.95})
    run.log_message("hello\nworld", level="warning")
    run.log_message("plain")
    snapshot = run.snapshot()
    run.finish()

    meta = read_meta(run.dir)
    assert meta["params"]["lr"] == 0.01
    assert meta["params"]["optimizer"] == {"name": "adam", "betas": [0.9, 0.999]}
    assert meta["params"]["mode"] == "fast"
    assert meta["params"]["path"] == "/data/x"
    assert meta["params"]["none"] is None
    assert meta["tag_values"] == {**meta["tag_values"], "baseline": "", "team": "vision", "seed": "7"}
    assert [(link["label"], link["url"]) for link in meta["links"]] == [("paper", "https://example.org/paper")]
    assert meta["summary"]["best_acc"] == 0.95
    assert metric_value(meta["summary"]["nan"]) != metric_value(meta["summary"]["nan"])  # NaN
    assert meta["summary"]["text"] == "ok"
    events = read_events(run.dir)
    kinds = [event["type"] for event in events]
    for kind in ("param", "tag", "link", "summary"):
        assert kind in kinds
    log = (Path(run.dir) / "output.log").read_text()
    assert "[warning] hello\n" in log and "[warning] world\n" in log and "[info] plain\n" in log
    assert snapshot["params"]["lr"] == 0.01
    assert snapshot["tags"]["team"] == "vision"


def test_log_batch_rows_params_tags_links(home: Path) -> None:
    run = quill.init(project="p", home=home)
    run.log_batch(
        [{"loss": 1.0}, (5, {"loss": 0.5, "acc": 0.1}), {"acc": float("inf")}],
        params={"batch": 32},
        tags={"phase": "warmup"},
        links=[("ci", "https://ci.example.org/1")],
    )
    run.log_batch([{"x": 1}, {"x": 2}], steps=[100, None])
    run.log_batch(tags=["label"], links={"docs": "https://example.org/docs"})
    run.log_batch([])
    run.finish()
    rows = read_metrics(run.dir)
    assert len(rows) == 5
    assert "step" not in rows[0] and rows[0]["loss"] == 1.0
    assert rows[1]["step"] == 5 and rows[1]["acc"] == 0.1
    assert metric_value(rows[2]["acc"]) == math.inf
    assert rows[3]["step"] == 100 and rows[3]["x"] == 1
    assert "step" not in rows[4]
    meta = read_meta(run.dir)
    assert meta["params"]["batch"] == 32
    assert meta["tag_values"]["phase"] == "warmup" and meta["tag_values"]["label"] == ""
    assert [link["label"] for link in meta["links"]] == ["ci", "docs"]


def test_log_batch_refuses_bad_rows(home: Path) -> None:
    run = quill.init(project="p", home=home)
    with pytest.raises(TypeError, match="'loss'"):
        run.log_batch([{"loss": "high"}])
    with pytest.raises(ValueError, match="2 steps for 1 rows"):
        run.log_batch([{"loss": 1.0}], steps=[1, 2])
    with pytest.raises(TypeError):
        run.log_batch([[1, 2, 3]])  # type: ignore[list-item]
    run.finish()
    assert read_metrics(run.dir) == []


def test_save_artifact(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "checkpoints" / "e1").mkdir(parents=True)
    (tmp_path / "checkpoints" / "e1" / "model.bin").write_bytes(b"\x00weights" * 100)
    absolute = tmp_path / "report.txt"
    absolute.write_text("fine")
    run = quill.init(project="p", home=home)
    record = run.save_artifact("checkpoints/e1/model.bin")
    named = run.save_artifact(absolute, name="the-report")
    run.finish()
    stored = Path(run.dir) / "artifacts" / "checkpoints" / "e1" / "model.bin"
    assert stored.read_bytes() == b"\x00weights" * 100
    assert record["size"] == 800
    assert named["name"] == "the-report"
    assert any(path.read_bytes() == b"fine" for path in (Path(run.dir) / "artifacts").rglob("*") if path.is_file())
    assert [event["name"] for event in read_events(run.dir) if event["type"] == "artifact"] == [
        record["name"], "the-report"]
    with pytest.raises(quill.QuillError):
        quill.init(project="p", home=home).save_artifact(tmp_path / "missing.bin")


def test_flush_makes_rows_readable_and_finish_is_final(home: Path) -> None:
    run = quill.init(project="p", home=home, flush_interval=0.2)
    for step in range(50):
        run.log({"loss": 1.0 / (step + 1)}, step=step)
    run.flush()
    assert len(read_metrics(run.dir)) == 50
    run.flush(durable=True)
    run.finish(status="failed", error="diverged")
    run.finish()  # a second finish does nothing
    meta = read_meta(run.dir)
    assert meta["status"] == "failed"
    assert meta["error"] == "diverged"
    assert meta["finished_at"]
    assert run.finished
    with pytest.raises(quill.RunFinishedError) as raised:
        run.log({"loss": 1.0})
    assert raised.value.code == "run_finished"
    with pytest.raises(quill.RunFinishedError):
        run.log_params({"a": 1})
    with pytest.raises(ValueError, match="status must be one of"):
        quill.init(project="p", home=home).finish(status="done")


def test_resume_from_step_supersedes_later_rows(home: Path) -> None:
    run = quill.init(project="p", name="long", home=home)
    for step in range(10):
        run.log({"loss": float(step)}, step=step)
    run.finish(status="killed")
    resumed = quill.resume("long", from_step=5, home=home)
    assert resumed.id == run.id and resumed.dir == run.dir
    for step in range(5, 8):
        resumed.log({"loss": 100.0 + step}, step=step)
    resumed.finish()
    meta = read_meta(run.dir)
    assert meta["status"] == "completed"
    assert meta["resumes"][0]["from_step"] == 5 and meta["resumes"][0]["at_idx"] == 10
    assert len(read_metrics(run.dir)) == 13  # nothing is deleted
    rows = run.metrics()  # readers drop the superseded rows
    assert [(row["_step"], row["loss"]) for row in rows] == [(s, float(s)) for s in range(5)] + [
        (s, 100.0 + s) for s in range(5, 8)]
    again = quill.resume(resumed, home=home)
    again.finish()
    with pytest.raises(quill.NotFoundError):
        quill.resume("no-such-run", home=home)


def test_resume_refuses_a_running_run(home: Path) -> None:
    run = quill.init(project="p", home=home)
    with pytest.raises(quill.InvalidArgumentError, match="still running"):
        quill.resume(run.id, home=home)
    run.finish()


def test_options_flush_interval_and_validation(home: Path) -> None:
    with pytest.raises(ValueError, match="flush_interval"):
        quill.init(project="p", home=home, flush_interval=1.0)
    with pytest.raises(TypeError):
        quill.init(project="p", home=home, config=[1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="level"):
        run = quill.init(project="p", home=home, flush_interval=0.01, capture_host=False)
        try:
            run.log_message("x", level="loud")
        finally:
            run.finish()
    assert read_meta(run.dir).get("host") in (None, {})


def test_config_from_dataclass_namespace_and_numpy(home: Path) -> None:
    import argparse

    @dataclasses.dataclass
    class Config:
        lr: float = 0.1
        path: Path = Path("/tmp/x")

    run = quill.init(project="p", config=Config(), home=home)
    run.finish()
    assert run.config == {"lr": 0.1, "path": "/tmp/x"}
    namespace = argparse.Namespace(epochs=3, name="x")
    run = quill.init(project="p", config=namespace, home=home)
    run.finish()
    assert run.config == {"epochs": 3, "name": "x"}
    numpy = pytest.importorskip("numpy", reason="numpy is not installed")
    run = quill.init(
        project="p",
        config={"arr": numpy.arange(3), "f32": numpy.float32(0.5), "i64": numpy.int64(7), "inf": float("inf")},
        home=home,
    )
    run.finish()
    config = json.loads((Path(run.dir) / "config.json").read_text())
    assert config["arr"] == [0, 1, 2] and config["f32"] == 0.5 and config["i64"] == 7
    assert metric_value(config["inf"]) == math.inf


def test_errors_carry_their_code() -> None:
    error = quill.errors.error_for_code("not_found")("not_found", "run 'x' not found")
    assert isinstance(error, quill.NotFoundError) and isinstance(error, quill.QuillError)
    assert error.code == "not_found" and str(error) == "run 'x' not found"
    assert quill.errors.error_for_code("something_new") is quill.QuillError
    assert issubclass(quill.InvalidArgumentError, ValueError)
    assert issubclass(quill.QuillIOError, OSError)


def test_init_tags_as_a_mapping_and_summary_of_numpy_values(home: Path) -> None:
    run = quill.init(project="p", tags={"team": "vision", "baseline": ""}, home=home)
    numpy = pytest.importorskip("numpy", reason="numpy is not installed")
    run.summary({"best": numpy.float32(0.5), "curve": numpy.array([1.0, 2.0]), "count": numpy.int64(3)})
    run.log_batch([{"x": numpy.float64(1.5)}], steps=[numpy.int64(4)])
    run.finish()
    meta = read_meta(run.dir)
    assert meta["tag_values"]["team"] == "vision" and meta["tag_values"]["baseline"] == ""
    assert meta["summary"] == {**meta["summary"], "best": 0.5, "curve": [1.0, 2.0], "count": 3}
    assert read_metrics(run.dir)[0]["step"] == 4 and read_metrics(run.dir)[0]["x"] == 1.5
