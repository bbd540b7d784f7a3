"""A live run: :func:`init` and :func:`resume` start one, :class:`Run` logs into it through Quill's Swift engine."""

from __future__ import annotations

import atexit
import ctypes
import os
import struct
import sys
import threading
import traceback
import warnings
import weakref
from ctypes import c_char_p, c_double, c_int32, c_int64, c_uint8, c_void_p
from types import TracebackType
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Type, Union

from . import _fast, _native
from ._values import check_key, dumps, to_float, to_object
from .errors import QuillError
from .readers import MetricRows, run_metrics

PathLike = Union[str, "os.PathLike[str]"]
Metrics = Mapping[str, Any]

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

STATUSES = ("completed", "failed", "killed", "crashed")
LEVELS = ("debug", "info", "warning", "error")

# run.log takes a tensor's value as float(tensor), which is what tensor.item() does; torch warns about it for a
# tensor that requires grad, pointing at this module. The value logged is the number the user meant, so that
# one warning, raised from this module only, is silenced.
warnings.filterwarnings(
    "ignore", message="Converting a tensor with requires_grad=True to a scalar", category=UserWarning,
    module=r"quill\.run",
)

_NO_STEP = c_int64(0)
_STEPS: List[c_int64] = [c_int64() for _ in range(4)]
"""Spare step arguments for run.log (list.pop and list.append are atomic, so each call has its own)."""
_FALSE = c_int32(0)
_TRUE = c_int32(1)

_KEY_CACHE_LIMIT = 4096
"""Key sets a run keeps prepared; past this the cache starts over (a script logging ever-new keys)."""


class _Prepared:
    """One key set, ready for quill_log: the encoded keys as a C array, its count, and a packer for its values.

    Immutable once made, so every thread shares it; each call packs its values into a new bytes object (the
    values array quill_log reads), so threads never share a buffer.
    """

    __slots__ = ("encoded", "keys", "count", "pack")

    def __init__(self, keys: Tuple[str, ...]) -> None:
        self.encoded = tuple(check_key(key) for key in keys)
        self.count = c_int32(len(keys))
        self.keys = (c_char_p * max(1, len(keys)))(*self.encoded)
        self.pack = struct.Struct(f"={len(keys)}d").pack


