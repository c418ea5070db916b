"""The command line: options in, one call, exit code out.

Exit codes (defined in :mod:`logdoctor.model`):
  0    nothing at or above --fail-on was found (or, for parse, the input was read)
  1    findings at or above --fail-on; watch --exit-on fired; run stopped the command
  2    usage error, unreadable or unrecognisable input
  130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import os
import sys

import click

from logdoctor import __version__
from logdoctor.model import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError

FAIL_ON = ("error", "warning", "info", "never")


class Group(click.Group):
    """Maps our one error type (and a closed stdout, and any bug) to a one-line message and an exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except UsageError as error:
            click.echo(f"logdoctor: {error}", err=True)
            ctx.exit(EXIT_USAGE)
        except BrokenPipeError:
            _stdout_closed()
            ctx.exit(EXIT_OK)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("logdoctor: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except MemoryError:
            click.echo("logdoctor: out of memory", err=True)
            ctx.exit(EXIT_USAGE)
        except Exception as error:  # a bug: still one line, never a traceback (LOGDOCTOR_DEBUG=1 shows it)
            if os.environ.get("LOGDOCTOR_DEBUG"):
                raise
            click.echo(f"logdoctor: internal error: {type(error).__name__}: {error} "
                       "(please report it; LOGDOCTOR_DEBUG=1 shows the traceback)", err=True)
            ctx.exit(EXIT_USAGE)


def _stdout_closed() -> None:
    """Our reader went away (``| head``): stop writing, quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; "
                    "2 usage error, unreadable or unrecognisable input.")
@click.version_option(__version__, prog_name="logdoctor")
def main() -> None:
    """logdoctor: reads a training log and says what went wrong, where, and what to do."""
    from logdoctor import allocator  # (not for --help: it needs no memory)

    allocator.keep_freed_memory()


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


def rule_options(f):
    f = click.option("--set", "settings", multiple=True, metavar="RULE.FIELD=VALUE",
                     help="Change a rule threshold, e.g. --set loss-explosion.factor=20 (repeatable).")(f)
    f = click.option("--ignore", multiple=True, metavar="CODE|SLUG",
                     help="Skip rules by code prefix or slug, comma-separated (repeatable).")(f)
    f = click.option("--select", multiple=True, metavar="CODE|SLUG",
                     help="Run only these rules: code prefix (LD1) or slug, comma-separated (repeatable).")(f)
    return f


def _split(values: tuple[str, ...]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _color(no_color_flag: bool = False) -> bool:
    import os

    return not no_color_flag and "NO_COLOR" not in os.environ and sys.stdout.isatty()


@main.command()
@click.argument("paths", metavar="FILE...|-", nargs=-1, required=True)
@parser_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
              help="text for people (with charts), json (versioned, for machines), github (workflow annotations).")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="error", show_default=True,
              help="Exit 1 when a finding of at least this severity is found.")
@click.option("--no-plot", is_flag=True, help="No charts in the text report.")
@rule_options
def diagnose(paths, parser, fmt, fail_on, no_plot, select, ignore, settings) -> None:
    """Diagnose training logs: what went wrong, where, and what to do.

    Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it;
    2 usage error, unreadable or unrecognisable input.
    """
    import shutil

    from logdoctor import engine, reporters
    from logdoctor.model import Severity

    rules = engine.select_rules(_split(select), _split(ignore), settings)
    reporter = reporters.for_diagnose(fmt, plot=fmt == "text" and not no_plot, color=_color(),
                                      width=min(shutil.get_terminal_size((100, 24)).columns, 160) - 2)
    reporter.start()
    reports, failed = [], False
    for path in paths:
        try:
            analyzer = engine.diagnose_path(path, parser, rules)
        except UsageError as error:
            click.echo(f"logdoctor: {error}", err=True)
            failed = True
            continue
        report = analyzer.report()
        reports.append(report)
        reporter.file(report, analyzer.run())
    reporter.end(reports)
    code = engine.exit_code(reports, None if fail_on == "never" else Severity.parse(fail_on))
    sys.exit(EXIT_USAGE if failed else code)


@main.command("rules")
def list_rules() -> None:
    """List the rules: code, slug, severity, and what each detects."""
    from logdoctor.rules import RULES

    for rule in RULES:
        summary = rule.doc().splitlines()[0].split(": ", 1)[-1]
        click.echo(f"{rule.code}  {rule.name:<30} {rule.severity!s:<8} {summary}")


@main.command()
@click.argument("rule", metavar="CODE|SLUG")
def explain(rule: str) -> None:
    """Print one rule's documentation, thresholds and examples."""
    import dataclasses

    from logdoctor.engine import find_rule

    cls = find_rule(rule)
    click.echo(f"{cls.code} {cls.name} ({cls.severity}{', judged on the whole run' if cls.final else ''})\n")
    click.echo(cls.doc())
    fields = dataclasses.fields(cls)
    if fields:
        click.echo("\nThresholds (change with --set " + cls.name + ".FIELD=VALUE):")
        for f in fields:
            click.echo(f"  {f.name} = {f.default!r}")
    for title, examples in (("Fires on", cls.fires_on), ("Silent on", cls.silent_on)):
        for example in examples:
            click.echo(f"\n{title}:")
            for line in example.rstrip("\n").splitlines()[:14]:
                click.echo(f"    {line}")
            if example.count("\n") > 14:
                click.echo("    ...")


@main.command()
@click.argument("path", metavar="[-]", required=False, default="-")
@click.option("-f", "--follow", "follow", metavar="FILE", default=None,
              help="Follow FILE like `tail -F` (new lines, truncation, rotation) instead of reading stdin.")
@parser_option
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl", "github"]), default="text", show_default=True,
              help="text: one alert line per finding (and a live chart on a terminal); jsonl: one JSON object "
                   "per finding, then a summary; github: workflow annotations.")
