"""Reading runs back: :func:`runs` lists them, :func:`metrics` (or ``run.metrics()``) returns their metric rows.

Both read the local home (``QUILL_HOME``, else ``~/.quill``) or, with ``tracking_uri=``, a Quill server, through
the same engine calls the ``quill`` command uses. Results are plain lists of dicts; ``to_pandas()`` turns them
into a DataFrame when pandas is installed (it is never required).
"""

from __future__ import annotations

import importlib
import math
import os
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from . import _native
from ._values import dumps

PathLike = Union[str, "os.PathLike[str]"]

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _pandas() -> Any:
    try:
        return importlib.import_module("pandas")
    except ImportError:
        raise ImportError("to_pandas() needs pandas: pip install pandas") from None


def _number(value: Any) -> Any:
    if isinstance(value, str):
        return _SPECIAL.get(value, value)
    return value


class MetricRows(List[Dict[str, Any]]):
    """A run's metric rows, in ``_idx`` order: each a dict with ``_idx``, ``_step`` (None without a step),
    ``_time`` (seconds since the epoch) and the metrics logged in that row (NaN and infinities as floats).

    ``columns`` lists ``_idx``, ``_step``, ``_time`` and every metric key; :meth:`to_pandas` gives a DataFrame with
    one column each (NaN where a row has no value).
    """

    columns: List[str]

    def __init__(self, columns: Sequence[str] = (), rows: Iterable[Dict[str, Any]] = ()) -> None:
        """Rows with their columns."""
        super().__init__(rows)
        self.columns = list(columns)

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame (needs pandas); ``_time`` becomes a UTC datetime column."""
        pandas = _pandas()
        frame = pandas.DataFrame.from_records(list(self), columns=self.columns)
        if "_time" in frame.columns:
            frame["_time"] = pandas.to_datetime(frame["_time"], unit="s", utc=True)
        return frame

    def column(self, key: str) -> List[Any]:
        """The values of one column, None where a row has none."""
        return [row.get(key) for row in self]


class RunRecord(Dict[str, Any]):
    """One run as a reader sees it: a dict with ``id``, ``name``, ``project``, ``kind``, ``status``,
    ``started_at``, ``finished_at``, ``params``, ``config``, ``tags``, ``summary``, ``parent`` and (local runs)
    ``dir``. :meth:`metrics` reads its metric rows from where it was found."""

    _source: Dict[str, Any]

    def __init__(self, fields: Dict[str, Any], source: Dict[str, Any]) -> None:
        """A run's fields and where they were read (home or server)."""
        super().__init__(fields)
        self._source = source

    @property
    def id(self) -> str:
        """The run's id."""
        return str(self.get("id", ""))

    @property
    def name(self) -> str:
        """The run's name."""
        return str(self.get("name", ""))

    @property
    def status(self) -> str:
        """The run's status."""
        return str(self.get("status", ""))

    def metrics(self, keys: Optional[Sequence[str]] = None) -> MetricRows:
        """The run's metric rows (see :class:`MetricRows`)."""
        return run_metrics(self.id, keys=keys, **self._source)


class RunList(List[RunRecord]):
    """Runs from :func:`runs`, newest first; :meth:`to_pandas` flattens them into a DataFrame."""

    def to_pandas(self) -> Any:
        """One row per run: its fields, with ``config.*``, ``params.*``, ``summary.*`` and ``tags.*`` columns."""
        pandas = _pandas()
        flat: List[Dict[str, Any]] = []
        for record in self:
            row: Dict[str, Any] = {}
            for key, value in record.items():
                if key in ("config", "params", "summary", "tags") and isinstance(value, dict):
                    for inner, item in value.items():
                        row[f"{key}.{inner}"] = _number(item)
                else:
                    row[key] = value
            flat.append(row)
        return pandas.DataFrame.from_records(flat)


def _source(home: Optional[PathLike], tracking_uri: Optional[str], api_key: Optional[str]) -> Dict[str, Any]:
    source: Dict[str, Any] = {}
    if tracking_uri:
        source["tracking_uri"] = tracking_uri
        if api_key:
            source["api_key"] = api_key
    elif home is not None:
        source["home"] = os.path.abspath(os.fspath(home))
    return source


def runs(
    project: Optional[str] = None,
    status: Optional[str] = None,
    tag: Optional[str] = None,
    *,
    limit: Optional[int] = None,
    home: Optional[PathLike] = None,
    tracking_uri: Optional[str] = None,
    api_key: Optional[str] = None,
) -> RunList:
    """Lists runs from the local home or from a server, newest first.

    Args:
        project: Only this project's runs.
        status: Only runs with this status (``running``, ``completed``, ``failed``, ``killed``, ``crashed``).
        tag: Only runs with this tag (a label, or ``key=value``).
        limit: At most this many runs.
        home: The local home to read (``QUILL_HOME``, else ``~/.quill``).
        tracking_uri: Read this Quill server instead (else ``QUILL_TRACKING_URI`` is *not* used: a reader reads
            the local home unless told).
        api_key: The API key for that server.

    Returns:
        A :class:`RunList` of :class:`RunRecord` dicts.
    """
    source = _source(home, tracking_uri, api_key)
    query: Dict[str, Any] = dict(source)
    if not tracking_uri and "home" not in query:
        query["home"] = _default_home()
        source["home"] = query["home"]
    if project is not None:
        query["project"] = project
    if status is not None:
        query["status"] = status
    if tag is not None:
        query["tag"] = tag
    if limit is not None:
        query["limit"] = int(limit)
    lib = _native.load()
    result = _native.call_json(lib, lib.quill_runs, "runs", _native.encode(dumps(query), "query"))
    return RunList(RunRecord(dict(item), source) for item in (result or []))


def run_metrics(
    run: str,
    *,
    keys: Optional[Sequence[str]] = None,
    home: Optional[PathLike] = None,
    tracking_uri: Optional[str] = None,
    api_key: Optional[str] = None,
) -> MetricRows:
    """The metric rows of one run, from the local home or a server (superseded rows of a resumed run dropped).

    Args:
        run: The run's id, a unique id prefix, or its name.
        keys: Only these metrics; all when omitted.
        home: The local home to read (``QUILL_HOME``, else ``~/.quill``).
        tracking_uri: Read this Quill server instead.
        api_key: The API key for that server.
    """
    query: Dict[str, Any] = {"run": str(run)}
    query.update(_source(home, tracking_uri, api_key))
    if not tracking_uri and "home" not in query:
        query["home"] = _default_home()
    if keys is not None:
        query["keys"] = [str(key) for key in keys]
    lib = _native.load()
    result = _native.call_json(lib, lib.quill_run_metrics, "metrics", _native.encode(dumps(query), "query")) or {}
    columns = [str(column) for column in result.get("columns", [])]
    rows = MetricRows(columns)
    for values in result.get("rows", []):
        row: Dict[str, Any] = {}
        for column, value in zip(columns, values):
            if value is None and column != "_step":
                continue
            row[column] = _number(value)
        rows.append(row)
    return rows


def _default_home() -> str:
    home = os.environ.get("QUILL_HOME")
    return os.path.abspath(os.path.expanduser(home)) if home else os.path.join(os.path.expanduser("~"), ".quill")
