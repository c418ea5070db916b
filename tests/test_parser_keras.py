"""The Keras parser: every era of Progbar and of the callbacks, on real and generated logs.

Most tests run the Keras parser alone (``keras_only``), so that what they see does not depend on the
other parsers of the chain; a few go through the whole pipeline (detection, chunking).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import FIXTURES, logs, parse_text

from logdoctor import parsers, table
from logdoctor.parsers import keras
from logdoctor.parsing import HEAD_LINES, parse_chunks
from logdoctor.sources import LineSplitter, blocks_from_chunks, read_chunks

KERAS_LOGS = logs("keras") + logs("keras-generated")


# -- harness -------------------------------------------------------------------------------------

def keras_only(source: Path | str | bytes, chunk: int | None = None):
    """The Keras parser's table for a file (or raw text), and the physical lines it did not know."""
    if isinstance(source, Path):
        data = source.read_bytes()
    else:
        data = source.encode() if isinstance(source, str) else source
    chunks = [data] if chunk is None else [data[i:i + chunk] for i in range(0, len(data), chunk)]
    state = keras.start()
    batches = []
    unknown: dict[int, int] = {}
    states: dict[int, int] = {}
    for block in blocks_from_chunks(iter(chunks)):
        batch = state.feed(block)
        batches.append(batch)
        for index in range(len(block)):
            states[block.line_of(index)] = states.get(block.line_of(index), 0) + 1
        for index in batch.unknown:
            if block.lines[index].strip():
                unknown[block.line_of(index)] = unknown.get(block.line_of(index), 0) + 1
    batches.append(state.close())
    frame = frame_of(batches)
    # A redrawn physical line is unknown only when every state drawn on it is.
    unknown_lines = sorted(line for line, count in unknown.items() if count == states[line])
    return frame, unknown_lines


def frame_of(batches: list) -> pd.DataFrame:
    """The table of a parser's batches: each has its rows as lists, or (rows read in bulk) as arrays."""
    assert all(batch.columns is None or not len(batch.rows) for batch in batches)
    parts = [table.as_arrays(batch.rows.columns if batch.columns is None else batch.columns)
             for batch in batches if len(batch)]
    return table.frame_from_arrays(table.concat_arrays(parts)) if parts else table.empty_table()


def records(frame: pd.DataFrame, columns: list[str]) -> list[list]:
    """Rows as lists, with None for missing values (pandas' NA compares to nothing)."""
    return [[None if value is pd.NA else value for value in row] for row in frame[columns].values.tolist()]


def raw_lines(path: Path) -> list[str]:
    return path.read_bytes().decode("utf-8", "replace").split("\n")


ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def last_state(raw: str) -> str:
    """What a terminal shows last for a raw physical line (the text after its last \\r)."""
    raw = ANSI.sub("", raw).rstrip("\r")
    return raw.rsplit("\r", 1)[-1].replace("\b", "")


def rows_at(frame: pd.DataFrame, line: int, phase: str | None = None) -> dict[str, float]:
    at = frame[(frame["line"] == line) & (frame["kind"] == "metric")]
    if phase is not None:
        at = at[at["phase"] == phase]
    return dict(zip(at["name"], at["value"]))


def series_name(key: str) -> tuple[str, str]:
    """An independent statement of the naming rule, for the checks over whole files."""
    phase = "val" if key.startswith("val_") else "train"
    key = key[4:] if phase == "val" else key
    return phase, {"acc": "accuracy", "learning_rate": "lr"}.get(key, key)


# -- whole fixtures: epochs, last values, nan ------------------------------------------------------

HEADER = re.compile(r"^Epoch (\d+)/\d+\r?$")
END_OF_EPOCH = re.compile(r"^\s*(?:(\d+)/\1 |-? ?\d+s - ).* - \w+: ")


def header_epochs(path: Path) -> list[int]:
    return [int(m.group(1)) for line in raw_lines(path) if (m := HEADER.match(line))]


