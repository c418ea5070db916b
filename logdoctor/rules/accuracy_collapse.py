"""LD202 accuracy-collapse: accuracy that was learning falls to chance and does not recover.

What it detects, on every accuracy-like series (higher is better): after rising
at least ``learnt`` above its first value, it drops within two evaluations from
the upper quarter of its gain to the lower quarter (near where it started, i.e.
near chance) and stays in the lower half for ``hold`` evaluations (or until the run
ends): noisy validation curves dip for a few epochs and recover; or, after
learning, it is pinned at one exact value for ``pinned`` evaluations below its
peak (the net answers the same class for every input).  With or without nan.

Why it matters: the classic recurrent-net failure (LSTM/GRU): one bad update
saturates the gates and the model forgets everything; it never recovers.

What to do: clip gradients (by norm), lower the learning rate, and restart from
the last checkpoint before the drop.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.series import Run, fmt


@dataclasses.dataclass(frozen=True)
class AccuracyCollapse(Rule):
    learnt: float = 0.15    # absolute rise over the first value that counts as having learnt
    hold: int = 8           # evaluations the collapse must last (or until the end of the run)
    pinned: int = 6         # identical evaluations near the start level that pin the output

    code = "LD202"
    name = "accuracy-collapse"
    severity = Severity.ERROR
    advice = "Clip gradients by norm, lower the learning rate, and restart from the checkpoint before the drop."
    fires_on = ("".join(f"Iteration {i * 10}, Testing net (#0)\n    Test net output #0: accuracy = {v}\n"
                        for i, v in enumerate([0.25, 0.5, 0.7, 0.8, 0.82, 0.26, 0.25, 0.24, 0.25, 0.26, 0.25, 0.24,
                                               0.25, 0.25])),)
    silent_on = ("".join(f"Iteration {i * 10}, Testing net (#0)\n    Test net output #0: accuracy = {v}\n"
                         for i, v in enumerate([0.25, 0.5, 0.7, 0.8, 0.82, 0.26, 0.3, 0.28, 0.5, 0.8, 0.83, 0.84,
                                                0.85, 0.85])),)

    def check(self, run: Run) -> Iterator[Finding]:
        for series in run.accuracy():
            # Whole evaluations only: a progress bar's running mean over a few batches is noise.
            settled = series.settled()
            values = series.printed[settled]
            if len(values) < self.hold + 3 or not np.isfinite(values).all():
                continue
            k = self._collapse(values, run.final)
            if k is None:
                continue
            i, before = int(settled[k]), int(settled[k - 1])
            peak = float(values[:k].max())
            # One problem, one finding: the training and validation accuracy collapsing at the same
            # step share the key (code, "accuracy", step).
            yield self.finding(
                f"{series.label} fell from {fmt(values[k - 1])} to {fmt(values[k])} at {series.where(i)} "
                f"(peak {fmt(peak)}, started at {fmt(values[0])}) and did not recover",
                series=series, index=i, metric="accuracy",
                evidence=[series.lines[before], series.lines[i]],
                values=[("before", values[k - 1]), ("after", values[k]), ("peak", peak), ("first", values[0])])

    def _collapse(self, values: np.ndarray, final: bool) -> int | None:
        base = float(values[0])
        peak = np.maximum.accumulate(values)
        # What a collapse needs at evaluation i, for all of them at once (a Python loop over every
        # evaluation of a long run costs); the full test below runs only where that holds.
        at = np.arange(2, len(values))
        gains = peak[at - 1] - base
        drop = (np.maximum(values[at - 1], values[at - 2]) >= base + 0.75 * gains) & (values[at] <= base + 0.25 * gains)
        stuck = (values[at] <= base + 0.35 * gains) & (values[at - 1] != values[at])
        for i in at[(gains >= self.learnt) & (drop | stuck)]:
            i = int(i)
            gain = peak[i - 1] - base
            high = max(values[i - 1], values[i - 2]) >= base + 0.75 * gain
            low = values[i] <= base + 0.25 * gain
            later = values[i + 1:i + 1 + self.hold]
            if high and low and (len(later) == self.hold or (final and len(later) > 0)):
                if (later <= base + 0.5 * gain).all():
                    return i
            same = values[i:i + self.pinned]
            if len(same) == self.pinned and np.ptp(same) == 0 and values[i] <= base + 0.35 * gain \
                    and values[i - 1] != values[i]:
                return i
        return None
