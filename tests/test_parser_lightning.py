"""The PyTorch-Lightning parser, on the real logs in fixtures/lightning and the generated ones.

The parser is run alone (not chained with the others), so every row checked here is its own.
Expectations about whole files are computed independently from the raw bytes with simple regexes.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import FIXTURES, logs

from logdoctor import table
from logdoctor.parsers import caffe, lightning
from logdoctor.parsing import parse_chunks
from logdoctor.sources import blocks_from_chunks, read_chunks

REAL = logs("lightning")
GENERATED = logs("lightning-generated")
ALL = REAL + GENERATED


def run(chunks) -> tuple[pd.DataFrame, list[int]]:
    """The lightning parser's own table for some byte chunks, and the physical lines it left unknown."""
    parser = lightning.start()
    batches, unknown = [], []
    for block in blocks_from_chunks(iter(chunks)):
        batch = parser.feed(block)
        batches.append(batch)
        unknown.extend(block.line_of(i) for i in batch.unknown)
    batches.append(parser.close())
    # A batch has its rows as lists, or (rows read in bulk) as arrays.
    assert all(batch.columns is None or not len(batch.rows) for batch in batches)
    parts = [table.as_arrays(batch.rows.columns if batch.columns is None else batch.columns)
             for batch in batches if len(batch)]
    frame = table.frame_from_arrays(table.concat_arrays(parts)) if parts else table.empty_table()
    return frame.sort_values("line", kind="stable").reset_index(drop=True), unknown


def run_file(path: Path, chunk_size: int = 1 << 22):
    return run(read_chunks(str(path), chunk_size))


def run_text(text: str):
    return run([text.encode("utf-8")])


def metrics(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["kind"] == "metric"]


def series(frame: pd.DataFrame, name: str, phase: str = "train") -> pd.DataFrame:
    """The metric rows of one series, in line order."""
    rows = metrics(frame)
    return rows[(rows["phase"] == phase) & (rows["name"] == name)]


def only(frame: pd.DataFrame, **where) -> pd.Series:
    """The one row matching ``where``."""
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column].isna() if value is None else frame[column] == value
    matched = frame[mask]
    assert len(matched) == 1, f"{len(matched)} rows match {where}:\n{matched}"
    return matched.iloc[0]


# ------------------------------------------------------------------ independent readings of raw bytes

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
TQDM_EPOCH_STATE = re.compile(rb"Epoch (\d+): +(?:\d+%)?\|[^|]*\| *(\d+)/")
RICH_EPOCH_STATE = re.compile(rb"Epoch (\d+)(?:/\d+)? +\xe2[\x94\x95][\x81\xb8\xba][^\r\n]*? (\d+)/(?:\d+|--) ")


def raw_states(path: Path) -> list[tuple[int, bytes]]:
    """Every drawn state in the file with its physical line: split at newlines and carriage returns."""
    states = []
    for number, line in enumerate(path.read_bytes().split(b"\n"), 1):
        for state in ANSI.sub(b"", line).split(b"\r"):
            if state.strip():
                states.append((number, state))
    return states


def epochs_with_progress(path: Path) -> set[int]:
    """Epoch numbers of main-bar states that show at least one batch done."""
    epochs = set()
    for _, state in raw_states(path):
        for pattern in (TQDM_EPOCH_STATE, RICH_EPOCH_STATE):
            for match in pattern.finditer(state):
                if int(match.group(2)) > 0:
                    epochs.add(int(match.group(1)))
    return epochs


def last_tqdm_state(path: Path) -> tuple[int, dict[str, str]] | None:
    """The line and ``key=value`` postfix of the last tqdm main-bar state with values."""
    found = None
    for number, state in raw_states(path):
        match = re.match(rb"Epoch \d+: .*?\| *[1-9]\d*/\S+ \[[^\]]*?, [^\],]*(?:it/s|s/it), ([^\]]*)(\]?)", state)
        if match:
            parts = match.group(1).decode().split(", ")
            if not match.group(2):
                parts = parts[:-1]  # the line was cut at the terminal width
            found = number, dict(part.split("=", 1) for part in parts if "=" in part)
    return found


