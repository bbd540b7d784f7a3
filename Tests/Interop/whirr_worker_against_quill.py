#!/usr/bin/env python3
"""whirr 0.5.3's real client and real worker against `quill serve`'s /whirr routes.

    python whirr_worker_against_quill.py --url http://127.0.0.1:PORT/whirr --data-dir DIR [--workers 4 --jobs 40]

DIR is the server's whirr data directory (`<quill serve --data>/whirr`): the worker writes its run folders
there, as it would on a shared filesystem. Prints one JSON object with what it saw; exits non-zero with a
message on the first failed expectation. Every wait is bounded.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from whirr.client import WhirrClient

TRAIN = """
import os, whirr
run = whirr.init(name="trained", config={"lr": 0.1}, tags=["real"], system_metrics=False,
                 capture_pip=False, capture_git=False)
for s in range(3):
    run.log({"loss": 1.0 / (s + 1)}, step=s)
open("model.txt", "w").write("weights")
run.save_artifact("model.txt")
run.summary({"loss": 0.33})
run.finish()
print("trained in", os.environ["WHIRR_RUN_DIR"])
"""


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def expect(condition, message):
    if not condition:
        fail(message)


def start_worker(url, data_dir, log_path, workdir):
    exe = Path(sys.executable).parent / "whirr"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHIRR_")}
    return subprocess.Popen([str(exe), "worker", "--server", url, "--data-dir", data_dir], cwd=workdir, env=env,
                            stdout=open(log_path, "ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=unblock_signals)


def unblock_signals():
    """A test runner may start this script with SIGINT blocked; a worker must see the SIGINT that stops it."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def stop_all(procs):
    """SIGINT to every worker at once (each finishes its claim, at most the server's claim wait), then wait."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    killed = 0
    for proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
            killed += 1
    return killed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=40)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="whirr-against-quill-"))
    client = WhirrClient(args.url, timeout=30)
    seen = {}
    workers = []
    try:
        # One real worker runs a job that logs with whirr.init, and a job that exits 3.
        trained = client.submit_job([sys.executable, "-c", TRAIN], str(work), name="trained",
                                    config={"lr": 0.1}, tags=["real", "kind:train"])
        expect(trained.run_id == f"job-{trained.job_id}", f"run_id {trained.run_id}")
        expect(Path(trained.run_dir) == Path(args.data_dir) / "runs" / trained.run_id, f"run_dir {trained.run_dir}")
        broken = client.submit_job([sys.executable, "-c", "import sys; print('oops'); sys.exit(3)"], str(work))
        workers.append(start_worker(args.url, args.data_dir, work / "worker-0.log", work))
        done = client.wait_for_job(trained.job_id, poll_interval=0.2, timeout=120)
        expect(done.status == "completed", f"trained job ended {done.status}")
        expect(done.exit_code == 0 and done.run_id == trained.run_id, f"trained job {done}")
        expect(done.tags == ["real", "kind:train"], f"tags {done.tags}")
        bad = client.wait_for_job(broken.job_id, poll_interval=0.2, timeout=60)
        expect((bad.status, bad.exit_code) == ("failed", 3), f"broken job {bad.status} {bad.exit_code}")
        run = client.get_run(trained.run_id)
        expect(run is not None, "get_run of the job's run")
        expect(run.status == "completed" and run.job_id == trained.job_id, f"run {run}")
        expect(run.summary == {"loss": 0.33}, f"summary {run.summary}")
        metrics = client.get_metrics(trained.run_id)
        losses = [m.model_extra.get("loss") for m in metrics]
        expect(losses == [1.0, 0.5, 1.0 / 3], f"metrics {losses}")
        expect([m.step for m in metrics] == [0, 1, 2], "steps")
        paths = [a.path for a in client.list_artifacts(trained.run_id)]
        expect("artifacts/model.txt" in paths and "output.log" in paths, f"artifacts {paths}")
        expect(client.get_artifact(trained.run_id, "artifacts/model.txt") == b"weights", "artifact bytes")
        expect(b"trained in" in client.get_artifact(trained.run_id, "output.log"), "output.log")
        seen["single"] = {"trained": trained.job_id, "broken": broken.job_id, "artifacts": paths}
        statuses = {r.id: r.status for r in client.get_runs(limit=10)}
        expect(statuses.get(trained.run_id) == "completed", f"get_runs {statuses}")
        expect(statuses.get(broken.run_id) == "failed", f"get_runs {statuses}")
        tagged = client.get_runs(tag="kind:train")
        expect(trained.run_id in [r.id for r in tagged] and broken.run_id not in [r.id for r in tagged],
               f"get_runs(tag=...) {[r.id for r in tagged]}")

        # Several workers (one worker id: whirr names every worker on a host <host>:default) drain a queue:
        # every job runs exactly once, no claim fails.
        marks = work / "marks"
        ids = [client.submit_job(["/bin/sh", "-c", f'echo "$WHIRR_JOB_ID" >> "{marks}"'], str(work)).job_id
               for _ in range(args.jobs)]
        for i in range(1, args.workers):
            workers.append(start_worker(args.url, args.data_dir, work / f"worker-{i}.log", work))
        deadline = time.time() + 180
        while time.time() < deadline:
            if all(client.get_job(j).status in ("completed", "failed") for j in ids):
                break
            time.sleep(0.5)
        ran = [int(x) for x in marks.read_text().split()] if marks.exists() else []
        expect(sorted(ran) == sorted(ids), f"ran {len(ran)} of {len(ids)} jobs, {len(ran) - len(set(ran))} twice")
        expect(all(client.get_job(j).status == "completed" for j in ids), "every job completed")
        expect(stop_all(workers) == 0, "a whirr worker did not stop within 60 s of SIGINT")
        logs = "".join(p.read_text(errors="replace") for p in work.glob("worker-*.log"))
        for bad_line in ("Failed to claim", "Failed to report", "Heartbeat failed", "Server error"):
            expect(bad_line not in logs, f"a worker logged {bad_line!r}:\n{logs[-2000:]}")
        st = client.get_status()
        expect(st.queued == 0 and st.running == 0, f"status {st}")
        expect(st.completed >= args.jobs + 1 and st.failed >= 1, f"status {st}")
        workers_seen = {w.id: w.status for w in client.get_workers()}
        expect(workers_seen and all(s == "offline" for s in workers_seen.values()), f"workers {workers_seen}")
        seen["queue"] = {"jobs": len(ids), "workers": args.workers, "status": st.model_dump()}
    finally:
        stop_all(workers)
        client.close()
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    main()
