"""TableStream: which lines the format is chosen from, and the order of the rows, whatever the cut of the input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from logdoctor import parsing
from logdoctor.model import UsageError
from logdoctor.parsing import HEAD_LINES, MAX_HEAD_LINES, parse_chunks
from tests.conftest import FIXTURES

CAFFE = "I0717 21:06:08.612304  9965 solver.cpp:244] Iteration {}, loss = 0.5\n"
PLAIN = "step {} loss 0.5\n"


def chosen(text: str, chunk: int | None = None) -> str:
    data = text.encode()
    chunks = [data] if chunk is None else [data[i:i + chunk] for i in range(0, len(data), chunk)]
    return parse_chunks(chunks).stats.parser


def test_the_format_is_chosen_from_the_first_head_lines_however_the_input_is_cut():
    # 350 plain prints (1 point each), then Caffe lines (3 points each) from line 351 to 1000: the
    # first HEAD_LINES lines hold 350 plain and 50 Caffe lines (350 against 150), so plain wins, in any
    # chunking; counted over more lines, Caffe would.
    text = "".join(PLAIN.format(i) for i in range(350)) + "".join(CAFFE.format(i) for i in range(650))
    assert HEAD_LINES == 400
    assert {chosen(text), chosen(text, 100), chosen(text, 4096), chosen(text, 7)} == {"plain"}


def test_a_long_preamble_is_read_past_up_to_the_first_known_line():
    text = "".join(f"loading shard {i}\n" for i in range(5_000)) + "".join(CAFFE.format(i) for i in range(10))
    assert {chosen(text), chosen(text, 333), chosen(text, 65536)} == {"caffe"}
    assert parse_chunks([text.encode()]).stats.lines_with_rows == 10


def test_nothing_known_in_the_first_max_head_lines_is_an_unrecognised_format():
    text = "".join(f"loading shard {i}\n" for i in range(MAX_HEAD_LINES)) + CAFFE.format(0)
    for chunk in (None, 4096):
        with pytest.raises(UsageError, match="unrecognised log format"):
            chosen(text, chunk)


@pytest.mark.parametrize("piece_rows", [1, 7])
def test_a_held_bar_state_comes_in_line_order_wherever_the_table_pieces_end(monkeypatch, piece_rows):
    # Lightning writes a step's last state when the next step is drawn: after a later line's rows, which may
    # already have left in a table piece of their own.
    data = (FIXTURES / "lightning/pl2-slurm-poyo-tqdm-cr.log").read_bytes()
    whole = parse_chunks([data]).table
    monkeypatch.setattr(parsing, "PIECE_ROWS", piece_rows)
    pieces = parse_chunks([data]).table
    assert (np.diff(pieces["line"].to_numpy()) >= 0).all()
    pd.testing.assert_frame_equal(pieces, whole)
