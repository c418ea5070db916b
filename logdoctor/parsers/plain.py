"""Plain prints: custom training loops, TensorFlow and hand-written code; PyTorch crash messages.

The generic key/value reader, tried last.  A line is read as ``key value`` pairs, the key one to
three words, then ``:``, ``=`` or a space, then a value token captured loosely and converted with
``to_float``.  Shapes it was written against:

* ``epoch 3 step 120 loss 0.53 acc 0.81`` and ``iter 40: loss=1.2e+03 lr=0.1``;
* ``Epoch [1/10], Step [100/600], Loss: 0.2231`` (counters in brackets, a total after ``/``);
* ``Epoch[1] Iteration[10/938] Loss: nan``;
* mmdetection ``Epoch [1][658/742]  lr: 5.000e-05, eta: 0:01:02, time: 0.512, loss_cls: 0.1, loss: nan``
  and mmengine ``Epoch(val) [1][500/500]  bbox_mAP: 0.35``;
* the PyTorch MNIST example ``Train Epoch: 1 [640/60000 (1%)]\\tLoss: 2.301`` and
  ``Test set: Average loss: 0.0526, Accuracy: 9833/10000 (98%)`` (a ratio is read as a fraction);
* no counters at all: ``loss: nan, co: nan``;
* the PyTorch tutorials' ``Accuracy of the network on the 10000 test images: 97.5 %``.

Names: ``Loss`` -> ``loss``; ``acc``/``Acc``/``accuracy`` -> ``accuracy``; ``lr``/``LR``/``learning rate``
-> ``lr``; a phase word before the name (``val_loss``, ``Val Loss``, ``valid_loss``, ``test acc``, a line
starting ``Test set:`` / ``Validation:``, mmengine's ``Epoch(val)``) sets the phase; every other name is
kept as printed.  Conservative on purpose: a line gives rows only when a key looks like a training
metric (loss, accuracy, lr, perplexity, f1, …), or when it has a step/epoch counter and ``key: number``
pairs; other numbers (versions, paths, sizes, hyper-parameter names) are never read.

Steps: a step counter (``step``/``iter``/``iteration``/``batch N/M``) gives the step; a counter inside an
epoch (an unkeyed ``[640/60000]`` after the epoch, or one that restarts when the epoch changes)
becomes global: ``(epoch - first epoch number) * total + n``.  Without any step counter the
metric lines are counted.  ``epoch`` is the printed epoch number, carried to following lines.

Also recognised (framework-agnostic PyTorch and shell messages): the autograd anomaly
``RuntimeError: Function 'LogSoftmaxBackward0' returned nan values in its 0th output.`` (note
``anomaly``); ``Traceback (most recent call last):`` and the final ``SomethingError: message`` line of
a traceback, ``Killed``, ``Segmentation fault`` (notes ``crash``); traceback frames, Python warnings,
and wandb's console block (``wandb: Run summary:`` values become ``summary`` notes).
Lines that belong to other formats (HF dicts, tqdm bars, Keras progress bars, Caffe glog lines,
Lightning tables) are left as unknown so that the specific parsers get them.
"""

from __future__ import annotations

import datetime
import functools
import math
import re

import numpy as np
import regex

from logdoctor.parsers.base import Batch, Rows, to_float
from logdoctor.sources import Block

name = "plain"
description = "plain prints of custom training loops (key/value lines, PyTorch examples, mmdetection)"
samples = (
    "epoch 3 step 120 loss 0.53 acc 0.81",
    "Epoch [1/10], Step [100/600], Loss: 0.2231",
    "iter 40: loss=1.2e+03 lr=0.1",
    "Epoch[1] Iteration[10/938] Loss: nan",
    "Epoch [1][658/742]  lr: 5.000e-05, eta: 0:01:02, time: 0.512, data_time: 0.011, loss_cls: 0.1, loss: nan",
    "Train Epoch: 1 [640/60000 (1%)]\tLoss: 2.301",
    "Test set: Average loss: 0.0526, Accuracy: 9833/10000 (98%)",
    "loss: nan, co: nan",
)

