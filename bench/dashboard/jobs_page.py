"""How the jobs page copes with a long queue: N jobs queued (for a device that never comes) on a fresh
`quill serve --local-workers 0`, then the three reads the page makes (the head of the queue in claim order,
the running jobs, the last finished ones) timed five times each, and the page opened three times in headless
Chromium, timed by its own `quill:jobs-drawn` mark (after the frame that shows the jobs).

Usage: QUILL_BINARY=.build/debug/quill python bench/dashboard/jobs_page.py [N]   (default 2000)
Uses the browser tests' server and browser helpers (Tests/Browser/dashboard_test.py).
"""
import os
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Browser"))
import dashboard_test as t  # noqa: E402

count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
server = t.Server(extra=("--local-workers", "0"))
try:
    def submit(i):
        server.api("POST", "/jobs", {"project": "perf", "name": f"job-{i}", "argv": ["python", "train.py", "--lr", str(i)],
                                     "device": "nowhere", "priority": i % 7, "config": {"lr": i, "bs": 32}})
    start = time.time()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(submit, range(count)))
    print(f"submitted {count} in {time.time() - start:.1f}s")
    for query in ["status=queued&status=lost&limit=500&order=queue", "status=running&limit=1000",
                  "status=completed&status=failed&status=cancelled&limit=200"]:
        times = []
        for _ in range(5):
            began = time.perf_counter()
            with urllib.request.urlopen(server.base + "/api/v1/jobs?" + query) as response:
                body = response.read()
            times.append((time.perf_counter() - began) * 1000)
        print(f"GET /jobs?{query}: median {sorted(times)[2]:.1f} ms, {len(body) / 1024:.0f} KiB")
    browser = t.DashboardTests.make_browser()
    try:
        for _ in range(3):
            browser.get(server.base + "/jobs")
            t.wait(browser, lambda b: b.execute_script("return performance.getEntriesByName('quill:jobs-drawn').length"), 60)
            drawn = browser.execute_script("return performance.getEntriesByName('quill:jobs-drawn')[0].startTime")
            heading = browser.execute_script("return document.querySelector('#jobs-queued').textContent")
            print(f"/jobs drawn {drawn:.0f} ms after navigation start; {heading}")
    finally:
        browser.quit()
finally:
    server.stop()
