"""The ctypes binding of libQuillC.so, Quill's C ABI (version 1).

The library is loaded once, on first use, from the path in the environment variable ``QUILL_LIBRARY`` or from
``quill/_lib/libQuillC.so`` inside the installed package. Every function gets its ``argtypes`` and ``restype``.
Functions that fail return 1 and hand back a malloc'd JSON object ``{"code", "message"}``, which
:func:`raise_error` turns into the :class:`~quill.errors.QuillError` subclass of that code.
"""

from __future__ import annotations

import ctypes
import json
import os
import threading
from ctypes import POINTER, c_char_p, c_double, c_int32, c_int64, c_uint8, c_void_p
from pathlib import Path
from typing import Any, NoReturn, Optional

from .errors import UnavailableError, error_for_code

ABI_VERSION = 1
"""The version of the C ABI this package speaks."""

LIBRARY_NAME = "libQuillC.so"

_lock = threading.Lock()
_library: Optional[ctypes.CDLL] = None


def library_path() -> Path:
    """The library this process loads: ``$QUILL_LIBRARY``, else the one packaged in ``quill/_lib``."""
    named = os.environ.get("QUILL_LIBRARY")
    if named:
        return Path(named).expanduser()
    return Path(__file__).resolve().parent / "_lib" / LIBRARY_NAME


def _declare(lib: ctypes.CDLL) -> None:
    """Sets argtypes and restype on every function of the ABI."""
    err = POINTER(c_void_p)
    out = POINTER(c_void_p)
    signatures: dict[str, tuple[Any, list[Any]]] = {
        "quill_abi_version": (c_int32, []),
        "quill_free": (None, [c_void_p]),
        "quill_run_start": (c_int32, [c_char_p, out, out, err]),
        "quill_run_resume": (c_int32, [c_char_p, out, out, err]),
        "quill_run_release": (None, [c_void_p]),
        "quill_log": (c_int32, [c_void_p, POINTER(c_char_p), POINTER(c_double), c_int32, c_int64, c_int32, err]),
        "quill_log_rows": (
            c_int32,
            [
                c_void_p,
                c_int32,
                POINTER(c_int32),
                POINTER(c_char_p),
                POINTER(c_double),
                POINTER(c_int64),
                POINTER(c_uint8),
                c_char_p,
                err,
            ],
        ),
        "quill_log_params": (c_int32, [c_void_p, c_char_p, err]),
        "quill_set_tag": (c_int32, [c_void_p, c_char_p, c_char_p, err]),
        "quill_add_link": (c_int32, [c_void_p, c_char_p, c_char_p, err]),
        "quill_log_summary": (c_int32, [c_void_p, c_char_p, err]),
        "quill_log_message": (c_int32, [c_void_p, c_char_p, c_char_p, err]),
        "quill_save_artifact": (c_int32, [c_void_p, c_char_p, c_char_p, out, err]),
        "quill_flush": (c_int32, [c_void_p, c_int32, err]),
        "quill_finish": (c_int32, [c_void_p, c_char_p, c_char_p, err]),
        "quill_run_snapshot": (c_int32, [c_void_p, out, err]),
        "quill_runs": (c_int32, [c_char_p, out, err]),
        "quill_run_metrics": (c_int32, [c_char_p, out, err]),
    }
    for name, (restype, argtypes) in signatures.items():
        try:
            function = getattr(lib, name)
        except AttributeError:
            # A library from before a function landed: calling it raises a clear error instead of failing to load.
            setattr(lib, name, _missing(name))
            continue
        function.restype = restype
        function.argtypes = argtypes


def _missing(name: str) -> Any:
    def call(*_: Any) -> Any:
        raise UnavailableError(
            "unavailable",
            f"{library_path()} has no function {name}; rebuild it (`swift build --product QuillC`) or update quill",
        )

    return call


