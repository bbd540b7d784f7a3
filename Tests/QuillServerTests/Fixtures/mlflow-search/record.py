"""Records MLflow's own answers to run searches, for Quill's differential test (MLflowSearchDifferentialTests).

It builds runs in MLflow's SQLAlchemyStore on a temporary SQLite file (in process, no server), runs each
filter and order_by of CASES through `search_runs`, and writes the runs and MLflow's answers (the ordered run
ids, or the error) to expected.json next to this script. The Swift test recreates the same runs in a Quill
store and checks that MLflowRunSearch answers the same ids in the same order.

Regenerate (needs the full `mlflow` package; 3.17.2 recorded the committed fixture):

    MLFLOW_DISABLE_TELEMETRY=true /work/venv-mlflow/bin/python \
        Tests/QuillServerTests/Fixtures/mlflow-search/record.py

Runs are deterministic (fixed seeds, fixed ids, fixed times) so the fixture only changes when MLflow does.
Each metric is logged with increasing steps and times, so MLflow's latest value (largest step) is also the
last logged (Quill's latest).
"""

import json
import math
import os
import random
import sys
import tempfile
import uuid

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import mlflow  # noqa: E402
from mlflow.entities import ExperimentTag, Metric, Param, RunStatus, RunTag, ViewType  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = 1_700_000_000_000

FILTERS = [
    None,
    "metrics.acc > 0.5",
    "metrics.acc >= 0.5 and metrics.loss < 1",
    "metrics.acc != 0.5",
    "metrics.acc = 0.5",
    "metrics.loss <= -1",
    "metrics.loss > 1e10",
    "params.lr = '0.01'",
    "params.lr != '0.01'",
    "params.lr = '10'",
    "params.opt = \"adam\"",
    "params.opt != 'adam'",
    "params.opt LIKE 'a%'",
    "params.opt ILIKE 'a%'",
    "params.opt LIKE '%d_m'",
    "params.`batch size` = '32'",
    "params.note LIKE '%\\%%'",
    "params.note LIKE '50%'",
    "params.lr IS NULL",
    "params.opt IS NOT NULL",
    "tags.team = 'vision'",
    "tags.team != 'vision'",
    "tags.team ILIKE 'VIS%'",
    "tags.`mlflow.runName` LIKE 'run-1%'",
    "tags.stage IS NULL",
    "attributes.status = 'FINISHED'",
    "attributes.status != 'RUNNING'",
    "attributes.status = 'FAILED' and params.opt = 'sgd'",
    "status LIKE 'FIN%'",
    "attributes.run_name = 'run-3'",
    "attributes.run_name ILIKE 'RUN-1%'",
    "`Run name` LIKE '%-2'",
    "attributes.start_time > %d" % (BASE + 1500),
    "attributes.start_time <= %d" % (BASE + 2000),
    "created = %d" % (BASE + 1000),
    "attributes.end_time > %d" % (BASE + 100_000),
    "attributes.end_time < %d" % (BASE + 200_000),
    "attributes.user_id = 'ada'",
    "attributes.user_id != 'ada'",
    "metrics.acc > 0 and params.lr != '10' and tags.team LIKE '%i%'",
]

ORDERS = [
    [],
    ["metrics.acc DESC"],
    ["metrics.acc"],
    ["metrics.loss DESC", "params.opt"],
    ["params.lr"],
    ["params.lr DESC", "metrics.acc DESC"],
    ["params.opt DESC"],
    ["tags.team", "metrics.loss"],
    ["attributes.start_time"],
    ["start_time DESC", "params.opt"],
    ["attributes.end_time DESC"],
    ["attributes.status", "attributes.run_name DESC"],
    ["attributes.run_name"],
    ["attributes.user_id DESC", "metrics.acc"],
    ["metrics.`val loss` DESC"],
    ["attributes.run_id"],
]

# Filters MLflow refuses (the test checks that Quill refuses them too, with the same message where MLflow's
# message does not print a Python set).
BAD_FILTERS = [
    "metrics.acc > 0.5 or metrics.loss < 1",
    "params.lr > '1'",
    "metrics.acc = 'high'",
    "params.lr = 0.01",
    "attributes.status IN ('FINISHED')",
    "foo.bar = 'x'",
    "metrics.acc IS NULL",
    "attributes.start_time > '5'",
    "params.lr = adam",
]

BAD_ORDERS = [["metrics.acc sideways"], ["metrics.acc > 1"], ["params.x", "params.x DESC"], ["attributes.foo"]]


