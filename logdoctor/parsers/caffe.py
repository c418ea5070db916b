"""Caffe: glog console output of ``caffe train`` and pycaffe (BVLC, NVIDIA, Intel and other forks).

What Caffe prints (``solver.cpp``, ``sgd_solver.cpp``, ``net.cpp``):

* display lines ``Iteration N, loss = x`` or ``Iteration N (r iter/s, ts/d iters), loss = x``
  (the smoothed loss, name ``loss`` with no output index), followed by
  ``Train net output #k: name = v (* w = v' loss)`` for every net output;
* ``Iteration N, lr = x`` from the SGD solvers (NVCaffe adds ``, m = …``);
* ``Iteration N, Testing net (#i)`` then ``Test net output #k: …`` (old Caffe also ``Test loss: x``);
* with ``debug_info: true`` per-layer mean absolute values ``[Forward] Layer L, top blob B data: v``,
  ``[Backward] Layer L, bottom blob B diff: v``, ``[Update] Layer L, param P data: v; diff: v`` and
  the ``All net params (data, diff): L1 norm = (a, b); L2 norm = (c, d)`` line (logged at level E);
* the solver and net definitions as protobuf text after ``Initializing solver/net from parameters:``.

Every line may carry the glog prefix ``I0717 21:06:08.612304  9965 solver.cpp:244] `` (glog 0.6 may
put the year in: ``I20261122 …``); logs pasted without it parse too.

How a block is read: ``SCAN`` matches every line once, capturing the time stamp and the groups of
the four messages that make up most of a long log (display, lr, net outputs, "Testing net"), and in
blocks with ``debug_info`` ``DEBUG_SCAN`` does the same for its four; those become rows column by
column, time stamps are converted in bulk.  Only the other lines go one by one through ``LINE`` and
the parameter-block reader.
"""

from __future__ import annotations

import datetime
import math
import re

import numpy as np
import regex

from logdoctor.parsers.base import Batch, Rows, compiled, to_float
from logdoctor.sources import Block

native = compiled("_caffe_scan")  # the hot lines read in C

name = "caffe"
description = "Caffe glog output (BVLC, NVCaffe, Intel Caffe, DIGITS)"
samples = (
    "I0717 21:06:08.612304  9965 solver.cpp:244] Iteration 100, loss = 0.693147",
    "I1122 14:24:11.393960  7809 solver.cpp:239] Iteration 0 (-4.04975e-40 iter/s, 0.001s/5 iters), loss = 1.64922",
    "I1122 14:24:11.393970  7809 solver.cpp:258]     Train net output #0: loss = 1.64922 (* 1 = 1.64922 loss)",
    "I1122 14:24:11.393975  7809 sgd_solver.cpp:112] Iteration 0, lr = -nan",
    "I1122 14:24:11.392874  7809 solver.cpp:347] Iteration 0, Testing net (#0)",
    "I1122 14:24:11.393780  7809 solver.cpp:414]     Test net output #0: accuracy = 0.204",
    "I0704 18:21:37.937260 32707 solver.cpp:306] Test loss: 11.1146",
    "I1122 14:24:11.549122  7815 net.cpp:593]     [Forward] Layer data, top blob data data: 0.861635",
    "I20261122 14:25:01.010000  7815 solver.cpp:239] Iteration 350, loss = nan",
)

# The patterns that tell which message a line is are compiled with ASCII (\s, \d, \w): ``re`` and
# ``regex`` disagree on Unicode whitespace (\x1c-\x1f), and SCAN, LINE and _caffe_scan.c must agree on every line.
GLOG_PREFIX = (
    r"[ \t]*(?P<sev>[IWEF])(?P<date>\d{8}|\d{4}) (?P<time>\d\d:\d\d:\d\d(?:\.\d+)?) +\d+ [^\]\s]+\] "
)
# NVCaffe tags solver lines with the device rank: "[0.0] Iteration …", "(0.0)    Test net output …".
RANK_TAG = r"[ \t]*(?:[\[(]\d+(?:\.\d+)?[\])][ \t]*)?"
VALUE = r"(?P<v>[^\s,;()]+(?:\(\w*\))?)"

