"""Cross-tool logging benchmark: Quill against whirr and expman-rs, side by side in one invocation.

Normally started by run.sh, which makes a throwaway virtualenv holding the two peers (from PyPI) and
Quill's Python package (`pip install ./python` with the release libQuillC.so), builds Quill's
`quill-peer-bench` release binary and runs this file with the venv's Python.

  python peers.py compare [--quill-bin PATH] [--tools quill,quill-python,expman,whirr] [--steps 333334]
                          [--repeats 3] [--memory-steps 1000000] [--kill-after 1.0]
                          [--latency-calls 100000] [--latency-warmup 10000] [--out FILE]
  python peers.py worker throughput    --tool quill-python|whirr|expman --home DIR --steps N
  python peers.py worker latency       --tool quill-python|whirr|expman --home DIR --calls N --warmup N
  python peers.py worker sigkill-child --tool quill-python|whirr|expman --home DIR --progress FILE
  python peers.py worker readback      --tool quill|quill-python|whirr|expman --home DIR

Tools: `quill` is the Swift SDK (the `quill-peer-bench` executable), `quill-python` the same engine driven
from Python through the `quill` package (ctypes over libQuillC.so), `expman` and `whirr` the peers.

Every case runs in its own fresh process, with its own fresh temporary directory as the tracker's home.
Workload for every tool: one run, 3 float metrics per step (loss, acc, lr), computed from the step.

Quill is just another tool here: its worker is the `quill-peer-bench` executable, which follows the same
contract as the Python workers below (`throughput --home DIR --steps N` prints one JSON object;
`sigkill-child --home DIR --progress FILE` logs forever and writes its accepted step count every 1,000
steps). Only the standard library is used outside the peers' own packages.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TOOLS = ("quill", "quill-python", "expman", "whirr")
PYTHON_TOOLS = ("quill-python", "expman", "whirr")  # driven by this file's Python workers
PEERS = ("expman", "whirr")  # the trackers Quill is compared with
QUILL_TOOLS = ("quill", "quill-python")
IMPORT_NAME = {"quill-python": "quill", "expman": "expman", "whirr": "whirr"}
DIST_NAME = {"quill-python": "quill-tracking", "expman": "expman-rs", "whirr": "whirr"}
PROGRESS_EVERY = 1000
RUN_NAME = {"throughput": "throughput", "sigkill-child": "sigkill", "latency": "latency"}
# Quill's writer flushes at least every 100 ms (RunOptions.flushInterval, QUILL_FLUSH_INTERVAL_MS).
QUILL_FLUSH_INTERVAL_SECONDS = 0.1


def quill_python_environment(home: str) -> dict:
    """What the quill-python worker sets before `quill.init()`: the temporary home, and the same extras
    off as in quill-peer-bench (git and dependency capture, system metrics). Options the package is not
    given come from these variables, exactly as Swift's RunOptions.fromEnvironment() reads them."""
    return {"QUILL_HOME": home, "QUILL_CAPTURE_GIT": "0", "QUILL_CAPTURE_DEPS": "0",
            "QUILL_SYSTEM_METRICS_INTERVAL": "0"}


# ====================================================================== helpers used by the workers


def peak_rss_bytes() -> int:
    """High-water mark of this process's resident set (VmHWM), in bytes."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def write_progress(path: str, count: int) -> None:
    """Records the accepted step count: written to a side file, then renamed over, so a reader never
    sees a half-written number, even when the writer is killed in the middle."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{count}\n")
    os.replace(tmp, path)


# ====================================================================== peers: set-up (run inside the venv)


class Peer:
    """One open run of a peer tracker: log(values, step), finish(), and its run directory."""

    def __init__(self, tool: str, home: str, name: str, config: dict):
        self.tool = tool
        if tool == "whirr":
            self._open_whirr(home, name, config)
        elif tool == "quill-python":
            self._open_quill_python(home, name, config)
        elif tool == "expman":
            self._open_expman(home, name, config)
        else:
            raise SystemExit(f"unknown Python tool {tool!r}")

    def _open_quill_python(self, home: str, name: str, config: dict) -> None:
        os.environ.update(quill_python_environment(home))
        import quill

        run = quill.init(project="bench", name=name, config=config)
        self.log = run.log  # run.log(dict, step=): keys and doubles cross as arrays into the Swift writer
        self.finish = run.finish  # finish(): drains the writer (a final flush) and closes the run
        self.run_dir = str(run.dir)

    def _open_whirr(self, home: str, name: str, config: dict) -> None:
        # whirr keeps its runs in the nearest `.whirr/` above the working directory (get_runs_dir()),
        # which `whirr init DIR` creates together with its SQLite run registry. So: `whirr init` the
        # temporary home, work from there, and use the public entry point whirr.init().
        whirr_cli = os.path.join(os.path.dirname(sys.executable), "whirr")
        if os.path.exists(whirr_cli):
            subprocess.run([whirr_cli, "init", home], check=True, stdout=subprocess.DEVNULL)
        else:  # the same thing the CLI does, without its console output
            from pathlib import Path

            from whirr.db import init_db

            (Path(home) / ".whirr" / "runs").mkdir(parents=True, exist_ok=True)
            init_db(Path(home) / ".whirr" / "whirr.db")
        os.chdir(home)
        import whirr

        run = whirr.init(name=name, config=config, system_metrics=False, capture_git=False, capture_pip=False)
        self.log = run.log  # run.log(dict, step=) opens metrics.jsonl, appends one line, flushes, closes
        self.finish = run.finish
        self.run_dir = str(run.run_dir)

    def _open_expman(self, home: str, name: str, config: dict) -> None:
        from expman import Experiment

        # Defaults kept for the write path (flush every 50 rows or 500 ms); the extras Quill's bench also
        # turns off are turned off here: console tee, heartbeat, hardware sampling, git provenance.
        exp = Experiment(
            "bench", run_name=name, base_dir=home, redirect_console=False, heartbeat_interval_secs=0,
            system_metrics_interval_secs=0, capture_provenance=False,
        )
        exp.log_params(config)
        # run_dir raises "Engine is closed" after close(), so it is read now.
        self.run_dir = exp.run_dir
        self.log = exp.log_vector  # log_vector(dict, step=): hands the row to a Rust background task
        self.finish = exp.close  # close(): drains the queue, compacts the segments into vectors.parquet


