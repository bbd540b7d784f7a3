#!/usr/bin/env python3
"""Job-queue benchmark: Quill's queue and whirr 0.5.3's, measured the same way on 127.0.0.1.

Run through bench/jobs/run.sh (it makes the virtualenv and builds quill). Directly:

    python jobs_bench.py --target whirr [--python VENV/bin/python] [--only NAME,...] [--json OUT]
    python jobs_bench.py --target quill --quill .build/release/quill
    python jobs_bench.py --target quill-whirr --quill .build/release/quill   # whirr's worker against quill serve /whirr

Scenarios (each starts a fresh server and fresh workers in a scratch directory):
  latency     submit-to-start latency with an idle worker (N samples, median)
  throughput  trivial jobs per second through one and through two workers
  sigkill     time from a worker's SIGKILL (mid-job) to the job running again on another worker
  claims      four workers claiming from 200 queued jobs: errors, stranded jobs, jobs run twice
  scale       server RSS and status-call latency with 10,000 jobs queued

Every job is a /bin/sh command that appends "<job id> <unix time>" to a file, so start times come from the
job itself, not from the server. Everything target-specific (commands, URL shapes, JSON fields, env names) is
in the Target classes below.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

for _v in ("NO_PROXY", "no_proxy"):
    os.environ[_v] = ",".join(x for x in (os.environ.get(_v, ""), "127.0.0.1,localhost") if x)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stop(proc: subprocess.Popen, sig: int = signal.SIGINT, timeout: float = 15) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --- targets: the one place that knows URLs, commands and JSON fields ------------------------------------


class Target:
    """A server plus workers under test."""

    name = "?"
    job_id_env = "?"

    def __init__(self, work: Path, args: argparse.Namespace) -> None:
        self.work = work
        self.args = args
        self.server: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.base = ""
        self.http = httpx.Client(timeout=60)

    # URL shapes
    def url(self, key: str, **kw: object) -> str:
        return self.base + self.ROUTES[key].format(**kw)

    def start_server(self) -> None: raise NotImplementedError
    def start_worker(self, index: int) -> subprocess.Popen: raise NotImplementedError
    def submit(self, argv: list[str]) -> int: raise NotImplementedError
    def job_status(self, job_id: int) -> str: raise NotImplementedError
    def status(self) -> dict: raise NotImplementedError

    def wait_up(self, health_path: str) -> None:
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.server is not None and self.server.poll() is not None:
                raise RuntimeError(f"{self.name} server exited; see {self.work}/server.log")
            try:
                if self.http.get(self.base + health_path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} server did not come up")

    def server_errors(self) -> int:
        """HTTP 5xx answers the server logged."""
        return 0

    def worker_errors(self) -> int:
        """Errors the workers reported (failed claims, failed completions)."""
        n = 0
        for log in self.work.glob("worker-*.log"):
            text = log.read_text(errors="replace")
            n += sum(text.count(m) for m in ("Failed to claim", "Failed to report", "Heartbeat failed"))
        return n

    def close(self) -> None:
        for w in self.workers:
            stop(w)
        if self.server is not None:
            stop(self.server)
        self.http.close()


class WhirrTarget(Target):
    name = "whirr"
    job_id_env = "WHIRR_JOB_ID"
    ROUTES = {
        "health": "/health",
        "submit": "/api/v1/jobs",
        "job": "/api/v1/jobs/{job_id}",
        "status": "/api/v1/status",
    }

    def whirr_exe(self) -> str:
        return str(Path(self.args.python).parent / "whirr")

    def env(self) -> dict:
        return {k: v for k, v in os.environ.items() if not k.startswith("WHIRR_")}

    def start_server(self) -> None:
        port = free_port()
        self.data_dir = self.work / "data"
        self.server = subprocess.Popen(
            [self.whirr_exe(), "server", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(self.data_dir)],
            cwd=self.work, env=self.env(), stdout=open(self.work / "server.log", "wb"), stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{port}"
        self.wait_up(self.ROUTES["health"])

    def worker_url(self) -> str:
        return self.base

    def start_worker(self, index: int) -> subprocess.Popen:
        p = subprocess.Popen(
            [self.whirr_exe(), "worker", "--server", self.worker_url(), "--data-dir", str(self.work / "data")],
            cwd=self.work, env=self.env(), stdout=open(self.work / f"worker-{index}.log", "ab"),
            stderr=subprocess.STDOUT)
        self.workers.append(p)
        return p

    def submit(self, argv: list[str]) -> int:
        r = self.http.post(self.url("submit"), json={"command_argv": argv, "workdir": str(self.work)})
        r.raise_for_status()
        return int(r.json()["job_id"])

    def job_status(self, job_id: int) -> str:
        r = self.http.get(self.url("job", job_id=job_id))
        r.raise_for_status()
        return str(r.json()["status"])

    def status(self) -> dict:
        r = self.http.get(self.url("status"))
        r.raise_for_status()
        return r.json()

    def server_errors(self) -> int:
        text = (self.work / "server.log").read_text(errors="replace")
        return sum(1 for line in text.splitlines() if '" 500' in line or "Internal Server Error" in line)


class QuillWhirrTarget(WhirrTarget):
    """whirr's own worker and whirr's wire format, served by `quill serve` under /whirr."""

    name = "quill-whirr"
    ROUTES = {
        "health": "/whirr/health",
        "submit": "/whirr/api/v1/jobs",
        "job": "/whirr/api/v1/jobs/{job_id}",
        "status": "/whirr/api/v1/status",
    }

    def start_server(self) -> None:
        self.data_dir = self.work / "data"
        self.server = start_quill(self, ["--local-workers", "0"])
        self.wait_up(self.ROUTES["health"])

    def worker_url(self) -> str:
        return self.base + "/whirr"

    def server_errors(self) -> int:
        text = (self.work / "server.log").read_text(errors="replace")
        return sum(1 for line in text.splitlines() if "status=500" in line or " 500 " in line)


class QuillTarget(Target):
    """Quill's own queue: `quill serve --local-workers 0` and `quill worker` processes, over Quill's job API."""

    name = "quill"
    job_id_env = "QUILL_JOB_ID"
    ROUTES = {
        "health": "/healthz",
        "submit": "/api/v1/jobs",
        "job": "/api/v1/jobs/{job_id}",
        "status": "/api/v1/jobs?limit=1",  # the job list carries the counts by status
    }

    def start_server(self) -> None:
        self.data_dir = self.work / "data"
        self.server = start_quill(self, ["--local-workers", "0"])
        self.wait_up(self.ROUTES["health"])

    def start_worker(self, index: int) -> subprocess.Popen:
        env = dict(os.environ, QUILL_HOME=str(self.work / "home"))
        p = subprocess.Popen(
            [self.args.quill, "worker", "--server", self.base, "--name", f"bench-{index}",
             "--runs-dir", str(self.work / f"runs-{index}")],
            cwd=self.work, env=env, stdout=open(self.work / f"worker-{index}.log", "ab"), stderr=subprocess.STDOUT)
        self.workers.append(p)
        return p

    def submit(self, argv: list[str]) -> int:
        r = self.http.post(self.url("submit"), json={"argv": argv, "workdir": str(self.work)})
        r.raise_for_status()
        return int(r.json()["id"])

    def job_status(self, job_id: int) -> str:
        r = self.http.get(self.url("job", job_id=job_id))
        r.raise_for_status()
        return str(r.json()["status"])

    def status(self) -> dict:
        r = self.http.get(self.url("status"))
        r.raise_for_status()
        return r.json()["counts"]

    def server_errors(self) -> int:
        text = (self.work / "server.log").read_text(errors="replace")
        return sum(1 for line in text.splitlines() if "status=500" in line or "error" in line.lower())

    def worker_errors(self) -> int:
        n = 0
        for log in self.work.glob("worker-*.log"):
            n += sum(1 for line in log.read_text(errors="replace").splitlines() if "error" in line.lower())
        return n


def start_quill(target: Target, extra: list[str]) -> subprocess.Popen:
    log = target.work / "server.log"
    port = free_port()
    p = subprocess.Popen(
        [target.args.quill, "serve", "--host", "127.0.0.1", "--port", str(port),
         "--data", str(target.work / "quill-data"), *extra],
        cwd=target.work, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    target.base = f"http://127.0.0.1:{port}"
    return p


TARGETS = {"whirr": WhirrTarget, "quill": QuillTarget, "quill-whirr": QuillWhirrTarget}


# --- jobs ------------------------------------------------------------------------------------------------


def marker_job(target: Target, marks: Path, then: str = "") -> list[str]:
    """A job that appends '<job id> <unix time>' to MARKS (then runs THEN, a shell fragment)."""
    script = f'echo "${{{target.job_id_env}}} $(date +%s.%N)" >> "{marks}"'
    if then:
        script += f"; {then}"
    return ["/bin/sh", "-c", script]


def read_marks(marks: Path) -> list[tuple[int, float]]:
    if not marks.exists():
        return []
    out = []
    for line in marks.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            out.append((int(parts[0]), float(parts[1])))
    return out


def wait_for(pred, timeout: float, step: float = 0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(step)
    return None


# --- scenarios -------------------------------------------------------------------------------------------


def scenario_latency(t: Target, samples: int) -> dict:
    t.start_server()
    t.start_worker(0)
    marks = t.work / "latency.marks"
    # let the worker register and go idle
    time.sleep(2.0)
    lat = []
    for i in range(samples):
        sent = time.time()
        jid = t.submit(marker_job(t, marks))
        got = wait_for(lambda: [m for m in read_marks(marks) if m[0] == jid], timeout=60)
        if not got:
            raise RuntimeError(f"job {jid} did not start within 60 s")
        lat.append(got[0][1] - sent)
        wait_for(lambda: t.job_status(jid) not in ("queued", "running"), timeout=30, step=0.05)
        # a random phase against the worker's poll interval
        time.sleep(random.uniform(0.2, 5.2))
    return {"samples_s": [round(x, 4) for x in lat], "median_s": round(statistics.median(lat), 4)}


def scenario_throughput(t: Target, jobs: int, workers: int) -> dict:
    t.start_server()
    marks = t.work / f"throughput-{workers}.marks"
    ids = [t.submit(marker_job(t, marks)) for _ in range(jobs)]
    for i in range(workers):
        t.start_worker(i)
    done = wait_for(lambda: len(read_marks(marks)) >= jobs, timeout=max(120, jobs * 2), step=0.1)
    wait_for(lambda: all(t.job_status(j) not in ("queued", "running") for j in ids[-workers:]), timeout=30, step=0.1)
    m = sorted(x[1] for x in read_marks(marks))
    if not done or len(m) < 2:
        return {"error": f"only {len(m)} of {jobs} jobs ran"}
    span = m[-1] - m[0]
    return {"jobs": jobs, "workers": workers, "span_s": round(span, 3),
            "jobs_per_s": round((len(m) - 1) / span, 3), "errors": t.worker_errors() + t.server_errors()}


def scenario_sigkill(t: Target, timeout: float) -> dict:
    t.start_server()
    marks = t.work / "sigkill.marks"
    jid = t.submit(marker_job(t, marks, "sleep 600"))
    first = t.start_worker(0)
    got = wait_for(lambda: read_marks(marks), timeout=60)
    if not got:
        raise RuntimeError("the job did not start")
    t.start_worker(1)
    time.sleep(2.0)  # the second worker is up and polling
    killed = time.time()
    first.send_signal(signal.SIGKILL)
    first.wait()
    again = wait_for(lambda: len(read_marks(marks)) >= 2, timeout=timeout, step=0.1)
    if not again:
        return {"job": jid, "rerun_after_s": None, "note": f"not re-run within {timeout:.0f} s"}
    return {"job": jid, "rerun_after_s": round(read_marks(marks)[1][1] - killed, 2)}


def scenario_claims(t: Target, jobs: int, workers: int, quiet: float) -> dict:
    t.start_server()
    marks = t.work / "claims.marks"
    ids = [t.submit(marker_job(t, marks)) for _ in range(jobs)]
    for i in range(workers):
        t.start_worker(i)
    # run until every job has ended, or nothing changed for QUIET seconds; when nothing ran for 10 s while
    # jobs are still active, count the jobs 'running' that never ran (stranded by a failed claim)
    last_change, last_count, started = time.time(), -1, time.time()
    stranded_at_pause: int | None = None
    while True:
        statuses = [t.job_status(j) for j in ids]
        active = sum(1 for s in statuses if s in ("queued", "running"))
        count = len(read_marks(marks))
        if count != last_count:
            last_change, last_count = time.time(), count
        if active and stranded_at_pause is None and time.time() - last_change > 10:
            ran = {jid for jid, _ in read_marks(marks)}
            stranded_at_pause = sum(1 for j, s in zip(ids, statuses) if s == "running" and j not in ran)
        if active == 0 or time.time() - last_change > quiet:
            break
        time.sleep(0.5)
    elapsed = time.time() - started
    runs: dict[int, int] = {}
    for jid, _ in read_marks(marks):
        runs[jid] = runs.get(jid, 0) + 1
    statuses = {j: t.job_status(j) for j in ids}
    stranded = [j for j, s in statuses.items() if s in ("queued", "running") and runs.get(j, 0) == 0]
    stuck_running = [j for j, s in statuses.items() if s == "running" and runs.get(j, 0) == 0]
    by_status: dict[str, int] = {}
    for s in statuses.values():
        by_status[s] = by_status.get(s, 0) + 1
    return {
        "jobs": jobs, "workers": workers, "elapsed_s": round(elapsed, 1),
        "server_5xx": t.server_errors(), "worker_errors": t.worker_errors(),
        "never_ran": sum(1 for j in ids if runs.get(j, 0) == 0),
        "stranded_after_pause": stranded_at_pause or 0, "stranded_at_end": len(stranded),
        "stranded_running_at_end": len(stuck_running),
        "run_twice": sum(1 for n in runs.values() if n > 1),
        "statuses": by_status,
    }


def scenario_scale(t: Target, jobs: int, calls: int) -> dict:
    t.start_server()
    assert t.server is not None
    rss_before = rss_mb(t.server.pid)
    argv = ["/bin/true"]
    t0 = time.time()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: t.submit(argv), range(jobs)))
    submit_s = time.time() - t0
    st = t.status()
    lat = []
    for _ in range(calls):
        a = time.perf_counter()
        t.status()
        lat.append((time.perf_counter() - a) * 1000)
    return {"jobs": jobs, "submit_s": round(submit_s, 1), "submits_per_s": round(jobs / submit_s, 1),
            "status": st, "status_ms_median": round(statistics.median(lat), 2),
            "status_ms_p90": round(sorted(lat)[int(len(lat) * 0.9) - 1], 2),
            "rss_mb_empty": round(rss_before, 1), "rss_mb": round(rss_mb(t.server.pid), 1)}


def run_one(name: str, fn, args: argparse.Namespace, **kw) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"quill-bench-jobs-{args.target}-{name}-"))
    target = TARGETS[args.target](work, args)
    try:
        result = fn(target, **kw)
    except Exception as e:  # noqa: BLE001 - report and go on with the next scenario
        result = {"error": f"{type(e).__name__}: {e}", "work": str(work)}
        args.keep = True
    finally:
        target.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"target": args.target, "scenario": name, **result}), flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", choices=sorted(TARGETS), required=True)
    ap.add_argument("--python", default=sys.executable, help="the Python of the venv holding whirr[server]")
    ap.add_argument("--quill", default=".build/release/quill")
    ap.add_argument("--only", default="latency,throughput,sigkill,claims,scale")
    ap.add_argument("--latency-samples", type=int, default=10)
    ap.add_argument("--throughput-jobs", type=int, default=40)
    ap.add_argument("--sigkill-repeat", type=int, default=1)
    ap.add_argument("--sigkill-timeout", type=float, default=400)
    ap.add_argument("--claims-jobs", type=int, default=200)
    ap.add_argument("--claims-repeat", type=int, default=3)
    ap.add_argument("--claims-quiet", type=float, default=200,
                    help="stop waiting when nothing ran for this long (whirr requeues a stranded job after 120-150 s)")
    ap.add_argument("--scale-jobs", type=int, default=10000)
    ap.add_argument("--keep", action="store_true", help="keep the scratch directories")
    ap.add_argument("--json", help="append the results to this file as JSON lines")
    args = ap.parse_args()
    args.quill = os.path.abspath(args.quill)
    args.python = os.path.abspath(args.python)  # not resolve(): a venv python is a symlink
    only = set(args.only.split(","))
    results = {}
    if "latency" in only:
        results["latency"] = run_one("latency", scenario_latency, args, samples=args.latency_samples)
    if "throughput" in only:
        results["throughput-1"] = run_one("throughput-1", scenario_throughput, args, jobs=args.throughput_jobs, workers=1)
        results["throughput-2"] = run_one("throughput-2", scenario_throughput, args, jobs=args.throughput_jobs, workers=2)
    if "sigkill" in only:
        runs = [run_one(f"sigkill-{i + 1}", scenario_sigkill, args, timeout=args.sigkill_timeout)
                for i in range(args.sigkill_repeat)]
        values = [r["rerun_after_s"] for r in runs if r.get("rerun_after_s") is not None]
        results["sigkill"] = {"runs": runs, "median_s": statistics.median(values) if values else None}
    if "claims" in only:
        results["claims"] = [run_one(f"claims-{i + 1}", scenario_claims, args, jobs=args.claims_jobs, workers=4,
                                     quiet=args.claims_quiet) for i in range(args.claims_repeat)]
    if "scale" in only:
        results["scale"] = run_one("scale", scenario_scale, args, jobs=args.scale_jobs, calls=20)
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps({"target": args.target, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                "results": results}) + "\n")


if __name__ == "__main__":
    main()
