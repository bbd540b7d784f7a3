"""One vs several `quill serve` replicas on one PostgreSQL database: a fixed mixed workload, spread round-robin.

  python3 bench/replicas/replicas.py --urls http://127.0.0.1:P1[,http://127.0.0.1:P2,...]
                                     [--runs 24] [--batches 40] [--batch 500] [--readers 8] [--reads 150]

The workload is the same whatever the number of replicas:
- --runs writers, one thread each: each creates one run (before the timer), then sends --batches batches of
  --batch points of the metric `loss` (POST /api/v1/runs/ID/batch) back to back;
- --readers readers, one thread each: each sends --reads requests back to back, cycling through the first page
  of the project's runs (GET /api/v1/runs?project=bench&limit=50), a search (a filter on a metric, sorted by it,
  limit 20) and the downsampled history of a run being written (GET /api/v1/runs/ID/metrics?key=loss&max_points=500).
Request i of a thread goes to replica (i + thread) mod N, over a keep-alive connection the thread holds to each
replica: the round-robin a load balancer does, without a balancer's own CPU on this small machine. Every
request is encoded before the timer starts; all threads start together at a barrier.

Prints one JSON object: wall seconds (until the last thread is done), requests/s, points/s (over the writers'
wall time), p50/p99 latency (ms) of writes, of reads and of all requests, the failures with the first error, and
the client's own CPU seconds. Reuses bench/server/loadgen.py's raw keep-alive client (imported, not copied).
Standard library only.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
import loadgen  # noqa: E402  (bench/server/loadgen.py: Connection, encode, Quill)


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", required=True, help="comma-separated replica URLs")
    parser.add_argument("--runs", type=int, default=24)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--reads", type=int, default=150)
    args = parser.parse_args()

    replicas = [loadgen.Quill(url) for url in args.urls.split(",")]
    count = len(replicas)

    # Runs created round-robin, one setup connection per replica.
    setup = [replica.connect() for replica in replicas]
    runs = [replicas[r % count].new_run(setup[r % count], f"w{r}") for r in range(args.runs)]
    for conn in setup:
        conn.close()

    # Writers' requests, each encoded for the replica it goes to.
    writes = []
    for r, run in enumerate(runs):
        requests = []
        for b in range(args.batches):
            target = (b + r) % count
            first = b * args.batch
            requests.append((target, replicas[target].batch_request(run, first, first + args.batch)))
        writes.append(requests)

    search = urllib.parse.urlencode(
        {"project": "bench", "q": "metrics.loss.latest < 0.01", "sort": "metrics.loss.latest", "limit": "20"}
    )
    read_paths = [
        lambda i: "/api/v1/runs?project=bench&limit=50",
        lambda i: "/api/v1/runs?" + search,
        lambda i: f"/api/v1/runs/{runs[i % len(runs)]}/metrics?key=loss&max_points=500",
    ]
    reads = []
    for t in range(args.readers):
        requests = []
        for i in range(args.reads):
            target = (i + t) % count
            path = read_paths[i % len(read_paths)](i + t)
            requests.append((target, loadgen.encode("GET", path, replicas[target].hostport)))
        reads.append(requests)

    barrier = threading.Barrier(len(writes) + len(reads) + 1)
    lock = threading.Lock()
    latencies = {"write": [], "read": []}
    finished = {"write": [], "read": []}
    failures = []

    def worker(kind, requests):
        conns = [replica.connect() for replica in replicas]
        mine = []
        try:
            barrier.wait()
            for target, request in requests:
                start = time.perf_counter()
                try:
                    status, body = conns[target].send(request)
                except Exception as error:  # a dropped connection: count it, reconnect, go on
                    with lock:
                        failures.append(f"{kind}: {error}")
                    conns[target] = replicas[target].connect()
                    continue
                mine.append(time.perf_counter() - start)
                if status >= 300:
                    with lock:
                        failures.append(f"{kind}: HTTP {status}: {body[:200]!r}")
        finally:
            end = time.perf_counter()
            for conn in conns:
                conn.close()
            with lock:
                latencies[kind].extend(mine)
                finished[kind].append(end)

    threads = [threading.Thread(target=worker, args=("write", w)) for w in writes]
    threads += [threading.Thread(target=worker, args=("read", r)) for r in reads]
    for thread in threads:
        thread.start()
    cpu = time.process_time()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = max(finished["write"] + finished["read"]) - start
    writers_wall = max(finished["write"]) - start if finished["write"] else wall
    everything = latencies["write"] + latencies["read"]
    points = args.runs * args.batches * args.batch

    def ms(value):
        return None if value is None else round(value * 1000, 2)

    print(json.dumps({
        "replicas": count,
        "runs": args.runs,
        "batches": args.batches,
        "batch": args.batch,
        "readers": args.readers,
        "reads": args.reads,
        "requests": len(everything),
        "wall_s": round(wall, 3),
        "requests_per_s": round(len(everything) / wall, 1),
        "points_per_s": round(points / writers_wall),
        "write_p50_ms": ms(percentile(latencies["write"], 0.5)),
        "write_p99_ms": ms(percentile(latencies["write"], 0.99)),
        "read_p50_ms": ms(percentile(latencies["read"], 0.5)),
        "read_p99_ms": ms(percentile(latencies["read"], 0.99)),
        "all_p50_ms": ms(percentile(everything, 0.5)),
        "all_p99_ms": ms(percentile(everything, 0.99)),
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
        "client_cpu_s": round(time.process_time() - cpu, 2),
        "load_average": os.getloadavg()[0],
    }))


if __name__ == "__main__":
    main()
