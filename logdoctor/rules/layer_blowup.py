"""LD105 layer-blowup: the first layer whose values turn nan/inf or grow by orders of magnitude.

What it detects, in Caffe ``debug_info`` output (per-layer mean absolute values
printed at every display iteration): the first ``[Forward]`` top blob, weight, or
``[Backward]`` gradient that becomes non-finite, or that grows ``factor``-fold from
one display to the next to a value that is large in itself (an activation of at
least ``activation_min``, a weight or gradient of at least ``gradient_min``).

Why it matters: it names where the blow-up starts.  Downstream layers follow in
the same pass, so the first one in log order is the one to look at.

What to do: lower that layer's learning rate (``lr_mult``) or the global one, check
its initialisation, add normalisation (BatchNorm) or gradient clipping around it.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.series import Run, fmt

WATCHED = {
    "debug.forward.top": ("activations", "activation_min"),
    "debug.forward.param": ("weights", "gradient_min"),
    "debug.backward.bottom": ("gradients", "gradient_min"),
    "debug.backward.param": ("weight gradients", "gradient_min"),
}


@dataclasses.dataclass(frozen=True)
class LayerBlowup(Rule):
    factor: float = 100.0          # growth between two displays of the same blob
    activation_min: float = 10.0   # an activation mean |x| that is large in itself
    gradient_min: float = 1.0      # a weight or gradient mean |x| that is large in itself

    code = "LD105"
    name = "layer-blowup"
    severity = Severity.ERROR
    advice = ("Lower the learning rate of that layer (lr_mult) or the global one, check its initialisation, "
              "and add normalisation or gradient clipping around it.")
    fires_on = (
        "[Forward] Layer ip1, top blob ip1 data: 0.8\n[Forward] Layer ip2, top blob ip2 data: 0.6\n"
        "Iteration 0, loss = 1.6\n[Forward] Layer ip1, top blob ip1 data: 1.8\n"
        "[Forward] Layer ip2, top blob ip2 data: 245.7\nIteration 1, loss = 48.5\n",
    )
    silent_on = (
        "[Forward] Layer ip1, top blob ip1 data: 0.8\n[Forward] Layer ip2, top blob ip2 data: 0.6\n"
        "Iteration 0, loss = 1.6\n[Forward] Layer ip1, top blob ip1 data: 0.9\n"
        "[Forward] Layer ip2, top blob ip2 data: 0.7\nIteration 1, loss = 1.4\n",
    )

    def check(self, run: Run) -> Iterator[Finding]:
        best = None
        for series in run.debug_series():
            if series.name not in WATCHED:
                continue
            kind, floor_name = WATCHED[series.name]
            values = series.values
            bad = ~np.isfinite(values)
            previous = np.concatenate(([np.nan], values[:-1]))
            with np.errstate(divide="ignore", invalid="ignore"):
                grown = (values >= self.factor * previous) & (previous > 0) & (values >= getattr(self, floor_name))
            hits = np.flatnonzero(bad | grown)
            if len(hits) and (best is None or series.lines[hits[0]] < best[0].lines[best[1]]):
                best = (series, int(hits[0]), kind)
        if best is None:
            return
        series, i, kind = best
        value = series.values[i]
        where = f"layer {series.layer} ({kind} of {'param ' if 'param' in series.name else 'blob '}{series.blob})"
        if np.isfinite(value):
            message = (f"{where} grew from {fmt(series.values[i - 1])} to {fmt(value)} "
                       f"(x{fmt(value / series.values[i - 1])}) at {series.where(i)}: the first layer to blow up")
        else:
            message = f"{where} is {fmt(value)} at {series.where(i)}: the first layer to turn non-finite"
        yield self.finding(message, series=series, index=i, metric=series.layer,
                           evidence=[series.lines[i]] + ([series.lines[i - 1]] if i else []),
                           values=[("value", value)] + ([("previous", series.values[i - 1])] if i else []))