def load() -> ctypes.CDLL:
    """The loaded library (loaded and checked on the first call).

    Raises:
        QuillError: with code ``unavailable`` when the library is missing, does not load, or speaks another ABI.
    """
    global _library
    lib = _library
    if lib is not None:
        return lib
    with _lock:
        if _library is not None:
            return _library
        path = library_path()
        if not path.is_file():
            hint = (
                "QUILL_LIBRARY names a file that does not exist; build it with `swift build --product QuillC`"
                if os.environ.get("QUILL_LIBRARY")
                else "reinstall quill-tracking (its wheel ships the library), or set QUILL_LIBRARY to a built "
                "libQuillC.so"
            )
            raise UnavailableError("unavailable", f"Quill's library {path} is missing: {hint}")
        try:
            lib = ctypes.CDLL(str(path))
        except OSError as error:
            raise UnavailableError("unavailable", f"cannot load Quill's library {path}: {error}") from None
        try:
            lib.quill_abi_version.restype = c_int32
            lib.quill_abi_version.argtypes = []
            version = lib.quill_abi_version()
        except AttributeError:
            raise UnavailableError("unavailable", f"{path} is not Quill's library (no quill_abi_version)") from None
        if version != ABI_VERSION:
            raise UnavailableError(
                "unavailable",
                f"{path} speaks Quill's C ABI version {version}, this quill package speaks version {ABI_VERSION}: "
                "install the quill-tracking wheel built with that library, or point QUILL_LIBRARY at a matching one",
            )
        _declare(lib)
        _library = lib
        return lib


def raw_log_function(lib: ctypes.CDLL) -> Any:
    """``quill_log`` without argtypes, for the hot path: the caller passes only ctypes objects (the run handle as
    ``c_void_p``, the key and value arrays, ``c_int32``/``c_int64`` scalars, a ``byref`` error pointer), which
    ctypes hands over as they are, skipping the per-argument ``from_param`` conversions that argtypes costs."""
    function = lib._FuncPtr(("quill_log", lib))
    function.restype = c_int32
    return function


def take_string(lib: ctypes.CDLL, pointer: c_void_p) -> str:
    """Reads a malloc'd UTF-8 string the library returned, frees it, and resets the pointer."""
    address = pointer.value
    if not address:
        return ""
    try:
        return ctypes.string_at(address).decode("utf-8", errors="replace")
    finally:
        lib.quill_free(address)
        pointer.value = None


def take_json(lib: ctypes.CDLL, pointer: c_void_p) -> Any:
    """Reads, frees and parses a malloc'd JSON string the library returned."""
    text = take_string(lib, pointer)
    return json.loads(text) if text else None


def raise_error_text(text: Optional[str], what: str) -> NoReturn:
    """Raises the QuillError subclass for the library's error JSON ``{"code", "message"}`` (text that is not that
    JSON becomes the message of an ``unknown`` error)."""
    code, message = "unknown", f"{what} failed"
    if text:
        try:
            parsed = json.loads(text)
            code = str(parsed.get("code") or code)
            message = str(parsed.get("message") or message)
        except (ValueError, AttributeError):
            message = text
    raise error_for_code(code)(code, message)


def raise_error(lib: ctypes.CDLL, pointer: c_void_p, what: str) -> NoReturn:
    """Raises the QuillError subclass for the error JSON in ``pointer`` (freed here)."""
    raise_error_text(take_string(lib, pointer), what)


def call_json(lib: ctypes.CDLL, function: Any, what: str, *arguments: Any) -> Any:
    """Calls ``function(*arguments, &out, &error)`` and returns the parsed out-JSON, raising on failure."""
    out = c_void_p()
    error = c_void_p()
    status = function(*arguments, ctypes.byref(out), ctypes.byref(error))
    if status != 0:
        take_string(lib, out)
        raise_error(lib, error, what)
    return take_json(lib, out)


def call(lib: ctypes.CDLL, function: Any, what: str, *arguments: Any) -> None:
    """Calls ``function(*arguments, &error)``, raising the matching QuillError on failure."""
    error = c_void_p()
    if function(*arguments, ctypes.byref(error)) != 0:
        raise_error(lib, error, what)


def encode(text: str, what: str) -> bytes:
    """UTF-8 bytes of a string argument, refusing a NUL (C strings end there)."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, not {type(text).__name__}")
    if "\0" in text:
        raise ValueError(f"{what} contains a NUL character: {text!r}")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"{what} is not valid Unicode text ({error.reason}): {text!r}") from None

