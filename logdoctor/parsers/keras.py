"""keras: placeholder until the parser lands (it knows no line, so it is never detected)."""

from __future__ import annotations

from logdoctor.parsers.base import Batch, Rows
from logdoctor.sources import Block

name = "keras"
description = "keras (not implemented yet)"
samples: tuple[str, ...] = ()


class _LineParser:
    def feed(self, block: Block) -> Batch:
        return Batch(Rows(), list(range(len(block))))

    def close(self) -> Batch:
        return Batch(Rows())


def sniff(head: list[str]) -> int:
    return 0


def start() -> _LineParser:
    return _LineParser()
