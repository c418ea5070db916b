"""HuggingFace Trainer console output (transformers ``Trainer`` and its subclasses: TRL, LLaMA-Factory, …).

What the Trainer prints (``trainer.py`` ``log()``, ``trainer_callback.py`` ``ProgressCallback`` and
``PrinterCallback`` ``on_log``), read anywhere in a line (also glued to a tqdm state or after a
``[rank0]:`` or logging prefix):

* train log dicts ``{'loss': 0.6931, 'grad_norm': 1.2, 'learning_rate': 5e-05, 'epoch': 0.01}``,
  the ``str()`` of a Python dict: values are floats, bare ``nan``/``inf`` (not Python literal
  syntax), strings holding numbers (``'loss': '3.412'``, transformers 5 / TRL), or wrappers such as
  ``np.float64(0.85)`` and ``tensor(1.2, device='cuda:0')``.  ``learning_rate`` becomes ``lr``,
  ``loss`` stays ``loss``, every other key is kept as printed;
* eval dicts ``{'eval_loss': 0.43, 'eval_accuracy': 0.81, …, 'epoch': 1.0}``: phase ``val`` with the
  ``eval_`` prefix stripped (``test_``/``predict_`` keys: phase ``test``);
* the final dict ``{'train_runtime': …, 'train_samples_per_second': …, 'train_loss': 0.127, 'epoch': 3.0}``:
  one note ``summary`` holding the dict, its value the ``train_loss`` (a run average: it must not look
  like a training step);
* ``***** train metrics *****`` / ``***** eval metrics *****`` blocks of ``  key = value`` lines written by
  ``Trainer.log_metrics`` (train: ``summary`` notes; eval/test: metrics);
* tqdm states of the training bar ``  5%|▌         | 10/200 [00:10<03:10,  1.00it/s]``: the bar's ``n``
  is the global step (``on_step_end`` updates it before ``on_log`` writes the dict), its elapsed
  time fills ``seconds``.  Other bars (``Map``, the evaluation bar, checkpoint loading) are
  recognised and carry no rows;
* ``***** Running training *****`` (a new run), ``Total optimization steps = 1,800``,
  ``Saving model checkpoint to DIR`` (note ``checkpoint``), the ``TrainingArguments(`` dump
  (``logging_steps=500,`` is read) and other lines in transformers' logging format
  ``[INFO|trainer.py:2243] 2025-04-01 07:26:44,413 >> …``.

``epoch`` is the floor of the fractional epoch (Trainer epochs start at 0.0).  ``step`` is the
training bar's position when a state of it came after the previous dict and is ahead of it;
otherwise the previous step plus ``logging_steps`` (when the arguments dump showed it, else the
last interval between bar steps, else 1) — so with no bar at all, the count of train dicts.  When
stdout was block-buffered apart from the bar (output redirected without ``python -u``), dicts
arrive in bursts long after their steps: a bar far ahead of what the dict's epoch allows is not used,
and once two dicts come with no bar state between them the bar is ignored for the rest of the run.
"""

from __future__ import annotations

import functools
import math
import re

import regex

from logdoctor.parsers.base import Batch, Rows, feed_lines, to_float
from logdoctor.sources import Block

name = "hf"
description = "HuggingFace Trainer console logs (transformers, TRL, LLaMA-Factory)"
samples = (
    "{'loss': 0.6931, 'grad_norm': 1.2, 'learning_rate': 5e-05, 'epoch': 0.01}",
    "  5%|▌         | 10/200 [00:10<03:10,  1.00it/s]"
    "{'loss': 0.0, 'grad_norm': nan, 'learning_rate': 5e-06, 'epoch': 0.04}",
    "{'loss': '3.412', 'grad_norm': '0.9297', 'learning_rate': '1.071e-05', 'epoch': '0.0179'}",
    "{'eval_loss': 0.4312, 'eval_accuracy': 0.8125, 'eval_runtime': 16.86, 'epoch': 1.0}",
    "{'train_runtime': 2331.97, 'train_samples_per_second': 23.863, 'train_loss': 0.1268, 'epoch': 3.0}",
)

