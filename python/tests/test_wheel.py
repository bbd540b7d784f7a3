"""`pip wheel ./python` builds a platform wheel holding libQuillC.so, which installs into a fresh virtualenv and
works with PATH=/usr/bin:/bin (no Swift toolchain)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from conftest import LIBRARY, PYTHON_DIR, read_meta, read_metrics

CHECK = textwrap.dedent("""
    import os, quill
    assert quill._native.library_path().parent.name == "_lib", quill._native.library_path()
    assert quill._fast.available(), "the wheel's quill._fastlog did not import"
    with quill.init(project="wheel", config={"lr": 0.1}) as run:
        for step in range(10):
            run.log({"loss": 1.0 / (step + 1)}, step=step)
    print(run.dir)
    print(len(quill.runs(project="wheel")), quill.__version__)
""")


def test_the_wheel_installs_and_works_without_swift(tmp_path: Path) -> None:
    if shutil.which("pip", path=os.path.dirname(sys.executable)) is None and not (
            Path(sys.executable).parent / "pip").exists():
        pytest.fail(f"pip is not available next to {sys.executable}; run the tests from a virtualenv", False)
    wheels = tmp_path / "wheels"
    env = dict(os.environ, QUILL_LIBRARY=str(LIBRARY), PIP_DISABLE_PIP_VERSION_CHECK="1")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheels), str(PYTHON_DIR)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    built = list(wheels.glob("quill_tracking-*.whl"))
    assert len(built) == 1, built
    wheel = built[0]
    # A platform wheel, not a pure one; tagged for this interpreter since it holds the compiled quill._fastlog.
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert f"-{tag}-{tag}-linux_" in wheel.name, wheel.name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert any(name.startswith("quill/_fastlog.") and name.endswith(".so") for name in names), names
    assert "quill/_lib/libQuillC.so" in names and "quill/py.typed" in names and "quill/__init__.py" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    # Install with this Python's pip into the fresh virtualenv (no network: the wheel has no dependencies).
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
         "--no-index", str(wheel)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    if install.returncode != 0 and "no such option: --python" in install.stderr:
        venv_pip = subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], timeout=300)
        assert venv_pip.returncode == 0
        install = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-deps", "--no-index", str(wheel)],
                                 capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    home = tmp_path / "home"
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "QUILL_HOME": str(home), "QUILL_CAPTURE_DEPS": "0",
             "QUILL_SYSTEM_METRICS_INTERVAL": "0", "LANG": "C.UTF-8"}
    work = tmp_path / "elsewhere"
    work.mkdir()
    result = subprocess.run([str(venv / "bin" / "python"), "-c", CHECK], env=clean, cwd=work,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir, count_and_version = result.stdout.strip().splitlines()
    assert count_and_version.split()[0] == "1"
    assert read_meta(run_dir)["status"] == "completed"
    assert len(read_metrics(run_dir)) == 10
    assert not shutil.which("swift", path="/usr/bin:/bin")  # the check ran with no Swift on PATH
