"""Issue 7, "hard inputs parse correctly": a test named after each item that had none.

Items already covered elsewhere (not repeated here):

* invalid UTF-8 and stray NUL bytes: ``test_sources.py::test_nul_bytes_and_invalid_utf8_do_not_stop_the_line``;
  random and mutated bytes through parse/diagnose/watch: ``test_fuzz.py``.
* CRLF and lone ``\\r``: ``test_sources.py::test_ansi_sequences_are_removed_and_crlf_ends_are_plain_ends``,
  ``::test_carriage_return_redraws_become_states_of_one_physical_line``,
  ``::test_a_line_read_in_pieces_while_watching_gets_no_extra_state``.
* ANSI sequences split across reads: ``test_sources.py::test_any_chunking_gives_the_same_lines``, and
  ``test_watch.py::test_watch_finds_exactly_what_diagnose_finds_under_any_chunking`` (every fixture cut at
  random places, ANSI-coloured Keras and Lightning logs among them).
* a last line without newline: ``test_sources.py::test_last_line_without_newline_is_a_line``.

Items tested here (related tests elsewhere in brackets):

* a single 200 MB line: ``test_single_200mb_line`` (the splitter on the full 200 MB),
  ``test_single_long_bar_line_gives_the_values_of_its_states``,
  ``test_single_long_line_keeps_the_memory_of_the_cli_flat`` [``test_sources.py``: the cut into states].
* 10 million tiny lines: ``test_ten_million_tiny_lines`` (the splitter on the full 10 million; the whole
  pipeline on ``TINY_PIPELINE_LINES`` of them).
* interleaved output of several ranks: ``test_interleaved_ranks_*`` [``test_parser_hf.py::
  test_llamafactory_steps_come_from_the_bar_under_interleaved_ranks``, ``test_parser_caffe.py::
  test_multi_gpu_fork_lines_with_rank_tags``, ``test_parser_plain.py::test_ranked_and_chained_tracebacks``].
* several runs appended to one file: ``test_several_runs_appended_*`` [``test_parser_caffe.py::
  test_an_iteration_going_back_starts_a_new_segment``, ``::test_resumed_run_restores_and_continues_in_one_segment``,
  ``test_parser_keras.py::test_runs_in_one_file_restart_the_step_count``, ``test_parser_lightning.py::
  test_a_new_run_restarts_the_step_count``, ``test_parser_hf.py::test_bert_two_runs_counted_without_bars``].
* timestamps that jump or go back: ``test_timestamps_that_jump_or_go_back`` [``test_parser_caffe.py::
  test_new_year_does_not_make_time_go_back``, ``test_parser_plain.py::test_timestamps_give_seconds``].
* ``1.#QNAN``, ``-1.#IND``, ``nan(ind)``, ``Infinity``, ``1e+400``: ``test_odd_number_spellings_through_the_cli``
  [``test_parser_caffe.py::test_windows_and_other_non_finite_spellings``, ``test_parser_plain.py::
  test_non_finite_spellings_and_percentages``: the parsers alone].

The issue's other lists are tested elsewhere:

* no traceback, one line and exit 2 for missing file, directory, permission denied, empty input,
  binary input, damaged gzip, unrecognised format: ``test_cli.py::test_bad_inputs_are_one_line_errors_with_exit_2``
  (parametrised per case); a forced ``--parser`` that matches nothing:
  ``test_cli.py::test_a_forced_parser_that_matches_nothing_says_so``; gzip logs read transparently:
  ``test_sources.py``; any bytes: ``test_fuzz.py::test_random_bytes_never_raise_and_every_line_is_counted``
  and ``::test_the_cli_exits_0_1_or_2_without_a_traceback``.
* nothing lost: ``test_cli.py::test_summary_accounts_for_every_line_and_counts_non_finite_values``, the
  accounting checks of every parser test and ``test_fuzz.py::test_mutated_real_logs_parse_and_account``.
* watch/run under faults (``test_watch.py``): the writer dies mid-line: ``test_the_writer_dies_mid_line``;
  stdin closes: ``test_end_of_input_exits_like_diagnose``; the followed file is truncated or rotated:
  ``test_follow_a_file_across_truncation_and_rotation``; the reader of our stdout goes away:
  ``test_a_closed_stdout_ends_quietly``; the child ignores SIGINT: ``test_run_escalates_when_the_child_ignores_sigint``;
  forks children: ``test_run_kills_the_whole_process_group``; exits with an error:
  ``test_run_passes_the_childs_own_exit_code_through``.

Measured by hand (2 CPUs, ``/usr/bin/time -v``, peak RSS; "before" is the splitter that kept a line
whole until its newline):

* a 200 MB Keras bar, 2,207,529 states redrawn with ``\\r`` and no newline: ``diagnose`` 3.2 GB, 53 s before,
  238 MB, 41 s after; ``parse --summary`` 3.2 GB, 37 s before, 2.0 GB, 53 s after, exactly what the same
  states on 2.2 million lines of their own cost (2.07 GB, 61 s): the 4.4 million rows of the table.
* 200 MB of junk on one line between two Caffe lines: 2.2 GB, 48 s before; 178 MB, 29 s after (the
  parsers reading the junk, 4 MB at a time).
* 10,000,000 lines ``x`` between two copies of ``caffe-generated/r01.log``: ``parse --summary`` and
  ``diagnose`` 46 s, 500 MB, before and after; every line counted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from logdoctor import parsing, sources
from logdoctor.cli import main
from logdoctor.engine import analyse_blocks, select_rules
from logdoctor.parsing import parse_chunks
from logdoctor.sources import LineSplitter, blocks_from_chunks
from tests.conftest import FIXTURES, parse_text

SINGLE_LINE_BYTES = 200 << 20   # the full size: the splitter alone reads it in about 3 s
BAR_STATES = 4_000              # a 300 kB Keras bar for the whole pipeline, read with a 64 kB limit
CLI_LINE_BYTES = 64 << 20       # a line for the real command, in a subprocess
TINY_LINES = 10_000_000
TINY_PIPELINE_LINES = 200_000   # the whole pipeline reads about 250,000 tiny lines a second

R01 = FIXTURES / "caffe-generated" / "r01.log"
CAFFE_FIRST = b"I0101 00:00:00.000000 1 solver.cpp:239] Iteration 0, loss = 2.5\n"
CAFFE_LAST = b"I0101 00:00:01.000000 1 solver.cpp:239] Iteration 10, loss = 2.4\n"


def physical_lines(data: bytes) -> list[bytes]:
    """The lines of ``data`` with their newline (``bytes.splitlines`` would also cut at ``\\r``)."""
    return [line + b"\n" for line in data.split(b"\n")[:-1]]


def without(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.drop(columns=list(columns)).reset_index(drop=True)


def findings_of(data: bytes) -> list[tuple]:
    analyzer = analyse_blocks(blocks_from_chunks([data]), select_rules())
    return [(f.code, f.line) for f in analyzer.report().findings]


def cli(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


# ---------------------------------------------------------------- a single 200 MB line

def junk_chunks(count: int):
    """Chunks of 4 MB of random base64 text: no newline, no ``\\r``, no space, no two parts alike."""
    for _ in range(count):
        yield base64.b64encode(os.urandom(3 << 20))


def test_single_200mb_line():
    splitter = LineSplitter()
    fed, parts, held = hashlib.sha256(), hashlib.sha256(), 0
    lines: list[tuple[int, int]] = []   # (physical line, length) of every logical line

    def take(block):
        for i, text in enumerate(block.lines if block is not None else ()):
            lines.append((block.line_of(i), len(text)))
            if block.line_of(i) == 2:
                parts.update(text.encode())

    take(splitter.feed(CAFFE_FIRST))
    total = 0
    for chunk in junk_chunks(SINGLE_LINE_BYTES // (4 << 20)):
        fed.update(chunk)
        total += len(chunk)
        take(splitter.feed(chunk))
        held = max(held, splitter.pending_bytes)
    take(splitter.feed(b"\n" + CAFFE_LAST))
    take(splitter.close())
    assert total == SINGLE_LINE_BYTES
    assert held <= sources.MAX_PENDING + (4 << 20) + 1   # never more than the limit and one chunk
    assert splitter.lines_seen == 3
    assert lines[0] == (1, len(CAFFE_FIRST) - 1) and lines[-1] == (3, len(CAFFE_LAST) - 1)
    junk = lines[1:-1]
    assert {line for line, _ in junk} == {2}
    assert max(length for _, length in junk) <= sources.MAX_PENDING
    assert len(junk) == math.ceil(SINGLE_LINE_BYTES / sources.MAX_PENDING)
    assert parts.digest() == fed.digest()   # nothing lost: the parts are the line


def keras_states(count: int) -> list[bytes]:
    """Keras 2 progress-bar states counting batches, as ``model.fit`` draws them on a terminal."""
    return [f"{step:6d}/{count} [==============================] - ETA: 0s - loss: {1 / step:.4f} - acc: "
            f"{step / count:.4f}".encode() for step in range(1, count + 1)]


def test_single_long_bar_line_gives_the_values_of_its_states(monkeypatch):
    states = keras_states(BAR_STATES)
    one_line = b"Epoch 1/1\n" + b"".join(b"\r" + s for s in states) + b"\n"
    own_lines = b"Epoch 1/1\n" + b"".join(s + b"\n" for s in states)
    expected = parse_text(own_lines)
    monkeypatch.setattr(sources, "MAX_PENDING", 64 << 10)
    chunks = [one_line[i:i + (16 << 10)] for i in range(0, len(one_line), 16 << 10)]
    assert sum(block.open_end for block in blocks_from_chunks(chunks)) >= 4   # read in pieces, before its end
    got = parse_chunks(chunks)
    table = got.table
    assert (table["line"] == 2).all()
    pd.testing.assert_frame_equal(without(table, "line"), without(expected.table, "line"))
    loss = table[table["name"] == "loss"]
    assert loss["step"].tolist() == list(range(1, BAR_STATES + 1))
    assert loss["value"].iloc[[0, 1, -1]].tolist() == [1.0, 0.5, 0.0003]
    stats = got.stats
    assert (stats.lines, stats.lines_with_rows, stats.lines_recognised, stats.lines_unknown) == (2, 1, 1, 0)


CHILD = """
import resource, sys
from logdoctor.cli import main
try:
    main(["parse", "--summary", sys.argv[1]])
