"""Bytes in, blocks of logical lines out: files, stdin, gzip; encodings; terminal redraws.

Terminal noise is handled here, once, for every parser:

* ``\\r`` and runs of ``\\b`` redraw a progress bar inside one physical line; each
  drawn state becomes a logical line of its own, all pointing at that physical line;
* ANSI escape sequences (colour, cursor movement) are removed;
* CRLF line ends, NUL bytes and invalid UTF-8 (replaced by U+FFFD) are tolerated.

A :class:`Block` is a run of complete logical lines; parsers never see partial lines.

:func:`survey` and :func:`logical_lines`, which read every character, have a C twin in
``logdoctor/_split.c`` (optional: without a C compiler, or with ``LOGDOCTOR_PURE_PYTHON=1``,
the Python code runs; ``tests/test_sources_native.py`` holds both to the same blocks).
"""

from __future__ import annotations

import codecs
import gzip
import io
import mmap
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress, filterfalse
from operator import itemgetter, ne
from typing import BinaryIO, Iterator

import regex

from logdoctor.model import UsageError

try:  # the splitting loops in C; built when the package is installed with a C compiler
    from logdoctor import _split as native
except ImportError:
    native = None
if os.environ.get("LOGDOCTOR_PURE_PYTHON"):  # to compare both paths, or to rule the C one out
    native = None

# A block is read this many bytes at a time: its text and the arrays made of it stay in a core's cache
# (2 MB of L2 here) while they are gone over again and again; 1 GB of Caffe log takes 5% less time than
# with 4 MB, and 40% less than with 8 MB.
CHUNK_SIZE = 1 << 21

ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"          # CSI: colours, cursor moves, erase line
    r"|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks (no further than the line end)
    r"|\x1b[@-Z\\-_]"                    # two-byte escapes
)
BACKSPACES = re.compile(r"(\x08+)")


@dataclass
class Block:
    """Complete logical lines, each ending in ``\\n``, and where they stand in the input.

    ``physical`` maps a logical line to its physical line when redraws split one
    physical line into several states; ``None`` means logical line *i* is physical
    line ``first + i``.  ``last`` is the last physical line the block covers.
    """

    text: str
    first: int
    last: int
    physical: list[int] | None = None
    open_end: bool = False   # the last physical line goes on in the next block (live redraws)
    _window: tuple | None = field(default=None, init=False, repr=False, compare=False)  # see run_of
    _cursor: tuple[int, int] = field(default=(0, 0), init=False, repr=False, compare=False)  # a line, its offset

    @cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")[:-1]

    def line_of(self, index: int) -> int:
        """Physical line number of logical line ``index``."""
        return self.first + index if self.physical is None else self.physical[index]

    @cached_property
    def _count(self) -> int:
        return self.text.count("\n")

    def __len__(self) -> int:  # asked for several times per block: the text is counted once
        return self._count

    def offset(self, index: int) -> int:
        """Where logical line ``index`` begins in the text."""
        at, pos = self._cursor
        if index < at:
            at, pos = 0, 0
        pos += sum(map(len, self.lines[at:index])) + index - at
        self._cursor = (index, pos)   # calls come in order of their index: each line is measured once
        return pos

    def run_of(self, shape: re.Pattern, start: int) -> list[list[str]]:
        """The groups of the lines from ``start`` on that have ``shape``, up to the first that has not, as
        columns (one list per group; no list when the line ``start`` has not that shape).

        ``shape`` is a ``re.MULTILINE`` pattern ``^(?:…|.*)$`` that never reads a newline and whose
        first group is set on the lines of that shape only.  A redrawn bar makes thousands of such
        lines: one ``findall`` reads a window of the text in C, each window twice as long as the last
        (up to a limit).  The last window is kept: a later call that starts inside it reads no line again.
        """
        lines, text = self.lines, self.text
        at, pos = start, self.offset(start)
        found: list[tuple[str, ...]] = []
        size = 1 << 11
        while at < len(lines):
            kept = self._window
            if kept is not None and kept[0] is shape and kept[1] <= at < kept[1] + len(kept[3]):
                end, window = kept[2], kept[3][at - kept[1]:]
            else:
                end = text.find("\n", pos + size)  # a window of whole lines (the text ends with a newline)
                end = len(text) - 1 if end < 0 else end
                window = shape.findall(text, pos, end)
                self._window = (shape, at, end, window)
            heads = list(map(itemgetter(0), window))
            if "" in heads:
                found += window[:heads.index("")]
                break
            found += window
            at, pos, size = at + len(window), end + 1, min(2 * size, 1 << 16)
        # Not zip(*found): its thousands of iterators at once would set the garbage collector going.
        return [list(map(itemgetter(group), found)) for group in range(shape.groups)] if found else []


