"""Logging benchmark: Quill against whirr and expman-rs, side by side in one run.

Run through run.sh, which makes a throwaway virtualenv with the peers and builds Quill's release binary.

  python peers.py compare --quill-bin PATH [--steps 333334] [--repeats 3] [--memory-steps 1000000] [--out FILE]
  python peers.py worker throughput --tool whirr|expman --home DIR --steps N
  python peers.py worker sigkill-child --tool whirr|expman --home DIR --progress FILE

Every case runs in a fresh process with a fresh directory. Workload: one run, 3 metrics per step
(loss, acc, lr). Throughput is timed from the first log call to the end of the final flush and finish.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def peak_rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def write_progress(path: str, count: int) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{count}\n")
    os.replace(tmp, path)


# ---------------------------------------------------------------- workers (run inside the venv)

def open_peer(tool: str, home: str, name: str):
    """Returns (log(values, step), finish(), run_dir) for a peer tracker writing under home."""
    if tool == "whirr":
        from pathlib import Path
        from whirr.run import Run

        run_dir = Path(home) / "runs" / name
        run = Run(name=name, run_dir=run_dir, system_metrics=False, capture_git=False, capture_pip=False)
        return run.log, run.finish, str(run_dir)
    if tool == "expman":
        from expman import Experiment

        exp = Experiment(
            "bench", run_name=name, base_dir=home, redirect_console=False, heartbeat_interval_secs=0,
            system_metrics_interval_secs=0, capture_provenance=False,
        )
        run_dir = exp.run_dir
        return exp.log_vector, exp.close, run_dir
    raise SystemExit(f"unknown tool {tool}")


def worker_throughput(tool: str, home: str, steps: int) -> None:
    log, finish, run_dir = open_peer(tool, home, "throughput")
    n = float(steps)
    start = time.perf_counter()
    for step in range(steps):
        x = float(step)
        log({"loss": 1.0 / (1.0 + x), "acc": x / n, "lr": 0.001 * (1.0 - x / n)}, step=step)
    finish()
    seconds = time.perf_counter() - start
    print(json.dumps({"tool": tool, "points": steps * 3, "seconds": seconds, "peak_rss_bytes": peak_rss_bytes(),
                      "run_dir": run_dir}))


def worker_sigkill(tool: str, home: str, progress: str) -> None:
    log, _finish, _run_dir = open_peer(tool, home, "sigkill")
    step = 0
    while True:
        x = float(step)
        log({"loss": 1.0 / (1.0 + x), "acc": x / 1e6, "lr": 0.001}, step=step)
        step += 1
        if step % 1000 == 0:
            write_progress(progress, step)


# ---------------------------------------------------------------- readers after SIGKILL

def count_jsonl(path: str) -> tuple[int, bool]:
    """Rows that parse, and whether every line but a truncated last one parses."""
    rows = 0
    ok = True
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    for line in complete:
        if not line.strip():
            continue
        try:
            json.loads(line)
            rows += 1
        except ValueError:
            ok = False
    # A last line without its newline is a write cut by the kill: not counted, not an error.
    del tail
    return rows, ok


def survivors(tool: str, home: str, python: str) -> tuple[int, bool, str]:
    """(rows that read back, files read OK, note) for one killed run, using each tool's own reader."""
    if tool == "quill":
        runs = glob.glob(os.path.join(home, "runs", "*"))
        if len(runs) != 1:
            return 0, False, f"expected one run dir, found {len(runs)}"
        rows, ok = count_jsonl(os.path.join(runs[0], "metrics.jsonl"))
        try:
            with open(os.path.join(runs[0], "meta.json")) as f:
                json.load(f)
        except ValueError:
            ok = False
        return rows, ok, ""
    code = {
        "whirr": "from pathlib import Path; from whirr.run import read_metrics, read_meta; import glob, sys; "
                 "d = glob.glob(sys.argv[1] + '/runs/*')[0]; read_meta(Path(d)); "
                 "print(len(read_metrics(Path(d) / 'metrics.jsonl')))",
        "expman": "import expman.expman as e, glob, sys; d = glob.glob(sys.argv[1] + '/bench/*/')[0]; "
                  "print(len(e.read_metrics(d)))",
    }[tool]
    result = subprocess.run([python, "-c", code, home], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["?"])[-1]
        return 0, False, last[:120]
    return int(result.stdout.strip()), True, ""


# ---------------------------------------------------------------- orchestration

def command_for(tool: str, mode: str, home: str, quill_bin: str, extra: list[str]) -> list[str]:
    if tool == "quill":
        return [quill_bin, mode, "--home", home] + extra
    return [sys.executable, os.path.abspath(__file__), "worker", mode, "--tool", tool, "--home", home] + extra


