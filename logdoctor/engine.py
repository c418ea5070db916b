"""Rules over the event table: the one loop shared by ``diagnose`` and ``watch``.

:class:`Analyzer` takes blocks of lines as they come — all of a file at once, or
a live stream a little at a time — and reports each finding once, the first time
the lines that prove it have been seen.  ``diagnose`` is a stream that ends:
feed everything, then ``close``.  Selection of rules, threshold overrides and the
exit code are decided here, nowhere else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from logdoctor import table as tables
from logdoctor.model import EXIT_FINDINGS, EXIT_OK, FileReport, Finding, Severity, UsageError
from logdoctor.parsing import PIECE_ROWS, TableStream
from logdoctor.rules import RULES
from logdoctor.rules.base import Rule
from logdoctor.series import Run
from logdoctor.sources import Block, blocks_from_chunks, display_name, read_chunks

if TYPE_CHECKING:
    import pandas as pd

# ---------------------------------------------------------------- choosing rules

def find_rule(token: str) -> type[Rule]:
    """A rule class by code (``LD101``) or slug (``loss-explosion``)."""
    for rule in RULES:
        if token.upper() == rule.code or token.lower() == rule.name:
            return rule
    raise UsageError(f"unknown rule {token!r}: see `logdoctor rules`")


def _matches(rule: type[Rule], token: str) -> bool:
    token = token.strip()
    return rule.code.startswith(token.upper()) or rule.name == token.lower()


def select_rules(select: Iterable[str] = (), ignore: Iterable[str] = (),
                 settings: Iterable[str] = ()) -> tuple[Rule, ...]:
    """Rule instances after ``--select``/``--ignore`` (code prefix or slug) and ``--set rule.field=value``."""
    select, ignore = [t for t in select if t.strip()], [t for t in ignore if t.strip()]
    for token in (*select, *ignore):
        if not any(_matches(rule, token) for rule in RULES):
            raise UsageError(f"--select/--ignore {token!r} matches no rule: see `logdoctor rules`")
    chosen = [r for r in RULES if (not select or any(_matches(r, t) for t in select))
              and not any(_matches(r, t) for t in ignore)]
    overrides: dict[type[Rule], dict[str, object]] = {}
    for item in settings:
        rule, name, value = _parse_setting(item)
        overrides.setdefault(rule, {})[name] = value
    return tuple(rule(**overrides.get(rule, {})) for rule in chosen)


def _parse_setting(item: str) -> tuple[type[Rule], str, object]:
    target, sep, raw = item.partition("=")
    rule_token, dot, field_name = target.partition(".")
    if not sep or not dot:
        raise UsageError(f"--set {item!r}: expected RULE.FIELD=VALUE, e.g. loss-explosion.factor=20")
    rule = find_rule(rule_token)
    fields = {f.name: f for f in dataclasses.fields(rule)}
    if field_name not in fields:
        raise UsageError(f"--set {item!r}: {rule.name} has no threshold {field_name!r} "
                         f"(it has {', '.join(fields) or 'none'})")
    kind = type(fields[field_name].default)
    try:
        value = kind(raw) if kind is not bool else raw.lower() in ("1", "true", "yes", "on")
    except ValueError:
        raise UsageError(f"--set {item!r}: {field_name} takes a {kind.__name__}") from None
    return rule, field_name, value


# ---------------------------------------------------------------- running rules

def check(run: Run, rules: Iterable[Rule]) -> list[Finding]:
    """Every finding of ``rules`` on ``run`` (final rules only when the run is final), by line."""
    found: dict[tuple, Finding] = {}
    for rule in rules:
        if rule.final and not run.final:
            continue
        for finding in rule.check(run):
            found.setdefault(finding.key, finding)
    return sorted(found.values(), key=_order)


def _order(finding: Finding) -> tuple:
    return (finding.line if finding.line is not None else 0, -finding.severity, finding.code)


@dataclass
class Analyzer:
    """Parses blocks as they arrive and reports each finding once, as soon as it is proven.

    State is the point here: the table so far and the keys already reported.  The
    caller decides when to ask for :meth:`findings` (diagnose: at the end; watch:
    when the input pauses, and at most a few times a second during bursts).

    Memory stays bounded on endless input: past ``max_rows`` rows the rules are run
    on everything seen so far, then the table is compacted (see :func:`table.compaction`);
    what the rules later find before the compaction horizon was already looked for in
    full detail, and is not reported again.
    """

    rules: tuple[Rule, ...]
    parser: str = "auto"
    path: str = "-"
    max_rows: int = 200_000
    piece_rows: int = PIECE_ROWS  # parsed rows leave the parser's lists for a compact table piece this often
    stream: TableStream = field(init=False)
    buffer: tables.TableBuffer = field(init=False)  # the table so far, in array form
    frame: pd.DataFrame | None = field(default=None, init=False)  # the buffer as a table, until more comes
    reported: dict[tuple, Finding] = field(default_factory=dict, init=False)
    queued: list[Finding] = field(default_factory=list, init=False)
    rows: int = field(default=0, init=False)
    horizon: int = field(default=0, init=False)  # lines before it were compacted
    fresh: bool = field(default=False, init=False)
    closed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.stream = TableStream(self.parser, self.path)
        self.buffer = self._new_buffer()

    def feed(self, block: Block) -> None:
        """Add lines; call :meth:`findings` when you want to know what they proved."""
        self.stream.feed(block)
        self._grown()

    def idle(self) -> None:
        """The live input paused: decide the format now if the lines so far make it clear."""
        self.stream.choose_now()
        self._grown()

    def findings(self) -> list[Finding]:
        """Findings proven by the lines seen so far that were not reported before."""
        if self.fresh or self.closed:
            self.fresh = False
            self._collect(self.run(final=self.closed))
        out, self.queued = self.queued, []
        return out

    def close(self) -> list[Finding]:
        """End of input: parse what is held back, run every rule (final ones too), report the rest."""
        self.stream.close()
        self._grown()
        self.closed = True
        return self.findings()

    def table(self) -> pd.DataFrame:
        """The event table so far (compacted past ``max_rows``)."""
        self._take()
        if self.frame is None:
            self.frame = tables.frame_from_arrays(self.buffer.arrays())
        return self.frame

    def run(self, final: bool = True) -> Run:
        """The table so far as the rules see it (in array form: a DataFrame only if a rule asks for one)."""
        self._take()
        return Run(self.frame, final=final, arrays=self.buffer.arrays())

    def _take(self) -> None:
        if self.stream.buffered:
            for piece in self.stream.take_pieces():
                self.rows += len(piece["line"])
                self.buffer.extend(piece)
            self.frame = None

    def _new_buffer(self) -> tables.TableBuffer:
        # room for the rows that start the next compaction: it seldom needs to grow
        return tables.TableBuffer(capacity=self.max_rows + 2 * self.piece_rows)

    def report(self) -> FileReport:
        stats = self.stream.stats()
        return FileReport(path=display_name(self.path), parser=stats.parser, lines=stats.lines,
                          events=self.rows + self.stream.buffered, unparsed_lines=stats.lines_unknown,
                          findings=tuple(sorted(self.reported.values(), key=_order)))

    def _grown(self) -> None:
        if not self.stream.buffered:
            return
        self.fresh = True
        if self.stream.buffered >= self.piece_rows:
            self._take()
        if self.stream.buffered + len(self.buffer) > self.max_rows:
            run = self.run(final=False)
            self._collect(run)
            kept, horizon = tables.compaction(run.arrays, budget=self.max_rows // 2, groups=run.groups)
            del run  # (with the frame, the last views of the buffer: it may be written again from its start)
            self.frame = None
            self.buffer.keep(kept)
            self.horizon = max(self.horizon, horizon)

    def _collect(self, run: Run) -> None:
        for f in check(run, self.rules):
            if f.key in self.reported:
                continue
            if f.line is not None and f.line < self.horizon and not f.final:
                continue  # the past before the horizon was checked in full detail before it was compacted
            self.reported[f.key] = f
            self.queued.append(f)


# A whole file may use more memory than an endless stream (1 million rows are ~150 MB of table),
# and each compaction runs every rule once more.
DIAGNOSE_MAX_ROWS = 1_000_000


def analyse_blocks(blocks: Iterable[Block], rules: tuple[Rule, ...], parser: str = "auto",
                   path: str = "-", max_rows: int = DIAGNOSE_MAX_ROWS) -> Analyzer:
    """Run a whole input through an :class:`Analyzer` (a stream that ends)."""
    analyzer = Analyzer(rules, parser, path, max_rows=max_rows)
    for block in blocks:
        analyzer.feed(block)
    analyzer.close()
    return analyzer


def diagnose_path(path: str, parser: str = "auto", rules: tuple[Rule, ...] | None = None) -> Analyzer:
    """Diagnose the log at ``path``; the analyzer holds the report and the table."""
    rules = select_rules() if rules is None else rules
    return analyse_blocks(blocks_from_chunks(read_chunks(path)), rules, parser, path)


def exit_code(reports: Iterable[FileReport], fail_on: Severity | None) -> int:
    """0 when nothing reaches ``fail_on`` (None: never fail), else 1."""
    if fail_on is None:
        return EXIT_OK
    worst = max((f.severity for r in reports for f in r.findings), default=None)
    return EXIT_FINDINGS if worst is not None and worst >= fail_on else EXIT_OK
