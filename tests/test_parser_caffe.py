"""The Caffe parser against real Caffe logs: independent counts, exact values, golden tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from logdoctor.parsers import caffe
from logdoctor.parsing import parse_chunks
from tests.conftest import FIXTURES, logs, parse_fixture, parse_text

CAFFE_LOGS = logs("caffe") + logs("caffe-generated")

# Independent counts: plain regexes over the raw lines, nothing shared with the parser.
TRAIN_OUTPUT = regex.compile(rb"Train net output #\d+: ")
TEST_OUTPUT = regex.compile(rb"Test net output #\d+: ")
LR = regex.compile(rb"Iteration \d+, lr = ")
DISPLAY = regex.compile(rb"Iteration \d+(?: \([^)]*\))?, loss = ")
NON_FINITE = regex.compile(rb"(?:Iteration \d+(?: \([^)]*\))?, (?:loss|lr) = |net output #\d+: .* = |Test loss: )"
                           rb"[-+]?(?:nan|inf)\b")
MAIN_SERIES_LINES = ("train net outputs", "test net outputs", "lr", "display")


def raw_lines(path):
    return path.read_bytes().split(b"\n")


def count_lines(lines, pattern):
    return sum(1 for line in lines if pattern.search(line))


@pytest.fixture(scope="module", params=CAFFE_LOGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def parsed(request):
    path = request.param
    return path, parse_fixture(f"{path.parent.name}/{path.name}")


def test_caffe_logs_are_detected_as_caffe(parsed):
    _, result = parsed
    assert result.stats.parser == "caffe"


def test_every_output_lr_and_display_line_is_a_row(parsed):
    path, result = parsed
    lines, t = raw_lines(path), result.table
    train_outputs = t[(t.phase == "train") & t.output.notna()]
    test_outputs = t[(t.phase == "test") & t.output.notna()]
    display = t[(t.phase == "train") & (t.name == "loss") & t.output.isna()]
    assert len(train_outputs) == count_lines(lines, TRAIN_OUTPUT)
    assert len(test_outputs) == count_lines(lines, TEST_OUTPUT)
    assert (t.name == "lr").sum() == count_lines(lines, LR)
    assert len(display) == count_lines(lines, DISPLAY)


def test_non_finite_values_sit_at_the_exact_lines(parsed):
    path, result = parsed
    expected = {i + 1 for i, line in enumerate(raw_lines(path)) if NON_FINITE.search(line)}
    t = result.table
    main = t[(t.kind == "metric") & ~t.name.str.startswith("debug.") & (t.name != "grad_norm")]
    found = set(main.loc[~np.isfinite(main.value), "line"])
    assert found == expected


def test_every_line_is_accounted_for(parsed):
    path, result = parsed
    s = result.stats
    assert s.lines == len(path.read_bytes().rstrip(b"\n").split(b"\n"))
    assert s.lines_with_rows + s.lines_recognised + s.lines_unknown == s.lines
    assert s.lines_with_rows == result.table.line.nunique()


@pytest.mark.parametrize("name", ["r14", "r06"])
def test_golden_tables(name):
    table = parse_fixture(f"caffe-generated/{name}.log").table
    metrics = table[table.kind == "metric"][["line", "step", "phase", "name", "output", "net", "weight", "value"]]
    golden = pd.read_csv(FIXTURES / "golden" / f"{name}.metrics.csv")
    got = metrics.reset_index(drop=True)
    assert list(got.line) == list(golden.line)
    assert list(got.step.astype("float")) == list(golden.step.astype("float"))
    assert list(got.phase.astype(str)) == list(golden.phase)
    assert list(got.name) == list(golden.name)
    np.testing.assert_array_equal(got.output.astype("float").to_numpy(), golden.output.to_numpy(dtype=float))
    np.testing.assert_array_equal(got.net.astype("float").to_numpy(), golden.net.to_numpy(dtype=float))
    np.testing.assert_array_equal(got.weight.to_numpy(), golden.weight.to_numpy(dtype=float))
    np.testing.assert_array_equal(got.value.to_numpy(), golden.value.to_numpy(dtype=float))


def row(table, line, name=None):
    rows = table[table.line == line]
    if name is not None:
        rows = rows[rows.name == name]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_explosion_values_inf_and_nan_are_kept():
    t = parse_fixture("caffe-generated/r14.log").table
    assert row(t, 291).value == 1.07177e08 and row(t, 291).step == 10
    assert row(t, 294).value == math.inf
    assert math.isnan(row(t, 297).value) and row(t, 297).step == 14


def test_lr_nan_line_of_a_poly_policy_without_max_iter():
    t = parse_fixture("caffe-generated/r03.log").table
    lr = row(t, 313)
    assert lr["name"] == "lr" and lr.step == 0 and math.isnan(lr.value)
    assert row(t, 316, "lr").value == math.inf
    solver = t[t.name.str.startswith("solver.")]
    assert dict(zip(solver.name, solver.text))["solver.lr_policy"] == "poly"
    assert dict(zip(solver.name, solver.value))["solver.power"] == 0.5
    assert "solver.max_iter" not in set(solver.name)


def test_multi_loss_outputs_carry_index_and_loss_weight():
    t = parse_fixture("caffe-generated/r06.log").table
    reg = row(t, 453)
    assert (reg["name"], reg.output, reg.weight, reg.value, reg.step) == ("loss_reg", 1, 0.3, 22957.5, 5)
    test = row(t, 446)
    assert (test.phase, test["name"], test.net, test.step) == ("test", "loss_reg", 0, 0)


def test_output_names_with_spaces_and_a_nan_speed_field():
    t = parse_fixture("caffe/ssdh-4loss-names-with-spaces-negative-loss.log").table
    output = row(t, 1784)
    assert (output["name"], output.weight, output.value) == ("loss: reconstruction-error", 0.001, 16182.7)
    assert row(t, 1783).value == -0.030876
    display = row(t, 1780)
    assert (display["name"], display.value, display.step) == ("loss", 19.3865, 0)  # the -nan speed is not a value


def test_debug_info_rows_name_layer_and_blob():
    t = parse_fixture("caffe-generated/r05.log").table
    top = row(t, 648)
    assert (top["name"], top.layer, top.blob, top.value, top.step, top.phase) == (
        "debug.forward.top", "ip2", "ip2", 245.7, 1, "train")
    backward = row(t, 632)
    assert (backward["name"], backward.layer, backward.blob, backward.step) == (
        "debug.backward.bottom", "ip2", "ip1", 0)
    test_forward = row(t, 319)
    assert (test_forward.phase, test_forward.step, test_forward.net) == ("test", 0, 0)
    norms = t[t.name == "debug.params.diff_l2"]
    assert len(norms) == 40


def test_pooling_settings_of_the_printed_net():
    t = parse_fixture("caffe-generated/r07.log").table
    pool = t[(t.layer == "pool1") & t.name.str.startswith("layer.")]
    settings = dict(zip(pool.name, pool.text))
    assert settings == {"layer.type": "Pooling", "layer.pool": "AVE", "layer.kernel_size": "3", "layer.stride": "5"}


def test_glog_time_becomes_seconds_since_the_first_line():
    t = parse_fixture("caffe-generated/r15.log").table  # glog 0.6 with the year in the prefix
    timed = t[t.seconds.notna()]
    # line 1 (14:26:05.363087, "Use CPU.") makes no row but starts the clock; line 2 is 89 µs later
    assert (timed.line.iloc[0], timed.seconds.iloc[0]) == (2, pytest.approx(0.000089, abs=1e-5))
    assert timed.seconds.is_monotonic_increasing and timed.seconds.iloc[-1] > 0


def test_new_year_does_not_make_time_go_back():
    log = ("I1231 23:59:59.000000 1 solver.cpp:239] Iteration 0, loss = 2\n"
           "I0101 00:00:01.500000 1 solver.cpp:239] Iteration 10, loss = 1\n")
    t = parse_text(log).table
    assert list(t.seconds) == [0.0, 2.5]


def test_resumed_run_restores_and_continues_in_one_segment():
    t = parse_fixture("caffe-generated/r11b.log").table
    restore = row(t, 315)
    assert (restore.kind, restore["name"]) == ("note", "restore")
    assert restore.text == "snap/r11_iter_300.solverstate"
    assert t.segment.max() == 0


def test_an_iteration_going_back_starts_a_new_segment():
    log = "".join(f"I0101 00:00:0{i}.0 1 solver.cpp:239] Iteration {it}, loss = 1\n"
                  for i, it in enumerate([0, 10, 20, 10, 20]))
    t = parse_text(log).table
    assert list(t.segment) == [0, 0, 0, 1, 1]


@pytest.mark.parametrize("restart_at", [1, 3, 4])
def test_an_iteration_going_back_where_a_block_begins_starts_a_new_segment(restart_at):
    iterations = [100, 200, 300, 400, 500][:restart_at] + [0, 10, 20, 30][:5 - restart_at]
    lines = [f"I0101 00:00:0{i}.0 1 solver.cpp:239] Iteration {it}, loss = 1\n".encode()
             for i, it in enumerate(iterations)]
    table = parse_chunks([b"".join(lines[:restart_at]), b"".join(lines[restart_at:])]).table  # cut before it
    assert list(table.step) == iterations
    assert list(table.segment) == [0] * restart_at + [1] * (5 - restart_at)


def test_a_restart_is_seen_on_whichever_series_goes_back_first_in_a_later_block():
    # Every series of the first block counts as seen in its segment, not only the first one: lr going back
    # first starts the new run where it goes back.
    first = "".join(f"I0101 00:00:01.0 1 solver.cpp:239] Iteration {it}, {name} = 1\n"
                    for it in (100, 200) for name in ("loss", "lr"))
    second = "".join(f"I0101 00:00:02.0 1 solver.cpp:239] Iteration {it}, {name} = 1\n"
                     for it, name in ((0, "lr"), (0, "loss"), (10, "loss")))
    table = parse_chunks([first.encode(), second.encode()]).table
    assert list(table.step) == [100, 100, 200, 200, 0, 0, 10]
    assert list(table.segment) == [0, 0, 0, 0, 1, 1, 1]


def test_multi_gpu_fork_lines_with_rank_tags():
    t = parse_fixture("caffe/nvcaffe-cifar10-debug-info-forward-backward-multigpu.log").table
    display = t[(t.name == "loss") & t.output.isna() & (t.phase == "train")]
    assert display.step.iloc[0] == 0 and display.value.iloc[0] == 2.30193
    assert t.segment.max() == 0  # lr of iteration 39 printed after the display of 40 is not a restart


def test_log_starting_mid_run_without_header():
    result = parse_fixture("caffe/shermannet-midrun-no-header-plateau-then-learns.log")
    first = result.table.iloc[0]
    assert (first.line, first.step, first["name"], first.value) == (1, 1880, "loss", 2.28188)


def test_lines_without_glog_prefix_still_parse():
    t = parse_text("Iteration 5, loss = 0.5\n    Train net output #0: loss = 0.5 (* 1 = 0.5 loss)\n"
                   "Iteration 5, lr = 0.01\n").table
    assert list(zip(t.name, t.value, t.step)) == [("loss", 0.5, 5), ("loss", 0.5, 5), ("lr", 0.01, 5)]


def test_windows_and_other_non_finite_spellings():
    log = "".join(f"Iteration {i}, loss = {token}\n" for i, token in
                  enumerate(["1.#QNAN", "-1.#IND", "nan(ind)", "Infinity", "1e+400", "-inf"]))
    values = list(parse_text(log).table.value)
    assert [math.isnan(v) for v in values[:3]] == [True, True, True]
    assert values[3:] == [math.inf, math.inf, -math.inf]


def test_an_unreadable_value_is_a_note_not_a_silent_skip():
    t = parse_text("I0101 00:00:00.0 1 solver.cpp:1] Iteration 3, loss = 0x1.8p+1\n").table
    assert (t.kind.iloc[0], t.name.iloc[0], t.step.iloc[0]) == ("note", "loss", 3)
    assert "0x1.8p+1" in t.text.iloc[0]


def test_messages_become_notes():
    t = parse_fixture("caffe-generated/r16.log").table
    notes = t[t.kind == "note"]
    assert {"snapshot", "done", "crash", "solving", "lr_policy"} <= set(notes.name)


@pytest.mark.parametrize("relative", ["caffe-generated/r05.log", "caffe/skaffe-siamese-ansi-colored-solver-lines.log"])
def test_any_chunking_gives_the_same_table(relative):
    data = (FIXTURES / relative).read_bytes()
    whole = parse_chunks([data]).table
    rng = np.random.default_rng(7)
    cuts = sorted(set(rng.integers(1, len(data), 40).tolist()))
    pieces = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
    pd.testing.assert_frame_equal(parse_chunks(pieces).table, whole)


def test_a_counter_too_large_for_64_bits_is_missing_rather_than_a_crash():
    log = ("I0717 21:06:08.612304  9965 solver.cpp:244] Iteration 99999999999999999999999, loss = 0.69\n"
           "I0717 21:06:08.612304  9965 solver.cpp:258]     Train net output #99999999999999999999: loss = 0.5\n"
           "I0717 21:06:09.612304  9965 solver.cpp:244] Iteration 20, loss = 0.25\n")
    t = parse_text(log).table
    assert t.value.tolist() == [0.69, 0.5, 0.25]
    assert t.step.tolist() == [pd.NA, pd.NA, 20]
    assert t.output.isna().tolist() == [True, True, True]


# The lines read in bulk (SCAN, DEBUG_SCAN) are exactly the lines whose message LINE calls display, lr,
# testing or output (or forward, backward, update, norms): the patterns must never disagree, or a line
# would be read twice or not at all.
DEBUG_KINDS = {"forward", "backward", "update", "norms"}


def _bulk_by_scan(line: str) -> str | None:
    if any(caffe.SCAN.findall(line + "\n")[0][2:]):
        return "hot"
    return "debug" if any(caffe.DEBUG_SCAN.findall(line + "\n")[0]) else None


def _bulk_by_line(line: str) -> str | None:
    m = caffe.LINE.match(line)
    kind = None if m is None else m.lastgroup if m.lastgroup in caffe.KINDS else caffe._kind_of(m)
    return "hot" if kind in caffe.HOT_KINDS else "debug" if kind in DEBUG_KINDS else None


def test_bulk_and_line_by_line_reading_agree_on_which_lines_are_hot_in_every_caffe_fixture():
    for path in CAFFE_LOGS:
        for line in path.read_bytes().decode("utf-8", "replace").splitlines():
            assert _bulk_by_scan(line) == _bulk_by_line(line), (path.name, line)


NUMBERS = st.sampled_from(["0", "12", "99999999999999999999", "x", ""])
VALUES = st.sampled_from(["0.5", "-nan", "1.#QNAN", "nan(ind)", "1e+400", "", "x", "0.5,", "(", "inf)", "2 3"])
MESSAGES = st.one_of(
    st.builds("Iteration {}{}, loss = {}".format, NUMBERS, st.sampled_from(["", " (3.1 iter/s, 0.2s/20 iters)", " ("]),
              VALUES),
    st.builds("Iteration {}, lr = {}".format, NUMBERS, VALUES),
    st.builds("Iteration {}, Testing net (#{})".format, NUMBERS, NUMBERS),
    st.builds("{} net output #{}: {} = {}{}".format, st.sampled_from(["Train", "Test", "train"]), NUMBERS,
              st.sampled_from(["loss", "a b", " = ", "", "loss "]), VALUES,
              st.sampled_from(["", " (* 1 = 0.5 loss)", " (* x", "  ", " (* 2 = 1 loss)x"])),
    st.sampled_from(["Test loss: 0.5", "Optimization Done.", "Iteration 5"]),
    st.builds("[{}] Layer {}, {} blob {} {}: {}{}".format, st.sampled_from(["Forward", "Backward", "Update"]),
              st.sampled_from(["conv1", "a b", "x,y", ""]), st.sampled_from(["top", "bottom", "param"]),
              st.sampled_from(["data", "0", ""]), st.sampled_from(["data", "diff"]), VALUES,
              st.sampled_from(["", "; diff: 0.1", "; diff:"])),
    st.builds("[Forward] Layer conv1, top blob conv1 data: {}".format, VALUES),
    st.builds("[Backward] Layer conv1, bottom blob data diff: {}".format, VALUES),
    st.builds("[Update] Layer {}, param {} data: {}; diff: {}".format, st.sampled_from(["ip1", ""]),
              st.sampled_from(["0", "w-1", ""]), VALUES, VALUES),
    st.builds("[Backward] All net params (data, diff): L1 norm = ({}, {}); L2 norm = ({}, {}{}".format,
              VALUES, VALUES, VALUES, VALUES, st.sampled_from([")", ""])),
)
LINES = st.builds("{}{}{}{}".format,
                  st.sampled_from(["", "I0717 21:06:08.612304  9965 solver.cpp:244] ", "  ",
                                   "F0717 21:06:08 1 a.cpp:1] ", "I20261122 14:25:01.010000  7815 solver.cpp:239] ",
                                   "I0717 21:06:08.6 x] ", "I0717 21:06:08.6  1 a\x1cb] "]),
                  st.sampled_from(["", "[0.0] ", "(0.0)    ", "[rank: 1] "]), MESSAGES,
                  st.sampled_from(["", " ", "\t", " junk", ", m = 0.9"]))


@settings(max_examples=1500, deadline=None)
@given(LINES)
def test_bulk_and_line_by_line_reading_agree_on_which_lines_are_hot(line):
    assert _bulk_by_scan(line) == _bulk_by_line(line)


def test_a_control_character_in_the_glog_prefix_is_read_alike_by_every_pattern():
    # Found by generated logs: \x1c is whitespace to ``re`` (SCAN) but not to ``regex`` (LINE), so this
    # line was cold to one and an lr line to the other, and reading it raised an AssertionError.  Now all
    # patterns use ASCII whitespace: "a\x1cb" is the source file field.
    result = parse_text("I0717 21:06:08.6  1 a\x1cb] Iteration 0, lr = -nan\nIteration 1, loss = 2\n", "caffe")
    assert result.table[["line", "name", "step"]].values.tolist() == [[1, "lr", 0], [2, "loss", 1]]
    assert math.isnan(result.table["value"].iloc[0]) and result.table["seconds"].iloc[0] == 0


def test_a_message_broken_across_two_lines_is_two_lines():
    # Found by the long fuzz run: "(" or "Layer" on one line and the rest on the next made the bulk
    # patterns take two lines as one, and the lines after them were read as the wrong messages.
    log = ("I1122 14:24:11.400884  7809 solver.cpp:239] Iteration 60 (5 it\n"
           "er/s, 0s/5 iters), loss = 2.5\n"
           "I1122 14:24:11.549449  7815 net.cpp:593]     [Forward] Layer rel\n"
           "u1, top blob ip1 data: 0.444525\n"
           "I1122 14:24:11.400884  7809 solver.cpp:239] Iteration 65 (5 iter/s, 0s/5 iters), loss = 2.25\n")
    assert len(caffe.SCAN.findall(log)) == len(caffe.DEBUG_SCAN.findall(log)) == 5
    result = parse_text(log)
    # line 2 is no Caffe message; the plain fallback reads its "loss = 2.5"
    table = result.table
    assert table[["line", "name", "value"]].values.tolist() == [[2, "loss", 2.5], [5, "loss", 2.25]]
    assert table["step"].iloc[1] == 65
    assert (result.stats.lines, result.stats.lines_with_rows) == (5, 2)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(LINES, st.integers(0, 200)), min_size=1, max_size=8))
def test_the_bulk_patterns_match_each_line_once_even_when_messages_break_across_lines(pieces):
    # each generated line is cut in two at a random place, as a writer interleaved with another may leave it
    text = "".join(line[:cut] + "\n" + line[cut:] + "\n" for line, cut in pieces)
    lines = text.count("\n")
    assert len(caffe.SCAN.findall(text)) == len(caffe.DEBUG_SCAN.findall(text)) == lines