def expected_series(key: str) -> tuple[str, str]:
    phase = "train"
    for prefix in ("train_", "val_", "test_", "train/", "val/", "test/"):
        if key.startswith(prefix):
            phase, key = prefix[:-1].rstrip("/"), key[len(prefix):]
            break
    if key == "acc":
        key = "accuracy"
    return phase, key


def printed_number(token: str) -> float:
    token = token.strip()
    if re.fullmatch(r"-?(nan|inf)\.0*", token):
        token = token.rstrip("0").rstrip(".")
    return float(token)


# ------------------------------------------------------------------ whole files

def test_the_fixtures_are_there():
    assert len(REAL) == 10
    assert len(GENERATED) >= 10


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_epochs_in_the_table_are_the_epoch_bars_in_the_file(path):
    frame, _ = run_file(path)
    table_epochs = set(metrics(frame)["epoch"].dropna().astype(int))
    assert table_epochs == epochs_with_progress(path)


@pytest.mark.parametrize("path", [p for p in ALL if last_tqdm_state(p)], ids=lambda p: p.name)
def test_last_bar_state_values_are_the_latest_values_in_the_table(path):
    frame, _ = run_file(path)
    line, postfix = last_tqdm_state(path)
    table_metrics = metrics(frame)
    last_epoch = table_metrics["epoch"].max()
    checked = 0
    for key, token in postfix.items():
        if key == "v_num":
            continue
        phase, name_ = expected_series(key)
        series = table_metrics[(table_metrics["phase"] == phase) & (table_metrics["name"] == name_)]
        latest = series.iloc[-1]
        assert latest["value"] == pytest.approx(printed_number(token), nan_ok=True), (key, token)
        if phase == "train" and not name_.endswith("_epoch"):
            assert latest["epoch"] == last_epoch and latest["line"] == line, key
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_nan_and_inf_printed_is_a_non_finite_value_at_its_line(path):
    frame, _ = run_file(path)
    nonfinite = ~frame["value"].apply(math.isfinite)
    # A note without a value has NaN too; a note counts when its text shows the non-finite number.
    shown = (frame["kind"] == "metric") | frame["text"].str.contains(r"\b(?:nan|inf)\b", regex=True)
    nonfinite_lines = set(frame.loc[nonfinite & shown, "line"])
    nonfinite_metrics = frame[nonfinite & (frame["kind"] == "metric")]
    seen = 0
    for number, state in raw_states(path):
        bar = re.match(rb"Epoch (\d+): .*?\[[^\]]*?, (.*)", state)
        if bar:
            # A redraw at the same step may be superseded by a later state of that step: the
            # value must be kept for that epoch at this line or a later one.
            for key, token in re.findall(rb"([^\s,=]+)=(-?(?:nan|inf)\b\.?0*)", bar.group(2)):
                phase, name_ = expected_series(key.decode())
                kept = nonfinite_metrics[(nonfinite_metrics["phase"] == phase) & (nonfinite_metrics["name"] == name_)
                                         & (nonfinite_metrics["epoch"] == int(bar.group(1)))
                                         & (nonfinite_metrics["line"] >= number)]
                assert len(kept), (number, key, token)
                seen += 1
        elif re.search(rb"[=:] *-?(?:nan|inf)\b|\xe2\x94\x82 +-?(?:nan|inf) ", state):
            assert number in nonfinite_lines, (number, state)
            seen += 1
    if "nan" in path.name or "inf" in path.name:
        assert seen


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_small_chunks_give_the_same_table(path):
    whole, unknown = run_file(path)
    chunked, chunked_unknown = run_file(path, chunk_size=4096)
    pd.testing.assert_frame_equal(whole, chunked)
    assert unknown == chunked_unknown


# ------------------------------------------------------------------ exact values on real logs

def real(name: str) -> pd.DataFrame:
    return run_file(FIXTURES / "lightning" / f"{name}.log")[0]