def worker_throughput(tool: str, home: str, steps: int) -> None:
    peer = Peer(tool, home, RUN_NAME["throughput"], {"steps": steps})
    log = peer.log
    n = float(steps)
    start = time.perf_counter()  # after run creation, right before the first log call
    for step in range(steps):
        x = float(step)
        log({"loss": 1.0 / (1.0 + x), "acc": x / n, "lr": 0.001 * (1.0 - x / n)}, step=step)
    logged = time.perf_counter()
    peer.finish()
    end = time.perf_counter()
    print(json.dumps({
        "tool": tool, "points": steps * 3, "seconds": end - start, "log_seconds": logged - start,
        "finish_seconds": end - logged, "peak_rss_bytes": peak_rss_bytes(), "run_dir": peer.run_dir,
    }), flush=True)


def percentiles(samples) -> dict:
    """p50/p90/p99/p99.9/max (nearest rank) and the mean of integer nanosecond samples."""
    import math

    ordered = sorted(samples)
    n = len(ordered)

    def rank(q: float) -> int:
        return ordered[min(n - 1, max(0, math.ceil(round(q * n, 6)) - 1))]

    return {"n": n, "p50": rank(0.50), "p90": rank(0.90), "p99": rank(0.99), "p99_9": rank(0.999),
            "max": ordered[-1], "mean": sum(ordered) / n}


def worker_latency(tool: str, home: str, calls: int, warmup: int) -> None:
    """The caller's view of one log call: time.perf_counter_ns() right before and right after each of
    `calls` calls (after `warmup` untimed ones), the row's dict built before the first timestamp. The cost
    of the timer itself (two back-to-back perf_counter_ns() calls) is measured the same way and reported
    beside it, not subtracted. The garbage collector stays on, as in a training script."""
    from array import array

    peer = Peer(tool, home, RUN_NAME["latency"], {})
    log = peer.log
    clock = time.perf_counter_ns
    n = 1e6
    overhead = array("q", bytes(8 * calls))
    for i in range(calls):
        t0 = clock()
        t1 = clock()
        overhead[i] = t1 - t0
    for step in range(warmup):
        x = float(step)
        log({"loss": 1.0 / (1.0 + x), "acc": x / n, "lr": 0.001 * (1.0 - x / n)}, step=step)
    samples = array("q", bytes(8 * calls))
    for i in range(calls):
        step = warmup + i
        x = float(step)
        values = {"loss": 1.0 / (1.0 + x), "acc": x / n, "lr": 0.001 * (1.0 - x / n)}
        t0 = clock()
        log(values, step=step)
        t1 = clock()
        samples[i] = t1 - t0
    peer.finish()
    # A logger that dropped rows would look fast: every row must be on disk after finish.
    rows = count_rows(tool, peer.run_dir, sys.executable)
    print(json.dumps({"tool": tool, "calls": calls, "warmup": warmup, "latency_ns": percentiles(samples),
                      "timer_overhead_ns": percentiles(overhead), "peak_rss_bytes": peak_rss_bytes(),
                      "rows_on_disk": rows, "rows_logged": warmup + calls}), flush=True)


def worker_sigkill(tool: str, home: str, progress: str) -> None:
    peer = Peer(tool, home, RUN_NAME["sigkill-child"], {})
    log = peer.log
    n = 1e6
    step = 0
    while True:
        x = float(step)
        log({"loss": 1.0 / (1.0 + x), "acc": x / n, "lr": 0.001 * (1.0 - x / n)}, step=step)
        step += 1
        if step % PROGRESS_EVERY == 0:
            write_progress(progress, step)


# ====================================================================== reading back after SIGKILL


