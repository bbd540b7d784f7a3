"""Quill experiment tracking from Python.

``run.log`` hands each row to Quill's Swift engine in-process (libQuillC.so through ctypes): it never blocks on
I/O, never drops a row, and writes the same crash-safe run directories as Quill's Swift SDK and ``quill run``,
streaming to a ``quill serve`` server when one is configured::

    import quill

    with quill.init(project="mnist", config={"lr": 1e-3, "batch_size": 64}) as run:
        for step in range(1000):
            run.log({"loss": 1 / (step + 1), "acc": step / 1000}, step=step)
        run.summary({"best_acc": 0.999})

    for found in quill.runs(project="mnist", status="completed"):
        print(found["name"], found.metrics()[-1])

See Docs/Python.md in the Quill repository for the whole API.
"""

from __future__ import annotations

from .errors import (
    AmbiguousError,
    ArtifactTooLargeError,
    ConflictError,
    ForbiddenError,
    InvalidArgumentError,
    MalformedError,
    NotFoundError,
    PayloadTooLargeError,
    ProcessError,
    QuillError,
    QuillIOError,
    QuotaExceededError,
    RunFinishedError,
    UnauthorizedError,
    UnavailableError,
    UnknownReferenceError,
    WriterFailedError,
)
from .readers import MetricRows, RunList, RunRecord, run_metrics as metrics, runs
from .run import Run, init, open_runs, resume

__version__ = "0.1.0"
"""The package's version (the Quill release it belongs to)."""

__all__ = [
    "AmbiguousError",
    "ArtifactTooLargeError",
    "ConflictError",
    "ForbiddenError",
    "InvalidArgumentError",
    "MalformedError",
    "MetricRows",
    "NotFoundError",
    "PayloadTooLargeError",
    "ProcessError",
    "QuillError",
    "QuillIOError",
    "QuotaExceededError",
    "Run",
    "RunFinishedError",
    "RunList",
    "RunRecord",
    "UnauthorizedError",
    "UnavailableError",
    "UnknownReferenceError",
    "WriterFailedError",
    "__version__",
    "init",
    "metrics",
    "open_runs",
    "resume",
    "runs",
]
