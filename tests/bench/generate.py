"""Deterministic generator of large, realistic training logs for the benchmark.

Three formats, each in a ``healthy`` and a ``diverging`` variant, written to any size:

* ``caffe``: BVLC Caffe glog output of ``caffe train`` on LeNet: the solver parameter block, both
  net definitions with ``net.cpp`` set-up chatter, then per display (every 20 iterations) the three
  lines ``solver.cpp:239] Iteration N (r iter/s, ts/20 iters), loss = x``, ``Train net output #0``
  and ``sgd_solver.cpp:112] Iteration N, lr = x``; a test pass every 1000 iterations, snapshots,
  ``Restarting data prefetching`` chatter, and the end of a run (``Optimization Done.``).
* ``keras``: Keras 2 ``fit(verbose=1)`` to a file: ``Epoch k/N`` headers and one physical line per
  epoch holding thousands of bar states, each erased as Keras 2 does it (a run of ``\\b`` as wide as
  the previous state, then ``\\r``); the last state carries ``val_loss``/``val_accuracy``.
* ``lightning``: PyTorch-Lightning 1.x tqdm bars: the main bar ``Epoch 3:  42%|████▏     | 420/1000
  [00:10<00:14, 40.10it/s, loss=0.123, v_num=3, train_loss_step=0.11]`` drawn twice per step (old
  postfix, then new) on one physical line per epoch, and a validation bar (``\\n\\r … \\x1b[A``) that
  advances the main bar, whose total includes the validation batches.

Healthy: the loss decreases noisily.  Diverging: at ``--diverge-at`` (a fraction of the run; for
Keras and Lightning the middle of the epoch there) the loss grows x10 per display for four displays,
then is ``nan`` (Caffe prints ``-nan``) to the end, as an unattended run goes on printing it.

Output is a function of the arguments only (numpy PCG64 streams seeded per chunk; only uniform
doubles are drawn, whose stream numpy keeps stable), and is written a chunk (~1-4 MB) at a time:
memory stays flat whatever the size.  The number of epochs/iterations is chosen so that the file
lands within a few percent of the requested size (about 1%; less than one epoch of Keras/Lightning
for small sizes), ``MB`` being 2**20 bytes.  Rendering is vectorised (numpy for the numbers, one
``bytes % tuple`` per display or state, joins per chunk) and writing overlaps it in a thread: about
100 MB per CPU second.

Usage::

    python tests/bench/generate.py --format caffe --variant healthy --mb 100 -o out.log

As a module: ``generate(fmt, variant, size_bytes, path) -> dict`` (what was written, and where the
first non-finite loss is).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
import threading
from itertools import chain, repeat
from queue import Queue
from typing import Iterator

import numpy as np

MB = 1 << 20
FORMATS = ("caffe", "keras", "lightning")
VARIANTS = ("healthy", "diverging")
DEFAULT_SEED = 20160717
DEFAULT_DIVERGE_AT = 0.6
GROWTH_DISPLAYS = 4          # displays with x10 growth before the first nan
WRITE_BYTES = 4 * MB


# ----------------------------------------------------------------------------- shared helpers

def _noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Zero-mean noise with unit variance, from uniforms only (stable across numpy versions)."""
    u = rng.random((2, n))
    return (u[0] + u[1] - 1.0) * 2.449489742783178


def _hash01(index: np.ndarray, salt: int) -> np.ndarray:
    """A deterministic uniform in [0, 1) per integer index, independent of any chunking."""
    x = (index.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    x ^= x >> np.uint64(31)
    x = (x * np.uint64(0xBF58476D1CE4E5B9)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    x ^= x >> np.uint64(29)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _curve(x: np.ndarray, start: float, floor: float, speed: float = 5.0) -> np.ndarray:
    """A training curve: from ``start`` at x=0 towards ``floor`` as x goes to 1."""
    return floor + (start - floor) * np.exp(-speed * x)


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, *keys])


def _bytes_g(values: np.ndarray, nan: bytes = b"nan") -> list[bytes]:
    """``%g`` of each value (C++ streams' default precision 6), NaN spelt ``nan``."""
    out = list(map(b"%g".__mod__, values.tolist()))
    if nan != b"nan" and np.isnan(values).any():
        out = [nan if v == b"nan" else v for v in out]
    return out


