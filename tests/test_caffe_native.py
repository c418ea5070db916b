"""The C scanner of Caffe's hot lines (``parsers/_caffe_scan.c``) reads exactly what the Python path reads.

Every table here is made twice, with the scanner and without it (``caffe.native = None``, as when the
package is installed without a C compiler or with ``LOGDOCTOR_PURE_PYTHON=1``), and the two must be
equal to the bit, statistics included.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logdoctor.model import UsageError
from logdoctor.parsers import caffe
from logdoctor.parsing import parse_chunks
from tests.conftest import logs

CAFFE_LOGS = logs("caffe") + logs("caffe-generated")


def test_the_scanner_is_built():
    if os.environ.get("LOGDOCTOR_PURE_PYTHON"):
        pytest.skip("LOGDOCTOR_PURE_PYTHON is set")
    assert caffe.native is not None, "the C scanner was not built: `pip install -e .` needs a C compiler"


needs_native = pytest.mark.skipif(caffe.native is None, reason="the C scanner is not built")


def parse_both(data: bytes, monkeypatch, chunk: int = 1 << 22):
    """The result with the scanner, without it, and how many blocks the scanner read."""
    chunks = [data[i:i + chunk] for i in range(0, len(data), chunk)] or [b""]
    read = []
    scan = caffe.native.scan

    def counting_scan(*args):
        result = scan(*args)
        read.append(result is not None)
        return result

    monkeypatch.setattr(caffe.native, "scan", counting_scan)
    with_scanner = _parse(chunks)
    monkeypatch.setattr(caffe, "native", None)
    without = _parse(chunks)
    monkeypatch.undo()
    return with_scanner, without, sum(read)


def _parse(chunks):
    try:
        return parse_chunks(chunks, "caffe")
    except UsageError as error:  # no Caffe line at all: the same error both ways
        return str(error)


def assert_same(a, b):
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    for column in ("value", "seconds", "weight"):  # nan's sign and payload too
        assert np.array_equal(a.table[column].to_numpy().view(np.int64), b.table[column].to_numpy().view(np.int64))
    assert a.stats == b.stats


@needs_native
@pytest.mark.parametrize("path", CAFFE_LOGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_caffe_fixture_gives_the_same_table_with_and_without_the_scanner(path, monkeypatch):
    with_scanner, without, read = parse_both(path.read_bytes(), monkeypatch, chunk=1 << 12)
    assert_same(with_scanner, without)
    assert read > 0 or b"[Forward]" in path.read_bytes()


def ints(buffer, dtype=np.int64):
    return np.frombuffer(buffer, dtype).tolist()


@needs_native
def test_the_scanner_returns_rows_stamps_and_cold_lines():
    text = ("I0717 21:06:08.500000  9965 solver.cpp:239] Iteration 20 (3 iter/s, 6s/20 iters), loss = 0.5\n"
            "I0717 21:06:08.612304  9965 solver.cpp:258]     Train net output #1: top k = -nan (* 0.5 = -nan loss)\n"
            "junk\n"
            "[0.0] Iteration 20, lr = 1e-05\n"
            "I20261122 14:25:01  7815 solver.cpp:330] Iteration 20, Testing net (#1)\n"
            "(0.0)    Test net output #0: accuracy = 0.25\n")
    (dates, minutes, seconds, index, name, value, step, step_known, phase, output, output_known, net, net_known,
     weight, cold, cold_start, cold_iteration, cold_iteration_known, *_, names, state) = caffe.native.scan(
        text, None, None, 0, False)


    assert ints(dates) == [717, 717, -1, -1, 100000000 + 20261122, -1]
    assert ints(minutes)[:2] == [21 * 60 + 6] * 2
    assert np.frombuffer(seconds)[1] == 8.612304
    assert ints(index) == [0, 1, 3, 5]
    assert [names[i] for i in ints(name, np.int32)] == ["loss", "top k", "lr", "accuracy"]
    values = np.frombuffer(value)
    assert values[0] == 0.5 and np.isnan(values[1]) and np.signbit(values[1]) and values[2] == 1e-05
    assert ints(step) == [20, 20, 20, 20] and ints(step_known, np.bool_) == [True] * 4
    assert ints(phase, np.int8) == [0, 0, 0, 2]
    assert ints(output_known, np.bool_) == [False, True, False, True] and ints(output)[1] == 1
    assert ints(net_known, np.bool_) == [False, False, False, True] and ints(net)[3] == 1
    assert np.frombuffer(weight)[1] == 0.5 and np.isnan(np.frombuffer(weight)[[0, 2, 3]]).all()
    assert ints(cold) == [2] and ints(cold_start) == [text.index("junk")]
    assert ints(cold_iteration) == [20] and ints(cold_iteration_known, np.bool_) == [True]
    assert state == (20, 20, 1, False)


@needs_native
def test_a_new_solver_definition_forgets_the_counters_for_the_lines_after_it():
    text = ("Iteration 20, loss = 1\n"
            "I0717 21:06:08.6  1 solver.cpp:1] Initializing solver from parameters: \n"
            "base_lr: 0.01\n"
            "Iteration 0, lr = 0.01\n"
            "Train net output #0: loss = 2\n")
    scanned = caffe.native.scan(text, 10, 10, 1, True)
    index, step, step_known = scanned[3], scanned[6], scanned[7]
    cold, cold_iteration, cold_known = scanned[14], scanned[16], scanned[17]
    assert ints(index) == [0, 3, 4] and ints(step) == [20, 0, 0] and ints(step_known, np.bool_) == [True] * 3
    assert ints(cold) == [1, 2] and ints(cold_iteration)[0] == 20
    assert ints(cold_known, np.bool_) == [True, False]  # the parameter lines come after the reset
    assert scanned[-1] == (0, None, 0, False)


@needs_native
@pytest.mark.parametrize("text", [
    "Iteration 1, loss = 1.#QNAN\n",                           # a spelling only to_float reads
    "Iteration 99999999999999999999, loss = 1\n",              # beyond 64 bits
    "Train net output #0: loss = 1_0\n",                       # float() reads it, the C library does not
    "I0717 21:06:08.1234567890123456  1 a.cpp:1] x\n",         # 16 decimals
    "I0717 21:06:08.6  1 net.cpp:1] [Forward] Layer a, top blob a data: 1\n",
    "Iteration 1, loss = 1 \u00e9\n",                         # not ASCII
])
def test_the_scanner_declines_what_only_the_python_path_reads(text):
    assert caffe.native.scan(text, None, None, 0, False) is None


@needs_native
def test_the_scanner_takes_the_callers_line_count_and_declines_a_block_with_more_lines():
    text = "Iteration 1, loss = 1\nIteration 2, loss = 2\n"
    assert ints(caffe.native.scan(text, None, None, 0, False, 2)[3]) == [0, 1]
    assert caffe.native.scan(text, None, None, 0, False, 1) is None  # no room for the second line's row
    assert len(caffe.native.scan(text, None, None, 0, False, 3)[0]) == 2 * 8  # a stamp per line there is


@needs_native
def test_given_the_clock_the_scanner_works_out_the_rows_seconds_while_the_date_stays_the_same():
    text = ("I0717 21:06:08.500000  9965 solver.cpp:239] Iteration 20, loss = 0.5\n"
            "Iteration 20, lr = 0.01\n"   # no stamp: no seconds
            "I0717 21:07:00  9965 solver.cpp:239] Iteration 40, loss = 0.4\n")
    day, origin = 123.0 * 86400, 123.0 * 86400 + 21 * 3600
    seconds = caffe.native.scan(text, None, None, 0, False, -1, (717, day, origin))[23]
    expected = [(day + 21 * 3600 + 6 * 60) + 8.5 - origin, np.nan, (day + 21 * 3600 + 7 * 60) + 0.0 - origin]
    assert np.array_equal(np.frombuffer(seconds), expected, equal_nan=True)
    assert caffe.native.scan(text, None, None, 0, False)[23] is None  # no clock
    assert caffe.native.scan(text, None, None, 0, False, -1, (718, day, origin))[23] is None  # another date


# Lines made to reach every branch of the scanner: hot lines with the values it reads and some it
# declines, odd prefixes and whitespace, and the cold lines around them.
PREFIXES = st.sampled_from([
    "", "I0717 21:06:08.612304  9965 solver.cpp:244] ", "  I0717 21:06:08  1 a.cpp:1] ", "W1231 23:59:59.9 1 x] ",
    "I0101 00:00:01.000001  1 a.cpp:1] ", "I20261122 14:25:01.010000  7815 solver.cpp:239] ", "I071 21:06:08 1 x] ",
    "I0717 21:06:08.6 x] ", "I0717 21:06:08.  1 x] ", "I0717 21:06:08.6  1 a\x1cb] ",
    "E0717 21:06:08.123456789012345 1 x] ", "F0717 21:06:08.6  1 x] ", " F0717 21:06:08  1 x] ",
])
TAGS = st.sampled_from(["", "[0.0] ", "(1)    ", "[0.0)\t", "[x] ", " \t"])
VALUES = st.sampled_from(["0.5", "-nan", "nan", "inf", "-inf", "1e+400", "1e-5", "-3", "0", ".5", "5.", "1.#QNAN",
                          "nan(ind)", "x", "", "0.5,", "2 3", "1e", "+1"])
NAMES = st.sampled_from(["loss", "a b", "loss ", " = ", "x = y", "\x0bq\x1f", "acc/top-1"])
COUNTERS = st.sampled_from(["0", "20", "007", "9223372036854775807", "9223372036854775808", "x"])
MESSAGES = st.one_of(
    st.builds("Iteration {}{}, loss = {}".format, COUNTERS,
              st.sampled_from(["", " (3.1 iter/s, 0.2s/20 iters)", " (", " ()"]), VALUES),
    st.builds("Iteration {}, lr = {}".format, COUNTERS, VALUES),
    st.builds("Iteration {}, Testing net (#{})".format, COUNTERS, COUNTERS),
    st.builds("Test loss: {}".format, VALUES),
    st.builds("Gradient clipping: scaling down gradients (L2 norm {} > {}".format, VALUES,
              st.sampled_from(["35)", "35", ")", "35 )", "3(5)", "nan)"])),
    st.builds("{} net output #{}: {} = {}{}".format, st.sampled_from(["Train", "Test"]), COUNTERS, NAMES, VALUES,
              st.sampled_from(["", " (* 1 = 0.5 loss)", " (* 0.5 = nan loss)  ", " (* x", " (* 2 = 1 loss)x",
                               " (* nan(ind) = 1 loss)"])),
    st.sampled_from(["Test loss: 0.5", "Optimization Done.", "Iteration 5", "Snapshotting to a.caffemodel", "",
                     "Solving LeNet", "Test interrupted.", "junk = 1", "[Forward] Layer a, top blob a data: 1",
                     "Initializing solver from parameters: ", "base_lr: 0.01", "}",
                     "Initializing net from parameters: ", "layer {", '  name: "loss"', "  loss_weight: 2",
                     "max_iter: 10", "x from parameters: ", "Restarting data prefetching from start.",
                     "Memory required for data: 1", "Check failed: x", "Test", "Resuming", "Iteration", " \t",
                     "Gradient clipping: scaling down gradients (L2 norm 50 > 35)",
                     "Snapshotting solver state to binary proto file b.solverstate", "Snapshotting to HDF5 file c.h5",
                     "Snapshotting to binary proto file ", "Snapshotting solver state to ", "Snapshotting solver x",
                     "Snapshotting to  ", "Snapshotting to \x1fd \x1c", "Snapshotting to binary proto file\te"]),
)
LINES = st.builds("{}{}{}{}".format, PREFIXES, TAGS, MESSAGES, st.sampled_from(["", " ", "\t", " junk", ", m = 0.9"]))


@needs_native
@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, min_size=1, max_size=30), st.integers(1, 400))
def test_generated_logs_give_the_same_table_with_and_without_the_scanner(lines, chunk):
    import _pytest.monkeypatch

    with _pytest.monkeypatch.MonkeyPatch.context() as monkeypatch:
        with_scanner, without, _ = parse_both(("\n".join(lines) + "\n").encode(), monkeypatch, chunk)
    assert_same(with_scanner, without)


@needs_native
def test_values_are_the_floats_python_reads_to_the_bit():
    # The scanner divides the digits by a power of ten for short decimals (exact, and correctly rounded
    # like float()), and calls the C library's reader for the others.
    rng = np.random.default_rng(7)
    tokens = ["0", "-0", "+0", "0.", ".5", "-.5", "5.", "-0.0", "123456789012345", "1234567890123456",
              "0.000000000000001", "99999.9999999999", "2.5e-3", "1e+400", "-nan", "inf", "00012.5000"]
    for _ in range(20000):
        digits = "".join(map(str, rng.integers(0, 10, rng.integers(1, 18))))
        point = rng.integers(0, len(digits) + 1)
        tokens.append(rng.choice(["", "-"]) + digits[:point] + "." + digits[point:])
    text = "".join(f"Iteration 1, loss = {token}\n" for token in tokens)
    values = np.frombuffer(caffe.native.scan(text, None, None, 0, False)[5])
    expected = np.array([float(token) for token in tokens])
    assert np.array_equal(values.view(np.int64), expected.view(np.int64))
