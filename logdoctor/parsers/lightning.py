"""PyTorch-Lightning: console output of ``Trainer.fit`` / ``test`` (1.x and 2.x), tqdm and Rich bars.

Line shapes read (``sources`` has already split ``\\r``/``\\b`` redraws into one logical line per
drawn state and removed ANSI escapes):

* tqdm main bar ``Epoch 3:  42%|████▏     | 420/1000 [00:10<00:14, 40.1it/s, loss=0.123, v_num=3,
  train_loss_step=0.11]``; the bracket may be cut short (tqdm trims a line to the terminal width,
  so the last ``key=value`` pair of a line without ``]`` is dropped as possibly cut); total ``?``
  when the length is unknown.  Lightning 2.x pads numbers: ``nan.0``, ``inf.0``, ``-inf.``.
* other tqdm bars, recognised without values: ``Validation[ DataLoader k]:``, ``Validating:``,
  ``Sanity Checking[ DataLoader k]:``, ``Validation sanity check:``, ``Training:``,
  ``Testing[ DataLoader k]:``, ``Predicting[ DataLoader k]:``, also as ``0it [00:00, ?it/s]``.
* Rich main bar ``Epoch 0/9 ━━━━ 100/100 0:00:05 • 0:00:00 20.00it/s v_num: 0 train_loss: 0.123``
  (``/9`` only with ``max_epochs``); when Rich wraps the metrics column, the continuation lines
  that follow are indented to that column; output written over the description (wandb's
  terminal emulation) leaves ``<anything> ━━━ n/total …it/s metrics``, read as the current epoch.
* EarlyStopping: ``Metric val_loss improved[ by d >= min_delta = m]. New best score: x``,
  ``Monitored metric val_loss did not improve in the last N records. Best score: x. Signaling
  Trainer to stop.``, ``Monitored metric val_loss = nan is not finite. Previous best value was x.
  …``, ``Stopping threshold reached: …`` and ``Divergence threshold reached: val_loss = v > t. …``.
* ModelCheckpoint: ``Epoch 0, global step 8: 'val_loss' reached 0.43773 (best 0.43773), saving
  model to '…' as top 1``, ``… was not in top k``; ``Restoring states from the checkpoint path at``,
  ``Restored all states from the checkpoint at``, ``Loaded model weights from the checkpoint at``.
* ``\\`Trainer.fit\\` stopped: \\`max_epochs=100\\` reached.``; Lightning 1.x ``terminate_on_nan``:
  ``The loss returned in \\`training_step\\` is nan.`` and ``Detected nan and/or inf values in \\`w\\`.``
* the test/validate results table (Rich box or plain ``Test metric  DataLoader 0`` with ``─``
  rules) and Lightning 1.x ``DATALOADER:0 TEST RESULTS`` followed by a pprint dict.
* banners, recognised without rows: ``GPU/TPU/IPU/HPU available: …``, ``LOCAL_RANK: 0 -
  CUDA_VISIBLE_DEVICES: …``, ``[Global ]seed set to N``, distributed setup, precision, the model
  summary (plain or Rich); Python warnings ``path.py:N: [XWarning: ]text`` become ``warning`` notes.

Messages may carry ``[rank: N]`` or a logging prefix (RichHandler ``[12/09/24 13:59:32] INFO``,
``INFO:lightning.pytorch…:``, hydra ``[time][name][INFO] -``); text glued after a bar (no newline
between them) is read as a message when it is one; a bar showing no values with other text glued
after it is left (whole) to the other parsers.

Numbering.  ``epoch`` is the epoch as printed (0-based).  ``step`` counts training batches in the
run: the previous epochs' batches plus the bar's count.  A finished epoch counts its bar total;
Lightning 1.x advances the main bar through validation too (its total includes the validation
batches), so a main-bar advance drawn right after a validation-bar state is a validation batch and
does not count (at most as many as the validation bar drew).  A log that starts at epoch E > 0
(resumed) starts at E x the epoch's total.  An epoch going back, or the count going back within an
epoch, starts a new run (count restarts).

Which states become rows.  Lightning draws each update twice (first with the old postfix, then
with the new one), so the last state drawn for a step is the one read (a state of another ``v_num``
at the same step is another training's bar written into the same file, and is read too); states at
count 0 only show the previous epoch's values and are skipped, as are sanity-check bars (they carry
no values).
Epoch-level values (phase val/test, names ending ``_epoch``, and training values that first appear
in the full bar at an epoch's end, i.e. logged with ``on_epoch=True`` only) stay on the bar until
replaced: one is written when its printed value changes, right after a drawn validation pass, and
again by the full tqdm bar that ends an epoch (not for validation values when that epoch drew no
validation bar; not for Rich, whose timer may miss the epoch-end render).  A value ``to_float``
cannot read becomes a note (once per change).  ``v_num`` is not a metric.  A held state becomes
rows when the next step is drawn, so rows may come one block (or ``close``) later than their line.

Names: ``train_``/``val_``/``test_`` (also ``valid_``, ``validation_``, ``training_`` and ``/``
forms) prefixes become the phase; ``_step``/``_epoch`` suffixes stay; ``acc`` becomes
``accuracy``; ``lr``, ``learning_rate``, ``lr-Adam`` become ``lr``; Lightning 1.x's running
``loss`` is train ``loss`` (``loss_running`` when the same bar also shows ``train_loss``).
"""

from __future__ import annotations

