"""Keras: the console output of ``model.fit`` / ``evaluate`` (Keras 0.x to 3, standalone and tf.keras).

What Keras prints (``keras/utils/generic_utils.py`` / ``progbar.py``, ``callbacks.py``):

* epoch headers ``Epoch 3/40`` (Keras 0.1: ``Epoch 3``); tf.keras 2 and Keras 3 print none when
  ``epochs=1``; Keras 2 with arrays first prints ``Train on 60000 samples, validate on 10000 samples``;
* ``verbose=1`` progress bars, redrawn with ``\\b``/``\\r`` on one line (a new line per update when
  not on a terminal); every drawn state is ``count/target`` (samples in Keras 1/2 with arrays,
  batches otherwise), a bar, a time, then the running averages ``- name: value``:

  - Keras 1/2: `` 13/285 [>....] - ETA: 5s - loss: 3.9622 - acc: 0.0577`` then the end of the
    epoch ``285/285 [=====] - 6s 22ms/step - loss: 2.5736 - acc: 0.4192 - val_loss: … - val_acc: …``
    (Keras 2.0 and older: ``- 6s - loss``; TF 2.0/2.1: ``50us/sample``; ``12/Unknown - 3s 250ms/step``);
  - Keras 3: ``476/477 ━━━━━━━━━━━━━━━━━━━━ 0s 76ms/step - accuracy: 0.92 - loss: 0.27`` (ANSI colour
    removed by the source; the ETA has no ``ETA:`` word), ``1/Unknown 0s 17ms/step - …``;

* ``verbose=2`` one line per epoch: Keras 1 ``67s - loss: … - acc: …``; Keras 2 `` - 60s - loss: …``;
  tf.keras ``19/19 - 12s - loss: …`` (2.6+: ``… - 354ms/epoch - 3ms/step`` at the end); Keras 3
  ``16/16 - 0s - 4ms/step - loss: …``;
* callback messages, as notes: TerminateOnNaN ``Batch 13: Invalid loss, terminating training`` (often
  glued to the bar state it interrupts), ModelCheckpoint ``Epoch 00005: val_loss improved from 0.7 to
  0.6, saving model to …`` / ``… did not improve from …`` / ``saving model to …``, ReduceLROnPlateau
  ``Epoch 00008: ReduceLROnPlateau reducing learning rate to 0.0001.`` (also an ``lr`` row),
  LearningRateScheduler ``… setting learning rate to …``, EarlyStopping ``Epoch 00012: early stopping``
  and ``Restoring model weights from the end of the best epoch: 7.`` (Keras 3 drops the zero padding);
* chatter that carries no value: ``model.summary()`` tables, ``Using TensorFlow backend.``,
  ``Found 20000 images belonging to 2 classes.``, bars without metrics (``predict``), and the stubs a
  bar leaves when backspaces erase it before the ``\\r`` (`` 2/1`` after `` 2/10 [===>…``).

Rows: ``val_x`` is phase ``val``, name ``x``; ``acc``/``accuracy`` → ``accuracy``, ``lr``/``learning_rate``
→ ``lr``; other names as printed.  ``epoch`` is the number Keras prints; ``step`` counts batches since
the start of the run (converted from samples with the batch size, the count of the first drawn state).
A bar that starts after an epoch has ended with no new header is ``evaluate``: phase ``test``, at the
last epoch and step.  A redrawn line yields one row set per distinct step; its final state adds
the ``val_*`` values.
"""

from __future__ import annotations

import math
import re
from itertools import chain, repeat
from operator import eq, ge

import numpy as np
import regex

from logdoctor.parsers.base import INT_LIMIT, Batch, BulkRows, Rows, all_floats, compiled, first_true, floats, to_float
from logdoctor.sources import Block
from logdoctor.table import DEFAULTS

