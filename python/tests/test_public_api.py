"""The package's public surface: every public function, class and method has a docstring and full type hints,
the package is typed (PEP 561), and the exported names are the documented ones."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Iterator, Tuple

import quill

DOCUMENTED = {"init", "resume", "runs", "metrics", "Run", "QuillError", "RunFinishedError", "NotFoundError",
              "InvalidArgumentError", "MetricRows", "RunList", "RunRecord", "open_runs", "__version__"}


def public_callables() -> Iterator[Tuple[str, Any]]:
    for name in quill.__all__:
        value = getattr(quill, name)
        if inspect.isclass(value):
            yield name, value
            for member_name, member in vars(value).items():
                if member_name.startswith("_") and member_name not in ("__init__", "__enter__", "__exit__"):
                    continue
                if isinstance(member, property):
                    yield f"{name}.{member_name}", member.fget
                elif inspect.isfunction(member):
                    yield f"{name}.{member_name}", member
        elif inspect.isfunction(value):
            yield name, value


def test_exports() -> None:
    assert DOCUMENTED <= set(quill.__all__)
    assert isinstance(quill.__version__, str) and quill.__version__.count(".") == 2
    assert (Path(quill.__file__).parent / "py.typed").is_file()


def test_every_public_callable_has_a_docstring_and_type_hints() -> None:
    missing_docs = []
    missing_hints = []
    for name, value in public_callables():
        if inspect.isclass(value):
            if not (value.__doc__ or "").strip():
                missing_docs.append(name)
            continue
        if not (value.__doc__ or "").strip() and not name.endswith(("__enter__", "__repr__")):
            missing_docs.append(name)
        signature = inspect.signature(value)
        for parameter in signature.parameters.values():
            if parameter.name not in ("self", "cls") and parameter.annotation is inspect.Parameter.empty:
                missing_hints.append(f"{name}({parameter.name})")
        if signature.return_annotation is inspect.Signature.empty:
            missing_hints.append(f"{name} -> ?")
    assert missing_docs == []
    assert missing_hints == []


def load_in_child(library: str) -> str:
    import subprocess
    import sys

    from conftest import child_env

    script = "import quill\ntry:\n    quill.init()\nexcept quill.UnavailableError as error:\n    print(error)\n"
    result = subprocess.run([sys.executable, "-c", script], env=child_env(QUILL_LIBRARY=library),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_missing_or_foreign_library_is_a_clear_error(tmp_path: Path) -> None:
    missing = load_in_child(str(tmp_path / "nowhere" / "libQuillC.so"))
    assert "is missing" in missing and "swift build --product QuillC" in missing
    import ctypes.util

    libm = ctypes.util.find_library("m")
    if libm:
        import os

        path = next((os.path.join(folder, libm) for folder in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
                                                               "/lib64", "/usr/lib64", "/lib", "/usr/lib")
                     if os.path.exists(os.path.join(folder, libm))), None)
        if path:
            assert "is not Quill's library" in load_in_child(path)
    garbage = tmp_path / "libQuillC.so"
    garbage.write_bytes(b"not a shared library")
    assert "cannot load Quill's library" in load_in_child(str(garbage))
