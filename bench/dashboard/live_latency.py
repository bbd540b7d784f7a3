"""How long a written point takes to reach a client that follows the run: GET /api/v1/runs/{id}/events open,
then POST /api/v1/runs/{id}/batch with one point (0.3 s after the last), timed until the `metrics` event
carrying it arrives.

Usage: python bench/dashboard/live_latency.py QUILL_BINARY [REPEATS]
Starts its own `quill serve` on 127.0.0.1 in a temporary folder; prints the median and the 90th percentile.
"""
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

binary = sys.argv[1]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 50
folder = tempfile.mkdtemp(prefix="quill-live-")
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
server = subprocess.Popen([binary, "serve", "--port", str(port), "--data", os.path.join(folder, "data")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"


def api(method, path, body=None):
    request = urllib.request.Request(base + "/api/v1" + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else None


try:
    for _ in range(100):
        try:
            api("GET", "/status")
            break
        except OSError:
            time.sleep(0.1)
    run = api("POST", "/runs", {"project": "live-latency"})["id"]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", f"/api/v1/runs/{run}/events")
    stream = connection.getresponse()
    assert stream.status == 200, stream.status

    def next_event():
        name, data = None, None
        while True:
            line = stream.fp.readline().decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and name:
                return name, data

    assert next_event()[0] == "state"
    times = []
    for step in range(repeats):
        # Writes closer together than the stream's minimum interval (200 ms) are sent together; pausing
        # longer measures a write that finds the stream idle.
        time.sleep(0.3)
        start = time.perf_counter()
        api("POST", f"/runs/{run}/batch", {"metrics": [{"key": "loss", "value": step, "step": step}]})
        while True:
            name, data = next_event()
            if name == "metrics" and any(p["step"] == step for m in data["metrics"] for p in m["points"]):
                break
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(f"{repeats} points: median {statistics.median(times):.1f} ms, p90 {times[int(len(times) * 0.9) - 1]:.1f} ms "
          f"(POST to the metrics event, including the POST)")
finally:
    server.terminate()
    server.wait(timeout=20)