# A flat dict as str() prints it; its pairs.  Values: quoted strings, wrappers such as
# np.float64(0.5) or tensor(1.2, device='cuda:0'), short lists, or a bare token (nan, 5e-05, None).
# The hot patterns use the stdlib re, faster than regex on these simple shapes.
DICT = re.compile(r"\{'[^{}\n]*\}")
PAIR = re.compile(
    r"'(?P<key>[^'\n]+)'\s*:\s*"
    r"(?P<value>'[^'\n]*'|\"[^\"\n]*\"|[\w.]+\([^()\n]*\)|\[[^\[\]\n]*\]|[^,}\n]+)"
)
WRAPPED = regex.compile(r"^[\w.]+\(\s*([^,()]*)")
# tqdm's default bar: "{desc}: {percentage:3.0f}%|{bar}| {n}/{total} [{elapsed}<{remaining}, {rate}{postfix}]".
TQDM = re.compile(
    r"(?P<pct>\d{1,3})%\|[^|\n]*\|\s*(?P<n>\d+)/(?P<total>\d+)\s*"
    r"(?:\[(?:(?P<h>\d+):)?(?P<m>\d+):(?P<s>\d\d)[^\]\n]*\])?"
)
# transformers' own logging format (also LLaMA-Factory's "[INFO|2025-04-01 06:58:03] name:157 >> ").
HF_LOGGING = regex.compile(r"^\[(?:INFO|WARNING|ERROR|DEBUG|CRITICAL)\|[^\]\n]*\][^\n]*?>> ?")
MESSAGE = regex.compile(
    r"^\s*(?:"
    r"(?P<running>\*{5} Running training \*{5})"
    r"|(?P<metrics>\*{5} (?P<split>train|eval|test|predict) metrics \*{5})"
    r"|Total optimization steps = (?P<total>[\d,]+)"
    r"|Saving model checkpoint to (?P<checkpoint>.+)"
    r"|(?P<banner>\*{5} [\w ]+ \*{5})"
    r")"
)
# Lines of the HuggingFace stack (transformers, datasets, peft, TRL) that tell the format before any dict.
HF_MARKERS = regex.compile(
    r"^\[(?:INFO|WARNING|ERROR)\|[^\]\n]*\][^\n]*>>|\*{5} Running training \*{5}|Loading checkpoint shards:"
    r"|^Loading weights:|^Map(?: \(num_proc=\d+\))?:|trainable params: [\d,]+ \|\| all params:"
    r"|^(?:Tokenizing|Truncating|Adding EOS to) (?:train|eval) dataset:"
)
ARGS_START = regex.compile(r"\w*Arguments\($")
ARG_LINE = regex.compile(r"^\w+=[^\n]*,$")
LOGGING_STEPS = regex.compile(r"\blogging_steps\s*[=:]\s*(?P<v>[0-9.]+)")
METRICS_LINE = regex.compile(r"^\s+(?P<key>\w+)\s+=\s+(?P<value>\S+)\s*$")

NAMES = {"learning_rate": "lr", "loss": "loss"}
PHASE_PREFIXES = (("eval_", "val"), ("test_", "test"), ("predict_", "test"))
STEP_KEYS = ("step", "global_step", "current_steps", "iteration")
SKIP_VALUES = ("None", "True", "False")


def dict_kind(keys: list[str]) -> str | None:
    """What a printed dict is: ``summary``, ``eval`` or ``train``; None when it is not a Trainer log."""
    if "train_runtime" in keys:
        return "summary"
    if any(key.startswith(("eval_", "test_", "predict_")) for key in keys):
        return "eval"
    if "loss" in keys or "learning_rate" in keys or "grad_norm" in keys or "epoch" in keys:
        return "train"
    return None


@functools.lru_cache(maxsize=1024)
def series_of(key: str) -> tuple[str, str]:
    """(phase, name) of a dict key: ``eval_loss`` -> (val, loss), ``learning_rate`` -> (train, lr)."""
    for prefix, phase in PHASE_PREFIXES:
        if key.startswith(prefix):
            stripped = key[len(prefix):]
            return phase, NAMES.get(stripped, stripped)
    return "train", NAMES.get(key, key)


def number(token: str) -> float | None:
    """The number in a printed dict value (``'3.4'``, ``nan``, ``np.float64(0.5)``); None if unreadable."""
    try:
        return float(token)
    except ValueError:
        pass
    token = token.strip()
    if token[:1] in "'\"":
        token = token[1:-1]
    wrapped = WRAPPED.match(token)
    if wrapped:
        token = wrapped.group(1)
    return to_float(token)


def elapsed_seconds(m) -> float:
    if m.group("s") is None:
        return math.nan
    return int(m.group("h") or 0) * 3600 + int(m.group("m")) * 60 + int(m.group("s"))


