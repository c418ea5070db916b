"""LD107 loss-saturation: the loss is stuck at a clamp constant.

What it detects: ``repeats`` or more loss values of one series equal (to 0.01%)
to a constant that only a clamp produces (consecutive or not: a batch whose every
sample saturated is rare enough that a few of them are a pattern): Caffe's SoftmaxWithLoss caps each sample at
-ln(FLT_MIN) = 87.3365; Keras/TensorFlow cross-entropies clip probabilities at
1e-7 (16.1181); other epsilons give 13.8155 (1e-6), 18.4207 (1e-8); float64 gives
708.396.

Why it matters: every sample is predicted with probability ~0 for its label: the
outputs have blown up (or are nan inside the clamp) and the gradient carries no
information any more.

What to do: this is the tail of an explosion: lower the learning rate, check the
labels' range against the number of outputs, and look for nan in the logits.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.series import Run

CLAMPS = (87.3365, 16.1181, 13.8155, 18.4207, 708.396)


@dataclasses.dataclass(frozen=True)
class LossSaturation(Rule):
    repeats: int = 3

    code = "LD107"
    name = "loss-saturation"
    severity = Severity.WARNING
    advice = ("The loss sits at a clamp: outputs have blown up or labels are out of range. Lower the learning "
              "rate and check labels against the number of outputs.")
    fires_on = ("Iteration 0, loss = 2.3\nIteration 10, loss = 87.3365\nIteration 20, loss = 87.3365\n"
                "Iteration 30, loss = 87.3365\n",)
    silent_on = ("Iteration 0, loss = 2.3\nIteration 10, loss = 87.3365\nIteration 20, loss = 1.9\n"
                 "Iteration 30, loss = 87.3365\nIteration 40, loss = 1.7\n",)

    def check(self, run: Run) -> Iterator[Finding]:
        for series in run.series():
            if "loss" not in series.name:
                continue
            values = series.values
            for clamp in CLAMPS:
                at = np.flatnonzero(np.isfinite(values) & (np.abs(values - clamp) <= clamp * 1e-4))
                if len(at) < self.repeats:
                    continue
                i, proof = int(at[0]), int(at[self.repeats - 1])
                yield self.finding(
                    f"{series.label} sits at {clamp:g}, a clamp constant, at {series.where(i)}"
                    f" and {len(at) - 1} more time(s) (of {len(values)} values)",
                    series=series, index=i, evidence=series.lines[at[:self.repeats]],
                    values=[("clamp", clamp), ("count", len(at)), ("proof_line", series.lines[proof])])
                break