import math
import re
from itertools import repeat
from operator import ge, lt, ne

import numpy as np
import regex

from logdoctor.parsers.base import INT_LIMIT, Batch, BulkRows, Rows, all_floats, compiled, first_true, floats, to_float
from logdoctor.sources import Block

name = "lightning"
description = "PyTorch-Lightning console output: tqdm and Rich progress bars, callback messages (1.x, 2.x)"
samples = (
    "Epoch 3:  42%|████▏     | 420/1000 [00:10<00:14, 40.1it/s, loss=0.123, v_num=3, train_loss_step=0.11]",
    "Epoch 0:   9%|▊         | 2/23 [00:32<05:40, 16.22s/it, loss=nan, v_num=0]",
    "Validation DataLoader 0:  60%|██████    | 3/5 [00:33<00:22, 11.12s/it]",
    "Sanity Checking DataLoader 0: 100%|██████████| 2/2 [00:00<00:00,  3.28it/s]",
    "Epoch 0/9  ━━━━━━━━━━━━━━━━━━━━ 100/100 0:00:05 • 0:00:00 20.00it/s v_num: 0 train_loss: 0.123",
    "GPU available: True (cuda), used: True",
    "Metric val_loss improved by 0.064 >= min_delta = 0.0. New best score: 0.247",
    "Monitored metric val_loss = nan is not finite. Previous best value was 0.438. Signaling Trainer to stop.",
    "`Trainer.fit` stopped: `max_epochs=100` reached.",
)

# --------------------------------------------------------------------------- line shapes

# tqdm as Lightning configures it: "{desc}: {percent}|{bar}| {n}/{total} [{elapsed}<{remaining},
# {rate}{, postfix}]", or "{desc}: {n}it [{elapsed}, {rate}]" before the total is known.  The bar
# patterns run on every drawn state: stdlib re matches them about twice as fast as regex.
TQDM_BAR = re.compile(
    r"(?:Epoch (?P<epoch>\d+)|(?P<other>Validation(?: DataLoader \d+)?|Validating|Validation sanity check"
    r"|Sanity Checking(?: DataLoader \d+)?|Training|Testing(?: DataLoader \d+)?|Predicting(?: DataLoader \d+)?))"
    r": *(?:(?:\d+%)?\|[^|]*\| *(?P<n>\d+)/(?P<total>\d+|\?)|(?P<count>\d+)it)"
    r" \[[^,\]]*(?:, *[^,\]]*)?(?:, (?P<postfix>[^\]]*))?(?P<closed>\])?"
)
# Rich: "{desc} {bar} {n}/{total} {elapsed} • {remaining} {speed}it/s {metrics}".
RICH_TIME = r"(?:\d+ days?, )?\d+:\d\d:\d\d|-:--:--"
RICH_BAR = re.compile(
    r"(?P<desc>.*?) ?[━╸╺╾╼]+ (?P<n>\d+)/(?P<total>\d+|--) (?:" + RICH_TIME + r") • (?:" + RICH_TIME
    + r") [\d.]+it/s(?P<rest>.*)$"
)
RICH_EPOCH = regex.compile(r"Epoch (?P<epoch>\d+)(?:/\S+)?$")
RICH_OTHER = ("Validation", "Sanity Checking", "Testing", "Predicting", "Training")
# Rich pads its columns; the metrics column is words separated by single spaces.
COLUMN_GAP = regex.compile(r"\s{2,}")

