"""How runs end: the context manager's statuses, and runs left open when the interpreter exits."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import quill
from conftest import child_env, read_meta, read_metrics


def test_context_manager_completes(home: Path) -> None:
    with quill.init(project="ctx", home=home) as run:
        run.log({"loss": 1.0}, step=0)
    meta = read_meta(run.dir)
    assert meta["status"] == "completed" and meta.get("error") is None
    assert len(read_metrics(run.dir)) == 1
    assert run not in quill.open_runs()


def test_context_manager_fails_with_the_exception_and_reraises(home: Path) -> None:
    with pytest.raises(ZeroDivisionError):
        with quill.init(project="ctx", home=home) as run:
            run.log({"loss": 1.0}, step=0)
            1 / 0
    meta = read_meta(run.dir)
    assert meta["status"] == "failed"
    assert "ZeroDivisionError: division by zero" in meta["error"]
    assert len(read_metrics(run.dir)) == 1


def test_context_manager_killed_on_keyboard_interrupt(home: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with quill.init(project="ctx", home=home) as run:
            raise KeyboardInterrupt
    assert read_meta(run.dir)["status"] == "killed"


def test_context_manager_system_exit(home: Path) -> None:
    with pytest.raises(SystemExit):
        with quill.init(project="ctx", home=home) as clean:
            sys.exit(0)
    with pytest.raises(SystemExit):
        with quill.init(project="ctx", home=home) as failing:
            sys.exit(3)
    assert read_meta(clean.dir)["status"] == "completed"
    assert read_meta(failing.dir)["status"] == "failed"
    assert "SystemExit: 3" in read_meta(failing.dir)["error"]


def test_finish_inside_the_block_is_kept(home: Path) -> None:
    with quill.init(project="ctx", home=home) as run:
        run.finish(status="killed")
    assert read_meta(run.dir)["status"] == "killed"


def run_child(home: Path, body: str, timeout: float = 120) -> subprocess.CompletedProcess:
    script = "import quill, sys\n" + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script], env=child_env(QUILL_HOME=str(home)), capture_output=True,
                          text=True, timeout=timeout)


def only_run(home: Path) -> Path:
    runs = list((home / "runs").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def test_exit_finishes_open_runs_as_completed(home: Path) -> None:
    result = run_child(home, """
        run = quill.init(project="exit")
        for step in range(1000):
            run.log({"loss": 1.0 / (step + 1)}, step=step)
        print(run.id)
    """)
    assert result.returncode == 0, result.stderr
    run_dir = only_run(home)
    assert run_dir.name == result.stdout.strip()
    meta = read_meta(run_dir)
    assert meta["status"] == "completed"
    assert len(read_metrics(run_dir)) == 1000


def test_an_uncaught_exception_fails_open_runs(home: Path) -> None:
    result = run_child(home, """
        run = quill.init(project="exit")
        run.log({"loss": 1.0}, step=0)
        raise RuntimeError("out of memory, pretend")
    """)
    assert result.returncode == 1
    assert "RuntimeError: out of memory, pretend" in result.stderr  # the traceback is still printed
    meta = read_meta(only_run(home))
    assert meta["status"] == "failed"
    assert "RuntimeError: out of memory, pretend" in meta["error"]
    assert len(read_metrics(only_run(home))) == 1


def test_an_uncaught_keyboard_interrupt_kills_open_runs(home: Path) -> None:
    result = run_child(home, """
        run = quill.init(project="exit")
        raise KeyboardInterrupt
    """)
    assert result.returncode != 0
    assert read_meta(only_run(home))["status"] == "killed"


def test_sys_exit_nonzero_ends_open_runs_completed(home: Path) -> None:
    # Documented: sys.exit(n) passes no exception to sys.excepthook, so open runs end completed; use the
    # context manager (or finish) to record a failure.
    result = run_child(home, """
        run = quill.init(project="exit")
        sys.exit(4)
    """)
    assert result.returncode == 4
    assert read_meta(only_run(home))["status"] == "completed"


def test_a_run_dropped_without_finish_is_still_finished_at_exit(home: Path) -> None:
    result = run_child(home, """
        import gc
        def train():
            run = quill.init(project="exit")
            run.log({"loss": 0.5}, step=1)
        train()
        gc.collect()
    """)
    assert result.returncode == 0, result.stderr
    meta = read_meta(only_run(home))
    assert meta["status"] == "completed"
    assert read_metrics(only_run(home))[0]["loss"] == 0.5


def test_a_finished_run_is_released_when_collected(home: Path) -> None:
    result = run_child(home, """
        import gc, weakref
        for _ in range(50):
            run = quill.init(project="exit")
            run.log({"x": 1.0})
            run.finish()
            ref = weakref.ref(run)
            del run
            gc.collect()
            assert ref() is None
        print("ok")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert len(list((home / "runs").iterdir())) == 50


def test_a_forked_child_does_not_finish_its_parents_runs(home: Path) -> None:
    result = run_child(home, """
        import os
        run = quill.init(project="fork")
        run.log({"x": 1.0}, step=0)
        pid = os.fork()
        if pid == 0:
            try:  # the engine refuses the parent's run in a child
                run.log({"x": 9.0}, step=9)
                code = 3
            except quill.ConflictError:
                code = 0
            sys.exit(code)  # a normal exit runs atexit in the child: it must leave the parent's run alone
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
        run.log({"x": 2.0}, step=1)
        print(run.status)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "running"
    meta = read_meta(only_run(home))
    assert meta["status"] == "completed"
    assert [row["x"] for row in read_metrics(only_run(home))] == [1.0, 2.0]
