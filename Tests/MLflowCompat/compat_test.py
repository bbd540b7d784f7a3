#!/usr/bin/env python3
"""MLflow compatibility suite: what MLflow's own Python client sees from a tracking server.

HOW TO RUN (from the repository root)
    # against MLflow's own server (every check must pass there: that is what makes a check MLflow's):
    mlflow server --backend-store-uri sqlite:////tmp/compat-mlf/m.db \
        --artifacts-destination /tmp/compat-mlf/art --host 127.0.0.1 --port 5057 --workers 1
    python Tests/MLflowCompat/compat_test.py http://127.0.0.1:5057
    # against Quill:
    quill serve --port 8080 &
    python Tests/MLflowCompat/compat_test.py http://127.0.0.1:8080 [--only SUBSTRING]

The Python needs `mlflow-skinny` (or `mlflow`); scripts/test.sh makes that virtualenv and
Tests/QuillServerTests/MLflow/MLflowCompatTests.swift runs this file against a real `quill serve`.
Only MLflow's public client is used (the fluent `mlflow` API and `MlflowClient`), with one exception said
where it is used: the client splits an over-large `log_batch` into requests within the server's limits, so
the checks of those limits send one request through the client's own REST store
(`MlflowClient()._tracking_client.store`), exactly as the client would send it.
MLFLOW_TRACKING_TOKEN / MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD are passed through (auth on).

Prints "PASS <name>" / "FAIL <name> :: <reason>" per check and ends with "N passed, M failed"; exit code 0
only when nothing failed. Every name is unique per invocation, so the suite runs again on the same server.
Only loopback URLs are accepted.
"""
import os
import sys

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"
os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "120"
os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
os.environ["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
for _v in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
    os.environ.pop(_v, None)

import math  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

import mlflow  # noqa: E402
from mlflow.entities import Metric, Param, RunTag, ViewType  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

passed = failed = 0
only = None
signed_in_user = None  # --signed-in-user: on a server with users, user_id is the caller (Docs/MLflow.md)
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def check(name, fn):
    """Runs one check; an exception (an AssertionError included) is a failure, printed on one line."""
    global passed, failed
    if only and only not in name:
        return None
    try:
        value = fn()
    except Exception as e:  # noqa: BLE001
        failed += 1
        print(f"FAIL {name} :: {type(e).__name__}: {' '.join(str(e).split())[:400]}", flush=True)
        return None
    passed += 1
    print(f"PASS {name}", flush=True)
    return value


def eq(actual, expected, what):
    assert actual == expected, f"{what}: expected {expected!r}, got {actual!r}"


def refused(fn, code, status=None):
    """`fn()` must raise MlflowException with error code `code` (or one of the codes of a tuple) and HTTP
    status `status`."""
    codes = code if isinstance(code, tuple) else (code,)
    try:
        fn()
    except MlflowException as e:
        assert e.error_code in codes, f"error code: expected {' or '.join(codes)}, got {e.error_code} " \
            f"(message: {e.message[:200]!r})"
        if status is not None:
            eq(e.get_http_status_code(), status, "HTTP status")
        return e
    raise AssertionError(f"expected MlflowException {code}, nothing was raised")


def unique(prefix):
    return f"{prefix}-{int(time.time())}-{uuid.uuid4().hex[:8]}"


class Suite:
    def __init__(self, base):
        self.base = base
        mlflow.set_tracking_uri(base)
        self.client = MlflowClient(base)
        self.tag = uuid.uuid4().hex[:8]

    # ------------------------------------------------------------------ experiments
    def experiments(self):
        c = self.client
        name = unique("compat-exp")
        box = {}

        def create():
            box["id"] = c.create_experiment(name, artifact_location=None, tags={"team": "core", "k.2": "v 2"})
            exp = c.get_experiment(box["id"])
            eq(exp.name, name, "name")
            eq(exp.lifecycle_stage, "active", "lifecycle_stage")
            eq(exp.tags, {"team": "core", "k.2": "v 2"}, "tags")
            assert isinstance(exp.creation_time, int) and exp.creation_time > 1_600_000_000_000, exp.creation_time
            assert exp.last_update_time >= exp.creation_time, (exp.last_update_time, exp.creation_time)
            assert exp.artifact_location, "artifact_location is empty"
        check("experiment: create with tags, get reads name, tags, times, artifact location", create)

        def by_name():
            eq(c.get_experiment_by_name(name).experiment_id, box["id"], "id by name")
            eq(c.get_experiment_by_name(unique("no-such-exp")), None, "missing name")
        check("experiment: get_experiment_by_name finds it; a missing name is None", by_name)

        check("experiment: a taken name is RESOURCE_ALREADY_EXISTS (400)",
              lambda: refused(lambda: c.create_experiment(name), "RESOURCE_ALREADY_EXISTS", 400))
        check("experiment: an unknown id is RESOURCE_DOES_NOT_EXIST (404)",
              lambda: refused(lambda: c.get_experiment("987654321"), "RESOURCE_DOES_NOT_EXIST", 404))

        def default():
            exp = c.get_experiment("0")
            eq(exp.name, "Default", "name of experiment 0")
            eq(c.get_experiment_by_name("Default").experiment_id, "0", "id of Default")
        check("experiment: Default is experiment 0", default)

        def location():
            other = unique("compat-exp-loc")
            exp_id = c.create_experiment(other, artifact_location="s3://compat-bucket/path")
            eq(c.get_experiment(exp_id).artifact_location, "s3://compat-bucket/path", "artifact_location")
        check("experiment: a given artifact location is shown back", location)

        def tags():
            c.set_experiment_tag(box["id"], "stage", "dev")
            c.set_experiment_tag(box["id"], "stage", "prod")
            c.delete_experiment_tag(box["id"], "team")
            eq(c.get_experiment(box["id"]).tags, {"k.2": "v 2", "stage": "prod"}, "tags")
        check("experiment: set_experiment_tag overwrites, delete_experiment_tag removes", tags)

        def rename():
            new = name + "-renamed"
            c.rename_experiment(box["id"], new)
            eq(c.get_experiment(box["id"]).name, new, "name after rename")
            eq(c.get_experiment_by_name(name), None, "old name")
            eq(c.get_experiment_by_name(new).experiment_id, box["id"], "new name")
            box["name"] = new
        check("experiment: rename_experiment renames", rename)

        def rename_taken():
            other = unique("compat-exp-taken")
            c.create_experiment(other)
            # MLflow 3.17's SQL store answers BAD_REQUEST (its UNIQUE constraint's text); either code is a 400.
            refused(lambda: c.rename_experiment(box["id"], other), ("RESOURCE_ALREADY_EXISTS", "BAD_REQUEST"), 400)
        check("experiment: renaming onto a taken name is refused with 400", rename_taken)

        def set_experiment():
            fresh = unique("compat-exp-fluent")
            exp = mlflow.set_experiment(fresh)
            eq(exp.name, fresh, "name")
            eq(mlflow.set_experiment(fresh).experiment_id, exp.experiment_id, "second set_experiment")
            eq(mlflow.set_experiment(experiment_id=exp.experiment_id).name, fresh, "by id")
        check("experiment: fluent set_experiment creates once, then finds it (by name and id)", set_experiment)

        def delete_restore():
            victim = unique("compat-exp-del")
            exp_id = c.create_experiment(victim)
            run = c.create_run(exp_id)
            c.delete_experiment(exp_id)
            eq(c.get_experiment(exp_id).lifecycle_stage, "deleted", "experiment after delete")
            eq(c.get_run(run.info.run_id).info.lifecycle_stage, "deleted", "its run after delete")
            active = [e.experiment_id for e in c.search_experiments(filter_string=f"name = '{victim}'")]
            eq(active, [], "default search")
            deleted = c.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=f"name = '{victim}'")
            eq([e.experiment_id for e in deleted], [exp_id], "DELETED_ONLY search")
            refused(lambda: c.create_experiment(victim), "RESOURCE_ALREADY_EXISTS", 400)
            c.restore_experiment(exp_id)
            eq(c.get_experiment(exp_id).lifecycle_stage, "active", "experiment after restore")
            eq(c.get_run(run.info.run_id).info.lifecycle_stage, "active", "its run after restore")
        check("experiment: delete and restore (its runs too); a deleted name stays taken", delete_restore)

        check("experiment: deleting an unknown id is RESOURCE_DOES_NOT_EXIST",
              lambda: refused(lambda: c.delete_experiment("987654321"), "RESOURCE_DOES_NOT_EXIST", 404))

        def search():
            prefix = unique("compat-search-exp")
            ids = [c.create_experiment(f"{prefix}-{i}", tags={"parity": "even" if i % 2 == 0 else "odd"})
                   for i in range(7)]
            got = c.search_experiments(filter_string=f"name LIKE '{prefix}-%'", order_by=["name DESC"])
            eq([e.experiment_id for e in got], list(reversed(ids)), "name DESC")
            even = c.search_experiments(filter_string=f"name LIKE '{prefix}-%' AND tags.parity = 'even'",
                                        order_by=["name ASC"])
            eq([e.experiment_id for e in even], ids[0::2], "tag filter")
            ilike = c.search_experiments(filter_string=f"name ILIKE '{prefix.upper()}-%'")
            eq(sorted(e.experiment_id for e in ilike), sorted(ids), "ILIKE")
            seen, token = [], None
            while True:
                page = c.search_experiments(max_results=3, page_token=token,
                                            filter_string=f"name LIKE '{prefix}-%'", order_by=["name ASC"])
                assert len(page) <= 3, len(page)
                seen += [e.experiment_id for e in page]
                token = page.token
                if not token:
                    break
            eq(seen, ids, "pages of 3")
        check("experiment: search_experiments filters (LIKE, ILIKE, tags), orders and pages", search)

        def search_all_views():
            prefix = unique("compat-view-exp")
            a = c.create_experiment(prefix + "-a")
            b = c.create_experiment(prefix + "-b")
            c.delete_experiment(b)
            f = f"name LIKE '{prefix}-%'"
            eq(sorted(e.experiment_id for e in c.search_experiments(view_type=ViewType.ALL, filter_string=f)),
               sorted([a, b]), "ALL")
            eq([e.experiment_id for e in c.search_experiments(view_type=ViewType.ACTIVE_ONLY, filter_string=f)],
               [a], "ACTIVE_ONLY")
        check("experiment: search_experiments view types", search_all_views)
        return box.get("id")

    # ------------------------------------------------------------------ runs
    def runs(self, exp_id):
        c = self.client

        def create_get():
            start = int(time.time() * 1000) - 5000
            run = c.create_run(exp_id, start_time=start, tags={"team": "a", "mlflow.user": "compat-user"},
                               run_name="named-run")
            got = c.get_run(run.info.run_id)
            eq(got.info.run_name, "named-run", "run_name")
            eq(got.data.tags.get("mlflow.runName"), "named-run", "mlflow.runName tag")
            eq(got.data.tags.get("team"), "a", "tag")
            eq(got.info.start_time, start, "start_time")
            eq(got.info.status, "RUNNING", "status")
            eq(got.info.lifecycle_stage, "active", "lifecycle_stage")
            eq(got.info.experiment_id, exp_id, "experiment_id")
            eq(got.info.user_id, signed_in_user or "compat-user", "user_id (the mlflow.user tag, or the caller)")
            eq(got.info.end_time, None, "end_time")
            assert re.fullmatch(r"[0-9a-f]{32}", got.info.run_id), got.info.run_id
            assert got.info.artifact_uri.endswith(f"{got.info.run_id}/artifacts"), got.info.artifact_uri
        check("run: create_run with name, tags and start time; get_run reads them", create_get)

        def generated_name():
            run = c.create_run(exp_id)
            assert re.fullmatch(r"[a-z]+-[a-z]+-\d+", run.info.run_name), run.info.run_name
            eq(c.get_run(run.info.run_id).data.tags.get("mlflow.runName"), run.info.run_name, "tag")
        check("run: without a name the server makes one (adjective-noun-number), also as mlflow.runName",
              generated_name)

        check("run: an unknown run id is RESOURCE_DOES_NOT_EXIST (404)",
              lambda: refused(lambda: c.get_run("f" * 32), "RESOURCE_DOES_NOT_EXIST", 404))
        check("run: create_run in an unknown experiment is RESOURCE_DOES_NOT_EXIST",
              lambda: refused(lambda: c.create_run("987654321"), "RESOURCE_DOES_NOT_EXIST", 404))

        def statuses():
            for status in ("FINISHED", "FAILED", "KILLED"):
                run = c.create_run(exp_id)
                end = int(time.time() * 1000)
                c.set_terminated(run.info.run_id, status=status, end_time=end)
                got = c.get_run(run.info.run_id).info
                eq(got.status, status, "status")
                eq(got.end_time, end, "end_time")
            run = c.create_run(exp_id)
            c.update_run(run.info.run_id, status="SCHEDULED")
            eq(c.get_run(run.info.run_id).info.status, "SCHEDULED", "SCHEDULED")
        check("run: set_terminated FINISHED/FAILED/KILLED with end time; update_run SCHEDULED", statuses)

        def rename():
            run = c.create_run(exp_id, run_name="before")
            c.update_run(run.info.run_id, name="after")
            got = c.get_run(run.info.run_id)
            eq(got.info.run_name, "after", "run_name after update_run")
            eq(got.data.tags.get("mlflow.runName"), "after", "tag after update_run")
            c.set_tag(run.info.run_id, "mlflow.runName", "by-tag")
            eq(c.get_run(run.info.run_id).info.run_name, "by-tag", "run_name after set_tag mlflow.runName")
        check("run: update_run(name=) and set_tag('mlflow.runName') rename, kept in step", rename)

        def fluent_failure():
            box = {}
            try:
                with mlflow.start_run(experiment_id=exp_id) as run:
                    box["id"] = run.info.run_id
                    raise RuntimeError("boom")
            except RuntimeError:
                pass
            eq(c.get_run(box["id"]).info.status, "FAILED", "status after an exception")
            with mlflow.start_run(experiment_id=exp_id) as run:
                box["ok"] = run.info.run_id
            got = c.get_run(box["ok"]).info
            eq(got.status, "FINISHED", "status after a clean block")
            assert got.end_time and got.end_time >= got.start_time, (got.start_time, got.end_time)
            mlflow.start_run(experiment_id=exp_id)
            killed = mlflow.active_run().info.run_id
            mlflow.end_run(status="KILLED")
            eq(c.get_run(killed).info.status, "KILLED", "end_run(KILLED)")
        check("run: fluent start_run ends FAILED on an exception, FINISHED otherwise; end_run(KILLED)",
              fluent_failure)

        def nested():
            with mlflow.start_run(experiment_id=exp_id, run_name="parent") as parent:
                with mlflow.start_run(experiment_id=exp_id, run_name="child-1", nested=True) as child:
                    mlflow.log_metric("depth", 1)
                    with mlflow.start_run(experiment_id=exp_id, run_name="grandchild", nested=True) as grand:
                        pass
                with mlflow.start_run(experiment_id=exp_id, run_name="child-2", nested=True):
                    pass
            pid = parent.info.run_id
            eq(c.get_run(child.info.run_id).data.tags.get("mlflow.parentRunId"), pid, "child's parent tag")
            eq(c.get_run(grand.info.run_id).data.tags.get("mlflow.parentRunId"), child.info.run_id,
               "grandchild's parent tag")
            kids = c.search_runs([exp_id], f"tags.mlflow.parentRunId = '{pid}'", order_by=["attributes.run_name"])
            eq([r.info.run_name for r in kids], ["child-1", "child-2"], "children found by tag")
            eq(c.get_parent_run(child.info.run_id).info.run_id, pid, "get_parent_run")
            for r in (parent, child, grand):
                eq(c.get_run(r.info.run_id).info.status, "FINISHED", "status of " + r.info.run_name)
        check("run: nested runs carry mlflow.parentRunId; children are found by it; all end FINISHED", nested)

        def params():
            run = c.create_run(exp_id)
            rid = run.info.run_id
            c.log_param(rid, "lr", 0.01)
            c.log_param(rid, "flag", True)
            c.log_param(rid, "none", None)
            c.log_param(rid, "text", "ünïcödé value with spaces")
            c.log_param(rid, "lr", 0.01)  # the same value again is fine
            eq(c.get_run(rid).data.params,
               {"lr": "0.01", "flag": "True", "none": "None", "text": "ünïcödé value with spaces"}, "params")
            e = refused(lambda: c.log_param(rid, "lr", 0.02), "INVALID_PARAMETER_VALUE", 400)
            assert "lr" in e.message, e.message
            eq(c.get_run(rid).data.params["lr"], "0.01", "param after refused change")
        check("run: params are strings; the same value again is fine; a changed value is INVALID_PARAMETER_VALUE",
              params)

        def many_params():
            with mlflow.start_run(experiment_id=exp_id) as run:
                mlflow.log_params({f"p{i:03d}": i for i in range(250)})
            eq(len(c.get_run(run.info.run_id).data.params), 250, "params")
        check("run: fluent log_params of 250 (the client splits them into batches of 100)", many_params)

        def tags():
            run = c.create_run(exp_id)
            rid = run.info.run_id
            c.set_tag(rid, "a", "1")
            c.set_tag(rid, "a", "2")
            c.set_tag(rid, "b", "x" * 5000)
            c.delete_tag(rid, "b")
            t = c.get_run(rid).data.tags
            eq(t.get("a"), "2", "overwritten tag")
            assert "b" not in t, "deleted tag is still there"
            refused(lambda: c.delete_tag(rid, "never-set"), "RESOURCE_DOES_NOT_EXIST", 404)
        check("run: set_tag overwrites; delete_tag removes; deleting a missing tag is RESOURCE_DOES_NOT_EXIST",
              tags)

        def delete_restore():
            run = c.create_run(exp_id, run_name="to-delete")
            rid = run.info.run_id
            c.delete_run(rid)
            eq(c.get_run(rid).info.lifecycle_stage, "deleted", "after delete_run")
            f = "attributes.run_name = 'to-delete'"
            eq([r.info.run_id for r in c.search_runs([exp_id], f)], [], "ACTIVE_ONLY search")
            eq([r.info.run_id for r in c.search_runs([exp_id], f, run_view_type=ViewType.DELETED_ONLY)], [rid],
               "DELETED_ONLY search")
            eq([r.info.run_id for r in c.search_runs([exp_id], f, run_view_type=ViewType.ALL)], [rid], "ALL")
            c.restore_run(rid)
            eq(c.get_run(rid).info.lifecycle_stage, "active", "after restore_run")
            eq([r.info.run_id for r in c.search_runs([exp_id], f)], [rid], "search after restore")
        check("run: delete_run and restore_run; search honours run_view_type", delete_restore)

        check("run: deleting an unknown run is RESOURCE_DOES_NOT_EXIST",
              lambda: refused(lambda: c.delete_run("e" * 32), "RESOURCE_DOES_NOT_EXIST", 404))
        check("run: logging to an unknown run is RESOURCE_DOES_NOT_EXIST",
              lambda: refused(lambda: c.log_metric("d" * 32, "m", 1.0), "RESOURCE_DOES_NOT_EXIST", 404))

        def deleted_run_refuses():
            run = c.create_run(exp_id)
            c.delete_run(run.info.run_id)
            refused(lambda: c.log_metric(run.info.run_id, "m", 1.0), "INVALID_PARAMETER_VALUE", 400)
            refused(lambda: c.set_tag(run.info.run_id, "t", "v"), "INVALID_PARAMETER_VALUE", 400)
        check("run: logging to a deleted run is INVALID_PARAMETER_VALUE", deleted_run_refuses)

        def log_inputs():
            from mlflow.entities import Dataset, DatasetInput, InputTag
            run = c.create_run(exp_id)
            ds = Dataset(name="train", digest="abc123", source_type="local", source='{"uri": "/tmp/x"}')
            c.log_inputs(run.info.run_id, [DatasetInput(ds, tags=[InputTag("mlflow.data.context", "training")])])
            eq(c.get_run(run.info.run_id).info.status, "RUNNING", "run after log_inputs")
        check("run: log_inputs is accepted", log_inputs)

    # ------------------------------------------------------------------ metrics and batches
    def metrics(self, exp_id):
        c = self.client

        def fluent_steps():
            with mlflow.start_run(experiment_id=exp_id) as run:
                for i in range(50):
                    mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
                mlflow.log_metrics({"a": 1.5, "b": -2.0}, step=7)
            rid = run.info.run_id
            hist = c.get_metric_history(rid, "loss")
            eq([(m.step, m.value) for m in hist], [(i, 1.0 / (i + 1)) for i in range(50)], "history")
            data = c.get_run(rid).data.metrics
            eq(data, {"loss": 1.0 / 50, "a": 1.5, "b": -2.0}, "latest values")
            eq([m.step for m in c.get_metric_history(rid, "a")], [7], "step of log_metrics")
            assert all(m.timestamp > 1_600_000_000_000 for m in hist), "timestamps are milliseconds"
        check("metrics: fluent log_metric per step and log_metrics; history and latest values", fluent_steps)

        def default_step():
            run = c.create_run(exp_id)
            c.log_metric(run.info.run_id, "nostep", 3.0, timestamp=1234567890123)
            h = c.get_metric_history(run.info.run_id, "nostep")
            eq([(m.step, m.value, m.timestamp) for m in h], [(0, 3.0, 1234567890123)], "point")
        check("metrics: a metric without a step has step 0 and keeps its timestamp", default_step)

        def same_step():
            run = c.create_run(exp_id)
            rid = run.info.run_id
            c.log_metric(rid, "m", 1.0, step=3, timestamp=1000)
            c.log_metric(rid, "m", 2.0, step=3, timestamp=2000)
            vals = sorted(m.value for m in c.get_metric_history(rid, "m"))
            eq(vals, [1.0, 2.0], "both values at step 3")
        check("metrics: two values at the same step are both kept", same_step)

        def non_finite():
            run = c.create_run(exp_id)
            rid = run.info.run_id
            c.log_batch(rid, metrics=[Metric("nan", float("nan"), 1000, 0), Metric("inf", float("inf"), 1000, 0),
                                      Metric("ninf", float("-inf"), 1000, 0)])
            c.log_metric(rid, "nan2", float("nan"), step=1)
            m = c.get_run(rid).data.metrics
            assert math.isnan(m["nan"]) and math.isnan(m["nan2"]), m
            # MLflow's SQL store keeps +-inf as +-sys.float_info.max; Quill keeps them: both are accepted.
            big = sys.float_info.max
            assert m["inf"] in (float("inf"), big), f"inf read back as {m['inf']!r}"
            assert m["ninf"] in (float("-inf"), -big), f"-inf read back as {m['ninf']!r}"
            assert math.isnan(c.get_metric_history(rid, "nan")[0].value), "history NaN"
            assert c.get_metric_history(rid, "inf")[0].value in (float("inf"), big), "history inf"
            assert c.get_metric_history(rid, "ninf")[0].value in (float("-inf"), -big), "history -inf"
        check("metrics: NaN round-trips; +inf and -inf are read back as infinities (or +-max float, as MLflow's "
              "SQL store keeps them)", non_finite)

        def extreme_steps():
            run = c.create_run(exp_id)
            rid = run.info.run_id
            c.log_batch(rid, metrics=[Metric("s", 1.0, 1000, INT64_MAX), Metric("s", 2.0, 1000, INT64_MIN),
                                      Metric("s", 3.0, 1000, 0), Metric("s", 4.0, 1000, -1)])
            got = sorted((m.step, m.value) for m in c.get_metric_history(rid, "s"))
            eq(got, [(INT64_MIN, 2.0), (-1, 4.0), (0, 3.0), (INT64_MAX, 1.0)], "steps")
        check("metrics: steps at the int64 extremes and negative steps round-trip exactly", extreme_steps)

        def timestamps():
            run = c.create_run(exp_id)
            rid = run.info.run_id
            year_9999 = 253402300799999
            c.log_batch(rid, metrics=[Metric("t", 1.0, 0, 0), Metric("t", 2.0, year_9999, 1),
                                      Metric("t", 3.0, 1, 2)])
            got = sorted((m.step, m.timestamp) for m in c.get_metric_history(rid, "t"))
            eq(got, [(0, 0), (1, year_9999), (2, 1)], "timestamps")
        check("metrics: timestamps 0, 1 and the last millisecond of year 9999 round-trip exactly", timestamps)

        def extreme_timestamps():
            run = c.create_run(exp_id)
            rid = run.info.run_id
            try:
                c.log_batch(rid, metrics=[Metric("x", 1.0, INT64_MAX, 0), Metric("x", 2.0, INT64_MIN, 1)])
            except MlflowException as e:
                eq(e.error_code, "INVALID_PARAMETER_VALUE", "refusal code")
                return
            got = sorted((m.step, m.timestamp) for m in c.get_metric_history(rid, "x"))
            eq(got, [(0, INT64_MAX), (1, INT64_MIN)], "timestamps")
        check("metrics: timestamps at the int64 extremes are stored exactly or refused as INVALID_PARAMETER_VALUE "
              "(never a server error)", extreme_timestamps)

        def history_missing():
            run = c.create_run(exp_id)
            eq(list(c.get_metric_history(run.info.run_id, "never-logged")), [], "history")
            eq(list(c.get_metric_history("c" * 32, "loss")), [], "history of an unknown run")
        check("metrics: history of a key never logged, or of an unknown run, is empty (MLflow does not check the run)",
              history_missing)

        def batch_limits():
            run = c.create_run(exp_id)
            rid = run.info.run_id
            now = int(time.time() * 1000)
            c.log_batch(rid, metrics=[Metric(f"m{i:04d}", float(i), now, 0) for i in range(1000)])
            c.log_batch(rid, params=[Param(f"p{i:03d}", str(i)) for i in range(100)],
                        tags=[RunTag(f"t{i:03d}", str(i)) for i in range(100)])
            d = c.get_run(rid).data
            eq(len(d.metrics), 1000, "metrics")
            eq(d.metrics["m0999"], 999.0, "a metric")
            eq(len(d.params), 100, "params")
            eq(sum(1 for k in d.tags if re.fullmatch(r"t\d{3}", k)), 100, "tags")
        check("log_batch: 1,000 metrics, then 100 params and 100 tags, in one request each", batch_limits)

        def batch_past_limits():
            # The client splits over-large batches itself; its REST store sends one request as it would.
            store = c._tracking_client.store
            run = c.create_run(exp_id)
            rid = run.info.run_id
            now = int(time.time() * 1000)
            refused(lambda: store.log_batch(rid, [Metric(f"m{i}", 1.0, now, 0) for i in range(1001)], [], []),
                    "INVALID_PARAMETER_VALUE", 400)
            refused(lambda: store.log_batch(rid, [], [Param(f"p{i}", "v") for i in range(101)], []),
                    "INVALID_PARAMETER_VALUE", 400)
            refused(lambda: store.log_batch(rid, [], [], [RunTag(f"t{i}", "v") for i in range(101)]),
                    "INVALID_PARAMETER_VALUE", 400)
            refused(lambda: store.log_batch(rid, [Metric(f"m{i}", 1.0, now, 0) for i in range(1000)],
                                            [Param("p", "v")], []), "INVALID_PARAMETER_VALUE", 400)
            d = c.get_run(rid).data
            eq((d.metrics, d.params), ({}, {}), "nothing of the refused batches")
        check("log_batch: 1,001 metrics, 101 params, 101 tags, 1,001 entities in one request are "
              "INVALID_PARAMETER_VALUE and store nothing", batch_past_limits)

        def batch_split_by_client():
            run = c.create_run(exp_id)
            now = int(time.time() * 1000)
            c.log_batch(run.info.run_id, metrics=[Metric("big", float(i), now, i) for i in range(2500)])
            eq(len(c.get_metric_history(run.info.run_id, "big")), 2500, "points")
        check("log_batch: 2,500 points of one metric through MlflowClient.log_batch (split by the client)",
              batch_split_by_client)

        def batch_param_conflict():
            run = c.create_run(exp_id)
            rid = run.info.run_id
            c.log_batch(rid, params=[Param("x", "1")])
            refused(lambda: c.log_batch(rid, params=[Param("x", "2")]), "INVALID_PARAMETER_VALUE", 400)
            c.log_batch(rid, params=[Param("x", "1")])
        check("log_batch: a param changed in a batch is INVALID_PARAMETER_VALUE; the same value is fine",
              batch_param_conflict)

        def long_history():
            run = c.create_run(exp_id)
            rid = run.info.run_id
            n = 30_000
            base = 1_700_000_000_000
            for start in range(0, n, 1000):
                c.log_batch(rid, metrics=[Metric("long", float(i) * 0.5, base + i, i)
                                          for i in range(start, start + 1000)])
            hist = c.get_metric_history(rid, "long")
            eq(len(hist), n, "points")
            eq(sorted(m.step for m in hist), list(range(n)), "steps")
            eq({m.step: m.value for m in hist}[29_999], 29_999 * 0.5, "last value")
            eq({m.step: m.timestamp for m in hist}[12_345], base + 12_345, "a timestamp")
        check("metrics: get_metric_history of 30,000 points (two pages of at most 25,000) is complete",
              long_history)

    # ------------------------------------------------------------------ search_runs
    def search(self):
        c = self.client
        exp = c.create_experiment(unique("compat-search-runs"))
        exp2 = c.create_experiment(unique("compat-search-runs-2"))
        specs = [
            # name, acc, loss, opt, team, status
            ("r0", 0.10, 0.9, "adam", "red", "FINISHED"),
            ("r1", 0.50, 0.5, "sgd", "blue", "FINISHED"),
            ("r2", 0.90, None, "adam", "red", "FAILED"),
            ("r3", None, 0.2, "Adam", "green", "RUNNING"),
            ("r4", 0.70, 0.3, "rmsprop", None, "FINISHED"),
            ("r5", 0.30, 0.7, None, "blue", "KILLED"),
        ]
        ids = {}
        t0 = int(time.time() * 1000) - 100_000
        for i, (name, acc, loss, opt, team, status) in enumerate(specs):
            run = c.create_run(exp, start_time=t0 + i * 1000, run_name=name)
            rid = run.info.run_id
            ids[name] = rid
            metrics = []
            if acc is not None:
                metrics.append(Metric("acc", acc, t0, 0))
            if loss is not None:
                metrics.append(Metric("loss", loss, t0, 0))
            params = [Param("opt", opt)] if opt else []
            params.append(Param("my key", f"v{i}"))
            tags = [RunTag("team", team)] if team else []
            c.log_batch(rid, metrics=metrics, params=params, tags=tags)
            if status != "RUNNING":
                c.set_terminated(rid, status=status, end_time=t0 + i * 1000 + 500)
        other = c.create_run(exp2, start_time=t0 + 10_000, run_name="o0")
        c.log_batch(other.info.run_id, metrics=[Metric("acc", 0.95, t0, 0)], params=[Param("opt", "adam")])
        name_of = {v: k for k, v in ids.items()}
        name_of[other.info.run_id] = "o0"

        def names(filter_string="", order_by=None, exps=(exp,), **kw):
            runs = c.search_runs(list(exps), filter_string, order_by=order_by, **kw)
            return [name_of[r.info.run_id] for r in runs]

        def s(label, filter_string, expected, order_by=("attributes.run_name ASC",), exps=(exp,)):
            check(f"search_runs: {label}",
                  lambda: eq(names(filter_string, list(order_by) or None, exps), expected, filter_string or "order"))

        s("default order is newest start first", "", ["r5", "r4", "r3", "r2", "r1", "r0"], order_by=[])
        s("metric >", "metrics.acc > 0.4", ["r1", "r2", "r4"])
        s("metric >= and <=", "metrics.acc >= 0.3 and metrics.acc <= 0.7", ["r1", "r4", "r5"])
        s("metric = and !=", "metrics.loss != 0.5 and metrics.acc = 0.1", ["r0"])
        s("metric < excludes runs without it", "metrics.loss < 0.6", ["r1", "r3", "r4"])
        s("param = is case-sensitive", "params.opt = 'adam'", ["r0", "r2"])
        s("param !=", "params.opt != 'adam'", ["r1", "r3", "r4"])
        s("param LIKE is case-sensitive", "params.opt LIKE 'a%'", ["r0", "r2"])
        s("param ILIKE", "params.opt ILIKE 'adam'", ["r0", "r2", "r3"])
        s("param with a backquoted key", "params.`my key` = 'v3'", ["r3"])
        s("tag =", "tags.team = 'blue'", ["r1", "r5"])
        s("tag LIKE", "tags.team LIKE '%e%'", ["r0", "r1", "r2", "r3", "r5"])
        s("tag ILIKE", "tags.team ILIKE 'R%'", ["r0", "r2"])
        s("tag != excludes runs without it", "tags.team != 'red'", ["r1", "r3", "r5"])
        s("attribute status", "attributes.status = 'FINISHED'", ["r0", "r1", "r4"])
        s("attribute status !=", "attributes.status != 'FINISHED'", ["r2", "r3", "r5"])
        s("attribute run_name LIKE", "attributes.run_name LIKE 'r%' and attributes.run_name != 'r0'",
          ["r1", "r2", "r3", "r4", "r5"])
        s("run_name without attributes.", "run_name = 'r2'", ["r2"])
        s("attribute start_time", f"attributes.start_time >= {t0 + 3000}", ["r3", "r4", "r5"])
        s("attribute end_time", f"attributes.end_time < {t0 + 2000}", ["r0", "r1"])
        s("run_id IN", f"attributes.run_id IN ('{ids['r1']}', '{ids['r4']}')", ["r1", "r4"])
        s("run_id NOT IN", f"attributes.run_id NOT IN ('{ids['r1']}', '{ids['r4']}')", ["r0", "r2", "r3", "r5"])
        s("several conditions with AND", "metrics.acc > 0.2 and params.opt = 'adam' and tags.team = 'red'",
          ["r2"])
        s("two experiments", "params.opt = 'adam'", ["o0", "r0", "r2"], exps=(exp, exp2))
        s("order by metric DESC, runs without it last", "", ["r2", "r4", "r1", "r5", "r0", "r3"],
          order_by=["metrics.acc DESC"])
        s("order by metric ASC, runs without it last", "", ["r0", "r5", "r1", "r4", "r2", "r3"],
          order_by=["metrics.acc ASC"])
        s("order by param then metric", "", ["r3", "r2", "r0", "r4", "r1", "r5"],
          order_by=["params.opt ASC", "metrics.acc DESC"])
        s("order by tag DESC then start_time", "", ["r0", "r2", "r3", "r1", "r5", "r4"],
          order_by=["tags.team DESC", "attributes.start_time ASC"])
        s("order by attribute start_time ASC", "", ["r0", "r1", "r2", "r3", "r4", "r5"],
          order_by=["attributes.start_time ASC"])
        s("order by run_name DESC", "", ["r5", "r4", "r3", "r2", "r1", "r0"], order_by=["attributes.run_name DESC"])

        def pages():
            seen, token, sizes = [], None, []
            while True:
                page = c.search_runs([exp], "", max_results=4, page_token=token,
                                     order_by=["metrics.acc DESC"])
                sizes.append(len(page))
                seen += [name_of[r.info.run_id] for r in page]
                token = page.token
                if not token:
                    break
            eq(seen, ["r2", "r4", "r1", "r5", "r0", "r3"], "runs over pages")
            eq(sizes[0], 4, "first page size")
        check("search_runs: max_results and page_token walk every run once, in order", pages)

        def fluent():
            runs = mlflow.search_runs(experiment_ids=[exp], filter_string="metrics.acc > 0.6",
                                      order_by=["metrics.acc DESC"], output_format="list")
            eq([name_of[r.info.run_id] for r in runs], ["r2", "r4"], "fluent search_runs")
            by_name = mlflow.search_runs(experiment_names=[c.get_experiment(exp).name],
                                         filter_string="attributes.run_name = 'r1'", output_format="list")
            eq([name_of[r.info.run_id] for r in by_name], ["r1"], "by experiment name")
        check("search_runs: fluent mlflow.search_runs (list output, by id and by experiment name)", fluent)

        def data():
            run = c.search_runs([exp], "attributes.run_name = 'r1'")[0]
            eq(run.data.metrics, {"acc": 0.5, "loss": 0.5}, "metrics")
            eq(run.data.params, {"opt": "sgd", "my key": "v1"}, "params")
            eq(run.data.tags.get("team"), "blue", "tag")
            eq(run.info.status, "FINISHED", "status")
        check("search_runs: results carry metrics, params, tags and info", data)

        def bad_filter():
            refused(lambda: c.search_runs([exp], "metrics.acc >>> 1"), "INVALID_PARAMETER_VALUE", 400)
            refused(lambda: c.search_runs([exp], "", order_by=["nonsense.x ASC"]), "INVALID_PARAMETER_VALUE", 400)
        check("search_runs: a malformed filter or order_by is INVALID_PARAMETER_VALUE", bad_filter)

    # ------------------------------------------------------------------ artifacts
    def artifacts(self, exp_id):
        c = self.client
        src = Path(tempfile.mkdtemp())
        (src / "models" / "inner").mkdir(parents=True)
        (src / "models" / "weights.bin").write_bytes(os.urandom(70_000))
        (src / "models" / "inner" / "deep.txt").write_text("deep\n")
        (src / "empty.txt").write_bytes(b"")
        odd = "odd name (1) + 50% & ünï=x;y@z.txt"
        (src / odd).write_text("odd\n")
        (src / "config.json").write_text('{"a": 1}')
        box = {}

        def log_and_list():
            with mlflow.start_run(experiment_id=exp_id) as run:
                mlflow.log_artifacts(str(src))
                mlflow.log_artifact(str(src / "config.json"), artifact_path="copies/json")
                mlflow.log_text("hello text", "notes/hello.txt")
                mlflow.log_dict({"k": [1, 2]}, "notes/d.json")
            box["id"] = rid = run.info.run_id
            root = {(f.path, f.is_dir) for f in c.list_artifacts(rid)}
            eq(root, {("models", True), ("empty.txt", False), (odd, False), ("config.json", False),
                      ("copies", True), ("notes", True)}, "root listing")
            models = {(f.path, f.is_dir, f.file_size) for f in c.list_artifacts(rid, "models")}
            eq(models, {("models/inner", True, None), ("models/weights.bin", False, 70_000)}, "models listing")
            eq([(f.path, f.file_size) for f in c.list_artifacts(rid, "models/inner")],
               [("models/inner/deep.txt", 5)], "nested listing")
            sizes = {f.path: f.file_size for f in c.list_artifacts(rid)}
            # MLflow's server leaves the size of an empty file out (protobuf drops a zero); 0 is as good.
            assert sizes["empty.txt"] in (0, None), f"empty file size {sizes['empty.txt']!r}"
        check("artifacts: log_artifacts of a tree, log_artifact into a folder, log_text, log_dict; listings",
              log_and_list)

        def listing_edges():
            rid = box["id"]
            eq(list(c.list_artifacts(rid, "config.json")), [], "listing a file")
            eq(list(c.list_artifacts(rid, "no/such/folder")), [], "listing a missing folder")
        check("artifacts: listing a file or a missing folder is empty", listing_edges)

        def download():
            rid = box["id"]
            out = Path(c.download_artifacts(rid, "", tempfile.mkdtemp()))
            for rel in ("models/weights.bin", "models/inner/deep.txt", "empty.txt", odd, "config.json"):
                eq((out / rel).read_bytes(), (src / rel).read_bytes(), rel)
            eq((out / "copies" / "json" / "config.json").read_text(), '{"a": 1}', "copy")
            one = Path(c.download_artifacts(rid, odd, tempfile.mkdtemp()))
            eq(one.read_text(), "odd\n", "single odd-named file")
            eq(mlflow.artifacts.load_text(f"runs:/{rid}/notes/hello.txt"), "hello text", "load_text")
            eq(mlflow.artifacts.load_dict(f"runs:/{rid}/notes/d.json"), {"k": [1, 2]}, "load_dict")
            folder = Path(mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="models",
                                                              dst_path=tempfile.mkdtemp()))
            eq((folder / "inner" / "deep.txt").read_text(), "deep\n", "folder download")
        check("artifacts: download the whole tree, one odd-named file, a folder; load_text, load_dict", download)

        def overwrite():
            rid = c.create_run(exp_id).info.run_id
            p = Path(tempfile.mkdtemp()) / "same.txt"
            p.write_text("one")
            c.log_artifact(rid, str(p))
            p.write_text("two, longer")
            c.log_artifact(rid, str(p))
            eq(Path(c.download_artifacts(rid, "same.txt", tempfile.mkdtemp())).read_text(), "two, longer", "bytes")
            eq([(f.path, f.file_size) for f in c.list_artifacts(rid)], [("same.txt", 11)], "listing")
        check("artifacts: logging a file again replaces it", overwrite)

        def missing_download():
            rid = c.create_run(exp_id).info.run_id
            try:
                c.download_artifacts(rid, "nope.txt", tempfile.mkdtemp())
            except Exception as e:  # noqa: BLE001 (MlflowException or an HTTP error, depending on the version)
                assert "nope.txt" in str(e) or "404" in str(e), str(e)
                return
            raise AssertionError("downloading a missing artifact succeeded")
        check("artifacts: downloading a missing file fails", missing_download)

    # ------------------------------------------------------------------ misc
    def misc(self):
        c = self.client

        def unicode_names():
            name = unique("compat-ünïcödé experiment")
            exp_id = c.create_experiment(name)
            eq(c.get_experiment_by_name(name).experiment_id, exp_id, "by name")
            run = c.create_run(exp_id, run_name="rün ✓")
            c.set_tag(run.info.run_id, "clé", "välue ✓")
            got = c.get_run(run.info.run_id)
            eq(got.info.run_name, "rün ✓", "run name")
            eq(got.data.tags.get("clé"), "välue ✓", "tag")
        check("misc: unicode experiment names, run names, tag keys and values", unicode_names)

        def logged_models():
            exp_id = c.create_experiment(unique("compat-models"))
            eq(list(c.search_logged_models(experiment_ids=[exp_id])), [], "logged models")
        check("misc: search_logged_models of a new experiment is empty", logged_models)

    def run_all(self):
        box = {}
        guarded("setup of the experiment checks", lambda: box.update(id=self.experiments()))
        exp_id = box.get("id")
        if exp_id is None:
            guarded("setup: an experiment for the run checks",
                    lambda: box.update(id=self.client.create_experiment(unique("compat-fallback"))))
            exp_id = box.get("id")
        if exp_id is None:
            return
        # A section whose setup fails (outside its checks) counts as one failure; the next section still runs.
        for name, section in (("runs", lambda: self.runs(exp_id)), ("metrics", lambda: self.metrics(exp_id)),
                              ("search_runs", self.search), ("artifacts", lambda: self.artifacts(exp_id)),
                              ("misc", self.misc)):
            guarded(f"setup of the {name} checks", section)


