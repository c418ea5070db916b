"""What every parser shares: the row builder, strict number conversion, the parser contract.

A parser is a module-level object with ``name``, ``samples`` (lines it must
parse; detection is tested against them), ``sniff(head) -> int`` (a score: how
sure it is that the head of an input is its format; 0 = not mine) and
``start() -> LineParser``.  The line parser holds the cross-line state of one
input (current iteration, epoch, open parameter block) and turns each
:class:`~logdoctor.sources.Block` into a :class:`Batch`.
"""

from __future__ import annotations

import importlib
import math
import os
from dataclasses import dataclass, field
from types import ModuleType
from typing import Protocol

import numpy as np
import regex

from logdoctor import table
from logdoctor.sources import Block
from logdoctor.table import PHASES

# Capture loosely, convert strictly: a value token is whatever stands there; to_float
# decides.  Besides what float() reads (nan, -nan, inf, Infinity, 1e+400), these are the
# spellings of non-finite numbers found in logs (MSVC's runtime, glibc's nan(...)).
_SPECIAL = {
    "1.#qnan": math.nan, "1.#snan": math.nan, "1.#ind": math.nan, "1.#inf": math.inf,
    "nan(ind)": math.nan, "nan(snan)": math.nan, "nan(qnan)": math.nan,
}
_WINDOWS_NAN = regex.compile(r"(?i)^([-+]?)(1\.#(?:qnan|snan|ind|inf)\w*|nan\(\w*\))$")


def to_float(token: str, rescue: regex.Pattern | None = None) -> float | None:
    """The number a log printed, non-finite spellings included; None if it is not one.

    ``rescue`` reads a token a format prints oddly: when the token is no number, the number is
    what the pattern matches at its start (its first group, if it has one).
    """
    value = _number(token)
    if value is None and rescue is not None:
        m = rescue.match(token)
        if m:
            value = _number(m.group(1) if m.re.groups else m.group(0))
    return value