@pytest.mark.parametrize("path", KERAS_LOGS, ids=lambda p: p.name)
def test_epochs_in_the_table_are_the_epoch_headers_of_the_file(path):
    frame, _ = keras_only(path)
    trained = frame[frame["phase"].isin(["train", "val"]) & (frame["kind"] == "metric")]
    trained = trained[trained["name"] != "lr"].sort_values("line", kind="stable")
    epochs = trained["epoch"].tolist()
    sequence = [e for i, e in enumerate(epochs) if i == 0 or e != epochs[i - 1]]
    headers = header_epochs(path)
    if not headers:
        # fit(epochs=1) prints no header: one epoch per end-of-epoch line.
        ends = [line for line in raw_lines(path) if END_OF_EPOCH.match(last_state(line))]
        assert sequence == [1] and len(ends) >= 1
    else:
        assert sequence == headers


def test_runs_in_one_file_restart_the_step_count():
    frame, _ = keras_only(FIXTURES / "keras/keras2-lstm-emotion-multirun-initial-plateau.log")
    # Three runs of "Train on 24128 samples" (batch 256) each start again at step 1 and end at 30 * 95.
    loss = frame[(frame["name"] == "loss") & (frame["phase"] == "train")]
    assert loss[loss["step"] == 1]["line"].tolist() == [557, 3504, 6451]
    assert frame[frame["phase"] == "val"].groupby("name")["step"].max().unique().tolist() == [2850]
    frame, _ = keras_only(FIXTURES / "keras-generated/keras3-tworuns-v1-pty.log")
    loss = frame[(frame["name"] == "loss") & (frame["phase"] == "val")]
    # 480 samples for training, batch 64: 8 steps per epoch, twice 3 epochs.
    assert loss["step"].tolist() == [8, 16, 24, 8, 16, 24]
    assert loss["epoch"].tolist() == [1, 2, 3, 1, 2, 3]


@pytest.mark.parametrize("path", KERAS_LOGS, ids=lambda p: p.name)
def test_last_end_of_epoch_line_values_are_in_the_table(path):
    lines = raw_lines(path)
    ends = [number for number, line in enumerate(lines, 1) if END_OF_EPOCH.match(last_state(line))]
    number = ends[-1]
    printed = re.findall(r" - (\w+): (\S+)", last_state(lines[number - 1]))
    frame, _ = keras_only(path)
    at = frame[(frame["line"] == number) & (frame["kind"] == "metric")]
    final = at[at["step"].isna() | (at["step"] == at["step"].max())]
    parsed = {(phase, name): value for phase, name, value in zip(final["phase"], final["name"], final["value"])}
    assert printed
    for key, token in printed:
        phase, name = series_name(key)
        if phase == "train" and (phase, name) not in parsed:
            phase = "test"   # an evaluate() bar after training
        assert parsed[(phase, name)] == pytest.approx(float(token), nan_ok=True), (key, token)


NON_FINITE = re.compile(r"(\w+): (-?(?:nan|inf))\b")


@pytest.mark.parametrize("path", KERAS_LOGS, ids=lambda p: p.name)
def test_every_printed_nan_or_inf_is_a_non_finite_value_at_its_line(path):
    frame, _ = keras_only(path)
    metrics = frame[frame["kind"] == "metric"]
    for number, line in enumerate(raw_lines(path), 1):
        for key, _ in NON_FINITE.findall(ANSI.sub("", line)):
            phase, name = series_name(key)
            at = metrics[(metrics["line"] == number) & (metrics["phase"] == phase) & (metrics["name"] == name)]
            assert (~at["value"].map(math.isfinite)).any(), (number, key)


def test_the_generated_divergence_keeps_every_nan():
    frame, _ = keras_only(FIXTURES / "keras-generated/keras3-nan-v1-pipe.log")
    loss = frame[(frame["name"] == "loss") & (frame["phase"] == "train")]
    finite = loss[loss["value"].map(math.isfinite)]
    # The loss grows batch after batch, then is nan for every later state of the 3 epochs.
    assert finite["value"].is_monotonic_increasing and finite["value"].iloc[-1] > 1e6
    assert loss[loss["step"] > finite["step"].max()]["value"].isna().all()
    assert loss["step"].max() == 96


# -- exact values, one era at a time -----------------------------------------------------------------

