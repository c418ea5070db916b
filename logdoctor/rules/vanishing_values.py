"""LD106 vanishing-values: activations or gradients of a layer collapse towards zero.

What it detects, in Caffe ``debug_info`` output: a layer whose mean absolute
gradient (``[Backward]`` diff) falls below ``gradient_floor`` or whose mean
absolute activation (``[Forward]`` top blob) falls below ``activation_floor``
while not exactly zero.

Why it matters: a layer with gradients of 1e-20 cannot learn; with saturating
activations (sigmoid, tanh) and tiny initial weights the signal shrinks by
orders of magnitude per layer, and the loss stays at chance.

What to do: use ReLU-family activations, a scaled initialisation (Xavier/He /
MSRA instead of a tiny Gaussian), normalisation layers, or residual connections.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.series import Run, fmt

GRADIENTS = ("debug.backward.bottom", "debug.backward.param")
ACTIVATIONS = ("debug.forward.top",)


@dataclasses.dataclass(frozen=True)
class VanishingValues(Rule):
    gradient_floor: float = 1e-20
    activation_floor: float = 1e-30

    code = "LD106"
    name = "vanishing-values"
    severity = Severity.WARNING
    advice = ("Use ReLU-family activations, a scaled initialisation (Xavier/MSRA rather than a tiny Gaussian), "
              "normalisation layers or residual connections.")
    fires_on = (
        "[Backward] Layer ip2, param blob 0 diff: 2.3e-05\n[Backward] Layer ip1, param blob 0 diff: 1.8e-25\n"
        "Iteration 0, loss = 1.386\n",
    )
    silent_on = (
        "[Backward] Layer ip2, param blob 0 diff: 2.3e-02\n[Backward] Layer ip1, param blob 0 diff: 1.8e-05\n"
        "Iteration 0, loss = 1.386\n",
    )

    def check(self, run: Run) -> Iterator[Finding]:
        hits = []
        for series in run.debug_series():
            floor = (self.gradient_floor if series.name in GRADIENTS
                     else self.activation_floor if series.name in ACTIVATIONS else None)
            if floor is None:
                continue
            values = series.values
            tiny = np.flatnonzero(np.isfinite(values) & (values != 0) & (np.abs(values) < floor))
            if len(tiny):
                hits.append((int(series.lines[tiny[0]]), series, int(tiny[0])))
        if not hits:
            return
        hits.sort(key=lambda h: h[0])
        line, series, i = hits[0]
        layers = []
        for _, s, j in hits:
            if s.layer not in [name for name, _ in layers]:
                layers.append((s.layer, s.values[j]))
        kind = "gradient" if series.name in GRADIENTS else "activation"
        listing = ", ".join(f"{layer} {fmt(value)}" for layer, value in layers[:8])
        yield self.finding(
            f"{kind} of layer {series.layer} is {fmt(series.values[i])} at {series.where(i)}: "
            f"vanished (below {fmt(self.gradient_floor if kind == 'gradient' else self.activation_floor)}); "
            f"layers affected: {listing}",
            series=series, index=i, metric=series.layer, evidence=[h[0] for h in hits[:8]],
            values=[(layer, value) for layer, value in layers[:8]])
