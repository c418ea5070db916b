"""The line source: redraws, ANSI, encodings, chunking."""

from __future__ import annotations

import gzip
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from logdoctor.model import UsageError
from logdoctor.parsing import TableStream
from logdoctor.sources import LineSplitter, blocks_from_chunks, make_block, read_chunks, redraw_states


def all_lines(chunks):
    """(physical line, text) of every logical line the source produces."""
    return [(b.line_of(i), line) for b in blocks_from_chunks(chunks) for i, line in enumerate(b.lines)]


def test_carriage_return_redraws_become_states_of_one_physical_line():
    data = b"head\n10/100 loss 1\r20/100 loss 2\r30/100 loss 3\nnext\n"
    assert all_lines([data]) == [(1, "head"), (2, "10/100 loss 1"), (2, "20/100 loss 2"),
                                 (2, "30/100 loss 3"), (3, "next")]


def test_backspace_runs_delete_characters_like_a_terminal():
    assert redraw_states("1/3 [=>..]" + "\x08" * 10 + "2/3 [==>.]") == ["1/3 [=>..]", "2/3 [==>.]"]
    assert redraw_states("loss: 0.5\x08\x08\x081.2") == ["loss: 0.5", "loss: 1.2"]


def terminal_states(line: str) -> list[str]:
    """What a terminal showed, one token at a time: the meaning ``redraw_states`` has to keep."""
    states: list[str] = []
    screen = ""
    for token in re.split(r"(\r|\x08+)", line):
        if token == "\r" or token.startswith("\x08"):
            if screen.strip() and (not states or states[-1] != screen):
                states.append(screen)
            screen = "" if token == "\r" else screen[: max(0, len(screen) - len(token))]
        else:
            screen += token
    if screen.strip() and (not states or states[-1] != screen):
        states.append(screen)
    return states or [""]


@given(st.lists(st.sampled_from(["a", "bc", " ", "\t", "\r", "\x08", "\x08" * 2, "\x08" * 9, "é",
                                 " 3/9 [=>..] - loss: 0.5", " 3/9 [=>..] - loss: 0.5" + "\x08" * 23]),
                max_size=40).map("".join))
def test_redraw_states_are_what_a_terminal_shows(line):
    assert redraw_states(line) == terminal_states(line)


def test_a_run_of_lines_of_one_shape_is_read_in_windows_as_columns():
    lines = [f"{i}/9999 loss: {i / 7:.4f}" if i % 1000 != 999 else "other" for i in range(5000)]
    block = make_block("\n".join(lines) + "\n", 1)
    shape = re.compile(r"^(?:(\d+)/\d+ loss: (\S+)|.*)$", re.M)
    for start in (0, 3, 998, 999, 1000, 2500, 4999, 1, 1):   # in order, then back
        expected = []
        for line in lines[start:]:
            m = shape.match(line)
            if not m.group(1):
                break
            expected.append(m.groups())
        columns = block.run_of(shape, start)
        assert columns == ([list(column) for column in zip(*expected)] if expected else [])


def test_blank_and_repeated_states_are_dropped_but_a_blank_line_stays_a_line():
    assert redraw_states("a\r   \ra\rb") == ["a", "b"]
    assert redraw_states("\r    \r") == [""]


def test_ansi_sequences_are_removed_and_crlf_ends_are_plain_ends():
    data = b"\x1b[32mI0101 00:00:00.0 1 solver.cpp:1] ok\x1b[0m\r\nsecond\r\n"
    assert all_lines([data]) == [(1, "I0101 00:00:00.0 1 solver.cpp:1] ok"), (2, "second")]


def test_nul_bytes_and_invalid_utf8_do_not_stop_the_line():
    assert all_lines([b"lo\x00ss \xff\xfe 1\n"]) == [(1, "loss \ufffd\ufffd 1")]