def test_keras1_verbose2_lines():
    frame, unknown = keras_only(FIXTURES / "keras/keras1-lstm-grid-verbose2-overfit.log")
    # line 7: "67s - loss: 2.4808 - acc: 0.2275 - val_loss: 2.1192 - val_acc: 0.4365"
    at = frame[frame["line"] == 7]
    assert at["epoch"].tolist() == [1, 1, 1, 1]
    assert at["step"].isna().all()   # no counts printed: the step cannot be known
    assert list(zip(at["phase"], at["name"], at["value"])) == [
        ("train", "loss", 2.4808), ("train", "accuracy", 0.2275), ("val", "loss", 2.1192), ("val", "accuracy", 0.4365)]
    # The user's own prints ("Building and compiling model ...") are left to the other parsers.
    assert unknown[:4] == [1, 2, 3, 4]


def test_keras2_samples_are_counted_in_batches():
    frame, _ = keras_only(FIXTURES / "keras/keras2-lstm-emotion-multirun-initial-plateau.log")
    # "Train on 24128 samples", first state "  256/24128": batch size 256, 95 batches an epoch.
    assert rows_at(frame, 557) == {"loss": 1.3858, "accuracy": 0.3828, "precision": 0.0, "recall": 0.0}
    assert frame[frame["line"] == 558]["step"].unique().tolist() == [2]
    assert frame[frame["line"] == 650]["step"].unique().tolist() == [94]
    end = frame[frame["line"] == 651]
    assert end["step"].unique().tolist() == [95] and end["epoch"].unique().tolist() == [1]
    assert rows_at(frame, 651, "val") == {"loss": 1.2530, "accuracy": 0.5045, "precision": 0.25, "recall": 1.0}
    # verbose=2 " - 60s - loss: …" of the first runs: epoch known, step not.
    assert rows_at(frame, 58) == {"loss": 1.2737, "accuracy": 0.4937, "precision": 0.2479, "recall": 0.9915}
    assert frame[frame["line"] == 58]["step"].isna().all()


def test_tf1_redrawn_bar_with_samples():
    frame, _ = keras_only(FIXTURES / "keras/keras2-tf1-mnist-mlp-60000-samples-plateau-cr-bs.log")
    bar = frame[frame["line"] == 41]
    loss = bar[(bar["name"] == "loss") & (bar["phase"] == "train")]
    # 80 states drawn on physical line 41, batch size 64: steps 1, 2, 12, 23, …, 938.
    assert len(loss) == 80
    assert loss["step"].tolist()[:3] == [1, 2, 12] and loss["step"].iloc[-1] == 938
    assert loss["value"].tolist()[:2] == [15.3769, 14.9709] and loss["value"].iloc[-1] == 11.0351
    assert rows_at(frame, 41, "val") == {"loss": 10.0068, "accuracy": 0.3785}
    # The file ends inside epoch 20: its last drawn state "12416/60000" is step 19 * 938 + 194.
    assert frame["step"].max() == 18016 and frame["epoch"].max() == 20


def test_tf2_redraw_with_a_repeated_final_step_gives_each_value_once():
    frame, unknown = keras_only(FIXTURES / "keras/tfkeras2-covid-cnn-progbar-cr.log")
    bar = frame[frame["line"] == 1241]
    # "10/10 … - ETA: 0s - loss: 0.6694" then "10/10 … - 27s 3s/step - loss: 0.6694 - … val_*":
    # one row per (step, series).
    assert not bar.duplicated(["step", "phase", "name"]).any()
    assert bar[bar["step"] == bar["step"].max()][["phase", "name", "value"]].values.tolist() == [
        ["train", "loss", 0.6694], ["train", "accuracy", 0.6138], ["val", "loss", 0.6703], ["val", "accuracy", 0.6111]]
    # The stubs the backspaces leave (" 2/1") and the model summaries are Keras, not unknown.
    assert 1241 not in unknown and 3 not in unknown and 1341 not in unknown
    assert 29 in unknown   # print(model.summary()) prints "None"


def test_tf2_verbose2_with_epoch_timings():
    frame, _ = keras_only(FIXTURES / "keras/tfkeras2-lstm-langmodels-verbose2-epoch-timing-mixed-text.log")
    # line 18: "128/128 - 5s - loss: 3.1494 - accuracy: 0.1463 - 5s/epoch - 43ms/step"
    assert rows_at(frame, 18) == {"loss": 3.1494, "accuracy": 0.1463}
    assert frame[frame["line"] == 18][["epoch", "step"]].values.tolist() == [[1, 128], [1, 128]]


