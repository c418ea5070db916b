"""The run as rules see it: series of values per segment, settings, notes, and small numeric helpers.

A rule never looks at the raw table layout; it asks the :class:`Run` for series
("the training loss of each run segment", "every accuracy", "the solver
settings") and gets plain arrays.  Nothing here knows which framework printed
the values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Callable, Iterator, NamedTuple

import numpy as np

from logdoctor import table as tables
from logdoctor.table import METRIC, NOTE, PHASES, Grouping, series_grouping

if TYPE_CHECKING:  # (pandas is imported when a rule asks for the table as a DataFrame: see Run.table)
    import pandas as pd

# Preferred names of "the loss" of a phase, best first (Caffe's smoothed display loss and
# Keras/HF "loss" first, Lightning's per-step and per-epoch variants next).
LOSS_NAMES = ("loss", "loss_step", "loss_epoch", "total_loss", "train_loss")
ACCURACY_NAMES = ("accuracy", "acc", "top1", "top-1", "accuracy_top1", "acc1", "top1_acc", "mean_token_accuracy")


class Columns:
    """The columns of a run's table (in array form) as numpy arrays, for series to take their rows from.  A
    column is converted once per run, when a series first asks for it."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        self._floats: dict[str, np.ndarray | None] = {}

    def ints(self, name: str, rows: np.ndarray) -> np.ndarray:
        return self.arrays[name][rows]

    def floats(self, name: str, rows: np.ndarray) -> np.ndarray:
        """A nullable integer column at ``rows`` as float64, NaN where missing."""
        if name not in self._floats:
            column = self.arrays[name]
            missing = np.ma.getmaskarray(column)
            self._floats[name] = None if missing.all() else np.where(missing, np.nan, column.data)
        column = self._floats[name]
        if column is None:  # missing everywhere (epochs and spans in Caffe logs): no copy of a million NaN
            return np.broadcast_to(np.nan, len(rows))
        return column[rows]

    def int_at(self, name: str, row: int) -> int | None:
        """One cell of a nullable integer column as an int, or None where missing; through a float, as
        :meth:`floats` has it (a counter beyond 2**53 rounds alike)."""
        column = self.arrays[name]
        return None if _missing_at(column, row) else int(float(column.data[row]))


class Note(NamedTuple):
    """A note of the table (a message or a setting the log printed)."""

    name: str
    text: str
    line: int
    step: int | None
    epoch: int | None
    value: float


@dataclass(frozen=True)
class Series:
    """One metric in one run segment, in log order."""

    segment: int
    phase: str
    name: str
    output: int | None
    layer: str | None
    blob: str | None
    rows: np.ndarray       # row positions in the run's table: the order of values within one physical line
    printed: np.ndarray    # the values as the log printed them
    spans: np.ndarray      # float64: steps a printed value averaged (NaN: one step, or not known)
    columns: Columns = field(repr=False)  # the run's table, where the arrays below are taken from

    # The arrays below are worked out when first asked for: most series never need all of their lines,
    # steps or epochs, and on a long run each is a copy of a million rows.
    @cached_property
    def values(self) -> np.ndarray:
        """Per step: running means (see ``spans``) are turned back into the steps' values."""
        return from_running_means(self.printed, self.spans, self.epochs) if self.running_means else self.printed

    @cached_property
    def lines(self) -> np.ndarray:
        return self.columns.ints("line", self.rows)

    @cached_property
    def steps(self) -> np.ndarray:
        """float64, NaN where the log gave no step."""
        return self.columns.floats("step", self.rows)

    @cached_property
    def epochs(self) -> np.ndarray:
        """float64, NaN where the log gave no epoch."""
        return self.columns.floats("epoch", self.rows)

    @cached_property
    def running_means(self) -> bool:
        """Whether some printed values are running means (a progress bar's)."""
        return not np.isnan(self.spans).all()

    def __len__(self) -> int:
        return len(self.printed)

    @property
    def label(self) -> str:
        """How a person would name this series: ``loss``, ``test loss``, ``loss_reg (#1)``."""
        text = self.name if self.phase == "train" else f"{self.phase} {self.name}"
        if self.output is not None:
            text += f" (#{self.output})"
        return text

    def settled(self) -> np.ndarray:
        """Indices of values that stand for a whole evaluation: all of them, except that of a
        running mean only the last of each epoch (the epoch's mean) counts."""
        return self._settled

    @cached_property
    def _settled(self) -> np.ndarray:  # (several rules ask; read-only, as it is shared)
        if not self.running_means:
            index = np.arange(len(self.printed))
        else:
            last_of_epoch = np.append(self.epochs[1:] != self.epochs[:-1], True)
            index = np.flatnonzero(np.isnan(self.spans) | last_of_epoch)
        index.flags.writeable = False
        return index

    def settled_values(self) -> tuple[np.ndarray, np.ndarray]:
        """The settled indices and the values printed there (epoch means for running means)."""
        index = self.settled()
        if len(index) == len(self.printed):  # all of them (most series): the values themselves, not a copy
            values = self.printed.view()
            values.flags.writeable = False
            return index, values
        return index, self.printed[index]

    # The place of one value: one cell of the table each, not the series' whole column.
    def line(self, i: int) -> int:
        return int(self.columns.ints("line", self.rows[i]))

    def step(self, i: int) -> int | None:
        return self.columns.int_at("step", int(self.rows[i]))

    def epoch(self, i: int) -> int | None:
        return self.columns.int_at("epoch", int(self.rows[i]))

    def where(self, i: int) -> str:
        """``iteration 4,200`` / ``epoch 3`` / ``line 88``: the place of value ``i`` in words."""
        if self.step(i) is not None:
            return f"step {self.step(i):,}"
        if self.epoch(i) is not None:
            return f"epoch {self.epoch(i)}"
        return f"line {int(self.lines[i]):,}"


