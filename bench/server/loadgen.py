"""Server ingest benchmark: Quill's batch endpoint against MLflow's log-batch, with the same generator.

  python loadgen.py --tool quill|mlflow --url http://127.0.0.1:PORT [--points 1000000] [--batch 1000]
                    [--runs 50] [--single 1000] [--history]

Prints one JSON object: points/s for one run, points/s for --runs concurrent runs, the median and p99
of single-point requests, and (Quill only, with --history) the time to fetch a 100,000-point history and
a downsampled 1,000,000-point history. Standard library only (http.client, threads).
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
import time
import urllib.parse


class Client:
    def __init__(self, url: str):
        parsed = urllib.parse.urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=300)

    def call(self, method: str, path: str, body=None):
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        self.conn.request(method, path, body=payload, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}: {data[:300]!r}")
        return json.loads(data) if data else None


class Quill:
    def __init__(self, url):
        self.client = Client(url)

    def new_run(self, name):
        return self.client.call("POST", "/api/v1/runs", {"project": "bench", "name": name})["id"]

    def log(self, run, points):  # points: list of (key, value, step)
        body = {"metrics": [{"key": k, "value": v, "step": s, "idx": s} for k, v, s in points]}
        self.client.call("POST", f"/api/v1/runs/{run}/batch", body)

    def log_one(self, run, key, value, step):
        self.client.call("POST", f"/api/v1/runs/{run}/metrics", {"key": key, "value": value, "step": step})


class MLflow:
    def __init__(self, url):
        self.client = Client(url)
        self.experiment = None

    def new_run(self, name):
        if self.experiment is None:
            try:
                self.experiment = self.client.call("POST", "/api/2.0/mlflow/experiments/create", {"name": "bench"})["experiment_id"]
            except RuntimeError:
                self.experiment = self.client.call("GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=bench")["experiment"]["experiment_id"]
        body = {"experiment_id": self.experiment, "run_name": name, "start_time": int(time.time() * 1000)}
        return self.client.call("POST", "/api/2.0/mlflow/runs/create", body)["run"]["info"]["run_id"]

    def log(self, run, points):
        now = int(time.time() * 1000)
        body = {"run_id": run, "metrics": [{"key": k, "value": v, "timestamp": now, "step": s} for k, v, s in points]}
        self.client.call("POST", "/api/2.0/mlflow/runs/log-batch", body)

    def log_one(self, run, key, value, step):
        body = {"run_id": run, "key": key, "value": value, "timestamp": int(time.time() * 1000), "step": step}
        self.client.call("POST", "/api/2.0/mlflow/runs/log-metric", body)


def tool(name, url):
    return Quill(url) if name == "quill" else MLflow(url)


def ingest(name, url, run_name, points, batch):
    t = tool(name, url)
    run = t.new_run(run_name)
    start = time.perf_counter()
    for first in range(0, points, batch):
        t.log(run, [("loss", 1.0 / (1 + s), s) for s in range(first, min(points, first + batch))])
    return run, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True, choices=["quill", "mlflow"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--single", type=int, default=1000)
    parser.add_argument("--history", action="store_true")
    args = parser.parse_args()
    result = {"tool": args.tool, "points": args.points, "batch": args.batch}

    run, seconds = ingest(args.tool, args.url, "one", args.points, args.batch)
    result["one_run_seconds"] = seconds
    result["one_run_points_per_s"] = args.points / seconds

    per_run = args.points // args.runs
    errors = []
    completed = []
    def worker(index):
        try:
            ingest(args.tool, args.url, f"many-{index}", per_run, args.batch)
            completed.append(per_run)
        except Exception as error:  # noqa: BLE001
            errors.append(str(error)[:200])
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.runs)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    result["many_runs"] = args.runs
    # Only runs whose every batch was accepted count; a failed run's points are not counted at all.
    result["many_runs_points_per_s"] = sum(completed) / seconds
    result["many_runs_errors"] = len(errors)
    result["many_runs_first_error"] = errors[0] if errors else None

    t = tool(args.tool, args.url)
    single_run = t.new_run("single")
    latencies = []
    for step in range(args.single):
        start = time.perf_counter()
        t.log_one(single_run, "loss", 0.5, step)
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    result["single_point_median_ms"] = statistics.median(latencies) * 1000
    result["single_point_p99_ms"] = latencies[int(len(latencies) * 0.99) - 1] * 1000

    if args.history and args.tool == "quill":
        client = Client(args.url)
        history_run = Quill(args.url).new_run("history")
        q = Quill(args.url)
        for first in range(0, 100_000, args.batch):
            q.log(history_run, [("loss", 1.0 / (1 + s), s) for s in range(first, first + args.batch)])
        times = []
        for _ in range(5):
            start = time.perf_counter()
            body = client.call("GET", f"/api/v1/runs/{history_run}/metrics?key=loss")
            times.append(time.perf_counter() - start)
            assert body["total_points"] == 100_000
        result["history_100k_full_ms_median"] = statistics.median(times) * 1000
        times = []
        for _ in range(5):
            start = time.perf_counter()
            body = client.call("GET", f"/api/v1/runs/{run}/metrics?key=loss&max_points=2000")
            times.append(time.perf_counter() - start)
            assert body["total_points"] == args.points and len(body["points"]) <= 2000
        result["history_1m_downsampled_ms_median"] = statistics.median(times) * 1000
    print(json.dumps(result))


if __name__ == "__main__":
    main()