def test_lightning_1x_running_loss_and_validation_batches_in_the_main_bar():
    frame = real("pl1x-ddp-slurm-unet-dice-zero-nolearning")
    # The 1.x bar total is 23 = 18 training + 5 validation batches; the step counts only training.
    last_of_epoch_0 = only(frame, line=60, name="loss")
    assert (last_of_epoch_0["epoch"], last_of_epoch_0["step"], last_of_epoch_0["phase"]) == (0, 18, "train")
    assert last_of_epoch_0["value"] == 0.68
    first_of_epoch_1 = metrics(frame)[metrics(frame)["epoch"] == 1].iloc[0]
    assert (first_of_epoch_1["line"], first_of_epoch_1["step"], first_of_epoch_1["value"]) == (62, 19, 0.68)
    last = metrics(frame).iloc[-1]
    assert (last["line"], last["epoch"], last["step"], last["name"], last["value"]) == (1348, 99, 1800, "loss", 0.511)
    assert len(metrics(frame)) == 1800  # one loss per training batch: 100 epochs x 18


def test_fit_stopped_glued_after_a_bar_is_a_note():
    frame = real("pl1x-ddp-slurm-unet-dice-zero-nolearning")
    note = only(frame, kind="note", name="fit_stopped")
    assert note["line"] == 1347 and note["text"] == "`Trainer.fit` stopped: `max_epochs=100` reached."
    assert (note["epoch"], note["step"]) == (99, 1800)


def test_lightning_2x_validation_values_come_from_the_epoch_end_state():
    frame = real("pl2-swinunet-tqdm-cr-validation-bars")
    val = only(frame, line=10, phase="val", name="loss")
    assert (val["epoch"], val["step"], val["value"]) == (0, 5, 0.311)
    assert only(frame, line=10, phase="val", name="ssim")["value"] == -0.000327
    # Step 5 was drawn on line 4, then again after validation on line 10: the later state is read.
    train = only(frame, line=10, step=5, phase="train", name="loss")
    assert (train["epoch"], train["step"], train["value"]) == (0, 5, 1.040)
    assert only(frame, line=4, step=4, phase="train", name="loss")["value"] == 1.120
    # Stale validation values shown during the next epoch are not new rows.
    assert len(frame[(frame["phase"] == "val") & (frame["name"] == "loss")]) == 132
    assert only(frame, line=796, phase="val", name="loss")["value"] == 0.0318


def test_slash_names_and_states_kept_by_wandb():
    frame = real("pl2-unitraj-wandb-output-40epochs")
    # wandb kept only "92/93" of every epoch; a finished epoch counts its total of 93.
    row = only(frame, line=41, name="loss_step")
    assert (row["epoch"], row["step"], row["phase"], row["value"]) == (1, 93 + 92, "train", 604.0)
    assert only(frame, line=41, phase="val", name="loss")["value"] == 671.0
    assert only(frame, line=41, name="loss_epoch")["value"] == 1.41e4


def test_cut_lines_drop_their_last_pair_and_epoch_values_are_written_when_they_change():
    frame = real("pl2-pbs-multimetric-bar-weights-only-error")
    row = only(frame, line=287, name="loss_step", phase="train")
    assert (row["epoch"], row["step"], row["value"]) == (1, 101, 0.765)
    # val_current_hard_acc_epoch is cut off the right end of line 287: only the epoch-end states show it.
    assert len(frame[(frame["name"] == "current_hard_acc_epoch") & (frame["phase"] == "val")]) == 5
    assert only(frame, line=282, phase="val", name="loss_step")["value"] == 1.630


def test_padded_negative_number_and_many_losses():
    frame = real("pl2-ddp5-nohup-multiloss-bar")
    row = only(frame, step=1222, name="total_loss")
    assert (row["line"], row["epoch"], row["value"]) == (61, 0, -0.229)
    assert only(frame, step=1222, name="intent_loss_step")["value"] == 1.0


