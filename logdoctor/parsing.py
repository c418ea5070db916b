"""Blocks in, event-table pieces out: format detection, fallback chain, segments, line accounting.

:class:`TableStream` is the one place a parser's output becomes table rows; it
serves ``parse``, ``diagnose`` and ``watch`` alike, for a whole file (one call
per block until the end) or a live stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from logdoctor import parsers, table
from logdoctor.model import ParseStats, UsageError
from logdoctor.parsers.base import Batch, Rows
from logdoctor.sources import Block, blocks_from_chunks, display_name, read_chunks

if TYPE_CHECKING:
    import pandas as pd

HEAD_LINES = 400
HEAD_BYTES = 1 << 16
DECISIVE = 6  # a detection score that needs no more lines (a few solver lines, bars or dicts)
MAX_HEAD_LINES = 20_000  # how far to look for a first line of a known format
MAX_HEAD_BYTES = 8 << 20
PIECE_ROWS = 50_000  # parsed rows become a table piece this often

TRAIN, METRIC = table.PHASES.index("train"), table.KINDS.index("metric")  # codes in array form

# Per physical line: 0 unknown, 1 recognised (known text that carries no value), 2 produced rows.
UNKNOWN, RECOGNISED, ROWS = 0, 1, 2


@dataclass
class ParseResult:
    """A whole input parsed: the table, and what became of every line."""

    table: pd.DataFrame
    stats: ParseStats


class TableStream:
    """Feeds blocks through the chosen parser (and the others for lines it does not know).

    The format is chosen from the head of the input (see :class:`_Head`) unless it is forced;
    until then blocks are held back.  ``feed`` parses into a buffer; ``take`` hands the rows out as a
    table piece; ``stats`` says what became of every line so far.
    """

    def __init__(self, parser: str = "auto", path: str = "-") -> None:
        self.path = display_name(path)
        self.forced = None if parser == "auto" else parsers.get(parser)
        self.chain: list = []
        self.held: list[Block] = []
        self.head = _Head()
        self.segment = 0
        self.last_step: dict[str, float] = {}   # per series, for segments across blocks
        self.last_epoch: dict[str, float] = {}
        self.series_segment: dict[str, int] = {}  # the segment each training series was last seen in
        self.counts = np.zeros(3, dtype=np.int64)
        self.status = bytearray()  # per physical line: UNKNOWN, RECOGNISED or ROWS (0xff: not seen yet)
        self.used: set[str] = set()
        self.buffer = Rows()
        self.ranks: list[int] = []  # per buffered row: the rank in the chain of the parser that made it
        # Earlier parts of the buffer, in the order they came: columns (a parser's bulk rows, or the list
        # buffer sealed when bulk rows came after it) and the rank of each row.
        self.parts: list[tuple[dict, np.ndarray]] = []
        self.held_back: tuple[dict, np.ndarray] | None = None  # rows (array form) of a line still being redrawn
        self.open_line: int | None = None  # the last line, when it is still being redrawn

    # -- public ------------------------------------------------------------------------
    @property
    def parser_name(self) -> str:
        return self.chain[0][0].name if self.chain else (self.forced.name if self.forced else "unknown")

    @property
    def buffered(self) -> int:
        """Rows parsed and not yet taken as a table piece."""
        held = len(self.held_back[0]) if self.held_back is not None else 0
        return held + len(self.buffer) + sum(len(ranks) for _, ranks in self.parts)

    def feed(self, block: Block) -> None:
        """Parse a block (or hold it back until the format is known)."""
        if not self.chain:
            self.held.append(block)
            self.head.add(block.lines)
            if self.forced is None and not self.head.complete:
                return
            self._choose()
            self._parse_held()
            return
        self._parse(block)

    def close(self) -> None:
        """End of input: choose a format for what is held back, and let the parsers flush their state."""
        if not self.chain:
            if not self.held or all(not b.text.strip() for b in self.held):
                raise UsageError(f"{self.path}: empty input")
            self._choose()
            self._parse_held()
        for rank, (parser, state) in enumerate(self.chain):
            batch = state.close()
            self._keep(batch, rank)
            if len(batch):
                self.used.add(parser.name)
                self._rows_at(batch.lines())
        self.open_line = None
        if self.forced is not None and self.forced.name not in self.used:
            looks = max(self.head.scores.items(), key=lambda item: item[1], default=(None, 0))
            hint = f" (it looks like {looks[0]})" if looks[1] > 0 and looks[0] != self.forced.name else ""
            raise UsageError(f"{self.path}: --parser {self.forced.name} matched no line of this input{hint}; "
                             f"try --parser auto")

    def choose_now(self) -> None:
        """Live input gone quiet: choose the format from the lines held so far if one is clearly it."""
        if self.chain or not self.held or self.forced is not None:
            return
        if max(self.head.scores.values(), default=0) >= DECISIVE:
            self._choose()
            self._parse_held()

    def take(self) -> pd.DataFrame:
        """The rows parsed since the last call, as a piece of the event table (see :meth:`take_arrays`)."""
        return table.frame_from_arrays(self.take_arrays())

    def take_arrays(self) -> dict[str, np.ndarray]:
        """The rows parsed since the last call, as a piece of the event table in array form (segments numbered)."""
        pieces = self.take_pieces()
        return table.concat_arrays(pieces) if pieces else table.empty_arrays()

    def take_pieces(self) -> list[dict[str, np.ndarray]]:
        """The rows parsed since the last call, as pieces of the event table in array form (segments numbered),
        one after the other; as they were parsed when they need no reordering (no copy into one piece).

        Rows are ordered by line, and within a line by parser (the chosen one first), so that
        the order does not depend on where the input was cut.  For the same reason the rows of
        a line still being redrawn stay back while other parsers than the chosen one have
        rows on it: their states may interleave with states still to come.
        """
        parts, ranks = [], []
        if self.held_back is not None:  # first: they came before the rows parsed since
            parts.append(self.held_back[0])
            ranks.append(self.held_back[1])
        self._seal()
        for columns, part_ranks in self.parts:
            parts.append(table.as_arrays(columns))
            ranks.append(part_ranks)
        self.parts, self.held_back = [], None
        if not _in_order(parts, ranks):
            arrays, ranks = table.concat_arrays(parts), np.concatenate(ranks)
            lines = arrays["line"]
            if self.open_line is not None and (ranks[lines == self.open_line] > 0).any():
                back = lines == self.open_line
                self.held_back = (table.take_arrays(arrays, back), ranks[back])
                arrays, ranks = table.take_arrays(arrays, ~back), ranks[~back]
                lines = arrays["line"]
            if ranks.any() or (np.diff(lines) < 0).any():
                arrays = table.take_arrays(arrays, np.lexsort((ranks, lines)))
            parts = [arrays]
        parts = [part for part in parts if len(part["line"])]
        for part in parts:  # one after the other, as if the input had been cut between them
            part["segment"] = self._segments(part)
        return parts

    def _keep(self, batch: Batch, rank: int) -> None:
        """Add a parser's rows to the buffer, remembering which parser of the chain made them."""
        if batch.columns is None or not len(batch.columns["line"]):
            if len(batch.rows):
                self.buffer.extend(batch.rows)
                self.ranks.extend([rank] * len(batch.rows))
            return
        self._seal()
        part = table.as_arrays(batch.columns)
        if len(batch.rows):
            rows = table.as_arrays(batch.rows.columns)
            # Both in line order (as the bulk reader's rows and the few others usually are): one part in
            # line order, so that the piece need not be sorted.
            if table.in_line_order(part) and table.in_line_order(rows):
                part = table.merge_arrays(part, rows)
            else:
                self.parts.append((rows, np.full(len(batch.rows), rank, dtype=np.uint8)))
        self.parts.append((part, np.full(len(part["line"]), rank, dtype=np.uint8)))

    def _seal(self) -> None:
        """The list buffer becomes a part, so that rows keep the order they came in."""
        if len(self.buffer):
            self.parts.append((self.buffer.columns, np.asarray(self.ranks, dtype=np.uint8)))
            self.buffer, self.ranks = Rows(), []

    def stats(self) -> ParseStats:
        counts = self.counts
        return ParseStats(parser=self.parser_name, lines=int(counts.sum()),
                          lines_with_rows=int(counts[ROWS]), lines_recognised=int(counts[RECOGNISED]),
                          lines_unknown=int(counts[UNKNOWN]), parsers_used=tuple(sorted(self.used)))

    # -- internals ------------------------------------------------------------------------
    def _choose(self) -> None:
        primary = self.forced
        if primary is None:
            scores = self.head.scores
            best = max(scores.items(), key=lambda item: item[1], default=(None, 0))
            # on equal scores the registry order decides (specific formats first)
            ties = [p for p in parsers.PARSERS if scores.get(p.name, 0) == best[1]]
            primary = ties[0] if best[1] > 0 else None
        if primary is None:
            tried = ", ".join(parsers.names())
            raise UsageError(f"{self.path}: unrecognised log format (tried {tried}); "
                             f"force one with --parser NAME")
        order = [primary] + [p for p in parsers.PARSERS if p is not primary]
        self.chain = [(p, p.start()) for p in order]

    def _parse_held(self) -> None:
        held, self.held = self.held, []
        for block in held:
            self._parse(block)

    def _parse(self, block: Block) -> None:
        row_lines: list[np.ndarray] = []
        current = block
        unknown: Sequence[int] = range(len(block))
        self.open_line = block.last if block.open_end else None
        for rank, (parser, state) in enumerate(self.chain):
            batch: Batch = state.feed(current)
            if len(batch):
                self.used.add(parser.name)
                self._keep(batch, rank)
                row_lines.append(batch.lines())
            unknown = [i for i in batch.unknown if current.lines[i].strip()]
            if not unknown:
                break
            current = _sub_block(current, unknown)
            unknown = list(range(len(current)))
        unknown_lines = [current.line_of(i) for i in unknown] if unknown else []
        self._account(block, row_lines, unknown_lines)

    def _segments(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """Number the runs in a log: a series whose training step or epoch goes back starts a new one.

        Each series is compared with itself, because multi-GPU forks print one series a step
        behind another (NVCaffe's ``lr`` of iteration 39 after the display of iteration 40).
        All series restart together when a run restarts: a series going back that was not
        seen since the current segment began joins it rather than starting another.
        """
        names = arrays["name"]
        series = names.labels  # (codes: no strings to hash)
        named_train = (arrays["phase"] == TRAIN) & (arrays["kind"] == METRIC) & (names.codes >= 0)
        candidates: dict[int, int] = {}  # row -> row of the same series before it (-1: in an earlier block)
        every_train_row: np.ndarray | None = None  # the codes of all named training rows, when a counter has them
        for column, last in (("step", self.last_step), ("epoch", self.last_epoch)):
            counter = arrays[column]
            if table.is_default(column, counter):  # (no such counter in this piece)
                continue
            rows = np.flatnonzero(named_train & ~np.ma.getmaskarray(counter))
            if not len(rows):
                continue
            codes = names.codes[rows]
            if every_train_row is None and len(rows) == np.count_nonzero(named_train):
                every_train_row = codes
            if len(series) <= FEW_SERIES and _checked_in_log_order(rows, codes, counter.data, series, last,
                                                                   candidates):
                continue
            # small codes sort by radix: the rows of each series together, in order
            order = np.argsort(codes.astype(np.int16) if len(series) < 2**15 else codes, kind="stable")
            code, row = codes[order], rows[order]
            value = counter.data[row].astype(np.float64)
            first = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])  # each series' first row here
            previous, previous_row = np.r_[np.nan, value[:-1]], np.r_[-1, row[:-1]]
            previous[first] = [last.get(series[code[i]], np.nan) for i in first]
            previous_row[first] = -1
            for i in np.flatnonzero(value < previous).tolist():
                candidates.setdefault(int(row[i]), int(previous_row[i]))
            for i in np.r_[first[1:] - 1, len(code) - 1].tolist():
                last[series[code[i]]] = float(value[i])
        if not candidates:  # (most pieces) one segment
            n = len(arrays["line"])
            segments = table.default_column("segment", n) if self.segment == 0 else np.full(n, self.segment)
            codes = names.codes[named_train] if every_train_row is None else every_train_row
            present = np.flatnonzero(np.bincount(codes, minlength=len(series)))
            self.series_segment.update({series[code]: self.segment for code in present.tolist()})
            return segments
        train_rows = np.flatnonzero(named_train)
        codes = names.codes[train_rows]
        starts = np.zeros(len(arrays["line"]), dtype=bool)
        for row in sorted(candidates):
            before = candidates[row]
            if before < 0:
                seen_in_current = self.series_segment.get(names.label(row)) == self.segment + int(starts[:row].sum())
            else:
                seen_in_current = not starts[before + 1: row + 1].any()
            if seen_in_current:
                starts[row] = True
        segments = self.segment + np.cumsum(starts)
        self.segment = int(segments[-1])
        # the segment each series was last seen in: at its last row
        found, from_end = np.unique(codes[::-1], return_index=True)
        self.series_segment.update({series[code]: int(segments[train_rows[len(codes) - 1 - i]])
                                    for code, i in zip(found.tolist(), from_end.tolist()) if code >= 0})
        return segments

    def _account(self, block: Block, row_lines: list[np.ndarray], unknown_lines: list[int]) -> None:
        """Record what became of each physical line of ``block`` (see :meth:`_set_status`)."""
        first, last = block.first, block.last
        status = np.full(last - first + 1, RECOGNISED, dtype=np.int8)
        if block.physical is not None:
            # A redrawn line is unknown only when every state of it is unknown.
            states = np.bincount(np.asarray(block.physical) - first, minlength=len(status))
            misses = np.bincount(np.asarray(unknown_lines, dtype=np.int64) - first, minlength=len(status))
            status[(misses == states) & (states > 0)] = UNKNOWN
        elif unknown_lines:
            status[np.asarray(unknown_lines, dtype=np.int64) - first] = UNKNOWN
        lines = (row_lines[0] if len(row_lines) == 1 else np.concatenate(row_lines) if row_lines
                 else np.zeros(0, dtype=np.int64))
        if not len(lines) or (lines.min() >= first and lines.max() <= last):  # (usually: all of this block)
            status[lines - first] = ROWS  # the best status: what _rows_at would make of it
            earlier = None
        else:
            inside = (lines >= first) & (lines <= last)
            status[lines[inside] - first] = ROWS
            earlier = lines[~inside]  # rows of lines of an earlier block (a parser held a bar's last state)
        if len(status):
            self._set_status(first, status)
        if earlier is not None:
            self._rows_at(earlier)

    def _set_status(self, first: int, status: np.ndarray) -> None:
        """Store line statuses (one byte per line); a line seen before keeps the better of the two
        (a bar redrawn across blocks is "with values" if any of its states had values)."""
        end = first - 1 + len(status)
        if end > len(self.status):
            self.status.extend(b"\xff" * (end - len(self.status)))
        view = np.frombuffer(self.status, dtype=np.int8)[first - 1:end]
        seen = view >= 0
        if seen.any():
            np.subtract.at(self.counts, view[seen], 1)
            status = np.where(seen, np.maximum(view, status), status)
        view[:] = status
        rows, unknown = np.count_nonzero(status == ROWS), np.count_nonzero(status == UNKNOWN)  # (no bincount: a cast)
        self.counts += (unknown, len(status) - rows - unknown, rows)

    def _rows_at(self, lines: np.ndarray) -> None:
        """Lines that produced rows, possibly in an earlier block (a parser held a bar's last state)."""
        lines = lines[(lines >= 1) & (lines <= len(self.status))]
        if not len(lines):
            return
        low = int(lines.min())
        seen = np.zeros(int(lines.max()) - low + 1, dtype=bool)  # each line once (faster than np.unique)
        seen[lines - low] = True
        lines = np.flatnonzero(seen) + low
        view = np.frombuffer(self.status, dtype=np.int8)
        old = view[lines - 1]
        change = (old != ROWS) & (old >= 0)
        np.subtract.at(self.counts, old[change], 1)
        self.counts[ROWS] += int(change.sum())
        view[lines[change] - 1] = ROWS


