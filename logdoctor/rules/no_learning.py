"""LD203 no-learning: over the whole run the loss does not improve and accuracy stays at chance.

What it detects (judged on the whole run, per run segment of at least
``min_points`` displays): the median of the last tenth of the training loss is
within ``improvement`` of the median of its first tenth (the very first value,
often higher, left out), its best smoothed level never went far below either, and
every accuracy series ends near chance, estimated from the loss as 1/round(e^loss)
(a softmax classifier that learnt nothing has loss ln C).

Why it matters: the run burns compute without learning anything: the signal
saturates or vanishes (sigmoid stacks, tiny initial weights), the loss does not
fit the task, labels are shuffled or wrong, or the learning rate is far too small
(or so large that the optimiser sits at the chance solution).

What to do: check labels against inputs on a few samples, overfit a single batch
first, try a learning rate 10x larger and 10x smaller, and check the activations'
scale (debug_info in Caffe).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Iterator

import numpy as np

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.series import Run, fmt, trailing_median


@dataclasses.dataclass(frozen=True)
class NoLearning(Rule):
    min_points: int = 6        # displays needed to judge a run
    improvement: float = 0.05  # relative loss improvement below which nothing was learnt
    chance_margin: float = 0.1  # accuracy within this of chance (absolute) counts as chance

    code = "LD203"
    name = "no-learning"
    severity = Severity.WARNING
    final = True
    advice = ("Overfit one small batch first; check labels against inputs, the loss against the task, and "
              "try learning rates 10x larger and smaller; look at activation scales for saturation.")
    fires_on = ("".join(f"Iteration {i * 10}, loss = {v}\n" for i, v in enumerate(
        [1.65, 1.40, 1.38, 1.39, 1.37, 1.40, 1.38, 1.39, 1.38, 1.37, 1.39, 1.38, 1.38])),)
    silent_on = ("".join(f"Iteration {i * 10}, loss = {v}\n" for i, v in enumerate(
        [1.65, 1.40, 1.38, 1.39, 1.37, 1.40, 1.38, 1.30, 1.1, 0.9, 0.6, 0.4, 0.3])),)

    def check(self, run: Run) -> Iterator[Finding]:
        accuracies = run.accuracy()
        for series in run.loss("train"):
            _, values = series.settled_values()
            finite = np.isfinite(values)
            if finite.sum() < self.min_points or not finite.all():
                continue
            k = max(1, len(values) // 10)
            begin = float(np.median(values[1:1 + k]))
            end = float(np.median(values[-k:]))
            if begin <= 0 or end < begin * (1 - self.improvement):
                continue
            # Only now the best level (a median over a tenth of the run at every point: costly on long runs).
            best = float(np.min(trailing_median(values[1:], max(3, k))))
            if best < begin * (1 - 2 * self.improvement):
                continue
            classes = round(math.exp(end)) if 0.5 < end < 12 else None
            if classes and classes > 20:
                classes = int(float(f"{classes:.2g}"))  # e^6.92 = 1013: say 1000, not 1013 classes
            chance = 1 / classes if classes and classes >= 2 else None
            accuracy_text = ""
            segment_acc = [a for a in accuracies if a.segment == series.segment and np.isfinite(a.values).all()]
            if segment_acc:
                if chance is None:
                    continue
                last = [float(np.median(a.values[-max(1, len(a.values) // 4):])) for a in segment_acc]
                if max(last) > chance + self.chance_margin:
                    continue
                accuracy_text = "; accuracy ends at " + ", ".join(
                    f"{a.label} {fmt(v)}" for a, v in zip(segment_acc, last)) + f" (chance 1/{classes})"
            elif chance is not None:
                accuracy_text = f" (≈ ln {classes}, the chance level for {classes} classes)"
            yield self.finding(
                f"{series.label} did not improve from {series.where(0)} to {series.where(len(series) - 1)}: "
                f"{fmt(begin)} at the start, {fmt(end)} at the end{accuracy_text}",
                series=series, index=0, evidence=[series.lines[0], series.lines[-1]],
                values=[("start", begin), ("end", end)] + ([("chance_accuracy", chance)] if chance else []))
