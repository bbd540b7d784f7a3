"""One large batch against a running Quill server (issue 9, item 5): the time of one
`POST /api/v1/runs/{id}/batch` of N points (default 100,000) into a fresh run, against the same N points
sent in batches of 1,000 into another fresh run; median of --repeats (default 5) of each, interleaved.

  python3 bench/server/large_batch.py --url http://127.0.0.1:PORT [--points 100000] [--repeats 5]
                                      [--shape metrics|rows] [--keys 1]

Bodies are encoded before the timer starts and sent with loadgen.py's raw keep-alive client, so the
figure is the server's. `--shape rows` sends `metrics.jsonl` rows (what `quill sync` sends); `--keys K`
spreads the points over K metric keys. Prints one line per case and a JSON summary. Standard library only.
"""
import argparse
import json
import statistics
import time

import loadgen


def metrics_body(points, keys):
    items = ",".join(
        f'{{"key":"m{i % keys}","value":{loadgen.value_text(i)},"step":{i // keys},"idx":{i // keys}}}'
        for i in range(points)
    )
    return f'{{"metrics":[{items}]}}'.encode()


def rows_body(points, keys):
    rows = points // keys
    items = ",".join(
        "{" + f'"_idx":{r},"step":{r},' + ",".join(f'"m{k}":{loadgen.value_text(r * keys + k)}' for k in range(keys)) + "}"
        for r in range(rows)
    )
    return f'{{"rows":[{items}]}}'.encode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--shape", choices=["metrics", "rows"], default="metrics")
    parser.add_argument("--keys", type=int, default=1)
    args = parser.parse_args()
    quill = loadgen.tool("quill", args.url)
    connection = quill.connect()
    make = metrics_body if args.shape == "metrics" else rows_body

    one = make(args.points, args.keys)
    small = []
    per = 1000
    for first in range(0, args.points, per):
        rows = per // args.keys
        start = first // args.keys
        if args.shape == "metrics":
            items = ",".join(
                f'{{"key":"m{i % args.keys}","value":{loadgen.value_text(i)},"step":{start + (i - first) // args.keys},'
                f'"idx":{start + (i - first) // args.keys}}}'
                for i in range(first, min(first + per, args.points))
            )
            small.append(f'{{"metrics":[{items}]}}'.encode())
        else:
            items = ",".join(
                "{" + f'"_idx":{start + r},"step":{start + r},'
                + ",".join(f'"m{k}":{loadgen.value_text((start + r) * args.keys + k)}' for k in range(args.keys))
                + "}"
                for r in range(rows)
            )
            small.append(f'{{"rows":[{items}]}}'.encode())

    large_times, small_times = [], []
    for repeat in range(args.repeats):
        run = quill.new_run(connection, f"large-{repeat}")
        request = loadgen.encode("POST", f"/api/v1/runs/{run}/batch", quill.hostport, one)
        start = time.perf_counter()
        result = connection.call(request, "large batch")
        large_times.append(time.perf_counter() - start)
        assert result["metrics_written"] == args.points, result

        run = quill.new_run(connection, f"small-{repeat}")
        requests = [loadgen.encode("POST", f"/api/v1/runs/{run}/batch", quill.hostport, b) for b in small]
        start = time.perf_counter()
        written = 0
        for r in requests:
            written += connection.call(r, "batch of 1,000")["metrics_written"]
        small_times.append(time.perf_counter() - start)
        assert written == args.points, written

    large = statistics.median(large_times)
    small_median = statistics.median(small_times)
    print(f"one batch of {args.points:,} points ({args.shape}, {args.keys} key(s)): median {large:.3f} s, "
          f"{args.points / large:,.0f} points/s (runs: {', '.join(f'{t:.3f}' for t in large_times)})")
    print(f"batches of 1,000, same points: median {small_median:.3f} s, {args.points / small_median:,.0f} points/s "
          f"(runs: {', '.join(f'{t:.3f}' for t in small_times)})")
    print(json.dumps({
        "points": args.points, "shape": args.shape, "keys": args.keys, "repeats": args.repeats,
        "one_batch_s": large, "one_batch_points_per_s": args.points / large,
        "batches_of_1000_s": small_median, "batches_of_1000_points_per_s": args.points / small_median,
    }))


if __name__ == "__main__":
    main()
