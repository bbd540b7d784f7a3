"""Waits until a server is idle: its health route answers fast and its processes use almost no CPU.

  python3 bench/server/idle.py --url http://127.0.0.1:PORT --path /healthz --pid PID [--also-pid PID ...]
                               [--fast-ms 20] [--cpu 0.05] [--windows 2] [--timeout 300] [--warm-up RUNS]

A fixed sleep after start-up is not enough: MLflow's workers import their modules, connect their stores and
run schema checks for seconds after the port answers, and a benchmark started then measures start-up too. This
polls instead, in windows of one second: in each window it sends 5 health requests (a new connection each) and
reads the CPU time of PID and all its descendants from /proc. The server is idle once --windows windows in a
row had a median health answer under --fast-ms and a CPU use under --cpu cores (5% of one core by default).

--also-pid PID counts the CPU of another process tree too: a database server the server under test talks to
(PostgreSQL's postmaster: its backends, checkpointer and autovacuum), so a phase does not start while the
database still works on the previous one's writes.

--warm-up N first opens N connections and sends 3 health requests on each, so every worker process of a
multi-process server (uvicorn's) has answered before the idle check starts; the benchmark's own warm-up of the
store (its first run and batch) is the load generator's.

Prints one line to stderr and one JSON object to stdout: seconds waited, the last window's health median and
CPU share. Exits 1 (with one line saying so) if the server is not idle within --timeout seconds. Standard
library only.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import time
import urllib.parse

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """PID and every process below it (from /proc/*/stat parent ids)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def alive(pid: int) -> bool:
    """Whether PID runs (a zombie, exited but not yet reaped by its parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of PID's process tree (live processes; reaped children are not counted)."""
    total = 0
    for process in descendants(pid):
        try:
            with open(f"/proc/{process}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLOCK_TICKS


def health_ms(host: str, port: int, path: str, sock: socket.socket | None = None) -> float:
    """One `GET path` round trip in milliseconds, on a new connection unless `sock` is given; raises on non-2xx."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    began = time.perf_counter()
    own = sock is None
    if own:
        sock = socket.create_connection((host, port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("the server closed the connection")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("the server closed the connection")
            body += chunk
    finally:
        if own:
            sock.close()
    if not 200 <= status < 300:
        raise RuntimeError(f"{path} answered HTTP {status}")
    return (time.perf_counter() - began) * 1000


def wait_idle(url: str, path: str, pid: int, fast_ms: float = 20, cpu: float = 0.05, windows: int = 2,
              timeout: float = 300, warm_up: int = 0, also: tuple[int, ...] = ()) -> dict:
    parsed = urllib.parse.urlparse(url)
    host, port = parsed.hostname, parsed.port
    began = time.perf_counter()
    deadline = began + timeout
    # The port may not be open yet.
    while True:
        try:
            health_ms(host, port, path)
            break
        except (OSError, RuntimeError):
            if not alive(pid):
                raise SystemExit(f"error: the server (pid {pid}) exited before {url}{path} answered; see its log")
            if time.perf_counter() > deadline:
                raise SystemExit(f"error: {url}{path} did not answer within {timeout:.0f} s; see the server's log")
            time.sleep(0.2)
    if warm_up:
        sockets = [socket.create_connection((host, port), timeout=30) for _ in range(warm_up)]
        for _ in range(3):
            for sock in sockets:
                health_ms(host, port, path, sock)
        for sock in sockets:
            sock.close()
    quiet = 0
    while True:
        trees = (pid, *also)
        cpu_before, wall_before = sum(map(cpu_seconds, trees)), time.perf_counter()
        latencies = [health_ms(host, port, path) for _ in range(5)]
        time.sleep(max(0.0, 1.0 - (time.perf_counter() - wall_before)))
        share = (sum(map(cpu_seconds, trees)) - cpu_before) / (time.perf_counter() - wall_before)
        median = statistics.median(latencies)
        quiet = quiet + 1 if median < fast_ms and share < cpu else 0
        if quiet >= windows:
            return {"idle_after_s": time.perf_counter() - began, "health_median_ms": median, "cpu_share": share}
        if time.perf_counter() > deadline:
            raise SystemExit(
                f"error: the server at {url} was not idle within {timeout:.0f} s (last window: {path} median "
                f"{median:.1f} ms, CPU {share:.0%} of a core); is the machine busy? try --timeout"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--path", required=True, help="the health route: /healthz (Quill), /health (MLflow)")
    parser.add_argument("--pid", type=int, required=True, help="the server's process id (its children count too)")
    parser.add_argument("--fast-ms", type=float, default=20)
    parser.add_argument("--cpu", type=float, default=0.05, help="CPU share of one core below which it is quiet")
    parser.add_argument("--windows", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--warm-up", type=int, default=0, help="connections to open first (reach every worker)")
    parser.add_argument("--also-pid", type=int, action="append", default=[],
                        help="another process tree whose CPU counts (a database server)")
    args = parser.parse_args()
    result = wait_idle(args.url, args.path, args.pid, args.fast_ms, args.cpu, args.windows, args.timeout,
                       args.warm_up, tuple(args.also_pid))
    print(f"idle after {result['idle_after_s']:.1f} s ({args.path} median {result['health_median_ms']:.2f} ms, "
          f"CPU {result['cpu_share']:.1%} of a core)", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
