"""MLflow's own Python client against `quill serve`: the workflows people run, unchanged.

Run by MLflowClientTests with the interpreter in QUILL_TEST_MLFLOW_PYTHON:

    python mlflow_client_workflow.py http://127.0.0.1:PORT [--auth]

With --auth the server has users and MLFLOW_TRACKING_TOKEN holds an API key. Every check is an assert; the
script prints one JSON object of what it saw and exits 0, or prints the failed check and exits 1.
"""

import json
import os
import sys
import traceback

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"
os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "60"
os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
    os.environ.pop(name, None)

import mlflow  # noqa: E402
from mlflow.entities import Metric, Param, RunTag  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402


def expect_error(code, fn):
    try:
        fn()
    except MlflowException as error:
        assert error.error_code == code, f"expected {code}, got {error.error_code}: {error}"
        return str(error)
    raise AssertionError(f"expected {code}, got no error")


def main():
    base = sys.argv[1]
    mlflow.set_tracking_uri(base)
    client = MlflowClient(base)
    seen = {}

    # The Default experiment exists from the start.
    default = client.get_experiment("0")
    assert default.name == "Default", default
    assert client.get_experiment_by_name("Default").experiment_id == "0"

    # set_experiment creates once and finds after.
    experiment = mlflow.set_experiment("client-workflow")
    assert mlflow.set_experiment("client-workflow").experiment_id == experiment.experiment_id
    assert client.get_experiment_by_name("client-workflow").experiment_id == experiment.experiment_id
    seen["experiment_id"] = experiment.experiment_id

    # Nested runs: the child's parent tag and the parent's status.
    with mlflow.start_run(run_name="parent") as parent:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"epochs": 5, "flag": True})
        for step, loss in enumerate([0.9, 0.5, 0.25]):
            mlflow.log_metric("loss", loss, step=step)
        mlflow.log_metrics({"acc": 0.75, "nan": float("nan"), "inf": float("inf")})
        mlflow.set_tags({"team": "vision", "stage": "dev"})
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("child_metric", 1.0)
    parent_run = client.get_run(parent.info.run_id)
    child_run = client.get_run(child.info.run_id)
    assert parent_run.info.status == "FINISHED", parent_run.info
    assert parent_run.info.end_time is not None and parent_run.info.end_time >= parent_run.info.start_time
    assert parent_run.info.run_name == "parent"
    assert parent_run.data.tags["mlflow.runName"] == "parent"
    assert parent_run.data.params == {"lr": "0.01", "epochs": "5", "flag": "True"}, parent_run.data.params
    assert parent_run.data.metrics["loss"] == 0.25, parent_run.data.metrics
    assert parent_run.data.metrics["acc"] == 0.75
    assert parent_run.data.metrics["nan"] != parent_run.data.metrics["nan"]  # NaN
    assert parent_run.data.metrics["inf"] == float("inf")
    assert parent_run.data.tags["team"] == "vision"
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id, child_run.data.tags
    assert child_run.info.experiment_id == experiment.experiment_id
    seen["parent"] = parent.info.run_id
    seen["child"] = child.info.run_id

    # A failure inside the block ends the run FAILED.
    try:
        with mlflow.start_run(run_name="fails") as failing:
            mlflow.log_metric("before", 1.0)
            raise RuntimeError("training diverged")
    except RuntimeError:
        pass
    assert client.get_run(failing.info.run_id).info.status == "FAILED"
    seen["failed"] = failing.info.run_id

    # MlflowClient: explicit run, batch logging, tags, rename, terminate.
    run = client.create_run(experiment.experiment_id, tags={"source": "client"})
    run_id = run.info.run_id
    assert len(run_id) == 32
    assert run.info.run_name, run.info
    client.log_param(run_id, "alpha", "0.5")
    client.log_metric(run_id, "m", 1.5, timestamp=1_700_000_000_000, step=7)
    client.log_batch(
        run_id,
        metrics=[Metric("b", float(i), 1_700_000_000_000 + i, i) for i in range(1000)],
        params=[Param(f"p{i}", str(i)) for i in range(100)],
        tags=[RunTag("batch", "yes")],
    )
    client.set_tag(run_id, "temp", "x")
    client.delete_tag(run_id, "temp")
    client.set_tag(run_id, "mlflow.runName", "renamed-by-tag")
    client.update_run(run_id, name="renamed-by-update")
    message = expect_error("INVALID_PARAMETER_VALUE", lambda: client.log_param(run_id, "alpha", "0.6"))
    assert "Changing param values is not allowed" in message, message
    # (The client splits a log_batch of more than 1,000 metrics itself; the server's limits are tested over HTTP.)
    client.set_terminated(run_id, status="KILLED")
    shown = client.get_run(run_id)
    assert shown.info.status == "KILLED", shown.info
    assert shown.info.run_name == "renamed-by-update"
    assert shown.data.tags["mlflow.runName"] == "renamed-by-update"
    assert "temp" not in shown.data.tags
    assert shown.data.tags["batch"] == "yes" and shown.data.tags["source"] == "client"
    assert shown.data.params["alpha"] == "0.5" and len(shown.data.params) == 101
    assert shown.data.metrics["b"] == 999.0 and shown.data.metrics["m"] == 1.5

    # Delete and restore a run; a deleted run refuses writes.
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    message = expect_error("INVALID_PARAMETER_VALUE", lambda: client.log_metric(run_id, "after", 1.0))
    assert "must be in the 'active' state" in message, message
    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"

    # Experiments: rename, tags, delete and restore.
    other_id = client.create_experiment("to-rename", tags={"owner": "me"})
    client.set_experiment_tag(other_id, "k", "v")
    client.rename_experiment(other_id, "renamed-experiment")
    other = client.get_experiment_by_name("renamed-experiment")
    assert other is not None and other.experiment_id == other_id
    assert other.tags == {"owner": "me", "k": "v"}, other.tags
    assert client.get_experiment_by_name("to-rename") is None
    expect_error("RESOURCE_ALREADY_EXISTS", lambda: client.create_experiment("renamed-experiment"))
    inner = client.create_run(other_id)
    client.delete_experiment(other_id)
    assert client.get_experiment(other_id).lifecycle_stage == "deleted"
    assert client.get_run(inner.info.run_id).info.lifecycle_stage == "deleted"
    client.restore_experiment(other_id)
    assert client.get_experiment(other_id).lifecycle_stage == "active"
    assert client.get_run(inner.info.run_id).info.lifecycle_stage == "active"
    expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_experiment("987654"))
    expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_run("0123456789abcdef0123456789abcdef"))

    # Search (experiments by name; runs of an experiment, newest first).
    names = [e.name for e in client.search_experiments()]
    assert "client-workflow" in names and "renamed-experiment" in names, names
    runs = client.search_runs([experiment.experiment_id])
    assert {r.info.run_id for r in runs} >= {parent.info.run_id, child.info.run_id, failing.info.run_id}
    seen["searched_runs"] = len(runs)

    print(json.dumps(seen))


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        sys.exit(1)