def test_rich_bar_with_overwritten_description():
    frame = real("pl2-richprogressbar-ansi-diffusion")
    # Lines 18 and 19 are two renders of step 1 (each under another overwritten description).
    first = only(frame, line=19, name="loss_step")
    assert pd.isna(first["epoch"]) and (first["step"], first["value"]) == (1, 13240.719)
    last = only(frame, line=5856, name="loss_step")
    assert (last["epoch"], last["step"], last["value"]) == (0, 2919, 345.538)


def test_results_table_and_checkpoint_messages():
    frame = real("pl2-ddp-biot-wandb-output-warnings")
    acc = only(frame, line=285, name="accuracy")
    assert acc["phase"] == "test" and pd.isna(acc["step"]) and acc["value"] == 0.2851405739784241
    assert only(frame, line=286, name="cohen")["value"] == 0.04671570658683777
    assert list(frame.loc[frame["name"] == "checkpoint", "line"]) == [276, 278]
    assert 289 not in set(frame["line"])  # the user's dict print is left to the HuggingFace/plain readers


def test_early_stopping_messages():
    frame = real("pl2-stderr-earlystopping-messages")
    first = only(frame, line=43)
    assert (first["name"], first["phase"], first["value"]) == ("early_stopping", "val", 0.311)
    stop = only(frame, line=109)
    assert stop["name"] == "early_stopping" and stop["value"] == 0.030
    assert stop["text"].endswith("Signaling Trainer to stop.")
    assert set(frame["name"]) == {"early_stopping", "warning"}


def test_bar_without_values_with_glued_text_is_left_to_other_parsers():
    frame, unknown = run_file(FIXTURES / "lightning" / "pl2-rich-logging-handler-custom-epoch-summary-overfit.log")
    assert 28 in unknown  # "Validation: |  | 0/? [...][12/09/24 14:03:31] INFO   Epoch 0: v_recons ..."
    assert metrics(frame).empty


def test_unknown_lines_are_few_and_not_lightning():
    for path in REAL:
        frame, unknown = run_file(path)
        lines = path.read_bytes().split(b"\n")
        for number in unknown:
            text = ANSI.sub(b"", lines[number - 1])
            assert not re.match(rb"\s*(GPU available|LOCAL_RANK|Metric \S+ improved|Epoch \d+, global step)", text)
    _, unknown = run_file(FIXTURES / "lightning" / "pl2-swinunet-tqdm-cr-validation-bars.log")
    assert unknown == [1, 2, 3, 797, 798]


# ------------------------------------------------------------------ exact values on generated logs

def generated(name: str) -> pd.DataFrame:
    return run_file(FIXTURES / "lightning-generated" / f"{name}.log")[0]


@pytest.mark.parametrize("capture", ["pipe", "pty"])
def test_generated_healthy_tqdm_run(capture):
    frame = generated(f"pl2.6-tqdm-healthy-{capture}")
    train = series(frame, "loss_step", "train")
    assert list(train["step"]) == list(range(1, 49))          # 6 epochs x 8 batches
    assert list(train.groupby("epoch").size()) == [8] * 6
    val = series(frame, "loss", "val")
    assert list(val["step"]) == [8, 16, 24, 32, 40, 48] and list(val["epoch"]) == list(range(6))
    accuracy = {phase: len(series(frame, "accuracy", phase)) for phase in ("train", "val", "test")}
    # train_acc is logged per epoch only: one row per epoch, not a stale copy per step.  The
    # terminal is 120 columns wide, so the pty capture cuts it off the end of the bar.
    assert accuracy == ({"train": 6, "val": 6, "test": 1} if capture == "pipe" else {"train": 0, "val": 6, "test": 1})
    notes = frame[frame["kind"] == "note"]
    assert list(notes[notes["name"] == "checkpoint"]["epoch"]) == list(range(6))
    assert (notes["name"] == "early_stopping").sum() == 6 and (notes["name"] == "fit_stopped").sum() == 1