class _Head:
    """The lines the format is chosen from, the same whatever the cut of the input into blocks.

    The first ``HEAD_LINES`` logical lines (at most ``HEAD_BYTES``) are scored together (each
    parser scores the lines it claims).  When no parser claims any of them (a long preamble:
    model summaries, data loading), the lines after are looked at one by one, up to
    ``MAX_HEAD_LINES`` (``MAX_HEAD_BYTES``), and the head becomes the ``HEAD_LINES`` lines from
    the first one a parser claims.
    """

    def __init__(self) -> None:
        self.window: list[str] = []
        self.window_bytes = 0
        self.looked_lines = 0   # lines looked at before the window (no parser claimed them)
        self.looked_bytes = 0
        self.searching = False  # the first window had no claimed line: looking for one
        self.complete = False
        self._scores: dict[str, int] | None = {}  # of the window (None: to be worked out)

    @property
    def scores(self) -> dict[str, int]:
        """Each parser's score on the window (also before the head is complete: at the end, or a pause)."""
        if self._scores is None:
            self._scores = _scores(self.window)
        return self._scores

    def add(self, lines: list[str]) -> None:
        for line in lines:
            if self.complete:
                break
            if self.searching:
                self.looked_lines += 1
                self.looked_bytes += len(line) + 1
                if any(_scores([line]).values()):
                    self.searching, self.window, self.window_bytes = False, [line], len(line) + 1
                    self._scores = None
                elif self.looked_lines >= MAX_HEAD_LINES or self.looked_bytes >= MAX_HEAD_BYTES:
                    self.complete = True  # nothing known this far in: the format is unrecognised
                continue
            self.window.append(line)
            self.window_bytes += len(line) + 1
            self._scores = None
            if len(self.window) >= HEAD_LINES or self.window_bytes >= HEAD_BYTES:
                if any(self.scores.values()):
                    self.complete = True
                else:
                    self.searching = True
                    self.looked_lines += len(self.window)
                    self.looked_bytes += self.window_bytes
                    self.window, self.window_bytes, self._scores = [], 0, {}
                    self.complete = self.looked_lines >= MAX_HEAD_LINES or self.looked_bytes >= MAX_HEAD_BYTES


