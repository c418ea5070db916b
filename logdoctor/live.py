"""Live input: reading a stream as it is written, and the loop that watches it.

The loop feeds whatever bytes arrived through the same :class:`~logdoctor.engine.Analyzer`
that ``diagnose`` uses, and asks it for findings as soon as the input pauses (so a
finding is reported within a few tens of milliseconds of its proving line) and at
most a few times a second while a burst is pouring in (so the cost per line does
not grow with the length of the run).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import Callable

from logdoctor.engine import Analyzer
from logdoctor.model import Finding, Severity, UsageError
from logdoctor.sources import LineSplitter

READ_SIZE = 1 << 20
POLL = 0.05          # seconds to wait for input before treating it as a pause
MIN_INTERVAL = 0.05  # seconds between two rule runs during a burst ...
COST_FACTOR = 3      # ... and at least this many times what the last run cost


class StreamReader:
    """Reads what is available on a file descriptor (a pipe, a terminal, a file)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.restarted = False
        self.ended = False

    def read(self, timeout: float) -> bytes | None:
        """Bytes available within ``timeout`` seconds; ``b""`` if none yet; None at end of input."""
        if self.ended:
            return None
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return b""
        data = os.read(self.fd, READ_SIZE)
        if not data:
            return None
        # A pipe hands over 64 KB at a time: what is already there comes along (fewer, larger blocks
        # during a burst, and no waiting for more).
        chunks, size = [data], len(data)
        while size < READ_SIZE and self.more_now():
            more = os.read(self.fd, READ_SIZE - size)
            if not more:
                self.ended = True
                break
            chunks.append(more)
            size += len(more)
        return b"".join(chunks) if len(chunks) > 1 else data

    def more_now(self) -> bool:
        return bool(select.select([self.fd], [], [], 0)[0])


class FollowReader:
    """Follows a file by name like ``tail -F``: new data, truncation and rotation; never ends."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.restarted = False
        try:
            self.file = open(path, "rb")
        except FileNotFoundError:
            raise UsageError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise UsageError(f"{path}: is a directory, not a log file") from None
        except PermissionError:
            raise UsageError(f"{path}: permission denied") from None
        self.inode = os.fstat(self.file.fileno()).st_ino

    def read(self, timeout: float) -> bytes | None:
        data = self.file.read(READ_SIZE)
        if data:
            return data
        try:
            status = os.stat(self.path)
        except FileNotFoundError:  # rotated away, the new one not there yet
            time.sleep(timeout)
            return b""
        if status.st_ino != self.inode:  # rotated: the old file is read to its end, go on with the new one
            self.file.close()
            self.file = open(self.path, "rb")
            self.inode = os.fstat(self.file.fileno()).st_ino
            self.restarted = True
            return b""
        if status.st_size < self.file.tell():  # truncated: start again from its beginning
            self.file.seek(0)
            self.restarted = True
            return b""
        time.sleep(timeout)
        return b""

    def more_now(self) -> bool:
        return os.fstat(self.file.fileno()).st_size > self.file.tell()


@dataclass
class Watch:
    """One watched input: its reader, line splitter and analyzer."""

    reader: StreamReader | FollowReader
    analyzer: Analyzer
    splitter: LineSplitter = field(default_factory=LineSplitter)
    last_check: float = 0.0
    cost: float = 0.0
    done: bool = False

    def pump(self, timeout: float) -> list[Finding] | None:
        """Read once and return the findings this proved (None once the input has ended)."""
        data = self.reader.read(timeout)
        if data is None:
            return None
        if self.reader.restarted:
            self.reader.restarted = False
            self._feed(self.splitter.close())
        if data:
            self._feed(self.splitter.feed(data, partial=True))
            if self.reader.more_now() and time.monotonic() - self.last_check < max(MIN_INTERVAL,
                                                                                   COST_FACTOR * self.cost):
                return []  # a burst: keep reading, look again soon
        else:
            self.analyzer.idle()
        return self.check()

    def check(self) -> list[Finding]:
        start = time.monotonic()
        found = self.analyzer.findings()
        self.last_check = time.monotonic()
        self.cost = self.last_check - start
        return found

    def finish(self) -> list[Finding]:
        self._feed(self.splitter.close())
        self.done = True
        return self.analyzer.close()

    def _feed(self, block) -> None:
        if block is not None:
            self.analyzer.feed(block)


def run_watch(watch: Watch, on_finding: Callable[[Finding], bool], tick: Callable[[], None] | None = None) -> bool:
    """Watch until the input ends; ``on_finding`` returns True to stop early.  True if stopped early."""
    while True:
        found = watch.pump(POLL)
        if found is None:
            break
        for finding in found:
            if on_finding(finding):
                return True
        if tick is not None:
            tick()
    for finding in watch.finish():
        if on_finding(finding):
            return True
    return False


# ---------------------------------------------------------------- logdoctor run

@dataclass
class Child:
    """A training command run under watch: its output passes through, its process group can be stopped."""

    command: list[str]
    process: subprocess.Popen = field(init=False)

    def start(self) -> None:
        try:
            self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                            start_new_session=True)
        except FileNotFoundError:
            raise UsageError(f"{self.command[0]}: command not found") from None
        except PermissionError:
            raise UsageError(f"{self.command[0]}: permission denied") from None

    def signal(self, number: int) -> None:
        try:
            os.killpg(self.process.pid, number)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, grace: float, pump: Callable[[float], None]) -> None:
        """SIGINT (the framework may save a checkpoint), then SIGTERM, then SIGKILL, to the whole group."""
        for number, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            if self.process.poll() is not None:
                break
            self.signal(number)
            deadline = time.monotonic() + wait
            while self.process.poll() is None and time.monotonic() < deadline:
                pump(0.05)
        self.signal(signal.SIGKILL)  # children it forked may outlive it

    def exit_code(self) -> int:
        code = self.process.wait()
        return 128 - code if code < 0 else code


class Tee:
    """Passes a child's pipe through to our own stream unchanged (``\\r`` redraws included)."""

    def __init__(self, fd: int, out) -> None:
        self.reader = StreamReader(fd)
        self.out = out
        self.restarted = False  # a pipe is never truncated or rotated

    def read(self, timeout: float) -> bytes | None:
        data = self.reader.read(timeout)
        if data:
            try:
                self.out.write(data)
                self.out.flush()
            except (BrokenPipeError, ValueError):
                pass
        return data

    def more_now(self) -> bool:
        return self.reader.more_now()


def severity_or_none(name: str) -> Severity | None:
    return None if name == "never" else Severity.parse(name)