def scan_jsonl(path: str) -> dict:
    """Reads a JSON-lines metrics file the way Quill's readers do: every `\\n`-terminated line must parse;
    an unterminated last line is a write cut by the kill, not counted and not an error."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    rows, bad, steps = 0, 0, []
    for line in complete:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if not isinstance(obj, dict):
            bad += 1
            continue
        rows += 1
        if isinstance(obj.get("step"), int):
            steps.append(obj["step"])
    return {"rows": rows, "bad_lines": bad, "truncated_tail_bytes": len(tail), "steps": steps}


def steps_summary(steps: list) -> dict:
    """Whether the surviving rows are exactly steps 0..n-1, once each (no hole, no duplicate)."""
    distinct = set(steps)
    return {"distinct_steps": len(distinct), "duplicates": len(steps) - len(distinct),
            "contiguous_prefix": distinct == set(range(len(distinct)))}


def readback_quill(home: str) -> dict:
    runs_root = os.path.join(home, "runs")
    runs = [d for d in (os.listdir(runs_root) if os.path.isdir(runs_root) else [])
            if os.path.isdir(os.path.join(runs_root, d))]
    if len(runs) != 1:
        return {"rows": 0, "files_read": False, "note": f"expected one run under {runs_root}, found {len(runs)}"}
    run_dir = os.path.join(runs_root, runs[0])
    scan = scan_jsonl(os.path.join(run_dir, "metrics.jsonl"))
    notes = []
    ok = scan["bad_lines"] == 0
    if not ok:
        notes.append(f"{scan['bad_lines']} complete line(s) of metrics.jsonl do not parse")
    for name in ("meta.json", "config.json"):
        path = os.path.join(run_dir, name)
        if os.path.exists(path):
            try:
                with open(path) as f:
                    json.load(f)
            except ValueError:
                ok = False
                notes.append(f"{name} does not parse")
    return {"rows": scan["rows"], "files_read": ok, "truncated_tail_bytes": scan["truncated_tail_bytes"],
            **steps_summary(scan["steps"]), "reader": "metrics.jsonl parsed line by line", "note": "; ".join(notes),
            "run_dir": run_dir}


def readback_whirr(home: str) -> dict:
    from pathlib import Path

    from whirr.run import read_meta, read_metrics

    runs = sorted((Path(home) / ".whirr" / "runs").glob("*"))
    if len(runs) != 1:
        return {"rows": 0, "files_read": False, "note": f"expected one whirr run, found {len(runs)}"}
    run_dir = runs[0]
    notes = []
    ok = True
    # whirr's own reader. It silently skips every line that fails validation, so the raw file is checked
    # too: a reader that drops bad lines would otherwise always "read back fine".
    records = read_metrics(run_dir / "metrics.jsonl")
    steps = [r.step for r in records]
    scan = scan_jsonl(str(run_dir / "metrics.jsonl"))
    if scan["bad_lines"]:
        ok = False
        notes.append(f"{scan['bad_lines']} complete line(s) of metrics.jsonl do not parse")
    try:
        if read_meta(run_dir) is None:
            notes.append("no meta.json")
    except Exception as e:  # noqa: BLE001 - any failure to read is the finding
        ok = False
        notes.append(f"meta.json: {type(e).__name__}")
    return {"rows": len(records), "files_read": ok, "truncated_tail_bytes": scan["truncated_tail_bytes"],
            **steps_summary([s for s in steps if isinstance(s, int)]), "reader": "whirr.run.read_metrics",
            "note": "; ".join(notes), "run_dir": str(run_dir)}


def readback_expman(home: str) -> dict:
    import expman

    run_dir = os.path.join(home, "bench", RUN_NAME["sigkill-child"])
    if not os.path.isdir(run_dir):
        found = [os.path.join(home, "bench", d) for d in os.listdir(os.path.join(home, "bench"))
                 if os.path.isdir(os.path.join(home, "bench", d))] if os.path.isdir(os.path.join(home, "bench")) else []
        if len(found) != 1:
            return {"rows": 0, "files_read": False, "note": f"expected one expman run, found {len(found)}"}
        run_dir = found[0]
    segments = sum(1 for f in os.listdir(run_dir) if f.endswith(".arrow"))
    try:
        rows = expman.read_metrics(run_dir)
    except Exception as e:  # noqa: BLE001
        return {"rows": 0, "files_read": False, "note": f"read_metrics: {type(e).__name__}: {e}"[:200],
                "run_dir": run_dir}
    parquet = os.path.exists(os.path.join(run_dir, "vectors.parquet"))
    notes = [f"{segments} .arrow segment files" + ("" if parquet else ", no vectors.parquet") if segments else ""]
    ok = True
    try:
        expman.load_run(run_dir)
    except Exception as e:  # noqa: BLE001
        ok = False
        notes.append(f"load_run: {type(e).__name__}")
    steps = [r.get("step") for r in rows]
    return {"rows": len(rows), "files_read": ok, **steps_summary([s for s in steps if isinstance(s, int)]),
            "reader": "expman.read_metrics", "note": "; ".join(n for n in notes if n), "run_dir": run_dir}


def worker_readback(tool: str, home: str) -> None:
    result = {"quill": readback_quill, "quill-python": readback_quill, "whirr": readback_whirr,
              "expman": readback_expman}[tool](home)
    print(json.dumps(result), flush=True)


def count_rows(tool: str, run_dir: str, python: str) -> int | None:
    """Rows a finished throughput run holds (a check that nothing was dropped), cheaply."""
    if tool in ("quill", "quill-python", "whirr"):
        with open(os.path.join(run_dir, "metrics.jsonl"), "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    code = "import expman, sys; print(len(expman.read_metrics(sys.argv[1])))"
    out = subprocess.run([python, "-c", code, run_dir], capture_output=True, text=True, timeout=300)
    return int(out.stdout.strip()) if out.returncode == 0 else None


# ====================================================================== orchestration


def child_env() -> dict:
    """The environment for every worker, without variables that would redirect a tracker elsewhere
    (a Quill server URI, expman's sweep/base-dir overrides, whirr's worker context, launcher ranks)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("QUILL_", "EXPMAN_", "WHIRR_", "SLURM_", "TORCHELASTIC_", "OMPI_"))
           and k not in ("RANK", "LOCAL_RANK", "PBS_JOBID")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class Harness:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.root = tempfile.mkdtemp(prefix="quill-peers-")
        self.env = child_env()
        self.counter = 0

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def fresh_home(self, label: str) -> str:
        self.counter += 1
        home = os.path.join(self.root, f"{self.counter:03d}-{label}")
        os.makedirs(home)
        return home

    def env_for(self, tool: str, home: str) -> dict:
        if tool == "quill-python":
            env = {**self.env, **quill_python_environment(home)}
            if self.args.quill_library:  # else the library packaged in the installed quill package
                env["QUILL_LIBRARY"] = self.args.quill_library
            return env
        return self.env

    def command(self, tool: str, mode: str, home: str, extra: list[str]) -> list[str]:
        if tool == "quill":
            return [self.args.quill_bin, mode, "--home", home] + extra
        return [sys.executable, os.path.abspath(__file__), "worker", mode, "--tool", tool, "--home", home] + extra

    def throughput(self, tool: str, steps: int, verify: bool) -> dict:
        home = self.fresh_home(f"{tool}-throughput")
        err_path = os.path.join(home, ".stderr")
        try:
            with open(err_path, "wb") as err:
                proc = subprocess.Popen(self.command(tool, "throughput", home, ["--steps", str(steps)]),
                                        stdout=subprocess.PIPE, stderr=err, cwd=home, env=self.env_for(tool, home))
                out = proc.stdout.read()
                proc.stdout.close()
                _pid, status, rusage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode != 0:
                raise RuntimeError(f"{tool} throughput worker exited {proc.returncode}: {tail(err_path)}")
            lines = [line for line in out.decode().splitlines() if line.strip().startswith("{")]
            if not lines:
                raise RuntimeError(f"{tool} throughput worker printed no JSON: {out[-300:]!r} {tail(err_path)}")
            result = json.loads(lines[-1])
            result["peak_rss_bytes_wait4"] = rusage.ru_maxrss * 1024
            if result.get("points") != steps * 3:
                raise RuntimeError(f"{tool} reported {result.get('points')} points, expected {steps * 3}")
            size, files = 0, 0
            for root, _dirs, names in os.walk(result["run_dir"]):
                for name in names:
                    size += os.lstat(os.path.join(root, name)).st_size
                    files += 1
            result["disk_bytes"] = size
            result["files"] = files
            result["steps"] = steps
            if verify:
                result["rows_on_disk"] = count_rows(tool, result["run_dir"], sys.executable)
            return result
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def latency(self, tool: str) -> dict:
        home = self.fresh_home(f"{tool}-latency")
        cmd = self.command(tool, "latency", home, ["--calls", str(self.args.latency_calls),
                                                    "--warmup", str(self.args.latency_warmup)])
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, cwd=home,
                                 env=self.env_for(tool, home))
            if out.returncode != 0:
                last = (out.stderr.strip().splitlines() or ["?"])[-1]
                raise RuntimeError(f"{tool} latency worker exited {out.returncode}: {last[:300]}")
            lines = [line for line in out.stdout.splitlines() if line.strip().startswith("{")]
            if not lines:
                raise RuntimeError(f"{tool} latency worker printed no JSON: {out.stdout[-300:]!r}")
            return json.loads(lines[-1])
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def sigkill(self, tool: str) -> dict:
        home = self.fresh_home(f"{tool}-sigkill")
        progress = os.path.join(self.root, f"{self.counter:03d}-{tool}.progress")  # outside the tool's home
        err_path = os.path.join(self.root, f"{self.counter:03d}-{tool}.stderr")
        result = {"tool": tool, "kill_after_seconds": self.args.kill_after}
        try:
            with open(err_path, "wb") as err:
                child = subprocess.Popen(self.command(tool, "sigkill-child", home, ["--progress", progress]),
                                         stdout=subprocess.DEVNULL, stderr=err, cwd=home,
                                         env=self.env_for(tool, home))
            try:
                deadline = time.monotonic() + 60
                while not os.path.exists(progress):
                    if child.poll() is not None:
                        raise RuntimeError(f"{tool} child exited {child.returncode} before logging: {tail(err_path)}")
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{tool} child wrote no progress in 60 s")
                    time.sleep(0.002)
                first_seen = time.monotonic()
                first = read_progress(progress)
                time.sleep(self.args.kill_after)
                if child.poll() is not None:
                    raise RuntimeError(f"{tool} child exited {child.returncode} on its own: {tail(err_path)}")
                child.send_signal(signal.SIGKILL)
                child.wait()
                elapsed = time.monotonic() - first_seen
            finally:
                if child.poll() is None:
                    child.kill()
                    child.wait()
            accepted = read_progress(progress)
            readback = self.readback(tool, home)
            survived = readback["rows"]
            lost = max(0, accepted - survived)
            rate = (accepted - first) / elapsed if elapsed > 0 else 0.0
            if tool in QUILL_TOOLS:
                # Goal: at most the rows of one flush interval lost (at the rate the child was logging).
                result["rows_per_flush_interval"] = rate * QUILL_FLUSH_INTERVAL_SECONDS
                result["lost_within_one_flush_interval"] = (
                    max(0, accepted + PROGRESS_EVERY - 1 - survived) <= rate * QUILL_FLUSH_INTERVAL_SECONDS)
            result.update({
                "accepted": accepted,
                "survived": survived,
                "lost": lost,
                "lost_percent": 100.0 * lost / accepted if accepted else 0.0,
                # The child had handed between `accepted` and `accepted + 999` rows to the tracker.
                "lost_at_most": max(0, accepted + PROGRESS_EVERY - 1 - survived),
                "rows_per_second_while_logging": rate,
                "files_read": bool(readback["files_read"]),
                "readback": readback,
            })
            return result
        except Exception as e:  # noqa: BLE001 - report the failure in the table and keep going
            result.update({"error": str(e)[:300], "files_read": False})
            return result
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def readback(self, tool: str, home: str) -> dict:
        cmd = [sys.executable, os.path.abspath(__file__), "worker", "readback", "--tool", tool, "--home", home]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=self.env, cwd=home)
        if out.returncode != 0:
            last = (out.stderr.strip().splitlines() or ["?"])[-1]
            return {"rows": 0, "files_read": False, "note": f"reader failed: {last[:200]}"}
        return json.loads(out.stdout.strip().splitlines()[-1])