FEW_SERIES = 16  # a piece with at most this many names is checked for restarts without sorting its rows


def _checked_in_log_order(rows: np.ndarray, codes: np.ndarray, counters: np.ndarray, series: list[str],
                          last: dict[str, float], candidates: dict[int, int]) -> bool:
    """:meth:`TableStream._segments`' candidates of one counter, without sorting the rows by series, for the
    usual piece: when no counter goes back in log order, none goes back within a series, and only each
    series' first row may be below its last value in an earlier piece.  Updates ``last``; False (nothing
    done) when some counter goes back in log order."""
    value = counters[rows]  # (as integers: where they go back, they go back as floats or tie, and then the
    if (value[1:] < value[:-1]).any():  # sorting way, with floats, decides)
        return False
    for code in np.flatnonzero(np.bincount(codes, minlength=len(series))).tolist():
        mine = codes == code
        first, final = int(np.argmax(mine)), len(codes) - 1 - int(np.argmax(mine[::-1]))
        if float(value[first]) < last.get(series[code], np.nan):
            candidates.setdefault(int(rows[first]), -1)
        last[series[code]] = float(value[final])
    return True


def _scores(lines: list[str]) -> dict[str, int]:
    return {parser.name: parser.sniff(lines) for parser in parsers.PARSERS}


