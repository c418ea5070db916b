"""The one schema of the event table, and the one place it is built.

Long format, one row per value the log printed.  Absence is no row: a metric
that was not printed has no row, so a non-finite ``value`` always means the log
printed nan/inf.  Notes (kind ``note``) carry text: messages such as snapshots or
early stopping, and configuration such as Caffe's solver parameters.
"""

from __future__ import annotations

import math
import os
import sys
from itertools import islice
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

try:  # the grouping by series in C; built when the package is installed with a C compiler
    from logdoctor import _grouping as native
except ImportError:
    native = None
if os.environ.get("LOGDOCTOR_PURE_PYTHON"):  # to compare both paths, or to rule the C one out
    native = None

# pandas is imported where a DataFrame is made or read, not before: the rules work on the table in array
# form, so `diagnose` never imports it (a fifth of a second at every start).
if TYPE_CHECKING:
    import pandas as pd

PHASES = ("train", "val", "test")
KINDS = ("metric", "note")
CATEGORIES = {"phase": PHASES, "kind": KINDS}  # the categories of the columns of dtype "category"
METRIC, NOTE = KINDS.index("metric"), KINDS.index("note")  # their codes in array form

# name -> pandas dtype ("category": see CATEGORIES).  The first nine columns are the common schema; the rest
# are filled by the formats that have them and are missing (NA) elsewhere.
SCHEMA: dict[str, str] = {
    "line": "int64",        # 1-based physical line in the input
    "seconds": "float64",   # since the first timestamp; NaN when the format has no clock
    "epoch": "Int64",
    "step": "Int64",        # iteration / global step
    "phase": "category",
    "kind": "category",
    "name": "object",       # normalised metric name: loss, accuracy, lr, or the output's own name
    "value": "float64",
    "text": "object",       # raw text for notes; "" for metrics
    "segment": "int64",     # run segment: increases when a step or epoch counter goes back (a restart)
    "output": "Int64",      # Caffe: net output index #k
    "net": "Int64",         # Caffe: test net index #i
    "weight": "float64",    # Caffe: loss weight of the output
    "layer": "object",      # Caffe debug_info / net definition: layer name
    "blob": "object",       # Caffe debug_info: blob name or param index
    "span": "Int64",        # steps the value averages, ending at `step` (Keras bars: means since the epoch began)
}
COLUMNS = tuple(SCHEMA)

# Defaults a parser need not fill in.
DEFAULTS: dict[str, object] = {
    "seconds": np.nan,
    "epoch": None,
    "step": None,
    "phase": "train",
    "kind": "metric",
    "text": "",
    "segment": 0,
    "output": None,
    "net": None,
    "weight": np.nan,
    "layer": None,
    "blob": None,
    "span": None,
}


def pandas_dtype(name: str) -> object:
    """The pandas dtype of column ``name``."""
    import pandas as pd

    dtype = SCHEMA[name]
    return pd.CategoricalDtype(CATEGORIES[name]) if dtype == "category" else dtype


def empty_table() -> pd.DataFrame:
    """A table with the schema and no rows."""
    import pandas as pd

    return pd.DataFrame({name: pd.Series([], dtype=pandas_dtype(name)) for name in SCHEMA})


def empty_arrays() -> dict[str, np.ndarray]:
    """A table with no rows, in array form."""
    return as_arrays({"line": []})


def frame_from_columns(columns: dict[str, object]) -> pd.DataFrame:
    """Build a table from equally long columns (the parsers' output); a missing column takes its default.

    A column is a list of values, or an array in the form :func:`as_arrays` gives.
    """
    return frame_from_arrays(as_arrays(columns))


# Tables are put together as arrays, one per column, and become a DataFrame once: a numpy array of the
# column's type; for a nullable integer column a masked array (masked: missing); for a categorical one
# the integer codes of its categories (``PHASES``, ``KINDS``); for a column of strings (``STRING_COLUMNS``)
# :class:`Strings` (a parser may give one as ``(codes, distinct strings)``): a few distinct strings on
# many rows, copied and grouped as integers, without hashing or reference counting.

STRING_COLUMNS = tuple(name for name, dtype in SCHEMA.items() if dtype == "object")
DEFAULTABLE = frozenset(DEFAULTS) | frozenset(STRING_COLUMNS)  # the columns that have a default (missing: None)


