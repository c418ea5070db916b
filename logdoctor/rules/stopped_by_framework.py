"""LD501 stopped-by-framework: the framework itself stopped (or crashed) the run.

What it detects, from the framework's own messages: Keras ``TerminateOnNaN``
(``Batch N: Invalid loss, terminating training``), Lightning ``EarlyStopping`` on
a non-finite monitored metric or its divergence threshold, Lightning's non-finite
loss check, PyTorch anomaly detection (``Function 'LogSoftmaxBackward0' returned
nan values``) — errors, because a non-finite value caused them — and ordinary
early stopping (info).

Why it matters: the log says in words why training ended; the numbers before it
say where it started to go wrong.

What to do: for a non-finite stop, find the first nan/inf (the other findings
point at it); ordinary early stopping needs nothing.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Iterator

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.series import Run

CAUSES = {
    "nan_terminated": (Severity.ERROR, "TerminateOnNaN stopped training on a non-finite loss"),
    "early_stopping_nonfinite": (Severity.ERROR, "early stopping fired because the monitored metric is not finite"),
    "divergence_threshold": (Severity.ERROR, "early stopping fired on its divergence threshold"),
    "nonfinite_loss": (Severity.ERROR, "the framework refused a non-finite loss"),
    "anomaly": (Severity.ERROR, "autograd anomaly detection found a non-finite gradient"),
    "early_stopping": (Severity.INFO, "early stopping ended training"),
}


@dataclasses.dataclass(frozen=True)
class StoppedByFramework(Rule):
    code = "LD501"
    name = "stopped-by-framework"
    severity = Severity.ERROR
    advice = ("Find the first non-finite value before this message (see the other findings); the framework "
              "stopped the run because of it.")
    fires_on = ("Iteration 0, loss = 2.3\nRuntimeError: Function 'LogSoftmaxBackward0' returned nan values in "
                "its 0th output.\n",)
    silent_on = ("Iteration 0, loss = 2.3\nIteration 10, loss = 2.1\n",)

    def check(self, run: Run) -> Iterator[Finding]:
        notes = run.notes_of(*CAUSES)
        for name in CAUSES:
            rows = [note for note in notes if note.name == name]
            if name == "early_stopping":  # not "metric improved" or "restoring weights": the stop itself
                rows = [note for note in rows if re.search("stop", note.text, re.IGNORECASE)]
            if not rows:
                continue
            first = rows[0]
            severity, what = CAUSES[name]
            yield self.finding(
                f"{what}: {first.text.strip()[:160]}", line=first.line, step=first.step, epoch=first.epoch,
                severity=severity, evidence=[note.line for note in rows[:3]],
                advice=self.advice if severity is Severity.ERROR else "Nothing to do: this is an ordinary stop.")