LOG_PREFIX = (
    r"(?:(?:\[[\d/:\-., ]+\] +)?(?:INFO|WARNING|DEBUG|ERROR) +"  # rich.logging.RichHandler
    r"|\[[^\]\n]+\]\[[^\]\n]+\]\[(?:INFO|WARNING|DEBUG|ERROR)\] - "  # hydra
    r"|(?:INFO|WARNING|DEBUG|ERROR):[\w.]+:)?"                   # logging.basicConfig
    r"(?:\[rank: \d+\] )?"
)
VALUE = r"(?:tensor\()?(?P<v>[^\s,()]+)\)?"
MESSAGES = (
    ("improved", r"Metric (?P<monitor>\S+) improved(?: by \S+ >= min_delta = \S+)?\. New best score: " + VALUE),
    ("patience", r"Monitored metric (?P<monitor>\S+) did not improve in the last \d+ records\. Best score: "
     r"(?P<v>[^\s]+?)\. Signaling Trainer to stop\."),
    ("nonfinite", r"Monitored metric (?P<monitor>\S+) = " + VALUE + r" is not finite\."),
    ("threshold", r"(?P<which>Stopping|Divergence) threshold reached: (?P<monitor>\S+) = " + VALUE),
    ("loss_check", r"(?:\w+Error: )?The loss returned in `training_step` is " + VALUE),
    ("param_check", r"(?:\w+Error: )?Detected nan and/or inf values in `[^`]+`"),
    ("saved", r"Epoch (?P<epoch>\d+), (?:global )?step \d+: (?:'?(?P<monitor>[^\s']+)'? reached " + VALUE + r")?"),
    ("restored", r"(?:Restoring states from|Restored all states from|Loaded model weights from) (?:the )?"
     r"checkpoint (?:path |file )?at "),
    ("fit_stopped", r"`?Trainer\.fit`? stopped: "),
    ("results", r"DATALOADER:\d+ (?P<stage>TEST|VALIDATE|VALIDATION) RESULTS"),
    ("warning", r"(?P<path>[^\s:]+\.py):\d+: (?:(?P<category>[A-Z]\w*Warning): )?"),
    ("banner", r"(?:[GTIH]PU available: |LOCAL_RANK: \d+ - |(?:Global s|S)eed set to |(?:I|i)nitializing "
     r"(?:deepspeed )?distributed: |distributed_backend=|All distributed processes registered|Using \S+ "
     r"(?:Automatic Mixed Precision|native|precision)|`Trainer\(.*\)` was configured so|Missing logger folder"
     r"|Auto select gpus: |You are using a CUDA device|SLURM auto-requeueing|Multiprocessing is handled by SLURM"
     r"|Trainer already configured with model summary|(?:FIT |VALIDATE |TEST |PREDICT )?Profiler Report"
     r"|You defined a `validation_step` but have no `val_dataloader`"
     r"|\S+ Tip: |\s*\| Name\s+\| Type|[\d.,]+ ?[KMGT]?\s+(?:Trainable params|Non-trainable params"
     r"|Total params|Total estimated model params size|Modules in (?:train|eval) mode|Total Flops))"),
    # Rich model summary totals; Keras prints the first three the same way, so they do not count in sniff.
    ("summary", r"(?:Trainable params|Non-trainable params|Total params|Total estimated model params size \(MB\)"
     r"|Modules in (?:train|eval) mode|Total FLOPs): "),
)
MESSAGE = regex.compile(
    r"\s*" + LOG_PREFIX + r"(?:" + "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in MESSAGES) + r")"
)
MESSAGE_KINDS = tuple(kind for kind, _ in MESSAGES)
GLUED_MESSAGE = regex.compile(
    r"Metric \S+ improved|Monitored metric |(?:Stopping|Divergence) threshold reached"
    r"|Epoch \d+, (?:global )?step \d+: |`Trainer\.fit` stopped|/\S+\.py:\d+: "
)
VALUE_KINDS = frozenset({"improved", "patience", "nonfinite", "threshold", "loss_check", "saved"})
MONITOR_KINDS = frozenset({"improved", "patience", "nonfinite", "threshold", "saved"})
NOTE_NAMES = {
    "improved": "early_stopping", "patience": "early_stopping", "nonfinite": "early_stopping_nonfinite",
    "threshold": "divergence_threshold", "loss_check": "nonfinite_loss", "param_check": "nonfinite_parameters",
    "saved": "checkpoint", "restored": "checkpoint", "fit_stopped": "fit_stopped", "warning": "warning",
}

# Results tables: Rich box rows and Lightning's plain table (header, "─" rules, "name value" rows).
RESULTS_HEADER = regex.compile(
    r"[┃\s]*(?P<stage>Test|Validate|Runningstage\.(?:testing|validating)) *(?:metric)?\s*(?:┃|DataLoader)"
)
PLAIN_RULE = regex.compile(r"[─-]{20,}\s*$")
SUMMARY_ROW = regex.compile(r"\s*\d+\s+\|")
DICT_PAIR = regex.compile(r"'(?P<key>[^']+)': (?P<v>[^,{}\[\]\s]+)")
PADDED_NONFINITE = regex.compile(r"([-+]?(?:nan|inf))\.0*$")
V_NUM = re.compile(r"(?:^|, )v_num=([^,\s\]]+)")
BOX_START = frozenset("┏┃┡│└├┗╇┣┠┌")
PHASE_PREFIXES = (
    ("train_", "train"), ("training_", "train"), ("val_", "val"), ("valid_", "val"), ("validation_", "val"),
    ("test_", "test"), ("train/", "train"), ("training/", "train"), ("val/", "val"), ("valid/", "val"),
    ("validation/", "val"), ("test/", "test"),
)
native = compiled("_bar_scan")  # the states of a redrawn bar read in C

LR_NAMES = regex.compile(r"lr|learning_rate|lr-\w+")
VALIDATION_BARS = ("Validation", "Validating")


# The main bar's states as tqdm draws them during an epoch, read in bulk (see
# ``LightningLineParser._bulk``): ``Epoch 3:  42%|████▏     | 420/1000 [00:10<00:14, 40.1it/s,
# loss=0.123, v_num=3]`` with given postfix keys, closed, maybe padded with blanks.  Each part is a
# narrower TQDM_BAR part that reads no newline, so TQDM_BAR reads these lines the same way.
HOT_BAR = r"Epoch (\d+): *(?:\d+%)?\|[^|\n]*\| *(\d+)/(\d+) \[[^,\]\n]*, *[^,\]\n]*, "
HOT_VALUE = r"([^\s,\]]+)"
_hot_shapes: dict[tuple[str, ...], re.Pattern] = {}


def _hot_shape(keys: tuple[str, ...]) -> re.Pattern:
    """The pattern of a main-bar state with these postfix keys (see :meth:`Block.run_of`): groups epoch,
    count, total, postfix, then one value per key."""
    shape = _hot_shapes.get(keys)
    if shape is None:
        if len(_hot_shapes) > 256:
            _hot_shapes.clear()
        postfix = ", ".join(f"{re.escape(key)}={HOT_VALUE}" for key in keys)
        shape = _hot_shapes[keys] = re.compile(f"^(?:{HOT_BAR}({postfix})\\] *|.*)$", re.M)
    return shape


