"""Times the dashboard in headless Chromium against a seeded `quill serve` (see run.sh for the workloads).

Every figure is read from the page's own `performance` marks (quill:charts-drawn, quill:zoom-drawn,
quill:runs-page, quill:compare-drawn), set after the frame that shows the result has been drawn, so the
times include fetching, decoding and drawing, not Selenium's polling.
"""
import argparse
import concurrent.futures
import gzip
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DASHBOARD = os.path.join(ROOT, "Sources", "QuillServer", "Resources", "Dashboard")


def api(base, method, path, body=None):
    request = urllib.request.Request(base + "/api/v1" + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        text = response.read()
        return json.loads(text) if text else None


def log_metrics(base, run, keys, points, batch=50_000):
    for key_index, key in enumerate(keys):
        for start in range(0, points, batch):
            rows = [{"key": key, "value": math.sin(i / 5000 + key_index) + 0.1 * math.sin(i * 0.37) + (5 if i % 99_991 == 0 else 0),
                     "step": i, "idx": i} for i in range(start, min(points, start + batch))]
            api(base, "POST", f"/runs/{run}/batch", {"metrics": rows})


def seed(base, points, runs):
    started = time.time()
    api(base, "POST", "/projects", {"name": "big"})
    big = api(base, "POST", "/runs", {"project": "big", "name": "million"})["id"]
    log_metrics(base, big, ["train/loss", "train/acc", "val/loss"], points)
    api(base, "POST", "/projects", {"name": "many"})

    def make(i):
        run = api(base, "POST", "/runs", {"project": "many", "name": f"run-{i:05d}",
                                          "config": {"lr": [0.1, 0.01, 0.001, 0.0001][i % 4], "batch": 32 << (i % 3), "seed": i}})
        api(base, "POST", f"/runs/{run['id']}/batch", {"metrics": [{"key": "loss", "value": 1 / (1 + i % 97), "step": 0, "idx": 0}]})
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(make, range(runs)))
    api(base, "POST", "/projects", {"name": "sweep"})
    sweep = []
    for i in range(10):
        run = api(base, "POST", "/runs", {"project": "sweep", "name": f"sweep-{i}", "config": {"lr": 10 ** -(1 + i % 4), "depth": 2 + i}})["id"]
        log_metrics(base, run, ["loss", "acc", "val/loss"], points // 10)
        sweep.append(run)
    print(f"seeded in {time.time() - started:.0f} s", file=sys.stderr)
    return big, sweep


def page_weight():
    total = 0
    compressed = 0
    files = 0
    for folder, _, names in os.walk(DASHBOARD):
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                data = handle.read()
            total += len(data)
            compressed += len(gzip.compress(data, 9))
            files += 1
    return {"files": files, "bytes": total, "gzip_bytes": compressed}


def mark(browser, name, after=0.0, timeout=60):
    """The start time (ms since navigation) of the newest performance mark `name` later than `after`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = browser.execute_script(
            "const m = performance.getEntriesByName(arguments[0]).filter((e) => e.startTime > arguments[1]);"
            "return m.length ? m[m.length - 1].startTime : null;", name, after)
        if value is not None:
            return value
        time.sleep(0.01)
    raise TimeoutError(f"no {name} mark within {timeout} s")


def measure(browser, base, big, sweep, runs, points):
    result = {}
    browser.get(f"{base}/local/big/runs/{big}")
    result["run_page_3x1M_ms"] = mark(browser, "quill:charts-drawn")
    cards = browser.execute_script("return [...document.querySelectorAll('.chart-card')].map((c) => [c.dataset.metric, +c.dataset.points, +c.dataset.total])")
    assert len(cards) == 3 and all(total == points for _, _, total in cards), cards
    width = points // 100
    lo = points // 2
    t0 = browser.execute_script(
        "const t = performance.now(); document.querySelector('.chart-card').quillChart.zoomTo([arguments[0], arguments[1]]); return t;",
        lo, lo + width - 1)
    result["zoom_1pct_ms"] = mark(browser, "quill:zoom-drawn", t0) - t0
    shown = browser.execute_script("return [...document.querySelectorAll('.chart-card')].map((c) => +c.dataset.points)")
    # Full resolution: every point of the window is there (plus the overview outside it).
    result["zoom_points_per_chart"] = min(shown)
    assert min(shown) >= width, shown

    browser.get(f"{base}/local/many")
    result["runs_first_rows_ms"] = mark(browser, "quill:runs-page")
    mark(browser, "quill:runs-loaded", timeout=120)
    count = browser.execute_script("return document.querySelector('.vscroll table').getAttribute('aria-rowcount') - 1")
    assert count == runs, count
    t0 = browser.execute_script(
        "const box = document.querySelector('input.query'); box.value = 'params.lr = 0.001 and params.batch = 64';"
        "const t = performance.now(); box.dispatchEvent(new Event('input')); return t;")
    result["runs_filter_ms"] = mark(browser, "quill:runs-page", t0) - t0
    browser.execute_script(
        "const box = document.querySelector('input.query'); box.value = ''; box.dispatchEvent(new Event('input'));")
    mark(browser, "quill:runs-loaded", browser.execute_script("return performance.now()"), timeout=120)
    scroll = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const box = document.querySelector('.vscroll');
        const rowHeight = 29;
        let blank = 0, frames = 0;
        const started = performance.now();
        function step() {
            // The frame shows what the last scroll asked for: rows must cover the visible band.
            const rows = [...box.querySelectorAll('tbody tr[aria-rowindex]')];
            const first = rows.length ? +rows[0].getAttribute('aria-rowindex') - 2 : Infinity;
            const last = rows.length ? +rows[rows.length - 1].getAttribute('aria-rowindex') - 2 : -1;
            const top = Math.floor(box.scrollTop / rowHeight);
            const bottom = Math.min(Math.ceil((box.scrollTop + box.clientHeight) / rowHeight), %d) - 1;
            if (first > top || last < bottom) blank++;
            frames++;
            if (box.scrollTop + box.clientHeight >= box.scrollHeight - 1) { done({frames, blank, ms: performance.now() - started}); return; }
            box.scrollTop += box.clientHeight;
            requestAnimationFrame(() => requestAnimationFrame(step));
        }
        requestAnimationFrame(step);
    """ % runs)
    result["scroll_frames"] = scroll["frames"]
    result["scroll_blank_frames"] = scroll["blank"]
    result["scroll_ms"] = scroll["ms"]

    browser.get(f"{base}/local/sweep/compare?runs={','.join(sweep)}")
    result["compare_10x3x100k_ms"] = mark(browser, "quill:compare-drawn")
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "quill"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="quill-bench-dashboard-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(folder, "serve.log"), "w")
    # Relaxed durability only speeds up seeding; the pages only read.
    server = subprocess.Popen([args.binary, "serve", "--port", str(port), "--data", os.path.join(folder, "data"),
                               "--durability", "relaxed"], stdout=log, stderr=subprocess.STDOUT,
                              env=dict(os.environ, QUILL_HOME=os.path.join(folder, "home")))
    browser = None
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        big, sweep = seed(base, args.points, args.runs)
        options = webdriver.ChromeOptions()
        for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"]:
            options.add_argument(argument)
        if shutil.which("chromium"):
            options.binary_location = shutil.which("chromium")
        browser = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
        browser.set_script_timeout(300)
        samples = []
        for repeat in range(args.repeats + 1):
            sample = measure(browser, base, big, sweep, args.runs, args.points)
            print(("warm-up " if repeat == 0 else f"repeat {repeat}: ") + json.dumps(sample), file=sys.stderr)
            if repeat > 0:
                samples.append(sample)
        medians = {key: statistics.median(s[key] for s in samples) for key in samples[0]}
        report = {"medians": medians, "samples": samples, "page_weight": page_weight(),
                  "load": os.getloadavg(), "points": args.points, "runs": args.runs,
                  "chromium": browser.capabilities.get("browserVersion")}
        print(json.dumps(report, indent=2))
        if args.out:
            os.makedirs(os.path.dirname(args.out), exist_ok=True)
            with open(args.out, "w") as handle:
                json.dump(report, handle, indent=2)
    finally:
        if browser:
            browser.quit()
        server.terminate()
        server.wait(timeout=30)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
