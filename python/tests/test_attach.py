"""Inside `quill run` (QUILL_RUN_DIR set) quill.init attaches to that run; runs under a pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import List

from conftest import child_env, read_meta, read_metrics, require_quill

SCRIPT = textwrap.dedent("""
    import sys, quill
    run = quill.init(project="ignored-when-attached", config={"lr": 0.01})
    print("attached", run.attached, run.id, flush=True)
    for step in range(100):
        run.log({"loss": 1.0 / (step + 1)}, step=step)
    run.log_params({"batch": 64})
    run.summary({"final": 0.01})
    print("logged", flush=True)
    if len(sys.argv) > 1:
        raise SystemExit(int(sys.argv[1]))
""")


def quill_run(home: Path, tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    return subprocess.run(
        [str(require_quill()), "run", "--project", "attach", "--name", "outer", "--config", "epochs=3", "--",
         sys.executable, str(script), *arguments],
        env=child_env(QUILL_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=180,
    )


def the_run(home: Path) -> Path:
    runs = list((home / "runs").iterdir())
    assert len(runs) == 1, f"expected the one run of quill run, found {runs}"
    return runs[0]


def test_init_attaches_under_quill_run(home: Path, tmp_path: Path) -> None:
    result = quill_run(home, tmp_path)
    assert result.returncode == 0, result.stderr
    run_dir = the_run(home)
    assert f"attached True {run_dir.name}" in result.stdout
    meta = read_meta(run_dir)
    assert meta["name"] == "outer" and meta["project"] == "attach"
    assert meta["status"] == "completed"
    assert meta["params"]["batch"] == 64
    # The script's config is merged into the one quill run recorded.
    assert json.loads((run_dir / "config.json").read_text()) == {"epochs": 3, "lr": 0.01}
    assert meta["summary"]["final"] == 0.01
    rows = read_metrics(run_dir)
    assert [row["step"] for row in rows] == list(range(100))
    assert "logged" in (run_dir / "output.log").read_text()


def test_quill_run_records_a_failing_script(home: Path, tmp_path: Path) -> None:
    result = quill_run(home, tmp_path, "3")
    assert result.returncode == 3
    meta = read_meta(the_run(home))
    assert meta["status"] == "failed"
    assert len(read_metrics(the_run(home))) == 100


def read_until(fd: int, needle: bytes, timeout: float = 120) -> bytes:
    collected = b""
    deadline = time.monotonic() + timeout
    while needle not in collected:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out waiting for {needle!r}; got {collected[-500:]!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            collected += chunk
    return collected


PTY_SCRIPT = textwrap.dedent("""
    import sys, time, quill
    run = quill.init(project="pty")
    print("isatty", sys.stdout.isatty(), run.dir, flush=True)
    step = 0
    while True:
        run.log({"loss": 1.0 / (step + 1)}, step=step)
        step += 1
        if step == 500:
            print("ready", flush=True)
        time.sleep(0.0005)
""")


def spawn_in_pty(argv: List[str], env: dict) -> "tuple[int, int]":
    pid, fd = pty.fork()
    if pid == 0:  # the child: a new session whose controlling terminal is the pty
        try:
            # A shell's background job starts with SIGINT ignored, and an ignored signal stays ignored across
            # exec (Python then installs no KeyboardInterrupt handler): give the child the default, as a
            # terminal's foreground command has.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    return pid, fd


def test_a_python_child_on_a_terminal_is_killed_by_ctrl_c(home: Path) -> None:
    pid, fd = spawn_in_pty([sys.executable, "-c", PTY_SCRIPT], child_env(QUILL_HOME=str(home)))
    try:
        output = read_until(fd, b"ready")
        line = next(l for l in output.decode().splitlines() if l.startswith("isatty"))
        assert line.split()[1] == "True"
        run_dir = Path(line.split()[2])
        os.write(fd, b"\x03")  # Ctrl-C: the terminal sends SIGINT to the foreground process group
        read_until(fd, b"KeyboardInterrupt")
        _, status = os.waitpid(pid, 0)
        pid = 0
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    meta = read_meta(run_dir)
    assert meta["status"] == "killed"
    assert len(read_metrics(run_dir)) >= 500


def test_quill_run_on_a_terminal(home: Path, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    argv = [str(require_quill()), "run", "--project", "pty", "--", sys.executable, str(script)]
    pid, fd = spawn_in_pty(argv, child_env(QUILL_HOME=str(home)))
    try:
        output = read_until(fd, b"logged")
        _, status = os.waitpid(pid, 0)
        pid = 0
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, output
    run_dir = the_run(home)
    assert b"attached True " + run_dir.name.encode() in output
    assert read_meta(run_dir)["status"] == "completed"
    assert len(read_metrics(run_dir)) == 100