class Run:
    """A run that logs through Quill's engine: metrics, params, tags, links, summary, messages and artifacts.

    Make one with :func:`quill.init` (a new run, or the run of ``quill run`` / a job when ``QUILL_RUN_DIR`` is set)
    or :func:`quill.resume`. Use it as a context manager to finish it with the right status::

        with quill.init(project="mnist", config={"lr": 1e-3}) as run:
            for step in range(100):
                run.log({"loss": 1 / (step + 1)}, step=step)

    Every method is thread-safe. After :meth:`finish`, logging raises :class:`quill.RunFinishedError`.
    """

    def __init__(self, handle: c_void_p, info: Mapping[str, Any], *, home: Optional[str] = None,
                 tracking_uri: Optional[str] = None, api_key: Optional[str] = None) -> None:
        """Wraps a run handle from the library; use :func:`quill.init` or :func:`quill.resume` instead."""
        lib = _native.load()
        self._lib = lib
        self._handle = handle
        self._info: Dict[str, Any] = dict(info)
        self._home = home
        self._tracking_uri = tracking_uri
        self._api_key = api_key
        self._prepared: Dict[Tuple[str, ...], _Prepared] = {}
        self._log_function = _native.raw_log_function(lib)
        # The compiled fast path (quill._fastlog) when it is built and QUILL_PYTHON_PURE is not set, else None.
        self._fast_log = _fast.log_function(lib)
        self._address = handle.value
        if self._fast_log is not None:
            # run.log itself in C (quill._fastlog.LogCall): no Python frame per call for plain floats and ints. It
            # holds this run weakly; any other row goes to the class's log method below (the documented form of the
            # call), where a value's own conversion runs in quill.run's frame and a refused row raises as always.
            self.log = _fast.log_call(self._address, self, Run.log)  # type: ignore[method-assign]
        self._finish_lock = threading.Lock()
        self._finished = False
        self._released = weakref.finalize(self, _release, lib, handle, os.getpid())
        self._released.atexit = False  # at exit the atexit hook finishes open runs; the process frees the rest
        _register(self)

    # MARK: Identity

    @property
    def id(self) -> str:
        """The run's id (8 characters of ``a-z0-9`` for runs Quill made)."""
        return str(self._info.get("id", ""))

    @property
    def name(self) -> str:
        """The run's name, unique in its project."""
        return str(self._info.get("name", ""))

    @property
    def project(self) -> str:
        """The run's project (its display name)."""
        return str(self._info.get("project", ""))

    @property
    def kind(self) -> str:
        """What the run does: ``training``, ``evaluation``, ... or a custom label."""
        return str(self._info.get("kind", ""))

    @property
    def parent(self) -> Optional[str]:
        """The parent run's id, for a nested run."""
        parent = self._info.get("parent")
        return str(parent) if parent else None

    @property
    def dir(self) -> str:
        """The run directory (``$QUILL_HOME/runs/<id>``): meta.json, config.json, metrics.jsonl, ..."""
        return str(self._info.get("dir", ""))

    @property
    def config(self) -> Dict[str, Any]:
        """The run's config as stored (a copy); for an attached run, what ``quill run`` recorded merged with yours."""
        config = self._info.get("config")
        return dict(config) if isinstance(config, Mapping) else {}

    @property
    def attached(self) -> bool:
        """True when this process logs into the run of ``quill run`` or a job (``QUILL_RUN_DIR``)."""
        return bool(self._info.get("attached", False))

    @property
    def started_at(self) -> str:
        """When the run started, UTC ISO 8601."""
        return str(self._info.get("started_at", ""))

    @property
    def finished(self) -> bool:
        """True once :meth:`finish` has run (from this process)."""
        return self._finished

    @property
    def status(self) -> str:
        """The run's status: ``running`` until finished, then ``completed``, ``failed``, ``killed`` or ``crashed``."""
        return str(self.snapshot().get("status", ""))

    def __repr__(self) -> str:
        return f"<quill.Run {self.id} {self.name!r} project={self.project!r}{' finished' if self._finished else ''}>"

    # MARK: Metrics

    def log(self, metrics: Metrics, step: Optional[int] = None) -> None:
        """Records metric values, optionally at a training step. Never blocks on I/O: the row is handed to the
        engine's writer, which appends it to ``metrics.jsonl`` within the flush interval (100 ms by default).

        Args:
            metrics: Values by metric name: floats, ints, bools, NumPy scalars and 0-d arrays, PyTorch 0-d
                tensors, or anything with ``__float__``. NaN and infinities are stored as they are.
            step: The training step, an integer within ±(2**53 - 1) (the engine refuses others).

        Raises:
            TypeError: A value is not a number (the message names the key), or step is not an integer.
            InvalidArgumentError: The step is out of range.
            RunFinishedError: The run has finished.
        """
        fast_log = self._fast_log
        if fast_log is not None:
            # 0: logged; a str: the engine refused the row (its error JSON); 1: not handled, nothing logged (a key,
            # value or step the C function leaves to the path below, which raises the same errors as always).
            result = fast_log(self._address, metrics, step)
            if not result:
                return
            if result.__class__ is str:
                _fast.raise_log_error(result)
        self._log_ctypes(metrics, step)

    def _log_ctypes(self, metrics: Metrics, step: Optional[int] = None) -> None:
        """``log`` through ctypes: the whole path without the compiled extension, and the fallback for a row the
        extension does not take as is (which this path logs, or refuses with the usual exception)."""
        keys = tuple(metrics)
        prepared = self._prepared.get(keys)
        if prepared is None:
            prepared = self._prepare(keys)
        try:
            values = prepared.pack(*metrics.values())
        except (TypeError, OverflowError, struct.error):
            values = self._pack_slow(prepared, metrics)
        # quill_log without argtypes: every argument is a ctypes object, bytes (passed as a pointer to its data) or
        # None (NULL), so ctypes converts nothing. No error pointer: a failed call logs nothing, and is made again
        # with one to read the error (below).
        if step is None:
            status = self._log_function(self._handle, prepared.keys, values, prepared.count, _NO_STEP, _FALSE, None)
        else:
            if type(step) is not int or not INT64_MIN <= step <= INT64_MAX:
                step = _check_step(step)
            # A c_int64 from a pool (cheaper than a new one): a thread holds it alone from pop to append, and
            # ctypes copies its value into the call's arguments before the GIL is released.
            c_step = _STEPS.pop() if _STEPS else c_int64()
            c_step.value = step
            status = self._log_function(self._handle, prepared.keys, values, prepared.count, c_step, _TRUE, None)
            _STEPS.append(c_step)
        if status:
            self._log_failed(prepared, values, step)

    def _log_failed(self, prepared: _Prepared, values: bytes, step: Optional[int]) -> None:
        """Makes a failed quill_log call again with an error pointer, and raises what it says."""
        error = c_void_p()
        has_step = _FALSE if step is None else _TRUE
        status = self._log_function(self._handle, prepared.keys, values, prepared.count,
                                    _NO_STEP if step is None else c_int64(step), has_step, ctypes.byref(error))
        if status:
            _native.raise_error(self._lib, error, "log")

    def _prepare(self, keys: Tuple[str, ...]) -> _Prepared:
        prepared = _Prepared(keys)
        prepared_sets = self._prepared
        if len(prepared_sets) >= _KEY_CACHE_LIMIT:
            prepared_sets.clear()
        prepared_sets[keys] = prepared
        return prepared

    @staticmethod
    def _pack_slow(prepared: _Prepared, metrics: Metrics) -> bytes:
        """Converts each value with its key in the error message (the fast path met a value it cannot pack)."""
        if len(metrics) != prepared.count.value:
            raise RuntimeError("the metrics mapping changed size while it was logged")
        return prepared.pack(*(to_float(key, value) for key, value in metrics.items()))

    def log_batch(
        self,
        metrics: Iterable[Union[Metrics, Tuple[Optional[int], Metrics]]] = (),
        *,
        steps: Optional[Sequence[Optional[int]]] = None,
        params: Optional[Mapping[str, Any]] = None,
        tags: Optional[Union[Mapping[str, str], Iterable[str]]] = None,
        links: Optional[Union[Mapping[str, str], Iterable[Any]]] = None,
    ) -> None:
        """Records many metric rows, params, tags and links in one call into the engine.

        Args:
            metrics: Rows, written in order: each a mapping of values (as for :meth:`log`), or a
                ``(step, mapping)`` pair.
            steps: One step (or None) per row, for rows given as plain mappings.
            params: Params to record (as :meth:`log_params`).
            tags: Key-value tags (a mapping), or label tags (an iterable of strings).
            links: Links as a mapping ``label -> url``, or ``(label, url)`` pairs, or ``{"label", "url"}`` dicts.

        Raises:
            TypeError: A value is not a number (the message names the key and row).
            ValueError: ``steps`` has another length than ``metrics``.
        """
        rows: List[Tuple[Optional[int], Metrics]] = []
        for row in metrics:
            if isinstance(row, tuple) and len(row) == 2 and isinstance(row[1], Mapping):
                rows.append((row[0], row[1]))
            elif isinstance(row, Mapping):
                rows.append((None, row))
            else:
                raise TypeError(f"log_batch rows must be mappings or (step, mapping) pairs, not {type(row).__name__}")
        if steps is not None:
            steps = list(steps)
            if len(steps) != len(rows):
                raise ValueError(f"log_batch got {len(steps)} steps for {len(rows)} rows")
            rows = [(step if step is not None else given, row) for step, (given, row) in zip(steps, rows)]
        extras: Dict[str, Any] = {}
        if params:
            extras["params"] = to_object(params, "params")
        if tags:
            extras["tags"] = _tag_map(tags)
        if links:
            extras["links"] = [{"label": label, "url": url} for label, url in _link_pairs(links)]
        count = len(rows)
        if count > 0x7FFF_FFFF:
            raise ValueError("log_batch takes at most 2**31 - 1 rows per call")
        total = sum(len(row) for _, row in rows)
        counts = (c_int32 * max(1, count))()
        keys = (c_char_p * max(1, total))()
        values = (c_double * max(1, total))()
        step_values = (c_int64 * max(1, count))()
        has_step = (c_uint8 * max(1, count))()
        encoded: Dict[str, bytes] = {}
        position = 0
        for index, (step, row) in enumerate(rows):
            counts[index] = len(row)
            if step is not None:
                step_values[index] = _check_step(step)
                has_step[index] = 1
            for key, value in row.items():
                name = encoded.get(key)
                if name is None:
                    name = encoded[key] = check_key(key)
                keys[position] = name
                try:
                    values[position] = value
                except (TypeError, OverflowError):
                    values[position] = to_float(key, value)
                position += 1
        extras_json = _native.encode(dumps(extras), "log_batch extras") if extras else None
        _native.call(
            self._lib, self._lib.quill_log_rows, "log_batch",
            self._handle, count, counts, keys, values, step_values, has_step, extras_json,
        )

    # MARK: Params, tags, links, summary, messages

    def log_param(self, key: str, value: Any) -> None:
        """Records one param (a hyperparameter set after start). The value is stored as JSON."""
        self.log_params({key: value})

    def log_params(self, params: Any) -> None:
        """Records several params: a dict, a dataclass or an argparse Namespace; values are stored as JSON
        (NumPy values, paths, enums, nested dataclasses are converted; other objects as their ``str()``)."""
        payload = to_object(params, "params")
        for key in payload:
            if not isinstance(key, str):
                raise TypeError(f"param keys must be str, got {type(key).__name__} {key!r:.60}")
        _native.call(self._lib, self._lib.quill_log_params, "log_params", self._handle,
                     _native.encode(dumps(payload), "params"))

    def set_tag(self, key: str, value: Any = "") -> None:
        """Sets a key-value tag, or a label tag when ``value`` is empty (``run.set_tag("baseline")``)."""
        text = value if isinstance(value, str) else str(value)
        _native.call(self._lib, self._lib.quill_set_tag, "set_tag", self._handle,
                     _native.encode(key, "tag key"), _native.encode(text, "tag value"))

    def add_link(self, label: str, url: str) -> None:
        """Adds a link to something outside Quill (a paper, a dashboard, a pull request)."""
        _native.call(self._lib, self._lib.quill_add_link, "add_link", self._handle,
                     _native.encode(label, "link label"), _native.encode(url, "link url"))

    def summary(self, values: Mapping[str, Any]) -> None:
        """Merges values into the run's summary (final metrics, best scores); later values win per key.

        Values may be numbers (NaN and infinities kept), strings, lists or dicts, NumPy and torch values.
        """
        payload = to_object(values, "summary")
        _native.call(self._lib, self._lib.quill_log_summary, "summary", self._handle,
                     _native.encode(dumps(payload), "summary"))

    def log_message(self, text: str, level: str = "info") -> None:
        """Writes a line (or lines) of text with a level to the run's ``output.log``.

        Args:
            text: The message; each line of it becomes one line of the log.
            level: ``debug``, ``info``, ``warning`` or ``error``.
        """
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
        _native.call(self._lib, self._lib.quill_log_message, "log_message", self._handle,
                     _native.encode(str(text), "message"), level.encode())

    def save_artifact(self, path: PathLike, name: Optional[str] = None) -> Dict[str, Any]:
        """Copies a file or folder into the run's ``artifacts/`` (uploaded too when the run streams to a server).

        A relative path keeps its layout (``checkpoints/e1/model.pt``), an absolute one is stored by file name.

        Args:
            path: The file or folder to store.
            name: The artifact's name; the file name when omitted.

        Returns:
            The artifact record (``name``, ``path``, ``size``, ``sha256``, ...).
        """
        source = os.fspath(path)
        record = _native.call_json(
            self._lib, self._lib.quill_save_artifact, "save_artifact", self._handle,
            _native.encode(source, "artifact path"), None if name is None else _native.encode(name, "artifact name"),
        )
        return dict(record) if isinstance(record, Mapping) else {}

    # MARK: Flush, finish, read back

    def flush(self, durable: bool = False) -> None:
        """Returns when every row logged before the call is written; ``durable=True`` also syncs it to disk."""
        _native.call(self._lib, self._lib.quill_flush, "flush", self._handle, 1 if durable else 0)

    def finish(self, status: str = "completed", error: Optional[str] = None) -> None:
        """Writes what is pending, syncs it, and closes the run with a final status. A second call does nothing.

        Args:
            status: ``completed``, ``failed``, ``killed`` or ``crashed``.
            error: Why the run failed (stored in ``meta.json``'s ``error``).
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        with self._finish_lock:
            if self._finished:
                return
            try:
                _native.call(
                    self._lib, self._lib.quill_finish, "finish", self._handle, status.encode(),
                    None if error is None else _native.encode(error.replace("\0", " "), "error"),
                )
            except QuillError as failure:
                if failure.code != "run_finished":
                    raise
            self._finished = True
        _unregister(self)

    def snapshot(self) -> Dict[str, Any]:
        """What the engine holds for the run now: status, rows written and pending, last values, params, tags,
        summary."""
        result = _native.call_json(self._lib, self._lib.quill_run_snapshot, "snapshot", self._handle)
        return dict(result) if isinstance(result, Mapping) else {}

    def metrics(self, keys: Optional[Sequence[str]] = None) -> MetricRows:
        """The run's metric rows as written so far (flushed first), as a list of dicts with ``to_pandas()``.

        Args:
            keys: Only these metrics; every metric when omitted.
        """
        if not self._finished:
            self.flush()
        home = self._home
        run_dir = self.dir
        if home is None and run_dir:
            parent = os.path.dirname(os.path.abspath(run_dir))
            if os.path.basename(parent) == "runs":
                home = os.path.dirname(parent)
        return run_metrics(self.id, keys=keys, home=home)

    # MARK: Context manager

    def __enter__(self) -> "Run":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        """Finishes the run: completed on a normal exit, killed on KeyboardInterrupt, failed with the exception's
        text otherwise (``sys.exit(0)`` counts as completed). The exception goes on."""
        status, error = _status_for(exc)
        try:
            self.finish(status, error)
        except QuillError as failure:
            if exc is None:
                raise
            # The block's own exception is the one to see; the failed finish is reported beside it.
            print(f"quill: could not finish run {self.id} ({status}): {failure}", file=sys.stderr)


def _release(lib: ctypes.CDLL, handle: c_void_p, owner: int) -> None:
    """Releases a run handle, but only in the process that made it: a forked child has none of the engine's
    threads, and releasing the run there could wait for them forever."""
    if os.getpid() == owner:
        lib.quill_run_release(handle)


def _status_for(exc: Optional[BaseException]) -> Tuple[str, Optional[str]]:
    if exc is None:
        return "completed", None
    if isinstance(exc, KeyboardInterrupt):
        return "killed", "KeyboardInterrupt"
    if isinstance(exc, SystemExit) and exc.code in (None, 0):
        return "completed", None
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return "failed", text or type(exc).__name__


def _check_step(step: Any) -> int:
    """The step as an int in the 64-bit range; TypeError for a non-integer (bool, float), OverflowError outside."""
    if isinstance(step, bool) or not hasattr(type(step), "__index__"):
        raise TypeError(f"step must be an int, not {type(step).__name__} {step!r:.60}")
    value = int(step.__index__())
    if not INT64_MIN <= value <= INT64_MAX:
        raise OverflowError(f"step {value} is outside the 64-bit range (-2**63 to 2**63 - 1)")
    return value


def _tag_map(tags: Union[Mapping[str, str], Iterable[str]]) -> Dict[str, str]:
    if isinstance(tags, Mapping):
        return {str(key): value if isinstance(value, str) else str(value) for key, value in tags.items()}
    if isinstance(tags, str):
        return {tags: ""}
    return {str(tag): "" for tag in tags}


def _tag_list(tags: Union[Mapping[str, Any], Iterable[str], str, None]) -> List[str]:
    if tags is None:
        return []
    if isinstance(tags, str):
        return [tags]
    if isinstance(tags, Mapping):
        return [f"{key}={value}" if value not in ("", None) else str(key) for key, value in tags.items()]
    return [str(tag) for tag in tags]


def _link_pairs(links: Union[Mapping[str, str], Iterable[Any]]) -> List[Tuple[str, str]]:
    if isinstance(links, Mapping):
        return [(str(label), str(url)) for label, url in links.items()]
    pairs: List[Tuple[str, str]] = []
    for link in links:
        if isinstance(link, Mapping):
            pairs.append((str(link["label"]), str(link["url"])))
        else:
            label, url = tuple(link)
            pairs.append((str(label), str(url)))
    return pairs


# MARK: Starting and resuming


def init(
    project: Optional[str] = None,
    name: Optional[str] = None,
    config: Any = None,
    tags: Union[Iterable[str], Mapping[str, Any], None] = None,
    kind: Optional[str] = None,
    parent: Union["Run", str, None] = None,
    *,
    description: Optional[str] = None,
    home: Optional[PathLike] = None,
    tracking_uri: Optional[str] = None,
    api_key: Optional[str] = None,
    flush_interval: Optional[float] = None,
    system_metrics_interval: Optional[float] = None,
    capture_git: Optional[bool] = None,
    capture_host: Optional[bool] = None,
    capture_dependencies: Optional[bool] = None,
    attach: bool = True,
) -> Run:
    """Starts a run, or attaches to the run of ``quill run`` / a Quill job when ``QUILL_RUN_DIR`` is set.

    Options not given come from the environment as for Swift (``QUILL_HOME``, ``QUILL_PROJECT``,
    ``QUILL_TRACKING_URI``, ``QUILL_API_KEY``, ``QUILL_FLUSH_INTERVAL_MS``, ``QUILL_CAPTURE_*``, ...).

    Args:
        project: The project's name (``QUILL_PROJECT``, else ``default``).
        name: The run's name, unique in the project; a random readable one when omitted, ``name_1`` when taken.
        config: The run's config: a dict, a dataclass or an argparse Namespace (stored as ``config.json``).
        tags: Label tags (``["baseline"]``), ``key=value`` strings, or a mapping of key-value tags.
        kind: ``training`` (default), ``evaluation``, ``compile``, ``quantize``, ``benchmark`` or your label.
        parent: The parent run (a Run or an id), for nested runs.
        description: Free text.
        home: Where runs are kept (``QUILL_HOME``, else ``~/.quill``).
        tracking_uri: A Quill server to stream the run to (``http://host:8080``).
        api_key: The API key for that server (else ``QUILL_API_KEY``, else the one ``quill login`` saved).
        flush_interval: Seconds a logged row may wait before it is written (at most 0.2; default 0.1).
        system_metrics_interval: Seconds between CPU/memory/GPU samples; 0 turns them off (default 10).
        capture_git: Record the git commit, branch and diff (default on).
        capture_host: Record host, user, pid and command line (default on).
        capture_dependencies: Record ``pip freeze`` (default on).
        attach: Log into the run named by ``QUILL_RUN_DIR`` when it is set (default True).

    Returns:
        The running :class:`Run`.

    Raises:
        QuillError: The run could not be created (an unwritable home, an unreachable server, ...).
    """
    request: Dict[str, Any] = {}
    if project is not None:
        request["project"] = str(project)
    if name is not None:
        request["name"] = str(name)
    request["config"] = to_object(config, "config")
    request["tags"] = _tag_list(tags)
    if kind is not None:
        request["kind"] = str(kind)
    if parent is not None:
        request["parent"] = parent.id if isinstance(parent, Run) else str(parent)
    if description is not None:
        request["description"] = str(description)
    if home is not None:
        request["home"] = os.path.abspath(os.fspath(home))
    if tracking_uri is not None:
        request["tracking_uri"] = tracking_uri
    if api_key is not None:
        request["api_key"] = api_key
    if flush_interval is not None:
        if not 0 < flush_interval <= 0.2:
            raise ValueError(f"flush_interval is in seconds, more than 0 and at most 0.2, not {flush_interval!r}")
        request["flush_interval_ms"] = max(1, int(round(flush_interval * 1000)))
    if system_metrics_interval is not None:
        if system_metrics_interval < 0:
            raise ValueError("system_metrics_interval must be 0 (off) or a number of seconds")
        request["system_metrics_interval_s"] = float(system_metrics_interval)
    if capture_git is not None:
        request["capture_git"] = bool(capture_git)
    if capture_host is not None:
        request["capture_host"] = bool(capture_host)
    if capture_dependencies is not None:
        request["capture_dependencies"] = bool(capture_dependencies)
    request["attach"] = bool(attach)
    return _start("quill_run_start", "init", request, home, tracking_uri, api_key)


def resume(
    run: Union["Run", str],
    from_step: Optional[int] = None,
    *,
    home: Optional[PathLike] = None,
    tracking_uri: Optional[str] = None,
    api_key: Optional[str] = None,
) -> Run:
    """Reopens a run whose process has ended, to log more into it.

    Args:
        run: The run's id, a unique id prefix, its name, or a finished :class:`Run`.
        from_step: The first step this process will log; rows the run already has at that step or later are
            superseded (readers drop them), so a restart from a checkpoint shows one curve.
        home: Where runs are kept (``QUILL_HOME``, else ``~/.quill``).
        tracking_uri: A server to stream to.
        api_key: The API key for that server.

    Raises:
        NotFoundError: There is no such run.
        InvalidArgumentError: Its process is still running.
    """
    request: Dict[str, Any] = {"run": run.id if isinstance(run, Run) else str(run)}
    if from_step is not None:
        request["from_step"] = _check_step(from_step)
    if home is None and isinstance(run, Run) and run._home is not None:
        home = run._home
    if home is not None:
        request["home"] = os.path.abspath(os.fspath(home))
    if tracking_uri is not None:
        request["tracking_uri"] = tracking_uri
    if api_key is not None:
        request["api_key"] = api_key
    return _start("quill_run_resume", "resume", request, home, tracking_uri, api_key)


def _start(function: str, what: str, request: Dict[str, Any], home: Optional[PathLike],
           tracking_uri: Optional[str], api_key: Optional[str]) -> Run:
    lib = _native.load()
    handle = c_void_p()
    info = _native.call_json(lib, getattr(lib, function), what,
                             _native.encode(dumps(request), "request"), ctypes.byref(handle))
    if not handle.value:
        raise QuillError("unknown", f"{what} returned no run")
    return Run(handle, info if isinstance(info, Mapping) else {},
               home=None if home is None else os.path.abspath(os.fspath(home)),
               tracking_uri=tracking_uri, api_key=api_key)


# MARK: Runs left open at exit

_open_lock = threading.Lock()
_open_runs: Dict[int, Run] = {}
_hooks_installed = False
_exit_status: Optional[Tuple[str, Optional[str]]] = None
_previous_excepthook = sys.excepthook


def _register(run: Run) -> None:
    global _hooks_installed
    with _open_lock:
        _open_runs[id(run)] = run
        if not _hooks_installed:
            _hooks_installed = True
            atexit.register(_finish_open_runs)
            _install_excepthook()


def _forget_in_child() -> None:
    """After fork: the child has none of the engine's threads, so it must not finish its parent's runs at exit."""
    global _open_lock
    _open_lock = threading.Lock()
    _open_runs.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def _unregister(run: Run) -> None:
    with _open_lock:
        _open_runs.pop(id(run), None)


def _install_excepthook() -> None:
    global _previous_excepthook
    _previous_excepthook = sys.excepthook

    def excepthook(exc_type: Type[BaseException], exc: BaseException, tb: Optional[TracebackType]) -> None:
        global _exit_status
        # An exception that ends the program: runs still open end failed (killed on Ctrl-C) at exit.
        _exit_status = _status_for(exc)
        _previous_excepthook(exc_type, exc, tb)

    sys.excepthook = excepthook


def _finish_open_runs() -> None:
    """atexit: finishes every run left open, completed unless an uncaught exception is ending the program."""
    with _open_lock:
        runs = list(_open_runs.values())
    status, error = _exit_status or ("completed", None)
    for run in runs:
        try:
            run.finish(status, error)
        except Exception as failure:  # never let one run keep the others open
            print(f"quill: could not finish run {run.id} at exit: {failure}", file=sys.stderr)


def open_runs() -> List[Run]:
    """The runs of this process that have not finished (the atexit hook finishes them)."""
    with _open_lock:
        return list(_open_runs.values())