MESSAGES = (
    ("display", r"Iteration (?P<it>\d+)(?: \([^)]*\))?, loss = " + VALUE),
    ("lr", r"Iteration (?P<it>\d+), lr = " + VALUE),
    ("testing", r"Iteration (?P<it>\d+), Testing net \(#(?P<net>\d+)\)"),
    ("output", r"(?P<phase>Train|Test) net output #(?P<k>\d+): (?P<name>.+?) = " + VALUE
     + r"(?: \(\* (?P<w>[^\s=]+) = [^\s)]+ loss\))?[ \t]*$"),
    ("test_loss", r"Test loss: " + VALUE),
    ("forward", r"\[Forward\] Layer (?P<layer>[^,]+), (?P<what>top|param) blob (?P<blob>\S+) data: " + VALUE),
    ("backward", r"\[Backward\] Layer (?P<layer>[^,]+), (?P<what>bottom|param) blob (?P<blob>\S+) diff: " + VALUE),
    ("update", r"\[Update\] Layer (?P<layer>[^,]+), param (?P<blob>\S+) data: " + VALUE
     + r"; diff: (?P<d>\S+)"),
    ("norms", r"\[Backward\] All net params \(data, diff\): L1 norm = \((?P<a>[^,]+), (?P<b>[^)]+)\);"
     r" L2 norm = \((?P<c>[^,]+), (?P<d>[^)]+)\)"),
    ("clip", r"Gradient clipping: scaling down gradients \(L2 norm " + VALUE + r" > (?P<thr>[^)\s]+)\)"),
    ("params", r"Initializing (?P<what>solver|net) from parameters:"),
    ("snapshot", r"Snapshotting (?:solver state )?to (?:binary proto file |HDF5 file )?(?P<text>.+)"),
    ("restore", r"(?:Restoring previous solver status from|Resuming from) (?P<text>.+)"),
    ("multistep", r"MultiStep Status: Iteration (?P<it>\d+), step = (?P<v>\d+)"),
    ("done", r"Optimization Done\.?"),
    ("test_interrupted", r"Test interrupted\.?"),
    ("solving", r"Solving (?P<text>.+)"),
    ("lr_policy", r"Learning Rate Policy: (?P<text>\S+)"),
    ("stop_at", r"Iteration (?P<it>\d+)$"),
    ("blank", r"[ \t]*$"),
)
LINE = regex.compile(
    r"(?m)^(?:" + GLOG_PREFIX + r")?" + RANK_TAG + r"(?:"
    + "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in MESSAGES)
    + r")",
    flags=regex.ASCII,
)
KINDS = tuple(kind for kind, _ in MESSAGES)
GLOG_FATAL = regex.compile(r"[ \t]*F(?:\d{8}|\d{4}) \d\d:\d\d:\d\d\S* +\d+ [^\]\s]+\] (?P<text>.*)$", flags=regex.ASCII)
# One match per logical line (stdlib ``re``: faster than ``regex`` here; no class may match a newline,
# or a match would take two lines): the glog time stamp,
# and the groups of the messages every display interval prints.  These "hot" lines are most of
# a long log and are turned into rows in bulk; any other line goes through LINE one at a time.
HOT_VALUE = r"([^\s,;()]+(?:\(\w*\))?)"
SCAN = re.compile(
    r"^(?:[ \t]*[IWEF](\d{8}|\d{4}) (\d\d:\d\d:\d\d(?:\.\d+)?) +\d+ [^\]\s]+\] )?" + RANK_TAG
    + r"(?:Iteration (\d+)(?:(?: \([^)\n]*\))?, loss = " + HOT_VALUE + r"|, lr = " + HOT_VALUE
    + r"|, Testing net \(#(\d+)\))"
    r"|(Train|Test) net output #(\d+): (.+?) = " + HOT_VALUE + r"(?: \(\* ([^\s=]+) = [^\s)]+ loss\))?[ \t]*$"
    r")?[^\n]*\n",
    re.MULTILINE | re.ASCII,
)
# The debug_info messages, one match per line like SCAN (run only on blocks that have them): forward,
# backward, update, and the net's parameter norms.
DEBUG_SCAN = re.compile(
    r"^(?:[ \t]*[IWEF](?:\d{8}|\d{4}) \d\d:\d\d:\d\d(?:\.\d+)? +\d+ [^\]\s]+\] )?" + RANK_TAG
    + r"(?:\[Forward\] Layer ([^,\n]+), (top|param) blob (\S+) data: " + HOT_VALUE
    + r"|\[Backward\] Layer ([^,\n]+), (bottom|param) blob (\S+) diff: " + HOT_VALUE
    + r"|\[Update\] Layer ([^,\n]+), param (\S+) data: " + HOT_VALUE + r"; diff: (\S+)"
    r"|\[Backward\] All net params \(data, diff\): L1 norm = \(([^,\n]+), ([^)\n]+)\);"
    r" L2 norm = \(([^,\n]+), ([^)\n]+)\)"
    r")?[^\n]*\n",
    re.MULTILINE | re.ASCII,
)
NORMS = ("debug.params.data_l1", "debug.params.diff_l1", "debug.params.data_l2", "debug.params.diff_l2")
# A line starting like a glog line; any other line (parameter blocks, pasted text, crash reports)
# is read as unprefixed text.
GLOG_START = regex.compile(r"[ \t]*[IWEF](?:\d{8}|\d{4}) \d\d:\d\d:\d\d")
GLOG_CHATTER = regex.compile(
    r"^(?:Log file created at:|Running on machine:|Log line format:|Running duration|"
    r"WARNING: Logging before InitGoogleLogging|\s+@\s+0x|PC: @|\*\*\* )"
)
CRASH = regex.compile(
    r"^(?:\*\*\* (?:Aborted|SIG\w+|Check failure)|.*(?:double free or corruption|Segmentation fault"
    r"|core dumped|terminate called after throwing))"
)
PROTO_FIELD = regex.compile(r"^\s*(?P<key>\w+)\s*(?::\s*(?P<value>.*?)\s*|(?P<open>\{))\s*$")
PROTO_CLOSE = regex.compile(r"^\s*\}\s*$")
# The layer settings later rules need, by the block they stand in (None: the layer block itself).
LAYER_FIELDS = {
    None: {"type", "loss_weight"},
    "pooling_param": {"kernel_size", "kernel_h", "kernel_w", "stride", "stride_h", "stride_w", "pad", "pool",
                      "global_pooling"},
    "param": {"lr_mult"},
}