def test_last_line_without_newline_is_a_line():
    assert all_lines([b"a\nb"]) == [(1, "a"), (2, "b")]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_any_chunking_gives_the_same_lines(size):
    data = b"one\r\ntwo\rtwo-b\n\x1b[1mthree\x1b[0m\n\xe2\x94\x81\xe2\x94\x81 4\nfive"
    chunks = [data[i:i + size] for i in range(0, len(data), size)]
    assert all_lines(chunks) == all_lines([data])


def test_splitter_counts_lines_across_feeds():
    splitter = LineSplitter()
    assert splitter.feed(b"a\nb") is not None
    assert splitter.feed(b"c") is None
    block = splitter.feed(b"\nd\n")
    assert block.first == 2 and block.lines == ["bc", "d"]
    assert splitter.lines_seen == 3


@pytest.mark.parametrize("size", [1, 3, 4, 8, 1 << 21])
def test_a_plain_file_is_read_in_place_in_whole_lines(tmp_path, size):
    # Mapped: every chunk but the last ends with a newline (a line longer than a chunk goes on in the next),
    # and nothing is lost or repeated.
    data = b"a\nbb\nccccccc\n\nd\r\ne"
    path = tmp_path / "train.log"
    path.write_bytes(data)
    chunks = [bytes(chunk) for chunk in read_chunks(str(path), size)]
    assert b"".join(chunks) == data
    assert all(len(chunk) <= size for chunk in chunks)
    if size >= 8:  # room for every line: each chunk is whole lines
        assert all(chunk.endswith(b"\n") for chunk in chunks[:-1])
    assert all_lines(read_chunks(str(path), size)) == [(1, "a"), (2, "bb"), (3, "ccccccc"), (4, ""), (5, "d"),
                                                       (6, "e")]


def test_a_file_cut_shorter_while_it_is_read_is_a_one_line_error(tmp_path):
    path = tmp_path / "train.log"
    path.write_bytes(b"Iteration 1, loss = 2\n" * 1000)
    chunks = read_chunks(str(path), 1024)
    next(chunks)
    path.write_bytes(b"Iteration 1, loss = 2\n")  # (truncates the file in place, as logrotate's copytruncate)
    with pytest.raises(UsageError, match="train.log: the file was cut shorter while it was read"):
        list(chunks)


def test_gzip_logs_are_read_transparently(tmp_path):
    path = tmp_path / "train.log.gz"
    path.write_bytes(gzip.compress(b"line one\nline two\n"))
    assert b"".join(read_chunks(str(path))) == b"line one\nline two\n"


def test_utf16_logs_are_transcoded(tmp_path):
    path = tmp_path / "train.log"
    path.write_bytes("\ufeffIteration 1, loss = 2\n".encode("utf-16-le"))
    assert b"".join(read_chunks(str(path))) == b"Iteration 1, loss = 2\n"


@pytest.mark.parametrize("content, message", [
    (b"", "empty input"),
    (bytes(range(256)) * 40, "not a text log"),
])
def test_unusable_inputs_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "x.log"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        list(read_chunks(str(path)))