WORD = r"[A-Za-z][\w@%/.+-]*"
# key (one to three words, an optional "(val)") then separator then value; or an unkeyed [n/total].
# The stdlib re runs this one faster than regex does.
PAIR = re.compile(
    r"(?<![\w@%/.+-])(?P<key>" + WORD + r"(?:\((?P<kphase>train|val|test)\))?(?: " + WORD + r"){0,2}?)"
    r"(?P<sep>['\"]?(?:\s*[:=]\s*|\s+|(?=\[)))"
    r"(?P<value>\[\s*(?P<outer>\d+)\s*(?:/\s*(?P<outer_total>\d+)\s*)?\]"
    r"(?:\s*\[\s*(?P<inner>\d+)\s*(?:/\s*(?P<inner_total>\d+)\s*)?\])?"
    r"|tensor\(\s*[^,)\s]+"
    r"|[-+]?(?:[\d.]|(?i:nan|inf))[^\s,;:|\[\]()'\"]*(?::\d[^\s,;:|\[\]()'\"]*)*(?:\(\w*\))?(?!:[A-Za-z_]))"
    r"|\[\s*(?P<bracket>\d+)\s*/\s*(?P<bracket_total>\d+)\s*(?:\(\s*\d+%\s*\)\s*)?\]"
)
COUNTER = re.compile(r"^(\d+)(?:/(\d+))?$")
RATIO = regex.compile(r"^(?P<a>\d+(?:\.\d+)?)/(?P<b>\d+(?:\.\d+)?)$")
LINE_PHASE = regex.compile(
    r"(?i)^\W*(?P<phase>train(?:ing)?|val(?:id(?:ation)?)?|eval(?:uation)?|dev|test(?:ing)?)"
    r"(?: set)?\s*(?:[:\]|>-]|$)"
)
TIMESTAMP = regex.compile(
    r"^\[?(?:(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)|(?P<mo2>\d\d)/(?P<d2>\d\d)/(?P<y2>\d{4}))[ T]"
    r"(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d(?:[.,]\d+)?)"
)
FILE_NAME = regex.compile(r"\.(?:py|pyx|cpp|cc|cu|h|c|json|ya?ml|txt|log)$")
# One "key": value pair of pretty-printed JSON: a configuration dump, never a metric line.
JSON_CONFIG = regex.compile(r'^\s*"[^"]+"\s*:\s*[^{}\[\]]*?,?\s*$')
ACCURACY_SENTENCE = regex.compile(
    r"(?i)\baccuracy of the (?:\w+ ){1,3}?on (?:the )?(?:\d+ )?(?P<split>train|training|val|validation|test)"
    r"(?: \w+)?\s*:\s*(?P<value>[-+]?[\d.]+(?:e[-+]?\d+)?|nan|inf)\s*(?P<percent>%)?"
)
BAR_END = regex.compile(r"^.*(?:it/s|s/it)\]")
# sklearn's classification_report rows: a table, not a training log line.
REPORT_TABLE = regex.compile(r"^\s*(?:accuracy\s{3,}\d|(?:macro|weighted|micro|samples) avg\s)")
RANK_PREFIX = regex.compile(r"^\[(?:rank|default)\d+\]:\s?")

# Metric names: a "loss" token anywhere, or a token of the usual scores; lr by itself.
METRIC_TOKENS = {"loss", "acc", "accuracy", "acc1", "acc5", "acc@1", "acc@5", "top1", "top5", "prec@1", "prec@5",
                 "perplexity", "ppl", "f1", "auc", "map", "miou", "iou", "dice", "bleu", "rouge", "wer", "cer",
                 "mse", "mae", "rmse", "psnr", "ssim", "reward", "kl", "entropy", "precision", "recall"}
METRIC_NAMES = {"lr", "learning_rate", "grad_norm", "gnorm", "perplexity", "ppl", "f1", "auc", "map", "miou",
                "iou", "dice", "bleu", "wer", "cer", "mse", "mae", "rmse", "psnr", "ssim", "reward", "kl",
                "entropy", "precision", "recall"}
LR_NAME = regex.compile(r"(?i)^(?:lr|learning[_ ]rate)(?:[_-]?\d+)?$")
STEP_WORDS = {"step", "iter", "iteration", "itr", "global_step", "update"}
EPOCH_WORDS = {"epoch", "ep"}
PHASE_WORDS = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
               "eval": "val", "evaluation": "val", "dev": "val", "test": "test", "testing": "test"}
FILLER_WORDS = {"average", "avg"}
# Settings and sizes printed as "key: n" next to counters; never metrics.
SETTING_WORDS = {"batch", "batch_size", "bs", "seed", "workers", "num_workers", "gpus", "gpu", "rank",
                 "world_size", "epochs", "steps", "max_epochs", "max_steps", "total", "size", "dim", "of",
                 "eta", "id", "pid", "port", "version"}