class Strings:
    """A column of strings in array form: per row the code of one of its distinct strings (-1: missing)."""

    __slots__ = ("codes", "labels")

    def __init__(self, codes: np.ndarray, labels: list[str]) -> None:
        self.codes, self.labels = codes, labels

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, rows: np.ndarray) -> "Strings":
        return Strings(self.codes[rows], self.labels)

    def label(self, row: int) -> str | None:
        code = self.codes[row]
        return self.labels[code] if code >= 0 else None

    def objects(self) -> np.ndarray:
        """The strings as an object array: each distinct string one object."""
        if len(self.codes) and self.codes.min() == self.codes.max():  # (layers of most logs: a quicker fill)
            return np.full(len(self.codes), self.label(0), dtype=object)
        labels = np.empty(len(self.labels) + 1, dtype=object)
        labels[:-1] = self.labels  # the last, None, is what code -1 picks
        return labels[self.codes]


def as_arrays(columns: dict[str, object]) -> dict[str, np.ndarray]:
    """Every column of the schema as an array (lists converted, missing columns filled with their default)."""
    n = len(columns["line"])
    arrays = {}
    for name, dtype in SCHEMA.items():
        values = columns.get(name)
        if values is None or (isinstance(values, list) and name in DEFAULTABLE and dtype != "float64"
                              and values.count(DEFAULTS.get(name)) == n):  # (a parser's lists: rows of many kinds)
            arrays[name] = _default_array(name, dtype, n)
        elif name in STRING_COLUMNS:
            arrays[name] = _strings(values)
        elif not isinstance(values, list):
            arrays[name] = values if dtype != "Int64" or isinstance(values, np.ma.MaskedArray) else np.ma.MaskedArray(
                values.astype(np.int64, copy=False), mask=np.zeros(n, dtype=bool))
        elif dtype == "Int64":
            arrays[name] = _nullable_ints(values)
        elif dtype == "category":  # a value not among the categories is missing (-1)
            code = {category: i for i, category in enumerate(CATEGORIES[name])}.get
            arrays[name] = np.fromiter((code(value, -1) for value in values), dtype=np.int8, count=n)
        else:
            arrays[name] = np.asarray(values, dtype=dtype)
    return arrays


def _strings(values: object) -> Strings:
    if isinstance(values, Strings):
        return values
    if isinstance(values, tuple):  # (codes, distinct strings)
        return Strings(np.asarray(values[0]), list(values[1]))
    if isinstance(values, list):  # a few rows: a dict is quicker than pandas
        index: dict[str, int] = {}
        codes = [-1 if value is None else index.setdefault(value, len(index)) for value in values]
        return Strings(np.array(codes, dtype=np.int64), list(index))
    import pandas as pd

    codes, labels = pd.factorize(pd.Index(values, dtype=object))
    return Strings(codes, list(labels))


def _joined_strings(parts: list[Strings]) -> tuple[list[np.ndarray], list[str]]:
    """The parts' codes renumbered into one list of labels."""
    labels = parts[0].labels
    if all(part.labels == labels for part in parts):
        return [part.codes for part in parts], labels
    # The first part's labels are numbered first, as they are: its codes stay (the big part, usually).
    index = {label: i for i, label in enumerate(labels)}
    codes = [parts[0].codes]
    for part in parts[1:]:
        renumber = np.array([index.setdefault(label, len(index)) for label in part.labels] + [-1], dtype=np.int64)
        codes.append(renumber[part.codes])  # -1 picks the last: missing stays missing
    return codes, list(index)