def read_progress(path: str) -> int:
    try:
        with open(path) as f:
            text = f.read().strip()
        return int(text) if text else 0
    except (OSError, ValueError):
        return 0


def tail(path: str, n: int = 400) -> str:
    try:
        with open(path, "rb") as f:
            return f.read()[-n:].decode(errors="replace").strip()
    except OSError:
        return ""


def tool_versions() -> dict:
    from importlib import metadata

    versions = {}
    for tool, dist in DIST_NAME.items():
        try:
            versions[tool] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[tool] = None
    return versions


def fs_type(path: str) -> str:
    try:
        best, kind = "", "?"
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                mount = parts[1]
                if (path == mount or path.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
                    best, kind = mount, parts[2]
        return kind
    except OSError:
        return "?"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def compare(args: argparse.Namespace) -> None:
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in tools if t not in TOOLS]
    if unknown:
        raise SystemExit(f"unknown tool(s) {unknown}; choose from {', '.join(TOOLS)}")
    tools = [t for t in TOOLS if t in tools]  # fixed order: quill, quill-python, expman, whirr
    quill_skipped = None
    if "quill" in tools and not (args.quill_bin and os.path.isfile(args.quill_bin) and os.access(args.quill_bin, os.X_OK)):
        quill_skipped = (f"quill-peer-bench not found at {args.quill_bin or '(no path given)'}; build it with "
                         "`QUILL_EXTRAS=1 swift build -c release --product quill-peer-bench`")
        log(f"\n*** SKIPPING QUILL: {quill_skipped} ***\n")
        tools.remove("quill")
    quill_python_skipped = None
    quill_library = None
    if "quill-python" in tools:
        try:
            if args.quill_library:
                os.environ["QUILL_LIBRARY"] = args.quill_library
            else:
                os.environ.pop("QUILL_LIBRARY", None)
            import quill  # noqa: F401 - importable, with its library
            from quill import _native

            _native.load()  # the library loads and speaks the package's ABI
            quill_library = str(_native.library_path())
        except Exception as e:  # noqa: BLE001 - an ImportError, or the package failing to load its library
            quill_python_skipped = (f"the quill package is not importable from {sys.executable} "
                                    f"({type(e).__name__}: {str(e)[:200]}); run.sh installs it with "
                                    "`QUILL_LIBRARY=.build/release/libQuillC.so pip install ./python`")
            log(f"\n*** SKIPPING QUILL-PYTHON: {quill_python_skipped} ***\n")
            tools.remove("quill-python")
    if not tools:
        raise SystemExit("no tool to run")
    for peer in PEERS:
        if peer in tools:
            try:
                __import__(IMPORT_NAME[peer])
            except ImportError as e:
                raise SystemExit(f"{peer} is not importable from {sys.executable} ({e}); run through run.sh") from e
    latency_tools = [t for t in tools if t in PYTHON_TOOLS] if args.latency_calls else []

    harness = Harness(args)
    started = time.time()
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
                    "tmp_dir": harness.root, "tmp_fs": fs_type(harness.root),
                    "loadavg_at_start": os.getloadavg()},
        "versions": tool_versions(), "quill_bin": args.quill_bin if "quill" in tools else None,
        "quill_library": quill_library,
        "quill_skipped": quill_skipped, "quill_python_skipped": quill_python_skipped, "tools": tools,
        "steps": args.steps, "repeats": args.repeats,
        "memory_steps": args.memory_steps, "kill_after": args.kill_after,
        "latency_calls": args.latency_calls, "latency_warmup": args.latency_warmup, "latency_tools": latency_tools,
        "throughput": {t: [] for t in tools}, "latency": {t: [] for t in latency_tools}, "memory": {}, "sigkill": {},
        "loadavg_per_repeat": [],
    }
    try:
        # Each repeat runs every tool once, interleaved, so drift on the machine hits all of them alike:
        # the throughput runs, then the per-call latency runs of the Python-driven tools.
        for repeat in range(args.repeats):
            results["loadavg_per_repeat"].append(os.getloadavg())
            for tool in tools:
                r = harness.throughput(tool, args.steps, verify=(repeat == 0))
                results["throughput"][tool].append(r)
                log(f"  throughput {tool:12s} #{repeat + 1}: {r['seconds']:7.3f} s  "
                    f"rss {r['peak_rss_bytes'] / 1e6:7.1f} MB  disk {r['disk_bytes'] / 1e6:6.1f} MB")
            for tool in latency_tools:
                r = harness.latency(tool)
                results["latency"][tool].append(r)
                lat, over = r["latency_ns"], r["timer_overhead_ns"]
                log(f"  latency    {tool:12s} #{repeat + 1}: p50 {lat['p50']} ns  p99 {lat['p99']} ns  "
                    f"p99.9 {lat['p99_9']} ns  max {lat['max']} ns  (timer p50 {over['p50']} ns)")
        if args.memory_steps:
            for tool in tools:
                r = harness.throughput(tool, args.memory_steps, verify=True)
                results["memory"][tool] = r
                log(f"  memory     {tool:12s}: {r['seconds']:7.3f} s  rss {r['peak_rss_bytes'] / 1e6:7.1f} MB "
                    f"at {r['points']:,} points")
        for tool in tools:
            r = harness.sigkill(tool)
            results["sigkill"][tool] = r
            if "error" in r:
                log(f"  sigkill    {tool:12s}: ERROR {r['error']}")
            else:
                log(f"  sigkill    {tool:12s}: {r['survived']:,} rows read back of >= {r['accepted']:,} accepted")
    finally:
        harness.cleanup()
    results["machine"]["loadavg_at_end"] = os.getloadavg()
    results["harness_seconds"] = time.time() - started

    summary = summarize(results, tools)
    results["summary"] = summary
    print(render_markdown(results, tools, summary))
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")
        log(f"results written to {args.out}")


