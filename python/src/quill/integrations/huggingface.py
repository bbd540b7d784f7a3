"""A Hugging Face ``transformers`` ``TrainerCallback`` that records the training as a Quill run.

::

    from transformers import Trainer, TrainingArguments
    from quill.integrations.huggingface import QuillCallback

    trainer = Trainer(model=model, args=TrainingArguments(output_dir="out", report_to="none"),
                      train_dataset=train, eval_dataset=val, callbacks=[QuillCallback(project="sst2")])
    trainer.train()

At the start of training the run is started with the training arguments as its config (the model's config,
when it has one, under ``"model"``); every ``Trainer.log`` (training loss, learning rate, evaluation metrics)
becomes a row at ``state.global_step``; the end of training finishes the run as completed. A training that
raises leaves the run open (transformers has no exception hook): Quill's exit hook finishes it as failed when
the exception ends the program. Only the main process
(``state.is_world_process_zero``) logs. A ``trainer.evaluate()`` after ``train()`` logs into the same run,
reopened and finished again.

Importing this module does not import ``transformers``; using :class:`QuillCallback` without it installed
raises an ImportError that says what to install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

import quill

from . import _lazy_classes, _reopen, _scalar_metrics

__all__ = ["QuillCallback"]

_INSTALL_HINT = "quill.integrations.huggingface needs Hugging Face transformers: `pip install transformers`"


def _config_of(args: Any, model: Any) -> Dict[str, Any]:
    """The run's config: the TrainingArguments as a dict, and the model's config under ``"model"``."""
    config: Dict[str, Any] = {}
    to_dict = getattr(args, "to_dict", None)
    if callable(to_dict):
        config.update(to_dict())
    model_config = getattr(model, "config", None)
    model_to_dict = getattr(model_config, "to_dict", None)
    if callable(model_to_dict):
        config["model"] = model_to_dict()
    return config


def _make_callback_class() -> type:
    try:
        from transformers import TrainerCallback
    except ImportError as error:
        raise ImportError(f"{_INSTALL_HINT} ({error})") from error

    class QuillCallback(TrainerCallback):
        """Logs a ``transformers`` Trainer's training into a Quill run.

        Args:
            project: The Quill project (``QUILL_PROJECT``, else ``default``).
            name: The run's name; the TrainingArguments' ``run_name`` when it is set, else a readable random one.
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
            tags: Any = None,
            kind: Optional[str] = None,
            run: Optional[quill.Run] = None,
            **init_options: Any,
        ) -> None:
            self._init_arguments: Dict[str, Any] = dict(project=project, tags=tags, kind=kind, **init_options)
            self._name = name
            self._training = False
            self.run: Optional[quill.Run] = run

        def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
            """Starts the run with the training arguments and the model's config as its config."""
            if not state.is_world_process_zero:
                return
            self._training = True
            if self.run is None:
                name = self._name
                if name is None and getattr(args, "run_name", None) and args.run_name != args.output_dir:
                    name = args.run_name
                self.run = quill.init(name=name, config=_config_of(args, model), **self._init_arguments)
            else:
                self.run = _reopen(self.run)

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            """Records the numeric entries of ``logs`` as one row at ``state.global_step``."""
            if not state.is_world_process_zero or self.run is None:
                return
            values = _scalar_metrics(logs)
            if values:
                self.run = _reopen(self.run)
                self.run.log(values, step=int(state.global_step))

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            """Finishes the run as completed."""
            self._training = False
            if state.is_world_process_zero and self.run is not None and not self.run.finished:
                self.run.finish("completed")

        def on_evaluate(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            """After a ``trainer.evaluate()`` outside training (its metrics were logged into the reopened run),
            finishes the run again."""
            if state.is_world_process_zero and not self._training and self.run is not None and not self.run.finished:
                self.run.finish("completed")

        def on_predict(self, args: Any, state: Any, control: Any, metrics: Any = None, **kwargs: Any) -> None:
            """After a ``trainer.predict()`` outside training, the same as :meth:`on_evaluate`."""
            self.on_evaluate(args, state, control, **kwargs)

    QuillCallback.__module__ = __name__
    return QuillCallback


__getattr__ = _lazy_classes(__name__, {"QuillCallback": _make_callback_class})
"""Builds :class:`QuillCallback` on first access, importing ``transformers`` then."""


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from transformers import TrainerCallback as _TrainerCallback

    class QuillCallback(_TrainerCallback):  # noqa: D101
        run: Optional[quill.Run]

        def __init__(self, project: Optional[str] = None, name: Optional[str] = None, tags: Any = None,
                     kind: Optional[str] = None, run: Optional[quill.Run] = None, **init_options: Any) -> None: ...