def make_runs(store, experiment_id):
    rng = random.Random(20261130)
    statuses = ["RUNNING", "FINISHED", "FAILED", "KILLED", "SCHEDULED", "FINISHED"]
    lrs = ["0.01", "0.1", "10", "9", "0.010", "1e-3", None]
    opts = ["adam", "Adam", "sgd", "adamw", "adagrad", None]
    teams = ["vision", "Vision", "nlp", "infra", None]
    notes = ["50%", "5_0", "50%x", "plain", None]
    acc_values = [0.5, 0.9, 0.1, float("nan"), None, 0.9, float("inf"), -0.25]
    loss_values = [1.5, -1.0, 0.2, None, 2e10, float("-inf"), 0.2]
    runs = []
    for index in range(48):
        run_id = "%032x" % rng.getrandbits(128)
        # Start times tie in groups (4 distinct times); ids break the ties.
        start = BASE + 1000 * (index % 4)
        user = ["ada", "bob", "cy"][index % 3]
        # Names are unique: a Quill project gives a taken name a suffix (Docs/MLflow.md).
        name = ["run", "Run", "trial"][index % 3] + "-%d" % index
        # The store makes a random uuid4 for the id: give it ours so the fixture is stable.
        real_uuid4 = uuid.uuid4
        uuid.uuid4 = lambda: uuid.UUID(hex=run_id, version=4)
        try:
            run = store.create_run(
                experiment_id=experiment_id,
                user_id=user,
                start_time=start,
                tags=[],
                run_name=name,
            )
        finally:
            uuid.uuid4 = real_uuid4
        run_id = run.info.run_id
        status = statuses[index % len(statuses)]
        end = None
        if status not in ("RUNNING", "SCHEDULED") and index % 5 != 0:
            end = BASE + 100_000 * (1 + index % 3)
        if status != "RUNNING" or end is not None:
            store.update_run_info(run_id, RunStatus.from_string(status), end, None)
        params = {}
        for key, choices, salt in (("lr", lrs, 1), ("opt", opts, 2), ("note", notes, 3)):
            value = choices[(index * salt + index // 7) % len(choices)]
            if value is not None:
                params[key] = value
        if index % 4 == 1:
            params["batch size"] = "32" if index % 8 == 1 else "64"
        tags = {}
        team = teams[index % len(teams)]
        if team is not None:
            tags["team"] = team
        if index % 6 == 0:
            tags["stage"] = "prod"
        metrics = []
        for key, values in (("acc", acc_values), ("loss", loss_values)):
            value = values[(index + (3 if key == "loss" else 0)) % len(values)]
            if value is None:
                continue
            # An earlier point first: the latest (largest step, logged last) is `value`.
            metrics.append(Metric(key, 0.0, BASE + index, 0))
            metrics.append(Metric(key, value, BASE + index + 1, 1))
        if index % 5 == 2:
            metrics.append(Metric("val loss", float(index % 3), BASE + index, 0))
        store.log_batch(
            run_id,
            metrics=metrics,
            params=[Param(k, v) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        stored = store.get_run(run_id)
        runs.append(
            {
                "run_id": run_id,
                "run_name": stored.info.run_name,
                "status": stored.info.status,
                "start_time": stored.info.start_time,
                "end_time": stored.info.end_time,
                "user_id": stored.info.user_id,
                "params": stored.data.params,
                "tags": {k: v for k, v in stored.data.tags.items()},
                "metrics": [
                    {"key": m.key, "value": encode(m.value), "timestamp": m.timestamp, "step": m.step}
                    for m in metrics
                ],
            }
        )
    return runs


def encode(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def search(store, experiment_id, filter_string, order_by):
    ids = []
    token = None
    while True:
        page = store.search_runs(
            [experiment_id], filter_string, ViewType.ACTIVE_ONLY, max_results=7, order_by=order_by, page_token=token
        )
        ids += [run.info.run_id for run in page]
        token = page.token
        if not token:
            return ids


def error_of(call):
    try:
        call()
    except MlflowException as error:
        return {"error_code": error.error_code, "message": error.message}
    return None


EXPERIMENT_FILTERS = [
    None,
    "name = 'beta'",
    "attribute.name != 'beta'",
    "name LIKE 'b%'",
    "name ILIKE 'B%'",
    "name LIKE '%_2'",
    "creation_time > %d" % (BASE + 2000),
    "creation_time <= %d" % (BASE + 2000),
    "last_update_time = %d" % (BASE + 1000),
    "tags.team = 'vision'",
    "tags.team != 'vision'",
    "tags.team ILIKE 'VIS%'",
    "tags.stage IS NULL",
    "tags.stage IS NOT NULL and name LIKE '%a%'",
]

EXPERIMENT_ORDERS = [
    [],
    ["name"],
    ["name DESC"],
    ["creation_time"],
    ["creation_time DESC", "name"],
    ["last_update_time DESC"],
    ["experiment_id DESC"],
    ["attribute.name ASC", "experiment_id DESC"],
]

BAD_EXPERIMENT_FILTERS = ["attributes.name = 'x'", "name > 'a'", "creation_time > 1.5", "metrics.x > 1", "name = 'a' or name = 'b'"]


def make_experiments(store):
    """Experiments with fixed creation times (several tie) and tags."""
    from mlflow.store.tracking import sqlalchemy_store

    real_now = sqlalchemy_store.get_current_time_millis
    names = ["alpha", "beta", "Beta", "gamma_2", "delta", "b%c", "epsilon2", "zeta"]
    teams = ["vision", "Vision", "nlp", None]
    try:
        for index, name in enumerate(names):
            sqlalchemy_store.get_current_time_millis = lambda index=index: BASE + 1000 * (index % 4)
            tags = []
            if teams[index % 4] is not None:
                tags.append(ExperimentTag("team", teams[index % 4]))
            if index % 3 == 0:
                tags.append(ExperimentTag("stage", "prod"))
            store.create_experiment(name, tags=tags)
    finally:
        sqlalchemy_store.get_current_time_millis = real_now
    experiments = store.search_experiments(ViewType.ALL, max_results=1000)
    return [
        {
            "experiment_id": e.experiment_id,
            "name": e.name,
            "creation_time": e.creation_time,
            "last_update_time": e.last_update_time,
            "tags": e.tags,
        }
        for e in experiments
    ]


def search_experiments(store, filter_string, order_by):
    ids = []
    token = None
    while True:
        page = store.search_experiments(
            ViewType.ACTIVE_ONLY, max_results=3, filter_string=filter_string, order_by=order_by, page_token=token
        )
        ids += [e.experiment_id for e in page]
        token = page.token
        if not token:
            return ids


def experiment_fixture(directory):
    store = SqlAlchemyStore("sqlite:///%s/experiments.db" % directory, "%s/artifacts" % directory)
    experiments = make_experiments(store)
    cases = []
    for order_by in EXPERIMENT_ORDERS:
        for filter_string in EXPERIMENT_FILTERS:
            cases.append(
                {
                    "filter": filter_string,
                    "order_by": order_by,
                    "experiment_ids": search_experiments(store, filter_string, order_by),
                }
            )
    errors = []
    for filter_string in BAD_EXPERIMENT_FILTERS:
        found = error_of(lambda: search_experiments(store, filter_string, []))
        errors.append({"filter": filter_string, "order_by": [], **found})
    return {"experiments": experiments, "cases": cases, "errors": errors}


def main():
    with tempfile.TemporaryDirectory() as directory:
        store = SqlAlchemyStore("sqlite:///%s/mlflow.db" % directory, "%s/artifacts" % directory)
        experiment_id = store.create_experiment("search")
        runs = make_runs(store, experiment_id)
        cases = []
        for index, order_by in enumerate(ORDERS):
            # Each order with no filter and with a few filters (every filter is used at least twice).
            picked = {0, (index * 3 + 1) % len(FILTERS), (index * 3 + 2) % len(FILTERS), (index * 3 + 3) % len(FILTERS)}
            for filter_index in sorted(picked):
                filter_string = FILTERS[filter_index]
                cases.append(
                    {
                        "filter": filter_string,
                        "order_by": order_by,
                        "run_ids": search(store, experiment_id, filter_string, order_by),
                    }
                )
        for filter_string in FILTERS:
            cases.append({"filter": filter_string, "order_by": [], "run_ids": search(store, experiment_id, filter_string, [])})
        errors = []
        for filter_string in BAD_FILTERS:
            errors.append(
                {
                    "filter": filter_string,
                    "order_by": [],
                    **error_of(lambda: search(store, experiment_id, filter_string, [])),
                }
            )
        for order_by in BAD_ORDERS:
            found = error_of(lambda: search(store, experiment_id, None, order_by))
            errors.append({"filter": None, "order_by": order_by, **found})
        fixture = {
            "experiments": experiment_fixture(directory),
            "mlflow_version": mlflow.__version__,
            "regenerate": "MLFLOW_DISABLE_TELEMETRY=true /work/venv-mlflow/bin/python "
            "Tests/QuillServerTests/Fixtures/mlflow-search/record.py",
            "runs": runs,
            "cases": cases,
            "errors": errors,
        }
    path = os.path.join(HERE, "expected.json")
    with open(path, "w") as file:
        json.dump(fixture, file, indent=1, sort_keys=True)
        file.write("\n")
    print("wrote %s: %d runs, %d cases, %d errors" % (path, len(runs), len(cases), len(errors)), file=sys.stderr)


if __name__ == "__main__":
    main()