def summarize(results: dict, tools: list[str]) -> dict:
    summary = {}
    for tool in tools:
        runs = results["throughput"][tool]
        wall = statistics.median(r["seconds"] for r in runs)
        steps = runs[0]["steps"]
        entry = {
            "points": runs[0]["points"], "steps": steps, "wall_seconds_median": wall,
            "wall_seconds_min": min(r["seconds"] for r in runs), "wall_seconds_max": max(r["seconds"] for r in runs),
            "points_per_second": runs[0]["points"] / wall, "us_per_call": wall / steps * 1e6,
            "disk_bytes_median": statistics.median(r["disk_bytes"] for r in runs),
            "peak_rss_bytes_median": statistics.median(r["peak_rss_bytes"] for r in runs),
            "rows_on_disk": runs[0].get("rows_on_disk"),
        }
        if all("finish_seconds" in r for r in runs):
            entry["log_loop_seconds_median"] = statistics.median(r["log_seconds"] for r in runs)
            entry["finish_seconds_median"] = statistics.median(r["finish_seconds"] for r in runs)
            entry["log_loop_us_per_call"] = entry["log_loop_seconds_median"] / steps * 1e6
        summary[tool] = entry
    for quill_tool in QUILL_TOOLS:
        if quill_tool in summary:
            for peer in PEERS:
                if peer in summary:
                    summary[f"{peer}_wall_over_{quill_tool}_wall"] = (summary[peer]["wall_seconds_median"]
                                                                     / summary[quill_tool]["wall_seconds_median"])
    latency = {}
    for tool, runs in results.get("latency", {}).items():
        if not runs:
            continue
        entry = {}
        for kind in ("latency_ns", "timer_overhead_ns"):
            entry[kind] = {q: statistics.median(r[kind][q] for r in runs)
                           for q in ("p50", "p90", "p99", "p99_9", "max", "mean")}
        entry["calls"] = runs[0]["calls"]
        entry["repeats"] = len(runs)
        entry["every_row_on_disk"] = all(r.get("rows_on_disk") == r.get("rows_logged") for r in runs)
        latency[tool] = entry
    if latency:
        summary["latency"] = latency
    return summary