name = "keras"
description = "Keras fit/evaluate progress bars and callbacks (Keras 0.x-3, tf.keras)"
samples = (
    "Train on 60000 samples, validate on 10000 samples",
    "Epoch 1/30",
    "  256/60000 [..............................] - ETA: 15:09 - loss: 15.3769 - acc: 0.0312",
    "60000/60000 [==============================] - 5s 90us/step - loss: 11.0351 - acc: 0.3140"
    " - val_loss: 10.0068 - val_acc: 0.3785",
    "Epoch 2/30",
    " 13/285 [>.............................] - ETA: 5s - loss: 3.9622 - acc: 0.0577",
    "285/285 [==============================] - 6s 22ms/step - loss: 2.5736 - acc: 0.4192"
    " - val_loss: 1.3943 - val_acc: 0.6647",
    "Epoch 00003: ReduceLROnPlateau reducing learning rate to 0.00010000000474974513.",
    "Epoch 3/30",
    "67s - loss: 2.4808 - acc: 0.2275 - val_loss: 2.1192 - val_acc: 0.4365",
    "Epoch 4/30",
    " - 60s - loss: 1.2737 - acc: 0.4937 - precision: 0.2479 - recall: 0.9915",
    "Epoch 5/30",
    "128/128 - 0s - loss: 3.0934 - accuracy: 0.2043 - 354ms/epoch - 3ms/step",
    "Epoch 6/30",
    "476/477 ━━━━━━━━━━━━━━━━━━━━ 0s 76ms/step - accuracy: 0.9206 - loss: nan",
    "Batch 12: Invalid loss, terminating training",
    "477/477 ━━━━━━━━━━━━━━━━━━━━ 70s 108ms/step - accuracy: 0.9480 - loss: nan - val_accuracy: 0.4327"
    " - val_loss: nan - learning_rate: 0.0010",
    "Epoch 6: val_accuracy improved from 0.43269 to 0.51442, saving model to best.keras",
    "Epoch 7/30",
    "16/16 - 0s - 4ms/step - loss: inf - mae: 2824887.0000 - val_loss: inf - val_mae: inf",
    "Epoch 7: early stopping",
    "Restoring model weights from the end of the best epoch: 6.",
)

# -- line shapes ------------------------------------------------------------------------------

# Every progress state and verbose=2 line: optional count and bar, a time (ETA or elapsed, maybe
# per step), the "- name: value" pairs (a value is one token, or a printed array), then
# tf.keras >= 2.6's "- 354ms/epoch - 3ms/step".  On a bar redrawn a million times this is the hot
# path: the stdlib engine runs it several times faster than the ``regex`` module's captures.
PROGRESS = re.compile(
    r"[ \t]*(?:(?P<cur>\d+)/(?P<target>\d+|Unknown)[ \t]*(?P<bar>\[[=>.]*\]|━+)?"
    r"|(?=-[ \t]*\d+s[ \t]+-|\d+s[ \t]+-[ \t]))"
    r"(?:[ \t]*-?[ \t]*(?:ETA:[ \t]*)?(?P<time>\d+(?::\d\d){0,2}s?)"
    r"(?:[ \t]+(?:-[ \t]+)?\d+(?:\.\d+)?(?:us|ms|s)/(?P<unit>step|sample))?)?"
    r"(?P<metrics>(?:[ \t]+-[ \t]+[^\s:]+:[ \t]+(?:\[[^\]]*\]|\S+))*)"
    r"(?:[ \t]+-[ \t]+\d+(?:\.\d+)?(?:us|ms|s)/(?:epoch|step|sample))*"
)
METRIC = re.compile(r"-[ \t]+([^\s:]+):[ \t]+(\[[^\]]*\]|\S+)")
# "Epoch 3/40" (Keras 0.1: "Epoch 3") or a callback message about an epoch ("Epoch 00003: …").
EPOCH = regex.compile(r"[ \t]*Epoch (?P<epoch>\d+)(?:(?:/(?P<epochs>\d+))?[ \t]*$|: (?P<msg>.*))")
CALLBACK = regex.compile(
    r"(?P<improved>\S+ improved from \S+ to (?P<new>[^\s,]+), saving model to .+)"
    r"|(?P<not_improved>\S+ did not improve(?: from \S+)?)"
    r"|(?P<saving>saving model to .+)"
    r"|(?P<saved>finished saving model to .+)"
    r"|(?P<early>early stopping.*)"
    r"|(?P<reduce>(?:ReduceLROnPlateau )?reducing learning rate to (?P<lr>\S+?)\.?[ \t]*$)"
    r"|(?P<schedule>LearningRateScheduler setting learning rate to (?P<lr2>\S+?)\.?[ \t]*$)"
)
NAN_TERMINATED = regex.compile(r"Batch (?P<batch>\d+): Invalid loss, terminating training")
OTHER = regex.compile(
    r"[ \t]*(?:"
    r"(?P<nan>Batch (?P<batch>\d+): Invalid loss, terminating training)"
    r"|(?P<restore>Restoring model weights from the end of the best epoch(?:: (?P<best>\d+))?\.?)"
    r"|(?P<train_on>Train on \d+ samples(?:, validate on \d+ samples)?)"
    r"|(?P<chatter>Using \w+ backend\.?|Found \d+ (?:images|files) belonging to \d+ classes\."
    r"|Using \d+ files for (?:training|validation)\.)"
    r"|(?P<summary_start>(?:.*\s)?Model: \"[^\"]*\"|_{20,})"
    r")[ \t]*$"
)
# Lines of a model.summary() table (Keras 1/2 plain text, Keras 3 box drawing).
SUMMARY = regex.compile(
    r"[ \t]*(?:[_=]{10,}|[┏┃┡│├└┗].*|Layer \(type\).*|\S+ \(.*|"
    r"(?:Total|Trainable|Non-trainable|Optimizer) params: .*)[ \t]*$"
    r"|[ \t]{20,}\S.*$"
)
SUMMARY_END = "Non-trainable params:"
SUMMARY_TAIL = regex.compile(r"[ \t]*(?:_{10,}|Optimizer params: .*)[ \t]*$")
# A count that starts a bar state ("  13/285", "     12/Unknown").
COUNT = re.compile(r"[ \t]*\d+/(?:\d+|Unknown)")
# Keras formats every average as %.4f or %.4e; text glued to the last value is cut off after it.
KERAS_NUMBER = regex.compile(r"[-+]?(?:\d+\.\d{4}(?:e[-+]\d+)?|nan|inf)")