SYNONYMS = {"loss": "loss", "acc": "accuracy", "accuracy": "accuracy", "lr": "lr", "learning_rate": "lr"}

# Lines that belong to the specific formats; left unknown for them.
CAFFE_GLOG = regex.compile(r"^[IWEF]\d{4}")
KERAS_BAR = regex.compile(r"^\s*\d+/\d+ (?:\[[=>.]|━|-|\S*━)|^\s*(?:\d+/\d+\s+)?(?:-\s+)?\d+(?:ms|s|us)\s+-\s")
LIGHTNING_EARLY_STOPPING = regex.compile(r"^(?:Monitored metric|Metric) \S+ (?:=|improved|did not improve)")
HF_DICT_KEYS = ("'loss'", "'epoch'", "'eval_", "'train_runtime'", "'learning_rate'", "'grad_norm'")
HF_SETTINGS = regex.compile(r"^\w+=[^\s]*,$|^\[(?:INFO|WARNING|ERROR|DEBUG|CRITICAL)\|")

TRACEBACK = "Traceback (most recent call last)"
EXCEPTION = regex.compile(r"^(?:[A-Za-z_]\w*\.)*(?P<name>[A-Z]\w*)(?::(?:\s+(?P<msg>.*))?)?$")
ERROR_LINE = regex.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception)(?::\s.*|:?\s*$)")
ANOMALY = regex.compile(r"Function '\w+' returned (?:nan|inf) values in its \d+\w* output")
# bash: "Killed", "[1]+  Killed                  python train.py", "script: line 12: 31337 Killed  python …"
KILLED = regex.compile(r"^\s*(?:\[\d+\][+-]?\s+)?Killed(?:\s{2,}\S.*)?\s*$|\bline \d+:\s+\d+ Killed\b")
FATAL_SIGNAL = ("Segmentation fault", "core dumped", "Bus error", "Fatal Python error")
FRAME = regex.compile(r'^File "[^"\n]+", line \d+')
PY_WARNING = regex.compile(r"^\S*\.py:\d+: \w*Warning: ")
WANDB_SUMMARY = regex.compile(r"^wandb:\s+(?P<key>\S+)\s+(?P<value>\S+)\s*$")
CHAINED = ("During handling of the above exception", "The above exception was the direct cause",
           "Original Traceback (most recent call last)", "Exception in thread", "Traceback of forward call")


# Cheap pre-filter: a line is read only when its lowercased text holds one of these (or a state
# such as an open traceback needs it); everything else is unknown without a regex.
CANDIDATE_WORDS = (b"loss", b"acc", b"lr", b"learn", b"epoch", b"step", b"iter", b"itr", b"perplex", b"ppl",
                   b"f1", b"auc", b"map", b"iou", b"dice", b"bleu", b"rouge", b"wer", b"cer", b"mse", b"mae",
                   b"psnr", b"ssim", b"reward", b"kl", b"entropy", b"prec", b"recall", b"top", b"grad",
                   b"traceback", b"error", b"exception", b"killed", b"fault", b"core dumped", b"fatal",
                   b"wandb:", b"warn", b'file "', b"returned")


def _prefix_tree(words: tuple[bytes, ...]) -> bytes:
    """An alternation grouped by first letter: the stdlib ``re`` scans it several times faster than a flat one."""
    groups: dict[bytes, list[bytes]] = {}
    for word in sorted(set(words)):
        groups.setdefault(word[:1], []).append(word[1:])
    return b"|".join(re.escape(first) + b"(?:" + b"|".join(re.escape(rest) for rest in sorted(
        rests, key=len, reverse=True)) + b")" for first, rests in groups.items())


CANDIDATE = re.compile(_prefix_tree(CANDIDATE_WORDS))
# A line that is nothing but torchrun's "[rank0]:" is a blank line of that rank: a candidate too, so that
# it is read (as blank) rather than left unknown like chatter without a candidate word.
BARE_RANK = re.compile(rb"^\[(?:rank|default)\d+\]:[ \t]*$", re.MULTILINE)


