#!/usr/bin/env python3
"""Captures real HTTP exchanges between whirr 0.5.3's own client/worker and its own server.

Usage (from the repository root, with whirr[server]==0.5.3 in the Python that runs it):

    .build/venv-whirr/bin/python Tests/QuillAPITests/Fixtures/whirr/capture.py

Starts `whirr server` on a free 127.0.0.1 port in a temporary directory, puts a recording proxy in front
of it, drives it with `whirr.client.WhirrClient` and with a real `whirr worker --server`, and writes one
JSON file per exchange next to this script: {"name", "method", "path", "query", "request", "status",
"response"} where request/response are the parsed JSON bodies (null when there was none). Volatile
values (timestamps, temp paths, host names) stay as whirr wrote them; the Swift tests compare shapes and
round trips, not those values.
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

import httpx
from whirr.client import WhirrClient, WhirrClientError

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

        def _forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            r = httpx.request(self.command, upstream + self.path, content=body, headers=headers, timeout=60)
            split = urlsplit(self.path)
            try:
                response = r.json()
            except ValueError:
                response = {"_raw": r.text}
            exchanges.append({
                "name": current_name[0],
                "method": self.command,
                "path": split.path,
                "query": split.query,
                "request": parse_body(body),
                "status": r.status_code,
                "content_type": r.headers.get("content-type"),
                "response": response,
            })
            self.send_response(r.status_code)
            for k, v in r.headers.items():
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(r.content)))
            self.end_headers()
            self.wfile.write(r.content)

        do_GET = do_POST = do_PUT = do_DELETE = _forward

    return Proxy


def wait_up(url, proc):
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError("whirr server exited")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("whirr server did not come up")


def named(name):
    current_name[0] = name


def main():
    tmp = Path(tempfile.mkdtemp(prefix="whirr-capture-"))
    project = tmp / "proj"
    data_dir = project / ".whirr"
    data_dir.mkdir(parents=True)
    exe = str(Path(sys.executable).parent / "whirr")
    port, proxy_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHIRR_")}
    server = subprocess.Popen([exe, "server", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)],
                              cwd=project, env=env, stdout=open(tmp / "server.log", "wb"), stderr=subprocess.STDOUT)
    worker = None
    try:
        upstream = f"http://127.0.0.1:{port}"
        wait_up(upstream, server)
        proxy = http.server.ThreadingHTTPServer(("127.0.0.1", proxy_port), make_proxy(upstream))
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{proxy_port}"
        c = WhirrClient(base)

        named("health"); httpx.get(base + "/health")
        named("status_empty"); c.get_status()
        named("submit_job_full")
        full = c.submit_job(["python3", "-c", "pass"], str(project), name="full", config={"lr": 0.01, "layers": [8, 4], "opt": {"name": "adam"}, "flag": True, "none": None}, tags=["a", "b"])
        named("submit_job_minimal"); minimal = c.submit_job(["true"], str(project))
        named("get_job_queued"); c.get_job(full.job_id)
        named("get_job_missing"); c.get_job(987654321)
        named("list_jobs_active"); c.get_active_jobs()
        named("list_jobs_all"); httpx.get(base + "/api/v1/jobs")
        named("list_jobs_queued"); httpx.get(base + "/api/v1/jobs", params={"status": "queued", "limit": 1})
        named("list_jobs_bad_limit"); httpx.get(base + "/api/v1/jobs", params={"limit": 0})
        named("register_worker"); c.register_worker("cap-w1", "cap-host")
        named("register_worker_gpus"); c.register_worker("cap-w2", "cap-host", gpu_ids=[0, 1])
        named("list_workers"); c.get_workers()
        named("claim_job"); j = c.claim_job("cap-w1", lease_seconds=60)
        named("claim_job_bad_lease"); httpx.post(base + "/api/v1/jobs/claim", json={"worker_id": "cap-w1", "lease_seconds": 5})
        named("claim_job_missing_field"); httpx.post(base + "/api/v1/jobs/claim", json={})
        named("claim_job_not_json"); httpx.post(base + "/api/v1/jobs/claim", content=b"{", headers={"content-type": "application/json"})
        named("heartbeat"); c.renew_lease(j.id, "cap-w1")
        named("heartbeat_wrong_worker")
        try:
            c.renew_lease(j.id, "someone-else")
        except WhirrClientError:
            pass
        named("complete_job"); c.complete_job(j.id, "cap-w1", exit_code=0, run_id=f"job-{j.id}")
        named("complete_job_wrong_worker")
        try:
            c.complete_job(j.id, "someone-else", exit_code=0)
        except WhirrClientError:
            pass
        named("complete_job_missing")
        try:
            c.complete_job(987654321, "cap-w1", exit_code=0)
        except WhirrClientError:
            pass
        named("claim_job_second"); j2 = c.claim_job("cap-w1")
        named("cancel_job_running"); c.cancel_job(j2.id)
        named("heartbeat_cancel_requested"); c.renew_lease(j2.id, "cap-w1")
        named("fail_job"); c.fail_job(j2.id, "cap-w1", "Job cancelled")
        named("claim_job_empty"); c.claim_job("cap-w1")
        named("submit_job_to_cancel"); q = c.submit_job(["true"], str(project))
        named("cancel_job_queued"); c.cancel_job(q.job_id)
        named("cancel_job_missing")
        try:
            c.cancel_job(987654321)
        except WhirrClientError:
            pass
        named("unregister_worker"); c.unregister_worker("cap-w2")
        named("status"); c.get_status()

        # A real worker runs a job that uses whirr.init: the run lands in the server's database because the
        # job's working directory is the project whose .whirr is the server's data directory.
        script = (
            "import whirr\n"
            "run = whirr.init(name='trained', config={'lr': 0.1}, tags=['real'], system_metrics=False, capture_pip=False, capture_git=False)\n"
            "for s in range(3):\n"
            "    run.log({'loss': 1.0 / (s + 1)}, step=s)\n"
            "run.log({'note': 'no step'})\n"
            "open('model.txt', 'w').write('weights')\n"
            "run.save_artifact('model.txt')\n"
            "run.summary({'loss': 0.33})\n"
            "run.finish()\n"
            "print('done')\n"
        )
        named("submit_job_real"); real = c.submit_job([sys.executable, "-c", script], str(project), name="real", config={"lr": 0.1}, tags=["real"])
        named("worker")
        worker = subprocess.Popen([exe, "worker", "--server", base, "--data-dir", str(data_dir)], cwd=project, env=env,
                                  stdout=open(tmp / "worker.log", "wb"), stderr=subprocess.STDOUT)
        direct = WhirrClient(upstream)  # polls past the proxy, so only the worker's requests are recorded
        for _ in range(600):
            got = direct.get_job(real.job_id)
            if got is not None and got.status not in ("queued", "running"):
                break
            time.sleep(0.1)
        named("worker_stop")
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=30)
        worker = None
        named("get_job_completed"); c.get_job(real.job_id)
        run_id = f"job-{real.job_id}"
        named("list_runs"); c.get_runs()
        named("list_runs_filtered"); c.get_runs(status="completed", tag="real", limit=5)
        named("get_run"); c.get_run(run_id)
        named("get_run_missing"); c.get_run("no-such-run")
        named("get_metrics"); c.get_metrics(run_id)
        named("get_metrics_missing")
        try:
            c.get_metrics("no-such-run")
        except WhirrClientError:
            pass
        named("list_artifacts"); c.list_artifacts(run_id)
        named("get_artifact"); c.get_artifact(run_id, "artifacts/model.txt")
        named("get_artifact_missing")
        try:
            c.get_artifact(run_id, "artifacts/nothing.bin")
        except WhirrClientError:
            pass
        named("get_artifact_directory")
        try:
            c.get_artifact(run_id, "artifacts")
        except WhirrClientError:
            pass
        named("not_found_route"); httpx.get(base + "/api/v1/nothing")
        named("method_not_allowed"); httpx.delete(base + "/api/v1/jobs/1")
        proxy.shutdown()
        c.close()
    finally:
        if worker is not None:
            worker.kill()
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()

    counts = {}
    for ex in exchanges:
        if ex["name"] in ("worker", "worker_stop"):
            # the worker's own requests: name each by its route
            ex["name"] = "worker_" + ex["path"].rsplit("/", 1)[-1]
        n = counts.get(ex["name"], 0)
        counts[ex["name"]] = n + 1
        filename = ex["name"] + (f"_{n + 1}" if n else "") + ".json"
        (HERE / filename).write_text(json.dumps(ex, indent=2, sort_keys=True) + "\n")
    print(f"wrote {len(exchanges)} exchanges to {HERE}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
