"""The dashboard in a real browser: headless Chromium (Debian's chromium and chromium-driver) driven by
Selenium, against a real `quill serve` on 127.0.0.1 with seeded data.

Run by scripts/test.sh with the interop virtualenv's Python:  python Tests/Browser/dashboard_test.py
Environment: QUILL_BINARY (the built `quill`), QUILL_SCREENSHOTS (a folder; each test saves a PNG there).
"""
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("QUILL_BINARY", os.path.join(ROOT, ".build", "debug", "quill"))
STEPS_EXAMPLE = os.path.join(os.path.dirname(BINARY), "quill-steps-example")
SHOTS = os.environ.get("QUILL_SCREENSHOTS", os.path.join(ROOT, ".build", "browser-screenshots"))


def wait(browser, condition, timeout=20, message=""):
    """Polls `condition` until it is truthy. Pages re-render as data arrives: an element found a moment ago
    may be gone, so a stale element means look again."""
    return WebDriverWait(browser, timeout, poll_frequency=0.1,
                         ignored_exceptions=[StaleElementReferenceException]).until(condition, message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real `quill serve` in a temporary data folder."""

    def __init__(self, users=(), extra=()):
        self.folder = tempfile.mkdtemp(prefix="quill-browser-")
        self.keys = {}
        for name in users:
            created = subprocess.run([BINARY, "users", "create", name, "--data", os.path.join(self.folder, "data"), "--json"]
                                     + (["--admin"] if name == users[0] else []),
                                     check=True, capture_output=True, text=True, timeout=60)
            self.keys[name] = json.loads(created.stdout)["api_key"]
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, QUILL_HOME=os.path.join(self.folder, "home"))
        self.steps = os.path.join(self.folder, "steps")
        seed_steps(self.steps)
        self.log = open(os.path.join(self.folder, "serve.log"), "w")
        self.process = subprocess.Popen(
            [BINARY, "serve", "--port", str(self.port), "--data", os.path.join(self.folder, "data"),
             "--steps-root", self.steps, *extra],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"quill serve exited with {self.process.returncode}")
                time.sleep(0.2)
        raise RuntimeError("quill serve did not answer /healthz within 60 s")

    def api(self, method, path, body=None, key=None, headers=None):
        request = urllib.request.Request(
            self.base + "/api/v1" + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {}), **(headers or {})})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return json.loads(text) if text else None

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


# A 2×2 PNG (red, green / blue, white), built by hand so the test needs no image library.
def tiny_png():
    import struct
    import zlib
    rows = b"".join(b"\x00" + bytes(pixels) for pixels in [[255, 0, 0, 0, 255, 0], [0, 0, 255, 255, 255, 255]])
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


ARTIFACTS = {
    "notes/readme.txt": b"first line\nsecond line\n",
    "eval/metrics.json": b'{"accuracy": 0.91, "classes": ["cat", "dog"]}',
    "eval/confusion.csv": b'label,predicted,count\ncat,cat,40\n"dog, big",cat,3\n',
    "plots/tiny.png": tiny_png(),
}


def upload(server, run, path, content):
    import hashlib
    import urllib.parse
    server.api("POST", f"/runs/{run}/artifacts", {"path": path, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()})
    request = urllib.request.Request(
        f"{server.base}/api/v1/runs/{run}/artifacts/content?path={urllib.parse.quote(path, safe='')}", method="PUT",
        data=content, headers={"Content-Type": "application/octet-stream"})
    urllib.request.urlopen(request, timeout=30).read()


def seed_steps(root):
    """Three cached steps from the steps example: one dataset that two trainings (lr 0.05 and 0.1) use."""
    env = dict(os.environ, QUILL_STEPS_ROOT=root)
    for lr in ["0.05", "0.1"]:
        subprocess.run([STEPS_EXAMPLE, "--lr", lr, "--steps", "20"], env=env, check=True, capture_output=True, timeout=300)


def seed(server):
    """A project with four runs (one nested, one running), metrics with many points, params and tags."""
    server.api("POST", "/projects", {"name": "vision"})
    runs = {}
    for name, lr, layers in [("resnet-a", 0.01, 18), ("resnet-b", 0.001, 34), ("vit-c", 0.01, 12)]:
        run = server.api("POST", "/runs", {"project": "vision", "name": name, "config": {"lr": lr, "model": {"layers": layers}}})
        runs[name] = run["id"]
        # A decaying loss with deterministic noise, so smoothing has something to smooth.
        rows = [{"key": "train/loss", "value": math.exp(-i / 3000) * lr * 100 * (1 + 0.3 * math.sin(i * 12.9898) ** 3),
                 "step": i, "idx": i} for i in range(30000)]
        rows += [{"key": "val/acc", "value": 1 - math.exp(-i / 300), "step": i * 10, "idx": i} for i in range(3000)]
        server.api("POST", f"/runs/{run['id']}/batch", {"metrics": rows})
        server.api("POST", f"/runs/{run['id']}/tags", {"key": "arch", "value": name.split("-")[0]})
        server.api("PATCH", f"/runs/{run['id']}", {"status": "completed"})
    for path, content in ARTIFACTS.items():
        upload(server, runs["resnet-a"], path, content)
    child = server.api("POST", "/runs", {"project": "vision", "name": "eval-of-a", "parent": runs["resnet-a"]})
    runs["eval-of-a"] = child["id"]
    return runs


# Keyboard only: the tests below press keys (Tab, arrows, Enter, Space) on whatever has the focus, as a
# person without a mouse would, and never click.
def press(browser, *keys):
    ActionChains(browser).send_keys(*keys).perform()


def tab_to(browser, predicate, limit=80, message=""):
    """Presses Tab until `predicate` (JavaScript over `element`, the focused element) holds; returns the
    focused element. Fails after `limit` presses."""
    for _ in range(limit):
        press(browser, Keys.TAB)
        if browser.execute_script(f"const element = document.activeElement; return Boolean({predicate});"):
            return browser.switch_to.active_element
    raise AssertionError(f"Tab never reached {message or predicate}")


def focus_ring(browser):
    """Whether the focused element shows a focus ring (an outline, or for a graph node a thicker stroke)."""
    return browser.execute_script("""
        const e = document.activeElement;
        const style = getComputedStyle(e);
        if (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) return true;
        const rect = e.querySelector && e.querySelector('rect');
        return Boolean(rect && parseFloat(getComputedStyle(rect).strokeWidth) >= 3);""")


def unnamed(browser):
    """Tables, charts and controls on the page without an accessible name."""
    return browser.execute_script("""
        const name = (e) => (e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || e.querySelector(':scope > caption')
            || (e.labels && e.labels.length) || e.closest('label') || (e.textContent || '').trim() || e.getAttribute('title')
            || e.querySelector('title'));
        return [...document.querySelectorAll('main table, main canvas, main svg[role=img], main button, main a[href], main input, main select')]
            .filter((e) => e.closest('.chart-tooltip') === null && e.type !== 'hidden' && !name(e))
            .map((e) => e.outerHTML.slice(0, 120));""")


class DashboardTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.runs = seed(cls.server)
        cls.browser = cls.make_browser()

    @staticmethod
    def make_browser():
        options = webdriver.ChromeOptions()
        for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                         "--disable-gpu", "--force-color-profile=srgb"]:
            options.add_argument(argument)
        binary = shutil.which("chromium")
        if binary:
            options.binary_location = binary
        driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
        browser = webdriver.Chrome(service=Service(driver), options=options)
        browser.set_page_load_timeout(60)
        os.makedirs(SHOTS, exist_ok=True)
        return browser

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        cls.server.stop()

    def tearDown(self):
        self.browser.save_screenshot(os.path.join(SHOTS, f"{self._testMethodName}.png"))
        errors = [e for e in self.browser.get_log("browser") if e.get("level") == "SEVERE"] if hasattr(self.browser, "get_log") else []
        # Answers the API gives on purpose (a 404 for a missing run, a 400 for a bad filter) are logged by
        # Chromium as failed resources; everything else (script errors, CSP violations) fails the test.
        self.assertEqual([], [e for e in errors if e.get("source") != "network"], "no errors in the console")

    def wait(self, condition, timeout=20, message=""):
        return wait(self.browser, condition, timeout, message)

    def open(self, path):
        self.browser.get(self.server.base + path)

    def rows(self):
        # Read in one script: the table re-renders while pages of runs arrive, so elements found one call
        # earlier may be gone.
        return self.browser.execute_script(
            "return [...document.querySelectorAll('.vscroll tbody tr[aria-rowindex]')].map((r) => r.innerText)")

    def test_projects_page_lists_the_project(self):
        self.open("/")
        link = self.wait(lambda b: b.find_element(By.LINK_TEXT, "vision"))
        self.assertEqual(link.get_attribute("href"), self.server.base + "/local/vision")

    def test_runs_table_shows_sorts_and_nests(self):
        self.open("/local/vision")
        self.wait(lambda b: len(self.rows()) == 4, message="four runs")
        names = [r.split("\n")[0] for r in self.rows()]
        text = "\n".join(self.rows())
        for name in ["resnet-a", "resnet-b", "vit-c", "eval-of-a"]:
            self.assertIn(name, text)
        # The child follows its parent.
        order = [next(n for n in ["eval-of-a", "resnet-a", "resnet-b", "vit-c"] if n in row) for row in self.rows()]
        self.assertEqual(order.index("eval-of-a"), order.index("resnet-a") + 1, names)
        # Sorting by name, ascending then descending, reorders the rows and lands in the URL.
        button = self.browser.find_element(By.XPATH, "//th//button[starts-with(normalize-space(.), 'Name')]")
        button.click()
        self.wait(lambda b: "sort=name" in b.current_url)
        self.wait(lambda b: [n for n in ["resnet-a", "resnet-b", "vit-c"] if any(n in r for r in self.rows())] and
                  [next(n for n in ["eval-of-a", "resnet-a", "resnet-b", "vit-c"] if n in r) for r in self.rows()][0] in ("eval-of-a", "resnet-a"))
        self.browser.find_element(By.XPATH, "//th//button[starts-with(normalize-space(.), 'Name')]").click()
        self.wait(lambda b: "sort=-name" in b.current_url)
        self.wait(lambda b: "vit-c" in self.rows()[0], message="descending puts vit-c first")

    def test_filter_narrows_and_a_bad_filter_shows_where(self):
        self.open("/local/vision")
        self.wait(lambda b: len(self.rows()) == 4)
        box = self.browser.find_element(By.CSS_SELECTOR, "input.query")
        box.send_keys("params.lr = 0.01 and status = completed")
        self.wait(lambda b: len(self.rows()) == 2, message="two runs have lr 0.01")
        self.assertIn("q=params.lr", self.browser.current_url)
        text = "\n".join(self.rows())
        self.assertIn("resnet-a", text)
        self.assertIn("vit-c", text)
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys("params.lr = = 1")
        error = self.wait(lambda b: b.find_element(By.CSS_SELECTOR, ".field-error").text or None, message="error shown")
        self.assertIn("column", error)
        self.assertIn("^", error)
        self.assertEqual(box.get_attribute("aria-invalid"), "true")

    def test_run_page_draws_one_chart_per_metric_and_zooms(self):
        run = self.runs["resnet-a"]
        self.open(f"/runs/{run}")
        self.wait(lambda b: b.current_url.endswith(f"/local/vision/runs/{run}"), message="redirected to the project URL")
        cards = self.wait(lambda b: [c for c in b.find_elements(By.CSS_SELECTOR, ".chart-card") if c.get_attribute("data-points")] or None)
        self.wait(lambda b: len([c for c in b.find_elements(By.CSS_SELECTOR, ".chart-card") if c.get_attribute("data-points")]) == 2)
        cards = {c.get_attribute("data-metric"): c for c in self.browser.find_elements(By.CSS_SELECTOR, ".chart-card")}
        self.assertEqual(set(cards), {"train/loss", "val/acc"})
        loss = cards["train/loss"]
        self.assertEqual(loss.get_attribute("data-total"), "30000")
        shown = int(loss.get_attribute("data-points"))
        self.assertTrue(0 < shown < 30000, f"the 30,000-point series arrives downsampled, got {shown}")
        self.assertEqual(cards["val/acc"].get_attribute("data-total"), "3000")
        domain = lambda card: [float(v) for v in card.find_element(By.TAG_NAME, "canvas").get_attribute("data-x-domain").split(",")]
        self.assertEqual(domain(loss), [0, 29999])
        self.assertEqual(domain(cards["val/acc"]), [0, 29990])
        # Keyboard zoom on the first chart: the zoom lands in the URL, every chart shows the range, and the
        # range is fetched at the finer resolution and spliced into the overview.
        canvas = loss.find_element(By.TAG_NAME, "canvas")
        canvas.send_keys("+")
        self.wait(lambda b: "zoom=" in b.current_url, message="zoom in the URL")
        zoom = [float(v) for v in self.browser.current_url.split("zoom=")[1].split("&")[0].replace("%2C", ",").split(",")]
        self.assertLess(zoom[1] - zoom[0], 30000 * 0.6)
        self.wait(lambda b: int(loss.get_attribute("data-points")) > shown, message="finer points in the zoomed range")
        self.wait(lambda b: domain(cards["val/acc"]) == domain(loss), message="charts share the x range")
        self.assertAlmostEqual(domain(loss)[0], zoom[0], delta=1)
        canvas.send_keys("0")
        self.wait(lambda b: "zoom=" not in b.current_url, message="0 resets the zoom")
        self.wait(lambda b: domain(cards["val/acc"]) == [0, 29990] and domain(loss) == [0, 29999], message="reset shows everything")
        self.assertEqual(int(loss.get_attribute("data-points")), shown)
        label = canvas.get_attribute("aria-label")
        self.assertIn("train/loss", label)
        children = self.browser.find_element(By.CSS_SELECTOR, "td.children")
        self.assertIn("eval-of-a", children.text, "the nested run is listed under its parent")

    def test_compare_overlays_runs_and_marks_exactly_the_differing_params(self):
        self.open("/local/vision")
        self.wait(lambda b: len(self.rows()) == 4)
        for name in ["resnet-a", "resnet-b"]:
            self.browser.find_element(By.CSS_SELECTOR, f"input[aria-label='select {name}']").click()
        link = self.wait(lambda b: b.find_element(By.PARTIAL_LINK_TEXT, "Compare 2 runs"))
        link.click()
        self.wait(lambda b: "/local/vision/compare?runs=" in b.current_url)
        self.wait(lambda b: len([c for c in b.find_elements(By.CSS_SELECTOR, ".chart-card") if c.get_attribute("data-series") == "2"]) == 2,
                  message="both metrics drawn with one series per run")
        differing = {r.get_attribute("data-key") for r in self.browser.find_elements(By.CSS_SELECTOR, "table.compare-params tr.differs")}
        self.assertEqual(differing, {"lr", "model.layers"}, "resnet-a and resnet-b differ in lr and layers only")
        same = {r.get_attribute("data-key") for r in self.browser.find_elements(By.CSS_SELECTOR, "table.compare-params tbody tr:not(.differs)")}
        self.assertEqual(same, set())
        canvas = self.browser.find_element(By.CSS_SELECTOR, "canvas[aria-label^='Parallel coordinates']")
        self.wait(lambda b: canvas.get_attribute("data-lines") == "2")
        self.assertEqual(canvas.get_attribute("data-axes"), "lr,model.layers,metrics.train/loss")

    def test_artifact_previews_show_each_files_content(self):
        run = self.runs["resnet-a"]
        self.open(f"/local/vision/runs/{run}")
        def preview(path):
            row = self.wait(lambda b: b.find_element(By.CSS_SELECTOR, f"tr[data-artifact='{path}']"))
            row.find_element(By.CSS_SELECTOR, "button.preview-button").click()
            return self.wait(lambda b: b.find_element(By.CSS_SELECTOR, ".artifact-preview h3").text == path
                             and b.find_elements(By.CSS_SELECTOR, ".artifact-preview .preview, .artifact-preview img")
                             and b.find_element(By.CSS_SELECTOR, ".artifact-preview"))
        self.assertIn("second line", preview("notes/readme.txt").text)
        shown = preview("eval/metrics.json").text
        self.assertIn('"accuracy": 0.91', shown, "JSON is pretty-printed")
        self.assertIn('"cat",', shown)
        area = preview("eval/confusion.csv")
        cells = [[c.text for c in r.find_elements(By.CSS_SELECTOR, "th, td")] for r in area.find_elements(By.CSS_SELECTOR, "table.csv tr")]
        self.assertEqual(cells, [["label", "predicted", "count"], ["cat", "cat", "40"], ["dog, big", "cat", "3"]])
        image = preview("plots/tiny.png").find_element(By.TAG_NAME, "img")
        self.wait(lambda b: b.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 2,
                  message="the PNG decodes: 2 pixels wide")

    def test_steps_page_filters_lists_and_draws_the_graph(self):
        self.open("/steps")
        self.wait(lambda b: len(b.find_elements(By.CSS_SELECTOR, "table.steps tbody tr")) == 3, message="three steps")
        edges = self.browser.find_elements(By.CSS_SELECTOR, ".step-graph path.edge")
        pairs = sorted((e.get_attribute("data-from").split("/")[0], e.get_attribute("data-to").split("/")[0]) for e in edges)
        self.assertEqual(pairs, [("QuillStepsExample.TrainModel", "QuillStepsExample.Dataset")] * 2,
                         "both trainings depend on the one dataset")
        self.assertEqual(len(self.browser.find_elements(By.CSS_SELECTOR, ".step-graph a.node.success")), 3)
        # A filter: namespace prefix and a config condition, in the URL.
        self.browser.find_element(By.NAME, "namespace_prefix").send_keys("QuillStepsExample.Train")
        self.browser.find_element(By.NAME, "config").send_keys("lr=0.1")
        self.browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
        self.wait(lambda b: "namespace_prefix=QuillStepsExample.Train" in b.current_url and "config=lr%3D0.1" in b.current_url)
        self.wait(lambda b: len(b.find_elements(By.CSS_SELECTOR, "table.steps tbody tr")) == 1, message="one training with lr 0.1")
        # The graph opens a step's page with its dependency.
        dataset = next(a for a in self.browser.find_elements(By.CSS_SELECTOR, ".step-graph a.node")
                       if a.get_attribute("data-node").startswith("QuillStepsExample.Dataset/"))
        self.browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", dataset)
        self.wait(lambda b: "/steps/QuillStepsExample.Dataset/" in b.current_url)
        used_by = self.wait(lambda b: b.find_elements(By.CSS_SELECTOR, "ul.dependents li") or None)
        self.assertEqual(len(used_by), 2)
        self.assertIn("samples", self.browser.find_element(By.CSS_SELECTOR, "table[aria-label=Config]").text)

    def test_system_charts_cpu_memory_and_gpu_when_logged(self):
        # The SDK uploads system.jsonl samples as metrics named system/<field> (GPU fields from nvidia-smi,
        # absent on this machine, so they are logged here as the sampler names them). Its own project, and the
        # run removed at the end, so the other tests' counts stay as seeded.
        run = self.server.api("POST", "/runs", {"project": "hardware", "name": "sampled"})["id"]
        fields = ["cpu_percent", "memory_percent", "gpu0_util_percent", "gpu0_memory_used_mb", "gpu1_util_percent"]
        try:
            self.server.api("POST", f"/runs/{run}/batch", {"metrics": [
                {"key": f"system/{field}", "value": (i * (n + 3)) % 97, "step": i, "idx": i}
                for n, field in enumerate(fields) for i in range(40)] + [
                {"key": "train/loss", "value": 1 / (i + 1), "step": i} for i in range(40)]})
            self.open(f"/local/hardware/runs/{run}")
            self.wait(lambda b: len([c for c in b.find_elements(By.CSS_SELECTOR, ".chart-card") if c.get_attribute("data-points")]) == 6,
                      message="six charts drawn")
            sections = self.browser.execute_script("""
                return [...document.querySelectorAll('main section')].filter((s) => s.querySelector('.chart-card'))
                    .map((s) => [s.querySelector('h2').textContent, [...s.querySelectorAll('.chart-card')].map((c) => c.dataset.metric)]);""")
            self.assertEqual(sections[-1][0], "System (CPU, memory, GPU)", "system charts come last, under their own heading")
            self.assertEqual(sorted(sections[-1][1]), sorted(f"system/{f}" for f in fields))
            for field in fields:
                card = self.browser.find_element(By.CSS_SELECTOR, f".chart-card[data-metric='system/{field}']")
                self.assertEqual(card.get_attribute("data-total"), "40", field)
                self.assertIn(f"system/{field}", card.find_element(By.TAG_NAME, "canvas").get_attribute("aria-label"))
        finally:
            self.server.api("DELETE", f"/runs/{run}")

    def test_a_running_runs_charts_and_log_follow_without_reload(self):
        # Its own project, removed at the end, so the other tests' counts stay as seeded.
        live = self.server.api("POST", "/runs", {"project": "live", "name": "live-run"})["id"]
        try:
            self.follow_live_run(live)
        finally:
            self.server.api("DELETE", f"/runs/{live}")

    def follow_live_run(self, live):
        self.open(f"/local/live/runs/{live}")
        self.wait(lambda b: "No metrics logged yet." in b.find_element(By.TAG_NAME, "main").text)
        marker = self.browser.execute_script("window.__sameDocument = true; return 1")
        self.server.api("POST", f"/runs/{live}/batch", {
            "metrics": [{"key": "live/loss", "value": 1 / (i + 1), "step": i} for i in range(50)],
            "logs": [{"message": "epoch 1 done"}],
        })
        card = self.wait(lambda b: b.find_element(By.CSS_SELECTOR, ".chart-card[data-metric='live/loss']"), timeout=30,
                         message="the new metric's chart appears")
        self.wait(lambda b: card.get_attribute("data-points") == "50", timeout=30)
        self.wait(lambda b: "epoch 1 done" in b.find_element(By.CSS_SELECTOR, "pre.log").text, timeout=30)
        self.server.api("POST", f"/runs/{live}/batch", {
            "metrics": [{"key": "live/loss", "value": 0.01, "step": i} for i in range(50, 80)],
            "logs": [{"message": "epoch 2 done"}],
        })
        self.wait(lambda b: b.find_element(By.CSS_SELECTOR, ".chart-card[data-metric='live/loss']").get_attribute("data-points") == "80",
                  timeout=30, message="new points appear on the chart")
        self.wait(lambda b: "epoch 2 done" in b.find_element(By.CSS_SELECTOR, "pre.log").text, timeout=30)
        self.assertTrue(self.browser.execute_script("return window.__sameDocument === true"), "no reload happened")
        self.assertEqual(marker, 1)

    def test_keyboard_runs_table_moves_opens_selects_and_sorts(self):
        self.open("/local/vision")
        self.wait(lambda b: len(self.rows()) == 4)
        self.browser.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
        # The sort headers are buttons, reached with Tab and pressed with Enter; aria-sort follows.
        tab_to(self.browser, "element.matches('th button.sort') && element.textContent.startsWith('Name')", message="the Name header")
        self.assertTrue(focus_ring(self.browser), "a visible focus ring on the header button")
        press(self.browser, Keys.ENTER)
        self.wait(lambda b: "sort=name" in b.current_url)
        header = self.wait(lambda b: b.find_element(By.XPATH, "//th[.//button[starts-with(normalize-space(.), 'Name')]]"))
        self.wait(lambda b: header.get_attribute("aria-sort") == "ascending")
        # The table is one tab stop (a grid); arrows move the active row, Space selects, Enter opens.
        grid = tab_to(self.browser, "element.matches('table[role=grid]')", message="the runs grid")
        self.assertTrue(focus_ring(self.browser), "a visible focus ring on the grid")
        self.assertEqual(grid.get_attribute("aria-label"), "Runs of vision")
        active = lambda: self.browser.execute_script(
            "const t = document.querySelector('table[role=grid]'); const id = t.getAttribute('aria-activedescendant');"
            "return id ? document.getElementById(id).innerText : null")
        self.wait(lambda b: active(), message="focusing the grid makes a row active")
        # The active row is kept by run across the re-sort (it was set when Tab passed the grid on the way
        # to the header); Home goes to the first row.
        press(self.browser, Keys.HOME)
        first = self.wait(lambda b: self.browser.execute_script(
            "return document.querySelector('table[role=grid]').getAttribute('aria-activedescendant')").endswith("-r0") and active())
        press(self.browser, Keys.ARROW_DOWN)
        second = self.wait(lambda b: active() != first and active())
        self.assertTrue(self.browser.execute_script(
            "const r = document.querySelector('tr.active'); return getComputedStyle(r).outlineStyle !== 'none'"), "the active row is outlined")
        press(self.browser, Keys.SPACE)
        self.wait(lambda b: "runs=" in b.current_url, message="Space selects the row's run")
        press(self.browser, Keys.ARROW_UP)
        self.wait(lambda b: active() == first)
        press(self.browser, Keys.SPACE)
        link = self.wait(lambda b: b.find_element(By.PARTIAL_LINK_TEXT, "Compare 2 runs"))
        self.assertTrue(link.is_displayed())
        press(self.browser, Keys.END)
        self.wait(lambda b: active() not in (first, second) and active())
        target = self.browser.execute_script("return document.querySelector('tr.active a').href")
        self.assertEqual(unnamed(self.browser), [], "every table, chart and control of the runs page has a name")
        press(self.browser, Keys.ENTER)
        self.wait(lambda b: b.current_url == target, message="Enter opens the active run")
        self.wait(lambda b: len([c for c in b.find_elements(By.CSS_SELECTOR, ".chart-card") if c.get_attribute("data-points")]) == 2)
        self.assertEqual(unnamed(self.browser), [], "and of the run page")

    def test_keyboard_compare_projects_and_artifacts(self):
        # Projects: the project link by Tab and Enter.
        self.open("/")
        self.wait(lambda b: b.find_elements(By.LINK_TEXT, "vision"))
        self.assertEqual(unnamed(self.browser), [])
        tab_to(self.browser, "element.matches('main a') && element.textContent === 'vision'", message="the project link")
        self.assertTrue(focus_ring(self.browser))
        press(self.browser, Keys.ENTER)
        self.wait(lambda b: b.current_url.endswith("/local/vision"))
        # Compare: the only-differing checkbox with Space, a chart zoomed with +.
        a, b_ = self.runs["resnet-a"], self.runs["resnet-b"]
        self.open(f"/local/vision/compare?runs={a},{b_}")
        self.wait(lambda b: len([c for c in b.find_elements(By.CSS_SELECTOR, ".chart-card") if c.get_attribute("data-series") == "2"]) == 2)
        self.assertEqual(unnamed(self.browser), [])
        tab_to(self.browser, "element.getAttribute('aria-label') === 'Only params that differ'", message="the differing toggle")
        self.assertTrue(focus_ring(self.browser))
        press(self.browser, Keys.SPACE)
        self.wait(lambda b: "diff=1" in b.current_url)
        tab_to(self.browser, "element.tagName === 'CANVAS' && element.closest('.chart-card')", message="a chart")
        self.assertTrue(focus_ring(self.browser))
        press(self.browser, "+")
        self.wait(lambda b: "zoom=" in b.current_url or b.execute_script("return document.activeElement.dataset.xDomain"), message="+ zooms")
        # Artifacts: Preview buttons by Tab and Enter, and the preview shows.
        self.open(f"/local/vision/runs/{a}")
        self.wait(lambda b: b.find_elements(By.CSS_SELECTOR, "tr[data-artifact] button.preview-button"))
        self.wait(lambda b: len([c for c in b.find_elements(By.CSS_SELECTOR, ".chart-card") if c.get_attribute("data-points")]) == 2)
        self.assertEqual(unnamed(self.browser), [])
        tab_to(self.browser, "element.matches('button.preview-button') && element.closest('tr').dataset.artifact === 'notes/readme.txt'",
               limit=120, message="the readme's Preview button")
        self.assertTrue(focus_ring(self.browser))
        press(self.browser, Keys.ENTER)
        self.wait(lambda b: "second line" in b.find_element(By.CSS_SELECTOR, ".artifact-preview").text)

    def test_keyboard_steps_list_and_graph(self):
        self.open("/steps")
        self.wait(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".step-graph a.node")) == 3)
        self.assertEqual(unnamed(self.browser), [])
        # A graph node is reached with Tab, shows its ring, and Enter opens the step.
        node = tab_to(self.browser, "element.dataset && element.dataset.node && element.dataset.node.startsWith('QuillStepsExample.Dataset/')",
                      limit=120, message="the dataset's graph node")
        self.assertTrue(focus_ring(self.browser), "the focused node is drawn thicker")
        self.assertIn("success", node.get_attribute("aria-label"))
        press(self.browser, Keys.ENTER)
        self.wait(lambda b: "/steps/QuillStepsExample.Dataset/" in b.current_url)
        self.wait(lambda b: b.find_elements(By.CSS_SELECTOR, "ul.dependents li"))
        self.assertEqual(unnamed(self.browser), [])
        # The steps list: the hash links open with Enter.
        self.open("/steps")
        self.wait(lambda b: len(b.find_elements(By.CSS_SELECTOR, "table.steps tbody tr")) == 3)
        tab_to(self.browser, "element.matches('table.steps a')", limit=120, message="a step link in the list")
        self.assertTrue(focus_ring(self.browser))
        press(self.browser, Keys.ENTER)
        self.wait(lambda b: "/steps/QuillStepsExample." in b.current_url)

    def test_a_running_run_follows_its_event_stream(self):
        live = self.server.api("POST", "/runs", {"project": "live", "name": "streamed"})["id"]
        try:
            self.open(f"/local/live/runs/{live}")
            self.wait(lambda b: b.find_element(By.ID, "main").get_attribute("data-live") == "live", message="the page follows the stream")
            self.server.api("POST", f"/runs/{live}/batch", {
                "metrics": [{"key": "s/loss", "value": i, "step": i} for i in range(20)], "logs": [{"message": "streamed line"}]})
            card = self.wait(lambda b: b.find_element(By.CSS_SELECTOR, ".chart-card[data-metric='s/loss']"), timeout=30)
            self.wait(lambda b: card.get_attribute("data-points") == "20", timeout=30)
            self.wait(lambda b: "streamed line" in b.find_element(By.CSS_SELECTOR, "pre.log").text, timeout=30)
            self.server.api("POST", f"/runs/{live}/batch", {"metrics": [{"key": "s/loss", "value": 0, "step": i} for i in range(20, 25)]})
            self.wait(lambda b: b.find_element(By.CSS_SELECTOR, ".chart-card[data-metric='s/loss']").get_attribute("data-points") == "25", timeout=30)
            self.server.api("PATCH", f"/runs/{live}", {"status": "completed", "summary": {"best": 0}})
            self.wait(lambda b: "completed" in b.find_element(By.TAG_NAME, "h1").text, timeout=30, message="the end shows without reload")
            self.wait(lambda b: "best" in b.find_element(By.CSS_SELECTOR, "table[aria-label=Summary]").text, timeout=30)
            self.wait(lambda b: b.find_element(By.ID, "main").get_attribute("data-live") == "ended")
        finally:
            self.server.api("DELETE", f"/runs/{live}")

    def test_a_run_page_polls_when_the_stream_is_refused(self):
        # The stream's route answering 404 (as an old server would) leaves the page polling.
        live = self.server.api("POST", "/runs", {"project": "live", "name": "polled"})["id"]
        try:
            self.open(f"/local/live/runs/{live}")
            self.wait(lambda b: b.find_element(By.ID, "main").get_attribute("data-live") == "live")
            self.browser.execute_script("""
                const Original = window.EventSource;
                window.EventSource = class extends Original { constructor(url, options) { super(url.replace('/events', '/no-such-events'), options); } };""")
            # Reopen the page in-document so it opens the (now refused) stream again.
            self.browser.execute_script("history.pushState(null, '', '/'); dispatchEvent(new PopStateEvent('popstate'))")
            self.wait(lambda b: b.find_elements(By.LINK_TEXT, "vision"))
            self.browser.execute_script(f"history.pushState(null, '', '/local/live/runs/{live}'); dispatchEvent(new PopStateEvent('popstate'))")
            self.wait(lambda b: b.find_element(By.ID, "main").get_attribute("data-live") == "polling", timeout=30)
            self.server.api("POST", f"/runs/{live}/logs", {"message": "polled line"})
            self.wait(lambda b: "polled line" in b.find_element(By.CSS_SELECTOR, "pre.log").text, timeout=30)
        finally:
            self.server.api("DELETE", f"/runs/{live}")

    def test_stats_page_and_project_counts(self):
        self.open("/")
        row = self.wait(lambda b: b.find_element(By.XPATH, "//tr[td/a[text()='vision']]"))
        self.wait(lambda b: "3 completed" in row.text and "1 running" in row.text, message=row.text)
        self.open("/stats")
        self.wait(lambda b: b.find_elements(By.CSS_SELECTOR, "tr[data-status='completed']"))
        counts = {r.get_attribute("data-status"): r.text.split()[-1] for r in self.browser.find_elements(By.CSS_SELECTOR, "tr[data-status]")}
        self.assertEqual(counts, {"completed": "3", "running": "1"})
        points = self.browser.find_element(By.CSS_SELECTOR, "td[data-value]").get_attribute("data-value")
        self.assertEqual(points, str(3 * (30000 + 3000)), "every metric point of the project")
        bars = self.browser.find_elements(By.CSS_SELECTOR, "svg.bars rect")
        self.assertEqual(len(bars), 90)
        self.assertEqual(sum(int(b.find_element(By.TAG_NAME, "title").get_attribute("textContent").split(": ")[1].split()[0]) for b in bars), 4)

    def test_readme_screenshots(self):
        """The README's pictures: the runs table and a run page (copied to Docs/images by hand when they change)."""
        self.open("/local/vision?columns=params.lr,params.model.layers,metrics.train/loss")
        self.wait(lambda b: len(self.rows()) == 4)
        self.browser.save_screenshot(os.path.join(SHOTS, "readme-runs-table.png"))
        self.open(f"/local/vision/runs/{self.runs['resnet-b']}?smooth=0.97")
        self.wait(lambda b: len([c for c in b.find_elements(By.CSS_SELECTOR, ".chart-card") if c.get_attribute("data-points")]) == 2)
        self.browser.execute_script("document.querySelector('h2').scrollIntoView()")
        self.browser.save_screenshot(os.path.join(SHOTS, "readme-run-page.png"))
        self.assertTrue(os.path.getsize(os.path.join(SHOTS, "readme-run-page.png")) > 10_000)

    def test_an_unknown_page_and_reserved_paths(self):
        self.open("/local/vision/runs/zzzzzzzz")
        heading = self.wait(lambda b: b.find_element(By.TAG_NAME, "h1").text if b.find_element(By.TAG_NAME, "h1").text != "" else None)
        self.wait(lambda b: b.find_element(By.TAG_NAME, "h1").text == "Not found")
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(self.server.base + "/api/v2/anything")
        self.assertEqual(caught.exception.code, 404)
        del heading


    def test_assets_are_fingerprinted_cached_and_revalidated(self):
        with urllib.request.urlopen(self.server.base + "/") as response:
            html = response.read().decode()
            self.assertEqual(response.headers["Cache-Control"], "no-cache")
            self.assertIn("default-src 'self'", response.headers["Content-Security-Policy"])
            etag = response.headers["ETag"]
        digest = html.split('src="/assets/')[1].split("/")[0]
        self.assertRegex(digest, r"^[0-9a-f]{16}$")
        with urllib.request.urlopen(f"{self.server.base}/assets/{digest}/js/app.js") as response:
            self.assertEqual(response.headers["Content-Type"], "text/javascript; charset=utf-8")
            self.assertIn("immutable", response.headers["Cache-Control"])
        with urllib.request.urlopen(f"{self.server.base}/assets/css/app.css") as response:
            self.assertEqual(response.headers["Cache-Control"], "no-cache", "without the digest: revalidate")
            self.assertEqual(response.headers["Content-Type"], "text/css; charset=utf-8")
        request = urllib.request.Request(self.server.base + "/", headers={"If-None-Match": etag})
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request)
        self.assertEqual(caught.exception.code, 304)
        for path in ["/assets/../index.html", f"/assets/{digest}/%2e%2e/index.html", "/assets/js/nothing.js", "/assets/"]:
            with self.assertRaises(urllib.error.HTTPError, msg=path) as caught:
                urllib.request.urlopen(self.server.base + path)
            self.assertEqual(caught.exception.code, 404, path)
        self.browser.get(self.server.base + "/")


