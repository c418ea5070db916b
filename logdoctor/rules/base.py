"""What every rule shares: metadata, thresholds as typed fields, and building findings.

A rule is a small frozen dataclass: its fields are its thresholds (changed with
``--set slug.field=value``), its class attributes say what it is (code, slug,
severity, advice, whether it needs the whole run), and ``check(run)`` yields
findings.  Rules never print, exit or read options; the engine owns policy.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import ClassVar, Iterator

from logdoctor.model import Finding, Severity
from logdoctor.series import Run, Series


@dataclasses.dataclass(frozen=True)
class Rule:
    """Base of all rules; subclasses set the class attributes and implement ``check``."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    advice: ClassVar[str]
    # A final rule judges the whole run and runs only once the input has ended.
    final: ClassVar[bool] = False
    # Examples: small logs on which the rule must fire / stay silent (tests and `explain`).
    fires_on: ClassVar[tuple[str, ...]] = ()
    silent_on: ClassVar[tuple[str, ...]] = ()

    def check(self, run: Run) -> Iterator[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError

    def finding(self, message: str, *, series: Series | None = None, index: int | None = None,
                line: int | None = None, step: int | None = None, epoch: int | None = None,
                phase: str | None = None, metric: str | None = None, evidence=(), values=(),
                severity: Severity | None = None, advice: str | None = None) -> Finding:
        """A finding of this rule; with ``series`` and ``index`` the place comes from that value."""
        if series is not None and index is not None:
            line = int(series.lines[index]) if line is None else line
            step = series.step(index) if step is None else step
            epoch = series.epoch(index) if epoch is None else epoch
            phase = series.phase if phase is None else phase
            metric = series.label if metric is None else metric
        return Finding(code=self.code, name=self.name, severity=severity or self.severity, message=message,
                       line=line, step=step, epoch=epoch, phase=phase, metric=metric,
                       evidence=tuple(sorted({int(e) for e in evidence})),
                       values=tuple((k, float(v)) for k, v in values),
                       advice=advice or self.advice, final=self.final)

    @classmethod
    def thresholds(cls) -> list[dataclasses.Field]:
        return list(dataclasses.fields(cls))

    @classmethod
    def doc(cls) -> str:
        """The rule's documentation: the docstring of its module (what, why it matters, what to do)."""
        return (sys.modules[cls.__module__].__doc__ or "").strip()
