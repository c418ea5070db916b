"""LD204 loss-weight-culprit: with several loss outputs, which one blew up first.

What it detects: in a net with two or more weighted loss outputs (Caffe's
``Train net output #k: name = v (* w = … loss)``), the output that exploded
(``factor``-fold jump held until nan or for a few displays) or turned nan/inf
first, with its loss weight and its share of the total.

Why it matters: the total loss says that the run diverged; this says which head
did it, and therefore which layers, loss weight or ``lr_mult`` to change.

It speaks only when the total loss blew up or turned nan/inf; a head that is
noisy on its own in a healthy run is not a culprit.

What to do: lower that output's loss weight or the learning-rate multipliers of
the layers that feed only it; normalise its targets (regression heads with large
targets are the usual suspects).
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.rules.episodes import find_explosion, first_nonfinite
from logdoctor.rules.loss_explosion import explosion_lines
from logdoctor.series import Run, fmt


@dataclasses.dataclass(frozen=True)
class LossWeightCulprit(Rule):
    factor: float = 10.0

    code = "LD204"
    name = "loss-weight-culprit"
    severity = Severity.WARNING
    advice = ("Lower that output's loss_weight or the lr_mult of the layers feeding it, and normalise its "
              "targets.")
    fires_on = ("".join(f"Iteration {i * 5}, loss = {a + 0.3 * b}\n"
                        f"    Train net output #0: loss_cls = {a} (* 1 = {a} loss)\n"
                        f"    Train net output #1: loss_reg = {b} (* 0.3 = {0.3 * b} loss)\n"
                        for i, (a, b) in enumerate([(1.65, 2.0), (1.68, 22957.5), (1.36, 1239.6), (1.38, 5462.0),
                                                    (1.46, 2.76e6), (float("nan"), float("nan"))])),)
    silent_on = ("".join(f"Iteration {i * 5}, loss = {a + 0.3 * b}\n"
                         f"    Train net output #0: loss_cls = {a} (* 1 = {a} loss)\n"
                         f"    Train net output #1: loss_reg = {b} (* 0.3 = {0.3 * b} loss)\n"
                         for i, (a, b) in enumerate([(1.65, 2.0), (1.5, 1.8), (1.3, 1.5), (1.1, 1.2)])),)

    def check(self, run: Run) -> Iterator[Finding]:
        outputs: dict[int, list] = {}
        weights = run.arrays["weight"]
        for series in run.series(phase="train"):
            if series.output is None:
                continue
            weight = float(weights[series.rows[0]])  # the loss weight its first line printed
            if weight > 0:
                outputs.setdefault(series.segment, []).append((series, weight))
        troubled = set(explosion_lines(run))
        troubled |= {s.segment for s in run.loss("train") if first_nonfinite(s.values) is not None}
        for segment, heads in sorted(outputs.items()):
            if len(heads) < 2 or segment not in troubled:
                continue
            events = []
            for series, weight in heads:
                episode = find_explosion(series, self.factor, 3.0, 3, run.final, self.factor)
                bad = episode.start if episode is not None else first_nonfinite(series.values)
                if bad is not None:
                    ratio = (series.values[bad] / episode.reference) if episode and episode.reference > 0 else np.inf
                    events.append((int(series.lines[bad]), -float(ratio if np.isfinite(ratio) else 0),
                                   series, bad, weight, episode))
            if not events:
                continue
            events.sort(key=lambda e: (e[0], e[1]))
            line, _, series, i, weight, episode = events[0]
            same_time = [e for e in events[1:] if series.step(i) is not None and e[2].step(e[3]) == series.step(i)]
            if same_time and episode is None:
                continue  # every head turned nan at once: no culprit to name
            others = ", ".join(f"{s.name} {fmt(s.values[min(i, len(s) - 1)])}" for s, _ in heads if s is not series)
            how = (f"exploded from {fmt(episode.reference)} to {fmt(series.values[i])}" if episode is not None
                   else f"turned {fmt(series.values[i])}")
            yield self.finding(
                f"{series.name} (output #{series.output}, loss weight {fmt(weight)}) {how} at {series.where(i)} "
                f"first, contributing {fmt(weight * series.values[i])} to the total; the other outputs then: {others}",
                series=series, index=i, metric=series.name, evidence=[line],
                values=[("loss_weight", weight), ("value", series.values[i])])
