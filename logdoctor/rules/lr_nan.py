"""LD104 lr-nan: the learning rate itself is nan or inf.

What it detects: a printed learning rate that is not finite (Caffe's
``Iteration 0, lr = -nan``).  When the solver parameters are in the log it names
the cause: ``lr_policy: "poly"`` without ``max_iter`` (Caffe computes
``(1 - iter/0)^power``), ``step`` without ``stepsize``, ``inv``/``exp``/``step``
without ``gamma``, a missing ``power``.

Why it matters: every update from this step on is nan; the weights are destroyed
at the first update and the loss follows.

What to do: fix the learning-rate schedule in the solver (set ``max_iter`` for
poly, ``stepsize``/``stepvalue`` and ``gamma`` for step policies).
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.rules.episodes import first_nonfinite
from logdoctor.rules.lr_policy_misconfigured import schedule_problems
from logdoctor.series import Run, fmt


@dataclasses.dataclass(frozen=True)
class LrNan(Rule):
    code = "LD104"
    name = "lr-nan"
    severity = Severity.ERROR
    advice = "Fix the learning-rate schedule: every parameter its policy needs must be set (see the cause above)."
    fires_on = ("Iteration 0, lr = -nan\nIteration 0, loss = 1.6\nIteration 10, lr = inf\nIteration 10, loss = nan\n",)
    silent_on = ("Iteration 0, lr = 0.01\nIteration 0, loss = 1.6\nIteration 10, lr = 0.01\n",)

    def check(self, run: Run) -> Iterator[Finding]:
        for series in run.series(names=("lr",)):
            i = first_nonfinite(series.values)
            if i is None:
                continue
            causes = [text for text, _ in schedule_problems(run.settings)]
            message = f"learning rate is {fmt(series.values[i])} at {series.where(i)}"
            if causes:
                message += "; cause: " + "; ".join(causes)
            evidence = [series.lines[i]] + [line for _, line in schedule_problems(run.settings)]
            yield self.finding(message, series=series, index=i, evidence=evidence,
                               advice=self.advice if not causes else f"Fix the solver: {causes[0]}.")
            return