def redraw_states(line: str) -> list[str]:
    """The states a terminal showed while ``line`` was redrawn with ``\\r`` and ``\\b``.

    ``\\r`` starts a new state (progress bars pad themselves to cover the old
    one); a run of k backspaces deletes k characters.  Blank and repeated states
    are dropped; a line that only ever showed blanks yields one empty state.
    """
    # What the screen showed just before each \r or run of backspaces, and at the end.
    if "\x08" in line:
        shown = []
        for part in line.split("\r"):
            cut = part.find("\x08")
            if cut < 0:
                shown.append(part)
            elif part.count("\x08", cut) == len(part) - cut >= cut:
                shown.append(part[:cut])  # a state, then backspaces that erase all of it: a progress bar
            else:
                shown.extend(_erased(part))
    else:
        shown = line.split("\r")
    states = list(filterfalse(str.isspace, filter(None, shown)))   # what str.strip() leaves something of
    if len(states) > 1:
        states = list(compress(states, map(ne, states, [None, *states])))
    return states or [""]


def _erased(part: str) -> list[str]:
    """What the screen showed at each run of backspaces in ``part`` (text without ``\\r``), and at its end."""
    shown = []
    screen = ""
    for token in BACKSPACES.split(part):
        if token[:1] == "\x08":
            shown.append(screen)
            screen = screen[: max(0, len(screen) - len(token))]
        else:
            screen += token
    shown.append(screen)
    return shown


HAS_NUL, HAS_REDRAW = 1, 2  # what survey() finds in a text besides its newlines (the same in _split.c)


def survey(text: str) -> tuple[int, int]:
    """The newlines of ``text``, and flags: ``HAS_NUL``, ``HAS_REDRAW`` (``\\r``, ``\\b`` or an escape)."""
    if native is not None:
        return native.survey(text)  # one pass instead of five
    flags = HAS_NUL if "\x00" in text else 0
    if "\r" in text or "\x08" in text or "\x1b" in text:  # three fast scans beat one regex
        flags |= HAS_REDRAW
    return text.count("\n"), flags


def block_of_bytes(raw: bytes | memoryview, first: int) -> Block:
    """Turn complete physical lines (ending with ``\\n``) in UTF-8 into a block."""
    made = native.ascii_text(raw) if native is not None else None  # (ASCII: decoded and surveyed in one pass)
    if made is not None:
        return make_block(made[0], first, made[1:])
    return make_block(str(raw, "utf-8", "replace"), first)


def make_block(text: str, first: int, surveyed: tuple[int, int] | None = None) -> Block:
    """Turn decoded complete physical lines (ending with ``\\n``) into a block (``surveyed``: what
    :func:`survey` says of it, when the caller knows)."""
    count, flags = survey(text) if surveyed is None else surveyed
    if flags & HAS_NUL:
        text = text.replace("\x00", "")
    if not flags & HAS_REDRAW:
        block = Block(text, first, first + count - 1)
        block._count = count  # counted already: not again (a full pass over the text)
        return block
    text, physical, lines = (logical_lines if native is None else native.logical_lines)(text, first)
    block = Block(text, first, first + count - 1, physical)
    block.lines = lines  # the states hold no newline: this is what splitting the text gives
    block._count = len(lines)
    return block


def logical_lines(text: str, first: int) -> tuple[str, list[int], list[str]]:
    """The logical lines of ``text`` (complete physical lines, no NUL) joined, the physical line of each,
    and the lines: escapes removed, a line redrawn with ``\\r`` or ``\\b`` cut into its states."""
    if "\x1b" in text:
        text = ANSI.sub("", text)  # no escape reaches past its line end
    logical: list[str] = []
    physical: list[int] = []
    for offset, line in enumerate(text.split("\n")[:-1]):
        if line.endswith("\r"):
            line = line.rstrip("\r")
        if "\r" in line or "\x08" in line:
            states = redraw_states(line)
            logical.extend(states)
            physical.extend([first + offset] * len(states))
        else:
            logical.append(line)
            physical.append(first + offset)
    return "\n".join(logical) + "\n", physical, logical