@click.option("--exit-on", type=click.Choice(["error", "warning", "never"]), default="never", show_default=True,
              help="Stop and exit 1 as soon as a finding of this severity fires.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="error", show_default=True,
              help="At the end of the input, exit 1 if a finding of at least this severity was found.")
@rule_options
def watch(path, follow, parser, fmt, exit_on, fail_on, select, ignore, settings) -> None:
    """Diagnose a training log while it is written: `tail -f train.log | logdoctor watch`.

    Each finding is reported the moment the lines that prove it arrive.  Exit codes:
    0/1 as for diagnose at the end of the input; 1 at once with --exit-on; 130 on Ctrl-C;
    2 usage error or unrecognisable input.
    """
    from logdoctor import engine, live, reporters
    from logdoctor.sources import display_name

    rules = engine.select_rules(_split(select), _split(ignore), settings)
    name = follow or path
    reader = live.FollowReader(follow) if follow else live.StreamReader(sys.stdin.fileno())
    watcher = live.Watch(reader, engine.Analyzer(rules, parser, name))
    reporter = reporters.REPORTERS[fmt](color=_color())
    stop_on = live.severity_or_none(exit_on)
    display = display_name(name)

    def on_finding(finding) -> bool:
        reporter.finding(display, finding)
        return stop_on is not None and finding.severity >= stop_on

    tick = _live_chart(watcher, reporter) if fmt == "text" and sys.stdout.isatty() else None
    try:
        try:
            stopped = live.run_watch(watcher, on_finding, tick)
        except KeyboardInterrupt:
            reporter.end([watcher.analyzer.report()])
            sys.exit(EXIT_INTERRUPTED)
        report = watcher.analyzer.report()
        reporter.end([report])
    except BrokenPipeError:
        _stdout_closed()
        sys.exit(EXIT_OK)
    if stopped:
        sys.exit(EXIT_FINDINGS)
    sys.exit(engine.exit_code([report], live.severity_or_none(fail_on)))


def _live_chart(watcher, reporter):
    """On a terminal: redraw the loss/lr chart with the alerts under it, at most twice a second."""
    import shutil
    import time

    from logdoctor.sources import display_name

    state = {"last": 0.0}

    def tick() -> None:
        now = time.monotonic()
        if now - state["last"] < 0.5:
            return
        run = watcher.analyzer.run(final=False)
        if not len(run.arrays["line"]):
            return
        state["last"] = now
        from logdoctor.plots import charts

        findings = list(watcher.analyzer.reported.values())
        width = min(shutil.get_terminal_size((100, 24)).columns, 160) - 2
        chart = charts(run, findings, width, reporter.color)
        alerts = "\n".join(reporter.alert_line(display_name(watcher.analyzer.path), f) for f in findings[-8:])
        sys.stdout.write("\x1b[H\x1b[2J" + chart + "\n" + alerts + "\n")
        sys.stdout.flush()
    return tick


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--kill-on", type=click.Choice(["error", "warning", "never"]), default="error", show_default=True,
              help="Stop the training as soon as a finding of this severity fires.")
@click.option("--grace", type=float, default=10.0, show_default=True,
              help="Seconds between SIGINT (time to save a checkpoint) and SIGTERM/SIGKILL.")
@parser_option
@rule_options
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(kill_on, grace, parser, select, ignore, settings, command) -> None:
    """Run a training command and stop it when it diverges: `logdoctor run -- python train.py`.

    Its output passes through unchanged; alerts and the final diagnosis go to stderr.
    Exits with the command's exit code, or 1 when logdoctor stopped it because of a finding.
    """
    from logdoctor import engine, live, reporters

    rules = engine.select_rules(_split(select), _split(ignore), settings)
    child = live.Child(list(command))
    child.start()
    watches = [live.Watch(live.Tee(child.process.stdout.fileno(), sys.stdout.buffer),
                          engine.Analyzer(rules, parser, "<stdout>")),
               live.Watch(live.Tee(child.process.stderr.fileno(), sys.stderr.buffer),
                          engine.Analyzer(rules, parser, "<stderr>"))]
    alerts = reporters.TextReporter(sys.stderr, color=_color())
    kill = live.severity_or_none(kill_on)
    stopped_by_us = False

    def handle(watch, found) -> bool:
        for finding in found:
            alerts.write("logdoctor: " + alerts.alert_line(watch.analyzer.path, finding) + "\n")
            if kill is not None and finding.severity >= kill:
                return True
        return False

    def pump(timeout: float) -> bool:
        """Read each open pipe once; True when a finding asks to stop."""
        stop = False
        for watch in watches:
            if watch.done:
                continue
            try:
                found = watch.pump(timeout / len(watches))
                if found is None:
                    found = watch.finish()
            except UsageError:  # this stream carries no log we know (e.g. only warnings)
                watch.done, found = True, []
            stop = handle(watch, found) or stop
        return stop

    try:
        while not all(w.done for w in watches):
            if pump(live.POLL):
                stopped_by_us = True
                alerts.write(f"logdoctor: stopping {command[0]} (SIGINT, then SIGTERM/SIGKILL after {grace:g}s)\n")
                child.stop(grace, pump)
                break
    except KeyboardInterrupt:
        child.stop(grace, lambda t: None)
    for watch in watches:
        if not watch.done:
            try:
                handle(watch, watch.finish())
            except UsageError:
                watch.done = True
    code = child.exit_code()
    diagnosis = reporters.TextReporter(sys.stderr, color=_color())
    reports = [w.analyzer.report() for w in watches if w.analyzer.reported]
    for report in reports:
        diagnosis.file(report, None)
    sys.exit(EXIT_FINDINGS if stopped_by_us else code)