def test_keras3_bars_callbacks_and_evaluate():
    frame, _ = keras_only(FIXTURES / "keras/keras3-cnn-unicode-bar-val-gap.log")
    # line 99: "476/477 ━━━ 0s 76ms/step - … - recall: 0.9136" with a TF log glued to the value.
    assert rows_at(frame, 99) == {"accuracy": 0.9206, "loss": 0.2660, "precision": 0.9262, "recall": 0.9136}
    assert rows_at(frame, 103, "val") == {"accuracy": 0.4327, "loss": 8.6561, "precision": 0.4327, "recall": 0.4327}
    assert rows_at(frame, 103, "train")["lr"] == 0.0010
    assert frame[frame["line"] == 103]["step"].unique().tolist() == [477]
    notes = frame[frame["kind"] == "note"]
    checkpoint = notes[notes["line"] == 102].iloc[0]
    assert (checkpoint["name"], checkpoint["epoch"], checkpoint["step"], checkpoint["value"]) == (
        "checkpoint", 1, 477, 0.43269)
    reduce = notes[notes["name"] == "reduce_lr"]
    assert reduce[["line", "epoch", "step"]].values.tolist() == [[148, 12, 5724], [194, 23, 10971], [244, 35, 16695]]
    lr = frame[(frame["name"] == "lr") & (frame["line"] == 148)]
    assert lr["value"].tolist() == [0.0005000000237487257]
    restore = notes[notes["line"] == 266].iloc[0]
    assert (restore["name"], restore["value"], restore["epoch"]) == ("early_stopping", 37.0, 40)
    # "7/7 ━━━ 0s 23ms/step - accuracy: 0.9808 - …" after training: evaluate.
    test = frame[frame["phase"] == "test"]
    assert test["line"].unique().tolist() == [274]
    assert dict(zip(test["name"], test["value"])) == {"accuracy": 0.9808, "loss": 0.0785, "precision": 0.9808,
                                                       "recall": 0.9808}
    assert test[["epoch", "step"]].drop_duplicates().values.tolist() == [[40, 19080]]


def test_keras3_fit_of_one_epoch_has_no_header():
    frame, unknown = keras_only(FIXTURES / "keras/keras3-pytest-capture-ansi-bs-progbar-traceback.log")
    assert frame[["line", "epoch", "step", "name", "value"]].values.tolist() == [
        [20, 1, 1, "categorical_accuracy", 0.0312], [20, 1, 1, "loss", 2.3293],
        [20, 1, 10, "categorical_accuracy", 0.0813], [20, 1, 10, "loss", 2.3713]]
    # The rich model summaries and the predict() bars are Keras; pytest's report is not.
    assert not set(range(9, 43)) & set(unknown)
    assert 1 in unknown and 43 in unknown


def test_reduce_lr_and_early_stopping_of_keras2():
    frame, _ = keras_only(FIXTURES / "keras/keras2-rnn-steps-progbar-cr-bs.log")
    notes = frame[frame["kind"] == "note"]
    assert notes[["line", "name", "epoch", "step"]].values.tolist() == [
        [102, "reduce_lr", 8, 1688], [126, "reduce_lr", 19, 4009], [140, "reduce_lr", 25, 5275],
        [146, "reduce_lr", 27, 5697], [148, "early_stopping", 27, 5697]]
    assert notes.iloc[-1]["text"] == "Epoch 00027: early stopping"
    lr = frame[frame["name"] == "lr"]
    assert lr[["line", "step", "value"]].values.tolist() == [
        [102, 1688, 0.00010000000474974513], [126, 4009, 1.0000000474974514e-05],
        [140, 5275, 1.0000000656873453e-06], [146, 5697, 1.0000001111620805e-07]]
    # 211 states on physical line 87, one per step, the last one with val_loss.
    epoch1 = frame[frame["line"] == 87]
    assert epoch1[epoch1["phase"] == "train"]["step"].tolist() == list(range(1, 212))
    assert rows_at(frame, 87, "val") == {"loss": 5.2221}


