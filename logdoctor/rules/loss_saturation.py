"""LD107 loss-saturation: the loss is stuck at a clamp constant.

What it detects: ``repeats`` or more loss values of one series equal (to 0.01%)
to a constant that only a clamp produces (consecutive or not: a batch whose every
sample saturated is rare enough that a few of them are a pattern), or ``repeats``
consecutive evaluations stuck at exactly one value that is a simple fraction k/n
of a clamp (at least half of it), after having been less than half that value: a
net that learnt and now answers one class for every input (the other classes'
share of the samples sits at the clamp, e.g. 3/4 × 16.1181 = 12.0886 for 4 classes).
The clamps: Caffe's SoftmaxWithLoss caps each sample at
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
# At least half the clamp: lower fractions are so dense that a plateau (ln 1000 = 3/7 x 16.1181) hits one.
FRACTIONS = sorted({k / n for n in range(2, 11) for k in range(1, n) if k / n >= 0.5})


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
        pinned: dict[int, Finding] = {}  # one pinned net is one finding (the earliest), not one per loss
        for series in run.series():
            if "loss" not in series.name:
                continue
            for finding in self._pinned(series):
                if series.segment not in pinned or finding.line < pinned[series.segment].line:
                    pinned[series.segment] = finding
        yield from pinned.values()
        for series in run.series():
            if "loss" not in series.name:
                continue
            values = series.values
            # Only values within 1% of the clamps' range can be at one (most losses have none): one pass
            # finds them, and each clamp looks at those alone.
            near = np.flatnonzero((values >= 0.99 * min(CLAMPS)) & (values <= 1.01 * max(CLAMPS)))
            for clamp in CLAMPS:
                at = near[np.abs(values[near] - clamp) <= clamp * 1e-4]
                if len(at) < self.repeats:
                    continue
                i, proof = int(at[0]), int(at[self.repeats - 1])
                yield self.finding(
                    f"{series.label} sits at {clamp:g}, a clamp constant, at {series.where(i)}"
                    f" and {len(at) - 1} more time(s) (of {len(values)} values)",
                    series=series, index=i, evidence=series.lines[at[:self.repeats]],
                    values=[("clamp", clamp), ("count", len(at)), ("proof_line", series.lines[proof])])
                break

    def _pinned(self, series) -> Iterator[Finding]:
        """Settled values stuck at one exact value that is a fraction of a clamp."""
        index, values = series.settled_values()
        if len(values) < self.repeats:
            return
        # Only a value near a fraction of a clamp can be pinned: most losses never come near one, and one pass
        # says so.
        low, high = 0.99 * min(FRACTIONS) * min(CLAMPS), 1.01 * max(FRACTIONS) * max(CLAMPS)
        if not ((values >= low) & (values <= high)).any():
            return
        with np.errstate(invalid="ignore"):  # inf - inf: not finite, so not "same" anyway
            same = np.isfinite(values[1:]) & (np.abs(values[1:] - values[:-1]) <= np.abs(values[1:]) * 1e-4)
        runs = np.convolve(same.astype(int), np.ones(self.repeats - 1, dtype=int), mode="valid")
        stuck = np.flatnonzero(runs == self.repeats - 1)
        if not len(stuck):
            return
        # A loss printed with few digits repeats all the time: narrow the places down in numpy.
        # Stuck there from the start is no-learning's case; pinned means it had learnt: an earlier
        # value below half the stuck one (fmin: a nan is never below anything).
        earlier = np.concatenate(([np.nan], np.fmin.accumulate(values)[:-1]))
        stuck = stuck[earlier[stuck] < 0.5 * values[stuck]]
        clamped = [value for value in np.unique(values[stuck]) if _clamp_fraction(float(value)) is not None]
        for k in stuck[np.isin(values[stuck], clamped)]:
            value = float(values[k])
            clamp, fraction = _clamp_fraction(value)
            i = int(index[k])
            yield self.finding(
                f"{series.label} is stuck at {value:g} = {fraction:.3g} x {clamp:g} (a clamp) from "
                f"{series.where(i)} for {self.repeats}+ evaluations: one class answered for every input",
                series=series, index=i, evidence=series.lines[index[k:k + self.repeats]],
                values=[("clamp", clamp), ("fraction", fraction)])
            return


def _clamp_fraction(value: float) -> tuple[float, float] | None:
    """The first clamp of which ``value`` is one of the ``FRACTIONS``, and that fraction."""
    for clamp in CLAMPS:
        fraction = value / clamp
        if any(abs(fraction - f) <= 1e-3 * f for f in FRACTIONS):
            return clamp, fraction
    return None
