"""Builds the `quill-tracking` wheel: the pure-Python package plus Quill's C-ABI library, libQuillC.so.

The build step copies the library into `quill/_lib/libQuillC.so`, taking the first of:

1. the file named by the environment variable `QUILL_LIBRARY`;
2. `../.build/release/libQuillC.so` (a release build in the repository around this folder);
3. a fresh `swift build -c release --product QuillC` run in the repository root.

The library carries the Swift runtime inside it, so the wheel needs no Swift toolchain where it is installed;
it is specific to the platform it was built on (a `py3-none-<platform>` wheel).

It also compiles the optional C extension `quill._fastlog` (Run.log's fast path, plain CPython API, not linked
against libQuillC). When it does not compile (no C compiler, no Python headers) the build prints a warning and
goes on: the package then logs through ctypes. A wheel holding the extension is tagged for this interpreter
(`cpXY-cpXY-<platform>`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

try:  # setuptools >= 70.1 ships bdist_wheel itself
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # pragma: no cover - older setuptools with the `wheel` package
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LIBRARY_NAME = "libQuillC.so"


def find_library() -> Path:
    """The library to package: $QUILL_LIBRARY, else the repository's release build, else a new release build."""
    named = os.environ.get("QUILL_LIBRARY")
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            sys.exit(f"error: QUILL_LIBRARY={named} is not a file; build it with `swift build -c release --product QuillC`")
        return path
    release = REPO / ".build" / "release" / LIBRARY_NAME
    if release.is_file():
        return release
    if not (REPO / "Package.swift").is_file():
        sys.exit(
            f"error: no {LIBRARY_NAME} to package: set QUILL_LIBRARY to a built libQuillC.so, or build from a clone of "
            "the Quill repository (its python/ folder)"
        )
    swift = shutil.which("swift")
    if swift is None:
        sys.exit(
            f"error: {release} does not exist and `swift` is not on PATH: install Swift 6.2 or set QUILL_LIBRARY "
            "to a built libQuillC.so"
        )
    print(f"quill-tracking: {release} is missing; running `swift build -c release --product QuillC` in {REPO} "
          "(a first release build takes several minutes)", file=sys.stderr, flush=True)
    result = subprocess.run([swift, "build", "-c", "release", "--product", "QuillC"], cwd=REPO)
    if result.returncode != 0 or not release.is_file():
        sys.exit(f"error: `swift build -c release --product QuillC` failed in {REPO} (exit {result.returncode}); "
                 "fix the build or set QUILL_LIBRARY to a built libQuillC.so")
    return release


class BuildPyWithLibrary(build_py):
    """build_py that also copies libQuillC.so into the package's `_lib` folder."""

    def run(self) -> None:
        super().run()
        source = find_library()
        target = Path(self.build_lib) / "quill" / "_lib" / LIBRARY_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        os.chmod(target, 0o755)
        strip = shutil.which("strip")
        if strip is not None:  # the symbol tables and debug info: a third of the file, never used at run time
            subprocess.run([strip, "--strip-unneeded", str(target)], check=False)
        print(f"quill-tracking: packaged {source} as {target}", file=sys.stderr)


FASTLOG = Extension("quill._fastlog", sources=["src/quill/_fastlog.c"], optional=True)
"""Run.log's compiled fast path; optional: a build without it still installs, logging through ctypes."""

_built_extensions: list[str] = []


class OptionalBuildExt(build_ext):
    """build_ext that warns, instead of failing the install, when quill._fastlog does not compile."""

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:  # a missing compiler or headers: CCompilerError, DistutilsExecError, ...
            print(f"warning: quill-tracking: could not compile {ext.name} ({error}); run.log will use ctypes "
                  "(about twice as slow per call). Install a C compiler and the Python headers to build it.",
                  file=sys.stderr, flush=True)
            return
        _built_extensions.append(ext.name)


class BinaryDistribution(Distribution):
    """A distribution with native code (libQuillC.so), so it installs into platlib and its wheel is not pure."""

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):
    """A wheel tagged for this platform (it holds a native library): for this interpreter when it holds the
    compiled extension, else for any Python 3 (it uses ctypes)."""

    def get_tag(self) -> tuple[str, str, str]:
        tag = super().get_tag()
        if _built_extensions:
            return tag
        return "py3", "none", tag[2]


setup(
    distclass=BinaryDistribution,
    ext_modules=[FASTLOG],
    cmdclass={"build_py": BuildPyWithLibrary, "build_ext": OptionalBuildExt, "bdist_wheel": PlatformWheel},
)