def test_terminate_on_nan_glued_to_the_bar():
    frame, _ = keras_only(FIXTURES / "keras-generated/keras3-diverge-v1-pipe.log")
    # "11/32 ━━━ … - loss: 760.9978 - mae: 9.3419Batch 13: Invalid loss, terminating training"
    glued = frame[(frame["line"] == 2) & (frame["step"] == 11)]
    assert dict(zip(glued["name"], glued["value"])) == {"loss": 760.9978, "mae": 9.3419}
    note = frame[frame["kind"] == "note"].iloc[0]
    # TerminateOnNaN counts batches from 0: batch 13 is the 14th, the next state drawn.
    assert (note["line"], note["name"], note["epoch"], note["step"], note["text"]) == (
        2, "nan_terminated", 1, 14, "Batch 13: Invalid loss, terminating training")
    after = frame[frame["line"] == 3]
    assert after[["step", "phase", "name"]].values.tolist() == [
        [14, "train", "loss"], [14, "train", "mae"], [32, "train", "loss"], [32, "train", "mae"],
        [32, "val", "loss"], [32, "val", "mae"]]
    assert after["value"].iloc[0] == math.inf and after["value"].iloc[-2:].isna().all()


def test_verbose2_callbacks_speak_of_the_epoch_they_end():
    frame, unknown = keras_only(FIXTURES / "keras-generated/keras3-earlystop-v2-pipe.log")
    assert unknown == []
    notes = frame[frame["kind"] == "note"]
    assert records(notes, ["line", "name", "epoch", "step"]) == [
        [3, "checkpoint", 1, None], [9, "checkpoint", 2, 40], [15, "checkpoint", 3, 60], [21, "checkpoint", 4, 80],
        [27, "checkpoint_skipped", 5, 100], [29, "reduce_lr", 5, 100], [33, "checkpoint_skipped", 6, 120],
        [35, "reduce_lr", 6, 120], [39, "checkpoint_skipped", 7, 140], [41, "reduce_lr", 7, 140],
        [43, "early_stopping", 7, 140], [44, "early_stopping", 7, 140]]
    assert notes.iloc[-1]["value"] == 4.0   # "Restoring model weights from the end of the best epoch: 4."
    lr = frame[frame["name"] == "lr"]
    assert lr[["line", "value"]].values.tolist()[4:7] == [
        [29, 0.10000000149011612], [30, 0.2], [35, 0.05000000074505806]]


def test_generator_of_unknown_length():
    frame, unknown = keras_only(FIXTURES / "keras-generated/keras3-generator-v1-pipe.log")
    train = frame[(frame["phase"] == "train") & (frame["name"] == "loss")]
    # "      1/Unknown 0s …", …, "12/12 ━━━ …": one epoch, no header, steps 1 … 12.
    assert train["epoch"].unique().tolist() == [1]
    assert train["step"].tolist()[0] == 1 and train["step"].tolist()[-1] == 12
    assert train["value"].tolist()[-1] == 0.8542   # also on the state a UserWarning is glued to
    test = frame[frame["phase"] == "test"]
    assert dict(zip(test["name"], test["value"])) == {"accuracy": 0.5750, "loss": 0.7026}
    assert len(unknown) == 3   # the UserWarnings


# -- shapes on their own -------------------------------------------------------------------------

def test_keras0_header_tf2_unknown_target_and_keras2_verbose2():
    text = ("Epoch 0\n"
            "     12/Unknown - 3s 250ms/step - loss: 0.5000 - acc: 0.7500\n"
            "Epoch 1\n"
            " - 5s - loss: 0.4000 - acc: 0.8000 - val_loss: 0.4500 - val_acc: 0.7000\n")
    frame, unknown = keras_only(text)
    assert unknown == []
    assert records(frame, ["line", "epoch", "step", "phase", "name", "value"]) == [
        [2, 0, 12, "train", "loss", 0.5], [2, 0, 12, "train", "accuracy", 0.75],
        [4, 1, None, "train", "loss", 0.4], [4, 1, None, "train", "accuracy", 0.8],
        [4, 1, None, "val", "loss", 0.45], [4, 1, None, "val", "accuracy", 0.7]]


