"""A Python process killed with SIGKILL mid-logging leaves readable files that hold every row logged more than
one flush interval (plus a scheduling margin) before the kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import quill
from conftest import child_env, read_meta

FLUSH_INTERVAL = 0.1
# Scheduling margin on a loaded 2-core machine: the writer thread may run late by this much.
MARGIN = 0.4

CHILD = textwrap.dedent("""
    import sys, time, quill
    run = quill.init(project="crash", flush_interval=%r)
    print("dir", run.dir, flush=True)
    step = 0
    while True:
        for _ in range(200):
            run.log({"loss": 1.0 / (step + 1), "acc": step * 1e-6, "lr": 0.001}, step=step)
            step += 1
        # every 200 rows: how many rows had returned from log, and when (CLOCK_MONOTONIC, shared with the parent)
        print("logged", step, time.monotonic(), flush=True)
        time.sleep(0.001)
""")


def test_sigkill_loses_at_most_one_flush_interval(home: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD % FLUSH_INTERVAL],
        env=child_env(QUILL_HOME=str(home)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    reports: list = []
    run_dir = None
    started = None
    try:
        for line in process.stdout:
            parts = line.split()
            if parts[0] == "dir":
                run_dir = Path(parts[1])
            elif parts[0] == "logged":
                reports.append((int(parts[1]), float(parts[2])))
                started = started or time.monotonic()
                if time.monotonic() - started > 1.0:
                    break
        killed_at = time.monotonic()
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, process.stderr.read() if process.stderr else ""
    assert run_dir is not None and reports, "the child reported nothing"

    # Rows the child had logged well before the kill must all be in the file.
    safe = max((count for count, at in reports if at < killed_at - FLUSH_INTERVAL - MARGIN), default=0)
    assert safe > 0, f"the child logged too slowly to measure: {reports[:3]}"
    text = (run_dir / "metrics.jsonl").read_text(encoding="utf-8")
    lines = text.split("\n")
    import json

    rows = []
    for number, line in enumerate(lines):
        if not line:
            continue
        try:
            rows.append(json.loads(line))
        except ValueError:
            assert number == len(lines) - 1, f"line {number + 1} of {len(lines)} does not parse: {line[:80]}"
    steps = [row["step"] for row in rows]
    assert steps == list(range(len(rows))), "rows are missing or out of order"
    assert [row["_idx"] for row in rows] == steps
    assert len(rows) >= safe, f"lost rows: {len(rows)} in the file, {safe} logged more than " \
                              f"{FLUSH_INTERVAL + MARGIN} s before SIGKILL"
    logged = reports[-1][0]
    # The oldest report that counts a row missing from the file bounds how far back the loss reaches.
    first_missing = next((at for count, at in reports if count > len(rows)), killed_at)
    print(f"SIGKILL after {logged} rows reported: {len(rows)} written; rows logged within "
          f"{(killed_at - first_missing) * 1000:.0f} ms before the kill were lost (flush interval "
          f"{FLUSH_INTERVAL * 1000:.0f} ms); every row logged {(FLUSH_INTERVAL + MARGIN) * 1000:.0f} ms before it "
          f"({safe}) is in the file")

    # Readers see the run as crashed (its pid is gone) and read every row that was written.
    meta = read_meta(run_dir)
    assert meta["status"] == "running"  # nobody closed it; a reader repairs it
    found = [record for record in quill.runs(project="crash", home=home) if record.id == run_dir.name]
    assert found and found[0].status == "crashed"
    assert len(found[0].metrics()) == len(rows)