GOAL_SPEEDUP = {"expman": 5.0, "whirr": 20.0}  # issue 14: quill-python end to end vs each peer
GOAL_P99_NS = 3000
GOAL_MEMORY_BYTES = 64 * 1024 * 1024


def goals_markdown(results: dict, summary: dict) -> list[str]:
    """The issue's goals for quill-python, each with the figure measured in this run."""
    tool = "quill-python"
    if tool not in summary:
        return []
    out = ["", "### Goals for quill-python (issue 14)", ""]

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**not met**"

    for peer, goal in GOAL_SPEEDUP.items():
        key = f"{peer}_wall_over_{tool}_wall"
        if key in summary:
            out.append(f"- end to end vs {peer}: {summary[key]:.1f}× faster (goal ≥ {goal:.0f}×): "
                       f"{verdict(summary[key] >= goal)}")
    lat = summary.get("latency", {}).get(tool)
    if lat:
        p99 = lat["latency_ns"]["p99"]
        out.append(f"- caller p99 of run.log: {p99 / 1000:.2f} µs (timer overhead p99 "
                   f"{lat['timer_overhead_ns']['p99'] / 1000:.2f} µs, included; goal < {GOAL_P99_NS / 1000:.0f} µs): "
                   f"{verdict(p99 < GOAL_P99_NS)}")
    mem = results.get("memory", {}).get(tool)
    if mem:
        rss = mem["peak_rss_bytes"]
        out.append(f"- peak RSS at {mem['points']:,} points: {rss / 2**20:.1f} MiB, whole Python process "
                   f"(goal < 64 MiB): {verdict(rss < GOAL_MEMORY_BYTES)}")
    kill = results.get("sigkill", {}).get(tool)
    if kill and "error" not in kill:
        out.append(f"- SIGKILL: at most {kill['lost_at_most']:,} rows lost; one {QUILL_FLUSH_INTERVAL_SECONDS * 1000:.0f} ms "
                   f"flush interval is {kill['rows_per_flush_interval']:,.0f} rows at the rate logged "
                   f"(goal: at most one interval): {verdict(kill['lost_within_one_flush_interval'] and kill['files_read'])}")
    elif kill:
        out.append(f"- SIGKILL: error {kill['error']}")
    return out


