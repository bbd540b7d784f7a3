#!/usr/bin/env python3
"""Quill only: time the downsampled history of a long metric.

    python3 bench/server/history.py --url http://127.0.0.1:PORT [--points 1000000] [--repeats 20]

Logs `--points` points of one metric into a new run through the batch endpoint (batches of 1,000, as
`loadgen.py` does), then times `GET /api/v1/runs/{id}/metrics?key=loss&max_points=2000` `--repeats` times
after one warm-up, on one keep-alive connection, and prints the median, min and max in milliseconds as JSON.
"""

import argparse
import json
import statistics
import time

from loadgen import Quill, batches, encode, send_all


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--max-points", type=int, default=2000)
    args = parser.parse_args()
    t = Quill(args.url)
    conn = t.connect()
    run = t.new_run(conn, "history")
    requests = batches(t, run, args.points, 1000)
    started = time.perf_counter()
    send_all(conn, requests)
    ingest_seconds = time.perf_counter() - started
    request = encode("GET", f"/api/v1/runs/{run}/metrics?key=loss&max_points={args.max_points}", t.hostport)
    conn.send(request)  # warm-up
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        status, body = conn.send(request)
        times.append(time.perf_counter() - start)
        assert status == 200, body[:300]
        document = json.loads(body)
        assert document["total_points"] == args.points, document["total_points"]
        assert 0 < len(document["points"]) <= args.max_points, len(document["points"])
    print(json.dumps({
        "points": args.points,
        "ingest_points_per_s": round(args.points / ingest_seconds),
        "max_points": args.max_points,
        "shown": len(document["points"]),
        "repeats": args.repeats,
        "median_ms": statistics.median(times) * 1000,
        "min_ms": min(times) * 1000,
        "max_ms": max(times) * 1000,
        "bytes": len(body),
    }))


if __name__ == "__main__":
    main()
