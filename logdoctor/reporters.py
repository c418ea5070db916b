"""Reporters: text (with charts), json, jsonl, github — a lifecycle behind a name table.

``start()`` once; ``finding(path, finding)`` as soon as a finding is known (live
watching); ``file(report, run)`` when one input is fully diagnosed; ``end(reports)``
once at the end.  Reporters format; they never decide what is a problem or what
the exit code is.
"""

from __future__ import annotations

import json
import math
import sys
from typing import TextIO

from logdoctor import __version__
from logdoctor.model import FileReport, Finding, Severity
from logdoctor.series import Run

JSON_VERSION = 1


def summary_counts(reports: list[FileReport]) -> dict[str, int]:
    counts = {"errors": 0, "warnings": 0, "infos": 0}
    for report in reports:
        for f in report.findings:
            counts[{Severity.ERROR: "errors", Severity.WARNING: "warnings", Severity.INFO: "infos"}[f.severity]] += 1
    return counts


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class Reporter:
    """Does nothing; subclasses override what they need."""

    def __init__(self, out: TextIO | None = None, *, plot: bool = False, color: bool = False, width: int = 80):
        self.out = out if out is not None else sys.stdout
        self.plot = plot
        self.color = color
        self.width = width

    def start(self) -> None:
        pass

    def finding(self, path: str, finding: Finding) -> None:
        pass

    def file(self, report: FileReport, run: Run | None) -> None:
        pass

    def end(self, reports: list[FileReport]) -> None:
        pass

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()


SEVERITY_COLORS = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}


class TextReporter(Reporter):
    """For people: per file, the findings by line with numbers and advice, then the charts."""

    def _severity(self, severity: Severity) -> str:
        text = f"{severity!s:<7}"
        return f"{SEVERITY_COLORS[severity]}{text}\x1b[0m" if self.color else text

    def alert_line(self, path: str, f: Finding) -> str:
        place = f"{path}:{f.line}" if f.line is not None else path
        return f"{place}: {self._severity(f.severity)} {f.code} {f.name}: {f.message}"

    def finding(self, path: str, finding: Finding) -> None:
        self.write(self.alert_line(path, finding) + "\n")

    def file(self, report: FileReport, run: Run | None) -> None:
        lines = [f"{report.path}  ({report.parser}, {report.lines:,} lines, {report.events:,} values and notes, "
                 f"{report.unparsed_lines:,} unknown lines)"]
        if not report.findings:
            lines.append("  no problem found")
        for f in report.findings:
            where = []
            if f.step is not None:
                where.append(f"step {f.step:,}")
            if f.epoch is not None:
                where.append(f"epoch {f.epoch}")
            if f.metric:
                where.append(f.metric)
            lines.append(f"  line {f.line if f.line is not None else '-':<7} {self._severity(f.severity)} "
                         f"{f.code} {f.name}" + (f"  [{', '.join(where)}]" if where else ""))
            lines.append(f"      {f.message}")
            lines.append(f"      advice: {f.advice}")
        text = "\n".join(lines) + "\n"
        if self.plot and run is not None:
            from logdoctor.plots import charts

            chart = charts(run, list(report.findings), self.width, self.color)
            if chart:
                text += chart + "\n"
        self.write(text + "\n")

    def end(self, reports: list[FileReport]) -> None:
        c = summary_counts(reports)
        self.write(f"{_plural(c['errors'], 'error')}, {_plural(c['warnings'], 'warning')}, "
                   f"{_plural(c['infos'], 'info')} in {_plural(len(reports), 'file')}\n")


class JsonReporter(Reporter):
    """One versioned JSON document for all files, written at the end."""

    def end(self, reports: list[FileReport]) -> None:
        document = {
            "version": JSON_VERSION,
            "tool": {"name": "logdoctor", "version": __version__},
            "files": [file_dict(r) for r in reports],
            "summary": summary_counts(reports),
        }
        self.write(json.dumps(document, indent=2, allow_nan=False, default=_json_default) + "\n")


class JsonLinesReporter(Reporter):
    """One JSON object per finding as it fires, then one summary object."""

    def finding(self, path: str, finding: Finding) -> None:
        self.write(json.dumps({"path": path, **finding_dict(finding)}, allow_nan=False,
                              default=_json_default) + "\n")

    def end(self, reports: list[FileReport]) -> None:
        self.write(json.dumps({"summary": summary_counts(reports),
                               "files": [{k: v for k, v in file_dict(r).items() if k != "findings"}
                                         for r in reports]}) + "\n")


class GithubReporter(Reporter):
    """GitHub Actions workflow commands: one annotation per finding."""

    LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}

    def finding(self, path: str, finding: Finding) -> None:
        props = [f"file={_escape_property(path)}"]
        if finding.line is not None:
            props.append(f"line={finding.line}")
        props.append(f"title={_escape_property(f'{finding.code} {finding.name}')}")
        message = f"{finding.message}. {finding.advice}"
        self.write(f"::{self.LEVELS[finding.severity]} {','.join(props)}::{_escape_data(message)}\n")


class BatchGithubReporter(GithubReporter):
    """For diagnose: the annotations of each file once it is diagnosed."""

    def file(self, report: FileReport, run: Run | None) -> None:
        for f in report.findings:
            GithubReporter.finding(self, report.path, f)

    def finding(self, path: str, finding: Finding) -> None:
        pass


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def finding_dict(f: Finding) -> dict:
    """A finding as JSON fields (non-finite numbers become their text: JSON has no nan)."""
    data = f.to_dict()
    data["values"] = {k: (v if math.isfinite(v) else str(v)) for k, v in data["values"].items()}
    return data


def file_dict(report: FileReport) -> dict:
    return {"path": report.path, "parser": report.parser, "lines": report.lines, "events": report.events,
            "unparsed_lines": report.unparsed_lines, "findings": [finding_dict(f) for f in report.findings]}


REPORTERS = {
    "text": TextReporter,
    "json": JsonReporter,
    "jsonl": JsonLinesReporter,
    "github": GithubReporter,
}


def for_diagnose(name: str, **options) -> Reporter:
    """The reporter for ``diagnose --format name`` (findings arrive per file, not one by one)."""
    if name == "github":
        return BatchGithubReporter(**options)
    return REPORTERS[name](**options)
