"""MLflow's fluent API logs metrics and artifacts to `quill serve` and reads them back, unchanged.

Usage: mlflow_fluent_history_artifacts.py URL WORKDIR

mlflow.start_run, log_metric per step (NaN and infinities among the values) and log_batch of many steps,
log_artifact and log_artifacts with nested folders, an empty file and names that need percent-encoding, then
MlflowClient.get_metric_history, list_artifacts at each level and mlflow.artifacts.download_artifacts. Every
check is an assert; prints one JSON object of what it saw for the Swift test, or the failed check and exit 1.
"""

import hashlib
import json
import math
import os
import sys
import time

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"
os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
    os.environ.pop(name, None)

import mlflow  # noqa: E402
from mlflow.entities import Metric  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def main():
    url, workdir = sys.argv[1:3]
    mlflow.set_tracking_uri(url)
    client = MlflowClient(url)
    mlflow.set_experiment("history-and-artifacts")

    files = {
        "report b.txt": b"spaces\n",
        "r\u00e9sum\u00e9 100%.md": "caf\u00e9\n".encode(),
        "weights+v1.bin": os.urandom(200_000),
        "empty.txt": b"",
    }
    tree = {
        "top.json": b"{}",
        "a/b/c/deep.csv": b"x\n1\n",
        "a/empty.log": b"",
        "with space/n\u00e4me.txt": b"n\n",
    }
    source = os.path.join(workdir, "source")
    os.makedirs(source)
    for name, data in files.items():
        with open(os.path.join(source, name), "wb") as handle:
            handle.write(data)
    folder = os.path.join(workdir, "tree")
    for relative, data in tree.items():
        path = os.path.join(folder, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)

    logged = []
    with mlflow.start_run(run_name="history") as run:
        run_id = run.info.run_id
        for step, value in enumerate([0.5, float("nan"), float("inf"), float("-inf"), 0.1 + 0.2]):
            mlflow.log_metric("loss", value, step=step)
        # After the fluent points in time, so MLflow's order (time, step, value) puts them after.
        base = int(time.time() * 1000) + 60_000
        batch = [Metric("loss", 1.0 / (i + 1), base + i, i) for i in range(5, 30_005)]
        for start in range(0, len(batch), 1000):
            client.log_batch(run_id, metrics=batch[start : start + 1000])
        for name in files:
            mlflow.log_artifact(os.path.join(source, name), "files" if name == "empty.txt" else None)
        mlflow.log_artifacts(folder, "tree")
        mlflow.log_artifacts(folder)

    history = client.get_metric_history(run_id, "loss")
    assert len(history) == 30_005, len(history)
    fluent = history[:5]
    assert [m.step for m in fluent] == [0, 1, 2, 3, 4], [m.step for m in fluent]
    expected = [0.5, float("nan"), float("inf"), float("-inf"), 0.1 + 0.2]
    assert all(same(m.value, v) for m, v in zip(fluent, expected)), [m.value for m in fluent]
    assert [(m.step, m.timestamp, m.value) for m in history[5:]] == [(m.step, m.timestamp, m.value) for m in batch]
    logged = [[m.step, m.timestamp, repr(m.value)] for m in history[:5]]

    def listing(path=None):
        return [[f.path, f.is_dir, f.file_size] for f in client.list_artifacts(run_id, path)]

    seen = {"run_id": run_id, "fluent": logged, "points": len(history)}
    seen["root"] = listing()
    seen["tree"] = listing("tree")
    seen["deep"] = listing("tree/a/b/c")
    seen["space"] = listing("with space")
    seen["file"] = listing("files/empty.txt")
    seen["missing"] = listing("nothing here")

    out = os.path.join(workdir, "out")
    os.makedirs(out)
    local = mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=out)
    got = {}
    for root, _, names in os.walk(local):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                got[os.path.relpath(path, local).replace(os.sep, "/")] = hashlib.sha256(handle.read()).hexdigest()
    want = {}
    for name, data in files.items():
        want[("files/" if name == "empty.txt" else "") + name] = hashlib.sha256(data).hexdigest()
    for relative, data in tree.items():
        want["tree/" + relative] = hashlib.sha256(data).hexdigest()
        want[relative] = hashlib.sha256(data).hexdigest()
    assert got == want, (sorted(got), sorted(want))
    seen["downloaded"] = len(got)
    one = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="weights+v1.bin", dst_path=out + "-one")
    with open(one, "rb") as handle:
        assert handle.read() == files["weights+v1.bin"]
    seen["weights_sha256"] = hashlib.sha256(files["weights+v1.bin"]).hexdigest()
    print(json.dumps(seen))


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        sys.exit(1)