def test_generated_nan_run_keeps_nan_and_notes_the_non_finite_stop():
    frame = generated("pl2.6-tqdm-nan-check-finite-pipe")
    loss_step = series(frame, "loss_step")
    nan_steps = loss_step[loss_step["value"].isna()]["step"]
    assert list(nan_steps) == [5, 6, 7, 8]
    assert math.isnan(only(frame, phase="val", name="loss")["value"])
    note = only(frame, name="early_stopping_nonfinite")
    assert math.isnan(note["value"]) and note["phase"] == "val" and note["epoch"] == 0
    assert note["text"].startswith("Monitored metric val_loss = nan is not finite.")
    test_loss = only(frame, phase="test", name="loss")
    assert math.isnan(test_loss["value"])


def test_generated_inf_and_divergence_threshold():
    frame = generated("pl2.6-tqdm-inf-check-finite-pipe")
    note = only(frame, name="early_stopping_nonfinite")
    assert note["value"] == math.inf and note["epoch"] == 2
    assert math.inf in set(series(frame, "loss", "val")["value"])
    assert set(series(frame, "lr")["value"]) == {0.5, 15.0, 450.0}
    frame = generated("pl2.6-tqdm-divergence-threshold-pipe")
    note = only(frame, name="divergence_threshold")
    assert note["text"].startswith("Divergence threshold reached: val_loss = ")
    assert note["value"] > 5.0 and note["phase"] == "val"


def test_generated_lightning_1x_counts_training_batches_only():
    frame = generated("pl1.9-tqdm-healthy-pipe")
    running = series(frame, "loss")
    assert list(running["step"]) == list(range(1, 49))       # bar totals of 10 = 8 train + 2 validation
    val = series(frame, "loss", "val")
    assert list(val["step"]) == [8, 16, 24, 32, 40, 48]


@pytest.mark.parametrize("name", ["pl2.6-tqdm-midval-pipe", "pl2.6-tqdm-midval-pty", "pl1.9-tqdm-midval-pipe",
                                  "pl1.9-tqdm-midval-pty"])
def test_generated_mid_epoch_validation(name):
    # val_check_interval=0.5 on 8 batches: validation after batches 4 and 8 of each epoch; the
    # Lightning 1.x bar (total 12) also counts the validation batches, in the middle of the epoch.
    frame = generated(name)
    assert list(series(frame, "loss", "val")["step"]) == [4, 8, 12, 16, 20, 24]
    assert list(series(frame, "loss_step")["step"]) == list(range(1, 25))


@pytest.mark.parametrize("capture", ["pipe", "pty"])
def test_generated_rich_bars_with_wrapped_metrics(capture):
    frame = generated(f"pl2.6-rich-default-healthy-{capture}")
    last = metrics(frame)[metrics(frame)["step"] == 48]
    values = {(row.phase, row.name): row.value for row in last.itertuples()}
    assert set(last["epoch"]) == {5}
    assert values[("train", "loss_step")] == 0.090 and values[("val", "loss")] == 0.123
    assert values[("train", "loss_epoch")] == 0.063
    val_loss = series(frame, "loss", "val")
    val_acc = series(frame, "accuracy", "val")
    if capture == "pipe":  # Rich prints its display once, at the end
        assert list(val_loss["value"]) == [0.123] and list(val_acc["value"]) == [1.0]
        assert values[("train", "accuracy")] == 1.0
    else:
        # Each validation value once: when it changes on the display, or right after a drawn
        # validation bar (epoch 1's 0.875).  Rich's timer missed two epoch-end renders, so those
        # values first show in the next epoch.
        assert list(val_loss["value"]) == [0.438, 0.297, 0.217, 0.171, 0.141, 0.123]
        assert list(val_loss["epoch"]) == [0, 1, 2, 4, 5, 5]
        assert list(val_acc["value"]) == [0.875, 0.875, 1.0]
    test_loss = only(frame, phase="test", name="loss")
    assert test_loss["value"] == pytest.approx(0.0739, abs=1e-4)


def test_generated_plain_results_table_without_rich():
    frame = generated("pl2.6-norich-default-healthy-pipe")
    test_rows = metrics(frame)[metrics(frame)["phase"] == "test"]
    assert set(test_rows["name"]) == {"accuracy", "loss"}
    assert only(frame, phase="test", name="accuracy")["value"] == 1.0


