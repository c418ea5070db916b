"""The one schema of the event table, and the one place it is built.

Long format, one row per value the log printed.  Absence is no row: a metric
that was not printed has no row, so a non-finite ``value`` always means the log
printed nan/inf.  Notes (kind ``note``) carry text: messages such as snapshots or
early stopping, and configuration such as Caffe's solver parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PHASES = ("train", "val", "test")
KINDS = ("metric", "note")

# name -> pandas dtype.  The first nine columns are the common schema; the rest
# are filled by the formats that have them and are missing (NA) elsewhere.
SCHEMA: dict[str, object] = {
    "line": "int64",        # 1-based physical line in the input
    "seconds": "float64",   # since the first timestamp; NaN when the format has no clock
    "epoch": "Int64",
    "step": "Int64",        # iteration / global step
    "phase": pd.CategoricalDtype(PHASES),
    "kind": pd.CategoricalDtype(KINDS),
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


def empty_table() -> pd.DataFrame:
    """A table with the schema and no rows."""
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in SCHEMA.items()})


def frame_from_columns(columns: dict[str, object]) -> pd.DataFrame:
    """Build a table from equally long columns (the parsers' output); a missing column takes its default.

    A column is a list of values, or an array in the form :func:`as_arrays` gives.
    """
    return frame_from_arrays(as_arrays(columns))


# Tables are put together as arrays, one per column, and become a DataFrame once: a numpy array of the
# column's type; for a nullable integer column a masked array (masked: missing); for a categorical one
# the integer codes of its categories (``PHASES``, ``KINDS``).

def as_arrays(columns: dict[str, object]) -> dict[str, np.ndarray]:
    """Every column of the schema as an array (lists converted, missing columns filled with their default)."""
    n = len(columns["line"])
    arrays = {}
    for name, dtype in SCHEMA.items():
        values = columns.get(name)
        if values is None:
            arrays[name] = _default_array(name, dtype, n)
        elif not isinstance(values, list):
            arrays[name] = values if dtype != "Int64" or isinstance(values, np.ma.MaskedArray) else np.ma.MaskedArray(
                values.astype(np.int64, copy=False), mask=np.zeros(n, dtype=bool))
        elif dtype == "Int64":
            ints = _nullable_ints(values)
            arrays[name] = np.ma.MaskedArray(ints._data, mask=ints._mask)
        elif isinstance(dtype, pd.CategoricalDtype):
            arrays[name] = pd.Categorical(values, dtype=dtype).codes
        elif dtype == "object":
            arrays[name] = np.empty(n, dtype=object)
            arrays[name][:] = _shared(values) if name == "name" else values  # a few names: one object each
        else:
            arrays[name] = np.asarray(values, dtype=dtype)
    return arrays


def concat_arrays(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Columns in array form, one part after the other."""
    if len(parts) == 1:
        return parts[0]
    return {name: _concatenate([part[name] for part in parts]) for name in SCHEMA}


def _concatenate(arrays: list[np.ndarray]) -> np.ndarray:
    if isinstance(arrays[0], np.ma.MaskedArray):
        return np.ma.MaskedArray(np.concatenate([a.data for a in arrays]),
                                 mask=np.concatenate([np.ma.getmaskarray(a) for a in arrays]))
    return np.concatenate(arrays)


def merge_arrays(columns: dict[str, np.ndarray], rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Two parts as one in line order; each is in line order, and ``rows`` has few rows (they are put in
    among ``columns``, before its rows of the same line)."""
    where = np.searchsorted(columns["line"], rows["line"], side="left")
    return {name: _insert(columns[name], where, rows[name]) for name in SCHEMA}


def _insert(values: np.ndarray, where: np.ndarray, more: np.ndarray) -> np.ndarray:
    if isinstance(values, np.ma.MaskedArray):
        return np.ma.MaskedArray(np.insert(values.data, where, more.data),
                                 mask=np.insert(np.ma.getmaskarray(values), where, np.ma.getmaskarray(more)))
    return np.insert(values, where, more)


def in_line_order(arrays: dict[str, np.ndarray]) -> bool:
    return not (np.diff(arrays["line"]) < 0).any()


def take_arrays(arrays: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """The rows ``rows`` (indices or a mask) of columns in array form."""
    return {name: values[rows] for name, values in arrays.items()}


def frame_from_arrays(arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    """The table of columns in array form."""
    if not len(arrays["line"]):
        return empty_table()
    data = {}
    for name, dtype in SCHEMA.items():
        values = arrays[name]
        if dtype == "Int64":
            data[name] = pd.arrays.IntegerArray(values.data.astype(np.int64, copy=False), np.ma.getmaskarray(values))
        elif isinstance(dtype, pd.CategoricalDtype):
            data[name] = pd.Categorical.from_codes(values, dtype=dtype)
        elif dtype == "object":  # a Series: pandas would infer a string dtype from an object array
            data[name] = pd.Series(values, dtype=object, copy=False)
        else:
            data[name] = np.asarray(values, dtype=dtype)
    return pd.DataFrame(data, copy=False)


def _default_array(name: str, dtype: object, n: int) -> np.ndarray:
    default = DEFAULTS[name]
    if dtype == "Int64":
        return np.ma.MaskedArray(np.zeros(n, dtype=np.int64), mask=np.ones(n, dtype=bool))
    if isinstance(dtype, pd.CategoricalDtype):
        return np.full(n, dtype.categories.get_loc(default), dtype=np.int8)
    return np.full(n, default, dtype=dtype)


def _shared(strings: list[str]) -> list[str]:
    """The same strings, equal ones as one object (a parser makes a new one for each line)."""
    first: dict[str, str] = {}
    return [first.setdefault(text, text) for text in strings]


def _exact_ints(values: list) -> pd.api.extensions.ExtensionArray:
    """One by one; a counter too large for 64 bits (``Iteration 99999999999999999999``) is missing."""
    return pd.array([v if v is None or -2**63 <= v < 2**63 else None for v in values], dtype="Int64")


def _nullable_ints(values: list) -> pd.api.extensions.ExtensionArray:
    """A list of ints and Nones as an ``Int64`` array (the common cases without a per-item pass)."""
    missing = values.count(None)
    if missing == len(values):
        return pd.arrays.IntegerArray(np.zeros(len(values), dtype=np.int64), np.ones(len(values), dtype=bool))
    if missing == 0:
        try:
            return pd.arrays.IntegerArray(np.asarray(values, dtype=np.int64), np.zeros(len(values), dtype=bool))
        except (OverflowError, TypeError, ValueError):
            return _exact_ints(values)
    try:
        floats = np.asarray(values, dtype=np.float64)  # None becomes nan
    except (OverflowError, TypeError, ValueError):
        return _exact_ints(values)
    mask = np.isnan(floats)
    if np.abs(floats[~mask]).max(initial=0) >= 2**53:  # beyond what a float holds exactly
        return _exact_ints(values)
    return pd.arrays.IntegerArray(np.where(mask, 0, floats).astype(np.int64), mask)


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate tables keeping the schema (categoricals stay categorical)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_table()
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    out = pd.concat(frames, ignore_index=True)
    for name, dtype in SCHEMA.items():
        if isinstance(dtype, pd.CategoricalDtype) and out[name].dtype != dtype:
            out[name] = out[name].astype(dtype)
    return out


SERIES_KEY = ["segment", "phase", "name", "output", "net", "layer", "blob"]


def series_codes(frame: pd.DataFrame) -> np.ndarray:
    """One integer per row naming its series (its ``SERIES_KEY``; a missing key part is a value too)."""
    if not len(frame):
        return np.zeros(0, dtype=np.int64)
    # Key parts missing on every row (layer and blob without debug_info) tell no series apart.
    keys = [name for name in SERIES_KEY if name in ("segment", "phase", "name") or frame[name].notna().any()]
    return frame.groupby(keys, dropna=False, sort=False, observed=True).ngroup().to_numpy()


def compact(frame: pd.DataFrame, budget: int) -> tuple[pd.DataFrame, int]:
    """Bound the size of a long table to about ``budget`` values, shared among its series: per
    series keep the first values (a tenth of its share) and the last (half of it), and of the
    values between, the one nearest the median of each bucket (the level the series had there;
    extremes of a long-gone past are noise to the rules).

    Notes and the first non-finite values of each series are always kept: they are what the rules
    look for.  Also returns
    the horizon: the first line from which every series is still complete.
    """
    metric = (frame["kind"] == "metric").to_numpy()
    group = series_codes(frame)
    share = max(budget // max(int(group.max()) + 1 if len(group) else 1, 1), 100)
    head, tail, buckets = share // 10, share // 2, share // 5
    position = pd.Series(group).groupby(group).cumcount().to_numpy()
    size = np.bincount(group)[group]
    values = frame["value"].to_numpy()
    bad = ~np.isfinite(values)
    first_bad = np.zeros(len(frame), dtype=bool)  # the first non-finite values of each series
    if bad.any():
        rank = pd.Series(group[bad]).groupby(group[bad]).cumcount().to_numpy()
        first_bad[np.flatnonzero(bad)[rank < head]] = True
    keep = ~metric | first_bad | (position < head) | (position >= size - tail)
    middle = ~keep
    lines = frame["line"].to_numpy()
    horizon = int(lines[middle].max()) + 1 if middle.any() else 0
    if middle.any():
        span = np.maximum(size - head - tail, 1)
        bucket = (position - head) * buckets // span
        middle &= ~bad
        sub = pd.DataFrame({"g": group[middle], "b": bucket[middle], "v": values[middle],
                            "i": np.flatnonzero(middle)})
        sub["d"] = (sub["v"] - sub.groupby(["g", "b"], sort=False)["v"].transform("median")).abs()
        nearest = sub.groupby(["g", "b"], sort=False)["d"].idxmin().to_numpy()
        keep[sub["i"].to_numpy()[nearest]] = True
    return frame[keep].reset_index(drop=True), horizon