class SignInTests(unittest.TestCase):
    """A server with users: public projects for everyone, private ones only for who may read them, sign-in
    with an API key into an HttpOnly session cookie, sign-out that ends the session on the server, and no
    cross-site use of the cookie."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server(users=("alice", "bob"))
        alice = cls.server.keys["alice"]
        cls.server.api("POST", "/projects", {"name": "secret"}, key=alice)
        cls.server.api("POST", "/runs", {"project": "alice/secret", "name": "hidden-run"}, key=alice)
        cls.server.api("POST", "/projects", {"name": "open"}, key=alice)
        cls.server.api("PATCH", "/projects/alice/open", {"visibility": "public"}, key=alice)
        cls.server.api("POST", "/runs", {"project": "alice/open", "name": "shown-run"}, key=alice)
        cls.browser = DashboardTests.make_browser()

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        cls.server.stop()

    def tearDown(self):
        self.browser.save_screenshot(os.path.join(SHOTS, f"{self._testMethodName}.png"))

    def wait(self, condition, timeout=20, message=""):
        return wait(self.browser, condition, timeout, message)

    def heading(self):
        return self.wait(lambda b: b.find_element(By.TAG_NAME, "h1").text not in ("", "Loading…") and b.find_element(By.TAG_NAME, "h1").text)

    def sign_in(self, user):
        self.browser.get(self.server.base + "/signin")
        box = self.wait(lambda b: b.find_element(By.NAME, "api_key"))
        box.send_keys(self.server.keys[user])
        box.submit()
        self.wait(lambda b: b.find_element(By.CSS_SELECTOR, "#who .user").text == user, message=f"signed in as {user}")

    def sign_out(self):
        self.browser.find_element(By.CSS_SELECTOR, "#who button.signout").click()
        self.wait(lambda b: b.find_elements(By.LINK_TEXT, "Sign in"), message="signed out")

    def test_private_pages_are_refused_to_others_and_sign_out_ends_the_session(self):
        self.browser.delete_all_cookies()
        self.browser.get(self.server.base + "/")
        self.wait(lambda b: b.find_elements(By.LINK_TEXT, "open"), message="anonymous sees the public project")
        self.assertEqual(self.browser.find_elements(By.LINK_TEXT, "secret"), [])
        self.browser.get(self.server.base + "/alice/secret")
        self.assertEqual(self.heading(), "Not found", "a private project answers like a missing one to an anonymous browser")

        self.sign_in("bob")
        self.browser.get(self.server.base + "/alice/secret")
        self.assertEqual(self.heading(), "Not found", "and to a user who may not read it")
        self.assertNotIn("quill_session", self.browser.execute_script("return document.cookie"), "HttpOnly: scripts cannot read it")
        self.assertEqual(self.browser.execute_script("return window.localStorage.length"), 0, "the key is not stored")
        cookie = self.browser.get_cookie("quill_session")
        self.assertTrue(cookie["httpOnly"])
        self.assertEqual(cookie.get("sameSite"), "Strict")
        self.sign_out()

        self.sign_in("alice")
        self.browser.get(self.server.base + "/alice/secret")
        self.wait(lambda b: "hidden-run" in b.find_element(By.TAG_NAME, "main").text, message="alice sees her private run")
        token = self.browser.get_cookie("quill_session")["value"]
        whoami = lambda: self.server.api("GET", "/whoami", headers={"Cookie": f"quill_session={token}"})
        self.assertEqual(whoami()["user"], "alice")
        self.sign_out()
        self.assertIsNone(self.browser.get_cookie("quill_session"))
        self.assertEqual(whoami()["mode"], "anonymous", "the old cookie no longer works: the session ended on the server")

    def test_sign_in_by_keyboard(self):
        self.browser.delete_all_cookies()
        self.browser.get(self.server.base + "/signin")
        self.wait(lambda b: b.find_element(By.NAME, "api_key"))
        self.assertEqual(self.browser.switch_to.active_element.get_attribute("name"), "api_key", "the key field has the focus")
        self.assertEqual(unnamed(self.browser), [])
        press(self.browser, self.server.keys["bob"], Keys.ENTER)
        self.wait(lambda b: b.find_elements(By.CSS_SELECTOR, "#who .user") and b.find_element(By.CSS_SELECTOR, "#who .user").text == "bob")
        tab_to(self.browser, "element.matches('#who button.signout')", message="the sign-out button")
        self.assertTrue(focus_ring(self.browser))
        press(self.browser, Keys.ENTER)
        self.wait(lambda b: b.find_elements(By.LINK_TEXT, "Sign in"), message="signed out by keyboard")

    def test_counts_cover_only_what_the_caller_may_read(self):
        bob = self.server.keys["bob"]
        stats = self.server.api("GET", "/stats", key=bob)
        self.assertEqual(stats["projects"], 1, "bob may read alice's public project only")
        self.assertEqual(stats["runs_by_status"], {"running": 1})
        listed = self.server.api("GET", "/projects", key=bob)["projects"]
        self.assertEqual([(p["path"], p["run_counts"]) for p in listed], [("alice/open", {"running": 1})])
        anonymous = self.server.api("GET", "/stats")
        self.assertEqual(anonymous["projects"], 1)

    def test_the_session_cookie_cannot_be_used_from_another_site(self):
        self.sign_in("alice")
        token = self.browser.get_cookie("quill_session")["value"]
        cookie = {"Cookie": f"quill_session={token}"}
        for headers in [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}]:
            with self.assertRaises(urllib.error.HTTPError, msg=str(headers)) as caught:
                self.server.api("POST", "/projects", {"name": "csrf"}, headers={**cookie, **headers})
            self.assertEqual(caught.exception.code, 403, str(headers))
        same = {"Origin": self.server.base}
        self.assertEqual(self.server.api("POST", "/projects", {"name": "from-the-page"}, headers={**cookie, **same})["namespace"], "alice")
        with self.assertRaises(urllib.error.HTTPError) as caught:
            self.server.api("POST", "/session", {"api_key": "qk_not-a-key"})
        self.assertEqual(caught.exception.code, 401)
        self.browser.find_element(By.CSS_SELECTOR, "#who button.signout").click()


class JobsTests(unittest.TestCase):
    """The jobs and devices pages against a real `quill serve` (no embedded worker) with a real `quill worker`
    and jobs queued with `quill submit`: alice (an administrator) owns a public project, bob may read it but
    not cancel or retry its jobs."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server(users=("alice", "bob"), extra=("--local-workers", "0"))
        alice = cls.server.keys["alice"]
        cls.server.api("POST", "/projects", {"name": "ml"}, key=alice)
        cls.server.api("PATCH", "/projects/alice/ml", {"visibility": "public"}, key=alice)
        cls.worker_log = open(os.path.join(cls.server.folder, "worker.log"), "w")
        cls.worker = subprocess.Popen(
            [BINARY, "worker", "--server", cls.server.base, "--name", "box-1", "--slots", "4", "--gpus", "0,1",
             "--labels", "fast,big"],
            stdout=cls.worker_log, stderr=subprocess.STDOUT, cwd=cls.server.folder,
            env=dict(os.environ, QUILL_API_KEY=alice, QUILL_HOME=os.path.join(cls.server.folder, "worker-home")))
        deadline = time.time() + 60
        while not [d for d in cls.server.api("GET", "/devices", key=alice)["devices"] if d["status"] != "offline"]:
            if time.time() > deadline or cls.worker.poll() is not None:
                raise RuntimeError("quill worker did not register within 60 s")
            time.sleep(0.2)
        cls.browser = DashboardTests.make_browser()

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        cls.worker.terminate()
        try:
            cls.worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            cls.worker.kill()
        cls.worker_log.close()
        cls.server.stop()

    def tearDown(self):
        self.browser.save_screenshot(os.path.join(SHOTS, f"{self._testMethodName}.png"))
        errors = [e for e in self.browser.get_log("browser") if e.get("level") == "SEVERE"] if hasattr(self.browser, "get_log") else []
        self.assertEqual([], [e for e in errors if e.get("source") != "network"], "no errors in the console")

    def wait(self, condition, timeout=30, message=""):
        return wait(self.browser, condition, timeout, message)

    def sign_in(self, user):
        self.browser.get(self.server.base + "/signin")
        box = self.wait(lambda b: b.find_element(By.NAME, "api_key"))
        box.send_keys(self.server.keys[user])
        box.submit()
        self.wait(lambda b: b.find_element(By.CSS_SELECTOR, "#who .user").text == user, message=f"signed in as {user}")

    def submit(self, name, *command, options=()):
        """Queues a job with `quill submit`, as alice; returns the job."""
        done = subprocess.run(
            [BINARY, "submit", "--server", self.server.base, "--json", "--project", "alice/ml", "--name", name, *options, "--", *command],
            capture_output=True, text=True, timeout=60, env=dict(os.environ, QUILL_API_KEY=self.server.keys["alice"]))
        self.assertEqual(done.returncode, 0, done.stderr)
        return json.loads(done.stdout)

    def job(self, id, key="alice"):
        return self.server.api("GET", f"/jobs/{id}", key=self.server.keys[key])

    def until_job(self, id, predicate, timeout=60, message=""):
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = self.job(id)
            if predicate(job):
                return job
            time.sleep(0.2)
        raise AssertionError(f"job {id}: {message or 'condition'} not reached; last {job['status']}")

    def cancel_quietly(self, id):
        try:
            self.server.api("POST", f"/jobs/{id}/cancel", key=self.server.keys["alice"])
        except urllib.error.HTTPError:
            pass

    def section_rows(self, section):
        return self.browser.execute_script(
            "return [...document.querySelectorAll(`.vscroll[data-section='${arguments[0]}'] tbody tr[aria-rowindex]`)].map((r) => r.innerText)", section)

    def click(self, by, what, message=""):
        """Clicks an element of a page that re-renders as it polls: a row drawn again meanwhile is looked up again."""
        for _ in range(20):
            try:
                self.wait(lambda b: b.find_element(by, what), message=message or what).click()
                return
            except StaleElementReferenceException:
                time.sleep(0.1)
        raise AssertionError(f"{what} kept changing under the click")

    def back_to(self, predicate, limit=40, message=""):
        """Presses Shift+Tab until `predicate` (JavaScript over `element`, the focused element) holds."""
        for _ in range(limit):
            ActionChains(self.browser).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
            if self.browser.execute_script(f"const element = document.activeElement; return Boolean({predicate});"):
                return self.browser.switch_to.active_element
        raise AssertionError(f"Shift+Tab never reached {message or predicate}")

    def ticking(self, name):
        return self.submit(name, "sh", "-c", "i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.5; done")

    def test_jobs_page_lists_the_queue_running_and_finished_jobs_with_live_output(self):
        ok = self.submit("quick-ok", "sh", "-c", "echo all-good")
        bad = self.submit("quick-fail", "sh", "-c", "echo oops; exit 3", options=("--max-attempts", "1"))
        low = self.submit("waits-low", "true", options=("--device", "nowhere"))
        high = self.submit("waits-high", "true", options=("--device", "nowhere", "--priority", "5"))
        long = self.ticking("ticker")
        try:
            self.until_job(ok["id"], lambda j: j["status"] == "completed")
            self.until_job(bad["id"], lambda j: j["status"] == "failed")
            self.until_job(long["id"], lambda j: j["status"] == "running")
            self.sign_in("alice")
            self.browser.get(self.server.base + "/jobs")
            self.wait(lambda b: len(self.section_rows("queued")) >= 2, message="the queue")
            queued = [r for r in self.section_rows("queued") if "waits-" in r]
            self.assertIn("waits-high", queued[0], "the higher priority first, as workers claim")
            self.assertIn("waits-low", queued[1])
            self.assertIn("device nowhere", queued[0])
            running = self.wait(lambda b: [r for r in self.section_rows("running") if "ticker" in r and "box-1" in r and "tick-" in r],
                                message="the running job with its device and its last output line")[0]
            self.assertIn("1 of 3", running, "its attempt")
            finished = self.section_rows("finished")
            failed = next(r for r in finished if "quick-fail" in r)
            self.assertIn("exit 3", failed)
            self.assertIn("#1 box-1 failed", failed, "its attempts")
            self.assertIn("#1 box-1 completed", next(r for r in finished if "quick-ok" in r))
            self.assertEqual(unnamed(self.browser), [], "every table and control of the jobs page has a name")
            # The README's picture of the jobs page (copied to Docs/images/dashboard-jobs.png by hand when it changes).
            self.browser.save_screenshot(os.path.join(SHOTS, "readme-jobs-page.png"))
            # The last output line moves on without a reload.
            marker = self.browser.execute_script("window.__sameDocument = true; return 1")
            first = self.browser.find_element(By.CSS_SELECTOR, f"[data-output='{long['id']}']").text
            self.wait(lambda b: b.find_element(By.CSS_SELECTOR, f"[data-output='{long['id']}']").text not in ("", first),
                      message="a newer output line")

            # Filters: only failed jobs; the URL keeps them.
            box = self.browser.find_element(By.CSS_SELECTOR, "input[name=status][value=failed]")
            box.click()
            self.wait(lambda b: "status=failed" in b.current_url)
            self.wait(lambda b: not b.find_element(By.CSS_SELECTOR, ".vscroll[data-section='queued']").is_displayed())
            self.wait(lambda b: all("failed" in r for r in self.section_rows("finished")) and self.section_rows("finished"))
            box.click()
            self.wait(lambda b: "status=" not in b.current_url)

            # A job's page: its output follows live, then Cancel (confirmed) stops it and it ends cancelled.
            self.click(By.LINK_TEXT, f"{long['id']} ticker")
            log = self.wait(lambda b: b.find_element(By.CSS_SELECTOR, "pre.log"))
            self.wait(lambda b: "tick-" in log.text, message="the output so far")
            self.wait(lambda b: b.find_element(By.ID, "main").get_attribute("data-live") == "live",
                      message="the output follows the run's event stream")
            count = log.text.count("tick-")
            self.wait(lambda b: log.text.count("tick-") > count + 2, message="new output lines without a reload")
            self.assertTrue(self.browser.execute_script("return window.__sameDocument === true"), "no reload happened")
            self.assertEqual(marker, 1)
            self.assertEqual(unnamed(self.browser), [], "every table and control of the job page has a name")
            self.click(By.CSS_SELECTOR, "button.job-cancel")
            WebDriverWait(self.browser, 10).until(expected_conditions.alert_is_present()).accept()
            self.until_job(long["id"], lambda j: j["status"] == "cancelled", message="cancelled from the page")
            self.wait(lambda b: b.find_element(By.ID, "main").get_attribute("data-job-status") == "cancelled")
            self.wait(lambda b: b.find_elements(By.CSS_SELECTOR, "button.job-retry"), message="a cancelled job can be retried")
            self.assertEqual(self.browser.find_elements(By.CSS_SELECTOR, "button.job-cancel"), [])

            # Retry from the list re-queues the failed job: it runs (and fails) again, a second attempt.
            self.browser.get(self.server.base + "/jobs")
            retry = f"button.job-retry[data-job='{bad['id']}']"
            self.wait(lambda b: b.find_element(By.CSS_SELECTOR, retry).get_attribute("aria-label") == f"Retry job {bad['id']}")
            self.click(By.CSS_SELECTOR, retry)
            again = self.until_job(bad["id"], lambda j: len(j["attempts"]) == 2 and j["status"] == "failed", message="a second attempt")
            self.assertEqual([a["outcome"] for a in again["attempts"]], ["failed", "failed"])
            self.wait(lambda b: "#2 box-1 failed" in next((r for r in self.section_rows("finished") if "quick-fail" in r), ""),
                      message="the list shows the second attempt")

            # A job's run links back to its job.
            self.browser.get(self.server.base + f"/runs/{ok['run_id']}")
            self.click(By.LINK_TEXT, f"job {ok['id']}")
            self.wait(lambda b: b.current_url.endswith(f"/jobs/{ok['id']}") and "quick-ok" in b.find_element(By.TAG_NAME, "h1").text)
        finally:
            for job in (long, low, high):
                self.cancel_quietly(job["id"])

    def test_a_reader_sees_no_buttons_and_the_api_refuses_and_a_refusal_shows_its_reason(self):
        done = self.submit("for-bob", "sh", "-c", "exit 1", options=("--max-attempts", "1"))
        waiting = self.submit("bob-waits", "true", options=("--device", "nowhere"))
        try:
            self.until_job(done["id"], lambda j: j["status"] == "failed")
            # Without signing in: the public project's jobs, no buttons, and devices ask for a sign-in.
            self.browser.delete_all_cookies()
            self.browser.get(self.server.base + "/jobs")
            self.wait(lambda b: any("for-bob" in r for r in self.section_rows("finished")))
            self.assertEqual(self.browser.find_elements(By.CSS_SELECTOR, "button.job-cancel, button.job-retry"), [])
            self.browser.get(self.server.base + "/devices")
            self.wait(lambda b: "devices need a signed-in user" in b.find_element(By.TAG_NAME, "main").text)
            self.assertTrue(self.browser.find_elements(By.CSS_SELECTOR, "main a[href^='/signin']"), "a link to sign in")
            self.sign_in("bob")
            self.browser.get(self.server.base + "/jobs")
            self.wait(lambda b: any("for-bob" in r for r in self.section_rows("finished")))
            self.wait(lambda b: any("bob-waits" in r for r in self.section_rows("queued")))
            self.assertEqual(self.browser.find_elements(By.CSS_SELECTOR, "button.job-cancel, button.job-retry"), [],
                             "bob may read the public project's jobs but not cancel or retry them")
            self.browser.get(self.server.base + f"/jobs/{waiting['id']}")
            self.wait(lambda b: "bob-waits" in b.find_element(By.TAG_NAME, "h1").text)
            self.assertEqual(self.browser.find_elements(By.CSS_SELECTOR, "button.job-cancel, button.job-retry"), [])
            for verb, id in [("cancel", waiting["id"]), ("retry", done["id"])]:
                with self.assertRaises(urllib.error.HTTPError) as caught:
                    self.server.api("POST", f"/jobs/{id}/{verb}", key=self.server.keys["bob"])
                self.assertEqual(caught.exception.code, 403, verb)
            access = self.server.api("GET", "/jobs/access", key=self.server.keys["bob"])
            self.assertEqual(access, {"all_projects": False, "project_ids": []})

            # alice's Retry button on a cancelled job that someone queued again meanwhile: the API refuses (409)
            # and the page's error line says why.
            self.server.api("POST", f"/jobs/{waiting['id']}/cancel", key=self.server.keys["alice"])
            self.until_job(waiting["id"], lambda j: j["status"] == "cancelled")
            self.sign_in("alice")
            self.browser.get(self.server.base + f"/jobs/{waiting['id']}")
            button = self.wait(lambda b: b.find_element(By.CSS_SELECTOR, "button.job-retry"))
            self.server.api("POST", f"/jobs/{waiting['id']}/retry", key=self.server.keys["alice"])
            button.click()
            line = lambda b: b.find_element(By.CSS_SELECTOR, "p.error[role=alert]").text
            self.wait(line, message="an error line")
            self.assertIn(f"Retry of job {waiting['id']} refused", line(self.browser))
            self.assertIn("only a completed, failed or cancelled job can be retried", line(self.browser))
            # The refusal also brings the page up to date: the job is queued now, so Cancel replaces Retry.
            self.wait(lambda b: b.find_element(By.ID, "main").get_attribute("data-job-status") == "queued")
            self.wait(lambda b: b.find_elements(By.CSS_SELECTOR, "button.job-cancel") and not b.find_elements(By.CSS_SELECTOR, "button.job-retry"))
            self.assertIn("refused", line(self.browser), "the error line stays")
        finally:
            self.cancel_quietly(waiting["id"])
            self.cancel_quietly(done["id"])

    def test_devices_page_shows_the_workers_resources_and_current_job(self):
        long = self.ticking("device-ticker")
        try:
            self.until_job(long["id"], lambda j: j["status"] == "running")
            self.sign_in("alice")
            self.browser.get(self.server.base + "/devices")
            row = lambda: next((r for r in self.browser.execute_script(
                "return [...document.querySelectorAll('.vscroll tbody tr[aria-rowindex]')].map((r) => r.innerText)") if "box-1" in r), "")
            self.wait(lambda b: f"job {long['id']}" in row(), message="the worker's current job")
            device = next(d for d in self.server.api("GET", "/devices", key=self.server.keys["alice"])["devices"] if d["name"] == "box-1")
            text = row()
            for expected in ["busy", str(device["cpus"]), "2 × GPU", "fast", "big", "s ago"]:
                self.assertIn(expected, text)
            self.assertRegex(text, r"\d+ of 4", "slots used of the worker's four")
            self.assertEqual(unnamed(self.browser), [], "every table and control of the devices page has a name")
            self.browser.save_screenshot(os.path.join(SHOTS, "devices-page.png"))
            self.click(By.CSS_SELECTOR, f"a[href='/jobs/{long['id']}']")
            self.wait(lambda b: "device-ticker" in b.find_element(By.TAG_NAME, "h1").text, message="the job's page from its device")
        finally:
            self.cancel_quietly(long["id"])

    def test_keyboard_jobs_grid_job_page_and_navigation(self):
        done = self.submit("keyboard-done", "true")
        self.until_job(done["id"], lambda j: j["status"] == "completed")
        self.sign_in("alice")
        self.browser.get(self.server.base + "/")
        self.wait(lambda b: b.find_elements(By.LINK_TEXT, "ml"))
        self.browser.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
        tab_to(self.browser, "element.matches('nav a') && element.textContent === 'Jobs'", message="the Jobs entry of the navigation")
        self.assertTrue(focus_ring(self.browser))
        press(self.browser, Keys.ENTER)
        self.wait(lambda b: b.current_url.endswith("/jobs") and self.section_rows("finished"))
        self.assertEqual(self.browser.find_element(By.CSS_SELECTOR, "nav a[aria-current=page]").text, "Jobs")
        grid = tab_to(self.browser, "element.matches(\".vscroll[data-section='finished'] table[role=grid]\")", message="the finished grid")
        self.assertEqual(grid.get_attribute("aria-label"), "Finished jobs")
        self.assertTrue(focus_ring(self.browser))
        # The focused grid's active row, read in one script (a poll may draw the rows again at any moment).
        active = lambda: self.browser.execute_script(
            "const id = document.activeElement.getAttribute('aria-activedescendant'); const row = id && document.getElementById(id);"
            "return row ? row.innerText : null")
        self.wait(lambda b: active(), message="focusing the grid makes a row active")
        press(self.browser, Keys.HOME)
        self.wait(lambda b: (self.browser.execute_script(
            "return document.activeElement.getAttribute('aria-activedescendant')") or "").endswith("-r0"), message="Home: the first row")
        # The newest finished first: keyboard-done, unless a job cancelled by an earlier test ended after it.
        for _ in range(10):
            if "keyboard-done" in (active() or ""):
                break
            press(self.browser, Keys.ARROW_DOWN)
            time.sleep(0.1)
        self.assertIn("keyboard-done", active() or "")
        press(self.browser, Keys.ENTER)
        self.wait(lambda b: b.current_url.endswith(f"/jobs/{done['id']}"), message="Enter opens the active job")
        self.wait(lambda b: "keyboard-done" in b.find_element(By.TAG_NAME, "h1").text)
        tab_to(self.browser, "element.matches('button.job-retry')", message="the Retry button")
        self.assertTrue(focus_ring(self.browser))
        press(self.browser, Keys.ENTER)
        self.until_job(done["id"], lambda j: len(j["attempts"]) == 2 and j["status"] == "completed", message="retried by keyboard")
        self.wait(lambda b: len(b.find_elements(By.CSS_SELECTOR, "table.attempts tbody tr")) == 2, message="the page shows the second attempt")
        self.back_to("element.matches('nav a') && element.textContent === 'Devices'", message="the Devices entry")
        press(self.browser, Keys.ENTER)
        grid = tab_to(self.browser, "element.matches('table[role=grid]')", message="the devices grid")
        self.assertEqual(grid.get_attribute("aria-label"), "Devices")
        self.wait(lambda b: active() and "box-1" in active())

    def test_empty_states_say_how_to_start(self):
        empty = Server(extra=("--local-workers", "0"))
        try:
            self.browser.get(empty.base + "/devices")
            self.wait(lambda b: "No workers: start one with `quill worker --server URL`" in b.find_element(By.TAG_NAME, "main").text)
            self.browser.get(empty.base + "/jobs")
            self.wait(lambda b: "No jobs yet: queue one with `quill submit" in b.find_element(By.TAG_NAME, "main").text)
            self.assertEqual([s.is_displayed() for s in self.browser.find_elements(By.CSS_SELECTOR, "main section")], [False, False, False])
            self.assertEqual(unnamed(self.browser), [])
        finally:
            empty.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