def test_generated_rich_nan():
    frame = generated("pl2.6-rich-nan-pipe")
    assert metrics(frame)["value"].isna().any()


# ------------------------------------------------------------------ single lines

def test_postfix_names_and_values():
    frame, unknown = run_text(
        "Epoch 2:  50%|█████     | 5/10 [00:01<00:01, 4.0it/s, v_num=3, train_acc_step=0.5, lr-Adam=0.001, "
        "learning_rate=2e-5, val/acc=0.75, loss=inf.0, train_loss_step=-inf., grad=abc]\n")
    assert unknown == []
    got = {(row.phase, row.name): row.value for row in frame.itertuples() if row.kind == "metric"}
    assert got == {("train", "accuracy_step"): 0.5, ("train", "lr"): 2e-5, ("val", "accuracy"): 0.75,
                   ("train", "loss"): math.inf, ("train", "loss_step"): -math.inf}
    assert list(frame["epoch"].unique()) == [2] and list(frame["step"].unique()) == [20 + 5]
    assert list(frame[frame["name"] == "lr"]["value"]) == [0.001, 2e-5]
    note = only(frame, kind="note")
    assert note["name"] == "grad" and "abc" in note["text"]


def test_last_state_drawn_for_a_step_wins_and_identical_redraws_are_one_row():
    frame, _ = run_text(
        "\rEpoch 0:  10%|█         | 1/10 [00:00<00:09, 1.0it/s, train_loss=9.99]"
        "\rEpoch 0:  10%|█         | 1/10 [00:00<00:09, 1.0it/s, train_loss=0.900]"
        "\rEpoch 0:  10%|█         | 1/10 [00:00<00:09, 1.1it/s, train_loss=0.900]"
        "\rEpoch 0:  20%|██        | 2/10 [00:00<00:08, 1.0it/s, train_loss=0.900]"
        "\rEpoch 0:  20%|██        | 2/10 [00:00<00:08, 1.0it/s, train_loss=0.800]\n")
    assert list(zip(frame["step"], frame["value"])) == [(1, 0.9), (2, 0.8)]


def test_a_new_run_restarts_the_step_count():
    frame, _ = run_text(
        "Epoch 0: 100%|█| 4/4 [00:01<00:00, 4.0it/s, loss=1.0]\n"
        "Epoch 1: 100%|█| 4/4 [00:01<00:00, 4.0it/s, loss=0.5]\n"
        "GPU available: False, used: False\n"
        "Epoch 0:  50%|█| 2/4 [00:01<00:00, 4.0it/s, loss=2.0]\n")
    assert list(zip(frame["epoch"], frame["step"], frame["value"])) == [(0, 4, 1.0), (1, 8, 0.5), (0, 2, 2.0)]


def test_cut_tqdm_line_drops_its_last_pair():
    frame, _ = run_text("Epoch 0:  50%|█| 2/4 [00:01<00:00, 4.0it/s, train_loss=0.25, val_loss=0.3\n")
    assert list(frame["name"]) == ["loss"] and list(frame["value"]) == [0.25]


def test_sanity_check_and_other_bars_carry_no_rows():
    frame, unknown = run_text(
        "Sanity Checking DataLoader 0: 100%|██████████| 2/2 [00:00<00:00,  3.28it/s]\n"
        "Validation DataLoader 0:  50%|█████     | 1/2 [00:00<00:00, 125.79it/s]\n"
        "Training: 0it [00:00, ?it/s]\n"
        "Testing DataLoader 0: 100%|██████████| 2/2 [00:00<00:00, 159.63it/s]\n"
        "Validation ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 2/2 0:00:00 • 0:00:00 83.28it/s\n")
    assert frame.empty and unknown == []