CR_RUN = regex.compile(rb"\r{2,}")
MAX_PENDING = 4 << 20  # bytes of an unfinished line held before what of it is final is handed out
SOFT_CUT = 1 << 10     # how far back from the limit a state is cut at a space, tab or escape


def bound_states(raw: bytes, limit: int) -> bytes:
    """``raw`` with a ``\r`` inserted wherever a redraw state runs longer than ``limit`` bytes.

    A state is the text between line ends and ``\r``; one longer than the limit (a
    200 MB line of junk, a bar drawn without ``\r``) is cut into parts of at most
    ``limit`` bytes, each a state of its own of the same physical line.  Where the cuts
    fall depends only on the bytes since the state began, so the splitter can cut an
    unfinished line as it grows and get what cutting the whole line would give.
    """
    if len(raw) <= limit:
        return raw
    lines = raw.split(b"\n")
    if max(map(len, lines)) <= limit:
        return raw
    return b"\n".join(_bound_line(line, limit) if len(line) > limit else line for line in lines)


def _bound_line(line: bytes, limit: int) -> bytes:
    states = line.split(b"\r")
    if max(map(len, states)) <= limit:
        return line
    return b"\r".join(_cut_state(state, limit) if len(state) > limit else state for state in states)


def _cut_state(state: bytes, limit: int) -> bytes:
    """A state longer than ``limit`` with ``\r`` at its cuts (each part at most ``limit`` bytes)."""
    cuts = [0]
    while len(state) - cuts[-1] > limit:
        cuts.append(_cut_point(state, cuts[-1], limit))
    return b"\r".join(state[a:b] for a, b in zip(cuts, cuts[1:] + [len(state)]))


