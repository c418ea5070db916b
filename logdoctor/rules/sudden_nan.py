"""LD102 sudden-nan: a value turns nan/inf right after a smooth, non-growing history.

What it detects: the first non-finite value of a run segment (any metric: loss,
a loss head, ``grad_norm``, a test loss…) when the values before it were finite
and not growing, and the learning rate was still finite.

Why it matters: a loss that decreases smoothly and then is nan at once was not
pushed there by the optimiser; the usual causes are a bad input batch (nan or inf
in the data, a corrupt sample, a label out of range) or a numerically unsafe loss
layer (log of zero, division by zero, sqrt of a negative).

What to do: check the data fed at that step (assert finite inputs and valid labels),
guard logs and divisions in custom losses with an epsilon, and re-run from the
last checkpoint with anomaly detection (``torch.autograd.set_detect_anomaly``).
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.rules.episodes import first_nonfinite
from logdoctor.rules.loss_explosion import explosion_lines
from logdoctor.series import Run, fmt


@dataclasses.dataclass(frozen=True)
class SuddenNan(Rule):
    history: int = 1            # finite values needed before the NaN (fewer: nan-at-start's case)
    window: int = 3             # the last values compared with the earlier level
    growth: float = 3.0         # the last values may not exceed this multiple of the earlier level

    code = "LD102"
    name = "sudden-nan"
    severity = Severity.ERROR
    advice = ("Check the input batch at that step for nan/inf or invalid labels, guard log/div/sqrt in the "
              "loss with an epsilon, and re-run from a checkpoint with anomaly detection on.")
    fires_on = (
        "Iteration 0, loss = 1.6\nIteration 10, loss = 1.2\nIteration 20, loss = 0.9\n"
        "Iteration 30, loss = 0.7\nIteration 40, loss = nan\nIteration 50, loss = nan\n",
    )
    silent_on = (
        "Iteration 0, loss = 1.6\nIteration 10, loss = 1.2\nIteration 20, loss = 0.9\nIteration 30, loss = 0.7\n",
        "Iteration 0, loss = 1.6\nIteration 10, loss = 3.2\nIteration 20, loss = 40\n"
        "Iteration 30, loss = 900\nIteration 40, loss = nan\n",
    )

    def check(self, run: Run) -> Iterator[Finding]:
        explosions = explosion_lines(run)
        lr_bad = _first_bad_lr_lines(run)
        # The first non-finite value of each segment, whatever the series.
        first: dict[int, tuple[int, object, int]] = {}
        for series in run.series():
            if series.name == "lr" or np.isfinite(series.printed).all():
                continue  # (printed values all finite: so are the per-step values, see from_running_means)
            i = first_nonfinite(series.values)
            if i is None:
                continue
            row = int(series.rows[i])
            if series.segment not in first or row < first[series.segment][0]:
                first[series.segment] = (row, series, i)
        for segment, (_, series, i) in sorted(first.items()):
            line = int(series.lines[i])
            if i < self.history:  # nan (almost) from the start: nan-at-start's case
                continue
            if segment in explosions and explosions[segment] <= line:
                continue
            if segment in lr_bad and lr_bad[segment] <= line:
                continue
            before = series.values[:i]
            recent, earlier = before[-self.window:], before[:-self.window] if i > self.window else before[:1]
            level = float(np.median(earlier))
            if level > 0 and recent.max() > self.growth * level:
                continue
            yield self.finding(
                f"{series.label} turned {fmt(series.values[i])} at {series.where(i)} right after "
                f"{fmt(before[-1])}, with no growth before it ({i} finite values, "
                f"median {fmt(float(np.median(before)))})",
                series=series, index=i, evidence=[series.lines[i - 1], series.lines[i]],
                values=[("last_finite", before[-1]), ("median_before", float(np.median(before)))])


def _first_bad_lr_lines(run: Run) -> dict[int, int]:
    """Segment -> first line where the learning rate is nan/inf (lr-nan explains what follows)."""
    out: dict[int, int] = {}
    for series in run.series(names=("lr",)):
        i = first_nonfinite(series.values)
        if i is not None:
            out[series.segment] = min(out.get(series.segment, 1 << 62), int(series.lines[i]))
    return out
