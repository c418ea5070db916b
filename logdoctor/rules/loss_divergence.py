"""LD201 loss-divergence: the training loss climbs far above its best and stays there.

What it detects, on the training loss smoothed by a trailing median of
``window`` displays, once it has stayed up for ``hold`` displays:

* the net un-learns: after falling below half its starting level, the loss is back
  at ``unlearn`` × that level;
* the loss is ``ratio`` times its best smoothed level, having lost ``lost`` of what
  it had learnt, by ``noise`` times its typical scatter (noisy small-batch losses
  wander; a divergence stands out of the noise);
* the loss is ``above_start`` times the level it started from (for a classifier,
  the chance-level loss): an optimiser that never got going and is now unstable.

Not a spike that recovers (the median and ``hold`` see to that), and not a rising
validation loss with a falling training loss (that is overfitting).

Why it matters: the run is getting worse with every step; continuing wastes the
compute and the checkpoints written from now on are worse than earlier ones.

What to do: lower the learning rate (or make the decay start earlier), add
warm-up or gradient clipping, reduce momentum / Adam's beta2 instability
(raise epsilon), and resume from the checkpoint before the climb.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.rules.loss_explosion import explosion_lines
from logdoctor.series import Run, expanding_median, fmt, trailing_median


@dataclasses.dataclass(frozen=True)
class LossDivergence(Rule):
    window: int = 15          # displays in the trailing median
    hold: int = 8             # displays the smoothed loss must stay up
    ratio: float = 3.0        # times the best smoothed level ...
    lost: float = 0.3         # ... having lost this fraction of what was learnt since the start
    noise: float = 5.0        # ... by this many times the typical scatter of the loss around its median
    above_start: float = 2.0  # times the first value (for a classifier: the chance-level loss)
    unlearn: float = 0.9      # back to this fraction of the starting level after halving it

    code = "LD201"
    name = "loss-divergence"
    severity = Severity.ERROR
    advice = ("Lower the learning rate or start its decay earlier, add warm-up or gradient clipping, and resume "
              "from the last checkpoint before the climb.")
    fires_on = ("".join(f"Iteration {i * 10}, loss = {2.3 - 0.05 * i if i < 30 else 0.8 + 0.2 * (i - 30)}\n"
                        for i in range(60)),)
    silent_on = ("".join(f"Iteration {i * 10}, loss = {4.8 if i == 20 else 2.3 - 0.03 * i}\n" for i in range(60)),)

    def check(self, run: Run) -> Iterator[Finding]:
        explosions = explosion_lines(run)
        for series in run.loss("train"):
            # Settled values: for a progress bar's running means, the epoch means (divergence is slow).
            finite, v = series.settled_values()  # (indices and values; the finite ones below)
            keep = np.isfinite(v)
            if not keep.all():  # (most series are finite: no copies)
                finite, v = finite[keep], v[keep]
            if len(finite) < self.window + self.hold:
                continue
            smooth = trailing_median(v, self.window)
            first, start = float(v[0]), float(np.median(v[:3]))
            best = np.minimum.accumulate(smooth)
            climbed = (smooth >= self.ratio * best) & (smooth - best >= self.lost * (start - best))
            up = (smooth >= self.above_start * first) | ((best <= 0.5 * start) & (smooth >= self.unlearn * start))
            up[: self.window] = False
            # A climb must also stand out of the noise: the typical scatter around the trailing median so
            # far.  That only decides where a climb is not up anyway (rarely anywhere), so the costly
            # running median is taken only there.
            decides = np.flatnonzero(climbed & ~up)
            decides = decides[decides >= self.window]
            if len(decides):
                scatter = expanding_median(np.abs(v - smooth), decides)
                up[decides] = smooth[decides] - best[decides] >= self.noise * scatter
            if not up.any():
                continue  # (most runs: nowhere up, nothing to confirm)
            runs = np.convolve(up.astype(int), np.ones(self.hold, dtype=int), mode="valid")
            confirmed = np.flatnonzero(runs == self.hold)
            if not len(confirmed) or first <= 0:
                continue
            proof = int(confirmed[0]) + self.hold - 1
            if series.segment in explosions and explosions[series.segment] <= int(series.lines[finite[proof]]):
                continue
            lowest = int(np.argmin(smooth[: proof + 1]))
            level = float(smooth[lowest])
            onset = level + (smooth[proof] - level) / 3
            begin = lowest + int(np.argmax(v[lowest: proof + 1] >= onset))
            i = int(finite[begin])
            yield self.finding(
                f"{series.label} climbed from its best {fmt(level)} to {fmt(smooth[proof])} (median of "
                f"{self.window} displays) from {series.where(i)} and stayed up for {self.hold}+ displays "
                f"(first value {fmt(first)})",
                series=series, index=i, evidence=[series.lines[i], series.lines[finite[proof]]],
                values=[("best", level), ("smoothed", smooth[proof]), ("first", first)])