def _cut_point(state: bytes, start: int, limit: int) -> int:
    """Where the part beginning at ``start`` ends: before the last space, tab or escape near the
    limit (so that a number or an ANSI sequence stays whole), else not inside a UTF-8 character."""
    end = start + limit
    near = end - min(SOFT_CUT, limit // 2)
    soft = max(state.rfind(b" ", near, end), state.rfind(b"\t", near, end), state.rfind(b"\x1b", near, end))
    if soft > start:
        return soft
    cut = end
    while cut > max(start + 1, end - 3) and 0x80 <= state[cut] < 0xC0:  # a UTF-8 continuation byte
        cut -= 1
    return cut


class LineSplitter:
    """Cuts a byte stream at newlines and hands out blocks of complete lines.

    State is the point here: the partial last line waits for its newline, and the
    line counter runs across chunks, so any chunking gives the same lines.  With
    ``partial=True`` (live watching) the states of a progress bar that were already
    overwritten by ``\r`` are handed out before the newline comes: they are complete.
    The same happens whenever the unfinished line grows past ``limit`` bytes, so a
    line that never ends (a bar redrawn a million times, a gigabyte of junk) takes
    bounded memory: its finished states go out, and a state longer than the limit is
    cut into states of at most ``limit`` bytes (see :func:`bound_states`).
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MAX_PENDING if limit is None else limit
        self._pending: list[bytes] = []
        self._size = 0  # bytes in _pending
        self._next_line = 1
        self._open = False  # states of the pending line were already handed out
        self._last_state: str | None = None  # the last of them, not to be repeated

    @property
    def lines_seen(self) -> int:
        return self._next_line - 1

    @property
    def pending_bytes(self) -> int:
        """Bytes of the unfinished line held back (at most ``limit`` plus one fed chunk)."""
        return self._size

    def feed(self, data: bytes | memoryview, partial: bool = False) -> Block | None:
        """Add bytes; return the block of lines (or finished redraw states) they completed, if any.

        ``data`` may be a view (of a mapped file): whole lines are read in place.
        """
        whole = data[-1:] == b"\n"
        if isinstance(data, memoryview) and (self._pending or not whole):
            data = data.tobytes()  # (not whole lines: a view has no find)
        cut = len(data) - 1 if whole else data.rfind(b"\n")
        if cut < 0:
            if data:
                self._pending.append(data)
                self._size += len(data)
            if self._size > self.limit or (partial and b"\r" in data):
                return self._partial()
            return None
        lines = memoryview(data)[: cut + 1]  # the complete lines, not copied: the decoder reads them in place
        head = b"".join([*self._pending, lines]) if self._pending else lines
        # Only the line the pending bytes began, or a line inside a chunk bigger than the limit,
        # can be longer than the limit: the usual chunk is not scanned for long states.
        if (self._size and self._size + data.find(b"\n") > self.limit) or cut > self.limit:
            head = bound_states(bytes(head), self.limit)
        rest = data[cut + 1:]
        self._pending, self._size = ([rest], len(rest)) if rest else ([], 0)
        block = self._block(head)
        if self._pending and (self._size > self.limit or (partial and b"\r" in rest)):
            finished = self._partial()
            if finished is not None:
                block = _join(block, finished)
        return block

    def close(self) -> Block | None:
        """End of input: a last line without newline is still a line."""
        if not self._pending:
            return None
        head = bound_states(b"".join(self._pending), self.limit) + b"\n"
        self._pending, self._size = [], 0
        return self._block(head)

    def _partial(self) -> Block | None:
        """The states of the unfinished line that are final: closed by a later ``\r``, or cut off at the limit.

        Whatever the chunking, the states handed out here and those of the rest of the line
        are what :func:`make_block` makes of the whole line: no blank state is added to it.
        """
        pending = bound_states(b"".join(self._pending), self.limit)
        if len(pending) > self.limit:
            pending = CR_RUN.sub(b"\r", pending)  # empty states: a line of nothing but \r stays small
        cut = pending.rfind(b"\r")
        if cut <= 0:
            self._pending, self._size = ([pending], len(pending)) if pending else ([], 0)
            return None
        done, rest = pending[:cut], pending[cut:]
        block = make_block(done.decode("utf-8", "replace") + "\n", self._next_line)
        if not any(line.strip() for line in block.lines):
            # Blank states wait for the rest of the line (a line of blanks keeps its own text),
            # unless they are all the line is made of past the limit.
            keep = pending if len(pending) <= self.limit else rest
            self._pending, self._size = [keep], len(keep)
            return None
        self._pending, self._size = [rest], len(rest)
        block = self._continue(block)
        if block is not None:
            block.open_end = True
            self._open, self._last_state = True, block.lines[-1]
        return block

    def _block(self, raw: bytes | memoryview) -> Block:
        block = block_of_bytes(raw, self._next_line)
        self._next_line = block.last + 1
        # Nothing left of the open line's end: an empty block, past that line, that only moves on.
        block = self._continue(block) or Block("", block.last + 1, block.last)
        self._open, self._last_state = False, None
        return block

    def _continue(self, block: Block) -> Block | None:
        """Drop the first state of the open line if it repeats the last one handed out, or is blank
        (the end of a bar: CRLF, or a last ``\r`` that blanks it out, adds no state to a line that has some).

        A block left without a state of the open line starts at the next line: the open line's
        states were already handed out, so this block must not claim it (a line's status, known
        or unknown, is decided by its states).
        """
        if not (self._open and block.lines and block.line_of(0) == block.first):
            return block
        if block.lines[0] != self._last_state and block.lines[0].strip():
            return block
        if len(block) == 1:
            return None
        physical = [block.line_of(i) for i in range(1, len(block))]
        return Block("\n".join(block.lines[1:]) + "\n", physical[0], block.last, physical)


def _join(a: Block, b: Block) -> Block:
    """Two consecutive blocks as one (b may continue a's last line or start the next)."""
    physical = [a.line_of(i) for i in range(len(a))] + [b.line_of(i) for i in range(len(b))]
    return Block(a.text + b.text, a.first, b.last, physical, b.open_end)


def blocks_from_chunks(chunks: Iterator[bytes]) -> Iterator[Block]:
    """Blocks from a sequence of byte chunks (any chunking gives the same lines)."""
    splitter = LineSplitter()
    for chunk in chunks:
        block = splitter.feed(chunk)
        if block is not None:
            yield block
    block = splitter.close()
    if block is not None:
        yield block


# ---------------------------------------------------------------- opening inputs

GZIP_MAGIC = b"\x1f\x8b"
BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def display_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


def open_binary(path: str) -> BinaryIO:
    """Open a path (or ``-``) for reading bytes, with one-line errors."""
    if path == "-":
        return sys.stdin.buffer
    try:
        if os.path.isdir(path):
            raise UsageError(f"{path}: is a directory, not a log file")
        return open(path, "rb")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except PermissionError:
        raise UsageError(f"{path}: permission denied") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot open ({error.strerror or error})") from None


def looks_binary(head: bytes) -> bool:
    """True for data that is not a text log (model weights, images, archives)."""
    if not head:
        return False
    sample = head[:8192]
    nul = sample.count(b"\x00")
    if nul > len(sample) // 8:
        return True
    text = sample.decode("utf-8", "replace")
    bad = sum(1 for ch in text if ch == "\ufffd" or (ch < " " and ch not in "\t\n\r\x08\x1b\x0c"))
    return bad > len(text) // 4


def read_chunks(path: str, size: int = CHUNK_SIZE) -> Iterator[bytes | memoryview]:
    """The bytes of a log as UTF-8 chunks: gzip is opened, UTF-16 transcoded, binary refused.

    A plain file is mapped into memory and its chunks are views of it, cut after a newline (see
    :func:`_mapped_chunks`); other inputs are read.
    """
    name = display_name(path)
    stream = open_binary(path)
    try:
        mapping = _mapping(stream)
        if mapping is not None:
            head = mapping[:max(len(GZIP_MAGIC), *(len(bom) for bom, _ in BOMS))]
            if not head.startswith(GZIP_MAGIC) and not any(head.startswith(bom) for bom, _ in BOMS):
                if looks_binary(mapping[:8192]):
                    mapping.close()
                    raise UsageError(f"{name}: not a text log (binary data)")
                yield from _mapped_chunks(mapping, stream, name, size)
                return
            mapping.close()  # (gzip and UTF-16 are read)
        try:
            head = stream.read(size)
        except OSError as error:
            raise UsageError(f"{name}: cannot read ({error.strerror or error})") from None
        if head.startswith(GZIP_MAGIC):
            stream = gzip.GzipFile(fileobj=_Prepend(head, stream))
            try:
                head = stream.read(size)
            except (OSError, EOFError) as error:
                raise UsageError(f"{name}: damaged gzip data ({error})") from None
        for bom, encoding in BOMS:
            if head.startswith(bom):
                yield from _transcode(head[len(bom):], stream, encoding, size)
                return
        if looks_binary(head):
            raise UsageError(f"{name}: not a text log (binary data)")
        if not head:
            raise UsageError(f"{name}: empty input")
        yield head
        while True:
            try:
                chunk = stream.read(size)
            except (OSError, EOFError) as error:
                raise UsageError(f"{name}: cannot read ({error})") from None
            if not chunk:
                return
            yield chunk
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _mapping(stream: BinaryIO) -> mmap.mmap | None:
    """A regular file mapped into memory, or None (a pipe, a terminal, an empty file, no mmap)."""
    if stream is sys.stdin.buffer:
        return None
    try:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return None
        return mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None


def _mapped_chunks(mapping: mmap.mmap, stream: BinaryIO, name: str, size: int) -> Iterator[memoryview]:
    """The mapped file in views of about ``size`` bytes, each ending after a newline (when there is one).

    Read in place, the file costs no copy from the kernel's cache into a buffer, and no joining of a
    chunk with the line begun at the end of the one before (a gigabyte of Caffe log: 0.13 s).  The
    pages gone over are unmapped, so that they do not count towards the memory the process holds.  Bytes
    appended after the file was opened are not read; a file cut shorter meanwhile is an error (reading
    past its new end would kill the process).
    """
    view = memoryview(mapping)
    released = 0
    try:
        start, length = 0, len(mapping)
        while start < length:
            end = min(start + size, length)
            if end < length:  # (the last line end is near: looked for there first, a search from the end is slow)
                end = (mapping.rfind(b"\n", max(start, end - 4096), end) + 1
                       or mapping.rfind(b"\n", start, end) + 1 or end)
            if os.fstat(stream.fileno()).st_size < end:
                raise UsageError(f"{name}: the file was cut shorter while it was read")
            yield view[start:end]
            start = end
            done = start - start % mmap.PAGESIZE
            if done > released and hasattr(mapping, "madvise"):
                mapping.madvise(mmap.MADV_DONTNEED, released, done - released)
                released = done
    finally:
        view.release()
        try:
            mapping.close()
        except BufferError:  # a view of the last line is still held: unmapped when it goes
            pass


def _transcode(head: bytes, stream: BinaryIO, encoding: str, size: int) -> Iterator[bytes]:
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    data = head
    while data:
        yield decoder.decode(data).encode("utf-8")
        data = stream.read(size)
    yield decoder.decode(b"", final=True).encode("utf-8")


class _Prepend(io.RawIOBase):
    """A readable stream that first returns ``head``, then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