class Run:
    """A parsed log (or the part of a live stream seen so far) as rules see it.

    ``final`` is true once the input has ended: only then may a rule judge things
    that need the whole run (a plateau "over the run").
    """

    def __init__(self, table: pd.DataFrame | None = None, final: bool = True, *,
                 arrays: dict[str, np.ndarray] | None = None) -> None:
        """From a DataFrame, or from the table's columns in array form (what the analyzer keeps: the
        DataFrame is then made only if a rule asks for :attr:`table`)."""
        if arrays is None:
            arrays = tables.arrays_from_frame(table)
        self.arrays = arrays
        self.final = final
        self._frame = table
        self._memo: dict = {}

    def memo(self, key, compute):
        """``compute(self)``, once per run: for results several rules ask for."""
        if key not in self._memo:
            self._memo[key] = compute(self)
        return self._memo[key]

    @property
    def table(self) -> pd.DataFrame:
        """The table as a DataFrame (made when first asked for)."""
        if self._frame is None:
            self._frame = tables.frame_from_arrays(self.arrays)
        return self._frame

    @cached_property
    def metrics(self) -> pd.DataFrame:
        return self.table[self.table["kind"] == "metric"]

    @cached_property
    def groups(self) -> Grouping:
        """The table's rows by series, worked out once per run (the analyzer compacts with it too)."""
        return series_grouping(self.arrays)

    @cached_property
    def columns(self) -> Columns:
        return Columns(self.arrays)

    @cached_property
    def _all_series(self) -> list[Series]:
        arrays, columns = self.arrays, self.columns
        parts = list(self._metric_rows(arrays["kind"] == METRIC))
        if not parts:
            return []
        values = arrays["value"]
        segment, phase, name, output = arrays["segment"], arrays["phase"], arrays["name"], arrays["output"]
        layer, blob = arrays["layer"], arrays["blob"]
        output_missing = np.ma.getmaskarray(output)
        out = []
        for rows in parts:
            first = int(rows[0])
            code = int(phase[first])
            out.append(Series(int(segment[first]), str(PHASES[code] if code >= 0 else None), str(name.label(first)),
                              None if output_missing[first] else int(output.data[first]), layer.label(first),
                              blob.label(first), rows, values[rows], columns.floats("span", rows), columns))
        out.sort(key=lambda s: int(s.rows[0]))
        return out

    def _metric_rows(self, metric: np.ndarray) -> Iterator[np.ndarray]:
        """The metric rows of each series, in log order (series of notes only have none).  Most series
        have no notes: their rows are a slice of the grouping's order, not a copy."""
        order, starts, codes = self.groups.order, self.groups.starts, self.groups.codes
        noted = np.isin(codes[order[starts]], codes[~metric])
        for begin, end, has_notes in zip(starts, np.append(starts[1:], len(order)), noted):
            rows = order[begin:end]
            if has_notes:
                rows = rows[metric[rows]]
            if len(rows):
                yield rows

    def series(self, *, phase: str | None = None, names: tuple[str, ...] | None = None,
               debug: bool = False) -> Iterator[Series]:
        """Every series, optionally of one phase and with one of ``names``; debug_info series only if asked."""
        for s in self._all_series:
            if phase is not None and s.phase != phase:
                continue
            if names is not None and s.name not in names:
                continue
            if s.name.startswith("debug.") != debug:
                continue
            yield s

    def debug_series(self) -> Iterator[Series]:
        return self.series(debug=True)

    def loss(self, phase: str = "train") -> list[Series]:
        """The loss of each segment for ``phase``: one series per segment, the best-named one."""
        best: dict[int, tuple[int, Series]] = {}
        for s in self.series(phase=phase):
            rank = _loss_rank(s)
            if rank is None:
                continue
            current = best.get(s.segment)
            if current is None or (rank, -len(s)) < (current[0], -len(current[1])):
                best[s.segment] = (rank, s)
        return [best[k][1] for k in sorted(best)]

    def accuracy(self) -> list[Series]:
        """Every accuracy-like series (any phase)."""
        return [s for s in self.series() if is_accuracy(s.name)]

    @cached_property
    def settings(self) -> dict[str, tuple[float, str, int]]:
        """Solver settings printed in the log: ``lr_policy`` -> (value, text, line) (first occurrence)."""
        out: dict[str, tuple[float, str, int]] = {}
        for row in self._note_rows(lambda name: name.startswith("solver.")):
            out.setdefault(self.arrays["name"].label(row)[len("solver."):], self._note(row))
        return out

    @cached_property
    def layers(self) -> dict[str, dict[str, tuple[float, str, int]]]:
        """Settings of each layer of the printed net definitions (first occurrence of each)."""
        out: dict[str, dict[str, tuple[float, str, int]]] = {}
        for row in self._note_rows(lambda name: name.startswith("layer.")):
            name = self.arrays["name"].label(row)[len("layer."):]
            out.setdefault(str(self.arrays["layer"].label(row)), {}).setdefault(name, self._note(row))
        return out

    def _note_rows(self, wanted: Callable[[str], bool]) -> list[int]:
        """The rows of the notes whose name is ``wanted``, in log order."""
        names = self.arrays["name"]
        chosen = np.array([wanted(label) for label in names.labels] + [False])  # (-1: missing)
        return self._notes[chosen[names.codes[self._notes]]].tolist()

    @cached_property
    def _notes(self) -> np.ndarray:
        """The rows of every note (a few among a million metric values: the rules' questions about notes look
        only there)."""
        return np.flatnonzero(self.arrays["kind"] == NOTE)

    def _note(self, row: int) -> tuple[float, str, int]:
        return float(self.arrays["value"][row]), str(self.arrays["text"].label(row)), int(self.arrays["line"][row])

    def notes_of(self, *names: str) -> list[Note]:
        """The notes with one of these names, in log order."""
        arrays = self.arrays
        return [Note(arrays["name"].label(row), str(arrays["text"].label(row)), int(arrays["line"][row]),
                     _cell(arrays["step"], row), _cell(arrays["epoch"], row), float(arrays["value"][row]))
                for row in self._note_rows(names.__contains__)]


