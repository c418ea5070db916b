"""logdoctor: a command-line doctor for deep-learning training logs.

The small Python API: :func:`read_table` turns a log into the event table,
:func:`diagnose` turns it into findings.
"""

__version__ = "0.1.0"

from logdoctor.model import FileReport, Finding, Severity, UsageError  # noqa: E402

__all__ = ["FileReport", "Finding", "Severity", "UsageError", "__version__", "read_table", "diagnose"]


def read_table(path, parser="auto"):
    """Parse the log at ``path`` (or ``-`` for stdin) into a :class:`~logdoctor.parsing.ParseResult`."""
    from logdoctor.parsing import parse_path

    return parse_path(path, parser)


def diagnose(path, parser="auto", select=(), ignore=(), settings=()):
    """Diagnose the log at ``path``; returns a :class:`~logdoctor.model.FileReport`."""
    from logdoctor.engine import diagnose_path, select_rules

    return diagnose_path(path, parser, select_rules(select, ignore, settings)).report()
