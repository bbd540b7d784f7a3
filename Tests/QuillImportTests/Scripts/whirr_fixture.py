"""Makes real whirr runs with the real `whirr` package, then dumps whirr's own view of them as JSON.

    python whirr_fixture.py PROJECT_DIR DUMP_JSON [ROWS]

PROJECT_DIR gets a `.whirr` folder (`whirr init`: whirr.db and runs/). Two runs through `whirr.init()` (one
completed with a summary and artifacts, one failed), a job a worker ran (its folder has only output.log and
artifacts/, as `whirr worker` leaves it; recorded completed through whirr's db functions) and a queued job. The
dump is what whirr's readers return (`read_meta`, `read_metrics`, the index's runs and jobs).
"""

import json
import os
import sqlite3
import sys
from pathlib import Path

import whirr
from whirr.cli.init_cmd import init as init_project
from whirr.db import complete_job, create_job, get_connection
from whirr.run import read_meta, read_metrics


def main():
    project, out = Path(sys.argv[1]), sys.argv[2]
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
    project.mkdir(parents=True, exist_ok=True)
    os.chdir(project)
    init_project(project)
    whirr_dir = project / ".whirr"

    files = project / "files"
    files.mkdir(exist_ok=True)
    (files / "model.bin").write_bytes(bytes(range(256)) * 10)
    (files / "notes.txt").write_text("whirr notes\n")

    run = whirr.init(
        name="train",
        config={"lr": 0.1, "layers": [64, 32], "opt": {"name": "adam"}},
        tags=["baseline", "team:ml"],
        system_metrics=False,
        capture_git=False,
        capture_pip=False,
    )
    for step in range(rows):
        run.log({"loss": 1.0 / (step + 1), "acc": step / rows}, step=step)
    run.log({"eval": 0.5})  # no step
    run.save_artifact(str(files / "model.bin"))
    run.save_artifact(str(files / "notes.txt"), "renamed.txt")
    run.summary({"loss": 1.0 / rows, "best": "epoch-3"})
    run.finish()
    whirr.run._active_run_state["run"] = None

    failed = whirr.init(name="broken", tags=["x"], system_metrics=False, capture_git=False, capture_pip=False)
    for step in range(5):
        failed.log({"loss": float(step)}, step=step * 2)
    failed.finish("failed")
    whirr.run._active_run_state["run"] = None

    conn = get_connection(whirr_dir / "whirr.db")
    ran = create_job(conn, ["python", "train.py"], str(project), name="worker job", config={"seed": 1}, tags=["w"])
    conn.execute(
        "UPDATE jobs SET status = 'running', started_at = datetime('now'), worker_id = 'h:default' WHERE id = ?", (ran,)
    )
    complete_job(conn, ran, 0, run_id=f"job-{ran}")
    queued = create_job(conn, ["python", "other.py"], str(project), name="waiting")
    conn.commit()
    job_dir = whirr_dir / "runs" / f"job-{ran}"
    (job_dir / "artifacts").mkdir(parents=True)
    (job_dir / "output.log").write_text("epoch 1\nepoch 2\ndone\n")
    (job_dir / "artifacts" / "out.txt").write_text("job output\n")

    dump = {"runs": {}, "jobs": {}}
    for folder in sorted((whirr_dir / "runs").iterdir()):
        meta = read_meta(folder)
        metrics = [json.loads(record.model_dump_json(by_alias=True, exclude_none=True)) for record in read_metrics(folder / "metrics.jsonl")]
        artifacts = {
            str(path.relative_to(folder / "artifacts")): path.read_bytes().hex()
            for path in sorted((folder / "artifacts").rglob("*"))
            if path.is_file()
        }
        log = (folder / "output.log").read_text().splitlines() if (folder / "output.log").exists() else []
        dump["runs"][folder.name] = {
            "meta": json.loads(meta.model_dump_json()) if meta else None,
            "config": json.loads((folder / "config.json").read_text()) if (folder / "config.json").exists() else None,
            "metrics": metrics,
            "artifacts": artifacts,
            "log": log,
        }
    index = sqlite3.connect(whirr_dir / "whirr.db")
    index.row_factory = sqlite3.Row
    dump["index_runs"] = [dict(row) for row in index.execute("SELECT * FROM runs ORDER BY id")]
    dump["jobs"] = [dict(row) for row in index.execute("SELECT * FROM jobs ORDER BY id")]
    dump["queued_job"] = queued
    dump["ran_job"] = ran
    with open(out, "w") as handle:
        json.dump(dump, handle, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
