"""Quill for training frameworks: each integration is a few lines over the public API (``quill.init``,
``Run.log``, ``Run.log_params``, ``Run.finish``) and is imported on its own, so this package needs none of them.

- :mod:`quill.integrations.lightning`: ``QuillLogger``, a PyTorch Lightning logger
  (``Trainer(logger=QuillLogger(project="mnist"))``).
- :mod:`quill.integrations.huggingface`: ``QuillCallback``, a Hugging Face ``transformers`` ``TrainerCallback``
  (``Trainer(..., callbacks=[QuillCallback(project="mnist")])``).

Importing either module works without its framework installed; using its class raises an ImportError that
says what to install.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

import quill


def _lazy_classes(module: str, factories: Dict[str, Callable[[], type]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that builds each class of ``factories`` on first access (importing its framework
    then) and keeps it, so importing an integration module never imports the framework."""
    built: Dict[str, type] = {}

    def __getattr__(name: str) -> Any:
        factory = factories.get(name)
        if factory is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        cls = built.get(name)
        if cls is None:
            cls = built[name] = factory()
        return cls

    return __getattr__


def _reopen(run: Optional["quill.Run"]) -> Optional["quill.Run"]:
    """The run to log into: ``run`` while it is open; after it finished (a framework that logs again after its
    end hook, e.g. ``trainer.test()`` after ``fit``, or ``trainer.evaluate()`` after ``train``), the same run
    reopened with :func:`quill.resume`, so one training stays one run."""
    if run is None or not run.finished:
        return run
    return quill.resume(run)


def _scalar_metrics(values: Any) -> dict:
    """The entries of a framework's log dict that are metrics: numbers (and 0-d tensors/arrays), not strings,
    lists or ``None``."""
    metrics = {}
    for key, value in dict(values or {}).items():
        if isinstance(value, bool) or value is None or isinstance(value, (str, bytes, list, tuple, dict)):
            continue
        if isinstance(value, (int, float)):
            metrics[str(key)] = value
            continue
        shape = getattr(value, "shape", None)
        if shape is not None and tuple(shape) != ():
            continue
        if hasattr(type(value), "__float__"):
            metrics[str(key)] = value
    return metrics
