"""Builds a real MLflow store with the real `mlflow` package, then dumps MLflow's own view of it as JSON.

    python mlflow_fixture.py TRACKING_URI WORK_DIR DUMP_JSON [POINTS]

TRACKING_URI is `file:///…/mlruns`, `sqlite:///…/mlflow.db` or `http://127.0.0.1:PORT` (a running
`mlflow server`). WORK_DIR holds the artifact files and, for the SQLite store, the artifact root. The dump
(what MlflowClient reads back: experiments with tags and lifecycle, runs with info, params, tags, every
metric point of every key in MLflow's order, artifact paths with their bytes as hex) is what the Swift test
compares Quill's import against, point for point.
"""

import json
import math
import os
import sys

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")

import mlflow  # noqa: E402
from mlflow.entities import Metric, Param, RunTag, ViewType  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402


def number(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def build(client, work, points):
    local = not client._tracking_client.tracking_uri.startswith("http")
    root = os.path.join(work, "artifact-root")
    location = ("file://" + root + "/vision") if local and "sqlite" in client._tracking_client.tracking_uri else None
    vision = client.create_experiment("vision", artifact_location=location, tags={"team": "cv", "note": "a b"})
    other = client.create_experiment(
        "nlp/text", artifact_location=(("file://" + root + "/nlp") if location else None)
    )
    doomed = client.create_experiment(
        "old experiment", artifact_location=(("file://" + root + "/old") if location else None)
    )

    files = os.path.join(work, "files")
    os.makedirs(os.path.join(files, "checkpoints", "e1"), exist_ok=True)
    with open(os.path.join(files, "notes.txt"), "w") as handle:
        handle.write("hello\n")
    with open(os.path.join(files, "checkpoints", "e1", "model.bin"), "wb") as handle:
        handle.write(bytes(range(256)) * 40)
    with open(os.path.join(files, "empty.txt"), "wb"):
        pass

    # A parent with two children; the long metric and the odd values on the parent.
    parent = client.create_run(vision, run_name="parent", tags={"kind": "sweep"}, start_time=1_700_000_000_000)
    pid = parent.info.run_id
    client.log_batch(pid, params=[Param("lr", "0.001"), Param("layers", "4"), Param("flag", "True")])
    batch = []
    for step in range(points):
        batch.append(Metric("loss", 1.0 / (step + 1), 1_700_000_000_000 + step * 10, step))
        if len(batch) == 1000:
            client.log_batch(pid, metrics=batch)
            batch = []
    if batch:
        client.log_batch(pid, metrics=batch)
    for step, value in enumerate([float("nan"), float("inf"), float("-inf"), 0.5, -0.0, 1e-300, 12345.678]):
        client.log_metric(pid, "odd", value, timestamp=1_700_000_100_000 + step, step=step)
    # Two points at the same step, one without a step, a metric name with a slash.
    client.log_metric(pid, "acc", 0.1, timestamp=1_700_000_200_000, step=3)
    client.log_metric(pid, "acc", 0.2, timestamp=1_700_000_200_001, step=3)
    client.log_metric(pid, "acc", 0.3, timestamp=1_700_000_200_002)
    client.log_metric(pid, "val/loss", 2.5, timestamp=1_700_000_200_003, step=7)
    client.set_tag(pid, "multi", "line one\nline two")
    client.log_artifact(pid, os.path.join(files, "notes.txt"))
    client.log_artifact(pid, os.path.join(files, "checkpoints"), artifact_path="ckpt")
    client.log_artifact(pid, os.path.join(files, "empty.txt"), artifact_path="deep/er")
    client.set_terminated(pid, "FINISHED", end_time=1_700_000_300_000)

    for index, status in enumerate(["FAILED", "KILLED"]):
        child = client.create_run(
            vision,
            run_name=f"child-{index}",
            tags={"mlflow.parentRunId": pid},
            start_time=1_700_000_001_000 + index,
        )
        cid = child.info.run_id
        client.log_param(cid, "seed", str(index))
        for step in range(20):
            client.log_metric(cid, "loss", 2.0 - step * 0.01 * (index + 1), timestamp=1_700_000_010_000 + step, step=step)
        client.set_terminated(cid, status, end_time=1_700_000_020_000 + index)

    # A run still running, one deleted, one in another experiment, one in a deleted experiment.
    running = client.create_run(other, run_name="still running", start_time=1_700_000_050_000)
    client.log_metric(running.info.run_id, "tokens", 42.0, timestamp=1_700_000_050_001, step=0)
    client.set_tag(running.info.run_id, "mlflow.user", "alice")
    gone = client.create_run(vision, run_name="deleted run", start_time=1_700_000_060_000)
    client.log_metric(gone.info.run_id, "loss", 9.0, timestamp=1_700_000_060_001, step=1)
    client.set_terminated(gone.info.run_id, "FINISHED", end_time=1_700_000_060_002)
    client.delete_run(gone.info.run_id)
    old = client.create_run(doomed, run_name="in trash", start_time=1_700_000_070_000)
    client.log_param(old.info.run_id, "p", "v")
    client.set_terminated(old.info.run_id, "FINISHED", end_time=1_700_000_070_001)
    client.delete_experiment(doomed)
    # Artifacts somewhere this machine cannot read: the import says it skipped them.
    remote = client.create_experiment("remote artifacts", artifact_location="s3://quill-import-test/artifacts")
    elsewhere = client.create_run(remote, run_name="on s3", start_time=1_700_000_090_000)
    client.log_param(elsewhere.info.run_id, "where", "s3")
    client.set_terminated(elsewhere.info.run_id, "FINISHED", end_time=1_700_000_090_001)
    # The Default experiment gets one run too.
    default = client.create_run("0", run_name="in default", start_time=1_700_000_080_000)
    client.log_metric(default.info.run_id, "x", 1.0, timestamp=1_700_000_080_001, step=0)
    client.set_terminated(default.info.run_id, "FINISHED", end_time=1_700_000_080_002)


def walk(client, run_id, path, out, target):
    for info in client.list_artifacts(run_id, path):
        if info.is_dir:
            walk(client, run_id, info.path, out, target)
        else:
            local = client.download_artifacts(run_id, info.path, target)
            with open(local, "rb") as handle:
                out[info.path] = handle.read().hex()


def dump(client, work):
    experiments = []
    for experiment in client.search_experiments(view_type=ViewType.ALL, max_results=1000):
        runs = []
        for run in client.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL, max_results=1000):
            history = {}
            for key in run.data.metrics:
                history[key] = [
                    {"step": m.step, "value": number(m.value), "timestamp": m.timestamp}
                    for m in client.get_metric_history(run.info.run_id, key)
                ]
            artifacts = {}
            try:
                target = os.path.join(work, "downloads", run.info.run_id)
                os.makedirs(target, exist_ok=True)
                walk(client, run.info.run_id, None, artifacts, target)
            except Exception as error:  # noqa: BLE001
                artifacts = {"error": str(error)}
            runs.append(
                {
                    "run_id": run.info.run_id,
                    "run_name": run.info.run_name,
                    "status": run.info.status,
                    "start_time": run.info.start_time,
                    "end_time": run.info.end_time,
                    "user_id": run.info.user_id,
                    "lifecycle_stage": run.info.lifecycle_stage,
                    "artifact_uri": run.info.artifact_uri,
                    "params": dict(run.data.params),
                    "tags": dict(run.data.tags),
                    "history": history,
                    "artifacts": artifacts,
                }
            )
        experiments.append(
            {
                "experiment_id": experiment.experiment_id,
                "name": experiment.name,
                "lifecycle_stage": experiment.lifecycle_stage,
                "artifact_location": experiment.artifact_location,
                "tags": dict(experiment.tags),
                "creation_time": experiment.creation_time,
                "runs": runs,
            }
        )
    return {"experiments": experiments}


def main():
    uri, work, out = sys.argv[1], sys.argv[2], sys.argv[3]
    points = int(sys.argv[4]) if len(sys.argv) > 4 else 5000
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    if points >= 0:
        build(client, work, points)
    with open(out, "w") as handle:
        json.dump(dump(client, work), handle, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
