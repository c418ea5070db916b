"""The command line: options in, one call, exit code out.

Exit codes (the one place they are defined):
  0  nothing at or above --fail-on was found (or, for parse, the input was read)
  1  findings at or above --fail-on
  2  usage error, unreadable or unrecognisable input
"""

from __future__ import annotations

import sys

import click

from logdoctor import __version__
from logdoctor.model import UsageError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class Group(click.Group):
    """Maps our one error type (and a closed stdout) to a one-line message and an exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except UsageError as error:
            click.echo(f"logdoctor: {error}", err=True)
            ctx.exit(EXIT_USAGE)
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(EXIT_OK)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; "
                    "2 usage error, unreadable or unrecognisable input.")
@click.version_option(__version__, prog_name="logdoctor")
def main() -> None:
    """logdoctor: reads a training log and says what went wrong, where, and what to do."""


def parser_option(f):
    return click.option("--parser", "parser", default="auto", show_default=True, metavar="NAME",
                        help="Log format: auto (detect from the head of the input) or a parser name "
                             "(see `logdoctor parsers`).")(f)


@main.command()
@click.argument("path", metavar="FILE|-")
@parser_option
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]), default="csv",
              show_default=True, help="Output format of the event table.")
@click.option("--summary", is_flag=True, help="Print counts per phase and series, and the line accounting.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of stdout (required for parquet).")
def parse(path: str, parser: str, fmt: str, summary: bool, output: str | None) -> None:
    """Parse a log into the event table (one row per value the log printed)."""
    from logdoctor.export import summary_text, write_table
    from logdoctor.parsing import parse_path

    result = parse_path(path, parser)
    if summary:
        click.echo(summary_text(result, path))
        return
    write_table(result.table, fmt, output)


@main.command("parsers")
def list_parsers() -> None:
    """List the log formats logdoctor reads, in detection order."""
    from logdoctor import parsers

    for parser in parsers.PARSERS:
        click.echo(f"{parser.name:<10} {parser.description}")
