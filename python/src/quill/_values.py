"""Turning Python values into what Quill's engine takes: metric values into doubles, config and params into JSON."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import os
import sys
import uuid
from typing import Any, Mapping

from .errors import InvalidArgumentError


def to_float(key: str, value: Any) -> float:
    """The metric value as a float, or a TypeError/OverflowError that names the key.

    Accepts ``float``, ``int`` and ``bool``, NumPy scalars and 0-d arrays, PyTorch 0-d tensors (only when torch is
    already imported), and anything else with ``__float__``. NaN and the infinities are kept. Strings, ``None``,
    containers and arrays of more than one element are refused.
    """
    if isinstance(value, float):
        return value
    if isinstance(value, (str, bytes, bytearray)) or value is None:
        raise TypeError(f"metric {key!r}: expected a number, got {type(value).__name__} {value!r:.60}")
    if isinstance(value, int):  # bool too
        try:
            return float(value)
        except OverflowError:
            raise OverflowError(f"metric {key!r}: the integer {value} is too large for a float (a 64-bit double)") from None
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.dim() != 0:
            raise TypeError(f"metric {key!r}: expected a 0-d tensor, got a tensor of shape {tuple(value.shape)}")
        return float(value.detach().cpu().item())
    shape = getattr(value, "shape", None)
    if shape is not None and shape != () and hasattr(value, "dtype"):
        raise TypeError(f"metric {key!r}: expected a number or a 0-d array, got an array of shape {tuple(shape)}")
    if isinstance(value, complex) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") == "c"):
        raise TypeError(f"metric {key!r}: complex values are not metrics")
    converter = getattr(type(value), "__float__", None)
    if converter is None:
        raise TypeError(f"metric {key!r}: expected a number, got {type(value).__name__}")
    try:
        result = converter(value)
    except OverflowError:
        raise OverflowError(f"metric {key!r}: the value {value!r:.60} is too large for a float") from None
    except (TypeError, ValueError) as error:
        raise TypeError(f"metric {key!r}: cannot convert {type(value).__name__} to a float: {error}") from None
    if not isinstance(result, float):
        raise TypeError(f"metric {key!r}: {type(value).__name__}.__float__ returned {type(result).__name__}")
    return result


RESERVED_KEYS = {
    "step": "metric key 'step' is reserved for the row's step: pass it as run.log({...}, step=N)",
    "_idx": "metric key '_idx' is reserved for the row's index in metrics.jsonl",
    "_timestamp": "metric key '_timestamp' is reserved for the row's time in metrics.jsonl",
}


def check_key(key: Any) -> bytes:
    """A metric key as UTF-8 bytes; refuses non-strings, empty keys, NUL characters and the reserved keys."""
    if not isinstance(key, str):
        raise TypeError(f"metric keys must be str, got {type(key).__name__} {key!r:.60}")
    if not key:
        raise ValueError("metric keys must not be empty")
    reserved = RESERVED_KEYS.get(key)
    if reserved is not None:
        raise InvalidArgumentError("invalid_argument", reserved)
    if "\0" in key:
        raise ValueError(f"metric key {key!r} contains a NUL character")
    try:
        return key.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"metric key {key!r} is not valid Unicode text ({error.reason})") from None


def _default(value: Any) -> Any:
    """json.dumps fallback: NumPy, torch, paths, dataclasses, enums, sets, dates, UUIDs; else the value's str()."""
    item = getattr(value, "item", None)
    tolist = getattr(value, "tolist", None)
    if hasattr(value, "dtype") and callable(tolist):  # NumPy scalars and arrays, torch tensors
        return tolist()
    if callable(item) and hasattr(value, "dtype"):
        return item()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, Mapping):
        return dict(value)
    if hasattr(value, "__dict__") and type(value).__module__ == "argparse":  # argparse.Namespace
        return vars(value)
    if isinstance(value, (tuple, list)):
        return list(value)
    return str(value)


def _stringify_keys(value: Any) -> Any:
    """Dict keys as strings (json.dumps refuses tuples and other keys), recursively."""
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else str(k)): _stringify_keys(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_stringify_keys(v) for v in value]
    return value


def to_object(value: Any, what: str) -> dict[str, Any]:
    """A config or params value as a plain dict: a mapping, a dataclass, an argparse Namespace, or None (empty)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if type(value).__name__ == "Namespace" and hasattr(value, "__dict__"):
        return dict(vars(value))
    for method in ("to_dict", "model_dump", "_asdict"):  # transformers configs, pydantic models, namedtuples
        convert = getattr(value, method, None)
        if callable(convert):
            result = convert()
            if isinstance(result, Mapping):
                return dict(result)
    raise TypeError(f"{what} must be a dict, a dataclass or an argparse Namespace, not {type(value).__name__}")


def dumps(value: Any) -> str:
    """JSON text for a config, params or summary value; NaN and infinities stay (the engine reads them)."""
    return json.dumps(_stringify_keys(value), default=_default, allow_nan=True, ensure_ascii=False)
