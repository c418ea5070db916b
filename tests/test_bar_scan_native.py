"""The C scanner of redrawn bars (``parsers/_bar_scan.c``) reads what its Python twins read, or less.

``keras.hot_states`` and ``lightning.hot_states`` read a run of bar states either in C or, without it
(``native = None``, as when the package is installed without a C compiler or with
``LOGDOCTOR_PURE_PYTHON=1``), with the parser's regular expression.  The C scanner may stop earlier, on
what logs do not print (Unicode digits, counts of more than 18 digits, values float() reads that are not
written as Python writes floats): the parser then reads the rest state by state, which gives the same
rows (the parsers' tests hold bulk and state-by-state reading to the same table).  On the states it reads,
it must give the same numbers, bit for bit; on states made of ordinary pieces, it must read as far.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logdoctor.parsers import keras, lightning
from logdoctor.sources import make_block


def test_the_bar_scanner_is_built():
    if os.environ.get("LOGDOCTOR_PURE_PYTHON"):
        pytest.skip("LOGDOCTOR_PURE_PYTHON is set")
    assert keras.native is not None and lightning.native is not None, (
        "the bar scanner was not built: `pip install -e .` needs a C compiler")


needs_native = pytest.mark.skipif(keras.native is None, reason="the bar scanner is not built")

# Values as logs print them, and what else a value's place may hold.
ORDINARY_VALUES = ["0.1234", "2.3026", "1.0000e-04", "-0.5000", "nan", "inf", "-inf", "12", "3.", ".5", "1E+03",
                   "NaN", "Infinity", "+0.7"]
ODD_VALUES = ["1_000", "\uff11.5", "\u0663", "0.5x", "abc", "[1,", "", "0.1\t", "e5", "1e", "--1", "0x10", "nan0",
              "1" * 70, "0.12\u00a0"]
KERAS_KEYS = st.sampled_from([("loss",), ("loss", "accuracy"), ("loss", "acc", "val_loss"), ("my_metric",)])


def odd(draw, ordinary_part, odd_parts):
    """``ordinary_part`` three times in four, else one of ``odd_parts``: most states hold one odd part at most."""
    return draw(st.sampled_from([ordinary_part] * 3 * len(odd_parts) + odd_parts))


def check(c_run, python_run, ordinary, scalars=1):
    """C read a prefix of what Python read (all of it when the states are ordinary), with the same numbers.

    A run is ``scalars`` numbers (the count of states first), then arrays with a row per state."""
    count, python_count = c_run[0], python_run[0]
    assert count <= python_count
    if ordinary:
        assert count == python_count
    if count == python_count:
        assert c_run[:scalars] == python_run[:scalars]
    for c_array, python_array in zip(c_run[scalars:], python_run[scalars:]):
        assert c_array.dtype == python_array.dtype
        assert c_array.shape[1:] == python_array.shape[1:]
        assert c_array[:count].tobytes() == python_array[:count].tobytes()   # bit for bit, nan and -0.0 too
        assert len(c_array) == count


def both(module, block, index, *arguments):
    c_run = module.hot_states(block, index, *arguments)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "native", None)
        python_run = module.hot_states(block, index, *arguments)
    return c_run, python_run


@st.composite
def keras_state(draw, keys, ordinary):
    """One Keras 1/2 or Keras 3 bar state showing ``keys``."""
    target = draw(st.sampled_from([10, 285, 4000]))
    cur = draw(st.integers(1, target))
    count = f"{cur}/{target}"
    if not ordinary:
        count = odd(draw, count, [f"{cur}/{cur}", "1" * 19 + f"/{target}", f"\u0663/{target}", f"{cur}/Unknown",
                                  f"{cur} /{target}"])
    pad = " " * draw(st.integers(0, 3))
    if draw(st.booleans()):
        bar = "[" + "=" * draw(st.integers(0, 5)) + ">" + "." * draw(st.integers(0, 5)) + "] - ETA: "
        clock = draw(st.sampled_from(["1:23", "0s", "12s", "1:02:03", "5"]))
    else:
        bar = "\u2501" * draw(st.integers(1, 6)) + " "
        clock = draw(st.sampled_from(["1:23", "0s", "12s"]))
    per_step = draw(st.sampled_from(["", " 176ms/step", " 2s/step", " 1.5us/step"]))
    if not ordinary:
        bar = odd(draw, bar, ["[=>..]- ETA: ", "\u2501\u2501"])
        clock = odd(draw, clock, ["1:2", "1:234", ":12", "1:02:03:04"])
        per_step = odd(draw, per_step, [" 12xs/step", " 1.s/step"])
    values = [draw(st.sampled_from(ORDINARY_VALUES)) if ordinary else odd(draw, draw(st.sampled_from(ORDINARY_VALUES)),
                                                                         ODD_VALUES) for _ in keys]
    metrics = "".join(f" - {key}: {value}" for key, value in zip(keys, values))
    tail = " " * draw(st.integers(0, 2))
    if not ordinary:
        tail = odd(draw, tail, [" - extra: 1", "\t", " x"])
    return f"{pad}{count} {bar}{clock}{per_step}{metrics}{tail}"


@st.composite
def redraw_prefix(draw, state):
    """What backspaces may leave of a state: its first characters, or others."""
    return draw(st.sampled_from([state[:draw(st.integers(1, 8))], state[:1], " 2/1", "1 ", "16/", "/1", "1a", " "]))


@needs_native
@settings(max_examples=400, deadline=None)
@given(st.data(), KERAS_KEYS, st.booleans(), st.sampled_from([1, 2, 32]), st.booleans(), st.sampled_from("\n\r"))
def test_keras_states_are_read_alike(data, keys, ordinary, divisor, wide, separator):
    states = data.draw(st.lists(keras_state(keys, ordinary), min_size=1, max_size=12))
    drawn = []   # the states, and what backspaces left of some (read over when on the state's line)
    for state in states:
        drawn.append(state)
        drawn += data.draw(st.lists(redraw_prefix(state), max_size=2 if not ordinary else 1))
    other = data.draw(st.lists(st.sampled_from(["Epoch 2/10", "", "loss: 0.5"]), max_size=1))
    lines = ["Epoch 1/10", separator.join(drawn), *other] + (["\U0001f600"] if wide else [])   # each width of str
    block = make_block("\n".join(lines) + "\n", 1)
    for index in range(len(block.lines)):
        c_run, python_run = both(keras, block, index, keys, divisor)
        check(c_run, python_run, ordinary and index == 1 and not block.lines[1].startswith(" "), scalars=3)


LIGHTNING_KEYS = st.sampled_from([("loss", "v_num"), ("loss", "v_num", "val_loss", "train_loss_epoch"),
                                  ("train_loss_step",), ("loss", "val_acc")])


@st.composite
def tqdm_state(draw, keys, values_of, ordinary):
    """One tqdm main-bar state of Lightning showing ``keys``."""
    epoch = draw(st.sampled_from([3, 3, 3, 4])) if not ordinary else 3
    count = draw(st.integers(1, 50))
    total = draw(st.sampled_from([50, 100]))
    percent = draw(st.sampled_from(["42%", "", "100%"]))
    head = f"Epoch {epoch}: " + " " * draw(st.integers(0, 2)) + (percent if ordinary else odd(draw, percent, ["42"]))
    bar = "|" + draw(st.sampled_from(["\u2588\u2588\u258f  ", "", "###  "])) + "|"
    numbers = f" {count}/{total} "
    clock = draw(st.sampled_from(["[00:10<00:14, 40.1it/s, ", "[00:10<?, ?it/s, ", "[00:01<00:00,  3.2s/it, "]))
    if not ordinary:
        numbers = odd(draw, numbers, [f" {'9' * 19}/{total} ", f" \u0663/{total} ", " 1/? "])
        clock = odd(draw, clock, ["[00:10<00:14 40.1it/s, ", "[00:10<00:14, 40.1it/s,"])
    values = [draw(st.sampled_from(values_of(key))) for key in keys]
    postfix = ", ".join(f"{key}={value}" for key, value in zip(keys, values))
    tail = "]" + " " * draw(st.integers(0, 2))
    if not ordinary:
        tail = odd(draw, tail, ["] x", "", ", ]"])
    return f"{head}{bar}{numbers}{clock}{postfix}{tail}"


@needs_native
@settings(max_examples=400, deadline=None)
@given(st.data(), LIGHTNING_KEYS, st.booleans(), st.booleans())
def test_tqdm_states_are_read_alike(data, keys, ordinary, wide):
    # An epoch-level key keeps its value ("0.5") or not; v_num changes now and then.
    def values_of(key):
        if key == "v_num":
            return ["3", "3", "3", "4", "34"] if ordinary else ["3", "3", "x", "\u00e9", "3.0", ""]
        if key.startswith(("val_", "train_loss_epoch")):
            return ["0.5", "0.5", "0.5", "0.25"]
        return ORDINARY_VALUES if ordinary else ORDINARY_VALUES + [v for v in ODD_VALUES if "," not in v]
    states = data.draw(st.lists(tqdm_state(keys, values_of, ordinary), min_size=1, max_size=12))
    lines = ["Epoch 3: validation", *states] + (["\U0001f600"] if wide else [])
    block = make_block("\n".join(lines) + "\n", 1)
    level = [key.startswith(("val_", "train_loss_epoch")) for key in keys]
    shown = tuple("0.5" if flag else None for flag in level)
    written = tuple(not flag and key != "v_num" for key, flag in zip(keys, level))
    version = keys.index("v_num") if "v_num" in keys else -1
    floor = data.draw(st.sampled_from([1, 1, 20]))
    for index in range(len(block.lines)):
        c_run, python_run = both(lightning, block, index, keys, shown, written, version, 3, floor)
        check(c_run, python_run, ordinary and index in range(1, 1 + len(states)))


@needs_native
def test_the_numbers_are_those_float_and_int_read():
    text = (" 7/10 [==>...] - ETA: 1:02 - loss: 1.0000e-04 - acc: -nan\n"
            " 8/10 [==>...] - ETA: 1:01 - loss: inf - acc: 0.5\n")
    count, consumed, last, numbers, values = keras.hot_states(make_block(text, 5), 0, ("loss", "acc"), 1)
    assert (count, consumed, last) == (2, 2, 1)
    assert numbers.tolist() == [[7, 10, 5], [8, 10, 6]]
    assert values.tobytes() == np.array([[1e-4, float("-nan")], [float("inf"), 0.5]]).tobytes()


@needs_native
def test_a_state_at_the_step_of_the_one_before_ends_the_run():
    text = "".join(f" {cur}/320 [>...] - ETA: 5s - loss: 0.5\n" for cur in (32, 64, 70, 96))
    assert keras.hot_states(make_block(text, 1), 0, ("loss",), 32)[0] == 3   # 96 samples make 3 batches, as 70
    assert keras.hot_states(make_block(text, 1), 0, ("loss",), 1)[0] == 4


@needs_native
def test_what_backspaces_left_of_a_state_on_its_line_is_read_over():
    state = " {}/320 [>...] - ETA: 5s - loss: 0.5"
    text = "\r".join([state.format(1), " 1/3", state.format(2), " 2", state.format(3), " 3/3", " 3", state.format(4)])
    block = make_block(text + "\n", 7)
    count, consumed, last, numbers, _ = keras.hot_states(block, 0, ("loss",), 1)
    assert (count, consumed, last) == (3, 6, 4)   # a second leftover in a row is left to the parser
    assert numbers[:, 2].tolist() == [7, 7, 7]
    block = make_block("\n".join([state.format(1), " 1", state.format(2)]) + "\n", 7)
    assert keras.hot_states(block, 0, ("loss",), 1)[:3] == (1, 1, 0)   # another physical line: not a leftover


@needs_native
def test_tqdm_states_stop_at_another_epoch_a_count_that_goes_back_and_a_changed_epoch_value():
    def line(epoch, n, val="0.5"):
        return f"Epoch {epoch}:  42%|\u2588\u2588  | {n}/50 [00:10<00:14, 40.1it/s, loss=0.1, val_loss={val}]\n"
    keys, shown, written = ("loss", "val_loss"), (None, "0.5"), (True, False)
    block = make_block(line(3, 5) + line(3, 6) + line(3, 4) + line(3, 7), 1)
    count, counts, values, changed = lightning.hot_states(block, 0, keys, shown, written, -1, 3, 1)
    assert (count, counts.tolist(), values.tolist(), changed.tolist()) == (2, [5, 6], [[0.1], [0.1]], [False, False])
    assert lightning.hot_states(make_block(line(3, 5) + line(4, 6), 1), 0, keys, shown, written, -1, 3, 1)[0] == 1
    changed_value = make_block(line(3, 5) + line(3, 6, "0.4"), 1)
    assert lightning.hot_states(changed_value, 0, keys, shown, written, -1, 3, 1)[0] == 1
    assert lightning.hot_states(make_block(line(3, 5), 1), 0, keys, shown, written, -1, 3, 6)[0] == 0
