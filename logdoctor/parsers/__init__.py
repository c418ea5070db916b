"""The ordered registry of parsers, and detection of the format from the head of an input.

Order matters twice: on equal detection scores the earlier parser wins, and when
a log mixes formats the lines the chosen parser does not know are offered to the
others in this order.  The generic key/value parser, when present, comes last.
"""

from __future__ import annotations

from logdoctor.model import UsageError
from logdoctor.parsers import caffe, hf, keras, lightning, plain

# Specific formats first; the generic key/value parser last.
PARSERS = (caffe, keras, lightning, hf, plain)
BY_NAME = {parser.name: parser for parser in PARSERS}


def names() -> tuple[str, ...]:
    return tuple(BY_NAME)


def get(name: str):
    """The parser called ``name``, or a usage error listing the known ones."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise UsageError(f"unknown parser {name!r}: choose auto or one of {', '.join(BY_NAME)}") from None


def detect(head: list[str], minimum: int = 1):
    """The parser whose sniff scores the head highest (at least ``minimum``), or None."""
    best, best_score = None, minimum - 1
    for parser in PARSERS:
        score = parser.sniff(head)
        if score > best_score:
            best, best_score = parser, score
    return best