def _mid_epoch(epochs: int, steps: int, fraction: float) -> int:
    """The global step (1-based) in the middle of the epoch at ``fraction`` of the run."""
    epoch = min(epochs - 1, int(epochs * fraction))
    return epoch * steps + max(GROWTH_DISPLAYS + 2, steps // 2)


class Generator:
    """A log format: a plan of ``units`` (test periods or epochs), rendered a chunk at a time.

    ``render(c)`` depends only on the plan, the seed and ``c``, so a sample of chunks tells the
    size of the whole file; ``plan`` is re-solved until the estimate meets the requested size.
    """

    marker = b"nan"          # how the first non-finite loss is spelt in the output
    units_per_chunk = 1

    def __init__(self, variant: str, size: int, seed: int = DEFAULT_SEED,
                 diverge_at: float = DEFAULT_DIVERGE_AT) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}")
        self.variant = variant
        self.diverging = variant == "diverging"
        self.size = size
        self.seed = seed
        self.diverge_at = diverge_at
        self.units = self.initial_units()
        self.configure()
        for _ in range(4):
            fixed = len(self.header().encode()) + len(self.footer().encode())
            per_unit = (self.estimate() - fixed) / self.units
            units = max(1, round((size - fixed) / per_unit))
            if abs(units - self.units) <= 0.004 * self.units:
                break
            self.units = units
            self.configure()

    # -- to be provided by each format ---------------------------------------------------
    def initial_units(self) -> int:
        raise NotImplementedError

    def configure(self) -> None:
        """Derive everything that depends on ``self.units``."""

    def header(self) -> str:
        raise NotImplementedError

    def render(self, chunk: int) -> bytes:
        """The text of chunk ``chunk``, encoded."""
        raise NotImplementedError

    def footer(self) -> str:
        return ""

    # -- shared ----------------------------------------------------------------------------
    @property
    def chunks(self) -> int:
        return -(-self.units // self.units_per_chunk)

    def estimate(self, samples: int = 3) -> int:
        """Estimated bytes of the whole file: the first chunk exactly, the rest from a few samples."""
        chunks = self.chunks
        fixed = len(self.header().encode()) + len(self.footer().encode()) + len(self.render(0))
        if chunks <= samples + 1:
            return fixed + sum(len(self.render(c)) for c in range(1, chunks))
        picks = sorted({1 + round(i * (chunks - 2) / (samples - 1)) for i in range(samples)})
        units = bytes_ = 0
        for c in picks:
            units += min(self.units_per_chunk, self.units - c * self.units_per_chunk)
            bytes_ += len(self.render(c))
        return fixed + round(bytes_ / units * (self.units - self.units_per_chunk))

    def pieces(self) -> Iterator[bytes]:
        yield self.header().encode()
        for c in range(self.chunks):
            yield self.render(c)
        yield self.footer().encode()

    def describe(self) -> dict:
        return {}


# ----------------------------------------------------------------------------- Caffe

CAFFE_TID = 9965
DISPLAY = 20
TEST_INTERVAL = 1000
DISPLAYS_PER_UNIT = TEST_INTERVAL // DISPLAY
SNAPSHOT_UNITS = 10
RESTART_AFTER = 23           # "Restarting data prefetching" after this display of each period

LENET = (
    # name, type, bottoms, tops, shape of each top (None: batch), phase-only, proto body
    ("mnist", "Data", (), ("data", "label"), ((1, 28, 28), ()), None, None),
    ("conv1", "Convolution", ("data",), ("conv1",), ((20, 24, 24),), None,
     ("param {\n  lr_mult: 1\n}\nparam {\n  lr_mult: 2\n}\nconvolution_param {\n  num_output: 20\n"
      "  kernel_size: 5\n  stride: 1\n  weight_filler {\n    type: \"xavier\"\n  }\n  bias_filler {\n"
      "    type: \"constant\"\n  }\n}")),
    ("pool1", "Pooling", ("conv1",), ("pool1",), ((20, 12, 12),), None,
     "pooling_param {\n  pool: MAX\n  kernel_size: 2\n  stride: 2\n}"),
    ("conv2", "Convolution", ("pool1",), ("conv2",), ((50, 8, 8),), None,
     ("param {\n  lr_mult: 1\n}\nparam {\n  lr_mult: 2\n}\nconvolution_param {\n  num_output: 50\n"
      "  kernel_size: 5\n  stride: 1\n  weight_filler {\n    type: \"xavier\"\n  }\n  bias_filler {\n"
      "    type: \"constant\"\n  }\n}")),
    ("pool2", "Pooling", ("conv2",), ("pool2",), ((50, 4, 4),), None,
     "pooling_param {\n  pool: MAX\n  kernel_size: 2\n  stride: 2\n}"),
    ("ip1", "InnerProduct", ("pool2",), ("ip1",), ((500,),), None,
     ("param {\n  lr_mult: 1\n}\nparam {\n  lr_mult: 2\n}\ninner_product_param {\n  num_output: 500\n"
      "  weight_filler {\n    type: \"xavier\"\n  }\n  bias_filler {\n    type: \"constant\"\n  }\n}")),
    ("relu1", "ReLU", ("ip1",), ("ip1",), ((500,),), None, None),
    ("ip2", "InnerProduct", ("ip1",), ("ip2",), ((10,),), None,
     ("param {\n  lr_mult: 1\n}\nparam {\n  lr_mult: 2\n}\ninner_product_param {\n  num_output: 10\n"
      "  weight_filler {\n    type: \"xavier\"\n  }\n  bias_filler {\n    type: \"constant\"\n  }\n}")),
    ("accuracy", "Accuracy", ("ip2", "label"), ("accuracy",), (None,), "TEST", None),
    ("loss", "SoftmaxWithLoss", ("ip2", "label"), ("loss",), (None,), None, None),
)


class _GlogClock:
    """Formats glog timestamps ``MMDD HH:MM:SS.uuuuuu`` from microseconds since a start day."""

    def __init__(self, start: datetime.date) -> None:
        self.start = start
        self._days: dict[int, str] = {}

    def day(self, index: int) -> str:
        text = self._days.get(index)
        if text is None:
            text = (self.start + datetime.timedelta(days=index)).strftime("%m%d")
            self._days[index] = text
        return text

    def stamps(self, micros: np.ndarray) -> tuple[list[bytes], np.ndarray]:
        """``b"MMDD HH:MM:SS"`` and the microseconds, for each time."""
        seconds = micros // 1_000_000
        first, last = int(seconds.min()), int(seconds.max())
        table = []
        for s in range(first, last + 1):
            day, rest = divmod(s, 86400)
            h, rest = divmod(rest, 3600)
            m, sec = divmod(rest, 60)
            table.append(b"%s %02d:%02d:%02d" % (self.day(day).encode(), h, m, sec))
        return list(map(table.__getitem__, (seconds - first).tolist())), micros - seconds * 1_000_000

    def one(self, micros: int) -> str:
        s, us = divmod(int(micros), 1_000_000)
        day, rest = divmod(s, 86400)
        h, rest = divmod(rest, 3600)
        m, sec = divmod(rest, 60)
        return f"{self.day(day)} {h:02d}:{m:02d}:{sec:02d}.{us:06d}"


class Caffe(Generator):
    """BVLC Caffe ``caffe train --solver=lenet_solver.prototxt`` on one GPU."""

    marker = b"-nan"
    units_per_chunk = 16     # one unit = one test period: a test pass + 50 displays
    START = datetime.date(2016, 7, 17)
    T0 = (21 * 3600 + 6 * 60 + 8) * 1_000_000 + 612304   # microseconds into the start day
    RATE = 480.0             # iterations per second
    TEST_SECONDS = 1.4

    def initial_units(self) -> int:
        return max(1, self.size // (DISPLAYS_PER_UNIT * 290))

    def configure(self) -> None:
        self.max_iter = self.units * TEST_INTERVAL
        self.stepsize = max(TEST_INTERVAL, round(self.max_iter / 3 / TEST_INTERVAL) * TEST_INTERVAL)
        self.base_lr = 0.05 if self.diverging else 0.01
        self.clock = _GlogClock(self.START)
        displays = self.units * DISPLAYS_PER_UNIT
        # First display whose loss is nan; the GROWTH_DISPLAYS before it grow x10 each.
        self.nan_display = min(displays - 1, max(GROWTH_DISPLAYS + 1, int(displays * self.diverge_at))) \
            if self.diverging else None
        self.display_micros = DISPLAY / self.RATE * 1e6
        self._timing_cache: dict[int, bytes] = {}

    # -- time and values as functions of the display index (any chunking gives the same) -------
    def _micros(self, g: np.ndarray) -> np.ndarray:
        """Start of the log plus training time plus test passes plus jitter, for display ``g``."""
        unit = g // DISPLAYS_PER_UNIT
        jitter = _hash01(g, 1) * 0.35 * self.display_micros
        t = (self.T0 + 300_000 + g * self.display_micros + unit * self.TEST_SECONDS * 1e6 + jitter).astype(np.int64)
        # The three lines of a display are stamped 17 and 29 us apart, within the same second.
        return t - np.maximum(0, t % 1_000_000 - 999_960)

    def _loss(self, g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = g / max(1, self.units * DISPLAYS_PER_UNIT)
        drops = (g * DISPLAY) // self.stepsize
        loss = _curve(x, 2.30, 0.02, 6.0) * 0.8 ** drops
        loss = loss * np.exp(0.25 * _noise(rng, len(g)))
        if self.diverging:
            loss = self._diverge(g, loss)
        return loss

    def _diverge(self, g: np.ndarray, loss: np.ndarray) -> np.ndarray:
        nan_at = self.nan_display
        base = float(_curve(np.array([(nan_at - GROWTH_DISPLAYS - 1) / (self.units * DISPLAYS_PER_UNIT)]),
                            2.30, 0.02, 6.0)[0]) * 1.9
        k = g - (nan_at - GROWTH_DISPLAYS - 1)
        growing = (k >= 1) & (k <= GROWTH_DISPLAYS)
        loss = np.where(growing, base * 10.0 ** np.clip(k, 0, GROWTH_DISPLAYS), loss)
        return np.where(g >= nan_at, np.nan, loss)

    @staticmethod
    def _fmt(values: np.ndarray) -> list[str]:
        """``%g`` as C++ streams print a float (precision 6); glibc prints NaN as ``-nan``."""
        out = list(map("%g".__mod__, values.tolist()))
        if np.isnan(values).any():
            out = ["-nan" if s == "nan" else s for s in out]
        return out

    # -- the text ------------------------------------------------------------------------------
    def _line(self, micros: int, source: str, text: str) -> str:
        return f"I{self.clock.one(micros)} {CAFFE_TID:5d} {source}] {text}\n"

    def header(self) -> str:
        lines: list[str] = []
        t = [self.T0 - 2_500_000]

        def log(source: str, text: str, step: int = 37) -> None:
            t[0] += step
            lines.append(self._line(t[0], source, text))

        def block(text: str) -> None:
            lines.append(text + "\n")

        log("caffe.cpp:204", "Using GPUs 0")
        log("caffe.cpp:209", "GPU 0: GeForce GTX 1080 Ti", 91_000)
        log("solver.cpp:45", "Initializing solver from parameters: ", 310_000)
        block(f"test_iter: 100\ntest_interval: {TEST_INTERVAL}\nbase_lr: {self.base_lr:g}\ndisplay: {DISPLAY}\n"
              f"max_iter: {self.max_iter}\nlr_policy: \"step\"\ngamma: 0.1\nmomentum: 0.9\n"
              f"weight_decay: 0.0005\nstepsize: {self.stepsize}\nsnapshot: {SNAPSHOT_UNITS * TEST_INTERVAL}\n"
              "snapshot_prefix: \"examples/mnist/lenet\"\nsolver_mode: GPU\ndevice_id: 0\n"
              "net: \"examples/mnist/lenet_train_test.prototxt\"\ntrain_state {\n  level: 0\n  stage: \"\"\n}")
        log("solver.cpp:102", "Creating training net from net file: examples/mnist/lenet_train_test.prototxt")
        self._net(log, block, "TRAIN", 64)
        log("solver.cpp:190", "Creating test net (#0) specified by net file: "
            "examples/mnist/lenet_train_test.prototxt")
        self._net(log, block, "TEST", 100)
        log("solver.cpp:57", "Solver scaffolding done.")
        log("caffe.cpp:239", "Starting Optimization", 1200)
        log("solver.cpp:289", "Solving LeNet")
        log("solver.cpp:290", "Learning Rate Policy: step")
        return "".join(lines)

    def _net(self, log, block, phase: str, batch: int) -> None:
        phase_id = 0 if phase == "TRAIN" else 1
        layers = []
        for name, type_, bottoms, tops, shapes, only, body in LENET:
            if name == "mnist":
                source = f"examples/mnist/mnist_{phase.lower()}_lmdb"
                body = (f"include {{\n  phase: {phase}\n}}\ntransform_param {{\n  scale: 0.00390625\n}}\n"
                        f"data_param {{\n  source: \"{source}\"\n  batch_size: {batch}\n  backend: LMDB\n}}")
                log("net.cpp:296", f"The NetState phase ({phase_id}) differed from the phase ({1 - phase_id}) "
                    "specified by a rule in layer mnist")
            if only is not None and only != phase:
                log("net.cpp:296", f"The NetState phase ({phase_id}) differed from the phase ({1 - phase_id}) "
                    f"specified by a rule in layer {name}")
                continue
            if only is not None:
                body = f"include {{\n  phase: {only}\n}}"
            layers.append((name, type_, bottoms, tops, shapes, body))
        log("net.cpp:53", "Initializing net from parameters: ")
        state = "state {\n  phase: TRAIN\n  level: 0\n  stage: \"\"\n}" if phase == "TRAIN" \
            else "state {\n  phase: TEST\n}"
        proto = [f"name: \"LeNet\"\n{state}"]
        for name, type_, bottoms, tops, _, body in layers:
            text = [f"  name: \"{name}\"", f"  type: \"{type_}\""]
            text += [f"  bottom: \"{b}\"" for b in bottoms] + [f"  top: \"{t}\"" for t in tops]
            if body:
                text += ["  " + line for line in body.split("\n")]
            proto.append("layer {\n" + "\n".join(text) + "\n}")
        block("\n".join(proto))
        memory = 0
        split = phase == "TEST"
        for name, type_, bottoms, tops, shapes, _ in layers:
            log("layer_factory.hpp:77", f"Creating layer {name}", 9)
            log("net.cpp:86", f"Creating Layer {name}", 4)
            for b in bottoms:
                if split and b in ("ip2", "label"):
                    src = "ip2_ip2_0_split" if b == "ip2" else "label_mnist_1_split"
                    b = f"{src}_{0 if name == 'accuracy' else 1}"
                log("net.cpp:408", f"{name} <- {b}", 3)
            for top in tops:
                if top in bottoms:
                    log("net.cpp:369", f"{name} -> {top} (in-place)", 3)
                else:
                    log("net.cpp:382", f"{name} -> {top}", 3)
            if name == "mnist":
                log("db_lmdb.cpp:35", f"Opened lmdb examples/mnist/mnist_{phase.lower()}_lmdb", 2100)
                log("data_layer.cpp:41", f"output data size: {batch},1,28,28", 480)
            log("net.cpp:124", f"Setting up {name}", 30)
            for shape in shapes:
                if shape is None:
                    log("net.cpp:131", "Top shape: (1)", 2)
                    count = 1
                else:
                    dims = (batch, *shape)
                    count = math.prod(dims)
                    log("net.cpp:131", f"Top shape: {' '.join(map(str, dims))} ({count})", 2)
                memory += 4 * count
            if type_ == "SoftmaxWithLoss":
                log("net.cpp:134", "    with loss weight 1", 2)
            log("net.cpp:139", f"Memory required for data: {memory}", 2)
            if split and name == "ip2":
                for src, top, shape in (("label_mnist_1_split", "label", ()), ("ip2_ip2_0_split", "ip2", (10,))):
                    log("layer_factory.hpp:77", f"Creating layer {src}", 5)
                    log("net.cpp:86", f"Creating Layer {src}", 3)
                    log("net.cpp:408", f"{src} <- {top}", 2)
                    for k in (0, 1):
                        log("net.cpp:382", f"{src} -> {src}_{k}", 2)
                    log("net.cpp:124", f"Setting up {src}", 3)
                    for _ in (0, 1):
                        dims = (batch, *shape)
                        log("net.cpp:131", f"Top shape: {' '.join(map(str, dims))} ({math.prod(dims)})", 2)
                        memory += 4 * math.prod(dims)
                    log("net.cpp:139", f"Memory required for data: {memory}", 2)
        for name, type_, *_ in reversed(layers):
            if type_ in ("Data", "Accuracy"):
                log("net.cpp:202", f"{name} does not need backward computation.", 2)
            else:
                log("net.cpp:200", f"{name} needs backward computation.", 2)
        for name, type_, *_ in layers:
            if type_ in ("Accuracy", "SoftmaxWithLoss"):
                log("net.cpp:244", f"This network produces output {name}", 2)
        log("net.cpp:257", "Network initialization done.", 5)

    DISPLAY_LINES = (
        b"I%s.%06d  9965 solver.cpp:239] Iteration %d (%s/20 iters), loss = %s\n"
        b"I%s.%06d  9965 solver.cpp:258]     Train net output #0: loss = %s (* 1 = %s loss)\n"
        b"I%s.%06d  9965 sgd_solver.cpp:112] Iteration %d, lr = %s\n"
    )
    TEST_LINES = (
        b"I%s.%06d  9965 solver.cpp:347] Iteration %d, Testing net (#0)\n"
        b"I%s.%06d  9965 solver.cpp:414]     Test net output #0: accuracy = %s\n"
        b"I%s.%06d  9965 solver.cpp:414]     Test net output #1: loss = %s (* 1 = %s loss)\n"
    )
    RESTART_LINE = b"I%s.%06d  9965 data_layer.cpp:73] Restarting data prefetching from start.\n"
    SNAPSHOT_LINES = (
        b"I%s.%06d  9965 solver.cpp:464] Snapshotting to binary proto file examples/mnist/lenet_iter_%d.caffemodel\n"
        b"I%s.%06d  9965 sgd_solver.cpp:284] Snapshotting solver state to binary proto file "
        b"examples/mnist/lenet_iter_%d.solverstate\n"
    )

    def _test_values(self, units: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Test accuracy and loss at the start of each period (iteration ``unit * 1000``)."""
        g = units * DISPLAYS_PER_UNIT
        x = g / max(1, self.units * DISPLAYS_PER_UNIT)
        loss = _curve(x, 2.31, 0.03, 6.0) * 0.8 ** ((g * DISPLAY) // self.stepsize) * (1 + 0.04 * _noise(rng, len(g)))
        accuracy = np.clip(1.0 - 0.9 * (loss / 2.3) ** 0.9 + 0.002 * _noise(rng, len(g)), 0.08, 0.9951)
        accuracy = np.round(accuracy * 10000) / 10000
        if self.diverging:
            broken = g >= self.nan_display
            loss = np.where(broken, np.nan, loss)
            accuracy = np.where(broken, 0.098, accuracy)
        return accuracy, loss

    def _timings(self, lapses: list[int]) -> list[bytes]:
        """``r iter/s, ts`` for display intervals in microseconds."""
        cache = self._timing_cache
        new = set(lapses).difference(cache)
        for us in new:
            cache[us] = b"%g iter/s, %gs" % (DISPLAY * 1e6 / us, us / 1e6)
        out = list(map(cache.__getitem__, lapses))
        for us in new:
            if us > 200_000:   # after a test pass: rare, not worth keeping
                del cache[us]
        return out

    def render(self, chunk: int) -> bytes:
        rng = _rng(self.seed, 1, chunk)
        first = chunk * self.units_per_chunk
        units = np.arange(first, min(self.units, first + self.units_per_chunk), dtype=np.int64)
        g = np.arange(units[0] * DISPLAYS_PER_UNIT, (units[-1] + 1) * DISPLAYS_PER_UNIT, dtype=np.int64)
        micros = self._micros(g)
        lapse = np.where(g == 0, 42_100, micros - self._micros(np.maximum(g - 1, 0)))
        timing = self._timings(lapse.tolist())
        if g[0] == 0:
            timing[0] = b"0 iter/s, 0.0421s"
        loss = _bytes_g(self._loss(g, rng), b"-nan")
        drops = ((g * DISPLAY) // self.stepsize).tolist()
        lr = list(map(self._lr_text, drops)) if drops[0] != drops[-1] else [self._lr_text(drops[0])] * len(drops)
        starts = micros[::DISPLAYS_PER_UNIT]
        test_start = starts - int(self.TEST_SECONDS * 1e6) + 120
        n, m = len(micros), len(units)
        # Every time stamped in this chunk, formatted in one go.
        stamp, us = self.clock.stamps(np.concatenate((
            micros, test_start, starts - 150, starts - 132, micros[RESTART_AFTER::DISPLAYS_PER_UNIT] + 8_000,
            test_start - 20_000, test_start - 10_000)))
        u1 = us[:n].tolist()
        u2, u3 = (us[:n] + 17).tolist(), (us[:n] + 29).tolist()
        it = (g * DISPLAY).tolist()
        displays = list(map(self.DISPLAY_LINES.__mod__,
                            zip(stamp, u1, it, timing, loss, stamp, u2, loss, loss, stamp, u3, it, lr)))
        accuracy, test_loss = self._test_values(units, rng)
        accuracy, test_loss = _bytes_g(accuracy, b"-nan"), _bytes_g(test_loss, b"-nan")
        us = us[n:].tolist()
        ts, te, tl, rs, s1, s2 = (stamp[n + i * m:n + (i + 1) * m] for i in range(6))
        tu, teu, tlu, ru, u1_, u2_ = (us[i * m:(i + 1) * m] for i in range(6))
        out: list[bytes] = []
        for k, unit in enumerate(units.tolist()):
            if unit and unit % SNAPSHOT_UNITS == 0:
                out.append(self.SNAPSHOT_LINES % (s1[k], u1_[k], unit * TEST_INTERVAL,
                                                  s2[k], u2_[k], unit * TEST_INTERVAL))
            out.append(self.TEST_LINES % (ts[k], tu[k], unit * TEST_INTERVAL, te[k], teu[k], accuracy[k],
                                          tl[k], tlu[k], test_loss[k], test_loss[k]))
            a = k * DISPLAYS_PER_UNIT
            out += displays[a:a + RESTART_AFTER + 1]
            out.append(self.RESTART_LINE % (rs[k], ru[k]))
            out += displays[a + RESTART_AFTER + 1:a + DISPLAYS_PER_UNIT]
        return b"".join(out)

    def _lr_text(self, drops: int) -> bytes:
        return b"%g" % (self.base_lr * 0.1 ** drops)

    def footer(self) -> str:
        g = self.units * DISPLAYS_PER_UNIT
        end = int(self._micros(np.array([g - 1]))[0]) + 45_000
        it = self.max_iter
        rng = _rng(self.seed, 2)
        loss = self._fmt(self._loss(np.array([g]), rng))[0]
        acc, test_loss = map(self._fmt, self._test_values(np.array([self.units]), rng))
        test_end = end + int(self.TEST_SECONDS * 1e6)
        lines = [
            self._line(end, "solver.cpp:464",
                       f"Snapshotting to binary proto file examples/mnist/lenet_iter_{it}.caffemodel"),
            self._line(end + 9_000, "sgd_solver.cpp:284",
                       f"Snapshotting solver state to binary proto file examples/mnist/lenet_iter_{it}.solverstate"),
            self._line(end + 11_000, "solver.cpp:327", f"Iteration {it}, loss = {loss}"),
            self._line(end + 11_010, "solver.cpp:347", f"Iteration {it}, Testing net (#0)"),
            self._line(test_end, "solver.cpp:414", f"    Test net output #0: accuracy = {acc[0]}"),
            self._line(test_end + 20, "solver.cpp:414",
                       f"    Test net output #1: loss = {test_loss[0]} (* 1 = {test_loss[0]} loss)"),
            self._line(test_end + 30, "solver.cpp:332", "Optimization Done."),
            self._line(test_end + 40, "caffe.cpp:250", "Optimization Done."),
        ]
        return "".join(lines)

    def describe(self) -> dict:
        info = {"max_iter": self.max_iter, "displays": self.units * DISPLAYS_PER_UNIT,
                "test_passes": self.units + 1}
        if self.diverging:
            info["first_nan_step"] = self.nan_display * DISPLAY
        return info


# ----------------------------------------------------------------------------- Keras

class Keras(Generator):
    """Keras 2.3 ``model.fit(x, y, epochs=N, validation_data=…, verbose=1)`` with output to a file."""

    marker = b"loss: nan"
    STATE_BYTES = 152        # a state and the backspaces that erase it
    STEP_SECONDS = 0.047

    def initial_units(self) -> int:
        states = max(1, self.size // self.STATE_BYTES)
        self.steps = int(min(4000, max(50, states // 40)))
        return max(2, round(states / self.steps))

    def configure(self) -> None:
        self.nan_step = _mid_epoch(self.units, self.steps, self.diverge_at) if self.diverging else None
        digits = len(str(self.steps))
        self.state = f"%{digits}d/{self.steps} [%s] - ETA: %s - loss: %.4f - accuracy: %.4f"
        self.final = (f"%{digits}d/{self.steps} [%s] - %ds %dms/step - loss: %.4f - accuracy: %.4f"
                      " - val_loss: %.4f - val_accuracy: %.4f")
        self.bars = []
        for n in range(self.steps + 1):
            width = int(30 * n / self.steps)
            bar = ("=" * (width - 1) + (">" if n < self.steps else "=")) if width > 0 else ""
            self.bars.append(bar + "." * (30 - width))
        self.etas: list[str] = []
        self.erase = ["\x08" * n + "\r" for n in range(200)]
        self.pads = [" " * n for n in range(200)]

    def _eta(self, seconds: int) -> str:
        while len(self.etas) <= seconds:
            eta = len(self.etas)
            if eta > 3600:
                self.etas.append("%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60))
            elif eta > 60:
                self.etas.append("%d:%02d" % (eta // 60, eta % 60))
            else:
                self.etas.append("%ds" % eta)
        return self.etas[seconds]

    def header(self) -> str:
        rows = (("conv2d_1 (Conv2D)", "(None, 26, 26, 32)", "320"),
                ("max_pooling2d_1 (MaxPooling2", "(None, 13, 13, 32)", "0"),
                ("conv2d_2 (Conv2D)", "(None, 11, 11, 64)", "18496"),
                ("max_pooling2d_2 (MaxPooling2", "(None, 5, 5, 64)", "0"),
                ("flatten_1 (Flatten)", "(None, 1600)", "0"),
                ("dropout_1 (Dropout)", "(None, 1600)", "0"),
                ("dense_1 (Dense)", "(None, 10)", "16010"))
        rule = "_" * 65
        lines = ["Using TensorFlow backend.", 'Model: "sequential_1"', rule,
                 f"{'Layer (type)':<29}{'Output Shape':<26}{'Param #':<10}", "=" * 65]
        for i, (layer, shape, params) in enumerate(rows):
            lines.append(f"{layer:<29}{shape:<26}{params:<10}")
            lines.append("=" * 65 if i == len(rows) - 1 else rule)
        lines += ["Total params: 34,826", "Trainable params: 34,826", "Non-trainable params: 0", rule]
        return "\n".join(lines) + "\n"

    def _epoch_values(self, epoch: int):
        """Displayed (running-average) loss and accuracy for every step of ``epoch``, and the val values."""
        rng = _rng(self.seed, 3, epoch)
        steps, total = self.steps, self.units * self.steps
        g = np.arange(epoch * steps + 1, (epoch + 1) * steps + 1, dtype=np.int64)
        x = g / total
        batch_loss = _curve(x, 2.30, 0.035, 5.0) * np.exp(0.3 * _noise(rng, steps))
        batch_acc = np.clip(0.1 + 0.885 * (1 - np.exp(-6.0 * x)) + 0.04 * _noise(rng, steps), 0.0, 1.0)
        count = np.arange(1, steps + 1)
        loss = np.cumsum(batch_loss) / count
        acc = np.cumsum(batch_acc) / count
        val = rng.random(2)
        end = float(x[-1])
        val_loss = float(_curve(np.array([end]), 2.30, 0.035, 5.0)[0]) * (1.08 + 0.1 * val[0])
        val_acc = min(0.9999, 0.1 + 0.88 * (1 - math.exp(-6.0 * end)) - 0.01 * val[1])
        if self.diverging and g[-1] >= self.nan_step - GROWTH_DISPLAYS:
            k = g - (self.nan_step - GROWTH_DISPLAYS - 1)
            base = float(_curve(np.array([(self.nan_step - GROWTH_DISPLAYS - 1) / total]), 2.30, 0.035, 5.0)[0])
            growing = (k >= 1) & (k <= GROWTH_DISPLAYS)
            loss = np.where(growing, base * 10.0 ** np.clip(k, 0, GROWTH_DISPLAYS), loss)
            broken = g >= self.nan_step
            loss = np.where(broken, np.nan, loss)
            after = np.maximum(0, g - self.nan_step + 1)
            start = np.maximum(0, self.nan_step - epoch * steps - 1)
            # Batches after the nan score chance; the running mean of the epoch decays towards it.
            acc = np.where(broken, (acc[start - 1] * start + 0.1 * after) / (start + after)
                           if start > 0 else 0.1, acc)
            if broken[-1]:
                val_loss, val_acc = math.nan, 0.098
        return loss, acc, val_loss, val_acc

    def render(self, chunk: int) -> bytes:
        epoch = chunk
        steps = self.steps
        loss, acc, val_loss, val_acc = self._epoch_values(epoch)
        rng = _rng(self.seed, 4, epoch)
        per_step = self.STEP_SECONDS * (0.9 + 0.2 * rng.random())
        elapsed = np.arange(1, steps + 1) * per_step * (1 + 0.02 * _noise(rng, steps))
        counts = np.arange(1, steps + 1)
        eta = (elapsed / counts * (steps - counts)).astype(np.int64)
        etas = [self._eta(s) for s in range(int(eta.max()) + 1)]
        n = steps - 1
        states = list(map(self.state.__mod__, zip(
            counts[:n].tolist(), self.bars[1:steps], map(etas.__getitem__, eta[:n].tolist()),
            loss[:n].tolist(), acc[:n].tolist())))
        total = elapsed[-1]
        states.append(self.final % (steps, self.bars[steps], round(total), round(total / steps * 1000),
                                    loss[-1], acc[-1], val_loss, val_acc))
        widths = np.fromiter(map(len, states), dtype=np.int64, count=steps)
        before = np.concatenate(([0], widths[:-1]))
        pads = np.maximum(before - widths, 0)
        erase = map(self.erase.__getitem__, before.tolist())
        pad = map(self.pads.__getitem__, pads.tolist())
        return (f"Epoch {epoch + 1}/{self.units}\n" + "".join(chain.from_iterable(zip(erase, states, pad)))
                + "\n").encode()

    def describe(self) -> dict:
        info = {"epochs": self.units, "steps_per_epoch": self.steps}
        if self.diverging:
            info["first_nan_step"] = self.nan_step
            info["first_nan_epoch"] = (self.nan_step - 1) // self.steps + 1
        return info


# ----------------------------------------------------------------------------- Lightning

FULL, PARTS = "█", " ▏▎▍▌▋▊▉"


def _tqdm_bar(n: int, total: int) -> str:
    """``' 42%|████▏     |'``: tqdm's percentage and 10-character bar with eighth blocks."""
    frac = n / total
    full, part = divmod(int(frac * 10 * 8), 8)
    bar = FULL * full
    if full < 10:
        bar += PARTS[part] + " " * (10 - full - 1)
    return "%3.0f%%|%s|" % (frac * 100, bar)


def _interval(seconds: int) -> str:
    minutes, s = divmod(int(seconds), 60)
    h, m = divmod(minutes, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _tqdm_nums(values: np.ndarray) -> list[bytes]:
    """``_tqdm_num`` of each value, encoded; ``%.3g`` already is its result except for exponents."""
    out = list(map(b"%.3g".__mod__, values.tolist()))
    with np.errstate(invalid="ignore"):
        odd = np.flatnonzero((np.abs(values) >= 1000) | ((np.abs(values) < 1e-4) & (values != 0)))
    for i in odd.tolist():
        out[i] = _tqdm_num(float(values[i])).encode()
    return out


def _tqdm_num(value: float) -> str:
    """tqdm's ``format_num``: 3 significant digits, exponents without leading zeros, or str if shorter."""
    f = "{0:.3g}".format(value).replace("+0", "+").replace("-0", "-")
    n = str(value)
    return f if len(f) < len(n) else n


class Lightning(Generator):
    """PyTorch-Lightning 1.9 ``Trainer.fit`` with the default tqdm bar, output to a file."""

    marker = b"loss=nan"
    STEP_BYTES = 262         # two drawn states per training step
    RATE = 41.3              # it/s
    V_NUM = 3

    def initial_units(self) -> int:
        steps = max(1, self.size // self.STEP_BYTES)
        self.steps = int(min(4000, max(50, steps // 40)))
        self.val_steps = max(4, self.steps // 20)
        return max(2, round(steps / self.steps))

    def configure(self) -> None:
        self.total = self.steps + self.val_steps
        self.nan_step = _mid_epoch(self.units, self.steps, self.diverge_at) if self.diverging else None
        self.bars = [_tqdm_bar(n, self.total) for n in range(self.total + 1)]
        self.bars_utf8 = [bar.encode() for bar in self.bars]
        # UTF-8 bytes beyond the character count (tqdm pads by characters).
        self.bar_extra = np.array([len(b) - len(s) for b, s in zip(self.bars_utf8, self.bars)], dtype=np.int64)
        self.val_bars = [_tqdm_bar(n, self.val_steps) for n in range(self.val_steps + 1)]
        self.intervals: list[str] = []
        self.intervals_utf8: list[bytes] = []

    def _interval(self, seconds: int) -> str:
        while len(self.intervals) <= seconds:
            text = _interval(len(self.intervals))
            self.intervals.append(text)
            self.intervals_utf8.append(text.encode())
        return self.intervals[seconds]

    def header(self) -> str:
        return (
            "GPU available: True (cuda), used: True\n"
            "TPU available: False, using: 0 TPU cores\n"
            "IPU available: False, using: 0 IPUs\n"
            "HPU available: False, using: 0 HPUs\n"
            "LOCAL_RANK: 0 - CUDA_VISIBLE_DEVICES: [0]\n"
            "\n"
            "  | Name     | Type             | Params\n"
            "----------------------------------------------\n"
            "0 | model    | ResNet           | 11.2 M\n"
            "1 | loss_fn  | CrossEntropyLoss | 0     \n"
            "2 | accuracy | Accuracy         | 0     \n"
            "----------------------------------------------\n"
            "11.2 M    Trainable params\n"
            "0         Non-trainable params\n"
            "11.2 M    Total params\n"
            "44.881    Total estimated model params size (MB)\n"
            "\rSanity Checking: 0it [00:00, ?it/s]"
            "\rSanity Checking DataLoader 0:   0%|          | 0/2 [00:00<?, ?it/s]"
            "\rSanity Checking DataLoader 0:  50%|█████     | 1/2 [00:00<00:00,  9.34it/s]"
            "\rSanity Checking DataLoader 0: 100%|██████████| 2/2 [00:00<00:00, 12.07it/s]"
            "\r                                                                           \r"
            "\rTraining: 0it [00:00, ?it/s]"
            f"\rTraining:   0%|          | 0/{self.total} [00:00<?, ?it/s]"
        )

    # -- numbers: functions of the epoch alone, so any chunk can be rendered on its own --------
    def _step_losses(self, epoch: int) -> np.ndarray:
        """``train_loss_step`` for every training step of ``epoch``."""
        rng = _rng(self.seed, 5, epoch)
        steps, total = self.steps, self.units * self.steps
        g = np.arange(epoch * steps + 1, (epoch + 1) * steps + 1, dtype=np.int64)
        loss = _curve(g / total, 2.30, 0.05, 5.0) * np.exp(0.3 * _noise(rng, steps))
        if self.diverging and g[-1] >= self.nan_step - GROWTH_DISPLAYS:
            k = g - (self.nan_step - GROWTH_DISPLAYS - 1)
            base = float(_curve(np.array([(self.nan_step - GROWTH_DISPLAYS - 1) / total]), 2.30, 0.05, 5.0)[0])
            growing = (k >= 1) & (k <= GROWTH_DISPLAYS)
            loss = np.where(growing, base * 10.0 ** np.clip(k, 0, GROWTH_DISPLAYS), loss)
            loss = np.where(g >= self.nan_step, np.nan, loss)
        return loss

    def _running(self, epoch: int, step_loss: np.ndarray) -> np.ndarray:
        """Lightning 1.x's running ``loss``: the mean of the last 20 training losses, across epochs."""
        before = self._step_losses(epoch - 1)[-19:] if epoch else np.array([])
        window = np.concatenate((before, step_loss))
        sums = np.cumsum(np.concatenate(([0.0], window)))
        idx = np.arange(len(before) + 1, len(window) + 1)
        lo = np.maximum(0, idx - 20)
        running = (sums[idx] - sums[lo]) / (idx - lo)
        if np.isnan(window).any():
            first = int(np.argmax(np.isnan(window)))
            running = np.where(idx > first, np.nan, running)
        return running

    def _summary_values(self, epoch: int) -> tuple[float, float, float]:
        """``val_loss``, ``val_acc`` and ``train_loss_epoch`` at the end of ``epoch``."""
        if self.diverging and (epoch + 1) * self.steps >= self.nan_step:
            return math.nan, 0.1, math.nan
        extra = _rng(self.seed, 7, epoch).random(2)
        end = (epoch + 1) / self.units
        val_loss = float(_curve(np.array([end]), 2.30, 0.05, 5.0)[0]) * (1.1 + 0.1 * extra[0])
        val_acc = 0.1 + 0.86 * (1 - math.exp(-6 * end)) - 0.01 * extra[1]
        return val_loss, round(val_acc, 4), float(np.mean(self._step_losses(epoch)))

    def _seconds(self, epoch: int) -> float:
        return self.steps / self.RATE * (0.95 + 0.1 * _rng(self.seed, 8, epoch).random())

    def _tail(self, epoch: int) -> str:
        """The postfix an epoch leaves on the bar: its val values and train_loss_epoch."""
        val_loss, val_acc, epoch_loss = self._summary_values(epoch)
        return f", val_loss={_tqdm_num(val_loss)}, val_acc={_tqdm_num(val_acc)}, train_loss_epoch={_tqdm_num(epoch_loss)}"

    def _postfix(self, epoch: int, running: float, step: float, tail: str) -> str:
        return f", loss={running:.3g}, v_num={self.V_NUM}, train_loss_step={_tqdm_num(step)}{tail}]"

    def _final_state(self, epoch: int) -> str:
        """The last state of ``epoch``'s bar (the new epoch's reset is padded to cover it)."""
        step_loss = self._step_losses(epoch)
        running = self._running(epoch, step_loss)
        seconds = self._seconds(epoch) * self.total / self.steps
        return (f"Epoch {epoch}: {self.bars[self.total]} {self.total}/{self.total} [{self._interval(int(seconds))}"
                f"<00:00, {self.total / seconds:5.2f}it/s"
                + self._postfix(epoch, running[-1], float(step_loss[-1]), self._tail(epoch)))

    # -- the text ------------------------------------------------------------------------------
    def render(self, chunk: int) -> bytes:
        epoch = chunk
        steps, total = self.steps, self.total
        step_loss = self._step_losses(epoch)
        running = self._running(epoch, step_loss)
        seconds = self._seconds(epoch)
        rng = _rng(self.seed, 6, epoch)
        tail = self._tail(epoch - 1) if epoch else ""
        out: list[bytes] = []
        # The bar is reset for the new epoch: drawn with the old description first, then the new.
        if epoch:
            last = self._final_state(epoch - 1)
            previous_loss = self._step_losses(epoch - 1)
            postfix = self._postfix(epoch - 1, self._running(epoch - 1, previous_loss)[-1],
                                    float(previous_loss[-1]), tail)
            reset = f"Epoch {epoch - 1}: {self.bars[0]} 0/{total} [00:00<?, ?it/s{postfix}"
            first = f"Epoch {epoch}: {self.bars[0]} 0/{total} [00:00<?, ?it/s{postfix}"
            out.append(("\r" + reset + " " * max(0, len(last) - len(reset))).encode())
            previous = reset
        else:
            postfix = "]"   # the first step of the run is drawn before any postfix exists
            first = f"Epoch 0: {self.bars[0]} 0/{total} [00:00<?, ?it/s]"
            previous = f"Training:   0%|          | 0/{total} [00:00<?, ?it/s]"
        out.append(("\r" + first + " " * max(0, len(previous) - len(first))).encode())

        # Training: a state is a head (bar, count, times, rate) and a postfix; each step is drawn
        # with the previous step's postfix, then with its own.
        n = np.arange(1, steps + 1)
        elapsed = n * (seconds / steps) * (1 + 0.03 * _noise(rng, steps))
        rate = n / elapsed
        remaining = (total - n) / rate
        self._interval(int(max(elapsed.max(), remaining.max())) + 1)
        intervals = self.intervals_utf8.__getitem__
        counts = n.tolist()
        heads = list(map(f"Epoch {epoch}: %s %d/{total} [%s<%s, %5.2fit/s".encode().__mod__, zip(
            map(self.bars_utf8.__getitem__, counts), counts, map(intervals, elapsed.astype(np.int64).tolist()),
            map(intervals, remaining.astype(np.int64).tolist()), rate.tolist())))
        template = f", loss=%s, v_num={self.V_NUM}, train_loss_step=%s{tail.replace('%', '%%')}]".encode()
        posts = list(map(template.__mod__, zip(map(b"%.3g".__mod__, running.tolist()), _tqdm_nums(step_loss))))
        posts_before = [postfix.encode()] + posts[:-1]
        # Lengths in characters: the bar's block characters take 3 bytes each.
        head_len = np.fromiter(map(len, heads), dtype=np.int64, count=steps) - self.bar_extra[1:steps + 1]
        old_len = head_len + np.fromiter(map(len, posts_before), dtype=np.int64, count=steps)
        new_len = head_len + np.fromiter(map(len, posts), dtype=np.int64, count=steps)
        before_old = np.concatenate(([len(first)], new_len[:-1]))
        pad_old = map(b" ".__mul__, np.maximum(before_old - old_len, 0).tolist())
        pad_new = map(b" ".__mul__, np.maximum(old_len - new_len, 0).tolist())
        out.append(b"".join(chain.from_iterable(zip(
            repeat(b"\r"), heads, posts_before, pad_old, repeat(b"\r"), heads, posts, pad_new))))

        # Validation: a second bar one line down ("\n\r ... \x1b[A") that also advances the main bar.
        text: list[str] = []
        v = self.val_steps
        vn = np.arange(1, v + 1)
        vel = vn * (v / (self.RATE * 2.7) / v)
        vrate = vn / vel
        m_el = elapsed[-1] + vel
        m_rate = (steps + vn) / m_el
        m_rem = (v - vn) / m_rate
        lead = f"Epoch {epoch}: "
        train_postfix = self._postfix(epoch, running[-1], float(step_loss[-1]), tail)
        val_state = "Validation DataLoader 0: %s %d/" + str(v) + " [%s<%s, %5.2fit/s]"
        main_state = lead + "%s %d/" + str(total) + " [%s<%s, %5.2fit/s" + train_postfix.replace("%", "%%")
        text.append("\n\rValidation: 0it [00:00, ?it/s]\x1b[A")
        text.append(f"\n\rValidation:   0%|          | 0/{v} [00:00<?, ?it/s]\x1b[A")
        text.append(f"\n\rValidation DataLoader 0:   0%|          | 0/{v} [00:00<?, ?it/s]\x1b[A")
        for j in range(v):
            vs = val_state % (self.val_bars[j + 1], j + 1, self._interval(int(vel[j])),
                              self._interval(int((v - j - 1) / vrate[j])), vrate[j])
            ms = main_state % (self.bars[steps + j + 1], steps + j + 1, self._interval(int(m_el[j])),
                               self._interval(int(m_rem[j])), m_rate[j])
            text.append(f"\n\r{vs}\x1b[A\r{ms}")
        text.append("\n\r" + " " * len(vs) + "\x1b[A")
        # The epoch ends: the val values join the postfix, then train_loss_epoch is updated.
        val_loss, val_acc, _ = self._summary_values(epoch)
        done = f"{lead}{self.bars[total]} {total}/{total} [{self._interval(int(m_el[-1]))}<00:00, {m_rate[-1]:5.2f}it/s"
        previous_epoch_loss = tail.split(", train_loss_epoch=")[1] if epoch else None
        with_val = f", val_loss={_tqdm_num(val_loss)}, val_acc={_tqdm_num(val_acc)}" + (
            f", train_loss_epoch={previous_epoch_loss}" if previous_epoch_loss else "")
        text.append("\r" + done + self._postfix(epoch, running[-1], float(step_loss[-1]), with_val))
        text.append("\r" + done + self._postfix(epoch, running[-1], float(step_loss[-1]), self._tail(epoch)))
        out.append("".join(text).encode())
        return b"".join(out)

    def footer(self) -> str:
        return "\n`Trainer.fit` stopped: `max_epochs=%d` reached.\n" % self.units

    def describe(self) -> dict:
        info = {"epochs": self.units, "train_batches": self.steps, "val_batches": self.val_steps}
        if self.diverging:
            info["first_nan_step"] = self.nan_step
            info["first_nan_epoch"] = (self.nan_step - 1) // self.steps
        return info


GENERATORS = {"caffe": Caffe, "keras": Keras, "lightning": Lightning}


# ----------------------------------------------------------------------------- writing

def _drain(queue: Queue, out, errors: list) -> None:
    """Write what comes through ``queue`` until None; after an error, keep draining (so puts never block)."""
    while (data := queue.get()) is not None:
        if not errors:
            try:
                out.write(data)
            except OSError as error:
                errors.append(error)


def generate(fmt: str, variant: str, size: int, path: str, seed: int = DEFAULT_SEED,
             diverge_at: float = DEFAULT_DIVERGE_AT) -> dict:
    """Write a ``fmt``/``variant`` log of about ``size`` bytes to ``path``; return what was written.

    The result has ``bytes``, ``lines`` (physical, newline-terminated) and, for diverging logs,
    ``first_nan_line`` (1-based physical line of the first non-finite loss) with the format's own
    ``first_nan_step``.
    """
    gen = GENERATORS[fmt](variant, size, seed, diverge_at)
    written = lines = 0
    first_nan_line = None
    with open(path, "wb") as out:
        # Writing overlaps with rendering: the OS call releases the GIL.
        queue: Queue = Queue(maxsize=2)
        errors: list[OSError] = []
        writer = threading.Thread(target=_drain, args=(queue, out, errors), daemon=True)
        writer.start()
        pending: list[bytes] = []
        pending_bytes = 0
        try:
            for data in gen.pieces():
                if gen.diverging and first_nan_line is None:
                    at = data.find(gen.marker)
                    if at >= 0:
                        first_nan_line = lines + data.count(b"\n", 0, at) + 1
                lines += data.count(b"\n")
                pending.append(data)
                pending_bytes += len(data)
                if pending_bytes >= WRITE_BYTES:
                    queue.put(b"".join(pending))
                    written += pending_bytes
                    pending, pending_bytes = [], 0
            queue.put(b"".join(pending))
            written += pending_bytes
        finally:
            queue.put(None)
            writer.join()
        if errors:
            raise errors[0]
    info = {"format": fmt, "variant": variant, "seed": seed, "requested_bytes": size, "bytes": written,
            "lines": lines, **gen.describe()}
    if gen.diverging:
        info["diverge_at"] = diverge_at
        info["first_nan_line"] = first_nan_line
    return info


def main(argv: list[str] | None = None) -> int:
    """The command line: arguments in, one log out."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--format", choices=FORMATS, required=True)
    parser.add_argument("--variant", choices=VARIANTS, default="healthy")
    parser.add_argument("--mb", type=float, required=True, help="size in MB (2**20 bytes)")
    parser.add_argument("-o", "--output", required=True, help="file to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--diverge-at", type=float, default=DEFAULT_DIVERGE_AT,
                        help="where the diverging variant turns nan, as a fraction of the run (default 0.6)")
    parser.add_argument("--json", action="store_true", help="print what was written as JSON")
    args = parser.parse_args(argv)
    if not 0 < args.diverge_at < 1:
        parser.error("--diverge-at must be between 0 and 1")
    info = generate(args.format, args.variant, int(args.mb * MB), args.output, args.seed, args.diverge_at)
    if args.json:
        print(json.dumps(info))
    else:
        print(f"{args.output}: {info['bytes']:,} bytes, {info['lines']:,} lines", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