def _in_order(parts: list[dict[str, np.ndarray]], ranks: list[np.ndarray]) -> bool:
    """Whether the parts are in line order as they are, and all by the chosen parser (the usual case)."""
    last = 0
    for part, part_ranks in zip(parts, ranks):
        lines = part["line"]
        if len(lines) and (part_ranks.any() or lines[0] < last or not table.in_line_order(part)):
            return False
        last = lines[-1] if len(lines) else last
    return True


def _sub_block(block: Block, indices: list[int]) -> Block:
    """The logical lines ``indices`` of ``block`` as a block of their own (for the next parser)."""
    lines = block.lines
    return Block("\n".join(lines[i] for i in indices) + "\n", block.line_of(indices[0]),
                 block.line_of(indices[-1]), [block.line_of(i) for i in indices])


def parse_chunks(chunks, parser: str = "auto", path: str = "-") -> ParseResult:
    """Parse a whole input given as byte chunks."""
    stream = TableStream(parser, path)
    pieces = []
    for block in blocks_from_chunks(chunks):
        stream.feed(block)
        if stream.buffered >= PIECE_ROWS:  # compact table pieces rather than millions of list items
            pieces += stream.take_pieces()
    stream.close()
    pieces += stream.take_pieces()
    buffer = table.TableBuffer(sum(len(piece["line"]) for piece in pieces))
    for piece in pieces:  # (the buffer puts late rows in line order: see TableBuffer.extend)
        buffer.extend(piece)
    frame = table.frame_from_arrays(buffer.arrays()) if pieces else table.empty_table()
    return ParseResult(frame, stream.stats())


def parse_path(path: str, parser: str = "auto") -> ParseResult:
    """Parse the log at ``path`` (``-`` is stdin)."""
    return parse_chunks(read_chunks(path), parser, path)