def hot_states(block: Block, index: int, keys: tuple[str, ...], shown: tuple[str | None, ...],
               written: tuple[bool, ...], version: int, epoch: int,
               floor: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """The main bar's states showing the postfix ``keys`` from line ``index`` on, in ``epoch``, with counts
    that never go back (the first at least ``floor``), up to a change of a key's value where ``shown`` holds
    the value it must keep, and to a ``written`` key's value float() does not read: how many, their counts,
    the values of the written keys (a row per state), and whether the value of key ``version`` (-1: none)
    differs from the state before (see ``_bar_scan.c``)."""
    if native is None:
        return _hot_states_python(block, index, keys, shown, written, version, epoch, floor)
    count, counts, values, changed = native.tqdm_states(block.text, block.offset(index), keys, shown, written,
                                                        version, epoch, floor)
    return (count, np.frombuffer(counts, dtype=np.int64), np.frombuffer(values).reshape(count, sum(written)),
            np.frombuffer(changed, dtype=bool))


def _hot_states_python(block: Block, index: int, keys: tuple[str, ...], shown: tuple[str | None, ...],
                       written: tuple[bool, ...], version: int, epoch: int,
                       floor: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`hot_states` read with ``_hot_shape`` (the reference: the C scanner reads a subset of it)."""
    columns = block.run_of(_hot_shape(keys), index)  # epoch, count, total, postfix, then a value per key
    columns_written = [column for column, flag in enumerate(written) if flag]
    if not columns:
        return 0, np.empty(0, dtype=np.int64), np.empty((0, len(columns_written))), np.empty(0, dtype=bool)
    counts, tokens = list(map(int, columns[1])), columns[4:]
    count = first_true(map(ne, map(int, columns[0]), repeat(epoch)), len(counts))
    count = first_true(map(lt, counts[:count], [floor, *counts]), count)
    for column, value in enumerate(shown):
        if value is not None:
            count = first_true(map(ne, tokens[column][:count], repeat(value)), count)
    count = first_true(map(ge, counts[:count], repeat(INT_LIMIT)), count)   # (read state by state: not int64)
    try:
        values = floats([tokens[column][:count] for column in columns_written]) if columns_written else None
    except ValueError:   # up to the first state with a value float() does not read: it makes a note
        count = next(k for k in range(count) if not all_floats(tokens[column][k] for column in columns_written))
        values = floats([tokens[column][:count] for column in columns_written])
    if values is None:
        values = np.empty((count, 0))
    versions = tokens[version][:count] if version >= 0 else [None] * count
    changed = np.array([False, *map(ne, versions[1:], versions)][:count], dtype=bool)
    return count, np.array(counts[:count], dtype=np.int64), values, changed


def _postfix_keys(postfix: str) -> tuple[str, ...] | None:
    """The keys of a tqdm postfix ``k=v, k=v`` as :func:`_tqdm_pairs` reads them; None when a part is no such pair."""
    parts = postfix.split(", ")
    keys = tuple(part.partition("=")[0] for part in parts)
    if not all("=" in part for part in parts) or any(not key or key != key.strip() for key in keys):
        return None
    return keys


# --------------------------------------------------------------------------- names and values

def series_of(key: str) -> tuple[str, str] | None:
    """(phase, name) for a progress-bar key; None for ``v_num`` (the logger version, not a metric)."""
    if key == "v_num":
        return None
    phase, base = "train", key
    for prefix, prefix_phase in PHASE_PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            phase, base = prefix_phase, key[len(prefix):]
            break
    if LR_NAMES.fullmatch(base):
        return phase, "lr"
    if base == "acc" or base.startswith("acc_"):
        base = "accuracy" + base[3:]
    return phase, base


class _State:
    """One drawn state of the main (training) bar, held until the next step is drawn."""

    __slots__ = ("line", "epoch", "step", "pairs", "after_validation", "complete", "version")

    def __init__(self, line: int, epoch: int | None, step: int, pairs: list, after_validation: bool,
                 complete: bool, version: str | None) -> None:
        self.line = line
        self.epoch = epoch
        self.step = step
        self.pairs = pairs          # tqdm: [(postfix, closed, line)]; Rich: [(token, line)] of the metrics column
        self.after_validation = after_validation   # a validation pass was drawn just before
        self.complete = complete    # the bar is full: every batch of the epoch is done
        self.version = version      # the bar's v_num: which training process drew it


# --------------------------------------------------------------------------- the line parser

class LightningLineParser:
    """Reads one Lightning log; epoch, step count and the held bar state live here between blocks."""

    def __init__(self) -> None:
        self.epoch: int | None = None
        self.offset = 0              # training batches of the finished epochs of this run
        self.epoch_batches = 0       # training batches counted in the current epoch
        self.last_n = 0              # last count drawn on the main bar in this epoch
        self.total: int | None = None
        self.validation_drawn = False   # a validation bar state since the last main-bar state
        self.validation_in_run = False  # validation bars are visible in this log (tqdm shows them, Rich not)
        self.validation_in_epoch = False
        self.validation_n = 0           # count on the validation bar
        self.validation_credit = 0      # validation batches drawn that a 1.x main bar may still count
        self.pending: _State | None = None
        self.pending_style = ""      # "tqdm" or "rich"
        self.rich_open = False       # the previous line was a Rich main bar (or its wrapped continuation)
        self.rich_target: _State | None = None  # the held state a wrapped Rich line belongs to
        self.shown: dict[str, str] = {}        # epoch-level key -> token last written
        self.unreadable: dict[str, str] = {}   # key -> token last noted as unreadable
        self.series: dict[str, tuple[str, str, bool] | None] = {}   # key -> (phase, name, epoch-level)
        self.epoch_keys: set[str] | None = None  # keys of the last state written in this epoch
        # The table being read: "summary" (model), "box" (a Rich table, kind not known yet),
        # "results"/"plain" (test or validate results, Rich or plain), "rule", "profiler".
        self.table: str | None = None
        self.table_phase = "test"
        self.table_rows = False
        self.dict_phase: str | None = None     # Lightning 1.x "DATALOADER:0 TEST RESULTS" dict
        self.warning_echo = False
        self.bar_postfix: str | None = None    # the postfix of the last closed main-bar tqdm state read

    # -- the block loop -------------------------------------------------------------------
    def feed(self, block: Block) -> Batch:
        rows, bulk = Rows(), BulkRows()
        unknown: list[int] = []
        lines = block.lines
        index = 0
        while index < len(lines):
            read = self._bulk(block, index, rows, bulk) if self.bar_postfix is not None else 0
            if read:
                index += read
                continue
            if not self._line(lines[index], block.line_of(index), rows):
                unknown.append(index)
            index += 1
        return bulk.batch(rows, unknown)

    def close(self) -> Batch:
        rows = Rows()
        self._flush(rows, epoch_end=True)
        return Batch(rows)

    def _line(self, line: str, line_no: int, rows: Rows) -> bool:
        """Read one logical line; False when it is not Lightning's."""
        warning_echo, self.warning_echo = self.warning_echo, False
        if self.rich_open and line.startswith("                    "):
            return self._rich_continuation(line, line_no, rows)
        self.rich_open = False
        if "|" in line or "it [" in line:
            bar = TQDM_BAR.match(line)
            if bar:
                return self._tqdm_bar(bar, line, line_no, rows)
        if "•" in line:
            bar = RICH_BAR.match(line)
            if bar:
                return self._rich_bar(bar, line_no, rows)
        message = MESSAGE.match(line)
        if message:
            self._message(message, line, line_no, rows)
            return True
        if self.table or self.dict_phase or line[:1] in BOX_START or PLAIN_RULE.match(line):
            return self._table_line(line, line_no, rows)
        if warning_echo and line.startswith("  "):
            return True  # Python prints the source line of a warning under it
        return not line.strip()

    # -- tqdm ------------------------------------------------------------------------------
    def _tqdm_bar(self, bar, line: str, line_no: int, rows: Rows) -> bool:
        epoch, other, n, total, count, postfix, closed = bar.groups()
        count = int(n if n is not None else count)
        end = bar.end()
        if epoch is None:
            self._other_bar(other, count, every_pass_drawn=True)
            return self._tail(line[end:], line_no, rows, claimed=False)
        tail = line[end:] if end < len(line) else ""
        if postfix and not closed:
            # A line cut at the terminal width, then a message written after it without a newline.
            glued = GLUED_MESSAGE.search(postfix)
            if glued:
                postfix, tail = postfix[:glued.start()], postfix[glued.start():]
        pairs = [(postfix, closed is not None, line_no)] if postfix else []
        if postfix and closed:
            self.bar_postfix = postfix
        held = self._main_state(int(epoch), count, int(total) if total and total != "?" else None,
                                pairs, "tqdm", line_no, rows)
        if not tail:
            return True
        # A bar that shows no values, with other text glued after it, is left to the other parsers.
        return self._tail(tail, line_no, rows, claimed=held or bool(postfix))

    def _bulk(self, block: Block, index: int, rows: Rows, bulk: BulkRows) -> int:
        """Read the main bar's tqdm states from ``index`` on in bulk into ``bulk``; how many were read (0: none).

        What :meth:`_line` does with each, for the states of the epoch under way, with the postfix keys
        of the last such state read (``bar_postfix``; all of them classified), after no validation
        state, while the count goes on, up to a change of an epoch-level value.  Such a state is
        held until the next step is drawn: the last state of each step becomes rows, and the last
        state read stays held.
        """
        pending = self.pending
        if (self.epoch is None or self.validation_drawn or self.validation_credit
                or (pending is not None and (self.pending_style != "tqdm" or pending.after_validation))):
            return 0
        keys = _postfix_keys(self.bar_postfix)
        if keys is None or any(key not in self.series for key in keys):
            return 0
        shape = _hot_shape(keys)
        first = shape.match(block.lines[index]).groups()   # epoch, count, total, postfix, then a value per key
        floor = max(self.last_n, 1)   # a count that goes back (a new run) or is 0 (a reset before a rename) ends it
        base = self.offset + self.epoch_batches - self.last_n
        if (first[0] is None or int(first[0]) != self.epoch or int(first[1]) < floor
                or max(self.epoch, floor, base + int(first[1])) >= INT_LIMIT):
            return 0
        version = keys.index("v_num") if "v_num" in keys else -1
        if pending is not None and (pending.step, pending.epoch, pending.version) != (
                base + int(first[1]), self.epoch, first[4 + version] if version >= 0 else None):
            self._flush(rows, epoch_end=False)   # the first state is another step: the held one is its last
            pending = None
        # Up to a change of an epoch-level value (its row is written when that state's step is done).
        series = [self.series[key] for key in keys]
        level = [entry is not None and entry[2] for entry in series]
        shown = tuple(self.shown.get(key) if flag else None for key, flag in zip(keys, level))
        if any(flag and value is None for flag, value in zip(level, shown)):
            return 0
        written = tuple(entry is not None and not entry[2] for entry in series)
        count, counts, values, changed = hot_states(block, index, keys, shown, written, version, self.epoch, floor)
        if not count or base + int(counts.max()) >= INT_LIMIT:
            return 0
        steps = counts + base
        # The states drawn last for their step (the next one is at another step, or of another v_num).
        done = np.flatnonzero((steps[1:] != steps[:-1]) | changed[1:])
        end = index + count
        lines = block.physical[index:end] if block.physical is not None else range(block.first + index,
                                                                                    block.first + end)
        if done.size:
            if any(written):
                clash = "loss" in keys and "train_loss" in keys
                kept = [(key, entry) for key, entry, flag in zip(keys, series, written) if flag]
                names = ["loss_running" if clash and key == "loss" else name for key, (_, name, _) in kept]
                phases = [phase for _, (phase, _, _) in kept]
                bulk.add(len(rows), np.array(lines, dtype=np.int64)[done], self.epoch, steps[done], None, phases,
                         names, values[done])
            self.epoch_keys = set(keys)
        last = count - 1
        shown_last = shape.match(block.lines[index + last]).groups()
        pairs = [(shown_last[3], True, lines[last])]
        total, n = int(shown_last[2]), int(counts[last])
        complete = n >= total
        if pending is not None and not done.size:
            pending.line, pending.pairs, pending.complete = lines[last], pairs, complete
        else:
            self.pending = _State(lines[last], self.epoch, int(steps[last]), pairs, False, complete,
                                  shown_last[4 + version] if version >= 0 else None)
            self.pending_style = "tqdm"
        self.total = total
        self.epoch_batches += n - self.last_n
        self.last_n = n
        self.rich_open = self.warning_echo = False
        return count

    def _other_bar(self, description: str, n: int, *, every_pass_drawn: bool) -> None:
        """Validation bars mark a validation pass; sanity-check, test and predict bars carry nothing.

        tqdm draws every validation pass; Rich refreshes on a timer and may show none of a pass.
        """
        if description.startswith(VALIDATION_BARS) and "sanity" not in description:
            self.validation_drawn = True
            if every_pass_drawn:
                self.validation_in_run = self.validation_in_epoch = True
            self.validation_credit += n - self.validation_n if n >= self.validation_n else n
            self.validation_n = n

    def _tail(self, tail: str, line_no: int, rows: Rows, *, claimed: bool) -> bool:
        """Text glued after a bar: a message is read; other text leaves a bar without values to others."""
        text = tail.strip()
        if not text:
            return True
        message = MESSAGE.match(text)
        if message:
            self._message(message, text, line_no, rows)
            return True
        return claimed

    # -- Rich ------------------------------------------------------------------------------
    def _rich_bar(self, bar, line_no: int, rows: Rows) -> bool:
        description = bar.group("desc").strip()
        parts = COLUMN_GAP.split(bar.group("rest").strip(), 1)
        metrics, tail = parts[0], parts[1] if len(parts) > 1 else ""
        if ":" not in metrics:
            metrics, tail = "", " ".join(parts)
        epoch_match = RICH_EPOCH.match(description)
        n = int(bar.group("n"))
        if epoch_match is None and description.startswith(RICH_OTHER):
            self._other_bar(description, n, every_pass_drawn=False)
            return self._tail(tail, line_no, rows, claimed=False)
        if epoch_match is None and not metrics:
            return True  # written over its description and without values: which bar it is is unknown
        epoch = int(epoch_match.group("epoch")) if epoch_match else None
        total = bar.group("total")
        tokens = [(token, line_no) for token in metrics.split()]
        held = self._main_state(epoch, n, int(total) if total != "--" else None, tokens, "rich", line_no, rows)
        self.rich_open = True
        self.rich_target = self.pending if held else None
        return self._tail(tail, line_no, rows, claimed=True)

    def _rich_continuation(self, line: str, line_no: int, rows: Rows) -> bool:
        """A wrapped line of the Rich metrics column belongs to the bar state above it."""
        parts = COLUMN_GAP.split(line.strip(), 1)
        if self.rich_target is not None and self.rich_target is self.pending:
            self.rich_target.pairs.extend((token, line_no) for token in parts[0].split())
        return self._tail(parts[1] if len(parts) > 1 else "", line_no, rows, claimed=True)

    # -- the main bar: epochs, steps, held states ---------------------------------------------
    def _main_state(self, epoch: int | None, n: int, total: int | None, pairs: list, style: str,
                    line_no: int, rows: Rows) -> bool:
        """Account one main-bar state; True when it is held to become rows."""
        after_validation, self.validation_drawn = self.validation_drawn, False
        if epoch is None:
            epoch = self.epoch
        same_epoch = epoch == self.epoch
        if self.epoch is not None and epoch is not None:
            if epoch < self.epoch or (same_epoch and 0 < n < self.last_n):
                self._new_run(rows)
            elif epoch > self.epoch:
                self._flush(rows, epoch_end=True)
                self._next_epoch()
        if self.epoch is None and epoch and total and self.last_n == 0 and self.epoch_batches == 0:
            self.offset = epoch * total  # the log begins mid-run: resumed, or only late states were kept
        self.epoch = epoch
        if total is not None:
            self.total = total
        if n <= self.last_n:
            self.validation_credit = 0
            if n < self.last_n or n == 0:
                return False  # Lightning resets the bar (old postfix still shown) before renaming it
        else:
            advance = n - self.last_n
            # Lightning 1.x advances the main bar through the validation batches too.
            absorbed = min(advance, self.validation_credit) if same_epoch else 0
            self.validation_credit -= absorbed
            self.epoch_batches += advance - absorbed
            self.last_n = n
        step = self.offset + self.epoch_batches
        complete = total is None or n >= total
        version = _version(pairs, style)
        pending = self.pending
        if (pending is not None and pending.step == step and pending.epoch == epoch and self.pending_style == style
                and pending.version == version):
            # A redraw of the held step (Lightning draws each update twice): it replaces the held state.
            # Another v_num at the same step is another process's bar in the same file: its own values.
            pending.line, pending.pairs, pending.complete = line_no, pairs, complete
            pending.after_validation = pending.after_validation or after_validation
            return True
        self._flush(rows, epoch_end=False)
        self.pending = _State(line_no, epoch, step, pairs, after_validation, complete, version)
        self.pending_style = style
        return True

    def _next_epoch(self) -> None:
        """The epoch ended: it counted its bar total, less the validation batches the bar showed."""
        counted_validation = self.last_n - self.epoch_batches
        finished = self.total - counted_validation if self.total else self.epoch_batches
        self.offset += max(finished, self.epoch_batches)
        self.epoch_batches = 0
        self.last_n = 0
        self.total = None
        self.validation_credit = 0
        self.validation_n = 0
        self.validation_in_epoch = False

    def _new_run(self, rows: Rows) -> None:
        self._flush(rows, epoch_end=True)
        self.epoch = None
        self.offset = 0
        self.epoch_batches = 0
        self.last_n = 0
        self.total = None
        self.validation_credit = 0
        self.validation_n = 0
        self.validation_in_run = self.validation_in_epoch = False
        self.shown.clear()
        self.unreadable.clear()

    def _flush(self, rows: Rows, *, epoch_end: bool) -> None:
        """Write the held state: it is the last one drawn for its step (and of its epoch if ``epoch_end``).

        An epoch-level value is written when its printed value changed; a full tqdm bar at the end of
        an epoch writes them all again (the epoch's own values), except validation values in an epoch
        without a visible validation pass (they are the previous pass's, still on display).
        """
        state, self.pending = self.pending, None
        if state is None:
            return
        # Rich redraws on a timer: its last render of an epoch may still show the previous values.
        repeat_train = epoch_end and state.complete and self.pending_style == "tqdm"
        validation_shown = self.validation_in_epoch or not self.validation_in_run
        repeat_val = state.after_validation or (repeat_train and validation_shown)
        if self.pending_style == "rich":
            pairs = _rich_pairs(state.pairs)
        else:
            pairs = _tqdm_pairs(state.pairs)
        keys = [key for key, _, _ in pairs]
        running_loss_clash = "loss" in keys and "train_loss" in keys
        for key, token, line in pairs:
            series = self.series.get(key, False)
            if series is False:
                series = self.series[key] = self._classify(key, state)
            if series is None:
                continue
            phase, series_name, epoch_level = series
            if epoch_level:
                if self.shown.get(key) == token and not (repeat_val if phase == "val" else repeat_train):
                    continue
                self.shown[key] = token
            if key == "loss" and running_loss_clash:
                series_name = "loss_running"
            value = to_float(token, rescue=PADDED_NONFINITE)
            if value is None:
                if self.unreadable.get(key) != token:
                    self.unreadable[key] = token
                    rows.note(line, series_name, f"unreadable value {token!r} for {key}", phase=phase,
                              epoch=state.epoch, step=state.step)
                continue
            rows.add(line, series_name, value, phase=phase, epoch=state.epoch, step=state.step)
        self.epoch_keys = None if epoch_end else set(keys)

    def _classify(self, key: str, state: _State) -> tuple[str, str, bool] | None:
        """(phase, name, epoch-level) of a key, from its name or where it first appears.

        Validation, test and ``*_epoch`` values are epoch-level; so is a training value logged with
        ``on_epoch=True`` only (no suffix): it first appears in the full bar at the end of an epoch
        whose earlier states did not show it.
        """
        series = series_of(key)
        if series is None:
            return None
        phase, series_name = series
        epoch_level = (phase != "train" or series_name.endswith("_epoch")
                       or (state.complete and self.epoch_keys is not None and key not in self.epoch_keys))
        return phase, series_name, epoch_level

    def _step(self) -> int | None:
        return None if self.epoch is None and self.epoch_batches == 0 else self.offset + self.epoch_batches

    # -- messages ---------------------------------------------------------------------------
    def _message(self, m, text: str, line_no: int, rows: Rows) -> None:
        kind = _kind_of(m)
        if kind in ("banner", "summary"):
            self.table = "summary" if "| Name" in text else "profiler" if "Profiler Report" in text else None
            return
        if kind == "results":
            self.dict_phase = "test" if m.group("stage") == "TEST" else "val"
            return
        if kind == "warning":
            self.warning_echo = m.group("category") is not None
        token = m.group("v") if kind in VALUE_KINDS else None
        value = to_float(token, rescue=PADDED_NONFINITE) if token else None
        monitor = m.group("monitor") if kind in MONITOR_KINDS else None
        series = series_of(monitor) if monitor else None
        epoch = int(m.group("epoch")) if kind == "saved" else self.epoch
        rows.note(line_no, NOTE_NAMES[kind], text.strip(), value=math.nan if value is None else value,
                  phase=series[0] if series else "train", epoch=epoch, step=self._step())

    # -- tables -----------------------------------------------------------------------------
    def _table_line(self, line: str, line_no: int, rows: Rows) -> bool:
        """Model summary and results tables (Rich boxes or plain), and the 1.x results dict."""
        stripped = line.strip()
        if self.dict_phase is not None:
            for pair in DICT_PAIR.finditer(line):
                self._table_value(pair.group("key"), pair.group("v"), self.dict_phase, line_no, rows)
            if stripped.endswith("}") or not stripped.startswith(("{", "'")):
                self.dict_phase = None
            return bool(stripped)
        first = stripped[:1]
        if not first:
            return True
        if self.table == "profiler" and (first == "|" or PLAIN_RULE.match(line)):
            return True
        if first in "┏┌":
            self.table, self.table_rows = "box", False
            return True
        if first in "┃":
            header = RESULTS_HEADER.match(stripped)
            if header:
                self.table, self.table_phase = "results", _stage_phase(header.group("stage"))
            elif "Name" in stripped and self.table == "box":
                self.table = "summary"
            return self.table is not None
        if first in "┡╇├┣┠":
            return self.table is not None
        if first in "└┗":
            was_table, self.table = self.table, None
            return was_table is not None
        if first == "│":
            if self.table == "results":
                cells = [cell.strip() for cell in stripped.strip("│").split("│")]
                for cell in cells[1:]:
                    if cell:
                        self._table_value(cells[0], cell, self.table_phase, line_no, rows)
            return self.table is not None
        if PLAIN_RULE.match(line):
            if self.table == "plain" and self.table_rows:
                self.table = None
            elif self.table is None:
                self.table = "rule"  # Lightning's plain results table starts with a rule
            return True
        header = RESULTS_HEADER.match(line)
        if header and "DataLoader" in line:
            self.table, self.table_phase, self.table_rows = "plain", _stage_phase(header.group("stage")), False
            return True
        if self.table == "plain" and stripped:
            cells = stripped.split()
            for cell in cells[1:]:
                self._table_value(cells[0], cell, self.table_phase, line_no, rows)
            self.table_rows = True
            return True
        if self.table == "summary" and SUMMARY_ROW.match(line):
            return True
        self.table = None
        return not stripped

    def _table_value(self, key: str, token: str, phase: str, line_no: int, rows: Rows) -> None:
        series = series_of(key)
        if series is None:
            return
        key_phase, series_name = series
        if key_phase == "train" and not key.startswith(("train", "training")):
            key_phase = phase
        value = to_float(token, rescue=PADDED_NONFINITE)
        if value is None:
            rows.note(line_no, series_name, f"unreadable value {token!r} for {key}", phase=key_phase)
        else:
            rows.add(line_no, series_name, value, phase=key_phase)


def _version(pairs: list, style: str) -> str | None:
    """The ``v_num`` a main-bar state shows (the logger version of the process that drew it), if any."""
    if style == "rich":
        tokens = [token for token, _ in pairs]
        return next((tokens[i + 1] for i in range(len(tokens) - 1) if tokens[i] == "v_num:"), None)
    match = V_NUM.search(pairs[0][0]) if pairs else None
    return match.group(1) if match else None


def _tqdm_pairs(segments: list) -> list[tuple[str, str, int]]:
    """``key=value`` pairs of a tqdm postfix; the last pair of a trimmed line may be cut, so it goes."""
    pairs = []
    for postfix, closed, line in segments:
        parts = postfix.split(", ")
        if not closed:
            parts = parts[:-1]
        for part in parts:
            key, sep, token = part.partition("=")
            if sep:
                pairs.append((key.strip(), token.strip(), line))
    return pairs


def _rich_pairs(tokens: list) -> list[tuple[str, str, int]]:
    """``name: value`` pairs of Rich's metrics column (it may wrap between a name and its value)."""
    pairs = []
    for i in range(len(tokens) - 1):
        token, _ = tokens[i]
        if token.endswith(":") and len(token) > 1 and not tokens[i + 1][0].endswith(":"):
            value, line = tokens[i + 1]
            if not value.endswith("…"):
                pairs.append((token[:-1], value, line))
    return pairs


def _stage_phase(stage: str) -> str:
    return "test" if stage.lower().startswith(("test", "runningstage.test")) else "val"


def _kind_of(m) -> str:
    if m.lastgroup in MESSAGE_KINDS:
        return m.lastgroup
    for kind in MESSAGE_KINDS:
        if m.group(kind) is not None:
            return kind
    raise AssertionError("MESSAGE matched no message kind")


# --------------------------------------------------------------------------- detection

SNIFF_BAR = 5
SNIFF_MESSAGE = 4


def sniff(head: list[str]) -> int:
    """Lightning if its bars or its own messages appear in the head (generic warnings do not count)."""
    score = 0
    for line in head:
        if ("|" in line or "it [" in line) and TQDM_BAR.match(line):
            score += SNIFF_BAR
        elif "•" in line and RICH_BAR.match(line):
            score += SNIFF_BAR
        else:
            message = MESSAGE.match(line)
            if message and _kind_of(message) not in ("warning", "summary"):
                score += SNIFF_MESSAGE
    return score


def start() -> LightningLineParser:
    return LightningLineParser()
