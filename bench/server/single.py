"""Single-point latency of a running Quill server: N sequential `POST /api/v1/runs/{id}/metrics` requests
over one keep-alive connection, each encoded before its timer starts (loadgen.py's client), after 50
warm-up requests; prints the median, p90 and p99 in milliseconds.

  python3 bench/server/single.py --url http://127.0.0.1:PORT [--requests 3000] [--api-key KEY]
"""
import argparse
import statistics
import time

import loadgen


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--api-key", default=None)
    args = parser.parse_args()
    if args.api_key:
        loadgen.EXTRA_HEADERS = f"Authorization: Bearer {args.api_key}\r\n"
    quill = loadgen.tool("quill", args.url)
    connection = quill.connect()
    run = quill.new_run(connection, "single")
    requests = [quill.single_request(run, step) for step in range(args.requests + 50)]
    latencies = []
    for index, request in enumerate(requests):
        start = time.perf_counter()
        connection.call(request, "single point")
        elapsed = (time.perf_counter() - start) * 1000
        if index >= 50:
            latencies.append(elapsed)
    latencies.sort()
    count = len(latencies)
    print(
        f"single-point request over {count} requests: median {statistics.median(latencies):.3f} ms, "
        f"p90 {latencies[int(count * 0.9)]:.3f} ms, p99 {latencies[int(count * 0.99)]:.3f} ms"
    )


if __name__ == "__main__":
    main()
