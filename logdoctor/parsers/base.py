"""What every parser shares: the row builder, strict number conversion, the parser contract.

A parser is a module-level object with ``name``, ``samples`` (lines it must
parse; detection is tested against them), ``sniff(head) -> int`` (a score: how
sure it is that the head of an input is its format; 0 = not mine) and
``start() -> LineParser``.  The line parser holds the cross-line state of one
input (current iteration, epoch, open parameter block) and turns each
:class:`~logdoctor.sources.Block` into a :class:`Batch`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import regex

from logdoctor.sources import Block

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

    def lines(self) -> list:
        """The line of every row (of ``rows``, then of ``columns``)."""
        lines = self.rows.columns["line"]
        return lines + self.columns["line"].tolist() if self.columns else lines


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
