#!/usr/bin/env python3
"""The MLflow-client workload of bench/mlflow/run.sh: the same script, through MLflow's own Python client,
against any tracking server (MLflow's own, Quill).

    python bench/mlflow/workload.py --url http://127.0.0.1:PORT --phase PHASE [options]

Phases (each prints one JSON object to stdout; times are wall seconds of the timed part only):
  fluent    `mlflow.log_metric("loss", v, step=i)` for --steps steps in one fluent run (start and end of the
            run not timed)
  batch     `MlflowClient.log_batch` of 1,000 metrics (10 keys x 100 steps), --batches times, one run
  fill      (not timed) --runs runs in a new experiment, each with params `opt`, `seed`, metrics `acc`, `loss`
            and a tag, made through the client (create_run + one log_batch each) unless --fill-through-store
            is given (MLflow only: its SQL store's own ORM in one transaction, fast); prints the experiment id
  search    `MlflowClient.search_runs` over the filled experiment: filter on a metric and a param, order_by a
            metric, pages of --page runs until the last page; --repeats times, every time recorded
  history-fill  (not timed) --points points of one metric in a new run, in batches of 1,000; prints the run id
  history   `get_metric_history` of all --points points of --run (the client asks for pages of 25,000),
            --repeats times
  noop      the client's own cost: the same fluent log_metric and log_batch calls against a server that answers
            `{}` at once (bench/mlflow/noop_server.py), to show what bounds the per-call lines
"""
import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "600"
os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
os.environ["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
for _v in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
    os.environ.pop(_v, None)

import mlflow  # noqa: E402
from mlflow.entities import Metric, Param, RunTag  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

SEARCH_FILTER = "metrics.acc > 0.2 and params.opt = 'adam'"
SEARCH_ORDER = ["metrics.acc DESC"]


def load():
    return os.getloadavg()[0]


def fluent(url, steps):
    mlflow.set_tracking_uri(url)
    mlflow.set_experiment(f"bench-fluent-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run():
        la = load()
        t = time.perf_counter()
        for i in range(steps):
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
        seconds = time.perf_counter() - t
    return {"phase": "fluent", "steps": steps, "seconds": seconds, "per_call_ms": seconds / steps * 1000,
            "load_average": la}


def batch(url, batches):
    c = MlflowClient(url)
    exp = c.create_experiment(f"bench-batch-{uuid.uuid4().hex[:8]}")
    run = c.create_run(exp).info.run_id
    now = int(time.time() * 1000)
    payloads = [[Metric(f"m{k}", random.random(), now, b * 100 + s) for s in range(100) for k in range(10)]
                for b in range(batches)]
    la = load()
    t = time.perf_counter()
    for metrics in payloads:
        c.log_batch(run, metrics=metrics)
    seconds = time.perf_counter() - t
    return {"phase": "batch", "batches": batches, "points": batches * 1000, "seconds": seconds,
            "per_batch_ms": seconds / batches * 1000, "load_average": la}


def fill_specs(runs):
    rng = random.Random(42)
    return [(f"run-{i}", rng.random(), rng.random(), ("adam", "sgd")[i % 2], i) for i in range(runs)]


def fill(url, runs, through_store, store_uri):
    started = time.perf_counter()
    name = f"bench-search-{uuid.uuid4().hex[:8]}"
    specs = fill_specs(runs)
    if through_store:
        exp = fill_mlflow_store(store_uri, name, specs)
    else:
        c = MlflowClient(url)
        exp = c.create_experiment(name)
        now = int(time.time() * 1000)
        for run_name, acc, loss, opt, seed in specs:
            rid = c.create_run(exp, run_name=run_name, start_time=now + seed).info.run_id
            c.log_batch(rid, metrics=[Metric("acc", acc, now, 0), Metric("loss", loss, now, 0)],
                        params=[Param("opt", opt), Param("seed", str(seed))], tags=[RunTag("team", "bench")])
    expected = sum(1 for _, acc, _, opt, _ in specs if acc > 0.2 and opt == "adam")
    return {"phase": "fill", "runs": runs, "experiment_id": exp, "expected": expected,
            "seconds": time.perf_counter() - started, "through_store": through_store}


def fill_mlflow_store(store_uri, name, specs):
    """MLflow's own SQL store and ORM models, one transaction: the same rows its server writes for these runs."""
    from mlflow.entities import RunStatus, SourceType
    from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlParam, SqlRun, SqlTag
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
    from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME

    store = SqlAlchemyStore(store_uri, "mlflow-artifacts:/")
    exp = store.create_experiment(name)
    now = int(time.time() * 1000)
    with store.ManagedSessionMaker() as session:
        rows = []
        for run_name, acc, loss, opt, seed in specs:
            rid = uuid.uuid4().hex
            rows.append(SqlRun(run_uuid=rid, name=run_name, experiment_id=int(exp), user_id="bench",
                               status=RunStatus.to_string(RunStatus.RUNNING), start_time=now + seed, end_time=None,
                               source_type=SourceType.to_string(SourceType.LOCAL), source_name="",
                               entry_point_name="", source_version="", lifecycle_stage="active",
                               artifact_uri=f"mlflow-artifacts:/{exp}/{rid}/artifacts"))
            for key, value in (("acc", acc), ("loss", loss)):
                rows.append(SqlMetric(run_uuid=rid, key=key, value=value, timestamp=now, step=0, is_nan=False))
                rows.append(SqlLatestMetric(run_uuid=rid, key=key, value=value, timestamp=now, step=0,
                                            is_nan=False))
            rows.append(SqlParam(run_uuid=rid, key="opt", value=opt))
            rows.append(SqlParam(run_uuid=rid, key="seed", value=str(seed)))
            rows.append(SqlTag(run_uuid=rid, key="team", value="bench"))
            rows.append(SqlTag(run_uuid=rid, key=MLFLOW_RUN_NAME, value=run_name))
        session.add_all(rows)
    return exp


def search(url, exp, expected, page, repeats):
    c = MlflowClient(url)
    times = []
    for _ in range(repeats):
        la = load()
        t = time.perf_counter()
        seen, token, pages = 0, None, 0
        while True:
            got = c.search_runs([exp], SEARCH_FILTER, order_by=SEARCH_ORDER, max_results=page, page_token=token)
            seen += len(got)
            pages += 1
            token = got.token
            if not token:
                break
        times.append(time.perf_counter() - t)
        if seen != expected:
            raise SystemExit(f"search found {seen} runs, expected {expected}")
    return {"phase": "search", "runs_found": seen, "pages": pages, "seconds": statistics.median(times),
            "all_seconds": times, "load_average": la}


def history_fill(url, points):
    c = MlflowClient(url)
    exp = c.create_experiment(f"bench-history-{uuid.uuid4().hex[:8]}")
    run = c.create_run(exp).info.run_id
    base = 1_700_000_000_000
    t = time.perf_counter()
    for start in range(0, points, 1000):
        c.log_batch(run, metrics=[Metric("loss", 1.0 / (i + 1), base + i, i)
                                  for i in range(start, min(points, start + 1000))])
    return {"phase": "history-fill", "points": points, "run_id": run, "seconds": time.perf_counter() - t}


def history(url, run, points, repeats):
    c = MlflowClient(url)
    times = []
    for _ in range(repeats):
        la = load()
        t = time.perf_counter()
        got = c.get_metric_history(run, "loss")
        times.append(time.perf_counter() - t)
        if len(got) != points:
            raise SystemExit(f"history has {len(got)} points, expected {points}")
    return {"phase": "history", "points": points, "seconds": statistics.median(times), "all_seconds": times,
            "load_average": la}


def noop(url, steps, batches):
    """Against bench/mlflow/noop_server.py (every answer `{}`, or a made-up run for runs/create): the client's
    own cost per call, the floor for any server."""
    c = MlflowClient(url)
    run = "0" * 32
    t = time.perf_counter()
    for i in range(steps):
        c.log_metric(run, "loss", 1.0 / (i + 1), step=i)
    per_call = (time.perf_counter() - t) / steps
    now = int(time.time() * 1000)
    payloads = [[Metric(f"m{k}", random.random(), now, b * 100 + s) for s in range(100) for k in range(10)]
                for b in range(batches)]
    t = time.perf_counter()
    for metrics in payloads:
        c.log_batch(run, metrics=metrics)
    per_batch = (time.perf_counter() - t) / batches
    return {"phase": "noop", "client_log_metric_ms": per_call * 1000, "client_log_batch_ms": per_batch * 1000}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--phase", required=True, choices=["fluent", "batch", "fill", "search", "history-fill", "history", "noop"])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--runs", type=int, default=10000)
    p.add_argument("--fill-through-store", action="store_true")
    p.add_argument("--store-uri", default="")
    p.add_argument("--experiment", default="")
    p.add_argument("--run", default="")
    p.add_argument("--expected", type=int, default=0)
    p.add_argument("--page", type=int, default=1000)
    p.add_argument("--points", type=int, default=100000)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    if a.phase == "fluent":
        out = fluent(a.url, a.steps)
    elif a.phase == "batch":
        out = batch(a.url, a.batches)
    elif a.phase == "fill":
        out = fill(a.url, a.runs, a.fill_through_store, a.store_uri)
    elif a.phase == "search":
        out = search(a.url, a.experiment, a.expected, a.page, a.repeats)
    elif a.phase == "history-fill":
        out = history_fill(a.url, a.points)
    elif a.phase == "history":
        out = history(a.url, a.run, a.points, a.repeats)
    else:
        out = noop(a.url, a.steps, a.batches)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    sys.exit(main())
