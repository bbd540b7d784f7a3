"""A PyTorch Lightning logger that records the training as a Quill run.

::

    from lightning.pytorch import Trainer
    from quill.integrations.lightning import QuillLogger

    trainer = Trainer(max_epochs=10, logger=QuillLogger(project="mnist", tags=["baseline"]))
    trainer.fit(model, train_loader, val_loader)

``self.log(...)`` values land in the run's metrics at Lightning's global step, ``save_hyperparameters()`` in its
params, and the run finishes with the status Lightning reports (``completed`` after a successful fit, ``failed``
when it raised). The run starts on first use, on the process of global rank zero only. Logging after the run
finished (``trainer.test()`` after ``trainer.fit()``) reopens the same run.

Works with the ``lightning`` package (``lightning.pytorch``) and with the older ``pytorch_lightning``. Importing
this module does not import Lightning; using :class:`QuillLogger` without Lightning installed raises an
ImportError that says what to install.
"""

from __future__ import annotations

import sys
import traceback
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

import quill

from . import _lazy_classes, _reopen, _scalar_metrics

__all__ = ["QuillLogger"]

_INSTALL_HINT = (
    "quill.integrations.lightning needs PyTorch Lightning: `pip install lightning` (or the older "
    "`pip install pytorch-lightning`)"
)

# Lightning's finalize() status -> Quill's final status. "finished" is what Lightning says when SLURM's requeue
# signal stops the job to restart it later: the training did not complete.
_STATUS = {"success": "completed", "failed": "failed", "finished": "killed"}


def _lightning() -> Any:
    """The Lightning package in use: ``lightning.pytorch``, else ``pytorch_lightning``."""
    try:
        import lightning.pytorch as pl

        return pl
    except ImportError:
        pass
    try:
        import pytorch_lightning as pl

        return pl
    except ImportError as error:
        raise ImportError(f"{_INSTALL_HINT} ({error})") from error


def _final_status(status: str) -> Tuple[str, Optional[str]]:
    """Quill's status and error text for Lightning's ``finalize(status)``. Lightning calls ``finalize("failed")``
    from inside its exception handler, so the exception is at hand: Ctrl-C (KeyboardInterrupt) is ``killed``,
    any other exception ``failed`` with its text."""
    quill_status = _STATUS.get(status, "completed")
    if quill_status == "completed":
        return quill_status, None
    exception = sys.exc_info()[1]
    if isinstance(exception, KeyboardInterrupt):
        return "killed", "KeyboardInterrupt"
    if exception is not None:
        text = "".join(traceback.format_exception_only(type(exception), exception)).strip()
        return quill_status, text or type(exception).__name__
    return quill_status, f"Lightning finalize({status!r})"


def _make_logger_class() -> type:
    pl = _lightning()
    logger_module = pl.loggers.logger
    rank_zero_only = pl.utilities.rank_zero_only
    rank_zero_experiment = logger_module.rank_zero_experiment

    class QuillLogger(logger_module.Logger):
        """Logs a Lightning training into a Quill run.

        Args:
            project: The Quill project (``QUILL_PROJECT``, else ``default``); also the logger's ``name``.
            name: The run's name; a readable random one when omitted.
            config: The run's config (a dict, dataclass or Namespace); hyperparameters go to params.
            tags: Label tags, ``key=value`` strings, or a mapping.
            kind: The run's kind (``training`` by default).
            run: An open :class:`quill.Run` to log into instead of starting one.
            **init_options: Passed on to :func:`quill.init` (``home``, ``tracking_uri``, ``flush_interval``,
                ``capture_git``, ...).
        """

        def __init__(
            self,
            project: Optional[str] = None,
            name: Optional[str] = None,
            config: Any = None,
            tags: Any = None,
            kind: Optional[str] = None,
            run: Optional[quill.Run] = None,
            **init_options: Any,
        ) -> None:
            super().__init__()
            self._init_arguments: Dict[str, Any] = dict(
                project=project, name=name, config=config, tags=tags, kind=kind, **init_options
            )
            self._project = project
            self._run: Optional[quill.Run] = run

        @property
        @rank_zero_experiment
        def experiment(self) -> quill.Run:
            """The :class:`quill.Run` (started on first use)."""
            if self._run is None:
                self._run = quill.init(**self._init_arguments)
            return self._run

        def _open_run(self) -> quill.Run:
            """The run to log into, reopened when Lightning logs again after :meth:`finalize`."""
            self._run = _reopen(self.experiment)
            return self._run

        @property
        def name(self) -> Optional[str]:
            """The run's project (Lightning's experiment name)."""
            if self._project is not None:
                return self._project
            run = self.experiment
            return run.project if isinstance(run, quill.Run) else None

        @property
        def version(self) -> Optional[str]:
            """The run's id (Lightning's experiment version; checkpoints go to ``<root>/<name>/<id>/``)."""
            run = self.experiment
            return run.id if isinstance(run, quill.Run) else None

        @property
        def save_dir(self) -> Optional[str]:
            """None: Lightning keeps checkpoints under the Trainer's ``default_root_dir``."""
            return None

        @property
        def log_dir(self) -> Optional[str]:
            """The run directory (``$QUILL_HOME/runs/<id>``)."""
            run = self.experiment
            return run.dir if isinstance(run, quill.Run) else None

        @rank_zero_only
        def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
            """Records the hyperparameters (a dict or argparse Namespace) as the run's params."""
            if params is None:
                return
            values = vars(params) if type(params).__name__ == "Namespace" else params
            values = dict(values)
            if values:
                self._open_run().log_params(values)

        @rank_zero_only
        def log_metrics(self, metrics: Dict[str, Any], step: Optional[int] = None) -> None:
            """Records one row of metrics at Lightning's global step."""
            values = _scalar_metrics(metrics)
            if values:
                self._open_run().log(values, step=step)

        @rank_zero_only
        def save(self) -> None:
            """Writes every logged row to the run's files (Lightning calls this at checkpoints)."""
            if self._run is not None and not self._run.finished:
                self._run.flush()

        @rank_zero_only
        def finalize(self, status: str) -> None:
            """Finishes the run with Lightning's status: ``success`` → completed; ``failed`` → failed with the
            exception's text (killed on Ctrl-C); ``finished`` (a SLURM requeue) → killed."""
            if self._run is None or self._run.finished:
                return
            self._run.finish(*_final_status(status))

    QuillLogger.__module__ = __name__
    return QuillLogger


__getattr__ = _lazy_classes(__name__, {"QuillLogger": _make_logger_class})
"""Builds :class:`QuillLogger` on first access, importing Lightning then."""


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from lightning.pytorch.loggers.logger import Logger as _Logger

    class QuillLogger(_Logger):  # noqa: D101
        def __init__(self, project: Optional[str] = None, name: Optional[str] = None, config: Any = None,
                     tags: Any = None, kind: Optional[str] = None, run: Optional[quill.Run] = None,
                     **init_options: Any) -> None: ...

        @property
        def experiment(self) -> quill.Run: ...
