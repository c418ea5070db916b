"""LD301 overfitting: validation loss rising steadily while the training loss falls.

What it detects (judged on the whole run): after its minimum, the validation (or
test) loss rises at ``points`` or more evaluations, ends at least ``rise`` above
its minimum, and the training loss kept falling over the same stretch.

Why it matters: the model memorises the training set; checkpoints after the
validation minimum generalise worse.

What to do: keep the checkpoint at the validation minimum (early stopping), add
regularisation (weight decay, dropout, augmentation) or more data.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.series import Run, fmt


@dataclasses.dataclass(frozen=True)
class Overfitting(Rule):
    points: int = 3        # evaluations after the minimum
    rise: float = 0.10     # the last evaluations are this fraction above the minimum

    code = "LD301"
    name = "overfitting"
    severity = Severity.INFO
    final = True
    advice = "Keep the checkpoint at the validation minimum (early stopping) and add regularisation or data."
    fires_on = ("".join(f"Iteration {i * 10}, loss = {t}\nIteration {i * 10}, Testing net (#0)\n"
                        f"    Test net output #0: loss = {v}\n"
                        for i, (t, v) in enumerate([(2.0, 1.9), (1.2, 1.1), (0.8, 0.95), (0.5, 1.0), (0.3, 1.1),
                                                    (0.2, 1.2), (0.1, 1.3)])),)
    silent_on = ("".join(f"Iteration {i * 10}, loss = {t}\nIteration {i * 10}, Testing net (#0)\n"
                         f"    Test net output #0: loss = {v}\n"
                         for i, (t, v) in enumerate([(2.0, 1.9), (1.2, 1.1), (0.8, 0.95), (0.5, 0.9), (0.3, 0.88),
                                                     (0.2, 0.87), (0.1, 0.87)])),)

    def check(self, run: Run) -> Iterator[Finding]:
        train = {s.segment: s for s in run.loss("train")}
        for series in run.loss("val") or run.loss("test"):
            values = series.values
            if not np.isfinite(values).all() or len(values) < self.points + 2:
                continue
            low = int(np.argmin(values))
            after = values[low + 1:]
            if len(after) < self.points or not (after[-min(2, len(after)):] >= values[low] * (1 + self.rise)).all():
                continue
            if np.mean(np.diff(values[low:]) > 0) < 0.6:
                continue
            trained = train.get(series.segment)
            if trained is None:
                continue
            line_low, line_end = series.lines[low], series.lines[-1]
            settled = trained.settled()
            lines, printed = trained.lines[settled], trained.printed[settled]
            span = printed[(lines >= line_low) & (lines <= line_end) & np.isfinite(printed)]
            if len(span) < 2 or np.median(span[-3:]) >= np.median(span[:3]):
                continue
            yield self.finding(
                f"{series.label} rose from its minimum {fmt(values[low])} at {series.where(low)} to "
                f"{fmt(values[-1])} at {series.where(len(values) - 1)} while the training loss fell from "
                f"{fmt(float(np.median(span[:3])))} to {fmt(float(np.median(span[-3:])))}",
                series=series, index=low + 1, evidence=[line_low, series.lines[low + 1], line_end],
                values=[("minimum", values[low]), ("last", values[-1])])