def test_unreadable_values_become_notes_and_arrays_do_not_hide_later_metrics():
    text = ("Epoch 1/1\n"
            "10/10 [==============================] - 1s 5ms/step - loss: 0.1234 - f1: [0.1 0.2] - val_loss: 0.3000\n")
    frame, unknown = keras_only(text)
    assert unknown == []
    assert frame[["kind", "phase", "name", "value", "text"]].values.tolist()[:2] == [
        ["metric", "train", "loss", 0.1234, ""], ["note", "train", "f1", pytest.approx(math.nan, nan_ok=True),
                                                  "unreadable value '[0.1 0.2]'"]]
    assert frame.iloc[2][["phase", "name", "value"]].tolist() == ["val", "loss", 0.3]


def test_samples_mode_learned_from_the_first_count():
    # Keras 2 fit() on arrays without validation prints no "Train on …": the first count (32) is
    # the batch size.  A first count of 1 means batches.
    text = ("Epoch 1/2\n"
            "  32/1000 [>.............................] - ETA: 5s - loss: 2.0000\n"
            "1000/1000 [==============================] - 1s 1ms/step - loss: 1.0000\n"
            "Epoch 2/2\n"
            "  32/1000 [>.............................] - ETA: 5s - loss: 0.9000\n"
            "1000/1000 [==============================] - 1s 1ms/step - loss: 0.5000\n")
    frame, _ = keras_only(text)
    assert frame["step"].tolist() == [1, 32, 33, 64]


@pytest.mark.parametrize("line", [
    "Epoch 1:  50%|█████     | 5/10 [00:01<00:01,  4.50it/s, loss=0.5, v_num=0]",
    "100%|██████████| 10/10 [00:01<00:00,  9.50it/s]",
    "{'loss': 0.5, 'learning_rate': 5e-05, 'epoch': 0.1}",
    "I0717 21:06:08.612304  9965 solver.cpp:244] Iteration 100, loss = 0.693147",
    "Validation DataLoader 0: 100%|██████████| 5/5 [00:00<00:00, 20.00it/s]",
    "epoch 3/10 loss 0.5",
    "1/2 cups of flour",
    "┏━━━┳━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━┓",
    "Trainable params: 114",
])
def test_lines_of_other_formats_are_left_unknown(line):
    frame, unknown = keras_only(line + "\n")
    assert unknown == [1] and frame.empty


# -- detection, chunking, accounting ------------------------------------------------------------

def head_of(path: Path) -> list[str]:
    lines: list[str] = []
    for block in blocks_from_chunks(read_chunks(str(path))):
        lines.extend(block.lines)
        if len(lines) >= HEAD_LINES:
            break
    return lines[:HEAD_LINES]


BAR_OR_HEADER = re.compile(r"^\s*(?:Epoch \d+/\d+|\d+/\d+ .*(?:ETA: |/step)(?:.* - \w+: \S+)?\s*$)")


@pytest.mark.parametrize("path", KERAS_LOGS, ids=lambda p: p.name)
def test_keras_heads_score_three_points_a_keras_line_and_are_detected(path):
    head = head_of(path)
    keras_lines = [line for line in head if BAR_OR_HEADER.match(line)]
    assert keras.sniff(head) >= 3 * len(keras_lines) > 0
    assert parsers.detect(head) is keras


@pytest.mark.parametrize("path", logs("caffe") + logs("lightning") + logs("hf"), ids=lambda p: p.name)
def test_other_formats_score_zero(path):
    assert keras.sniff(head_of(path)) == 0


def test_samples_are_keras_lines():
    frame, unknown = keras_only("\n".join(keras.samples) + "\n")
    assert unknown == []
    assert parsers.detect(list(keras.samples)) is keras
    assert frame[frame["name"] == "nan_terminated"]["epoch"].tolist() == [6]


@pytest.mark.parametrize("name", ["keras/keras2-rnn-steps-progbar-cr-bs.log",
                                  "keras-generated/keras3-earlystop-v1-pty.log"])
def test_any_chunking_gives_the_same_table(name):
    whole, _ = keras_only(FIXTURES / name)
    pieces, _ = keras_only(FIXTURES / name, chunk=777)
    pd.testing.assert_frame_equal(whole, pieces)


