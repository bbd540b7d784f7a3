#!/usr/bin/env python3
"""Records real HTTP exchanges between MLflow's own Python client and MLflow's own tracking server.

Usage (from the repository root, with the full `mlflow` 3.17.2 in the Python that runs it, e.g. the
virtualenv scripts/test.sh makes):

    .build/venv-mlflow-full/bin/python Tests/QuillAPITests/Fixtures/mlflow/record.py

Starts `mlflow server` (SQLite store, proxied artifacts) on a free 127.0.0.1 port in a temporary directory,
waits until it answers, puts a recording proxy in front of it, drives it with `MlflowClient` (and, for the
errors and query forms the client does not send, plain HTTP requests), and writes one JSON file per exchange
next to this script: {"name", "method", "path", "query", "request", "status", "content_type", "response"},
request and response being the parsed JSON bodies (null when there was none; {"_raw": text} when the body
is not JSON). Volatile values (ids, times, temporary paths) stay as MLflow wrote them: the Swift test
(Tests/QuillAPITests/MLflowWireFixtureTests.swift) decodes each body into Quill's MLflow wire type and
compares what it writes back with what MLflow wrote, member for member.
"""
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"
os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
for _v in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID",
           "MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
    os.environ.pop(_v, None)

import requests  # noqa: E402  (a dependency of mlflow)
from mlflow.entities import Metric, Param, RunTag, ViewType  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

HERE = Path(__file__).resolve().parent
exchanges = []
current_name = ["unnamed"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_body(body):
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return {"_raw": body.decode("utf-8", "replace")}


def make_proxy(upstream):
    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                out = b""
                while True:
                    size = int(self.rfile.readline().strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _forward(self):
            body = self._body()
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "content-length", "transfer-encoding")}
            r = requests.request(self.command, upstream + self.path, data=body, headers=headers, timeout=120)
            split = urlsplit(self.path)
            content_type = r.headers.get("content-type") or ""
            response = parse_body(r.content) if "json" in content_type or not r.content else \
                {"_raw": r.content.decode("utf-8", "replace")}
            exchanges.append({
                "name": current_name[0],
                "method": self.command,
                "path": split.path,
                "query": split.query,
                "request": parse_body(body) if "/mlflow-artifacts/artifacts/" not in split.path or self.command
                != "PUT" else {"_raw": body.decode("utf-8", "replace")},
                "status": r.status_code,
                "content_type": content_type,
                "response": response,
            })
            self.send_response(r.status_code)
            for k, v in r.headers.items():
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(r.content)))
            self.end_headers()
            self.wfile.write(r.content)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

    return Proxy


def wait_up(url, proc):
    """MLflow's server imports and migrates for many seconds after it starts: wait for /health."""
    for _ in range(1800):
        if proc.poll() is not None:
            raise RuntimeError("mlflow server exited; see its log")
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError("mlflow server did not come up in 3 minutes")


def named(name):
    current_name[0] = name


def quietly(fn):
    try:
        fn()
    except MlflowException:
        pass


