"""The line source: redraws, ANSI, encodings, chunking."""

from __future__ import annotations

import gzip

import pytest

from logdoctor.model import UsageError
from logdoctor.sources import LineSplitter, blocks_from_chunks, read_chunks, redraw_states


def all_lines(chunks):
    """(physical line, text) of every logical line the source produces."""
    return [(b.line_of(i), line) for b in blocks_from_chunks(chunks) for i, line in enumerate(b.lines)]


def test_carriage_return_redraws_become_states_of_one_physical_line():
    data = b"head\n10/100 loss 1\r20/100 loss 2\r30/100 loss 3\nnext\n"
    assert all_lines([data]) == [(1, "head"), (2, "10/100 loss 1"), (2, "20/100 loss 2"),
                                 (2, "30/100 loss 3"), (3, "next")]


def test_backspace_runs_delete_characters_like_a_terminal():
    assert redraw_states("1/3 [=>..]\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08" "2/3 [==>.]") == ["1/3 [=>..]", "2/3 [==>.]"]
    assert redraw_states("loss: 0.5\x08\x08\x081.2") == ["loss: 0.5", "loss: 1.2"]


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
