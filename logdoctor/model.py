"""Immutable values shared by every layer: severities, findings, reports, the one error type."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

# The exit codes, defined once: nothing at or above --fail-on / findings at or above it /
# usage error, unreadable or unrecognisable input / interrupted.
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad input or bad options: the CLI prints it as one line and exits 2."""


class Severity(enum.IntEnum):
    """How bad a finding is; ordered so that ``>=`` compares with ``--fail-on``."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise UsageError(f"unknown severity {text!r}: use info, warning or error") from None


@dataclass(frozen=True)
class Finding:
    """One problem found in a log, with the numbers that prove it.

    ``key`` identifies the problem: the same episode found again on a longer
    prefix of the log (live watching) is the same finding.
    """

    code: str
    name: str
    severity: Severity
    message: str
    line: int | None = None
    step: int | None = None
    epoch: int | None = None
    phase: str | None = None
    metric: str | None = None
    evidence: tuple[int, ...] = ()
    values: tuple[tuple[str, float], ...] = ()
    advice: str = ""
    final: bool = False

    @property
    def key(self) -> tuple:
        return (self.code, self.metric, self.step if self.step is not None else self.line)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "severity": str(self.severity),
            "line": self.line,
            "step": self.step,
            "epoch": self.epoch,
            "phase": self.phase,
            "metric": self.metric,
            "message": self.message,
            "advice": self.advice,
            "evidence": list(self.evidence),
            "values": {k: v for k, v in self.values},
        }


@dataclass(frozen=True)
class ParseStats:
    """What became of every input line: with rows + recognised + unknown = total."""

    parser: str
    lines: int = 0
    lines_with_rows: int = 0
    lines_recognised: int = 0
    lines_unknown: int = 0
    parsers_used: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileReport:
    """The diagnosis of one input."""

    path: str
    parser: str
    lines: int
    events: int
    unparsed_lines: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)