def render_markdown(results: dict, tools: list[str], summary: dict) -> str:
    m = results["machine"]
    v = results["versions"]
    steps = results["steps"]
    out = [
        f"## Logging benchmark: {' vs '.join(tools)}",
        "",
        f"Machine: {m['cpus']} CPUs, Linux {m['kernel']}, Python {m['python']}; run directories on {m['tmp_fs']}; "
        f"load average {m['loadavg_at_start'][0]:.2f} at start, {m['loadavg_at_end'][0]:.2f} at end. "
        f"Peers from PyPI: whirr {v.get('whirr')}, expman-rs {v.get('expman')}.",
    ]
    loads = [la[0] for la in results.get("loadavg_per_repeat", [])]
    if loads:
        out[-1] += f" Load average at the start of each repeat: {', '.join(f'{x:.2f}' for x in loads)}."
    if results.get("quill_library"):
        out[-1] += (f" quill-python: the `quill` package ({DIST_NAME['quill-python']} {v.get('quill-python') or 'from source'}) "
                    f"over `{results['quill_library']}`.")
    if results["quill_skipped"]:
        out += ["", f"**Quill skipped:** {results['quill_skipped']}."]
    if results.get("quill_python_skipped"):
        out += ["", f"**quill-python skipped:** {results['quill_python_skipped']}."]
    out += [
        "",
        f"### Throughput: one run, 3 metrics per step, {steps:,} steps, median of {results['repeats']}",
        "",
        "Wall time runs from the first log call to the end of the final flush and finish. µs/call is that wall "
        "time over the number of log calls (one call per step, 3 metrics each).",
        "",
        "| tool | points | wall s (median) | wall s (min–max) | points/s | µs/call | disk MB | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for tool in tools:
        s = summary[tool]
        out.append(
            f"| {tool} | {s['points']:,} | {s['wall_seconds_median']:.3f} | "
            f"{s['wall_seconds_min']:.3f}–{s['wall_seconds_max']:.3f} | {s['points_per_second']:,.0f} | "
            f"{s['us_per_call']:.2f} | {s['disk_bytes_median'] / 1e6:.1f} | {s['peak_rss_bytes_median'] / 1e6:.0f} |")
    out.append("")
    if any(t in summary for t in QUILL_TOOLS):
        for quill_tool in QUILL_TOOLS:
            for peer in PEERS:
                key = f"{peer}_wall_over_{quill_tool}_wall"
                if key in summary:
                    out.append(f"- {peer} wall / {quill_tool} wall: **{summary[key]:.1f}x**")
    else:
        out.append("- ratios to Quill: n/a (Quill was not run)")
    for tool in tools:
        s = summary[tool]
        if "finish_seconds_median" in s:
            out.append(f"- {tool}: log loop {s['log_loop_seconds_median']:.3f} s ({s['log_loop_us_per_call']:.2f} µs/call) "
                       f"+ final flush/finish {s['finish_seconds_median']:.3f} s")
        if s.get("rows_on_disk") is not None and s["rows_on_disk"] != s["steps"]:
            out.append(f"- **{tool}: {s['rows_on_disk']:,} rows on disk after finish, {s['steps']:,} logged**")
    out.append("- MB = 10^6 bytes. Disk is the sum of the file sizes in the run directory after finish; "
               "peak RSS is the process's VmHWM at the end (interpreter and imports included for the Python peers).")
    lat = summary.get("latency", {})
    if lat:
        first = next(iter(lat.values()))
        out += ["", f"### Caller latency of one log call ({first['calls']:,} timed calls after "
                f"{results['latency_warmup']:,} untimed, median of {first['repeats']} runs per percentile)", "",
                "`time.perf_counter_ns()` right before and right after each call, the row's dict built before the "
                "first timestamp; the timer's own cost (two back-to-back `perf_counter_ns()` calls, measured the "
                "same way in the same process) is included in every sample and shown beside it. µs.", "",
                "| tool | p50 | p90 | p99 | p99.9 | max | mean | timer p50 | timer p99 | every row on disk |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for tool, e in lat.items():
            q, t = e["latency_ns"], e["timer_overhead_ns"]
            out.append(f"| {tool} | {q['p50'] / 1e3:.2f} | {q['p90'] / 1e3:.2f} | {q['p99'] / 1e3:.2f} | "
                       f"{q['p99_9'] / 1e3:.2f} | {q['max'] / 1e3:.1f} | {q['mean'] / 1e3:.2f} | "
                       f"{t['p50'] / 1e3:.3f} | {t['p99'] / 1e3:.3f} | {'yes' if e['every_row_on_disk'] else '**no**'} |")
    if results["memory"]:
        mem_steps = results["memory_steps"]
        out += ["", f"### Peak memory at {mem_steps * 3:,} points ({mem_steps:,} steps, one run each)", "",
                "| tool | wall s | µs/call | disk MB | peak RSS MB |", "|---|---:|---:|---:|---:|"]
        for tool in tools:
            r = results["memory"][tool]
            out.append(f"| {tool} | {r['seconds']:.2f} | {r['seconds'] / mem_steps * 1e6:.2f} | "
                       f"{r['disk_bytes'] / 1e6:.1f} | {r['peak_rss_bytes'] / 1e6:.0f} |")
    out += ["", f"### SIGKILL after about {results['kill_after']:.1f} s of logging", "",
            "Accepted = the last step count the child recorded (every 1,000 steps) before the kill, a lower bound on "
            "what it had handed to the tracker. Survived = rows the tool's own reader returns afterwards "
            "(Quill: complete lines of metrics.jsonl). Lost % = (accepted − survived) / accepted, floored at 0.",
            "",
            "| tool | accepted | survived | lost | lost % | files read OK | notes |",
            "|---|---:|---:|---:|---:|---|---|"]
    for tool in tools:
        r = results["sigkill"][tool]
        if "error" in r:
            out.append(f"| {tool} | – | – | – | – | no | error: {r['error']} |")
            continue
        rb = r["readback"]
        notes = []
        if rb.get("contiguous_prefix") is False:
            notes.append("survivors are not steps 0..n-1")
        if rb.get("duplicates"):
            notes.append(f"{rb['duplicates']} duplicate steps")
        if rb.get("truncated_tail_bytes"):
            notes.append(f"truncated last line ({rb['truncated_tail_bytes']} bytes) ignored")
        if rb.get("note"):
            notes.append(rb["note"])
        notes.append(f"~{r['rows_per_second_while_logging']:,.0f} rows/s logged")
        if "rows_per_flush_interval" in r:
            notes.append(f"at most {r['lost_at_most']:,} lost vs {r['rows_per_flush_interval']:,.0f} rows in one "
                         f"{QUILL_FLUSH_INTERVAL_SECONDS * 1000:.0f} ms flush interval: "
                         + ("within" if r["lost_within_one_flush_interval"] else "**over**"))
        out.append(f"| {tool} | {r['accepted']:,} | {r['survived']:,} | {r['lost']:,} | {r['lost_percent']:.1f} | "
                   f"{'yes' if r['files_read'] else 'no'} | {'; '.join(notes)} |")
    out += goals_markdown(results, summary)
    out += ["", f"Harness time: {results['harness_seconds']:.0f} s."]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare", help="run every tool and print the Markdown tables")
    c.add_argument("--quill-bin", default="", help="path to quill-peer-bench (Quill is skipped if missing)")
    c.add_argument("--quill-library", default="",
                   help="libQuillC.so for quill-python (default: the one packaged in the installed quill package)")
    c.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of: " + ", ".join(TOOLS))
    c.add_argument("--steps", type=int, default=333_334, help="steps per throughput run (3 points each)")
    c.add_argument("--repeats", type=int, default=3, help="throughput repeats per tool; medians are reported")
    c.add_argument("--memory-steps", type=int, default=1_000_000,
                   help="steps for the one-off peak-memory run (0 to skip)")
    c.add_argument("--kill-after", type=float, default=1.0, help="seconds of logging before the SIGKILL")
    c.add_argument("--latency-calls", type=int, default=100_000,
                   help="timed log calls per latency run of each Python-driven tool (0 to skip)")
    c.add_argument("--latency-warmup", type=int, default=10_000, help="untimed log calls before them")
    c.add_argument("--out", default="", help="also write every measurement as JSON to this file")
    w = sub.add_parser("worker", help="internal: one measured process")
    w.add_argument("mode", choices=["throughput", "latency", "sigkill-child", "readback"])
    w.add_argument("--tool", required=True)
    w.add_argument("--home", required=True)
    w.add_argument("--steps", type=int, default=333_334)
    w.add_argument("--progress", default="")
    w.add_argument("--calls", type=int, default=100_000)
    w.add_argument("--warmup", type=int, default=10_000)
    args = parser.parse_args()
    if args.command == "compare":
        if args.steps < 1 or args.repeats < 1:
            parser.error("--steps and --repeats must be at least 1")
        if args.latency_calls < 0 or args.latency_warmup < 0:
            parser.error("--latency-calls and --latency-warmup must not be negative")
        compare(args)
    elif args.mode == "throughput":
        worker_throughput(args.tool, args.home, args.steps)
    elif args.mode == "latency":
        if args.calls < 1:
            parser.error("latency needs --calls of at least 1")
        worker_latency(args.tool, args.home, args.calls, args.warmup)
    elif args.mode == "sigkill-child":
        if not args.progress:
            parser.error("sigkill-child needs --progress FILE")
        worker_sigkill(args.tool, args.home, args.progress)
    else:
        worker_readback(args.tool, args.home)


if __name__ == "__main__":
    main()