def candidate_lines(block: Block) -> list[int]:
    """Indices of the logical lines of ``block`` that contain a candidate word (any case)."""
    data = block.text.encode("utf-8")
    low = data.lower()
    search = CANDIDATE.search
    hits: list[int] = []
    m = search(low)
    while m:
        hits.append(m.start())
        end = low.find(b"\n", m.end())
        m = search(low, end + 1) if end >= 0 else None
    bare = [m.start() for m in BARE_RANK.finditer(data)] if b"]:" in data else []
    if not hits and not bare:
        return []
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    lines = np.searchsorted(newlines, np.asarray(hits + bare, dtype=np.int64))
    return np.unique(lines).tolist() if bare else lines.tolist()   # "[default0]:" also has "fault" in it


def tokens_of(name: str) -> list[str]:
    return [t for t in regex.split(r"[_/.\- ]+", name.lower()) if t]


def metric_like(name: str) -> bool:
    """Whether a (phase-stripped) name is a training metric: loss, accuracy, lr and the usual scores."""
    if LR_NAME.match(name):
        return True
    return any(token in METRIC_TOKENS for token in tokens_of(name)) or name.lower() in METRIC_NAMES


def split_key(key: str) -> tuple[str | None, str, str]:
    """(phase or None, printed name without phase/filler words, the key's last word lowercased)."""
    words = key.split(" ")
    phase = None
    while len(words) > 1 and (words[0].lower() in PHASE_WORDS or words[0].lower() in FILLER_WORDS
                              or words[0].lower() == "set"):
        phase = PHASE_WORDS.get(words[0].lower(), phase)
        words = words[1:]
    name = "_".join(words)
    for separator in ("_", "/"):
        head, sep, rest = name.partition(separator)
        if sep and rest and head.lower() in PHASE_WORDS:
            phase, name = PHASE_WORDS[head.lower()], rest
            break
        start, sep, tail = name.rpartition(separator)
        if separator == "/" and sep and start and tail.lower() in PHASE_WORDS:
            phase, name = PHASE_WORDS[tail.lower()], start
            break
    while name.lower().startswith(("average_", "avg_")):
        name = name.split("_", 1)[1]
    return phase, name, words[-1].lower()


def normalised(name: str) -> str:
    """loss, accuracy and lr by their one name; single known metric words lowercased; others as printed."""
    low = name.lower()
    if low in SYNONYMS:
        return SYNONYMS[low]
    return low if low in METRIC_NAMES else name


@functools.lru_cache(maxsize=4096)
def key_info(key: str) -> tuple[str, str | None, str, bool, bool]:
    """What a printed key is: (role, phase, series name, metric-like, setting).

    role is ``epoch``, ``step``, ``batch`` (a step counter only with a total), ``code`` (a file name
    such as ``logging.py``) or ``value``.  Keys repeat on every line of a log, hence the cache.
    """
    if FILE_NAME.search(key):
        return "code", None, key, False, False
    phase, printed, last = split_key(key)
    low = printed.lower()
    if last in EPOCH_WORDS or low in EPOCH_WORDS:
        return "epoch", phase, printed, False, False
    if last in STEP_WORDS or low in STEP_WORDS:
        return "step", phase, printed, False, False
    # In a key of several words the metric is the last one ("Average loss"; not "the loss is").
    metric = metric_like(printed) and (" " not in key or metric_like(last) or bool(LR_NAME.match(printed)))
    role = "batch" if last == "batch" else "value"
    return role, phase, normalised(printed), metric, low in SETTING_WORDS


def value_of(token: str) -> float | None:
    """A value token as a number: plain numbers and non-finite spellings, ``a/b`` ratios, percentages."""
    token = token.rstrip(".")
    if token.startswith("tensor("):
        token = token[7:].strip()
    value = to_float(token)
    if value is not None:
        return value
    if token.endswith("%"):
        value = to_float(token[:-1])
        return None if value is None else value / 100
    ratio = RATIO.match(token)
    if ratio and float(ratio.group("b")) > 0:
        return float(ratio.group("a")) / float(ratio.group("b"))
    return None


def numeric_looking(token: str) -> bool:
    """Whether an unreadable token was meant as a number (then it is worth a note)."""
    low = token.lower()
    return any(ch.isdigit() for ch in token) or "nan" in low or "inf" in low