def main():
    tmp = Path(tempfile.mkdtemp(prefix="mlflow-record-"))
    port, proxy_port = free_port(), free_port()
    exe = str(Path(sys.executable).parent / "mlflow")
    server = subprocess.Popen(
        [exe, "server", "--backend-store-uri", f"sqlite:///{tmp}/m.db", "--artifacts-destination", str(tmp / "art"),
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        cwd=tmp, stdout=open(tmp / "server.log", "wb"), stderr=subprocess.STDOUT)
    try:
        upstream = f"http://127.0.0.1:{port}"
        wait_up(upstream, server)
        proxy = http.server.ThreadingHTTPServer(("127.0.0.1", proxy_port), make_proxy(upstream))
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{proxy_port}"
        api = base + "/api/2.0/mlflow"
        c = MlflowClient(base)

        named("server_info"); requests.get(base + "/api/3.0/mlflow/server-info")
        # experiments
        named("create_experiment")
        exp = c.create_experiment("recorded", artifact_location=None, tags={"team": "core", "stage": "dev"})
        named("create_experiment_location"); c.create_experiment("recorded-s3", artifact_location="s3://bucket/p")
        named("create_experiment_taken"); quietly(lambda: c.create_experiment("recorded"))
        named("get_experiment"); c.get_experiment(exp)
        named("get_experiment_default"); c.get_experiment("0")
        named("get_experiment_missing"); quietly(lambda: c.get_experiment("987654321"))
        named("get_experiment_by_name"); c.get_experiment_by_name("recorded")
        named("get_experiment_by_name_missing"); c.get_experiment_by_name("no-such-experiment")
        named("set_experiment_tag"); c.set_experiment_tag(exp, "stage", "prod")
        named("delete_experiment_tag"); c.delete_experiment_tag(exp, "team")
        named("update_experiment"); c.rename_experiment(exp, "recorded-renamed")
        named("setup")
        for i in range(3):
            c.create_experiment(f"paged-{i}")
        named("search_experiments")
        first = c.search_experiments(max_results=2, filter_string="name LIKE 'paged-%'", order_by=["name ASC"])
        named("search_experiments_page_2")
        c.search_experiments(max_results=2, filter_string="name LIKE 'paged-%'", order_by=["name ASC"],
                             page_token=first.token)
        named("search_experiments_get")
        requests.get(api + "/experiments/search", params={"max_results": 1, "filter": "name = 'recorded-renamed'"})
        named("search_experiments_bad_filter")
        quietly(lambda: c.search_experiments(filter_string="name >>> 'x'"))
        named("setup"); victim = c.create_experiment("to-delete")
        named("delete_experiment"); c.delete_experiment(victim)
        named("get_experiment_deleted"); c.get_experiment(victim)
        named("search_experiments_deleted"); c.search_experiments(view_type=ViewType.DELETED_ONLY)
        named("restore_experiment"); c.restore_experiment(victim)
        named("delete_experiment_missing"); quietly(lambda: c.delete_experiment("987654321"))

        # runs
        named("create_run")
        run = c.create_run(exp, start_time=1_700_000_000_000, tags={"mlflow.user": "ada", "team": "a"},
                           run_name="recorded-run")
        rid = run.info.run_id
        named("create_run_unnamed"); unnamed = c.create_run(exp)
        named("create_run_missing_experiment"); quietly(lambda: c.create_run("987654321"))
        named("log_parameter"); c.log_param(rid, "lr", 0.01)
        named("log_parameter_changed"); quietly(lambda: c.log_param(rid, "lr", 0.02))
        named("log_metric"); c.log_metric(rid, "loss", 0.5, timestamp=1_700_000_000_123, step=3)
        named("log_metric_nan"); c.log_metric(rid, "weird", float("nan"), timestamp=1_700_000_000_124, step=4)
        named("log_metric_missing_run"); quietly(lambda: c.log_metric("f" * 32, "loss", 1.0))
        named("log_batch")
        c.log_batch(rid, metrics=[Metric("loss", 0.25, 1_700_000_000_200, 5), Metric("acc", 0.9, 1_700_000_000_200, 5),
                                  Metric("inf", float("inf"), 1_700_000_000_200, 0)],
                    params=[Param("opt", "adam"), Param("epochs", "10")], tags=[RunTag("stage", "train")])
        store = c._tracking_client.store  # one request past the limit, as the client's REST store sends it
        named("log_batch_too_many_metrics")
        quietly(lambda: store.log_batch(rid, [Metric(f"m{i}", 1.0, 1_700_000_000_000, 0) for i in range(1001)], [], []))
        named("log_batch_too_many_params")
        quietly(lambda: store.log_batch(rid, [], [Param(f"p{i}", "v") for i in range(101)], []))
        named("set_tag"); c.set_tag(rid, "note", "hello")
        named("delete_tag"); c.delete_tag(rid, "note")
        named("delete_tag_missing"); quietly(lambda: c.delete_tag(rid, "never-set"))
        named("update_run"); c.update_run(unnamed.info.run_id, status="KILLED", name="renamed")
        named("set_terminated"); c.set_terminated(rid, status="FINISHED", end_time=1_700_000_100_000)
        named("get_run"); c.get_run(rid)
        named("get_run_missing"); quietly(lambda: c.get_run("e" * 32))
        named("get_run_query_form"); requests.get(api + "/runs/get", params={"run_id": rid})
        named("search_runs")
        page = c.search_runs([exp], "metrics.acc > 0.5 and params.opt = 'adam'", order_by=["metrics.acc DESC"],
                             max_results=1)
        named("setup")
        for i in range(3):
            c.create_run(exp, run_name=f"filler-{i}")
        named("search_runs_paged"); page = c.search_runs([exp], "", max_results=2)
        named("search_runs_page_2"); c.search_runs([exp], "", max_results=2, page_token=page.token)
        named("search_runs_empty"); c.search_runs([exp], "attributes.run_name = 'nobody'")
        named("search_runs_bad_filter"); quietly(lambda: c.search_runs([exp], "metrics.acc >>> 1"))
        named("delete_run"); c.delete_run(unnamed.info.run_id)
        named("get_run_deleted"); c.get_run(unnamed.info.run_id)
        named("restore_run"); c.restore_run(unnamed.info.run_id)
        named("log_inputs")
        from mlflow.entities import Dataset, DatasetInput, InputTag
        c.log_inputs(rid, [DatasetInput(Dataset(name="train", digest="abc123", source_type="local",
                                                source='{"uri": "/tmp/x"}'),
                                        tags=[InputTag("mlflow.data.context", "training")])])

        # metric history
        named("setup")
        c.log_batch(rid, metrics=[Metric("hist", float(i) / 4, 1_700_000_001_000 + i, i) for i in range(5)])
        named("get_metric_history"); c.get_metric_history(rid, "hist")
        named("get_metric_history_paged")
        requests.get(api + "/metrics/get-history", params={"run_id": rid, "metric_key": "hist", "max_results": 2})
        named("get_metric_history_empty"); c.get_metric_history(rid, "never-logged")
        named("get_metric_history_bulk_interval")
        requests.get(api + "/metrics/get-history-bulk-interval",
                     params={"run_ids": rid, "metric_key": "hist", "max_results": 3})

        # artifacts
        named("setup")
        src = tmp / "src"
        (src / "models").mkdir(parents=True)
        (src / "models" / "weights.bin").write_bytes(b"\x00\x01\x02weights")
        (src / "empty.txt").write_bytes(b"")
        (src / "notes.txt").write_text("notes\n")
        named("log_artifacts"); c.log_artifacts(rid, str(src))
        named("list_artifacts_root"); c.list_artifacts(rid)
        named("list_artifacts_folder"); c.list_artifacts(rid, "models")
        named("list_artifacts_file"); c.list_artifacts(rid, "notes.txt")
        named("list_artifacts_missing"); c.list_artifacts(rid, "no/such/folder")
        named("artifacts_list_tracking"); requests.get(api + "/artifacts/list", params={"run_id": rid})
        named("artifacts_list_tracking_folder")
        requests.get(api + "/artifacts/list", params={"run_id": rid, "path": "models"})
        named("download_artifact"); c.download_artifacts(rid, "notes.txt", str(tmp / "down"))
        named("search_logged_models"); c.search_logged_models(experiment_ids=[exp])

        # routes and methods
        named("endpoint_not_found"); requests.get(api + "/no/such/endpoint")
        named("ajax_get_experiment"); requests.get(base + "/ajax-api/2.0/mlflow/experiments/get",
                                                   params={"experiment_id": exp})
        proxy.shutdown()
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    for old in HERE.glob("*.json"):
        old.unlink()
    # One file per exchange: `<step>.json` when the step sent one request, else `<step>__<endpoint>.json`
    # (`_2`, … when it sent one endpoint again). The setup steps are not written.
    steps = {}
    for ex in exchanges:
        steps.setdefault(ex["name"], []).append(ex)
    written = 0
    for step, group in steps.items():
        if step == "setup":
            continue
        seen = {}
        for ex in group:
            if len(group) == 1:
                filename = step
            else:
                if "/mlflow-artifacts/artifacts/" in ex["path"]:
                    slug = "artifact_file"  # the bytes of one file (PUT uploads, GET downloads)
                elif "/mlflow-artifacts/artifacts" in ex["path"]:
                    slug = "artifact_list"
                else:
                    slug = ex["path"].split("/mlflow/")[-1].replace("/", "_")
                key = f"{step}__{ex['method'].lower()}_{slug}".replace("-", "_")
                seen[key] = seen.get(key, 0) + 1
                filename = key + (f"_{seen[key]}" if seen[key] > 1 else "")
            (HERE / (filename + ".json")).write_text(json.dumps(ex, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
            written += 1
    print(f"wrote {written} exchanges to {HERE}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
