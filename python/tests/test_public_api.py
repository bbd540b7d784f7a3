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