def test_missing_file_and_directory_are_named(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        list(read_chunks(str(tmp_path / "missing.log")))
    with pytest.raises(UsageError, match="is a directory"):
        list(read_chunks(str(tmp_path)))


# ---------------------------------------------------------------- bounded memory for endless lines

def lines_of(blocks):
    return [(b.line_of(i), line) for b in blocks if b is not None for i, line in enumerate(b.lines)]


def split(chunks, limit, partial=False):
    """(physical line, text) of every logical line, and the most bytes the splitter held back."""
    splitter = LineSplitter(limit)
    blocks, held = [], 0
    for chunk in chunks:
        blocks.append(splitter.feed(chunk, partial=partial))
        held = max(held, splitter.pending_bytes)
    blocks.append(splitter.close())
    return lines_of(blocks), held


def test_a_state_longer_than_the_limit_becomes_states_of_its_own_physical_line():
    lines, _ = split([b"head\nabcdefghijklmnopqrstuvwxy\nnext\n"], limit=10)
    assert lines == [(1, "head"), (2, "abcdefghij"), (2, "klmnopqrst"), (2, "uvwxy"), (3, "next")]


def test_long_states_are_cut_before_a_space_and_never_inside_a_character():
    lines, _ = split([b"loss 0.123 acc 0.5 lr 0.01\n"], limit=12)
    assert lines == [(1, "loss 0.123"), (1, " acc 0.5 lr"), (1, " 0.01")]   # the numbers stay whole
    cjk = "".join(chr(0x4E00 + i) for i in range(10))  # 3 bytes each: a cut at 10 bytes would split one
    lines, _ = split([cjk.encode()], limit=10)
    assert [text for _, text in lines] == [cjk[0:3], cjk[3:6], cjk[6:9], cjk[9:]]


def test_an_unfinished_line_is_handed_out_as_it_passes_the_limit():
    text = bytes(range(65, 91)) * 40   # 1040 bytes, no newline: no two cut parts alike
    splitter = LineSplitter(limit=100)
    blocks = []
    for i in range(0, len(text), 7):
        blocks.append(splitter.feed(text[i:i + 7]))
        assert splitter.pending_bytes <= 100 + 7 + 1
    assert all(b.open_end for b in blocks if b is not None)
    blocks.append(splitter.close())
    lines = lines_of(blocks)
    assert {line for line, _ in lines} == {1} and splitter.lines_seen == 1
    assert "".join(part for _, part in lines) == text.decode()   # nothing lost
    assert lines == lines_of([LineSplitter(limit=100).feed(text + b"\n")])


NOISE_PIECES = [b"a", b"b", b"1", b" ", b"\t", b"\r", b"\n", b"\r\n", b"\x08", b"\x1b[1m", b"\xe2\x94\x81", b"\xff",
                b"\x00", b"   ", b"loss: 0.5 "]


@pytest.mark.parametrize("seed", range(4))
def test_any_chunking_gives_the_same_lines_when_long_states_are_cut(seed):
    rng = np.random.default_rng(seed)
    for _ in range(300):
        data = b"".join(NOISE_PIECES[i] for i in rng.integers(0, len(NOISE_PIECES), rng.integers(0, 40)))
        limit = int(rng.integers(2, 12))
        cuts = sorted(rng.integers(0, len(data) + 1, rng.integers(1, 7)).tolist())
        chunks = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
        whole, _ = split([data], limit)
        for partial in (False, True):
            lines, held = split(chunks, limit, partial)
            # A blank state longer than the limit may lose its whitespace: blank either way.
            assert blank_as_empty(lines) == blank_as_empty(whole), (data, chunks, limit, partial)
            assert held <= limit + max(map(len, chunks)) + 1


def blank_as_empty(lines):
    return [(line, text if text.strip() else "") for line, text in lines]


@pytest.mark.parametrize("data", [b"   \rjunk\n", b"abc\r\nnext\n", b"a\rb\r\r\n", b"x\rx\rx\n", b"\t\r\x1b[1m\r\n"])
def test_a_line_read_in_pieces_while_watching_gets_no_extra_state(data):
    whole = lines_of([LineSplitter().feed(data)])
    for cut in range(1, len(data)):
        splitter = LineSplitter()
        pieces = [splitter.feed(data[:cut], partial=True), splitter.feed(data[cut:], partial=True)]
        assert lines_of(pieces) == whole, cut


def test_a_redrawn_line_read_in_pieces_is_accounted_like_the_whole_line():
    data = b"Iteration 0, loss = 2.5\njunk\rjunk\rjunk\n"   # only unknown states, the last one a repeat
    for cut in range(len(b"Iteration 0, loss = 2.5\n") + 1, len(data)):
        stream = TableStream("auto", "x")
        splitter = LineSplitter()
        for piece in (data[:cut], data[cut:]):
            block = splitter.feed(piece, partial=True)
            if block is not None:
                stream.feed(block)
        stream.close()
        stats = stream.stats()
        assert (stats.lines, stats.lines_with_rows, stats.lines_unknown) == (2, 1, 1), cut