native = compiled("_bar_scan")  # the states of a redrawn bar read in C

NAMES = {"acc": "accuracy", "accuracy": "accuracy", "lr": "lr", "learning_rate": "lr"}


# The states that make up a redrawn bar, read in bulk (see ``KerasLineParser._bulk``): Keras 1/2
# `` 82/1724 [>....] - ETA: 1:15 - loss: 2.4862 - acc: 0.1028`` and Keras 3 ``3/477 ━━━━ 1:23 176ms/step
# - loss: 2.1``, with given metric names, maybe padded with blanks.  Each part
# is a narrower PROGRESS part, and the shape holds the whole line, so PROGRESS reads these lines the same
# way (and leaves only the padding).
HOT_STATE = r" *(\d+)/(\d+)(?: \[[=>.]*\] - ETA: | ━+ )\d+(?::\d\d){0,2}s?(?: \d+(?:\.\d+)?(?:us|ms|s)/step)?"
HOT_VALUE = r"([^\s\[]\S*)"  # PROGRESS reads a value that starts with "[" as a printed array
HOT_KEY = re.compile(r"[A-Za-z_][^\s:]*")  # a name that cannot be read as a time per step
_hot_shapes: dict[tuple[str, ...], re.Pattern | None] = {}


def _hot_shape(keys: tuple[str, ...]) -> re.Pattern | None:
    """The pattern of a bar state showing ``keys`` (see :meth:`Block.run_of`); None when they do not fit."""
    shape = _hot_shapes.get(keys, False)
    if shape is False:
        if len(_hot_shapes) > 256:
            _hot_shapes.clear()
        metrics = "".join(f" - {re.escape(key)}: {HOT_VALUE}" for key in keys)
        fits = all(HOT_KEY.fullmatch(key) for key in keys)
        shape = _hot_shapes[keys] = re.compile(f"^(?:{HOT_STATE}{metrics} *|.*)$", re.M) if fits else None
    return shape


def hot_states(block: Block, index: int, keys: tuple[str, ...],
               divisor: int) -> tuple[int, int, int, np.ndarray, np.ndarray]:
    """The bar states showing ``keys`` from line ``index`` on, with values float() reads, up to the epoch's
    final state and to a state at the step (``ceil(count / divisor)``) of the one before, passing over what
    backspaces left of a state (:func:`redraw_prefix`): how many states, how many lines were read, where the
    last state is (from ``index``), their (count, target, physical line) and their values, one row per
    state (see ``_bar_scan.c``)."""
    if native is None:
        return _hot_states_python(block, index, keys, divisor)
    count, consumed, last, numbers, values = native.keras_states(block.text, block.offset(index), keys, divisor,
                                                                 block.physical, block.first, index)
    return (count, consumed, last, np.frombuffer(numbers, dtype=np.int64).reshape(count, 3),
            np.frombuffer(values).reshape(count, len(keys)))