def _missing_at(column: np.ma.MaskedArray, row: int) -> bool:
    """Whether one cell of a nullable integer column is missing."""
    mask = np.ma.getmask(column)
    return mask is not np.ma.nomask and bool(mask[row])


def _cell(column: np.ma.MaskedArray, row: int) -> int | None:
    """One cell of a nullable integer column: an int, or None where missing."""
    return None if _missing_at(column, row) else int(column.data[row])


def _loss_rank(s: Series) -> int | None:
    if s.name in LOSS_NAMES:
        return LOSS_NAMES.index(s.name) * 2 + (1 if s.output is not None else 0)
    return None


def is_accuracy(name: str) -> bool:
    lowered = name.lower()
    return lowered in ACCURACY_NAMES or lowered.endswith("accuracy") or lowered.endswith("/top-1")


# ---------------------------------------------------------------- numeric helpers

def from_running_means(means: np.ndarray, spans: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    """The value of each interval between two printed running means.

    Keras' progress bar prints, at batch b of an epoch, the mean of batches 1..b.  Its first
    states are single noisy batches and later ones lag: neither is the loss of the moment.
    Between two states at spans a < b of one epoch, the batches a+1..b averaged
    (b·m_b − a·m_a)/(b − a).  A state repeated at the same span repeats the previous value;
    the first state of an epoch, and values with no span, stand as printed.  (So the first value stands
    as printed, and where every mean is finite every value is: rules rely on it.)
    """
    # The arrays from the second state on, and the state before each (views, not copies: on a long run each
    # pass over a million values counts).
    mean, span, previous_mean, previous_span = means[1:], spans[1:], means[:-1], spans[:-1]
    same_epoch = (epochs[1:] == epochs[:-1]) | (np.isnan(epochs[1:]) & np.isnan(epochs[:-1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        interval = (span * mean - previous_span * previous_mean) / (span - previous_span)
    grows = same_epoch & (span > previous_span)
    out = means.copy()
    np.copyto(out[1:], interval, where=grows & np.isfinite(interval))  # nan/inf stay as printed
    # Means that do not add up (rounding over long epochs, states printed out of order) would
    # give impossible values: a negative mean of non-negative numbers stays as printed.
    if np.nanmin(means, initial=0.0) >= 0:
        np.copyto(out, means, where=out < 0)
    repeat = np.concatenate(([False], same_epoch & (span == previous_span)))
    if repeat.any():
        out = forward_filled(np.where(repeat, np.nan, out))
        out = np.where(repeat & ~np.isfinite(means), means, out)
    return out


def forward_filled(values: np.ndarray) -> np.ndarray:
    """Each NaN replaced by the last value before it that is not NaN (pandas' ffill; leading NaN stay)."""
    source = np.where(np.isnan(values), 0, np.arange(len(values)))
    np.maximum.accumulate(source, out=source)
    return values[source]


SORTED_WINDOW = 32   # up to this window, sorting every window (in numpy) beats pandas' rolling median
CHUNK = 1 << 12      # windows at a time: arrays that stay in the cache, whatever the length of the run


def trailing_median(values: np.ndarray, window: int) -> np.ndarray:
    """Median of each value and the ``window - 1`` before it (causal: the future never counts), of its
    finite values (NaN when it has none), as pandas' rolling median has it."""
    head = values[: window - 1]
    finite = np.isfinite(values)
    if (window > SORTED_WINDOW
            or ((head == 0) & np.signbit(head)).any()  # (-0.0 and 0.0: which one pandas' median is, is its own)
            or (not finite.all() and ((values == 0) & np.signbit(values)).any())):
        import pandas as pd

        return pd.Series(values).rolling(window, min_periods=1).median().to_numpy()  # (pandas skips nan/inf)
    if not finite.all() or len(values) < window:
        return _finite_window_medians(np.where(finite, values, np.nan), window)
    # The same numbers as pandas, several times faster on short windows; the first ones are shorter.
    out = np.empty(len(values))
    out[: window - 1] = [_middle(np.sort(head[: k + 1])) for k in range(window - 1)]
    # Without -0.0, a median picked by comparisons is the sorted one to the bit (with it, another zero may be).
    by_comparisons = not (np.signbit(values) & (values == 0)).any()
    for begin in range(0, len(values) - window + 1, CHUNK):
        part = values[begin: begin + CHUNK + window - 1]  # the next CHUNK windows
        out[window - 1 + begin: begin + len(part)] = _window_medians(part, window, by_comparisons)
    return out


def _finite_window_medians(values: np.ndarray, window: int) -> np.ndarray:
    """:func:`trailing_median` of values with NaN (inf made NaN): each window sorted (NaN last), the middle
    of its finite values taken."""
    padded = np.concatenate((np.full(window - 1, np.nan), values))  # the first windows are shorter
    out = np.empty(len(values))
    for begin in range(0, len(values), CHUNK):
        part = padded[begin: begin + CHUNK + window - 1]
        ordered = np.sort(np.lib.stride_tricks.sliding_window_view(part, window), axis=1)
        count = window - np.isnan(ordered).sum(axis=1)
        high = np.take_along_axis(ordered, np.minimum(count // 2, window - 1)[:, None], axis=1)[:, 0]
        low = np.take_along_axis(ordered, np.maximum(count // 2 - 1, 0)[:, None], axis=1)[:, 0]
        with np.errstate(over="ignore"):  # two middle values near the float limit: inf, as in pandas
            middle = (low + high) / 2
        out[begin: begin + len(ordered)] = np.where(count % 2 == 1, high, np.where(count > 0, middle, np.nan))
    return out


def _middle(ordered: np.ndarray) -> float:
    """The median of sorted values as pandas' rolling median has it: the middle one, or the mean of the two."""
    n = len(ordered)
    if n % 2:
        return ordered[n // 2]
    with np.errstate(over="ignore"):  # (as in _finite_window_medians)
        return (ordered[n // 2] + ordered[n // 2 - 1]) / 2


def _window_medians(values: np.ndarray, window: int, by_comparisons: bool) -> np.ndarray:
    """The median of each full window of ``values`` (finite): the middle of each sorted window (the mean of
    the two middle ones for an even window), or if ``by_comparisons`` (no -0.0), for five
    :func:`median_of_five` and for another odd window :func:`_paired_window_medians`."""
    if by_comparisons and window == 5:
        return median_of_five(*(values[k: len(values) - 4 + k] for k in range(5)))
    if by_comparisons and window % 2 and window > 1:
        return _paired_window_medians(values, window)
    ordered = np.sort(np.lib.stride_tricks.sliding_window_view(values, window), axis=1)
    middle = ordered[:, window // 2]
    if window % 2 == 0:
        middle = (middle + ordered[:, window // 2 - 1]) / 2
    return middle


def _paired_window_medians(values: np.ndarray, window: int) -> np.ndarray:
    """The median of each full window of ``values`` (an odd ``window``) with half the sorting: windows 2j and
    2j + 1 share all but one value each, and with the shared ones sorted, the median of each is its other
    value clipped to the two middle shared ones."""
    count = len(values) - window + 1  # windows
    shared = np.sort(np.lib.stride_tricks.sliding_window_view(values[1:], window - 1)[::2], axis=1)
    low, high = shared[:, window // 2 - 1], shared[:, window // 2]
    out = np.empty(count)
    out[0::2] = np.minimum(np.maximum(values[0:count:2], low), high)
    odd = count // 2
    out[1::2] = np.minimum(np.maximum(values[window: window + 2 * odd: 2], low[:odd]), high[:odd])
    return out


def median_of_five(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, e: np.ndarray) -> np.ndarray:
    """The median of five arrays, element by element, in a few passes of min and max (sorting windows of
    five costs more per window than the numbers): the larger of the two pairs' minima and the smaller of
    their maxima each lie on the same side of the median as two of the four, so it is the median of
    those two and ``e``."""
    low = np.maximum(np.minimum(a, b), np.minimum(c, d))
    high = np.minimum(np.maximum(a, b), np.maximum(c, d))
    return np.maximum(np.minimum(low, high), np.minimum(np.maximum(low, high), e))


def expanding_median(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Median of ``values[:i + 1]`` for each ``i`` in ``at``: pandas' expanding median at those places."""
    if int(np.sum(at + 1)) <= 16 * len(values) and np.isfinite(values).all():
        return np.array([np.median(values[: i + 1]) for i in at], dtype=np.float64)  # a few: one each
    import pandas as pd

    return pd.Series(values).expanding().median().to_numpy()[at]


def optional_int(value) -> int | None:
    """A table cell (Int64 / float) as an int, or None where it is missing."""
    import pandas as pd  # (a cell of a DataFrame: pandas is there already)

    return None if pd.isna(value) else int(value)


def fmt(value: float) -> str:
    """A number as a person reads it in a report: 3 significant digits, nan/inf spelt out."""
    if np.isnan(value):
        return "nan"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    magnitude = abs(value)
    if magnitude != 0 and (magnitude >= 1e5 or magnitude < 1e-3):
        return f"{value:.3g}"
    return f"{value:.4g}"
