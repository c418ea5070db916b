"""LD108 nan-masked: a non-finite step hidden behind a finite-looking loss.

What it detects: a logged line where ``grad_norm`` is nan/inf while the ``loss`` on
the same line is finite (typically ``0.0``).  The HuggingFace Trainer's
``logging_nan_inf_filter`` (on by default) drops non-finite losses from the
logged average, so a run whose every step is nan can print ``'loss': 0.0``.

Why it matters: the printed loss looks healthy while the weights are being
destroyed (or every update skipped); nobody notices until evaluation.

What to do: set ``logging_nan_inf_filter=False`` to see the real loss, then treat
it as a nan: check the data, the learning rate, and mixed-precision settings.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.series import Run, fmt, optional_int


@dataclasses.dataclass(frozen=True)
class NanMasked(Rule):
    code = "LD108"
    name = "nan-masked"
    severity = Severity.WARNING
    advice = ("The logged loss hides non-finite steps: set logging_nan_inf_filter=False and treat the run as "
              "diverged (check data, learning rate, fp16/bf16 settings).")
    fires_on = ("{'loss': 0.0, 'grad_norm': nan, 'learning_rate': 5e-05, 'epoch': 0.01}\n"
                "{'loss': 0.0, 'grad_norm': nan, 'learning_rate': 5e-05, 'epoch': 0.02}\n",)
    silent_on = ("{'loss': 0.69, 'grad_norm': 1.2, 'learning_rate': 5e-05, 'epoch': 0.01}\n",)

    def check(self, run: Run) -> Iterator[Finding]:
        # Most logs have no non-finite grad_norm: ask the series first, before copying the table.
        if all(np.isfinite(s.printed).all() for s in run.series(names=("grad_norm",))):
            return
        metrics = run.metrics
        grad = metrics[(metrics["name"] == "grad_norm") & ~np.isfinite(metrics["value"])]
        if grad.empty:
            return
        loss = metrics[(metrics["name"] == "loss") & np.isfinite(metrics["value"])]
        masked = grad.merge(loss[["line", "value"]], on="line", suffixes=("", "_loss"))
        if masked.empty:
            return
        first = masked.iloc[0]
        yield self.finding(
            f"grad_norm is {fmt(first['value'])} while the logged loss is {fmt(first['value_loss'])} "
            f"on {len(masked)} logged line(s), the first at line {int(first['line']):,}: the loss hides nan steps",
            line=int(first["line"]), step=optional_int(first["step"]), phase="train", metric="grad_norm",
            evidence=masked["line"].head(5).tolist(), values=[("masked_lines", len(masked))])
