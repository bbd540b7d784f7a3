"""Every API call round-trips through a real `quill serve`: the run streams to the server while it logs, and
reads back through the server's REST API (urllib) and through quill.runs(tracking_uri=) / metrics."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import quill
from conftest import Server, metric_value, read_meta, wait_for


def details(server: Server, run_id: str) -> dict:
    return server.get(f"runs/{run_id}")


def history(server: Server, run_id: str, key: str) -> list:
    return server.get(f"runs/{run_id}/metrics", key=key)["points"]


def test_a_streamed_run_reads_back_through_the_server(home: Path, server: Server, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUILL_TRACKING_URI", server.url)  # as users configure it
    run = quill.init(project="served", name="remote", config={"lr": 0.5, "depth": 3}, tags=["smoke"], home=home)
    for step in range(300):
        run.log({"loss": 1.0 / (step + 1), "acc": step / 300}, step=step)
    run.log({"special": math.nan}, step=300)
    run.log({"special": math.inf}, step=301)
    run.log_batch([(302, {"loss": 0.001})], params={"batch": 16}, tags={"phase": "final"},
                  links=[("docs", "https://example.org/d")])
    run.log_param("optimizer", "sgd")
    run.set_tag("team", "vision")
    run.add_link("paper", "https://example.org/p")
    run.summary({"best": 0.99})
    run.log_message("from python", level="info")
    artifact = tmp_path / "weights.bin"
    artifact.write_bytes(b"w" * 1000)
    run.save_artifact(artifact)
    run.finish()
    assert read_meta(run.dir)["status"] == "completed"

    found = wait_for(lambda: (d := details(server, run.id)) and d["status"] == "completed" and
                     d["metrics"].get("loss", {}).get("count") == 301 and d, timeout=60, what="the run on the server")
    assert found["name"] == "remote"
    assert found["config"] == {"lr": 0.5, "depth": 3}
    assert found["summary"]["best"] == 0.99
    assert found["params"]["batch"] == 16 and found["params"]["optimizer"] == "sgd"
    assert found["tags"]["team"] == "vision" and found["tags"]["phase"] == "final" and "smoke" in found["tags"]
    assert {link["label"] for link in found["links"]} >= {"docs", "paper"}
    points = history(server, run.id, "loss")
    assert [point["step"] for point in points] == list(range(300)) + [302]
    assert points[10]["value"] == 1.0 / 11
    special = [metric_value(point["value"]) for point in history(server, run.id, "special")]
    assert math.isnan(special[0]) and special[1] == math.inf
    logs = server.get(f"runs/{run.id}/logs")
    assert [(line["level"], line["message"]) for line in logs["logs"]] == [("info", "from python")]

    stored = wait_for(lambda: [item for item in server.get(f"runs/{run.id}/artifacts")["artifacts"]
                               if item["path"].endswith("weights.bin") and item.get("sha256")],
                      timeout=60, what="the artifact on the server")
    assert stored[0]["size"] == 1000

    # The package's own readers, pointed at the server.
    listed = quill.runs(project="served", tracking_uri=server.url)
    assert run.id in [record.id for record in listed]
    record = next(record for record in listed if record.id == run.id)
    assert record.status == "completed" and record["params"]["batch"] == 16
    rows = record.metrics(keys=["loss"])
    assert [row["_step"] for row in rows if "loss" in row] == list(range(300)) + [302]
    completed = quill.runs(project="served", status="completed", tracking_uri=server.url)
    assert run.id in [record.id for record in completed]
    assert quill.runs(project="served", status="failed", tracking_uri=server.url) == []


def test_explicit_tracking_uri_and_failed_status(home: Path, server: Server) -> None:
    with pytest.raises(ValueError):
        with quill.init(project="served", tracking_uri=server.url, home=home) as run:
            run.log({"x": 1.0}, step=0)
            raise ValueError("bad batch")
    found = wait_for(lambda: (d := details(server, run.id)) and d["status"] == "failed" and d,
                     timeout=60, what="the failed run on the server")
    assert found["metrics"]["x"]["count"] == 1
    rows = quill.metrics(run.id, tracking_uri=server.url)
    assert rows[0]["x"] == 1.0 and rows[0]["_step"] == 0


def test_unreachable_server_does_not_block_logging(home: Path) -> None:
    # Nothing listens on port 9 (discard); the run logs locally and the engine keeps retrying in the background.
    run = quill.init(project="offline", tracking_uri="http://127.0.0.1:9", home=home)
    for step in range(100):
        run.log({"x": float(step)}, step=step)
    run.flush()
    assert len(run.metrics()) == 100
    run.finish()
