"""Does a write stall everyone else? `/healthz` and a small read while large batches are written.

  python3 bench/server/stall.py --quill .build/release/quill [--batches 4] [--points 100000] [--repeats 3]
                                [--interval 0.02] [--serve-arg=--durability=relaxed] [--json]

Each repeat starts a fresh `quill serve --port 0` on a new data folder, creates one run per batch and one
small run (100 points) to read, and pre-encodes every request. It then probes for one second at rest (the
baseline), and then sends the large batches at once, each on its own connection from its own process,
while the prober sends `GET /healthz` and `GET /api/v1/runs/SMALL/metrics?key=loss`, one after the other,
every --interval seconds until the last batch is answered. The probe latencies under load give the stall:
the median, p90, p99 and the worst of each kind, with the baseline beside them.

The batch senders are separate processes so that the prober never waits for Python's GIL behind them.
Prints a table (or one JSON object with --json) with medians over the repeats. Standard library only.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


class Connection:
    """One keep-alive HTTP/1.1 connection (TCP_NODELAY) with a minimal response reader."""

    def __init__(self, port: int, timeout: float = 600):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def send(self, request: bytes) -> tuple[int, bytes]:
        self.sock.sendall(request)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._fill()
        head = self.buffer[:end].decode("latin-1").split("\r\n")
        self.buffer = self.buffer[end + 4:]
        status = int(head[0].split(" ", 2)[1])
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, body

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        self.buffer += chunk

    def close(self):
        self.sock.close()


def encode(method: str, path: str, body: bytes | None = None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if body is None:
        return (head + "\r\n").encode()
    return (head + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def batch_request(run: str, points: int) -> bytes:
    items = ",".join(f'{{"key":"loss","value":{1.0 / (1 + s)!r},"step":{s}}}' for s in range(points))
    return encode("POST", f"/api/v1/runs/{run}/batch", f'{{"metrics":[{items}]}}'.encode())


def new_run(conn: Connection, name: str) -> str:
    status, body = conn.send(encode("POST", "/api/v1/runs", json.dumps({"project": "stall", "name": name}).encode()))
    if status >= 300:
        raise RuntimeError(f"create run: HTTP {status}: {body[:200]!r}")
    return json.loads(body)["id"]


def send_batch(port: int, request: bytes, start, results):
    """A batch sender (its own process): waits at the start event, sends, reports (seconds, status)."""
    conn = Connection(port)
    start.wait()
    began = time.perf_counter()
    status, _ = conn.send(request)
    results.put((time.perf_counter() - began, status))
    conn.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary(values: list[float]) -> dict:
    return {
        "count": len(values),
        "median_ms": statistics.median(values) * 1000,
        "p90_ms": percentile(values, 0.9) * 1000,
        "p99_ms": percentile(values, 0.99) * 1000,
        "max_ms": max(values) * 1000,
    }


def probe_round(conn: Connection, small: str, health: list, reads: list):
    for request, into in ((encode("GET", "/healthz"), health),
                          (encode("GET", f"/api/v1/runs/{small}/metrics?key=loss"), reads)):
        began = time.perf_counter()
        status, _ = conn.send(request)
        into.append(time.perf_counter() - began)
        if status != 200:
            raise RuntimeError(f"probe answered HTTP {status}")


def start_server(quill: str, data: str, serve_args: list[str]) -> tuple[subprocess.Popen, int]:
    log = open(os.path.join(data, "serve.log"), "w+")
    server = subprocess.Popen([quill, "serve", "--port", "0", "--data", os.path.join(data, "server"), *serve_args],
                              stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        log.seek(0)
        if match := re.search(r"listening on http://[^ ]+:([0-9]+) ", log.read()):
            return server, int(match.group(1))
        if server.poll() is not None:
            break
        time.sleep(0.05)
    server.kill()
    log.seek(0)
    raise RuntimeError(f"quill serve did not start: {log.read()}")


def one_repeat(args) -> dict:
    data = tempfile.mkdtemp(prefix="quill-stall.")
    server, port = start_server(args.quill, data, args.serve_arg)
    try:
        setup = Connection(port)
        small = new_run(setup, "small")
        status, _ = setup.send(batch_request(small, 100))
        assert status == 200, status
        requests = [batch_request(new_run(setup, f"large-{i}"), args.points) for i in range(args.batches)]
        setup.close()

        probe = Connection(port, timeout=120)
        rest_health, rest_reads = [], []
        until = time.perf_counter() + 1.0
        while time.perf_counter() < until:
            probe_round(probe, small, rest_health, rest_reads)
            time.sleep(args.interval)

        context = multiprocessing.get_context("fork")
        start, results = context.Event(), context.Queue()
        senders = [context.Process(target=send_batch, args=(port, request, start, results)) for request in requests]
        for sender in senders:
            sender.start()
        time.sleep(0.5)  # every sender is connected and waiting
        health, reads = [], []
        began = time.perf_counter()
        start.set()
        finished = []
        while len(finished) < len(senders):
            probe_round(probe, small, health, reads)
            while not results.empty():
                finished.append(results.get())
            time.sleep(args.interval)
        load_seconds = time.perf_counter() - began
        for sender in senders:
            sender.join()
        probe.close()
        if any(status != 200 for _, status in finished):
            raise RuntimeError(f"a batch failed: {finished}")
        return {
            "load_seconds": load_seconds,
            "batch_seconds": sorted(seconds for seconds, _ in finished),
            "rest_healthz": summary(rest_health),
            "rest_read": summary(rest_reads),
            "healthz": summary(health),
            "read": summary(reads),
        }
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(data, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quill", required=True, help="the quill binary (a release build for figures)")
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--serve-arg", action="append", default=[], help="an extra `quill serve` argument")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [one_repeat(args) for _ in range(args.repeats)]

    def med(kind: str, key: str) -> float:
        return statistics.median(row[kind][key] for row in rows)

    result = {
        "batches": args.batches,
        "points": args.points,
        "repeats": rows,
        "median": {kind: {key: med(kind, key) for key in rows[0][kind] if key != "count"}
                   for kind in ("rest_healthz", "rest_read", "healthz", "read")},
        "load_seconds_median": statistics.median(row["load_seconds"] for row in rows),
    }
    if args.json:
        json.dump(result, sys.stdout)
        print()
        return
    print(f"{args.batches} concurrent batches of {args.points:,} points; {args.repeats} repeats; medians over repeats")
    print("| probe | median ms | p90 ms | p99 ms | worst ms |")
    print("|---|---:|---:|---:|---:|")
    for kind, label in (("rest_healthz", "`/healthz` at rest"), ("healthz", "`/healthz` during the batches"),
                        ("rest_read", "small read at rest"), ("read", "small read during the batches")):
        m = result["median"][kind]
        print(f"| {label} | {m['median_ms']:.1f} | {m['p90_ms']:.1f} | {m['p99_ms']:.1f} | {m['max_ms']:.0f} |")
    print(f"time until the last batch was answered, median: {result['load_seconds_median']:.1f} s")
    print("per repeat, worst /healthz ms:", ", ".join(f"{row['healthz']['max_ms']:.0f}" for row in rows))


if __name__ == "__main__":
    main()
