"""One large batch against a running Quill server (issue 9, item 5): the time of one
`POST /api/v1/runs/{id}/batch` of N points (default 100,000) into a fresh run, against the same N points
sent in batches of 1,000 into another fresh run; median of --repeats (default 5) of each, interleaved.

  python3 bench/server/large_batch.py --url http://127.0.0.1:PORT [--points 100000] [--repeats 5]
                                      [--shape metrics|rows] [--keys 1] [--pid SERVER_PID]

Bodies are encoded before the timer starts and sent with loadgen.py's raw keep-alive client, so the
figure is the server's. `--shape rows` sends `metrics.jsonl` rows (what `quill sync` sends), `--keys K`
spreads the points over K metric keys (interleaved, as rows and training loops log them), `--keys 0`
gives every point its own key. With `--pid`, the server's CPU seconds (from /proc) are reported too,
which a busy machine disturbs less than wall time. Prints one line per case and a JSON summary.
Standard library only.
"""
import argparse
import json
import os
import statistics
import time

import loadgen


def points(first, last, keys):
    """(key, row, value) of points first..<last: point i is key i % keys of row i // keys."""
    for i in range(first, last):
        if keys == 0:
            yield f"m{i}", 0, loadgen.value_text(i)
        else:
            yield f"m{i % keys}", i // keys, loadgen.value_text(i)


def metrics_body(first, last, keys):
    items = ",".join(
        f'{{"key":"{key}","value":{value},"step":{row},"idx":{row}}}' for key, row, value in points(first, last, keys)
    )
    return f'{{"metrics":[{items}]}}'.encode()


def rows_body(first, last, keys):
    rows = {}
    for key, row, value in points(first, last, keys):
        rows.setdefault(row, []).append(f'"{key}":{value}')
    items = ",".join("{" + f'"_idx":{row},"step":{row},' + ",".join(fields) + "}" for row, fields in rows.items())
    return f'{{"rows":[{items}]}}'.encode()


def cpu_seconds(pid):
    if not pid:
        return 0.0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--shape", choices=["metrics", "rows"], default="metrics")
    parser.add_argument("--keys", type=int, default=1)
    parser.add_argument("--pid", type=int, default=0)
    args = parser.parse_args()
    quill = loadgen.tool("quill", args.url)
    connection = quill.connect()
    make = metrics_body if args.shape == "metrics" else rows_body
    one = make(0, args.points, args.keys)
    small = [make(first, min(first + 1000, args.points), args.keys) for first in range(0, args.points, 1000)]

    def timed(requests, what):
        start, cpu = time.perf_counter(), cpu_seconds(args.pid)
        written = sum(connection.call(request, what)["metrics_written"] for request in requests)
        assert written == args.points, (what, written)
        return time.perf_counter() - start, cpu_seconds(args.pid) - cpu

    large, batched = [], []
    for repeat in range(args.repeats):
        run = quill.new_run(connection, f"large-{repeat}")
        large.append(timed([loadgen.encode("POST", f"/api/v1/runs/{run}/batch", quill.hostport, one)], "large batch"))
        run = quill.new_run(connection, f"small-{repeat}")
        requests = [loadgen.encode("POST", f"/api/v1/runs/{run}/batch", quill.hostport, body) for body in small]
        batched.append(timed(requests, "batch of 1,000"))

    def report(name, samples):
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        runs = ", ".join(f"{s[0]:.3f}" for s in samples)
        extra = f", server CPU {cpu:.3f} s" if args.pid else ""
        print(f"{name}: median {wall:.3f} s, {args.points / wall:,.0f} points/s{extra} (runs: {runs})")
        return wall, cpu

    keys = "a key per point" if args.keys == 0 else f"{args.keys} key(s)"
    one_wall, one_cpu = report(f"one batch of {args.points:,} points ({args.shape}, {keys})", large)
    small_wall, small_cpu = report("the same points in batches of 1,000", batched)
    print(json.dumps({
        "points": args.points, "shape": args.shape, "keys": args.keys, "repeats": args.repeats,
        "one_batch_s": one_wall, "one_batch_cpu_s": one_cpu, "one_batch_points_per_s": args.points / one_wall,
        "batches_of_1000_s": small_wall, "batches_of_1000_cpu_s": small_cpu,
        "batches_of_1000_points_per_s": args.points / small_wall,
    }))


if __name__ == "__main__":
    main()