def test_messages_become_notes_with_their_values():
    frame, unknown = run_text(
        "[rank: 0] Metric val_loss improved by 0.064 >= min_delta = 0.0. New best score: 0.247\n"
        "Stopping threshold reached: val_acc = 0.99 > 0.98. Signaling Trainer to stop.\n"
        "ValueError: The loss returned in `training_step` is nan.\n"
        "INFO:lightning.pytorch.utilities.rank_zero:`Trainer.fit` stopped: `max_steps=100` reached.\n"
        "Epoch 3, global step 400: 'val_loss' was not in top 1\n"
        "/site-packages/x.py:12: UserWarning: something\n"
        "  warnings.warn(\n")
    assert unknown == []
    assert list(frame["name"]) == ["early_stopping", "divergence_threshold", "nonfinite_loss", "fit_stopped",
                                   "checkpoint", "warning"]
    assert frame["value"].iloc[0] == 0.247 and frame["value"].iloc[1] == 0.99
    assert math.isnan(frame["value"].iloc[2]) and frame["epoch"].iloc[4] == 3


def test_lines_of_other_frameworks_are_unknown():
    lines = [
        "I0717 21:06:08.612304  9965 solver.cpp:244] Iteration 100, loss = 0.693147",
        "469/469 [==============================] - 3s 6ms/step - loss: 0.2911 - accuracy: 0.9160",
        "Epoch 1/10",
        "1875/1875 ━━━━━━━━━━━━━━━━━━━━ 3s 1ms/step - accuracy: 0.8778 - loss: 0.4329",
        "{'loss': 0.6931, 'learning_rate': 4.9e-05, 'epoch': 0.01}",
        "  5%|▌         | 10/200 [00:10<03:10,  1.00it/s]",
        " 50%|█████     | 100/200 [01:40<01:40, 1.00it/s, loss=0.5]",
    ]
    frame, unknown = run_text("\n".join(lines) + "\n")
    assert frame.empty and unknown == list(range(1, len(lines) + 1))


# ------------------------------------------------------------------ detection

def head_of(path: Path) -> list[str]:
    lines = []
    for block in blocks_from_chunks(read_chunks(str(path))):
        lines.extend(block.lines)
        if len(lines) >= 400:
            break
    return lines[:400]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_sniff_scores_lightning_heads_above_caffe_and_one_per_line(path):
    head = head_of(path)
    score = lightning.sniff(head)
    assert score > len(head) and score > caffe.sniff(head)


@pytest.mark.parametrize("path", logs("caffe") + logs("keras") + logs("hf"), ids=lambda p: p.name)
def test_sniff_is_zero_for_other_frameworks(path):
    assert lightning.sniff(head_of(path)) == 0


def test_samples_parse():
    for sample in lightning.samples:
        frame, unknown = run_text(sample + "\n")
        assert unknown == [], sample
    assert lightning.sniff(list(lightning.samples)) > len(lightning.samples) * 3


# ------------------------------------------------------------------ bars read in bulk

def tqdm_state(epoch: int, n: int, total: int | str, postfix: str = "", closed: bool = True) -> str:
    return (f"Epoch {epoch}:  {n * 100 // 50 if total != '?' else 0}%|█▏        | {n}/{total} [00:01<00:02, 3.00it/s"
            + (f", {postfix}" if postfix else "") + ("]" if closed else ""))


def validation_state(n: int) -> str:
    return f"Validation DataLoader 0:  {n * 50}%|█████     | {n}/2 [00:00<00:00, 9.00it/s]"