def test_a_live_redraw_line_read_in_pieces_gives_the_same_table():
    # watch hands out the states of a bar line that "\r" already closed before its newline comes.
    path = FIXTURES / "keras/keras2-rnn-steps-progbar-cr-bs.log"
    data = path.read_bytes()
    splitter, state, batches, unknown = LineSplitter(), keras.start(), [], set()
    for start in range(0, len(data), 777):
        block = splitter.feed(data[start:start + 777], partial=True)
        if block is not None:
            batch = state.feed(block)
            batches.append(batch)
            unknown |= {block.line_of(i) for i in batch.unknown if block.lines[i].strip()}
    block = splitter.close()
    if block is not None:
        batches.append(state.feed(block))
    whole, whole_unknown = keras_only(path)
    live = frame_of(batches)
    assert len(live) == 5697 + 27 + 4 + 5   # every bar state once, 27 val_loss, 4 lr, 5 notes
    pd.testing.assert_frame_equal(live, whole)
    assert unknown == set(whole_unknown)


def test_the_pipeline_detects_keras_and_accounts_for_every_line():
    result = parse_text((FIXTURES / "keras/keras2-catdog-small.log").read_bytes())
    assert result.stats.parser == "keras"
    assert (result.stats.lines, result.stats.lines_with_rows, result.stats.lines_recognised,
            result.stats.lines_unknown) == (82, 40, 42, 0)
    result = parse_chunks([(FIXTURES / "keras-generated/keras3-healthy-v1-pty.log").read_bytes()])
    assert result.stats.parser == "keras"


# Lines with values, recognised without values, unknown, for the Keras parser alone: the user's
# prints, tracebacks, TensorFlow's C++ log and `script`'s banner are the unknown ones.
ACCOUNTING = {
    "keras1-lstm-grid-verbose2-overfit.log": (329, 88),
    "keras2-catdog-small.log": (40, 0),
    "keras2-cnn-progbar-newline-updates.log": (22039, 20),
    "keras2-lstm-emotion-multirun-initial-plateau.log": (8700, 118),
    "keras2-rnn-steps-progbar-cr-bs.log": (36, 76),
    "keras2-tf1-mnist-mlp-60000-samples-plateau-cr-bs.log": (20, 23),
    "keras3-cnn-unicode-bar-val-gap.log": (126, 46),
    "keras3-pytest-capture-ansi-bs-progbar-traceback.log": (1, 171),
    "tfkeras2-covid-cnn-progbar-cr.log": (900, 27),
    "tfkeras2-lstm-langmodels-verbose2-epoch-timing-mixed-text.log": (1700, 263),
    "tfkeras24-bilstm-crf-verbose2.log": (100, 46),
}


@pytest.mark.parametrize("name", sorted(ACCOUNTING))
def test_line_accounting_of_the_real_logs(name):
    frame, unknown = keras_only(FIXTURES / "keras" / name)
    assert (frame["line"].nunique(), len(unknown)) == ACCOUNTING[name]


# -- bars read in bulk -----------------------------------------------------------------------------