def _number(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        pass
    token = token.strip().strip("'\"")
    try:
        return float(token)
    except ValueError:
        pass
    match = _WINDOWS_NAN.match(token)
    if match:
        sign, body = match.groups()
        body = body.lower()
        value = _SPECIAL.get(body, math.inf if body.startswith("1.#inf") else math.nan)
        return -value if sign == "-" else value
    if token.lower() in ("infinity", "+infinity"):
        return math.inf
    if token.lower() == "-infinity":
        return -math.inf
    return None


class Rows:
    """Column lists being filled by a parser; ``add`` appends one row."""

    __slots__ = ("columns",)

    NAMES = ("line", "seconds", "epoch", "step", "phase", "kind", "name", "value", "text",
             "output", "net", "weight", "layer", "blob", "span")

    def __init__(self) -> None:
        self.columns: dict[str, list] = {name: [] for name in self.NAMES}

    def __len__(self) -> int:
        return len(self.columns["line"])

    def add(self, line, name, value, *, phase="train", step=None, epoch=None, seconds=math.nan,
            kind="metric", text="", output=None, net=None, weight=math.nan, layer=None, blob=None, span=None):
        c = self.columns
        c["line"].append(line)
        c["seconds"].append(seconds)
        c["epoch"].append(epoch)
        c["step"].append(step)
        c["phase"].append(phase)
        c["kind"].append(kind)
        c["name"].append(name)
        c["value"].append(value)
        c["text"].append(text)
        c["output"].append(output)
        c["net"].append(net)
        c["weight"].append(weight)
        c["layer"].append(layer)
        c["blob"].append(blob)
        c["span"].append(span)

    DEFAULTS = dict(phase="train", step=None, epoch=None, seconds=math.nan, kind="metric", text="", output=None,
                    net=None, weight=math.nan, layer=None, blob=None, span=None)

    def add_columns(self, n: int, **columns) -> None:
        """Append ``n`` rows at once; each column is a list of ``n`` values, or one value for all rows."""
        for name, values in self.columns.items():
            given = columns.get(name, self.DEFAULTS.get(name))
            values.extend(given if isinstance(given, list) else [given] * n)

    def note(self, line, name, text, *, value=math.nan, **where):
        """A row that records a message or a setting rather than a measured value."""
        self.add(line, name, value, kind="note", text=text, **where)

    def extend(self, other: "Rows") -> None:
        for name, values in other.columns.items():
            self.columns[name].extend(values)


@dataclass
class Batch:
    """What a parser made of one block: rows, and the logical lines it did not know.

    A parser that reads lines in bulk hands those rows over as ``columns`` (arrays, in the order
    of their lines; see :func:`logdoctor.table.frame_from_columns`); ``rows`` has its other rows.
    """

    rows: Rows
    unknown: list[int] = field(default_factory=list)
    columns: dict | None = None

    def __len__(self) -> int:
        return len(self.rows) + (len(self.columns["line"]) if self.columns else 0)

    def lines(self) -> np.ndarray:
        """The line of every row (of ``rows``, then of ``columns``)."""
        if self.columns and not len(self.rows):  # (a bulk reader's block: its rows' lines as they are)
            return np.asarray(self.columns["line"], dtype=np.int64)
        lines = np.asarray(self.rows.columns["line"], dtype=np.int64)
        return np.concatenate([lines, self.columns["line"]]) if self.columns else lines


def feed_lines(block: Block, handle) -> Batch:
    """The usual block loop: ``handle(text, line, rows) -> bool`` for each logical line, in order;
    the lines it returns False for are the ones this parser does not know."""
    rows = Rows()
    unknown: list[int] = []
    for index, text in enumerate(block.lines):
        if not handle(text, block.line_of(index), rows):
            unknown.append(index)
    return Batch(rows, unknown)


class LineParser(Protocol):
    def feed(self, block: Block) -> Batch: ...

    def close(self) -> Batch: ...


class Parser(Protocol):
    name: str
    description: str
    samples: tuple[str, ...]

    def sniff(self, head: list[str]) -> int: ...

    def start(self) -> LineParser: ...


# -- bar states read in bulk, as arrays --------------------------------------------------------
# (Keras' and Lightning's parsers read their bars so.)

# A redrawn bar makes a million rows: as Python lists they cost more to become the table than to read,
# so the states read in bulk go to the table as arrays (see base.Batch).  The columns they fill (the
# others take their defaults); the nullable integer ones travel as (data, missing) until the end.
BULK_COLUMNS = ("line", "epoch", "step", "span", "phase", "name", "value")
NULLABLE = ("epoch", "step", "span")
# The table keeps integers up to 2**63 (larger ones are missing): states that count near that are read
# one at a time, so that the same rule applies to them.
INT_LIMIT = 1 << 62


def compiled(module: str) -> ModuleType | None:
    """The C module ``logdoctor.parsers.<module>``; None when it was not built (no C compiler at install) or
    ``LOGDOCTOR_PURE_PYTHON`` is set (to compare both paths, or to rule the C one out)."""
    if os.environ.get("LOGDOCTOR_PURE_PYTHON"):
        return None
    try:
        return importlib.import_module(f"logdoctor.parsers.{module}")
    except ImportError:
        return None


def floats(columns: list[list[str]]) -> np.ndarray:
    """The tokens as float() reads them (ValueError when it does not), one column per list."""
    values = np.empty((len(columns[0]), len(columns)))
    for j, column in enumerate(columns):
        values[:, j] = np.fromiter(map(float, column), dtype=np.float64, count=len(column))
    return values


def all_floats(tokens) -> bool:
    """Whether float() reads every token."""
    try:
        list(map(float, tokens))
    except ValueError:
        return False
    return True


def first_true(flags, default: int) -> int:
    """Index of the first true flag, else ``default``."""
    flags = list(flags)
    return flags.index(True) if True in flags else default


class BulkRows:
    """Rows of bar states read in bulk, as arrays, and where they go among the rows read one by one.

    A piece is what :meth:`add` was given; ``batch`` puts the pieces and the rows read one by one in the
    order they were read (many rows share the physical line of a redrawn bar: their order is kept).
    """

    __slots__ = ("pieces", "names", "layouts")

    def __init__(self) -> None:
        self.pieces: list[tuple[int, dict]] = []   # (rows read one by one before it, its columns)
        self.names: dict[str, int] = {}            # name -> its code in the ``name`` column
        self.layouts: dict[tuple, tuple[np.ndarray, ...]] = {}   # see _layout

    def add(self, position: int, lines: np.ndarray, epoch: int, steps: np.ndarray | None,
            spans: np.ndarray | None, phases: list[str], names: list[str], values: np.ndarray) -> None:
        """The rows of states showing the same metrics, after the first ``position`` rows read one by one:
        ``values[state, metric]``; per state its line, step and span (None: missing); the span only on
        training metrics (what Keras averages since the epoch began)."""
        states, width = values.shape
        n = states * width
        phase_codes, name_codes, not_train = self._layout(phases, names)
        self.pieces.append((position, dict(
            line=np.repeat(lines, width),
            epoch=(np.full(n, epoch, dtype=np.int64), np.zeros(n, dtype=bool)),
            step=(np.repeat(steps, width), np.zeros(n, dtype=bool)) if steps is not None else _missing(n),
            span=(np.repeat(spans, width), _tiled(not_train, states)) if spans is not None else _missing(n),
            phase=_tiled(phase_codes, states),
            name=_tiled(name_codes, states),
            value=values.reshape(-1),   # state by state, metric by metric: the order the rows are read
        )))

    def _layout(self, phases: list[str], names: list[str]) -> tuple[np.ndarray, ...]:
        """Per metric: its phase's code, its name's code, and whether it is no training metric."""
        key = (tuple(phases), tuple(names))
        layout = self.layouts.get(key)
        if layout is None:
            layout = self.layouts[key] = (
                np.array([PHASES.index(phase) for phase in phases], dtype=np.int8),
                np.array([self.names.setdefault(name, len(self.names)) for name in names], dtype=np.int64),
                np.array([phase != "train" for phase in phases]))
        return layout

    def batch(self, rows: Rows, unknown: list[int]) -> Batch:
        """The block's rows: ``rows`` as they are when nothing was read in bulk, else all of them as arrays."""
        if not self.pieces:
            return Batch(rows, unknown)
        listed, texts = self._listed(rows)
        columns = {column: self._joined(column, listed, len(rows)) for column in listed or BULK_COLUMNS}
        if columns["span"].mask.all():   # Lightning's (the default costs the table nothing to make)
            del columns["span"]
        columns["name"] = (columns["name"], list(self.names))
        if "text" in columns:
            columns["text"] = (columns["text"], texts)
        return Batch(Rows(), unknown, columns)

    def _joined(self, column: str, listed: dict, count: int):
        """One column of the rows read one by one (``count``) and of the pieces, in the order they were read."""
        parts, at = [], 0
        for position, piece in self.pieces:
            if position > at:
                parts.append(_part(listed[column], at, position))
                at = position
            parts.append(piece[column] if column in piece else _defaults(column, len(piece["line"])))
        if at < count:
            parts.append(_part(listed[column], at, count))
        if isinstance(parts[0], tuple):
            return np.ma.MaskedArray(np.concatenate([data for data, _ in parts]),
                                     mask=np.concatenate([missing for _, missing in parts]))
        return np.concatenate(parts)

    def _listed(self, rows: Rows) -> tuple[dict, list[str]]:
        """The rows read one by one in the pieces' form (converted as the table converts lists); their
        notes add the columns ``kind`` and ``text`` (the codes of texts: the list returned, where "", the
        pieces' text, is the first; see _defaults)."""
        if not len(rows):
            return {}, []
        arrays = table.as_arrays(rows.columns)
        notes = "note" in rows.columns["kind"]
        listed = {column: arrays[column] for column in BULK_COLUMNS + (("kind",) if notes else ())}
        texts: list[str] = []
        if notes:
            text = arrays["text"]
            codes = {"": 0}
            remap = np.array([codes.setdefault(label, len(codes)) for label in text.labels] + [-1], dtype=np.int64)
            listed["text"], texts = remap[text.codes], list(codes)  # (-1 picks the last: missing stays missing)
        for column in NULLABLE:
            listed[column] = (arrays[column].data, np.ma.getmaskarray(arrays[column]))
        names = arrays["name"]
        remap = np.array([self.names.setdefault(name, len(self.names)) for name in names.labels], dtype=np.int64)
        listed["name"] = remap[names.codes]
        return listed, texts


def _defaults(column: str, n: int) -> np.ndarray:
    """``kind`` and ``text`` of metric rows (the text "" has code 0)."""
    return np.zeros(n, dtype=np.int8 if column == "kind" else np.int64)


def _tiled(pattern: np.ndarray, states: int) -> np.ndarray:
    """``pattern`` once per state (what np.tile does, without its cost on small arrays)."""
    return np.repeat(pattern[None, :], states, axis=0).reshape(-1)


def _missing(n: int) -> tuple[np.ndarray, np.ndarray]:
    """A nullable integer column missing on all of its ``n`` rows."""
    return np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)


def _part(values, start: int, end: int):
    """Rows ``start:end`` of a column (nullable ones are (data, missing))."""
    if isinstance(values, tuple):
        return values[0][start:end], values[1][start:end]
    return values[start:end]
