"""Where a single point's time goes, from outside: the same client times, one after another,

  connect        a TCP connect and close, no request (the kernel's share of a new connection)
  healthz        `GET /healthz` on a kept-alive connection (HTTP parse, routing, response: no store, no auth)
  healthz new    `GET /healthz` on a new connection each (adds accept, channel set-up and close)
  point          `POST /api/v1/runs/ID/metrics` on a kept-alive connection (adds auth, decode, the write)
  point new      the same on a new connection each (the figure the issue's 0.5 ms goal is about)

  python3 bench/server/breakdown.py --url http://127.0.0.1:PORT [--requests 2000] [--rounds 5] [--pid PID]

Each kind is measured in --rounds rounds of --requests requests, interleaved (so a change of the machine's
load hits every kind alike), after 50 warm-up requests; prints the median of the round medians, in
microseconds, and the differences that separate the layers. With --pid it waits until the server is idle
first (idle.py). Run it against `quill serve --durability full` and `--durability relaxed`: the difference
of the `point` rows is the commit's sync. Standard library only.
"""
from __future__ import annotations

import argparse
import json
import socket
import statistics
import time

import idle
import loadgen


def timed_connect(host: str, port: int) -> float:
    start = time.perf_counter()
    sock = socket.create_connection((host, port), timeout=30)
    elapsed = time.perf_counter() - start
    sock.close()
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pid", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    quill = loadgen.tool("quill", args.url)
    if args.pid is not None:
        idle.wait_idle(args.url, "/healthz", args.pid)
    setup = quill.connect()
    run = quill.new_run(setup, "breakdown")
    setup.close()
    health = loadgen.encode("GET", "/healthz", quill.hostport)
    step = iter(range(1 << 62))

    def kept(request_of):
        def measure(count):
            conn = quill.connect()
            times = []
            for _ in range(count):
                request = request_of()
                start = time.perf_counter()
                status, body = conn.send(request)
                times.append(time.perf_counter() - start)
                assert status < 300, body[:200]
            conn.close()
            return times
        return measure

    def fresh(request_of):
        def measure(count):
            times = []
            for _ in range(count):
                request = request_of()
                start = time.perf_counter()
                conn = quill.connect()
                status, body = conn.send(request)
                times.append(time.perf_counter() - start)
                conn.close()
                assert status < 300, body[:200]
            return times
        return measure

    kinds = {
        "connect": lambda count: [timed_connect(quill.host, quill.port) for _ in range(count)],
        "healthz": kept(lambda: health),
        "healthz new": fresh(lambda: health),
        "point": kept(lambda: quill.single_request(run, next(step))),
        "point new": fresh(lambda: quill.single_request(run, next(step))),
    }
    for measure in kinds.values():
        measure(50)
    rounds = {name: [] for name in kinds}
    for _ in range(args.rounds):
        for name, measure in kinds.items():
            rounds[name].append(statistics.median(measure(args.requests)) * 1e6)
    result = {name: statistics.median(values) for name, values in rounds.items()}
    if args.json:
        print(json.dumps({"median_us": result, "rounds_us": rounds}))
        return
    print(f"{args.rounds} rounds of {args.requests:,} requests each; median of the round medians, µs")
    for name, value in result.items():
        print(f"  {name:<12} {value:8.1f}   rounds: " + ", ".join(f"{v:.0f}" for v in rounds[name]))
    print(f"  new connection costs (healthz new - healthz):   {result['healthz new'] - result['healthz']:8.1f}")
    print(f"  the write costs (point - healthz):              {result['point'] - result['healthz']:8.1f}")
    print(f"  point new - point:                              {result['point new'] - result['point']:8.1f}")


if __name__ == "__main__":
    main()
