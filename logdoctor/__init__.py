"""logdoctor: a command-line doctor for deep-learning training logs.

The small Python API: :func:`read_table` turns a log into the event table,
:func:`diagnose` turns it into findings.
"""

__version__ = "0.1.0"

from logdoctor.model import Finding, Severity, UsageError  # noqa: E402

__all__ = ["Finding", "Severity", "UsageError", "__version__", "read_table", "diagnose"]


def read_table(path, parser="auto"):
    """Parse the log at ``path`` (or ``-`` for stdin) into a :class:`~logdoctor.parsing.ParseResult`."""
    from logdoctor.parsing import parse_path

    return parse_path(path, parser)


def diagnose(path, parser="auto", **options):
    """Diagnose the log at ``path``; returns a :class:`~logdoctor.model.Report`."""
    from logdoctor.engine import diagnose_path

    return diagnose_path(path, parser=parser, **options)