# A main bar with what breaks a run of plain states: no postfix yet, each step drawn twice, padding,
# an unreadable value, another process's v_num at the same step, validation bars that advance the
# main bar, epoch-level values that change, loss beside train_loss, a line cut at the terminal width,
# an unknown total, a count that goes back (a new run), a reset to 0, and a key seen for the first time.
EDGE_BARS = "\n".join([
    "\r".join([tqdm_state(0, 0, 50), tqdm_state(0, 1, 50), tqdm_state(0, 1, 50, "loss=1.00, v_num=0")]
              + [tqdm_state(0, n, 50, f"loss={1 - n / 100:.2f}, v_num=0") for n in range(2, 6) for _ in range(2)]
              + [tqdm_state(0, 6, 50, "loss=nan.0, v_num=0") + "   ", tqdm_state(0, 6, 50, "loss=1.2.3, v_num=0"),
                 tqdm_state(0, 6, 50, "loss=0.93, v_num=1"), tqdm_state(0, 7, 50, "loss=0.92, v_num=0"),
                 tqdm_state(0, 8, 50, "loss=0.91, v_num=0", closed=False)]),
    "\r" + validation_state(1) + "\x1b[A\r" + tqdm_state(0, 9, 50, "loss=0.90, v_num=0"),
    "\r" + validation_state(2) + "\x1b[A\r" + tqdm_state(0, 10, 50, "loss=0.90, v_num=0"),
    "\r".join([tqdm_state(0, n, 50, f"loss=0.8{n % 10}, v_num=0, val_loss={0.5 if n < 14 else 0.4}")
               for n in range(11, 17)]
              + [tqdm_state(0, 17, "?", "loss=0.70, v_num=0, val_loss=0.4"),
                 tqdm_state(0, 50, 50, "loss=0.70, v_num=0, val_loss=0.4, train_loss_epoch=0.75")]),
    "\r".join([tqdm_state(1, 0, 50, "loss=0.70, v_num=0, val_loss=0.4, train_loss_epoch=0.75")]
              + [tqdm_state(1, n, 50, f"loss=0.6{n}, v_num=0, train_loss=0.5{n}, val_loss=0.4, train_loss_epoch=0.75")
                 for n in (1, 2, 3, 3, 4, 2, 3, 4, 5)]
              + [tqdm_state(1, n, 50, f"loss=0.5{n}, v_num=0, train_loss=0.5{n}, new_metric=0.{n}")
                 for n in (6, 7, 8)]),
]) + "\n"


@pytest.mark.parametrize("source", ALL + [EDGE_BARS, EDGE_BARS.replace("\r", "\n")],
                         ids=[p.name for p in ALL] + ["edge-redrawn", "edge-one-line-each"])
def test_bars_read_in_bulk_give_the_table_of_reading_them_state_by_state(source, monkeypatch):
    data = source.read_bytes() if isinstance(source, Path) else source.encode("utf-8")
    read = [run([data]), run([data[i:i + 333] for i in range(0, len(data), 333)])]
    monkeypatch.setattr(lightning.LightningLineParser, "_bulk", lambda self, block, index, rows, bulk: 0)
    frame, unknown = run([data])
    for bulk_frame, bulk_unknown in read:
        pd.testing.assert_frame_equal(bulk_frame, frame)
        assert bulk_unknown == unknown


def test_the_edge_bars_read_as_they_are_drawn():
    frame, unknown = run_text(EDGE_BARS)
    assert unknown == []
    first = series(frame, "loss")
    assert first["value"].tolist()[:5] == [1.0, 0.98, 0.97, 0.96, 0.95]   # the last state of each step
    assert frame[frame["kind"] == "note"]["text"].tolist() == ["unreadable value '1.2.3' for loss"]
    # written when it changes, and again by the full bar that ends the epoch and by the end of a run
    assert series(frame, "loss", "val")["value"].tolist() == [0.5, 0.4, 0.4, 0.4]


@pytest.mark.parametrize("source", [EDGE_BARS, FIXTURES / "lightning/pl2-slurm-poyo-tqdm-cr.log"],
                         ids=["edge-redrawn", "pl2-slurm-poyo-tqdm-cr.log"])
def test_rows_read_in_bulk_come_as_arrays_and_keep_their_order_in_the_pipeline(source, monkeypatch):
    # A redrawn bar is one physical line: held states written before and after a run read in bulk share its line.
    data = source.read_bytes() if isinstance(source, Path) else source.encode()
    parser = lightning.start()
    assert any(parser.feed(block).columns is not None for block in blocks_from_chunks(iter([data])))
    bulk = [parse_chunks([data], "lightning").table,
            parse_chunks([data[i:i + 333] for i in range(0, len(data), 333)], "lightning").table]
    monkeypatch.setattr(lightning.LightningLineParser, "_bulk", lambda self, block, index, rows, bulk: 0)
    frame = parse_chunks([data], "lightning").table
    for table_read_in_bulk in bulk:
        pd.testing.assert_frame_equal(table_read_in_bulk, frame)
