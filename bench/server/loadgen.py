"""Server ingest benchmark: Quill's batch endpoint against MLflow's log-batch, with the same generator.

  python loadgen.py --tool quill|mlflow --url http://127.0.0.1:PORT [--points 1000000] [--batch 1000]
                    [--runs 50] [--single 1000] [--history] [--connections 1] [--pid PID] [--also-pid PID]
                    [--runs 0 skips the concurrent case; --single 0 skips the single points]

Prints one JSON object: points/s for one run, points/s for --runs concurrent runs (with the number of runs
that failed and the first error: a rate is only meaningful beside its failures), the median and p99 of
single-point requests on one kept-alive connection and on a new connection per request, and (Quill only,
with --history) the time to fetch a 100,000-point history and a downsampled history of the one-run metric.

With --pid (the server's process id), every timed phase starts only once the server is idle (idle.py: its
health route answers fast and its process tree uses almost no CPU), after that phase's runs were created
and its requests encoded; the seconds waited and the machine's load average at each phase's start are
reported too.

The generator must not be what is measured, so every request (headers and JSON body) is encoded before
its timer starts, and requests go over raw keep-alive sockets (TCP_NODELAY) with a minimal HTTP/1.1
reader: a timed batch costs the client one `sendall` and one response read. The client's own CPU time
during each timed phase is reported (`*_client_cpu_s`), so its share of the wall time can be checked.
The concurrent case creates its runs over one connection, then opens one connection per run just before
they start together at a barrier (so no connection idles past a server's keep-alive timeout first).
Standard library only.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import threading
import time
import urllib.parse

import idle


class Connection:
    """One keep-alive HTTP/1.1 connection that sends pre-encoded requests."""

    def __init__(self, host: str, port: int):
        self.sock = socket.create_connection((host, port), timeout=600)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def send(self, request: bytes) -> tuple[int, bytes]:
        self.sock.sendall(request)
        return self._response()

    def close(self):
        self.sock.close()

    def call(self, request: bytes, what: str):
        status, body = self.send(request)
        if status >= 300:
            raise RuntimeError(f"{what}: HTTP {status}: {body[:300]!r}")
        return json.loads(body) if body else None

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        self.buffer += chunk

    def _read_exactly(self, length: int) -> bytes:
        """The next `length` bytes; large bodies are gathered in one preallocated buffer, not by concatenation."""
        if len(self.buffer) >= length:
            body, self.buffer = self.buffer[:length], self.buffer[length:]
            return body
        body = bytearray(length)
        view = memoryview(body)
        filled = len(self.buffer)
        view[:filled] = self.buffer
        self.buffer = b""
        while filled < length:
            received = self.sock.recv_into(view[filled:], length - filled)
            if not received:
                raise RuntimeError("the server closed the connection")
            filled += received
        return bytes(body)

    def _response(self) -> tuple[int, bytes]:
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._fill()
        head = self.buffer[:end].decode("latin-1").split("\r\n")
        self.buffer = self.buffer[end + 4:]
        status = int(head[0].split(" ", 2)[1])
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            return status, self._read_exactly(int(headers["content-length"]))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                while (line_end := self.buffer.find(b"\r\n")) < 0:
                    self._fill()
                size = int(self.buffer[:line_end].split(b";")[0], 16)
                while len(self.buffer) < line_end + 2 + size + 2:
                    self._fill()
                body += self.buffer[line_end + 2:line_end + 2 + size]
                self.buffer = self.buffer[line_end + 2 + size + 2:]
                if size == 0:
                    return status, body
        if status in (204, 304) or 100 <= status < 200:
            return status, b""
        raise RuntimeError(f"response without length: {head!r}")


# Sent with every request: `Authorization: Bearer KEY` with --api-key (a server with users).
EXTRA_HEADERS = ""


def encode(method: str, path: str, host: str, body: bytes | None = None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{EXTRA_HEADERS}"
    if body is None:
        return (head + "\r\n").encode()
    head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def value_text(step: int) -> str:
    return repr(1.0 / (1 + step))


class Quill:
    def __init__(self, url):
        parsed = urllib.parse.urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.hostport = f"{self.host}:{self.port}"

    def connect(self):
        return Connection(self.host, self.port)

    def new_run(self, conn, name):
        body = json.dumps({"project": "bench", "name": name}).encode()
        return conn.call(encode("POST", "/api/v1/runs", self.hostport, body), "create run")["id"]

    def batch_request(self, run, first, last):
        items = ",".join(
            f'{{"key":"loss","value":{value_text(s)},"step":{s},"idx":{s}}}' for s in range(first, last)
        )
        return encode("POST", f"/api/v1/runs/{run}/batch", self.hostport, f'{{"metrics":[{items}]}}'.encode())

    def single_request(self, run, step):
        body = f'{{"key":"loss","value":0.5,"step":{step}}}'.encode()
        return encode("POST", f"/api/v1/runs/{run}/metrics", self.hostport, body)


class MLflow:
    def __init__(self, url):
        parsed = urllib.parse.urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.hostport = f"{self.host}:{self.port}"
        self.experiment = None

    def connect(self):
        return Connection(self.host, self.port)

    def new_run(self, conn, name):
        if self.experiment is None:
            try:
                body = json.dumps({"name": "bench"}).encode()
                self.experiment = conn.call(
                    encode("POST", "/api/2.0/mlflow/experiments/create", self.hostport, body), "create experiment"
                )["experiment_id"]
            except RuntimeError:
                self.experiment = conn.call(
                    encode("GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=bench", self.hostport),
                    "get experiment",
                )["experiment"]["experiment_id"]
        body = json.dumps({"experiment_id": self.experiment, "run_name": name, "start_time": int(time.time() * 1000)})
        request = encode("POST", "/api/2.0/mlflow/runs/create", self.hostport, body.encode())
        return conn.call(request, "create run")["run"]["info"]["run_id"]

    def batch_request(self, run, first, last):
        now = int(time.time() * 1000)
        items = ",".join(
            f'{{"key":"loss","value":{value_text(s)},"timestamp":{now},"step":{s}}}' for s in range(first, last)
        )
        body = f'{{"run_id":"{run}","metrics":[{items}]}}'.encode()
        return encode("POST", "/api/2.0/mlflow/runs/log-batch", self.hostport, body)

    def single_request(self, run, step):
        now = int(time.time() * 1000)
        body = f'{{"run_id":"{run}","key":"loss","value":0.5,"timestamp":{now},"step":{step}}}'.encode()
        return encode("POST", "/api/2.0/mlflow/runs/log-metric", self.hostport, body)


def tool(name, url):
    return Quill(url) if name == "quill" else MLflow(url)


def batches(t, run, points, batch):
    return [t.batch_request(run, first, min(points, first + batch)) for first in range(0, points, batch)]


def send_all(conn, requests):
    for request in requests:
        status, body = conn.send(request)
        if status >= 300:
            raise RuntimeError(f"HTTP {status}: {body[:300]!r}")


def timed(body):
    """Runs `body`, returning (wall seconds, client CPU seconds)."""
    cpu, wall = time.process_time(), time.perf_counter()
    body()
    return time.perf_counter() - wall, time.process_time() - cpu


def one_run(t, points, batch, connections, settle):
    """One run, batches sent in order; with several connections, batch i goes over connection i mod n."""
    setup = t.connect()
    run = t.new_run(setup, "one")
    setup.close()
    requests = batches(t, run, points, batch)
    settle()
    # Opened after the idle wait, which may outlast a server's keep-alive timeout (uvicorn's is 5 s).
    conns = [t.connect() for _ in range(connections)]
    if connections == 1:
        wall, cpu = timed(lambda: send_all(conns[0], requests))
        return run, wall, cpu
    errors = []

    def worker(index):
        try:
            send_all(conns[index], requests[index::connections])
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    def go():
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    wall, cpu = timed(go)
    if errors:
        raise errors[0]
    return run, wall, cpu


def many_runs(t, runs, per_run, batch, settle):
    """`runs` runs at once, one connection and one thread each, released together at a barrier."""
    setup = t.connect()
    plans = []
    for index in range(runs):
        run = t.new_run(setup, f"many-{index}")
        plans.append(batches(t, run, per_run, batch))
    setup.close()
    settle()
    conns = [t.connect() for _ in range(runs)]
    barrier = threading.Barrier(runs + 1)
    errors = []
    completed = []
    finished = []

    def worker(index):
        barrier.wait()
        try:
            send_all(conns[index], plans[index])
            completed.append(per_run)
        except Exception as error:  # noqa: BLE001
            errors.append(str(error)[:200])
        finished.append(time.perf_counter())

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(runs)]
    for thread in threads:
        thread.start()
    cpu = time.process_time()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    for conn in conns:
        conn.close()
    finished.sort()
    # How concurrent it was: when the first run finished, as a share of the whole.
    first_done = (finished[0] - start) / wall if finished else 0
    return completed, errors, wall, cpu, first_done


def single_points(t, run, count, fresh, warm=50):
    """Round trips of `count` single-point requests one after another (after `warm` untimed ones), in seconds:
    over one kept-alive connection, or (`fresh`) each on a new connection opened after its timer starts and
    closed once its answer is read."""
    requests = [t.single_request(run, step) for step in range(count + warm)]
    latencies = []
    conn = None if fresh else t.connect()
    for index, request in enumerate(requests):
        start = time.perf_counter()
        if fresh:
            conn = t.connect()
        status, body = conn.send(request)
        elapsed = time.perf_counter() - start
        if fresh:
            conn.close()
        if status >= 300:
            raise RuntimeError(f"single point: HTTP {status}: {body[:300]!r}")
        if index >= warm:  # the first ones warm the connection (or the accept path) and the statement cache
            latencies.append(elapsed)
    if not fresh:
        conn.close()
    latencies.sort()
    return latencies


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True, choices=["quill", "mlflow"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--many-points", type=int, default=None, help="total points of the concurrent case")
    parser.add_argument("--connections", type=int, default=1, help="connections for the one-run case")
    parser.add_argument("--single", type=int, default=1000)
    parser.add_argument("--history", action="store_true")
    parser.add_argument("--api-key", default=None, help="send this key (Quill with users: the access checks run)")
    parser.add_argument("--pid", type=int, default=None, help="the server's pid: wait for it to be idle before each phase")
    parser.add_argument("--also-pid", type=int, action="append", default=[],
                        help="another process tree that must be idle too (the database server)")
    parser.add_argument("--idle-timeout", type=float, default=300)
    args = parser.parse_args()
    if args.api_key:
        global EXTRA_HEADERS
        EXTRA_HEADERS = f"Authorization: Bearer {args.api_key}\r\n"
    t = tool(args.tool, args.url)
    result = {"tool": args.tool, "points": args.points, "batch": args.batch, "connections": args.connections}
    health = "/healthz" if args.tool == "quill" else "/health"

    def settler(phase):
        def settle():
            if args.pid is not None:
                waited = idle.wait_idle(args.url, health, args.pid, timeout=args.idle_timeout,
                                        also=tuple(args.also_pid))
                result[f"{phase}_idle_wait_s"] = waited["idle_after_s"]
            result[f"{phase}_load_average"] = os.getloadavg()[0]
        return settle

    run, seconds, cpu = one_run(t, args.points, args.batch, args.connections, settler("one_run"))
    result["one_run_seconds"] = seconds
    result["one_run_points_per_s"] = args.points / seconds
    result["one_run_client_cpu_s"] = cpu

    if args.runs > 0:
        many_points = args.many_points or args.points
        per_run = many_points // args.runs
        completed, errors, seconds, cpu, first_done = many_runs(
            t, args.runs, per_run, args.batch, settler("many_runs")
        )
        result["many_runs"] = args.runs
        result["many_runs_points"] = per_run * args.runs
        result["many_runs_seconds"] = seconds
        # Only runs whose every batch was accepted count; a failed run's points are not counted at all.
        result["many_runs_points_per_s"] = sum(completed) / seconds
        result["many_runs_client_cpu_s"] = cpu
        result["many_runs_first_finished_at"] = first_done
        result["many_runs_errors"] = len(errors)
        result["many_runs_first_error"] = errors[0] if errors else None

    for fresh, prefix in ((False, "single_point"), (True, "single_point_new_conn")) if args.single > 0 else ():
        setup = t.connect()  # a new one each time: an idle wait may outlast a server's keep-alive timeout
        single_run = t.new_run(setup, prefix)
        setup.close()
        settler(prefix)()
        latencies = single_points(t, single_run, args.single, fresh)
        result[f"{prefix}_median_ms"] = statistics.median(latencies) * 1000
        result[f"{prefix}_p99_ms"] = latencies[int(len(latencies) * 0.99) - 1] * 1000
    result["load_average_end"] = os.getloadavg()[0]

    if args.history and args.tool == "quill":
        conn = t.connect()
        history_run = t.new_run(conn, "history")
        send_all(conn, batches(t, history_run, 100_000, args.batch))
        full = encode("GET", f"/api/v1/runs/{history_run}/metrics?key=loss", t.hostport)
        downsampled = encode("GET", f"/api/v1/runs/{run}/metrics?key=loss&max_points=2000", t.hostport)
        for name, request, total, shown in (
            ("history_100k_full_ms", full, 100_000, 100_000),
            ("history_1m_downsampled_ms", downsampled, args.points, 2000),
        ):
            conn.send(request)  # warm-up
            times = []
            for _ in range(7):
                start = time.perf_counter()
                status, body = conn.send(request)
                times.append(time.perf_counter() - start)
                assert status == 200, body[:300]
                document = json.loads(body)
                assert document["total_points"] == total and 0 < len(document["points"]) <= shown, document["total_points"]
            result[name + "_median"] = statistics.median(times) * 1000
            result[name + "_bytes"] = len(body)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