class _Clock:
    """Line-start timestamps (``2024-03-30 16:45:40,529``, ``03/30/2024 16:46:27``) to seconds since the first."""

    def __init__(self) -> None:
        self.origin: float | None = None
        self._days: dict[tuple, int] = {}

    def seconds(self, line: str) -> float:
        if not line[:1].isdigit() and line[:1] != "[":
            return math.nan
        m = TIMESTAMP.match(line)
        if not m:
            return math.nan
        if m.group("y"):
            date = (int(m.group("y")), int(m.group("mo")), int(m.group("d")))
        else:
            date = (int(m.group("y2")), int(m.group("mo2")), int(m.group("d2")))
        day = self._days.get(date)
        if day is None:
            try:
                day = datetime.date(*date).toordinal()
            except ValueError:
                return math.nan
            self._days[date] = day
        absolute = day * 86400.0 + int(m.group("h")) * 3600 + int(m.group("mi")) * 60 + float(
            m.group("s").replace(",", "."))
        if self.origin is None:
            self.origin = absolute
        return absolute - self.origin


class _Line:
    """What one line says: its counters, its phase and its values."""

    __slots__ = ("epoch", "step", "step_total", "within", "within_total", "phase", "values")

    def __init__(self) -> None:
        self.epoch: int | None = None
        self.step: int | None = None
        self.step_total: int | None = None
        self.within: int | None = None        # counter inside the epoch: [640/60000] after the epoch
        self.within_total: int | None = None
        self.phase: str | None = None
        self.values: list[tuple[str, str | None, str, bool, bool, bool]] = []
        # (series, phase, token, separated by ":"/"=", metric-like, setting)


def read_line(text: str) -> _Line:
    """The counters, phase and candidate values of a line."""
    line = _Line()
    lead = LINE_PHASE.match(text)
    if lead:
        line.phase = PHASE_WORDS[lead.group("phase").lower()]
    for m in PAIR.finditer(text):
        key, kphase, sep, token, outer, outer_total, inner, inner_total, bracket, bracket_total = m.groups()
        if bracket is not None:
            if line.epoch is not None and line.within is None:
                line.within, line.within_total = int(bracket), int(bracket_total)
            continue
        if kphase:
            line.phase = PHASE_WORDS[kphase]
            key = key.replace(f"({kphase})", "")
        role, phase, series, metric, setting = key_info(key)
        if role == "code":
            continue
        if outer is None and role != "value":
            counter = COUNTER.match(token)
            if counter:
                outer, outer_total = counter.groups()
        if role == "epoch":
            if outer is not None:
                line.epoch = int(outer)
                if phase and line.phase is None:
                    line.phase = phase
                if inner is not None:
                    line.within = int(inner)
                    line.within_total = int(inner_total) if inner_total else None
            continue
        if role == "step" or (role == "batch" and outer_total):
            if outer is not None:
                line.step = int(outer)
                line.step_total = int(outer_total) if outer_total else None
            continue
        separated = sep.strip(" \t'\"") in (":", "=")
        line.values.append((series, phase, token, separated, metric, setting))
    return line


