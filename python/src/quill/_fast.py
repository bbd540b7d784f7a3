"""Run.log's compiled fast path: the optional C extension :mod:`quill._fastlog`, bound to the loaded library.

The extension calls ``quill_log`` straight from C (no ctypes argument conversion), with the GIL released during the
call. It is not linked against libQuillC: :func:`log_function` hands it the addresses of ``quill_log`` and
``quill_free`` from the library ctypes loaded, so both paths use the one copy. Without the extension (it failed
to compile, or another interpreter), or with the environment variable ``QUILL_PYTHON_PURE=1``, Run.log uses ctypes.
"""

from __future__ import annotations

import ctypes
import os
import threading
import weakref
from typing import Any, Callable, NoReturn, Optional

from ._native import raise_error_text

try:
    from . import _fastlog  # type: ignore[attr-defined]
except ImportError:  # not built: the ctypes path
    _fastlog = None

_lock = threading.Lock()
_bound: Optional[int] = None
"""The address of the quill_log the extension is bound to."""


def pure() -> bool:
    """True when ``QUILL_PYTHON_PURE`` asks for the ctypes path (``1``, ``true``, ``yes``)."""
    return os.environ.get("QUILL_PYTHON_PURE", "").strip().lower() in ("1", "true", "yes", "on")


def available() -> bool:
    """True when the compiled extension imported."""
    return _fastlog is not None


def log_function(lib: ctypes.CDLL) -> Optional[Callable[[int, Any, Any], Any]]:
    """``_fastlog.log`` bound to ``lib``, or None for the ctypes path (no extension, or QUILL_PYTHON_PURE=1)."""
    global _bound
    if _fastlog is None or pure():
        return None
    log_address = ctypes.cast(lib.quill_log, ctypes.c_void_p).value
    free_address = ctypes.cast(lib.quill_free, ctypes.c_void_p).value
    if not log_address or not free_address:
        return None
    with _lock:
        if _bound != log_address:
            _fastlog.bind(log_address, free_address)
            _bound = log_address
    return _fastlog.log  # type: ignore[no-any-return]


def raise_log_error(text: str) -> NoReturn:
    """Raises the QuillError subclass for quill_log's error JSON (as :func:`quill._native.raise_error` does)."""
    raise_error_text(text, "log")


def log_call(address: int, run: Any, fallback: Callable[..., None]) -> Callable[..., None]:
    """``run.log`` in C for the run at ``address`` (the extension must be bound: :func:`log_function` first); it
    holds ``run`` weakly and calls ``fallback(run, metrics, step)`` for a row it leaves to the ctypes path."""
    assert _fastlog is not None
    return _fastlog.log_call(address, weakref.ref(run), fallback)  # type: ignore[no-any-return]