def _hot_states_python(block: Block, index: int, keys: tuple[str, ...],
                       divisor: int) -> tuple[int, int, int, np.ndarray, np.ndarray]:
    """:func:`hot_states` read with ``_hot_shape`` (the reference: the C scanner reads a subset of it)."""
    shape = _hot_shape(keys)
    columns: list[list[str]] = [[] for _ in range(shape.groups)] if shape is not None else []
    offsets: list[int] = []   # where each state is, from ``index``
    at = index
    while shape is not None:
        run = block.run_of(shape, at)
        if not run:
            break
        for column, found in zip(columns, run):
            column += found
        offsets += range(at - index, at - index + len(run[0]))
        at += len(run[0])
        if not redraw_prefix(block, at):
            break
        at += 1
    if not offsets:
        return 0, 0, 0, np.empty((0, 3), dtype=np.int64), np.empty((0, len(keys)))
    curs, targets = list(map(int, columns[0])), list(map(int, columns[1]))
    ticks = curs if divisor == 1 else [-(-cur // divisor) for cur in curs]
    count = min(first_true(map(eq, curs, targets), len(curs)),
                first_true(map(eq, ticks[1:], ticks), len(curs) - 1) + 1)
    # Up to a number int64 cannot hold (read state by state).
    count = first_true(map(ge, map(max, curs[:count], targets), repeat(INT_LIMIT)), count)
    try:
        values = floats([column[:count] for column in columns[2:]])
    except ValueError:   # up to the first state with a value float() does not read: it makes a note
        count = next(k for k in range(count) if not all_floats(column[k] for column in columns[2:]))
        values = floats([column[:count] for column in columns[2:]])
    if not count:
        return 0, 0, 0, np.empty((0, 3), dtype=np.int64), np.empty((0, len(keys)))
    last = offsets[count - 1]
    lines = [block.line_of(index + offset) for offset in offsets[:count]]
    numbers = np.array([curs[:count], targets[:count], lines], dtype=np.int64).T.reshape(count, 3)
    return count, last + 1 + redraw_prefix(block, index + last + 1), last, numbers, values


def redraw_prefix(block: Block, at: int) -> bool:
    """Whether line ``at`` is what backspaces that erase the bar state on the line before left of it (" 2/1",
    "16"; see :meth:`KerasLineParser._line`): digits, slashes and blanks that begin that state, on its
    physical line.  It makes no row."""
    if not 0 < at < len(block.lines):
        return False
    text = block.lines[at]
    kept = text.rstrip(" ")
    return (bool(kept) and text[:1] in " 0123456789" and not text.strip("0123456789/ ")
            and block.lines[at - 1].startswith(kept) and block.line_of(at) == block.line_of(at - 1))


def _series(key: str) -> tuple[str, str]:
    """Phase and normalised name of a metric as Keras prints it."""
    phase = "train"
    if key.startswith("val_"):
        phase, key = "val", key[4:]
    return phase, NAMES.get(key, key)


def _layout(keys: tuple[str, ...], test: bool) -> tuple[list[str], list[str]]:
    """Phases and names of the metrics of a state (evaluate() prints no ``val_``: phase test)."""
    phases, names = [], []
    for key in keys:
        phase, metric = _series(key)
        phases.append("test" if test and phase == "train" else phase)
        names.append(metric)
    return phases, names


class _Columns:
    """The rows of one block, kept as one record per drawn state and turned into columns at the end.

    A redrawn bar can draw a million states: one ``append`` per state here, and the expansion into
    columns runs in C (``chain``/``repeat``), where ``Rows.add`` per value would dominate the parse.
    States read in bulk go to :class:`BulkRows` as arrays (:meth:`bulk`).  Keras prints no clock and none
    of Caffe's fields: those columns get their defaults.
    """

    __slots__ = ("states", "notes", "count", "spans", "done", "read_in_bulk")
    FILLED = ("line", "epoch", "step", "phase", "name", "value", "kind", "text", "span")

    def __init__(self) -> None:
        # (line, epoch, step, phases, names, values) with phases/names/values of equal length.
        self.states: list[tuple] = []
        self.notes: list[tuple[int, str]] = []   # (row index, text) of the rows that are notes
        self.spans: list[tuple[int, int, tuple]] = []  # (row index, span, phases) of running means
        self.count = 0   # rows so far, of those not read in bulk (the row indices above count these only)
        self.done: dict[str, list] = {name: [] for name in ("line", "epoch", "step", "phase", "name", "value")}
        self.read_in_bulk = BulkRows()

    def metrics(self, line: int, epoch, step, phases, names, values, span: int | None = None) -> None:
        if span is not None:
            self.spans.append((self.count, span, phases))
        self.states.append((line, epoch, step, phases, names, values))
        self.count += len(names)

    def note(self, line: int, name: str, text: str, *, value: float = math.nan, epoch=None, step=None,
             phase: str = "train") -> None:
        self.notes.append((self.count, text))
        self.metrics(line, epoch, step, (phase,), (name,), (value,))

    def bulk(self, lines: np.ndarray, epoch: int, steps: np.ndarray | None, spans: np.ndarray | None,
             phases, names, values: np.ndarray) -> None:
        """The rows of states read in bulk, after the rows so far (see :meth:`BulkRows.add`; the spans are
        the running means' batches)."""
        self.read_in_bulk.add(self.count, lines, epoch, steps, spans, phases, names, values)

    def batch(self, unknown: list[int]) -> Batch:
        return self.read_in_bulk.batch(self.rows(), unknown)

    def _expand(self) -> None:
        """The state records so far as columns."""
        states, self.states = self.states, []
        if not states:
            return
        # one list per field (zip(*states) is slower on a million states)
        lines, epochs, steps, phases, names, values = ([state[i] for state in states] for i in range(6))
        widths = list(map(len, names))
        done = self.done
        done["line"] += chain.from_iterable(map(repeat, lines, widths))
        done["epoch"] += chain.from_iterable(map(repeat, epochs, widths))
        done["step"] += chain.from_iterable(map(repeat, steps, widths))
        done["phase"] += chain.from_iterable(phases)
        done["name"] += chain.from_iterable(names)
        done["value"] += chain.from_iterable(values)

    def rows(self) -> Rows:
        rows = Rows()
        count = self.count
        if not count:
            return rows
        self._expand()
        kind, text = ["metric"] * count, [""] * count
        for index, message in self.notes:
            kind[index], text[index] = "note", message
        span = [None] * count
        for index, batches, state_phases in self.spans:
            # Progbar shows training metrics as means since the epoch began; validation values are not.
            for offset, phase in enumerate(state_phases):
                if phase == "train":
                    span[index + offset] = batches
        rows.columns.update(self.done, kind=kind, text=text, span=span)
        for column in Rows.NAMES:
            if column not in self.FILLED:
                rows.columns[column] = [DEFAULTS[column]] * count
        return rows


class KerasLineParser:
    """Reads one Keras console log; the epoch, the step count and the bar being drawn live here."""

    def __init__(self) -> None:
        self.epoch: int | None = None       # as printed
        self.finished = False               # the current epoch's final state was drawn
        self.base: int | None = 0           # batches in the finished epochs of this run (None: unknown)
        self.drawn = False                  # a training state of the current epoch was drawn
        self.in_epoch: int | None = None    # batches into the current epoch (None: unknown)
        self.epoch_batches: int | None = None
        self.previous_batches: int | None = None   # length of the previous epoch of this run
        self.previous: tuple[int, str] = (0, "")   # (physical line, text) of the last logical line seen
        self.samples: bool | None = None    # counts are samples (Keras 1/2 fit on arrays)
        self.batch_size: int | None = None
        self.run_start = False              # "Train on …" seen: the next header starts a run
        self.testing = False                # the bar being drawn is evaluate()
        self.bar_count: int | None = None
        self.bar_target: int | None = None
        self.in_summary = ""               # in a model.summary(): "table", then "tail"
        self.layouts: dict[tuple, tuple[list[str], list[str]]] = {}   # metric keys -> phases, names
        self.bar_keys: tuple[str, ...] | None = None   # the metrics the last training state showed
        # Redraws of one line repeat states: what was emitted for (line, test, epoch, step).
        self.emitted_key: tuple | None = None
        self.emitted: tuple | dict[str, str] = {}

    # -- the block loop -------------------------------------------------------------
    def feed(self, block: Block) -> Batch:
        cols = _Columns()
        unknown: list[int] = []
        lines = block.lines
        index = 0
        while index < len(lines):
            read = self._bulk(block, index, cols) if self.bar_keys is not None else 0
            if read:
                index += read
                continue
            text = lines[index]
            if not self._line(text, index, block, cols):
                unknown.append(index)
            self.previous = (block.line_of(index), text)
            index += 1
        return cols.batch(unknown)

    def close(self) -> Batch:
        return Batch(Rows())

    def _line(self, text: str, index: int, block: Block, cols: _Columns) -> bool:
        """Handle one logical line; False when it is not Keras output."""
        if "/" in text or "s - " in text:
            m = PROGRESS.match(text)
            if m is not None and self._progress(m, block.line_of(index), cols):
                self.in_summary = ""
                return True
        if "Epoch" in text:
            m = EPOCH.match(text)
            if m is not None and self._epoch_line(m, block.line_of(index), cols):
                self.in_summary = ""
                return True
        if not text.strip():
            return True   # blank, also between the rows of a tf.keras >= 2.9 summary
        m = OTHER.match(text)
        if m is not None:
            self._other(m, block.line_of(index), cols)
            return True
        if self.in_summary and (SUMMARY if self.in_summary == "table" else SUMMARY_TAIL).match(text):
            if SUMMARY_END in text:
                self.in_summary = "tail"
            return True
        self.in_summary = ""
        # Backspaces that erase a bar state before the "\r" leave its first characters as a state
        # of their own (" 2/1", "16/32 ━━━ 0s 19ms/step -"): a prefix of the state before, on one line
        # (``redraw_prefix`` is the narrower test of the bulk reading).
        line, previous = self.previous
        return (text[:1] in " 0123456789" and line == block.line_of(index) and previous.startswith(text.rstrip())
                and COUNT.match(previous) is not None)

    # -- progress bars and verbose=2 lines ------------------------------------------------
    def _progress(self, m, line: int, cols: _Columns) -> bool:
        """A drawn bar state or a verbose=2 line; False when the match is not Keras after all."""
        cur_text, target_text, bar, clock, unit, metrics = m.group("cur", "target", "bar", "time", "unit",
                                                                  "metrics")
        # Whatever follows is blank, or another writer's text glued to the last value.
        rest = m.string[m.end():]
        if not metrics:
            # A bar without metrics (predict, or an update before the first batch ended).
            if cur_text is None or rest.strip() or not (bar or clock):
                return False
            self._track_bar(int(cur_text), target_text)
            return True
        keys, tokens = zip(*METRIC.findall(metrics))
        if cur_text is None:
            cur = target = None
        else:
            cur = int(cur_text)
            target = None if target_text == "Unknown" else int(target_text)
        new_bar = self._track_bar(cur, target_text)
        if new_bar and (self.finished or self.testing):
            self.testing = True
        elif self.epoch is None:
            # tf.keras 2 and Keras 3 print no header when fit() runs a single epoch.
            self._start_epoch(1, new_run=True)
        final = cur is None or cur == target
        if self.testing:
            if final:
                self._emit(cols, line, keys, tokens, self._step_now(), test=True)
        else:
            self.bar_keys = keys
            step = self._train_state(cur, target, unit, bar is not None and bar[0] == "[")
            if final:
                self.finished = True
            self._emit(cols, line, keys, tokens, step, span=self.in_epoch if cur is not None else None)
        if "Invalid loss" in rest:
            # TerminateOnNaN prints without a newline first, right after the state it interrupts.
            glued = NAN_TERMINATED.search(m.string)
            if glued:
                self._nan_terminated(int(glued.group("batch")), glued.group(0), line, cols)
        return True

    def _bulk(self, block: Block, index: int, cols: _Columns) -> int:
        """Read the states of the bar being drawn from ``index`` on in bulk; how many lines were read (0: none).

        What :meth:`_progress` and :meth:`_emit` do with each, for the states that come between the
        first and the final one of an epoch's bar, each at a step of its own, showing the metrics of
        the training state before (``bar_keys``) in the shape ``_hot_shape`` knows, with values
        float() reads; and what :meth:`_line` does with what backspaces left of a state (:func:`redraw_prefix`).
        """
        if self.testing or self.finished or self.epoch is None or not self.drawn:
            return 0
        keys = self.bar_keys
        shape = _hot_shape(keys)
        if shape is None or self.epoch >= INT_LIMIT:
            return 0
        # The batches are known unless the bar counts samples and the batch size is not known.
        counted = not self.samples or bool(self.batch_size)
        # The step of a state is ``offset + ticks[k]``: the run's batch count when it is known, else (to tell
        # the steps apart only) the bar's count.
        known = self.base is not None and counted
        count, consumed, last, numbers, values = hot_states(block, index, keys,
                                                            self.batch_size if known and self.samples else 1)
        if not count:
            return 0
        curs, targets, lines = numbers[:, 0], numbers[:, 1], numbers[:, 2]
        batches = curs if not self.samples else (-(-curs // self.batch_size) if counted else None)
        ticks, offset = (batches, self.base) if known else (curs, 0)
        if (int(lines[0]), False, self.epoch, offset + int(ticks[0])) == self.emitted_key:
            return 0
        if offset + int(ticks.max()) >= INT_LIMIT:
            return 0
        phases, names = self._layout(keys, test=False)
        steps = ticks + offset if known else None
        cols.bulk(lines, self.epoch, steps, batches if counted else None, phases, names, values)
        self.bar_count, self.bar_target = int(curs[-1]), int(targets[-1])
        self.in_epoch, self.epoch_batches = self._batches(self.bar_count), self._batches(self.bar_target)
        self.emitted_key = (int(lines[-1]), False, self.epoch, offset + int(ticks[-1]))
        self.emitted = (keys, shape.match(block.lines[index + last]).groups()[2:])
        self.previous = (block.line_of(index + consumed - 1), block.lines[index + consumed - 1])
        self.in_summary = ""
        return consumed

    def _track_bar(self, cur: int | None, target_text: str | None) -> bool:
        """Follow the bar being drawn; True when this state starts a new one."""
        target = None if target_text is None or target_text == "Unknown" else int(target_text)
        new = (cur is None or self.bar_count is None or cur < self.bar_count
               or (target != self.bar_target and self.bar_target is not None))
        self.bar_count, self.bar_target = cur, target
        return new

    def _train_state(self, cur: int | None, target: int | None, unit: str | None,
                     ascii_bar: bool) -> int | None:
        """The run's batch count at this training state; learns the counting unit on the way."""
        if unit == "sample":
            self.samples = True
        if not self.drawn and cur is not None and target is not None and 0 < cur < target and ascii_bar:
            # Progbar always draws its first update, made after one batch: a first count above
            # one counts samples, and it is the batch size.  (Keras 3 and tf.keras >= 2.2 count
            # batches; a log that lost its first states shows a late count, not a batch size.)
            if self.samples is None:
                self.samples = 1 < cur <= target // 2
            if self.samples and self.batch_size is None:
                self.batch_size = cur
        self.drawn = True
        if cur is None:
            self.in_epoch = self.epoch_batches
        else:
            self.in_epoch = self._batches(cur)
            if target is not None:
                self.epoch_batches = self._batches(target)
        return self._step_now()

    def _batches(self, count: int) -> int | None:
        """A printed count in batches (None: samples, and the batch size is not known)."""
        if not self.samples:
            return count
        if self.batch_size:
            return -(-count // self.batch_size)
        return None

    def _step_now(self) -> int | None:
        """The run's batch count at the last drawn state (None when it cannot be known)."""
        if self.base is None:
            return None
        if not self.drawn:
            return self.base
        return None if self.in_epoch is None else self.base + self.in_epoch

    def _step_at_end(self, epoch: int) -> int | None:
        """The step at which printed epoch ``epoch`` ends (callbacks speak of whole epochs).

        With verbose=2 the callbacks print before the epoch's line, when only the previous
        epoch's length is known; Keras runs the same number of batches every epoch.
        """
        if epoch != self.epoch:
            return self._step_now()
        batches = self.epoch_batches if self.epoch_batches is not None else self.previous_batches
        if self.base is None or batches is None:
            return None
        return self.base + batches

    def _emit(self, cols: _Columns, line: int, keys: tuple[str, ...], tokens: tuple[str, ...],
              step: int | None, test: bool = False, span: int | None = None) -> None:
        """Rows for one drawn state, less what an earlier state of the same line and step gave."""
        key = (line, test, self.epoch, step if step is not None else self.bar_count)
        if key != self.emitted_key:
            self.emitted_key = key
            self.emitted = (keys, tokens)
        else:
            emitted = self.emitted
            if not isinstance(emitted, dict):   # the second state of this step: remember by name
                emitted = self.emitted = dict(zip(*emitted))
            fresh = [i for i, (k, token) in enumerate(zip(keys, tokens)) if emitted.get(k) != token]
            if not fresh:
                return
            keys = tuple(keys[i] for i in fresh)
            tokens = tuple(tokens[i] for i in fresh)
            emitted.update(zip(keys, tokens))
        phases, names = self._layout(keys, test)
        try:
            values = list(map(float, tokens))
        except ValueError:
            for phase, metric, token in zip(phases, names, tokens):
                value = to_float(token, rescue=KERAS_NUMBER)
                if value is None:
                    cols.note(line, metric, f"unreadable value {token!r}", phase=phase, epoch=self.epoch,
                              step=step)
                else:
                    cols.metrics(line, self.epoch, step, (phase,), (metric,), (value,), span)
            return
        cols.metrics(line, self.epoch, step, phases, names, values, span)

    def _layout(self, keys: tuple[str, ...], test: bool) -> tuple[list[str], list[str]]:
        layout = self.layouts.get((test, keys))
        if layout is None:
            layout = self.layouts[(test, keys)] = _layout(keys, test)
        return layout

    # -- epoch headers and callback messages ------------------------------------------------
    def _epoch_line(self, m, line: int, cols: _Columns) -> bool:
        """An epoch header, or a callback message about an epoch; False for other "Epoch N: …" text."""
        epoch = int(m.group("epoch"))
        message = m.group("msg")
        if message is None:
            new_run = self.run_start or (self.epoch is not None and epoch <= self.epoch)
            self._start_epoch(epoch, new_run)
            return True
        c = CALLBACK.match(message)
        if c is None:
            return False
        kind = c.lastgroup
        where = dict(epoch=epoch, step=self._step_at_end(epoch))
        text = m.group(0).strip()
        if kind == "improved":
            best = to_float(c.group("new"), rescue=KERAS_NUMBER)
            cols.note(line, "checkpoint", text, value=math.nan if best is None else best, **where)
        elif kind == "saving":
            cols.note(line, "checkpoint", text, **where)
        elif kind == "not_improved":
            cols.note(line, "checkpoint_skipped", text, **where)
        elif kind == "early":
            cols.note(line, "early_stopping", text, **where)
        elif kind in ("reduce", "schedule"):
            token = c.group("lr") if kind == "reduce" else c.group("lr2")
            cols.note(line, "reduce_lr" if kind == "reduce" else "lr_schedule", text, **where)
            value = to_float(token, rescue=KERAS_NUMBER)
            if value is None:
                cols.note(line, "lr", f"unreadable value {token!r}", **where)
            else:
                cols.metrics(line, epoch, where["step"], ("train",), ("lr",), (value,))
        return True   # "finished saving model" carries nothing new

    def _start_epoch(self, epoch: int, new_run: bool) -> None:
        """Close the current epoch (its batches join the run's count) and open ``epoch``."""
        if new_run:
            self.base = 0
            self.previous_batches = None
            if not self.run_start:
                self.samples = None
                self.batch_size = None
        elif self.epoch is not None:
            done = (self.epoch_batches if self.finished else self.in_epoch) if self.drawn else 0
            self.previous_batches = done or None
            self.base = None if done is None or self.base is None else self.base + done
        self.run_start = False
        self.epoch = epoch
        self.finished = False
        self.testing = False
        self.drawn = False
        self.in_epoch = None
        self.epoch_batches = None
        self.bar_count = self.bar_target = None

    def _nan_terminated(self, batch: int, text: str, line: int, cols: _Columns) -> None:
        """TerminateOnNaN's note; it counts batches from 0 within the epoch."""
        step = None if self.base is None else self.base + batch + 1
        cols.note(line, "nan_terminated", text.strip(), epoch=self.epoch, step=step)

    def _other(self, m, line: int, cols: _Columns) -> None:
        """The rarer lines: TerminateOnNaN and EarlyStopping messages, "Train on …", chatter."""
        kind = m.lastgroup
        if kind == "nan":
            self._nan_terminated(int(m.group("batch")), m.group("nan"), line, cols)
        elif kind == "restore":
            best = m.group("best")
            cols.note(line, "early_stopping", m.group("restore"), value=float(best) if best else math.nan,
                      epoch=self.epoch, step=self._step_now())
        elif kind == "train_on":
            self.run_start = True
            self.samples = True
            self.batch_size = None
        elif kind == "summary_start":
            self.in_summary = "table"


def sniff(head: list[str]) -> int:
    """Keras when epoch headers, progress bars or callback messages appear in the head."""
    score = 0
    for text in head:
        if "Epoch" in text:
            m = EPOCH.match(text)
            if m is not None:
                if m.group("msg") is None:
                    score += 3 if m.group("epochs") else 1
                elif CALLBACK.match(m.group("msg")):
                    score += 3
                continue
        if "/" in text or "s - " in text:
            m = PROGRESS.match(text)
            if m is not None and (m.group("bar") or m.group("time")) and (
                    m.group("metrics") or not text[m.end():].strip()):
                score += 3
                continue
        if "Train on" in text or "Invalid loss" in text or "Restoring model weights" in text:
            if OTHER.match(text):
                score += 3
    return score


def start() -> KerasLineParser:
    return KerasLineParser()
