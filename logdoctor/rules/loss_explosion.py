"""LD101 loss-explosion: the loss grows by orders of magnitude within a few displays.

What it detects: a training loss that jumps to at least ``factor`` times its recent
level and stays up (``hold`` displays or until it turns nan/inf), or a loss that
climbs ``nan_growth``-fold right before turning nan.  Softmax classifiers cannot
grow without bound (Caffe clamps each sample at 87.3365), so there the blow-up is
a jump of one to two orders of magnitude held until the NaN; that counts too.

Why it matters: this is the gradient blow-up that ends in overflow; every
iteration after it is wasted compute.  It is reported at the first step of the
growth, before the NaN when the log shows it.

What to do: lower the learning rate (often 10×), add gradient clipping, check the
initialisation and the scale of inputs and targets, and look for a layer or loss
head with a large learning-rate multiplier.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.rules.episodes import Explosion, find_explosion
from logdoctor.series import Run, Series, fmt


@dataclasses.dataclass(frozen=True)
class LossExplosion(Rule):
    factor: float = 10.0          # jump above the median of the previous displays
    hold_factor: float = 3.0      # the loss must stay this far above that level afterwards
    hold: int = 3                 # ... for this many displays (or until it turns nan/inf)
    nan_growth: float = 10.0      # growth over the displays right before a NaN that makes it a blow-up

    code = "LD101"
    name = "loss-explosion"
    severity = Severity.ERROR
    advice = ("Lower the learning rate (try 10x lower) or add gradient clipping; check input/target "
              "scaling, the initialisation, and per-layer learning-rate multipliers.")
    fires_on = (
        "Iteration 0, loss = 2.3\nIteration 10, loss = 2.1\nIteration 20, loss = 48.5\n"
        "Iteration 30, loss = 62.7\nIteration 40, loss = 58.1\nIteration 50, loss = -nan\n",
    )
    silent_on = (
        "Iteration 0, loss = 2.3\nIteration 10, loss = 1.9\nIteration 20, loss = 9.5\n"
        "Iteration 30, loss = 1.6\nIteration 40, loss = 1.5\nIteration 50, loss = 1.4\n",
    )

    def episodes(self, run: Run) -> list[tuple[Series, Explosion]]:
        """The first blow-up of the loss of each run segment (the training loss; else validation).

        Worked out once per run and thresholds: this rule and the ones deferring to it ask alike."""
        return run.memo(("loss-explosion", self), self._episodes)

    def _episodes(self, run: Run) -> list[tuple[Series, Explosion]]:
        found = []
        for series in run.loss("train") or run.loss("val"):
            episode = find_explosion(series, self.factor, self.hold_factor, self.hold, run.final, self.nan_growth)
            if episode is not None:
                found.append((series, episode))
        return found

    def check(self, run: Run) -> Iterator[Finding]:
        for series, episode in self.episodes(run):
            s, p = episode.start, episode.proof
            top = series.values[p] if np.isfinite(series.values[p]) else episode.peak
            ratio = top / episode.reference if episode.reference > 0 else float("inf")
            displays = max(p - s, 0) + 1
            when = (f"at {series.where(p)}" if s == p
                    else f"between {series.where(s)} and {series.where(p)} ({displays} displays)")
            text = f"{series.label} exploded from {fmt(episode.reference)} to {fmt(top)} (x{fmt(ratio)}) {when}"
            if np.isfinite(episode.peak) and episode.peak > top:
                text += f"; peak {fmt(episode.peak)}"
            evidence = [series.lines[s], series.lines[p]]
            values = [("reference", episode.reference), ("value", top), ("ratio", ratio)]
            if episode.first_nonfinite is not None:
                k = episode.first_nonfinite
                text += f"; first {fmt(series.values[k])} at line {int(series.lines[k]):,} ({series.where(k)})"
                evidence.append(series.lines[k])
                values.append(("first_nonfinite_line", series.lines[k]))
            yield self.finding(text, series=series, index=s, evidence=evidence, values=values)


def explosion_lines(run: Run) -> dict[int, int]:
    """Segment -> line where loss-explosion (default thresholds) puts a blow-up: one problem, one finding.

    Several rules defer to it; it is worked out once per run."""
    return run.memo("explosion_lines", lambda r: {
        series.segment: int(series.lines[episode.start]) for series, episode in LossExplosion().episodes(r)})