class PlainLineParser:
    """Reads one log of plain prints; counters, the epoch base and the crash state live here."""

    def __init__(self) -> None:
        self.clock = _Clock()
        self.epoch: int | None = None
        self.epoch_base: int | None = None     # 0 or 1: the number of the first epoch
        self.step: int | None = None           # last global step
        self.counted = 0                       # metric lines without a step counter
        self.counter_seen = False
        self.raw_step: int | None = None       # last printed step counter and its epoch
        self.raw_epoch: int | None = None
        self.restarts_each_epoch = False
        self.offset = 0
        self.traceback = False
        self.wandb_summary = False
        self.after_warning = False

    # -- the block loop -------------------------------------------------------------
    def feed(self, block: Block) -> Batch:
        rows = Rows()
        unknown: list[int] = []
        lines = block.lines
        candidates = candidate_lines(block)
        candidates.append(len(lines))
        index, next_candidate = 0, 0
        while index < len(lines):
            if index == candidates[next_candidate]:
                next_candidate += 1
            elif not (self.traceback or self.wandb_summary or self.after_warning):
                stop = candidates[next_candidate]
                unknown.extend(range(index, stop))  # blank ones are dropped by the caller
                index = stop
                continue
            if not self._line(lines[index], block.line_of(index), rows):
                unknown.append(index)
            index += 1
        return Batch(rows, unknown)

    def close(self) -> Batch:
        return Batch(Rows())

    def _line(self, line: str, at: int, rows: Rows) -> bool:
        """Handle one logical line; False when it is unknown."""
        if line[:1] == "[" and RANK_PREFIX.match(line):
            line = RANK_PREFIX.sub("", line, count=1)
        stripped = line.strip()
        if not stripped:
            return True
        if self.traceback and self._traceback_line(line, stripped, at, rows):
            return True
        if self.wandb_summary or stripped.startswith("wandb:"):
            if self._wandb_line(stripped, at, rows):
                return True
        if self.after_warning:
            # The source line under a warning, or the frames of anomaly mode's "Traceback of forward call".
            self.after_warning = False
            if line[:1] in " \t":
                self.traceback = FRAME.match(stripped) is not None
                return True
        if self._message(line, stripped, at, rows):
            return True
        if self._defer(line, stripped):
            return False
        return self._metrics(line, at, rows)

    # -- crashes, anomalies, warnings, wandb ------------------------------------------------
    def _message(self, line: str, stripped: str, at: int, rows: Rows) -> bool:
        if TRACEBACK in stripped:
            # Also glued after a progress bar; "Original Traceback" is the inside of a DataLoader crash.
            if not stripped[:stripped.index(TRACEBACK)].rstrip().endswith("Original"):
                rows.note(at, "crash", stripped, step=self.step, epoch=self.epoch)
            self.traceback = True
            return True
        if "returned" in stripped and ANOMALY.search(stripped):
            rows.note(at, "anomaly", stripped, step=self.step, epoch=self.epoch)
            return True
        if ("Error" in stripped or "Exception" in stripped) and ERROR_LINE.match(line):
            rows.note(at, "crash", stripped, step=self.step, epoch=self.epoch)
            return True
        if ("Killed" in stripped and KILLED.search(line)) or any(signal in stripped for signal in FATAL_SIGNAL):
            rows.note(at, "crash", stripped, step=self.step, epoch=self.epoch)
            return True
        if "Warning" in stripped and PY_WARNING.match(stripped):
            self.after_warning = True
            return True
        if line[:1] in " \t" and (stripped.startswith("warnings.warn(") or FRAME.match(stripped)):
            # A frame seen without its "Traceback" line (another parser took that line).
            self.traceback = stripped[:1] == "F"
            return True
        return False

    def _traceback_line(self, line: str, stripped: str, at: int, rows: Rows) -> bool:
        """Inside a traceback: frames are known; the first unindented line ends it."""
        if line[:1] in " \t" or stripped.startswith(CHAINED) or stripped.startswith("^"):
            return True
        self.traceback = False
        if ANOMALY.search(stripped):
            rows.note(at, "anomaly", stripped, step=self.step, epoch=self.epoch)
            return True
        if EXCEPTION.match(stripped):
            rows.note(at, "crash", stripped, step=self.step, epoch=self.epoch)
            return True
        return False

    def _wandb_line(self, stripped: str, at: int, rows: Rows) -> bool:
        """wandb's console output: the run summary's values are notes, everything else is known."""
        if not stripped.startswith("wandb:"):
            self.wandb_summary = False
            return False
        body = stripped[6:].strip()
        if body == "Run summary:":
            self.wandb_summary = True
        elif not body or body.endswith(":"):
            self.wandb_summary = False
        elif self.wandb_summary:
            m = WANDB_SUMMARY.match(stripped)
            if m:
                value = to_float(m.group("value"))
                rows.note(at, "summary", body, step=self.step, epoch=self.epoch,
                          value=math.nan if value is None else value)
        return True

    @staticmethod
    def _defer(line: str, stripped: str) -> bool:
        """Lines of the specific formats: left unknown so that their parser reads them."""
        if "{'" in line and any(key in line for key in HF_DICT_KEYS):
            return True
        if "%|" in line or "│" in line or "┃" in line or "━" in line or "v_num" in line:
            return True  # tqdm and rich bars, rich tables, Lightning's bar postfix
        if CAFFE_GLOG.match(stripped) or KERAS_BAR.match(line) or LIGHTNING_EARLY_STOPPING.match(stripped):
            return True
        if stripped.endswith(("Arguments(", ",")) and HF_SETTINGS.match(stripped):
            return True
        if stripped[:1] == '"' and JSON_CONFIG.match(stripped):
            return True
        return line[:1] == "[" and HF_SETTINGS.match(line) is not None

    # -- key/value metric lines ---------------------------------------------------------
    def _metrics(self, text: str, at: int, rows: Rows) -> bool:
        if "it/s]" in text or "s/it]" in text:
            # A bar without a percentage ("Validation: | | 0/? [00:00<?, ?it/s]") glued before the message.
            bar = BAR_END.search(text)
            text = text[bar.end():] if bar else text
        if ("avg" in text or "accuracy" in text) and REPORT_TABLE.match(text):
            return False
        if "ccuracy of the" in text:
            sentence = ACCURACY_SENTENCE.search(text)
            if sentence:
                return self._accuracy_sentence(sentence, text, at, rows)
        line = read_line(text)
        if line.epoch is not None:
            self.epoch_base = min(line.epoch, 1 if self.epoch_base is None else self.epoch_base)
            self.epoch = line.epoch
        has_counter = line.epoch is not None or line.step is not None or line.within is not None
        # lr alone brings no companions: "lr=0.1 batch=32 dropout: 0.4" is a settings line.
        has_metric = any(metric and series != "lr" for series, _, _, _, metric, _ in line.values)
        values = []
        for series, key_phase, token, separated, metric, setting in line.values:
            # Next to a metric or a counter, other "key: number" pairs are values too (co, time, memory).
            if not (metric or ((has_counter or has_metric) and separated and not setting)):
                continue
            value = value_of(token)
            if value is None and not (metric and numeric_looking(token)):
                continue
            values.append((series, key_phase or line.phase or "train", token, value, metric))
        if not values or not (has_counter or any(metric for *_, metric in values)):
            return False
        # Counters of a validation or test line count its own batches, not training steps.
        if line.phase in ("val", "test") or not any(phase == "train" for _, phase, *_ in values):
            step = self.step
        else:
            step = self._step_of(line)
        seconds = self.clock.seconds(text)
        for series, phase, token, value, _ in values:
            if value is None:
                rows.note(at, series, f"unreadable value {token!r}", phase=phase, step=step,
                          epoch=self.epoch, seconds=seconds)
            else:
                rows.add(at, series, value, phase=phase, step=step, epoch=self.epoch, seconds=seconds)
        return True

    def _accuracy_sentence(self, m, text: str, at: int, rows: Rows) -> bool:
        """``Accuracy of the network on the 10000 test images: 97.5 %`` (the PyTorch tutorials)."""
        value = value_of(m.group("value") + ("%" if m.group("percent") else ""))
        if value is None:
            return False
        phase = PHASE_WORDS.get(m.group("split").lower(), "test")
        rows.add(at, "accuracy", value, phase=phase, step=self.step, epoch=self.epoch,
                 seconds=self.clock.seconds(text))
        return True

    def _step_of(self, line: _Line) -> int:
        """The global step of a training line (see the module docstring)."""
        if line.within is not None and line.epoch is not None and line.within_total:
            step = (line.epoch - (self.epoch_base or 0)) * line.within_total + line.within
        elif line.step is not None or line.within is not None:
            raw = line.step if line.step is not None else line.within
            total = line.step_total if line.step is not None else line.within_total
            epoch = line.epoch if line.epoch is not None else self.epoch
            if (epoch is not None and self.raw_epoch is not None and epoch > self.raw_epoch
                    and self.raw_step is not None and raw <= self.raw_step):
                # The counter restarted with the epoch: it counts within the epoch.
                self.restarts_each_epoch = True
                self.offset = self.step or 0
            if self.restarts_each_epoch and total and epoch is not None:
                step = (epoch - (self.epoch_base or 0)) * total + raw
            else:
                step = (self.offset if self.restarts_each_epoch else 0) + raw
            self.raw_step, self.raw_epoch = raw, epoch
        elif self.counter_seen:
            return self.step
        else:
            self.counted += 1
            self.step = self.counted
            return self.step
        self.counter_seen = True
        self.step = step
        return step


def sniff(head: list[str]) -> int:
    """One point per line of the head that reads as metrics (the generic fallback never scores high)."""
    parser = PlainLineParser()
    rows = Rows()
    score = 0
    for index, line in enumerate(head):
        stripped = line.strip()
        if not stripped or parser._defer(line, stripped) or parser._message(line, stripped, index, rows):
            continue
        before = len(rows)
        if parser._metrics(line, index + 1, rows) and "metric" in rows.columns["kind"][before:]:
            score += 1
    return score


def start() -> PlainLineParser:
    return PlainLineParser()
