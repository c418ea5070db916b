"""The C splitter (``logdoctor/_split.c``) makes exactly the blocks the Python code makes.

Every block here is made twice, with the C functions and without them (``sources.native = None``, as when
the package is installed without a C compiler or with ``LOGDOCTOR_PURE_PYTHON=1``), from random text full
of terminal noise, cut into random chunks, and the two must be equal: text, line numbers, lines.
"""

from __future__ import annotations

import os
import random
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logdoctor import sources
from logdoctor.sources import LineSplitter, make_block


def test_the_splitter_is_built():
    if os.environ.get("LOGDOCTOR_PURE_PYTHON"):
        pytest.skip("LOGDOCTOR_PURE_PYTHON is set")
    assert sources.native is not None, "the C splitter was not built: `pip install -e .` needs a C compiler"


needs_native = pytest.mark.skipif(sources.native is None, reason="the C splitter is not built")

# Pieces of noisy logs: redraws, escape sequences (whole, cut short, unknown), NUL, invalid UTF-8,
# characters of every width a str can have (Latin-1, the BMP, beyond), blanks str.isspace() knows.
PIECES = [
    b"a", b"bc", b"1", b" ", b"  ", b"\t", b"\n", b"\r", b"\r\n", b"\r\r", b"\x08", b"\x08" * 3, b"\x08" * 40,
    b"\x00", b"\xff", b"\xe2\x94", b"\xc3\xa9", b"\xe2\x96\x88", b"\xf0\x9f\x98\x80", b"\xc2\xa0", b"\xe3\x80\x80",
    b"\x1c", b"\x0b", b"\x1b[1m", b"\x1b[0;32m", b"\x1b[2K", b"\x1b[A", b"\x1b[", b"\x1b[3", b"\x1b[?25l",
    b"\x1b]0;title\x07", b"\x1b]8;;http://x\x1b\\", b"\x1b]open", b"\x1b]a\rb\x08c\x07", b"\x1bM", b"\x1b\\",
    b"\x1b`", b"\x1b", b"\x1b\x1b[1m", b"\x1b[2 q", b"\x1b[!p", b"\x1b[1$ ", b"\x1b[3~",
    b" 3/9 [=>..] - loss: 0.5", b" 3/9 [=>..] - loss: 0.5" + b"\x08" * 23,
    b"Epoch 1: 50%|\xe2\x96\x88\xe2\x96\x88  | 1/2",
    b"x" * 70, b"\xe2\x96\x88" * 40, b" " * 50,
]
# Few kinds of pieces make short lines of blanks and redraws only, where the rules about blank states decide.
BLANKS = [b" ", b"\t", b"\xc2\xa0", b"\r", b"\r\n", b"\n", b"\x08", b"\x08" * 2, b"\x1b[1m", b"\x1b", b"a", b"\x00"]
NOISE = st.one_of(st.lists(st.sampled_from(PIECES), max_size=60), st.lists(st.sampled_from(BLANKS), max_size=12)).map(
    b"".join)


def without_native(make):
    """What ``make()`` gives with the Python code alone."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sources, "native", None)
        return make()


def as_tuple(block):
    if block is None:
        return None
    return block.text, block.first, block.last, block.physical, block.open_end, block.lines, len(block)


@needs_native
@settings(max_examples=500, deadline=None)
@given(NOISE, st.integers(1, 1 << 40))
def test_a_block_of_noise_is_the_same_in_c_and_python(data, first):
    text = data.decode("utf-8", "replace") + "\n"
    native = make_block(text, first)
    python = without_native(lambda: make_block(text, first))
    assert as_tuple(native) == as_tuple(python)
    assert native.lines == native.text.split("\n")[:-1]
    assert sys.getsizeof(native.text) == sys.getsizeof(python.text)  # the same kind of str: a canonical one
    assert list(map(sys.getsizeof, native.lines)) == list(map(sys.getsizeof, python.lines))


@needs_native
@settings(max_examples=300, deadline=None)
@given(NOISE)
def test_survey_counts_newlines_and_finds_nul_and_redraws(data):
    text = data.decode("utf-8", "replace")
    survey = sources.survey(text)
    assert survey == without_native(lambda: sources.survey(text))


@needs_native
@settings(max_examples=300, deadline=None)
@given(NOISE, st.integers(0, 7))
def test_ascii_bytes_are_decoded_and_surveyed_in_one_pass(data, offset):
    data = b"x" * offset + data  # (the decoder reads bytes that do not begin at a word otherwise)
    made = sources.native.ascii_text(memoryview(data)[offset:])
    if not data.isascii():
        assert made is None
        return
    text = data[offset:].decode("ascii")
    assert made == (text, *sources.survey(text)) and sys.getsizeof(made[0]) == sys.getsizeof(text)


def split(data: bytes, cuts: list[int], limit: int, partial: bool):
    splitter = LineSplitter(limit)
    chunks = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
    return [as_tuple(splitter.feed(chunk, partial=partial)) for chunk in chunks] + [as_tuple(splitter.close())]


@needs_native
@settings(max_examples=300, deadline=None)
@given(NOISE, st.lists(st.integers(0, 1 << 12), max_size=8), st.sampled_from([4, 16, 64, 1 << 22]), st.booleans())
def test_any_chunking_and_limit_give_the_same_blocks_in_c_and_python(data, cuts, limit, partial):
    cuts = sorted(min(cut, len(data)) for cut in cuts)
    native = split(data, cuts, limit, partial)
    assert native == without_native(lambda: split(data, cuts, limit, partial))


@needs_native
@pytest.mark.parametrize("seed", range(3))
def test_long_lines_of_noise_cut_anywhere_give_the_same_blocks_in_c_and_python(seed):
    rng = random.Random(seed)
    in_line = [piece for piece in PIECES if b"\n" not in piece]
    data = b"\n".join(b"".join(rng.choices(in_line, k=rng.randrange(8000))) for _ in range(6))  # lines of ~50 KB
    cuts = sorted(rng.randrange(len(data)) for _ in range(30))
    for limit, partial in ((1 << 22, False), (1 << 22, True), (1 << 12, False)):
        native = split(data, cuts, limit, partial)
        assert native == without_native(lambda: split(data, cuts, limit, partial)), (limit, partial)


@needs_native
@pytest.mark.parametrize("text", [
    "", "\n", "no newline at the end", "a\nb", "\r\n", "   \r\n", "\x08\n", "\x1b\n", "\x1b[1m\r\n",
    "é\r\n", "é\x1b[1m\ra\n", "█\rab\n", "😀\x08\x08x\n", "a\x1b]\r\x07b\n", "\x1b]\n\r", "x\ry\rx\rx\n",
    "  \r  \n", " \x1b[1m\r\r\n", " \x1b\r\n", "a\x08\x1b[1m\x08b\n", "ab\x08\r\n", "\r \x1b]x\x07\r\n",
])
def test_edge_cases_are_the_same_in_c_and_python(text):
    native = as_tuple(make_block(text, 7))
    assert native == without_native(lambda: as_tuple(make_block(text, 7)))


@needs_native
def test_a_state_longer_than_the_text_it_was_read_from_fits():
    # Each backspace run leaves a long screen that the next run copies again: the output outgrows the input.
    text = "x" * 1000 + "\x08y" * 500 + "\n"
    native = make_block(text, 1)
    assert len(native.text) > len(text)
    assert as_tuple(native) == without_native(lambda: as_tuple(make_block(text, 1)))