def concat_arrays(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Columns in array form, one part after the other."""
    if len(parts) == 1:
        return parts[0]
    return {name: _concatenate(name, [part[name] for part in parts]) for name in SCHEMA}


def _concatenate(name: str, arrays: list[np.ndarray]) -> np.ndarray:
    if all(is_default(name, values) for values in arrays):
        return default_column(name, sum(map(len, arrays)))
    if isinstance(arrays[0], Strings):
        codes, labels = _joined_strings(arrays)
        return Strings(np.concatenate(codes), labels)
    if isinstance(arrays[0], np.ma.MaskedArray):
        return np.ma.MaskedArray(np.concatenate([a.data for a in arrays]),
                                 mask=np.concatenate([np.ma.getmaskarray(a) for a in arrays]))
    return np.concatenate(arrays)


def merge_arrays(columns: dict[str, np.ndarray], rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Two parts as one in line order; each is in line order, and ``rows`` has few rows (they are put in
    among ``columns``, before its rows of the same line)."""
    where = np.searchsorted(columns["line"], rows["line"], side="left")
    at = where + np.arange(len(where))  # the rows' places in the merged part
    others = np.ones(len(columns["line"]) + len(where), dtype=bool)
    others[at] = False
    return {name: default_column(name, len(others)) if is_default(name, columns[name]) and is_default(name, rows[name])
            else _merged(columns[name], rows[name], others, at) for name in SCHEMA}


def _merged(values: np.ndarray, more: np.ndarray, others: np.ndarray, at: np.ndarray) -> np.ndarray:
    if isinstance(values, Strings):
        (codes, more_codes), labels = _joined_strings([values, more])
        return Strings(_merged(codes, more_codes, others, at), labels)
    if isinstance(values, np.ma.MaskedArray):
        return np.ma.MaskedArray(_merged(values.data, more.data, others, at),
                                 mask=_merged(np.ma.getmaskarray(values), np.ma.getmaskarray(more), others, at))
    out = np.empty(len(others), dtype=values.dtype)
    out[others] = values
    out[at] = more
    return out


def in_line_order(arrays: dict[str, np.ndarray]) -> bool:
    lines = arrays["line"]
    return not (lines[1:] < lines[:-1]).any()


def take_arrays(arrays: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """The rows ``rows`` (indices or a mask) of columns in array form."""
    return {name: values[rows] for name, values in arrays.items()}


class TableBuffer:
    """A table in array form that grows at its end: a piece added is copied once, and the table so far is a
    view of it, not everything concatenated again for each rule run.

    State is the point here.  What a view shows is never written again while the view lives (pieces go
    after it, growing past the capacity moves to new arrays, and :meth:`keep` writes from the start
    only when no view is left), so a DataFrame made from a view stays as it was.

    A column is not stored while every row holds its default (``blank``): a piece's default column (see
    :func:`default_column`) is not copied, and the table shows a default column.
    """

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._allocate(max(capacity, 1))

    def _allocate(self, capacity: int) -> None:
        self.size = 0
        self.capacity = capacity
        self.data = {name: _buffer(dtype, capacity) for name, dtype in SCHEMA.items()}
        self.masks = {name: np.zeros(capacity, dtype=bool) for name, dtype in SCHEMA.items() if dtype == "Int64"}
        self.labels: dict[str, dict[str, int]] = {name: {} for name in STRING_COLUMNS}  # string -> its code
        self.blank = set(DEFAULTABLE)  # the columns not stored: every row holds the default
        self.unviewed = self._references()

    def __len__(self) -> int:
        return self.size

    def keep(self, rows: np.ndarray) -> None:
        """Hold only the rows ``rows`` (a mask): the table compacted, the rows in their order, strings with their
        codes.  Memory never written costs a page fault per page, more than the copy: the rows move to the
        start of the same storage, unless a view of it is still alive (a frame someone holds); then into new
        storage."""
        rows = np.flatnonzero(rows)
        old = [self.data, self.masks]
        if self._references() != self.unviewed:
            labels, blank = self.labels, self.blank
            self._allocate(self.capacity)
            self.labels, self.blank = labels, blank
        for now, before in zip((self.data, self.masks), old):
            for name, values in before.items():
                if name not in self.blank:  # (gathered first: no row is written over before it is read)
                    now[name][:len(rows)] = values[rows]
        self.size = len(rows)

    def _references(self) -> list[int]:
        """How many references each storage array has: a numpy view holds one on its base (this is
        compared with the count taken when no view existed, so the interpreter's own ones cancel out)."""
        return [sys.getrefcount(values) for columns in (self.data, self.masks) for values in columns.values()]

    def extend(self, arrays: dict[str, np.ndarray]) -> None:
        """Add rows (columns in array form, as :func:`as_arrays` gives them, in line order) at the end, or
        among the last ones when some are of earlier lines (see :meth:`_late`): the table stays in line order."""
        if len(arrays["line"]) and self.size and arrays["line"][0] < self.data["line"][self.size - 1]:
            arrays = self._late(arrays)
        n = len(arrays["line"])
        if self.size + n > self.capacity:
            self._grow(max(self.size + n, 2 * self.capacity))
        end = self.size + n
        for name, values in arrays.items():
            if name in self.blank:
                if is_default(name, values):
                    continue
                self._store(name)
            if name in self.masks:
                self.data[name][self.size:end] = values.data
                self.masks[name][self.size:end] = np.ma.getmaskarray(values)
            elif name in self.labels:
                self.data[name][self.size:end] = self._codes(name, values)
            else:
                self.data[name][self.size:end] = values
        self.size = end

    def _late(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Rows of lines the table has rows after: a bar state a parser held until a later line was read
        (Lightning writes a step's last state when the next is drawn), its rows come after a piece with the
        later line's rows.  The table's rows after the first late row's line are taken back, and come again
        with ``arrays`` as a stable sort by line would order them (a line's rows keep their order of coming)."""
        start = int(np.searchsorted(self.data["line"][:self.size], arrays["line"][0], side="right"))
        taken = concat_arrays([take_arrays(self.arrays(), slice(start, None)), arrays])  # (copies)
        if self._references() != self.unviewed:  # a frame shows the rows taken back: they stay as they are
            self._grow(self.capacity)
        self.size = start
        return take_arrays(taken, np.argsort(taken["line"], kind="stable"))

    def _store(self, name: str) -> None:
        """Column ``name`` stored from now on: the rows so far hold its default."""
        default = default_column(name, self.size)
        if name in self.masks:
            self.data[name][:self.size] = default.data
            self.masks[name][:self.size] = True
        elif name in self.labels:
            self.data[name][:self.size] = default.codes
            self.labels[name] = {label: code for code, label in enumerate(default.labels)}  # (none: it was blank)
        else:
            self.data[name][:self.size] = default
        self.blank.discard(name)

    def arrays(self) -> dict[str, np.ndarray]:
        """The rows so far, columns in array form (views)."""
        n, out = self.size, {}
        for name, values in self.data.items():
            if name in self.blank:
                out[name] = default_column(name, n)
            elif name in self.masks:
                out[name] = np.ma.MaskedArray(values[:n], mask=self.masks[name][:n])
            elif name in self.labels:
                out[name] = Strings(values[:n], list(self.labels[name]))
            else:
                out[name] = values[:n]
        return out

    def _codes(self, name: str, strings: Strings) -> np.ndarray:
        """``strings``' codes renumbered to this buffer's (a new string gets the next code)."""
        index = self.labels[name]
        if list(islice(index, len(strings.labels))) == strings.labels:  # (most pieces: the same strings, same order)
            return strings.codes
        renumber = np.array([index.setdefault(label, len(index)) for label in strings.labels] + [-1], dtype=np.int32)
        return renumber[strings.codes]  # -1 picks the last: missing stays missing

    def _grow(self, capacity: int) -> None:
        for columns in (self.data, self.masks):
            for name, values in columns.items():
                grown = np.empty(capacity, dtype=values.dtype)
                if name not in self.blank:
                    grown[:self.size] = values[:self.size]
                columns[name] = grown
        self.capacity = capacity
        self.unviewed = self._references()


def _buffer(dtype: str, capacity: int) -> np.ndarray:
    if dtype == "category":
        return np.empty(capacity, dtype=np.int8)
    if dtype == "object":
        return np.empty(capacity, dtype=np.int32)  # codes (see Strings)
    return np.empty(capacity, dtype=np.int64 if dtype == "Int64" else dtype)


def frame_from_arrays(arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    """The table of columns in array form."""
    import pandas as pd

    if not len(arrays["line"]):
        return empty_table()
    data = {}
    for name, dtype in SCHEMA.items():
        values = arrays[name]
        if dtype == "Int64":
            data[name] = pd.arrays.IntegerArray(_writable(values.data.astype(np.int64, copy=False)),
                                                _writable(np.ma.getmaskarray(values)))
        elif dtype == "category":
            data[name] = pd.Categorical.from_codes(_writable(values), dtype=pandas_dtype(name))
        elif name in STRING_COLUMNS:  # a Series: pandas would infer a string dtype from an object array
            data[name] = pd.Series(values.objects(), dtype=object, copy=False)
        else:
            data[name] = _writable(np.asarray(values, dtype=dtype))
    return pd.DataFrame(data, copy=False)


def _writable(values: np.ndarray) -> np.ndarray:
    """``values``, or a copy of a read-only view (a default column): a frame's columns are its own to change."""
    return values if values.flags.writeable else values.copy()


def arrays_from_frame(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """A table back in array form (the analyzer keeps its compacted table so)."""
    arrays = {}
    for name, dtype in SCHEMA.items():
        column = frame[name]
        if dtype == "Int64":
            values = column.array
            arrays[name] = np.ma.MaskedArray(values._data, mask=values._mask)
        elif dtype == "category":
            arrays[name] = column.cat.codes.to_numpy()
        elif name in STRING_COLUMNS:
            arrays[name] = _strings(column.to_numpy())
        else:
            arrays[name] = column.to_numpy()
    return arrays


# A column all of whose rows hold the default (Caffe has no epoch, Keras no layer) is a read-only view of one
# long array per column, made once: no table piece fills one of its own, and the buffer, which tells such a
# view from any other array at no cost (:func:`is_default`), stores no column until a row sets a value in it.
_DEFAULT_STORE: dict[str, np.ndarray] = {}  # name -> its default on many rows (the mask, for an Int64 column)
_ZEROS = "(zeros)"  # what a missing integer holds, in the store


def _default_array(name: str, dtype: str, n: int) -> np.ndarray:
    """Column ``name`` on ``n`` rows that all hold its default (missing, for most)."""
    if name not in DEFAULTABLE:  # (line, value: a table with no rows)
        return np.full(n, np.nan if dtype == "float64" else 0, dtype=dtype)
    view = _stored(name, n)[:n]
    if dtype == "Int64":
        return np.ma.MaskedArray(_stored(_ZEROS, n)[:n], mask=view)
    if name in STRING_COLUMNS:
        return Strings(view, [] if DEFAULTS.get(name) is None else [DEFAULTS[name]])
    return view


def _stored(name: str, n: int) -> np.ndarray:
    store = _DEFAULT_STORE.get(name)
    if store is None or len(store) < n:
        size = max(n, 2 * len(store) if store is not None else 1 << 16)
        if name == _ZEROS:
            store = np.zeros(size, dtype=np.int64)
        elif SCHEMA[name] == "Int64":
            store = np.ones(size, dtype=bool)  # the mask: missing
        elif SCHEMA[name] == "category":
            store = np.full(size, CATEGORIES[name].index(DEFAULTS[name]), dtype=np.int8)
        elif name in STRING_COLUMNS:
            store = np.full(size, -1 if DEFAULTS.get(name) is None else 0, dtype=np.int32)
        else:
            store = np.full(size, DEFAULTS[name], dtype=SCHEMA[name])
        store.flags.writeable = False
        _DEFAULT_STORE[name] = store
    return store


def default_column(name: str, n: int) -> np.ndarray:
    """Column ``name`` (in array form) on ``n`` rows that all hold its default."""
    return _default_array(name, SCHEMA[name], n)


def is_default(name: str, values: object) -> bool:
    """Whether ``values`` (column ``name`` in array form) is one that :func:`default_column` made: every row
    holds the default.  False for other arrays, whatever they hold."""
    store = _DEFAULT_STORE.get(name)
    if store is None:
        return False
    if isinstance(values, Strings):
        values = values.codes
    elif isinstance(values, np.ma.MaskedArray):
        values = np.ma.getmaskarray(values)
    return np.may_share_memory(values, store)  # (a view of the store: it is never written)


def _exact_ints(values: list) -> np.ma.MaskedArray:
    """One by one, as pandas reads them; a counter too large for 64 bits (``Iteration 99999999999999999999``)
    is missing."""
    import pandas as pd

    ints = pd.array([v if v is None or -2**63 <= v < 2**63 else None for v in values], dtype="Int64")
    return np.ma.MaskedArray(ints._data, mask=ints._mask)


def _nullable_ints(values: list) -> np.ma.MaskedArray:
    """A list of ints and Nones as a nullable integer column (masked: missing), the common cases without a
    per-item pass."""
    missing = values.count(None)
    if missing == len(values):
        return np.ma.MaskedArray(np.zeros(len(values), dtype=np.int64), mask=np.ones(len(values), dtype=bool))
    if missing == 0:
        try:
            return np.ma.MaskedArray(np.asarray(values, dtype=np.int64), mask=np.zeros(len(values), dtype=bool))
        except (OverflowError, TypeError, ValueError):
            return _exact_ints(values)
    try:
        floats = np.asarray(values, dtype=np.float64)  # None becomes nan
    except (OverflowError, TypeError, ValueError):
        return _exact_ints(values)
    mask = np.isnan(floats)
    if np.abs(floats[~mask]).max(initial=0) >= 2**53:  # beyond what a float holds exactly
        return _exact_ints(values)
    return np.ma.MaskedArray(np.where(mask, 0, floats).astype(np.int64), mask=mask)


SERIES_KEY = ["segment", "phase", "name", "output", "net", "layer", "blob"]
Table = "pd.DataFrame | dict[str, np.ndarray]"  # a table as a DataFrame, or its columns in array form


def series_codes(table: Table, strings: dict[str, Strings] | None = None) -> np.ndarray:
    """One integer per row naming its series (its ``SERIES_KEY``; a missing key part is a value too),
    numbered in order of first appearance (as pandas' ``groupby(sort=False).ngroup()`` would).
    ``table``: a DataFrame or columns in array form; ``strings``: its string columns in array form, when
    the caller has them (nothing to hash)."""
    return _factorized(series_keys(table, strings)[0])


def series_grouping(table: Table, strings: dict[str, Strings] | None = None) -> Grouping:
    """The rows of ``table`` by series (see :func:`series_codes`): what the rules and :func:`compaction`
    work from.  The series need no numbering in order of first appearance here: when their keys are few,
    the keys themselves are grouped."""
    rows = _rows(table)
    if native is not None and isinstance(table, dict) and rows:
        grouped = native.group(_key_columns(table, strings or {}), rows)
        if grouped is not None:
            codes, size, order, starts = grouped
            return Grouping(np.frombuffer(codes, {1: np.uint8, 2: np.uint16}.get(size, np.int64)),
                            np.frombuffer(order, np.int64), np.frombuffer(starts, np.int64))
    keys, bound = series_keys(table, strings)
    if bound > 1 << 16:
        # Numbered in any order (the groups are the same): pandas hashes them ten times faster than numpy sorts
        # them, which pays for importing it on a large table only.
        keys = _factorized(keys) if len(keys) >= 100_000 else np.unique(keys, return_inverse=True)[1]
    return grouping(keys)


def _key_columns(arrays: dict[str, np.ndarray], strings: dict[str, Strings]) -> list[tuple]:
    """The ``SERIES_KEY`` columns of a table in array form as the C grouping takes them: integers, a mask of
    the missing ones (None: none missing, or the missing are -1), and a range that holds them (codes have
    theirs; numpy finds that of other integers with vector instructions, missing ones included: looser, but
    no copy).  A default column tells no rows apart."""
    columns = []
    for name in SERIES_KEY:
        column = strings.get(name, arrays[name])
        if is_default(name, column):
            continue
        if isinstance(column, Strings):
            columns.append((column.codes, None, (-1, len(column.labels) - 1)))
        elif name in CATEGORIES:
            columns.append((column, None, (-1, len(CATEGORIES[name]) - 1)))
        else:
            values = column.data if isinstance(column, np.ma.MaskedArray) else column
            mask = np.ma.getmaskarray(column) if isinstance(column, np.ma.MaskedArray) else None
            columns.append((values, mask, (int(values.min()), int(values.max()))))
    return columns


def series_keys(table: Table, strings: dict[str, Strings] | None = None) -> tuple[np.ndarray, int]:
    """Per row a number in ``range(bound)`` that is the same for two rows exactly when their series is, and
    the bound: the ``SERIES_KEY`` parts as digits of a mixed-radix number (a missing part is digit 0)."""
    rows = _rows(table)
    strings = strings or {}
    parts = [_key_part(strings[name] if name in strings else table[name]) for name in SERIES_KEY if rows]
    parts = [part for part in parts if part is not None]  # (the same on every row: tells no series apart)
    bound = math.prod(count + 1 for _, count in parts)
    keys = np.zeros(rows, dtype=np.int32 if bound < 1 << 31 else np.int64)  # (narrower: fewer bytes to go over)
    radix, ones = 1, 0  # ones: the number all of whose digits so far are 1
    for part, count in parts:
        if radix * (count + 1) >= 1 << 62:  # renumber before the mixed-radix number overflows
            keys = _factorized(keys + ones)
            radix, ones = int(keys.max(initial=0)) + 1, 0
        # Each digit is its part + 1; the ones are added once at the end (a pass less per part).
        keys *= count + 1
        keys += part
        radix, ones = radix * (count + 1), ones * (count + 1) + 1
    keys += ones
    return keys, radix


def _factorized(values: np.ndarray) -> np.ndarray:
    """``values`` numbered in order of first appearance (pandas' factorize)."""
    import pandas as pd

    return pd.factorize(values)[0].astype(np.int64, copy=False)


def _rows(table: Table) -> int:
    return len(table["line"]) if isinstance(table, dict) else len(table)


def _key_part(column: object) -> tuple[np.ndarray, int] | None:
    """A key column as integers below a bound that tell its values apart (-1: missing), and the bound; None
    when it is the same on every row.  Any such numbers will do: :func:`series_codes` numbers the
    combinations in the end, so categories and a few small integers need no hashing.  A column is in array
    form (as the analyzer keeps it) or a pandas one (of a DataFrame)."""
    if isinstance(column, Strings):  # names, layers, blobs
        part, count = column.codes, len(column.labels)
    elif isinstance(column, np.ma.MaskedArray):  # output, net
        return _small_ints(column.data, np.ma.getmaskarray(column))
    elif isinstance(column, np.ndarray) and column.dtype == np.int8:  # phase: codes of its categories
        part, count = column, int(column.max(initial=-1)) + 1
    elif isinstance(column, np.ndarray) and column.dtype == np.int64:  # segment
        return _small_ints(column)
    elif isinstance(column, np.ndarray):
        part = _factorized(column)
        count = int(part.max(initial=-1)) + 1
    else:
        return _pandas_key_part(column)
    return None if part.min() == part.max() else (part, count)


def _pandas_key_part(column: object) -> tuple[np.ndarray, int] | None:
    """:func:`_key_part` of a column of a DataFrame."""
    import pandas as pd

    if isinstance(column, pd.Series):
        column = column.to_numpy() if column.dtype in (np.int64, object) else column.array
    if isinstance(column, pd.Categorical):  # phase
        part, count = column.codes, len(column.categories)
    elif isinstance(column, pd.arrays.IntegerArray):  # output, net
        return _small_ints(column._data, column._mask)
    elif column.dtype == object:  # names, layers, blobs: missing but in debug_info, so only the rest is hashed
        missing = pd.isna(column)
        if missing.all():
            return None
        part = np.full(len(column), -1, dtype=np.int64)
        part[~missing], uniques = pd.factorize(column[~missing])
        count = len(uniques)
    else:
        return _key_part(np.asarray(column))
    return None if part.min() == part.max() else (part, count)


def _small_ints(values: np.ndarray, missing: np.ndarray | None = None) -> tuple[np.ndarray, int] | None:
    """An integer column (nullable: ``missing``) as :func:`_key_part` has it: the values less the least when
    they lie close together (segments, output and net indices: no hashing), else their codes in order of
    first appearance."""
    if missing is not None and not missing.any():
        missing = None
    if missing is not None and missing.all():  # (Keras and Lightning have no output and net)
        return None
    # The bounds of every row's number, missing ones too (whatever they hold): looser, but no copy.
    low, high = int(values.min()), int(values.max())
    if missing is None and low == high:
        return None
    if high - low >= len(values):  # far apart: hashed
        if missing is None:
            part = _factorized(values)
        else:
            part = np.full(len(values), -1, dtype=np.int64)
            part[~missing] = _factorized(values[~missing])
        return part, int(part.max()) + 1
    if missing is None:
        return values - low, high - low + 1
    # 32 bits (the numbers are below the number of rows): half the bytes to write, and to add to the keys.
    part = np.subtract(values, low - 1, out=np.empty(len(values), dtype=np.int32), casting="same_kind")
    part *= ~missing  # -1 where missing (arithmetic: quicker than assigning through the mask)
    part -= 1
    return part, high - low + 1


class Grouping(NamedTuple):
    """The rows of a table by series: worked out once, shared by the rules and :func:`compaction`."""

    codes: np.ndarray   # the series of each row: 0, 1, 2... in the order of the groups
    order: np.ndarray   # the rows sorted by series, in log order within one
    starts: np.ndarray  # where each series begins in ``order``


def grouping(codes: np.ndarray) -> Grouping:
    """Rows grouped by code (non-negative integers; a stable sort: log order stays within a group)."""
    if not len(codes):
        return Grouping(codes, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    if codes.max() >= max(len(codes), 1 << 16):  # (far apart: numbered first, for the count of each)
        codes = np.unique(codes, return_inverse=True)[1]
    sizes = np.bincount(codes)
    used = sizes > 0
    # The codes numbered 0, 1, 2... in their order, in the narrowest type: numpy sorts 8- and 16-bit integers
    # stably by radix, a pass per byte, several times faster than wider ones.
    groups = int(used.sum())
    narrow = np.uint8 if groups <= 1 << 8 else np.uint16 if groups <= 1 << 16 else np.int64
    codes = (np.cumsum(used) - 1).astype(narrow).take(codes)
    sizes = sizes[used]
    return Grouping(codes, np.argsort(codes, kind="stable"), np.concatenate(([0], np.cumsum(sizes[:-1]))))


def compaction(table: Table, budget: int, groups: Grouping | None = None) -> tuple[np.ndarray, int]:
    """Bound the size of a long table to about ``budget`` values, shared among its series: per
    series keep the first values (a tenth of its share) and the last (half of it), and of the
    values between, the one nearest the median of each bucket (the level the series had there;
    extremes of a long-gone past are noise to the rules).

    Notes and the first non-finite values of each series are always kept: they are what the rules
    look for.  ``table`` is a DataFrame or columns in array form, ``groups`` its grouping by series when
    the caller has it.  Returns the rows to keep (a mask) and the horizon: the first line from which every
    series is still complete.
    """
    groups = series_grouping(table) if groups is None else groups
    if isinstance(table, dict):
        metric, values, lines = table["kind"] == METRIC, table["value"], table["line"]
    else:
        metric = (table["kind"] == "metric").to_numpy()
        values, lines = table["value"].to_numpy(), table["line"].to_numpy()
    order, starts = groups.order, groups.starts
    share = max(budget // max(len(starts), 1), 100)
    head, tail, buckets = share // 10, share // 2, share // 5
    # In series order (``order``: each series' rows together, in log order) the middle of each series, its
    # metric values between the head and the tail, is what may go.
    middle_sizes = np.maximum(np.diff(starts, append=len(order)) - head - tail, 0)
    long = middle_sizes > 0
    middle_begins, middle_sizes = (starts + head)[long], middle_sizes[long]
    middle = _runs_mask(middle_begins, middle_sizes, len(order))
    middle &= metric[order]
    values = values[order]
    bad = ~np.isfinite(values)
    chosen = middle  # the values the buckets' medians are taken of: finite ones
    if bad.any():
        middle[_first_of_each_series(np.flatnonzero(bad), starts, head)] = False
        chosen = middle & ~bad
    dropped = np.zeros(len(order), dtype=bool)  # in log order
    dropped[order] = middle
    if not middle.any():
        return ~dropped, 0
    horizon = int(lines.max(where=dropped, initial=np.iinfo(lines.dtype).min)) + 1  # (where=: no copy of the lines)
    kept = ~dropped
    kept[order[_bucket_nearest_medians(values, chosen, middle_begins, middle_sizes, buckets)]] = True
    return kept, horizon


def _runs_mask(begins: np.ndarray, sizes: np.ndarray, length: int) -> np.ndarray:
    """A mask of ``length`` rows, true on the runs of ``sizes`` rows from ``begins`` (in order, apart)."""
    ends = begins + sizes
    gaps = begins - np.concatenate(([0], ends[:-1]))
    lengths = np.append(np.column_stack((gaps, sizes)).ravel(), length - (ends[-1] if len(ends) else 0))
    return np.repeat(np.resize([False, True], len(lengths)), lengths)  # gap, run, gap, ..., gap


def _first_of_each_series(rows: np.ndarray, starts: np.ndarray, count: int) -> np.ndarray:
    """Of ``rows`` (ascending places in series order), the first ``count`` of each series."""
    series = np.searchsorted(starts, rows, side="right") - 1
    rank = np.arange(len(rows)) - np.searchsorted(rows, starts)[series]
    return rows[rank < count]


def _bucket_nearest_medians(values: np.ndarray, chosen: np.ndarray, begins: np.ndarray, sizes: np.ndarray,
                            buckets: int) -> np.ndarray:
    """The middles of the long series (``sizes`` places from ``begins``) cut into ``buckets`` each: of each
    bucket's ``chosen`` values, the place of the first nearest their median."""
    # Value p of a middle of n is in bucket p * buckets // n: bucket b begins at ceil(b * n / buckets).
    bounds = begins[:, None] + (np.arange(buckets + 1) * sizes[:, None] + buckets - 1) // buckets
    first, end = bounds[:, :-1].ravel(), bounds[:, 1:].ravel()
    places = None
    if np.count_nonzero(chosen) < sizes.sum():  # holes (notes, non-finite values): buckets among the chosen values
        places = np.flatnonzero(chosen)
        first, end, values = np.searchsorted(places, first), np.searchsorted(places, end), values[places]
    filled = end > first
    nearest = _nearest_median(values, first[filled], (end - first)[filled])
    return nearest if places is None else places[nearest]


VALUES_AT_ONCE = 1 << 16  # sorted in matrices of this many values: they stay in the cache, and are reused


def _nearest_median(values: np.ndarray, begins: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Per run of ``values`` (``sizes`` of them from ``begins``; finite), the place of the first one nearest
    the run's median, as pandas has it: the middle value, or the mean of the two middle ones.

    Runs of one length are sorted together, as the rows of a matrix (numpy sorts the rows of a matrix
    several times faster than pandas finds the medians of groups); a series' buckets have one or two
    lengths, so there are few kinds of matrices, each of up to ``VALUES_AT_ONCE`` values.
    """
    nearest = np.empty(len(begins), dtype=np.int64)
    for size in np.unique(sizes):
        same = np.flatnonzero(sizes == size)
        at_once = max(VALUES_AT_ONCE // size, 1)  # runs per matrix
        for k in range(0, len(same), at_once):
            runs = same[k: k + at_once]
            block = np.lib.stride_tricks.sliding_window_view(values, size)[begins[runs]]  # a copy (no index matrix)
            ordered = np.sort(block, axis=1)
            with np.errstate(over="ignore"):  # values near the float limit: a median or distance of inf, as in pandas
                median = ordered[:, size // 2] if size % 2 else (ordered[:, size // 2] + ordered[:, size // 2 - 1]) / 2
                distance = np.subtract(block, median[:, None], out=block)  # (in place: no more new floats)
                np.abs(distance, out=distance)
            nearest[runs] = begins[runs] + np.argmin(distance, axis=1)  # the first of equally near values
    return nearest
