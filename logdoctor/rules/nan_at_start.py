"""LD103 nan-at-start: the very first values of a run are already nan/inf.

What it detects: a metric (loss, a loss head, ``grad_norm``, a test loss…) whose
first value in a run segment is non-finite, before any training value of the
segment was finite.  The learning rate is lr-nan's business.

Why it matters: nothing was learnt and nothing will be: the network produces
non-finite numbers from the first forward or backward pass.

What to do: check the input data for nan/inf and absurd scales, the
initialisation (a weight filler with a huge std), layers that divide by zero on
the given shapes (pooling windows that fall outside the input), and a mixed
precision loss scale that overflows at once.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.series import Run, fmt


@dataclasses.dataclass(frozen=True)
class NanAtStart(Rule):
    code = "LD103"
    name = "nan-at-start"
    severity = Severity.ERROR
    advice = ("Check the input data for nan/inf, the weight initialisation, layers that divide by zero on "
              "these shapes, and the mixed-precision loss scale; the very first pass is already non-finite.")
    fires_on = ("Iteration 0, loss = nan\nIteration 10, loss = nan\nIteration 20, loss = nan\n",)
    silent_on = ("Iteration 0, loss = 2.3\nIteration 10, loss = nan\nIteration 20, loss = nan\n",)

    def check(self, run: Run) -> Iterator[Finding]:
        first_finite_train = {}
        for series in run.series(phase="train"):
            if series.name == "lr":
                continue
            i = _first_finite(series)
            if i is not None:
                when = _when(series, i)
                first_finite_train[series.segment] = min(first_finite_train.get(series.segment, when), when)
        found: dict[int, tuple[tuple, object]] = {}
        for series in run.series():
            if series.name == "lr" or np.isfinite(series.printed[0]):  # (the first value stands as printed)
                continue
            when = _when(series, 0)
            if when > first_finite_train.get(series.segment, when):
                continue  # training was finite before this series first appeared
            if series.segment not in found or when < found[series.segment][0]:
                found[series.segment] = (when, series)
        for _, (_, series) in sorted(found.items()):
            line = int(series.lines[0])
            bad = ~np.isfinite(series.values)
            streak = int(np.argmin(bad)) if not bad.all() else len(bad)
            yield self.finding(
                f"{series.label} is {fmt(series.values[0])} from its first value at {series.where(0)}"
                + (f" and for all {len(bad)} values" if bad.all() else f", {streak} non-finite value(s) in a row"),
                series=series, index=0, evidence=[line], values=[("non_finite_values", float(bad.sum()))])


def _first_finite(series) -> int | None:
    """Index of the first finite value.  The first value stands as printed (see ``from_running_means``):
    most series need no per-step values to tell."""
    if np.isfinite(series.printed[0]):
        return 0
    finite = np.isfinite(series.values)
    return int(np.argmax(finite)) if finite.any() else None


def _when(series, i: int) -> tuple[int, float]:
    """When value ``i`` was logged: its line, then its step (values of one redrawn line differ by step;
    values on one line at one step, like a HuggingFace log dict, are simultaneous)."""
    step = series.step(i)
    return (series.line(i), -np.inf if step is None else float(step))