def run_throughput(tool: str, steps: int, quill_bin: str) -> dict:
    home = tempfile.mkdtemp(prefix=f"peers-{tool}-")
    try:
        out = subprocess.run(command_for(tool, "throughput", home, quill_bin, ["--steps", str(steps)]),
                             capture_output=True, text=True, check=True, timeout=1800)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        size = 0
        for root, _dirs, files in os.walk(result["run_dir"]):
            for name in files:
                size += os.path.getsize(os.path.join(root, name))
        result["disk_bytes"] = size
        return result
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run_sigkill(tool: str, quill_bin: str, kill_after: float) -> dict:
    home = tempfile.mkdtemp(prefix=f"peers-kill-{tool}-")
    progress = os.path.join(home, "progress")
    try:
        child = subprocess.Popen(command_for(tool, "sigkill-child", home, quill_bin, ["--progress", progress]),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not os.path.exists(progress) and time.time() < deadline and child.poll() is None:
            time.sleep(0.005)
        first_seen = time.time()
        with open(progress) as f:
            first = int(f.read().strip() or 0)
        time.sleep(kill_after)
        child.send_signal(signal.SIGKILL)
        child.wait()
        elapsed = time.time() - first_seen
        with open(progress) as f:
            accepted = int(f.read().strip() or 0)
        per_interval = (accepted - first) / max(elapsed, 1e-9) * 0.1
        survived, ok, note = survivors(tool, home, sys.executable)
        # The child records progress every 1,000 steps, so it had accepted between `accepted` and
        # `accepted + 999` rows: the loss below is an upper bound.
        lost = max(0, accepted + 999 - survived)
        return {"tool": tool, "rows_per_100ms": per_interval, "accepted_at_least": accepted, "survived": survived, "lost_at_most": lost,
                "lost_percent_at_most": 100.0 * lost / max(1, accepted + 999), "files_read": ok, "note": note}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def compare(args: argparse.Namespace) -> None:
    tools = ["quill", "expman", "whirr"]
    if not args.quill_bin or not os.access(args.quill_bin, os.X_OK):
        print(f"quill binary not found at {args.quill_bin!r}: build it with "
              "`swift build -c release --product quill-peer-bench`; skipping Quill", file=sys.stderr)
        tools.remove("quill")
    results: dict = {"steps": args.steps, "repeats": args.repeats, "throughput": {}, "memory": {}, "sigkill": {}}
    # Interleave tools in each repeat so machine noise hits them alike.
    for repeat in range(args.repeats):
        for tool in tools:
            r = run_throughput(tool, args.steps, args.quill_bin)
            results["throughput"].setdefault(tool, []).append(r)
            print(f"  throughput {tool:7s} repeat {repeat + 1}: {r['seconds']:.3f} s", file=sys.stderr)
    if args.memory_steps:
        for tool in tools:
            r = run_throughput(tool, args.memory_steps, args.quill_bin)
            results["memory"][tool] = r
            print(f"  memory     {tool:7s}: {r['peak_rss_bytes'] / 2**20:.0f} MiB at {r['points']} points",
                  file=sys.stderr)
    for tool in tools:
        r = run_sigkill(tool, args.quill_bin, args.kill_after)
        results["sigkill"][tool] = r
        print(f"  sigkill    {tool:7s}: survived {r['survived']} of >= {r['accepted_at_least']}", file=sys.stderr)

    table = ["| tool | points | wall s (median) | points/s | µs per call | disk MB | peak RSS MB |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    medians = {}
    for tool in tools:
        runs = results["throughput"][tool]
        wall = statistics.median(r["seconds"] for r in runs)
        medians[tool] = wall
        points = runs[0]["points"]
        steps = points // 3
        table.append(f"| {tool} | {points:,} | {wall:.3f} | {points / wall:,.0f} | {wall / steps * 1e6:.2f} | "
                     f"{statistics.median(r['disk_bytes'] for r in runs) / 1e6:.1f} | "
                     f"{statistics.median(r['peak_rss_bytes'] for r in runs) / 2**20:.0f} |")
    lines = [f"Throughput: one run, 3 metrics per step, {args.steps:,} steps, median of {args.repeats} "
             "(each repeat runs every tool once, interleaved)", ""] + table + [""]
    if "quill" in medians:
        for peer in ("expman", "whirr"):
            if peer in medians:
                lines.append(f"- {peer} wall / quill wall: **{medians[peer] / medians['quill']:.1f}x**")
        lines.append("")
    if results["memory"]:
        lines += [f"Peak memory at {args.memory_steps * 3:,} points (one run each):", "",
                  "| tool | wall s | peak RSS MB |", "|---|---:|---:|"]
        for tool in tools:
            r = results["memory"][tool]
            lines.append(f"| {tool} | {r['seconds']:.2f} | {r['peak_rss_bytes'] / 2**20:.0f} |")
        lines.append("")
    lines += [f"SIGKILL after about {args.kill_after:.1f} s of logging:", "",
              "| tool | rows logged per 100 ms | rows accepted (at least) | rows that read back | rows lost (at most) "
              "| lost % (at most) | files read |",
              "|---|---:|---:|---:|---:|---:|---|"]
    for tool in tools:
        r = results["sigkill"][tool]
        note = f" ({r['note']})" if r["note"] else ""
        lines.append(f"| {tool} | {r['rows_per_100ms']:,.0f} | {r['accepted_at_least']:,} | {r['survived']:,} | {r['lost_at_most']:,} | "
                     f"{r['lost_percent_at_most']:.1f} | {'yes' if r['files_read'] else 'no'}{note} |")
    print("\n".join(lines))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--quill-bin", default="")
    c.add_argument("--steps", type=int, default=333_334)
    c.add_argument("--repeats", type=int, default=3)
    c.add_argument("--memory-steps", type=int, default=1_000_000)
    c.add_argument("--kill-after", type=float, default=1.0)
    c.add_argument("--out", default="")
    w = sub.add_parser("worker")
    w.add_argument("mode", choices=["throughput", "sigkill-child"])
    w.add_argument("--tool", required=True)
    w.add_argument("--home", required=True)
    w.add_argument("--steps", type=int, default=333_334)
    w.add_argument("--progress", default="")
    args = parser.parse_args()
    if args.command == "compare":
        compare(args)
    elif args.mode == "throughput":
        worker_throughput(args.tool, args.home, args.steps)
    else:
        worker_sigkill(args.tool, args.home, args.progress)


if __name__ == "__main__":
    main()