def guarded(name, fn):
    """Runs a section (whatever --only says): an exception outside its checks is one failure."""
    global failed
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        failed += 1
        print(f"FAIL {name} :: {type(e).__name__}: {' '.join(str(e).split())[:400]}", flush=True)


def main():
    global only, signed_in_user
    args = sys.argv[1:]
    if "--signed-in-user" in args:
        i = args.index("--signed-in-user")
        signed_in_user = args[i + 1]
        del args[i:i + 2]
    if "--only" in args:
        i = args.index("--only")
        only = args[i + 1]
        del args[i:i + 2]
    if len(args) != 1:
        print("usage: compat_test.py http://127.0.0.1:PORT [--only SUBSTRING] [--signed-in-user NAME]",
              file=sys.stderr)
        sys.exit(2)
    base = args[0].rstrip("/")
    if urlparse(base).hostname not in ("127.0.0.1", "localhost", "::1"):
        print("refusing: only loopback servers may be tested", file=sys.stderr)
        sys.exit(2)
    started = time.monotonic()
    Suite(base).run_all()
    print(f"{passed} passed, {failed} failed ({time.monotonic() - started:.1f} s, mlflow {mlflow.__version__})",
          flush=True)
    sys.exit(0 if failed == 0 and passed > 0 else 1)


if __name__ == "__main__":
    main()
