"""Where Quill's server spends its CPU on two paths: single points on a new connection each, and one run's
batch ingest; with `perf` (sampled call stacks) and `strace -c` (system calls per request).

  python3 bench/server/profile.py --quill .build/release/quill [--durability full] [--requests 5000]
                                  [--points 300000] [--top 25]

Starts `quill serve --port 0 --durability MODE` on a new data folder, waits until it is idle (idle.py), then
for each path: sends the load once under `perf record -g -F 1999 -p SERVER` and once under `strace -f -c -p
SERVER`, and prints (1) the share of the server's samples per layer, from the demangled symbol's module or
the kernel (network, scheduler and futex, file system and sync), (2) the top symbols by self time, and (3)
system calls per request. The client is loadgen.py's (requests encoded before the load starts). Needs
`perf` and `strace` (Debian: linux-perf, strace) and `swift demangle` on PATH. Release build only.
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import idle
import loadgen

LAYERS = [  # first match wins; matched against "dso symbol" of a sample's leaf frame
    ("kernel: TCP/IP, sockets, epoll", r"\[kernel|k\].*(tcp|inet|sock|skb|ip_|__ip|epoll|net_|dev_|loopback|napi|__sys_(accept|connect|recv|send|shutdown)|accept|unix_)"),
    ("kernel: futex, scheduler, wake-ups", r"\[kernel|k\].*(futex|sched|schedule|wake|switch|finish_task|pick_|enqueue|dequeue|update_curr|hrtimer|idle)"),
    ("kernel: file system, fsync, WAL writes", r"\[kernel|k\].*(ext4|jbd2|blk|bio|fsync|filemap|page_cache|iomap|vfs_write|generic_perform|virtio|writeback)"),
    ("kernel: other (syscall entry, memory, ...)", r"\[kernel|k\]"),
    ("SQLite", r"sqlite3|libsqlite"),
    ("JSON numbers (strtod)", r"strtod|str_to_mpn|____strtod"),
    ("GRDB", r"GRDB\."),
    ("QuillStore / QuillStoreSQLite", r"QuillStore"),
    ("QuillServer (routes, decode, encode)", r"QuillServer\.|QuillAPI\.|QuillCore\."),
    ("Hummingbird", r"Hummingbird"),
    ("NIO (channels, HTTP codec, event loops)", r"NIO"),
    ("Swift runtime, allocation, ARC", r"swift_|libswiftCore|malloc|free|_int_|tcache|cfree|operator new|Swift\."),
    ("Foundation / Dispatch", r"Foundation|libdispatch|dispatch_|_dispatch"),
    ("libc, other", r".*"),
]


def demangle(lines: list[str], simplified: bool = True) -> list[str]:
    options = ["--simplified"] if simplified else []
    done = subprocess.run(["swift", "demangle", *options], input="\n".join(lines), capture_output=True, text=True)
    return done.stdout.split("\n") if done.returncode == 0 else lines


def perf_report(data: str, top: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """(layer shares, top symbols) from `perf report` (self time of the leaf frames)."""
    out = subprocess.run(
        ["perf", "report", "-i", data, "--no-children", "--sort", "dso,sym", "--stdio", "-g", "none",
         "--percent-limit", "0"],
        capture_output=True, text=True,
    ).stdout
    rows = []
    for line in out.splitlines():
        match = re.match(r"\s*([0-9.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
        if match:
            rows.append((float(match.group(1)), match.group(2), match.group(3), match.group(4).strip()))
    names = demangle([row[3] for row in rows])
    full_names = demangle([row[3] for row in rows], simplified=False)  # with module names, to classify
    layers = collections.Counter()
    symbols = []
    for (share, dso, kind, _), name, full in zip(rows, names, full_names):
        label = f"{'[k]' if kind == 'k' else dso} {name}"
        for layer, pattern in LAYERS:
            if re.search(pattern, f"{'[k]' if kind == 'k' else dso} {full}"):
                layers[layer] += share
                break
        symbols.append((label[:160], share))
    return sorted(layers.items(), key=lambda item: -item[1]), symbols[:top]


def strace_counts(path: str) -> list[tuple[str, int, int]]:
    """(system call, calls, µs a call in the kernel as strace saw it), most called first."""
    counts = []
    for line in open(path):
        parts = line.split()
        if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] not in ("total", "syscall"):
            usecs, calls = int(parts[2]), int(parts[3])
            counts.append((parts[-1], calls, usecs))
    return sorted(counts, key=lambda item: -item[1])


class Tool:
    """Runs `tool` (perf or strace) against the server while `load` runs."""

    def __init__(self, argv: list[str]):
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # attached

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=120)


def point_load(quill, run, count):
    requests = [quill.single_request(run, step) for step in range(count)]

    def load():
        for request in requests:
            conn = quill.connect()
            conn.call(request, "single point")
            conn.close()
    return load


def ingest_load(quill, run, points, offset):
    requests = [quill.batch_request(run, offset + first, offset + min(points, first + 1000)) for first in range(0, points, 1000)]

    def load():
        conn = quill.connect()
        loadgen.send_all(conn, requests)
        conn.close()
    return load


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quill", required=True)
    parser.add_argument("--durability", default="full")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--points", type=int, default=300_000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for tool in ("perf", "strace"):
        if shutil.which(tool) is None:
            raise SystemExit(f"error: {tool} is missing; install it (apt-get install linux-perf strace)")
    work = tempfile.mkdtemp(prefix="quill-profile.")
    log = open(os.path.join(work, "serve.log"), "w+")
    server = subprocess.Popen([args.quill, "serve", "--port", "0", "--data", os.path.join(work, "data"),
                               "--durability", args.durability], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            log.seek(0)
            if match := re.search(r"listening on http://[^ ]+:([0-9]+)", log.read()):
                break
            time.sleep(0.1)
        else:
            raise SystemExit("error: quill serve did not start; see " + log.name)
        url = f"http://127.0.0.1:{match.group(1)}"
        idle.wait_idle(url, "/healthz", server.pid)
        quill = loadgen.tool("quill", url)
        setup = quill.connect()
        point_run, ingest_run = quill.new_run(setup, "points"), quill.new_run(setup, "ingest")
        setup.close()
        phases = [
            (f"single points, a new connection each ({args.requests:,} requests)", args.requests,
             lambda index: point_load(quill, point_run, args.requests)),
            (f"one run's ingest, batches of 1,000 ({args.points:,} points)", args.points // 1000,
             lambda index: ingest_load(quill, ingest_run, args.points, index * args.points)),
        ]
        print(f"quill serve --durability {args.durability}; {os.uname().release}; load {os.getloadavg()[0]:.2f}")
        for title, requests, make in phases:
            index = 0
            idle.wait_idle(url, "/healthz", server.pid)
            load = make(index := index + 1)
            data = os.path.join(work, "perf.data")
            perf = Tool(["perf", "record", "-F", "1999", "-g", "-p", str(server.pid), "-o", data])
            started = time.perf_counter()
            load()
            seconds = time.perf_counter() - started
            perf.stop()
            layers, symbols = perf_report(data, args.top)
            idle.wait_idle(url, "/healthz", server.pid)
            load = make(index := index + 1)
            trace = os.path.join(work, "strace.txt")
            strace = Tool(["strace", "-f", "-c", "-o", trace, "-p", str(server.pid)])
            load()
            strace.stop()
            print(f"\n## {title}: {seconds:.2f} s without tracing, {seconds / requests * 1e6:.0f} µs a request")
            print("share of the server's CPU samples by layer (self time):")
            for layer, share in layers:
                print(f"  {share:5.1f}%  {layer}")
            print(f"top {args.top} symbols by self time:")
            for label, share in symbols:
                print(f"  {share:5.1f}%  {label}")
            print("system calls per request (strace -c, another pass):")
            print("  " + ", ".join(f"{name} {calls / requests:.2f} ({usecs} µs)" for name, calls, usecs in strace_counts(trace)[:16]))
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