except SystemExit:
    pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr)
"""


def peak_mb_of_parse(path) -> tuple[int, str]:
    """Peak RSS (MB) of ``logdoctor parse --summary PATH`` in a process of its own, and what it printed."""
    result = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return int(result.stderr.decode().split()[-1]), result.stdout.decode()


def test_single_long_line_keeps_the_memory_of_the_cli_flat(tmp_path):
    small, big = tmp_path / "small.log", tmp_path / "big.log"
    small.write_bytes(CAFFE_FIRST + CAFFE_LAST)
    with open(big, "wb") as f:
        f.write(CAFFE_FIRST)
        for _ in range(CLI_LINE_BYTES >> 20):
            f.write(b"x" * (1 << 20))
        f.write(b"\n" + CAFFE_LAST)
    base, _ = peak_mb_of_parse(small)
    peak, summary = peak_mb_of_parse(big)
    assert "lines: 3 = 2 with values + 0 recognised without values + 1 unknown" in summary
    # Kept whole, the line cost about 11 times its size (700 MB here); cut, a few limits' worth.
    assert peak - base < 100, (base, peak)


# ---------------------------------------------------------------- 10 million tiny lines

def test_ten_million_tiny_lines():
    splitter = LineSplitter()
    per_block = 1 << 21   # 4 MB of "x\n", as read_chunks reads them
    counts = [per_block] * (TINY_LINES // per_block) + [TINY_LINES % per_block]
    blocks = [splitter.feed(b"x\n" * count) for count in counts[:-1]]
    blocks.append(splitter.feed(b"x\n" * (counts[-1] - 1) + b"x"))   # the last line has no newline
    blocks.append(splitter.close())
    assert [b.first for b in blocks] == [1] + [b.last + 1 for b in blocks[:-1]]   # no gap, no overlap
    assert sum(len(b) for b in blocks) == sum(b.last - b.first + 1 for b in blocks) == TINY_LINES
    assert splitter.lines_seen == TINY_LINES

    # The whole pipeline, on fewer of them: every one counted, among the lines of a real Caffe log.
    log = R01.read_bytes()
    tiny = b"x\n\n" * (TINY_PIPELINE_LINES // 2)   # half junk (unknown), half blank (recognised)
    result = cli("parse", "--summary", "-", input=log + tiny + log)
    assert result.exit_code == 0
    lines = 2 * 588 + TINY_PIPELINE_LINES
    assert (f"lines: {lines} = 598 with values + {578 + TINY_PIPELINE_LINES // 2} recognised without values"
            f" + {TINY_PIPELINE_LINES // 2} unknown") in result.stdout


# ---------------------------------------------------------------- interleaved output of several ranks

LIGHTNING_HEALTHY = FIXTURES / "lightning-generated" / "pl2.6-tqdm-healthy-pipe.log"
# torchrun's [rank0]: prefix on a crash of both ranks, from a real DeepSpeed run (lines 1161-1179).
DEEPSPEED_CRASH = FIXTURES / "lightning" / "pl2-pbs-multimetric-bar-weights-only-error.log"
RANK0_CRASH = physical_lines(DEEPSPEED_CRASH.read_bytes())[1160:1179]


def interleave(lines: list[bytes], inserted: dict[int, list[bytes]]) -> tuple[bytes, dict[int, int]]:
    """``lines`` with ``inserted[k]`` after line k; and where each original line went."""
    out, where = [], {}
    for number, line in enumerate(lines, 1):
        out.append(line)
        where[number] = len(out)
        out += inserted.get(number, [])
    return b"".join(out), where


def test_interleaved_ranks_lightning_prefixes_and_banners():
    lines = physical_lines(LIGHTNING_HEALTHY.read_bytes())
    inserted = {
        1: [b"[rank: 1] Seed set to 7\n"],
        3: [b"Initializing distributed: GLOBAL_RANK: 1, MEMBER: 2/2\n",
            b"LOCAL_RANK: 0 - CUDA_VISIBLE_DEVICES: [0,1]\n", b"LOCAL_RANK: 1 - CUDA_VISIBLE_DEVICES: [0,1]\n"],
        30: [b"[rank: 1] Metric val_loss improved. New best score: 0.438\n"],
        75: RANK0_CRASH + [line.replace(b"[rank0]:", b"[rank1]:") for line in RANK0_CRASH],
    }
    data, where = interleave(lines, inserted)
    alone, ranked = parse_text(b"".join(lines)), parse_text(data)
    table = ranked.table
    original = table["line"].isin(list(where.values()))
    # Every value of rank 0 is kept, on its line.
    moved = alone.table.assign(line=alone.table["line"].map(where))
    pd.testing.assert_frame_equal(table[original].reset_index(drop=True), moved.reset_index(drop=True))
    # Rank 1's EarlyStopping message is a note of its own; the two tracebacks are two crashes.
    extra = table[~original]
    assert extra[["line", "kind", "name", "value"]].iloc[0].tolist() == [where[30] + 1, "note", "early_stopping", 0.438]
    crashes = extra[extra["name"] == "crash"]
    assert crashes["text"].str.startswith("_pickle.UnpicklingError: Weights only load failed").sum() == 2
    a, r = alone.stats, ranked.stats
    added = 1 + 3 + 1 + 2 * len(RANK0_CRASH)
    # Per rank: 2 lines with a crash note; unknown, the 4 lines of the error message after its first and
    # c10d's NCCL warning; the frames of the traceback are recognised.
    assert (r.lines, r.lines_with_rows, r.lines_unknown) == (a.lines + added, a.lines_with_rows + 1 + 2 * 2,
                                                              a.lines_unknown + 2 * 5)
    assert r.lines_with_rows + r.lines_recognised + r.lines_unknown == r.lines
    assert table["segment"].max() == 0


PLAIN_HEALTHY = FIXTURES / "plain-generated" / "mnist-style-healthy.log"


def test_interleaved_ranks_torchrun_prefixes():
    lines = physical_lines(PLAIN_HEALTHY.read_bytes())
    both = b"".join(b"[rank0]: " + line + b"[rank1]: " + line for line in lines)
    alone, ranked = parse_text(b"".join(lines)), parse_text(both)
    # Each rank's values, on its own line, in one segment.
    expected = pd.concat([alone.table.assign(line=2 * alone.table["line"] - 1),
                          alone.table.assign(line=2 * alone.table["line"])]).sort_values("line", kind="stable")
    pd.testing.assert_frame_equal(ranked.table, expected.reset_index(drop=True))
    a, r = alone.stats, ranked.stats
    # "[rank1]: " alone is a blank line of rank 1: recognised, as the blank line it prefixes.
    assert (r.lines, r.lines_with_rows, r.lines_recognised, r.lines_unknown) == (
        2 * a.lines, 2 * a.lines_with_rows, 2 * a.lines_recognised, 0)


def lightning_state(step: int, loss: float, version: int, total: int = 8) -> str:
    return (f"\rEpoch 0: {100 * step // total:3d}%|█         | {step}/{total} [00:0{step}<00:09, 1.00it/s, "
            f"v_num={version}, train_loss={loss:.3f}]")


def test_interleaved_ranks_two_lightning_bars():
    first = [lightning_state(step, 1 / step, 0) for step in range(1, 9)]
    second = [lightning_state(step, 2 / step, 1) for step in range(1, 9)]
    # Two processes drawing their bars on one terminal line, at the same step: both are kept.
    same = parse_text("".join(a + b for a, b in zip(first, second)) + "\n")
    rows = same.table[["line", "step", "value", "segment"]].values.tolist()
    assert rows == [[1, step, float(f"{k / step:.3f}"), 0] for step in range(1, 9) for k in (1, 2)]
    # One a step behind the other: every state is kept, and each step going back starts a segment,
    # since a segment is what the table has to tell runs apart.
    behind = parse_text("".join(a + b for a, b in zip(first[1:], second)) + "\n")
    table = behind.table
    assert table["step"].tolist() == [s for pair in zip(range(2, 9), range(1, 8)) for s in pair]
    assert table["value"].tolist() == [float(f"{v:.3f}") for step in range(1, 8) for v in (1 / (step + 1), 2 / step)]
    assert table["segment"].tolist() == [0] + [k for k in range(1, 8) for _ in range(2)][:-1]
    assert (behind.stats.lines, behind.stats.lines_with_rows) == (1, 1)
    assert findings_of(("".join(a + b for a, b in zip(first[1:], second)) + "\n").encode()) == []


# ---------------------------------------------------------------- several runs appended to one file

def test_several_runs_appended_caffe_log_appended_to_itself():
    log = R01.read_bytes()
    once, twice = parse_text(log).table, parse_text(log + log).table
    n = log.count(b"\n")
    first_train = once[(once["phase"] == "train") & (once["kind"] == "metric")]["line"].min()
    assert (n, first_train) == (588, 320)
    # The restart is where the iteration goes back: the first display of the second copy.
    assert twice[twice["segment"] == 1]["line"].min() == n + first_train
    assert (twice["segment"] == (twice["line"] >= n + first_train)).all()
    # The second run's values are the first run's, one copy further down.
    second = twice[(twice["line"] > n) & (twice["kind"] == "metric")]
    pd.testing.assert_frame_equal(without(second.assign(line=second["line"] - n), "segment"),
                                  without(once[once["kind"] == "metric"], "segment"))
    assert findings_of(log + log) == findings_of(log) == []


def test_several_runs_appended_caffe_notes_of_the_new_header_have_no_step_yet():
    log = R01.read_bytes()
    once, twice = parse_text(log).table, parse_text(log + log).table
    second = twice[twice["line"] > 588]
    pd.testing.assert_frame_equal(without(second.assign(line=second["line"] - 588), "segment"),
                                  without(once, "segment"))


def test_several_runs_appended_keras_epochs_restart_at_1():
    # A real file of two fit() runs (Keras 3, epochs 1-3 twice), and a real healthy run appended to itself.
    t = parse_text((FIXTURES / "keras-generated" / "keras3-tworuns-v1-pipe.log").read_bytes()).table
    keras = t[t["name"] != "lr"]   # "learning rate 0.05" and "0.01" are the script's own prints
    assert keras[keras["segment"] == 1]["line"].min() == 10   # the first bar of the second run
    assert (keras["segment"] == (keras["line"] >= 10)).all()
    assert keras.groupby("segment")["epoch"].agg(["min", "max"]).values.tolist() == [[1, 3], [1, 3]]
    assert t[t["name"] == "lr"][["line", "value", "segment"]].values.tolist() == [[1, 0.05, 0], [8, 0.01, 0]]

    log = (FIXTURES / "keras-generated" / "keras3-healthy-v1-pipe.log").read_bytes()
    once, twice = parse_text(log).table, parse_text(log + log).table
    n = log.count(b"\n")
    assert twice[twice["segment"] == 1]["line"].min() == n + 2   # "Epoch 1/4" then its bar
    assert (twice["segment"] == (twice["line"] > n)).all()
    second = twice[twice["line"] > n]
    pd.testing.assert_frame_equal(without(second.assign(line=second["line"] - n), "segment"),
                                  without(once, "segment"))
    assert findings_of(log + log) == findings_of(log) == []


# ---------------------------------------------------------------- timestamps that jump or go back

GLOG_TIME = re.compile(rb"^I1122 14:")


def test_timestamps_that_jump_or_go_back():
    """``seconds`` is the wall-clock time since the first stamp: a jump of days shows as such, and a clock
    set back makes it go back (it is not clamped); values, steps, segments and findings do not change."""
    lines = physical_lines(R01.read_bytes())

    def stamp(line: bytes, day: int, hour: int) -> bytes:
        return GLOG_TIME.sub(b"I11%02d %02d:" % (day, hour), line)

    # Three days later from line 401 on (a resumed job), then the clock set back an hour from line 501.
    moved = [stamp(line, 22, 14) if i <= 400 else stamp(line, 25, 14) if i <= 500 else stamp(line, 25, 13)
             for i, line in enumerate(lines, 1)]
    data = b"".join(moved)
    original, shifted = parse_text(b"".join(lines)).table, parse_text(data).table
    pd.testing.assert_frame_equal(without(shifted, "seconds", "text"), without(original, "seconds", "text"))
    unstamped = shifted["text"].str.replace(r"^I11\d\d \d\d:", "I1122 14:", regex=True)
    assert unstamped.tolist() == original["text"].tolist()   # notes that keep their raw line, stamp and all
    stamped = original["seconds"].notna()   # the lines of a parameter block carry no stamp
    assert (shifted["seconds"].notna() == stamped).all()
    gap = (shifted["seconds"] - original["seconds"])[stamped].to_numpy()
    line = shifted["line"][stamped].to_numpy()
    assert gap[line <= 400] == pytest.approx(0, abs=1e-3)
    assert gap[(line > 400) & (line <= 500)] == pytest.approx(3 * 86400, abs=1e-3)
    assert gap[line > 500] == pytest.approx(3 * 86400 - 3600, abs=1e-3)
    assert findings_of(data) == []
    result = cli("diagnose", "--no-plot", "-", input=data)
    assert result.exit_code == 0 and "no problem found" in result.stdout


# ---------------------------------------------------------------- odd spellings of numbers

ODD = ["1.#QNAN", "-1.#IND", "nan(ind)", "Infinity", "1e+400", "-Infinity"]
ODD_AS_JSON = ["nan", "nan", "nan", "inf", "inf", "-inf"]


def test_odd_number_spellings_through_the_cli():
    caffe = CAFFE_FIRST + b"".join(b"I0101 00:00:0%d.000000 1 solver.cpp:239] Iteration %d, loss = %s\n"
                                   % (i + 1, 10 * (i + 1), token.encode()) for i, token in enumerate(ODD))
    plain = b"".join(b"step %d loss: %s acc: 0.5\n" % (i + 1, token.encode()) for i, token in enumerate(ODD))
    for data, name in ((caffe, "loss"), (plain, "loss")):
        result = cli("parse", "--format", "jsonl", "-", input=data)
        assert result.exit_code == 0
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        odd = [r for r in rows if r["name"] == name and r["value"] != 2.5]
        # JSON has no nan or inf: the value is their text (as in diagnose --format json), not a null
        # that would make inf and nan look alike.
        assert [(r["line"], r["kind"], r["value"]) for r in odd] == [
            (i + 1 + (data is caffe), "metric", text) for i, text in enumerate(ODD_AS_JSON)]
    csv = cli("parse", "-", input=caffe).stdout.splitlines()
    assert [line.split(",")[7] for line in csv[2:]] == ["", "", "", "inf", "inf", "-inf"]


def test_the_states_of_a_redrawn_caffe_line_keep_their_order_when_read_in_pieces():
    data = b"Iteration 0, loss = 2.5\nIteration 10, loss = 0.5\rIteration 10, loss = 0.5nan\n"
    splitter, pieces = LineSplitter(), []
    for piece in (data[:52], data[52:]):   # cut inside the second state, as watch may read it
        pieces.append(splitter.feed(piece, partial=True))
    pieces.append(splitter.close())
    stream = parsing.TableStream("auto", "x")
    for block in pieces:
        if block is not None:
            stream.feed(block)
    stream.close()
    pd.testing.assert_frame_equal(stream.take(), parse_text(data).table)