# Redrawn bars with what breaks a run of plain states: padding, a step drawn again with new values, an
# unreadable value, nan and inf, a stub left by backspaces, another list of metrics, a count that goes
# back, the final state drawn first as an ETA state, evaluate() after the epoch, Keras 3 bars, samples.
EDGE_BARS = "\n".join([
    "Epoch 1/2",
    "\r".join([
        "  1/10 [>.............................] - ETA: 9s - loss: 1.0000 - acc: 0.5000",
        "  2/10 [=>............................] - ETA: 8s - loss: 0.9000 - acc: 0.5100   ",
        "  2/10 [=>............................] - ETA: 8s - loss: 0.8000 - acc: 0.5100",
        "  3/10 [==>...........................] - ETA: 7s - loss: 1.2.3 - acc: 0.5200",
        "  4/10 [===>..........................] - ETA: 6s - loss: nan - acc: 0.5300",
        "  4/1",
        "  5/10 [====>.........................] - ETA: 5s - loss: inf - acc: 0.5400 - lr: 0.1000",
        "  6/10 [=====>........................] - ETA: 4s - loss: 0.5000 - acc: 0.5500 - lr: 0.1000",
        "  3/10 [==>...........................] - ETA: 9s - loss: 0.4000 - acc: 0.5600",
        "  9/10 [=============================>] - ETA: 0s - loss: 0.3500 - acc: 0.5900",
        " 10/10 [==============================] - ETA: 0s - loss: 0.3000 - acc: 0.6000",
        " 10/10 [==============================] - 1s 100ms/step - loss: 0.3000 - acc: 0.6000 - val_loss: 0.2000",
        "  1/5 [=====>........................] - ETA: 1s - loss: 0.3000 - acc: 0.6000",
        "  2/5 [===========>..................] - ETA: 1s - loss: 0.3000 - acc: 0.6000",
        "  5/5 [==============================] - 0s 1ms/step - loss: 0.3000 - acc: 0.6000",
    ]),
    "Epoch 2/2",
    "\r".join([
        "1/3 ━━━━━━━━━━━━━━━━━━━━ 0s 5ms/step - loss: 0.1000",
        "2/3 ━━━━━━━━━━━━━━━━━━━━ 0s 5ms/step - loss: 0.0900",
        "3/3 ━━━━━━━━━━━━━━━━━━━━ 0s 5ms/step - loss: 0.0800",
        "3/3 ━━━━━━━━━━━━━━━━━━━━ 1s 5ms/step - loss: 0.0800 - val_loss: 0.0700",
    ]),
    "Train on 100 samples",
    "Epoch 1/1",
    "\r".join([
        " 32/100 [=========>....................] - ETA: 1s - loss: 0.5000",
        " 64/100 [==================>...........] - ETA: 0s - loss: 0.4000",
        " 70/100 [=====================>........] - ETA: 0s - loss: 0.3900",
        " 96/100 [============================>.] - ETA: 0s - loss: 0.3800",
        "100/100 [==============================] - 1s 10ms/sample - loss: 0.3700",
    ]),
]) + "\n"


@pytest.mark.parametrize("source", KERAS_LOGS + [EDGE_BARS, EDGE_BARS.replace("\r", "\n")],
                         ids=[p.name for p in KERAS_LOGS] + ["edge-redrawn", "edge-one-line-each"])
def test_bars_read_in_bulk_give_the_table_of_reading_them_state_by_state(source, monkeypatch):
    read = [keras_only(source), keras_only(source, chunk=333)]
    monkeypatch.setattr(keras.KerasLineParser, "_bulk", lambda self, block, index, cols: 0)
    frame, unknown = keras_only(source)
    for bulk_frame, bulk_unknown in read:
        pd.testing.assert_frame_equal(bulk_frame, frame)
        assert bulk_unknown == unknown


def test_the_edge_bars_read_as_they_are_drawn():
    frame, unknown = keras_only(EDGE_BARS)
    assert unknown == []
    first = frame[(frame["epoch"] == 1) & (frame["phase"] == "train") & frame["step"].between(1, 10)]
    assert records(first[first["name"] == "loss"], ["step", "value"])[:3] == [[1, 1.0], [2, 0.9], [2, 0.8]]
    assert first[first["kind"] == "note"]["text"].tolist() == ["unreadable value '1.2.3'"]
    samples = frame[frame["line"] == 7]
    assert samples["step"].tolist() == [1, 2, 3, 3, 4]   # 32, 64, 70, 96 and 100 samples of 32


@pytest.mark.parametrize("source", [EDGE_BARS, FIXTURES / "keras/keras2-rnn-steps-progbar-cr-bs.log"],
                         ids=["edge-redrawn", "keras2-rnn-steps-progbar-cr-bs.log"])
def test_rows_read_in_bulk_come_as_arrays_and_keep_their_order_in_the_pipeline(source, monkeypatch):
    # A redrawn bar is one physical line: the states before and after a run read in bulk share its line.
    data = source.read_bytes() if isinstance(source, Path) else source.encode()
    state = keras.start()
    assert any(state.feed(block).columns is not None for block in blocks_from_chunks(iter([data])))
    bulk = [parse_chunks([data], "keras").table, parse_chunks([data[i:i + 333] for i in range(0, len(data), 333)],
                                                              "keras").table]
    monkeypatch.setattr(keras.KerasLineParser, "_bulk", lambda self, block, index, cols: 0)
    frame = parse_chunks([data], "keras").table
    for table_read_in_bulk in bulk:
        pd.testing.assert_frame_equal(table_read_in_bulk, frame)