class HFLineParser:
    """Reads one HF Trainer log; the training bar, the last step and the run settings live here."""

    def __init__(self) -> None:
        self.logging_steps: int | None = None
        self.in_args = False
        self.metrics_split: str | None = None    # inside a "***** eval metrics *****" block
        self._new_run()

    def _new_run(self) -> None:
        self.expected_total: int | None = None   # "Total optimization steps = N"
        self.train_total: int | None = None      # total of the training bar
        self.bar_step: int | None = None
        self.bar_seconds = math.nan
        self.bar_fresh = False                   # a bar state came after the last train dict
        self.buffered = False                    # dicts came in bursts: the bar runs ahead of them
        self.last_step: int | None = None
        self.bar_interval: int | None = None     # steps between the last two bar-stepped dicts
        self.last_from_bar = False

    # -- the block loop -------------------------------------------------------------
    def feed(self, block: Block) -> Batch:
        return feed_lines(block, self._line)

    def close(self) -> Batch:
        return Batch(Rows())

    def _line(self, line: str, at: int, rows: Rows) -> bool:
        """Handle one logical line; False when it is not a line of this format."""
        if self.in_args:
            if ARG_LINE.match(line):
                self._setting(line)
                return True
            self.in_args = False
            if line.strip() == ")":
                return True
        if self.metrics_split is not None:
            m = METRICS_LINE.match(line)
            if m:
                self._metrics_line(m, at, rows)
                return True
            self.metrics_split = None
        if "logging_steps" in line:
            self._setting(line)
        if "{'" in line or "%|" in line:
            found, rest = self._dicts_and_bars(line, at, rows)
            if found == "dict" or (found and not rest.strip()):
                return True
            if found:
                # Text glued after a bar state (a warning, a traceback) is known only if it is ours.
                return self._message_line(rest.strip(), at, rows)
        return self._message_line(line, at, rows)

    def _message_line(self, line: str, at: int, rows: Rows) -> bool:
        """Trainer messages, transformers logging lines and the start of the arguments dump."""
        logged = HF_LOGGING.match(line) if line[:1] == "[" else None
        message = line[logged.end():] if logged else line
        if "*****" in message or "Total optimization" in message or "Saving model" in message:
            m = MESSAGE.match(message)
            if m:
                self._message(m, at, rows)
                return True
        if line[-1:] == "(" and ARGS_START.search(line):
            self.in_args = True
            return True
        return logged is not None

    # -- dicts and tqdm states, in the order they stand in the line -----------------------
    def _dicts_and_bars(self, line: str, at: int, rows: Rows) -> tuple[str | None, str]:
        """Read the dicts and bar states of a line: ("dict" | "bar" | None, the text after the last one)."""
        found = None
        position = 0
        events = [(m.start(), 0, m) for m in DICT.finditer(line)] if "{'" in line else []
        if "%|" in line:
            events.extend((m.start(), 1, m) for m in TQDM.finditer(line))
            if len(events) > 1:
                events.sort(key=lambda e: e[0])
        for start, what, m in events:
            if what == 1:
                self._bar(m, line[position:start])
                found = found or "bar"
            elif self._dict(m.group(0), at, rows):
                found = "dict"
            position = m.end()
        return found, line[position:]

    def _bar(self, m, before: str) -> None:
        """A tqdm state: the training bar's position is the global step."""
        desc = before.strip().rstrip(":").strip().lower()
        if desc not in ("", "train", "training"):
            return  # Map, Tokenizing, Loading checkpoint shards, …
        n, total = int(m.group("n")), int(m.group("total"))
        if self.train_total is None:
            # The training bar is the first one of a run still under way (it is drawn at 0/max_steps
            # when training begins); a finished bar redrawn after the summary starts nothing.
            if self.expected_total is not None:
                self.train_total = self.expected_total
            elif n < total:
                self.train_total = total
        if total != self.train_total:
            return  # the evaluation bar
        self.bar_step = n
        self.bar_seconds = elapsed_seconds(m)
        self.bar_fresh = True

    def _dict(self, text: str, at: int, rows: Rows) -> bool:
        pairs = PAIR.findall(text)
        keys = [key for key, _ in pairs]
        kind = dict_kind(keys)
        if kind is None:
            return False
        epoch = fraction = None
        printed_step = None
        for key, token in pairs:
            if key == "epoch":
                value = number(token)
                if value is not None and math.isfinite(value):
                    fraction, epoch = value, int(math.floor(value))
            elif key in STEP_KEYS:
                value = number(token.split("/")[0])
                if value is not None and math.isfinite(value):
                    printed_step = int(value)
        if kind == "summary":
            average = dict(pairs).get("train_loss")
            value = number(average) if average is not None else None
            rows.note(at, "summary", text, step=self.last_step, epoch=epoch,
                      value=math.nan if value is None else value)
            self._new_run()
            return True
        step, seconds = self._step(kind, printed_step, fraction)
        for key, token in pairs:
            if key == "epoch" or key in STEP_KEYS or token.strip() in SKIP_VALUES:
                continue
            phase, series = series_of(key)
            value = number(token)
            if value is None:
                rows.note(at, series, f"unreadable value {token.strip()!r}", phase=phase, step=step,
                          epoch=epoch, seconds=seconds)
            else:
                rows.add(at, series, value, phase=phase, step=step, epoch=epoch, seconds=seconds)
        return True

    def _step(self, kind: str, printed_step: int | None, epoch: float | None) -> tuple[int | None, float]:
        """Global step and bar time of a train or eval dict (see the module docstring)."""
        if kind == "train" and not self.bar_fresh and self.last_step is not None and self.train_total:
            # tqdm.write redraws the bar after every dict, so two dicts with no bar state between
            # them mean stdout was block-buffered (redirected) while the bar went to stderr:
            # the bar position is then later than the dicts and says nothing about their steps.
            self.buffered = True
        bar_ahead = (self.bar_fresh and not self.buffered
                     and (self.bar_step or 0) > (self.last_step or 0) and self._bar_fits(epoch))
        if kind == "eval":
            if printed_step is not None:
                return printed_step, math.nan
            if bar_ahead:
                return self.bar_step, self.bar_seconds
            return self.last_step, math.nan
        seconds, from_bar = math.nan, False
        if printed_step is not None:
            step = printed_step
        elif bar_ahead:
            step, seconds, from_bar = self.bar_step, self.bar_seconds, True
            if self.last_from_bar:
                self.bar_interval = step - self.last_step
        else:
            step = (self.last_step or 0) + (self.logging_steps or self.bar_interval or 1)
        self.last_step, self.last_from_bar, self.bar_fresh = step, from_bar, False
        return step, seconds

    def _bar_fits(self, epoch: float | None) -> bool:
        """Whether the bar could stand at this dict's step.

        step / max_steps = epoch / num_epochs, so the bar's fraction of the run cannot be much more
        than the dict's epoch unless the run is far shorter than an epoch.  A bar more than four
        times ahead of that (runs of at least a quarter epoch; slack for an epoch printed to 2
        decimals) belongs to a later step: stdout was buffered apart from it.
        """
        if epoch is None or not self.train_total:
            return True
        return self.bar_step <= 4 * (epoch + 0.006) * self.train_total + 1

    # -- Trainer messages, settings and log_metrics blocks --------------------------------
    def _message(self, m, at: int, rows: Rows) -> None:
        if m.group("running"):
            self._new_run()
        elif m.group("metrics"):
            self.metrics_split = m.group("split")
        elif m.group("total"):
            self.expected_total = int(m.group("total").replace(",", ""))
        elif m.group("checkpoint"):
            rows.note(at, "checkpoint", m.group("checkpoint").strip(), step=self.last_step)

    def _setting(self, line: str) -> None:
        m = LOGGING_STEPS.search(line)
        if m:
            value = to_float(m.group("v").rstrip("."))
            # A value below 1 is a fraction of the total steps, which is not known here.
            if value is not None and value >= 1 and value.is_integer():
                self.logging_steps = int(value)

    def _metrics_line(self, m, at: int, rows: Rows) -> None:
        key, token = m.group("key"), m.group("value")
        value = number(token)
        if self.metrics_split == "train":
            rows.note(at, "summary", m.group(0).strip(), step=self.last_step,
                      value=math.nan if value is None else value)
            return
        if key == "epoch" or value is None:
            return
        phase, series = series_of(key)
        if self.metrics_split in ("test", "predict"):
            phase = "test"
        rows.add(at, series, value, phase=phase, step=self.last_step)


def sniff(head: list[str]) -> int:
    """Trainer dicts score 3 each; lines of the HF stack at most 3 in all.

    Large models print a long setup, so the first dict often comes after the head; the
    stack's own lines (transformers logging, checkpoint shards, datasets ``Map``) still tell.
    """
    score = 0
    markers = 0
    for line in head:
        if "{'" in line:
            for m in DICT.finditer(line):
                if dict_kind([key for key, _ in PAIR.findall(m.group(0))]):
                    score += 3
                    break
        elif markers < 3 and HF_MARKERS.search(line):
            markers += 1
    return score + markers


def start() -> HFLineParser:
    return HFLineParser()