class _Clock:
    """glog timestamps (no year, or a year) to seconds since the first one.

    Without a year, a date far before the previous one means the log crossed New Year.
    """

    def __init__(self) -> None:
        self.origin: float | None = None
        self.year_offset = 0
        self.last_day = None
        self._days: dict[str, int] = {}
        # What the native scanner needs to work the seconds out itself while the date stays the same: the
        # last date code seen, its day in seconds, the origin (None: not known, or the last stamps were text).
        self.current: tuple[int, float, float] | None = None

    def seconds(self, dates: list[str], times: list[str]) -> np.ndarray:
        """Per line: seconds since the first time stamp of the log; nan for a line without one."""
        if not dates:
            return np.full(0, np.nan)
        all_dates = np.asarray(dates, dtype=str)
        stamped = np.flatnonzero(all_dates != "")
        if not len(stamped):
            return np.full(len(dates), np.nan)
        minutes, seconds = _clock_time(np.asarray(times, dtype=str)[stamped])
        return self._since_origin(len(dates), stamped, all_dates[stamped], minutes, seconds)

    def seconds_of(self, dates: np.ndarray, minutes: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """The same from the native scanner's stamps: date codes (-1: no stamp; MMDD; 10^8 + YYYYMMDD),
        minutes of the day and seconds, per line."""
        if len(dates) and dates.min() >= 0:  # (glog lines all: no line to leave out)
            return self._since_origin(len(dates), slice(None), dates, minutes, seconds)
        stamped = np.flatnonzero(dates >= 0)
        if not len(stamped):
            return np.full(len(dates), np.nan)
        return self._since_origin(len(dates), stamped, dates[stamped], minutes[stamped], seconds[stamped])

    def _since_origin(self, n: int, stamped: np.ndarray | slice, dates: np.ndarray, minutes: np.ndarray,
                      seconds: np.ndarray) -> np.ndarray:
        # The date changes rarely: convert it once per run of equal dates, in order (New Year).
        starts = np.flatnonzero(dates[1:] != dates[:-1]) + 1
        if len(starts):
            starts = np.r_[0, starts]
            days = np.repeat([self._day(_date_text(dates[i])) for i in starts], np.diff(np.r_[starts, len(dates)]))
            last_day = days[-1]
        else:  # one date: the same sums with a number for the array of days
            days = last_day = self._day(_date_text(dates[0]))
        absolute = days * 86400.0 + minutes * 60  # in this order: exact integers first
        absolute += seconds
        if self.origin is None:
            valid = ~np.isnan(absolute)
            if valid.any():
                self.origin = float(absolute[valid][0])
        if self.origin is None:
            return np.full(n, np.nan)
        coded = dates.dtype.kind == "i"  # (the scanner's codes, not text)
        self.current = (int(dates[-1]), float(last_day) * 86400.0, self.origin) if coded else None
        absolute -= self.origin
        if isinstance(stamped, slice):
            return absolute
        out = np.full(n, np.nan)
        out[stamped] = absolute
        return out

    def _day(self, date: str) -> float:
        day = self._days.get(date)
        if day is None:
            try:
                if len(date) == 8:
                    day = datetime.date(int(date[:4]), int(date[4:6]), int(date[6:])).toordinal()
                else:
                    day = datetime.date(2000, int(date[:2]), int(date[2:])).toordinal()
            except ValueError:
                return math.nan
            self._days[date] = day
        if len(date) == 4:
            if self.last_day is not None and day + self.year_offset < self.last_day - 180:
                self.year_offset += 366
            day += self.year_offset
        self.last_day = day
        return float(day)


def _date_text(date) -> str:
    """A date as the log printed it, from its text or the native scanner's code."""
    if isinstance(date, (str, np.str_)):
        return str(date)
    date = int(date)
    return f"{date - 10**8:08d}" if date >= 10**8 else f"{date:04d}"


def _clock_time(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``HH:MM:SS[.ffffff]`` strings in bulk: minutes of the day, and seconds as ``float("SS.ffffff")`` gives."""
    width = chars.dtype.itemsize // 4
    if width > 24:  # fractions too long for exact integer arithmetic: rare, convert one by one
        return (np.array([int(t[:2]) * 60 + int(t[3:5]) for t in chars.tolist()]),
                np.array([float(t[6:]) for t in chars.tolist()]))
    digits = chars.view(np.uint32).reshape(len(chars), width).astype(np.int64) - 48
    hours = digits[:, 0] * 10 + digits[:, 1]
    minutes = digits[:, 3] * 10 + digits[:, 4]
    whole = digits[:, 6] * 10 + digits[:, 7]
    scale = np.ones(len(chars), dtype=np.int64)
    for column in range(9, width):  # the fraction's digits; shorter stamps are padded with NUL (-48)
        present = digits[:, column] >= 0
        whole = np.where(present, whole * 10 + digits[:, column], whole)
        scale = np.where(present, scale * 10, scale)
    # An exact integer divided by a power of ten rounds like parsing the decimal does.
    return hours * 60 + minutes, whole / scale


class _ProtoBlock:
    """State of a protobuf text block being read (``Initializing solver/net from parameters:``)."""

    def __init__(self, what: str) -> None:
        self.what = what          # "solver" or "net"
        self.stack: list[str] = []
        self.layer: dict[str, list[tuple[int, str]]] | None = None
        self.layer_depth = 0


class CaffeLineParser:
    """Reads one Caffe log; the current iteration and test pass live here between blocks."""

    def __init__(self) -> None:
        self.clock = _Clock()
        self.iteration: int | None = None
        self.test_iteration: int | None = None
        self.test_net = 0
        self.testing = False
        self.proto: _ProtoBlock | None = None
        self.proto_last_line = -1
        # debug_info lines of a training iteration come before its display line: hold them
        # until "Iteration N, loss" tells which iteration they belong to.
        self.pending: Rows | None = None

    # -- the block loop -------------------------------------------------------------
    def feed(self, block: Block) -> Batch:
        # (a redrawn line may hold a parameter line and a hot one: the Python path reads them in order)
        if native is not None and self.pending is None and self.proto is None and (
                block.physical is None or "from parameters:" not in block.text):
            batch = self._feed_native(block)
            if batch is not None:
                return batch
        rows = Rows()
        unknown: list[int] = []
        text = block.text
        scanned = SCAN.findall(text)
        seconds = self.clock.seconds([g[0] for g in scanned], [g[1] for g in scanned])
        debug = DEBUG_SCAN.findall(text) if "[Forward]" in text or "[Backward]" in text or "[Update]" in text else None
        # (index, name, value, step, phase, output, net, weight, layer, blob) of the lines read in bulk
        hot: list[tuple] = []
        add = hot.append
        waiting: list[tuple] = []  # debug_info rows of training lines of this block, until the display line
        # The state these lines change lives in locals, and goes back and forth with self around any other line.
        iteration, test_iteration, test_net, testing = self.iteration, self.test_iteration, self.test_net, self.testing
        since_sync = False  # a line read in bulk came since the last sync: it ended any parameter block
        for index, (_, _, it, loss, lr, net, phase, k, name, value, weight) in enumerate(scanned):
            if value:
                testing = False  # test outputs close a test pass: [Forward] lines after them are training
                if phase == "Train":
                    add((index, name, value, iteration, "train", int(k), None, weight, None, None))
                else:
                    add((index, name, value, test_iteration, "test", int(k), test_net, weight, None, None))
            elif loss:
                iteration, testing = int(it), False
                if self.pending is not None:
                    _add_hot_rows(hot, block, seconds, rows)
                    _flush_pending(self.pending, rows, iteration)
                    self.pending = None
                hot.extend(row[:3] + (iteration,) + row[4:] for row in waiting)
                waiting.clear()
                add((index, "loss", loss, iteration, "train", None, None, "", None, None))
            elif lr:
                iteration, testing = int(it), False
                add((index, "lr", lr, iteration, "train", None, None, "", None, None))
            elif net:
                test_iteration, test_net, testing = int(it), int(net), True
            elif debug is not None and any(debug[index]):
                _debug_rows(index, debug[index], testing, iteration, test_iteration, test_net, add, waiting.append)
            else:
                _add_hot_rows(hot, block, seconds, rows)  # rows stay in the order of the lines
                self._sync(iteration, test_iteration, test_net, testing, since_sync)
                since_sync = False
                self._other(block, index, seconds, rows, unknown)
                iteration, test_iteration, test_net, testing = (self.iteration, self.test_iteration, self.test_net,
                                                                 self.testing)
                continue
            since_sync = True
        self._sync(iteration, test_iteration, test_net, testing, since_sync)
        _add_hot_rows(hot, block, seconds, rows)
        if waiting:
            if self.pending is None:
                self.pending = Rows()
            _add_hot_rows(waiting, block, seconds, self.pending)
        return Batch(rows, unknown)

    def _feed_native(self, block: Block) -> Batch | None:
        """The block read by the C scanner, or None when it needs the Python path (debug_info lines, a new
        solver or net definition, values only to_float reads: see _caffe_scan.c)."""
        text = block.text
        scanned = native.scan(text, self.iteration, self.test_iteration, self.test_net, self.testing, len(block),
                              self.clock.current)
        if scanned is None:
            return None
        (dates, minutes, seconds_, index, name, value, step, step_known, phase, output, output_known, net, net_known,
         weight, cold, cold_start, cold_iteration, cold_iteration_known, cold_test_iteration, cold_test_iteration_known,
         cold_test_net, kind, text_code, row_seconds, texts, names, state) = scanned
        clocked = row_seconds is not None  # every stamp of the block has the clock's date: the rows' seconds
        if not clocked or len(cold):  # the clock works them out (and those of the cold lines)
            seconds = self.clock.seconds_of(np.frombuffer(dates, np.int64), np.frombuffer(minutes, np.int64),
                                            np.frombuffer(seconds_, np.float64))
        rows, unknown = Rows(), []
        known = (np.frombuffer(cold_iteration_known, np.bool_), np.frombuffer(cold_test_iteration_known, np.bool_))
        cold_index = np.frombuffer(cold, np.int64)
        for i, (line, start, it, test_it, test_net) in enumerate(zip(
                cold_index.tolist(), np.frombuffer(cold_start, np.int64).tolist(),
                np.frombuffer(cold_iteration, np.int64).tolist(), np.frombuffer(cold_test_iteration, np.int64).tolist(),
                np.frombuffer(cold_test_net, np.int64).tolist())):
            # the scanner declines the lines that change the state: each is read in the state it saw there
            self.iteration = it if known[0][i] else None
            self.test_iteration = test_it if known[1][i] else None
            self.test_net = test_net
            self._other(block, line, seconds, rows, unknown, text[start:text.index("\n", start)])
        self.iteration, self.test_iteration, self.test_net, self.testing = state
        where = np.frombuffer(index, np.int64)
        if self.proto is not None and len(where) and where[-1] > (cold_index[-1] if len(cold_index) else -1):
            self.proto = None  # a hot line after the parameter block ended it (as _sync does)
        lines = where + block.first if block.physical is None else np.asarray(block.physical, dtype=np.int64)[where]
        columns = dict(
            line=lines, seconds=np.frombuffer(row_seconds, np.float64) if clocked else seconds[where],
            value=np.frombuffer(value, np.float64),
            name=(np.frombuffer(name, np.int32), names),
            step=_masked(step, step_known), phase=np.frombuffer(phase, np.int8), kind=np.frombuffer(kind, np.int8),
            text=(np.frombuffer(text_code, np.int32), texts),
            output=_masked(output, output_known), net=_masked(net, net_known),
            weight=np.frombuffer(weight, np.float64),
        )
        return Batch(rows, unknown, columns)

    def _sync(self, iteration: int | None, test_iteration: int | None, test_net: int, testing: bool,
              since_sync: bool) -> None:
        self.iteration, self.test_iteration, self.test_net, self.testing = iteration, test_iteration, test_net, testing
        if since_sync:
            self.proto = None

    def _other(self, block: Block, index: int, seconds: np.ndarray, rows: Rows, unknown: list[int],
               text: str | None = None) -> None:
        """A line that is not one of the hot messages: any other message, a parameter block, text."""
        text = block.lines[index] if text is None else text
        m = LINE.match(text)
        if m:
            self._message(m, block.line_of(index), rows, float(seconds[index]))
        elif not GLOG_START.match(text):
            self._unprefixed(text, index, block, rows, unknown)
        elif text.lstrip().startswith("F"):
            fatal = GLOG_FATAL.match(text)
            if fatal:
                self._note(rows, block.line_of(index), "fatal", fatal.group("text").strip())

    def close(self) -> Batch:
        rows = Rows()
        if self.pending is not None:
            rows.extend(self.pending)
            self.pending = None
        return Batch(rows)

    # -- one glog message -----------------------------------------------------------
    def _message(self, m, line: int, rows: Rows, seconds: float) -> None:
        kind = m.lastgroup if m.lastgroup in KINDS else _kind_of(m)
        if kind == "blank":
            # Intel Caffe prints the net definition after one empty glog message.
            if self.proto is not None and line == self.proto_last_line + 1:
                self.proto_last_line = line
            return
        self.proto = None
        if kind in BULK_KINDS:
            raise AssertionError(f"{kind} lines are read in bulk by feed()")
        if kind == "test_loss":
            self._value(rows, line, "loss", m.group("v"), seconds, phase="test",
                        step=self.test_iteration, net=self.test_net)
        elif kind == "clip":
            self._value(rows, line, "grad_norm", m.group("v"), seconds, step=self.iteration)
        elif kind == "params":
            if m.group("what") == "solver":  # a new run begins (or a log appended to another)
                self.iteration = self.test_iteration = None
                self.test_net, self.testing = 0, False
            self.proto = _ProtoBlock(m.group("what"))
            self.proto_last_line = line
            self._note(rows, line, f"{m.group('what')}_parameters", "", seconds=seconds)
        elif kind == "multistep":
            self._note(rows, line, "multistep", m.group(0).strip(), seconds=seconds,
                       step=int(m.group("it")), value=float(m.group("v")))
        elif kind == "stop_at":
            self._note(rows, line, "stopped", m.group(0).strip(), seconds=seconds, step=int(m.group("it")))
        elif kind in ("snapshot", "restore", "solving", "lr_policy"):
            self._note(rows, line, kind, m.group("text").strip(), seconds=seconds, step=self.iteration)
        else:  # done, test_interrupted
            self._note(rows, line, kind, m.group(0).strip(), seconds=seconds, step=self.iteration)

    # -- lines without a glog prefix ------------------------------------------------------
    def _unprefixed(self, text: str, index: int, block: Block, rows: Rows, unknown: list[int]) -> None:
        line = block.line_of(index)
        if self.proto is not None and line <= self.proto_last_line + 1:
            self.proto_last_line = line
            self._proto_line(text, line, rows)
            return
        self.proto = None
        if not text.strip():
            return
        if CRASH.match(text):
            self._note(rows, line, "crash", text.strip(), step=self.iteration)
        elif not GLOG_CHATTER.match(text):
            unknown.append(index)

    def _proto_line(self, text: str, line: int, rows: Rows) -> None:
        proto = self.proto
        if PROTO_CLOSE.match(text):
            if proto.stack:
                proto.stack.pop()
                if proto.layer is not None and len(proto.stack) < proto.layer_depth:
                    self._layer_notes(proto.layer, rows)
                    proto.layer = None
            return
        m = PROTO_FIELD.match(text)
        if not m:
            return
        key = m.group("key")
        if m.group("open"):
            proto.stack.append(key)
            if key in ("layer", "layers") and proto.layer is None:
                proto.layer = {}
                proto.layer_depth = len(proto.stack)
            return
        value = m.group("value").strip('"')
        if proto.layer is not None:
            depth = len(proto.stack) - proto.layer_depth
            within = None if depth == 0 else proto.stack[-1] if depth == 1 else ""
            if key == "name" and within is None:
                proto.layer["name"] = [(line, value)]
            elif key in LAYER_FIELDS.get(within, ()):
                proto.layer.setdefault(key, []).append((line, value))
        elif not proto.stack and proto.what == "solver":
            number = to_float(value)
            self._note(rows, line, f"solver.{key}", value, value=math.nan if number is None else number)

    def _layer_notes(self, layer: dict, rows: Rows) -> None:
        names = layer.get("name")
        layer_name = names[0][1] if names else None
        for key, entries in layer.items():
            if key == "name":
                continue
            for line, value in entries:
                number = to_float(value)
                self._note(rows, line, f"layer.{key}", value, layer=layer_name,
                           value=math.nan if number is None else number)

    # -- row helpers ------------------------------------------------------------------
    @staticmethod
    def _value(rows: Rows, line: int, series: str, token: str, seconds: float = math.nan, **where) -> None:
        value = to_float(token)
        if value is None:
            rows.note(line, series, f"unreadable value {token!r}", seconds=seconds, **where)
        else:
            rows.add(line, series, value, seconds=seconds, **where)

    @staticmethod
    def _note(rows: Rows, line: int, series: str, text: str, **where) -> None:
        rows.note(line, series, text, **where)


HOT_KINDS = frozenset({"display", "lr", "testing", "output"})  # read by SCAN
BULK_KINDS = HOT_KINDS | {"forward", "backward", "update", "norms"}  # and by DEBUG_SCAN


def _masked(values: bytearray, known: bytearray) -> np.ma.MaskedArray:
    """A nullable integer column from the scanner's buffers."""
    return np.ma.MaskedArray(np.frombuffer(values, np.int64), mask=~np.frombuffer(known, np.bool_))


def _debug_rows(index: int, groups: tuple, testing: bool, iteration, test_iteration, test_net, add, wait) -> None:
    """The rows of one debug_info line (``groups``: a DEBUG_SCAN match).  Forward values in a test pass
    and updates are rows now; other training values wait for the display line that tells their iteration."""
    f_layer, f_what, f_blob, f_value, b_layer, b_what, b_blob, b_value, u_layer, u_blob, u_data, u_diff, *norms = groups
    if f_value:
        if testing:
            add((index, f"debug.forward.{f_what}", f_value, test_iteration, "test", None, test_net, "",
                 f_layer.strip(), f_blob))
        else:
            wait((index, f"debug.forward.{f_what}", f_value, None, "train", None, None, "", f_layer.strip(), f_blob))
    elif b_value:
        wait((index, f"debug.backward.{b_what}", b_value, None, "train", None, None, "", b_layer.strip(), b_blob))
    elif u_data:
        layer = u_layer.strip()
        add((index, "debug.update.data", u_data, iteration, "train", None, None, "", layer, u_blob))
        add((index, "debug.update.diff", u_diff, iteration, "train", None, None, "", layer, u_blob))
    else:
        for series, token in zip(NORMS, norms):
            wait((index, series, token, None, "train", None, None, "", None, None))


def _add_hot_rows(hot: list[tuple], block: Block, seconds: np.ndarray, rows: Rows) -> None:
    """Move the rows of the hot lines collected so far into ``rows``, column by column."""
    if not hot:
        return
    index = [h[0] for h in hot]
    values = _floats([h[2] for h in hot])
    if None in values:  # a value that cannot be read becomes a note: row by row, in order (rare)
        for (i, name, token, step, phase, output, net, weight, layer, blob), value in zip(hot, values):
            where = dict(seconds=float(seconds[i]), step=step, phase=phase, output=output, net=net, layer=layer,
                         blob=blob)
            if value is None:
                rows.note(block.line_of(i), name.strip(), f"unreadable value {token!r}", **where)
            else:
                rows.add(block.line_of(i), name.strip(), value, weight=_weights([weight])[0], **where)
        hot.clear()
        return
    where = np.asarray(index)
    lines = (where + block.first).tolist() if block.physical is None else [block.physical[i] for i in index]
    rows.add_columns(
        len(hot), line=lines, name=[h[1].strip() for h in hot], value=values, step=[h[3] for h in hot],
        phase=[h[4] for h in hot], output=[h[5] for h in hot], net=[h[6] for h in hot],
        weight=_weights([h[7] for h in hot]), seconds=seconds[where].tolist(), layer=[h[8] for h in hot],
        blob=[h[9] for h in hot],
    )
    hot.clear()


def _floats(tokens: list[str]) -> list[float | None]:
    try:
        return list(map(float, tokens))
    except ValueError:  # a spelling float() does not know (1.#QNAN, nan(ind)), or no number at all
        return [to_float(token) for token in tokens]


def _weights(tokens: list[str]) -> list[float]:
    """Loss weights (``* w = …``); only loss outputs print one."""
    blank = tokens.count("")
    if blank == len(tokens):
        return [math.nan] * len(tokens)
    if blank == 0:
        numbers = _floats(tokens)
        if None not in numbers:
            return numbers
    return [math.nan if number is None else number
            for number in (to_float(token) if token else None for token in tokens)]


# ``lastgroup`` names the kind only when its pattern does not end in a shared group name (``v``, ``d``);
# otherwise look for it, the kinds of the lines that reach LINE (not those read in bulk) first.
_KIND_SEARCH = sorted(KINDS, key=lambda kind: kind in BULK_KINDS)


def _kind_of(m) -> str:
    for kind in _KIND_SEARCH:
        if m.group(kind) is not None:
            return kind
    raise AssertionError("LINE matched no message kind")


def _flush_pending(pending: Rows, rows: Rows, iteration: int) -> None:
    """The debug_info rows of earlier blocks get the iteration of the display line that came."""
    pending.columns["step"] = [iteration] * len(pending)
    rows.extend(pending)


def sniff(head: list[str]) -> int:
    """Caffe if solver or net messages appear in the head of the input."""
    score = 0
    for line in head:
        if LINE.match(line) and ("Iteration" in line or "net output" in line or "from parameters" in line):
            score += 3
        elif "solver.cpp:" in line or "net.cpp:" in line or "caffe.cpp:" in line:
            score += 2
    return score


def start() -> CaffeLineParser:
    return CaffeLineParser()
