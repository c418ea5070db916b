"""The plain-print parser: each line shape with exact values, chatter that must stay silent, crashes, real logs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import regex

from logdoctor.model import UsageError
from logdoctor.parsers import plain
from logdoctor.parsing import parse_chunks
from logdoctor.sources import make_block
from logdoctor.table import empty_table
from tests.conftest import logs, parse_fixture, parse_text

GENERATED = logs("plain-generated")


def table_of(text: str) -> pd.DataFrame:
    """The table plain makes of ``text``; empty when it found nothing (which forced is an error)."""
    try:
        return parse_text(text, "plain").table
    except UsageError as error:
        assert "--parser plain matched no line" in str(error)
        return empty_table()


def rows(text: str) -> list[tuple]:
    """(line, epoch, step, phase, kind, name, value) of every row, NA as None."""
    t = table_of(text)
    out = []
    for r in t.itertuples(index=False):
        out.append((r.line, None if pd.isna(r.epoch) else int(r.epoch), None if pd.isna(r.step) else int(r.step),
                    r.phase, r.kind, r.name, r.value))
    return out


def same(got: list[tuple], expected: list[tuple]) -> None:
    """Rows equal, nan equal to nan."""
    assert len(got) == len(expected), got
    for g, e in zip(got, expected):
        assert g[:-1] == e[:-1], (g, e)
        assert (math.isnan(g[-1]) and math.isnan(e[-1])) or g[-1] == e[-1], (g, e)


NAN = math.nan


# -- line shapes ----------------------------------------------------------------------------------
def test_space_separated_counters_and_metrics():
    same(rows("epoch 3 step 120 loss 0.53 acc 0.81\n"),
         [(1, 3, 120, "train", "metric", "loss", 0.53), (1, 3, 120, "train", "metric", "accuracy", 0.81)])


def test_bracketed_counters_become_a_global_step():
    same(rows("Epoch [1/10], Step [100/600], Loss: 0.2231\n"
              "Epoch [1/10], Step [600/600], Loss: 0.1500\n"
              "Epoch [2/10], Step [100/600], Loss: 0.1231\n"),
         [(1, 1, 100, "train", "metric", "loss", 0.2231),
          (2, 1, 600, "train", "metric", "loss", 0.15),
          (3, 2, 700, "train", "metric", "loss", 0.1231)])


def test_iteration_with_equals_pairs():
    same(rows("iter 40: loss=1.2e+03 lr=0.1\n"),
         [(1, None, 40, "train", "metric", "loss", 1200.0), (1, None, 40, "train", "metric", "lr", 0.1)])


def test_glued_brackets_and_nan():
    same(rows("Epoch[1] Iteration[10/938] Loss: nan\n"), [(1, 1, 10, "train", "metric", "loss", NAN)])


def test_mmdetection_line():
    line = ("Epoch [1][658/742]  lr: 5.000e-05, eta: 0:01:02, time: 0.512, data_time: 0.011, "
            "loss_cls: 0.1, loss: nan\n")
    same(rows(line + line.replace("[1][658/742]", "[2][8/742]")),
         [(1, 1, 658, "train", "metric", "lr", 5e-05), (1, 1, 658, "train", "metric", "time", 0.512),
          (1, 1, 658, "train", "metric", "data_time", 0.011), (1, 1, 658, "train", "metric", "loss_cls", 0.1),
          (1, 1, 658, "train", "metric", "loss", NAN),
          (2, 2, 750, "train", "metric", "lr", 5e-05), (2, 2, 750, "train", "metric", "time", 0.512),
          (2, 2, 750, "train", "metric", "data_time", 0.011), (2, 2, 750, "train", "metric", "loss_cls", 0.1),
          (2, 2, 750, "train", "metric", "loss", NAN)])


def test_mmengine_validation_line_keeps_the_training_step():
    same(rows("Epoch(train) [1][50/743]  lr: 1.0e-02  loss: 0.5\n"
              "Epoch(val) [1][500/500]  bbox_mAP: 0.3540  bbox_mAP_50: 0.5510\n"),
         [(1, 1, 50, "train", "metric", "lr", 0.01), (1, 1, 50, "train", "metric", "loss", 0.5),
          (2, 1, 50, "val", "metric", "bbox_mAP", 0.354), (2, 1, 50, "val", "metric", "bbox_mAP_50", 0.551)])


def test_pytorch_mnist_example():
    same(rows("Train Epoch: 1 [640/60000 (1%)]\tLoss: 2.301\n"
              "\n"
              "Test set: Average loss: 0.0526, Accuracy: 9833/10000 (98%)\n"
              "Train Epoch: 2 [0/60000 (0%)]\tLoss: 0.101\n"),
         [(1, 1, 640, "train", "metric", "loss", 2.301),
          (3, 1, 640, "test", "metric", "loss", 0.0526), (3, 1, 640, "test", "metric", "accuracy", 0.9833),
          (4, 2, 60000, "train", "metric", "loss", 0.101)])


def test_no_counters_counts_metric_lines():
    same(rows("loss: nan, co: nan\nloss: 1.5, co: 0.2\n"),
         [(1, None, 1, "train", "metric", "loss", NAN), (1, None, 1, "train", "metric", "co", NAN),
          (2, None, 2, "train", "metric", "loss", 1.5), (2, None, 2, "train", "metric", "co", 0.2)])


def test_names_and_phases_are_normalised():
    got = rows("val_loss: 0.5 Val Loss: 0.4 valid_loss=0.3 validation loss 0.2 test_acc 0.9 "
               "Acc: 0.7 LR: 0.01 learning rate: 0.02 Loss/train: 0.6\n")
    assert [(phase, name, value) for *_, phase, _, name, value in got] == [
        ("val", "loss", 0.5), ("val", "loss", 0.4), ("val", "loss", 0.3), ("val", "loss", 0.2),
        ("test", "accuracy", 0.9), ("train", "accuracy", 0.7), ("train", "lr", 0.01), ("train", "lr", 0.02),
        ("train", "loss", 0.6)]


def test_line_phase_prefix():
    same(rows("Validation: loss 0.41 acc 0.88\n"),
         [(1, None, None, "val", "metric", "loss", 0.41), (1, None, None, "val", "metric", "accuracy", 0.88)])


def test_non_finite_spellings_and_percentages():
    same(rows("loss: 1.#QNAN acc: 97.5% lr: -inf grad_norm: Infinity\n"),
         [(1, None, 1, "train", "metric", "loss", NAN), (1, None, 1, "train", "metric", "accuracy", 0.975),
          (1, None, 1, "train", "metric", "lr", -math.inf), (1, None, 1, "train", "metric", "grad_norm", math.inf)])


def test_unreadable_metric_token_is_a_note():
    t = table_of("loss: 1.5.3 acc 0.5\n")
    note = t[t.kind == "note"].iloc[0]
    assert note["name"] == "loss" and note.text == "unreadable value '1.5.3'" and math.isnan(note.value)
    assert t[t.kind == "metric"].value.tolist() == [0.5]


def test_counter_restarting_each_epoch_stays_monotonic():
    t = table_of("epoch 1 step 100 loss 1.0\nepoch 1 step 200 loss 0.9\nepoch 2 step 100 loss 0.8\n"
                 "epoch 2 step 200 loss 0.7\n")
    assert t.step.tolist() == [100, 200, 300, 400]
    assert t.segment.nunique() == 1


def test_timestamps_give_seconds():
    t = table_of("2021-03-01 12:00:00,123 - mmdet - INFO - Epoch [1][50/742]\tlr: 1.000e-02, loss: 0.5\n"
                 "2021-03-01 12:00:10,623 - mmdet - INFO - Epoch [1][100/742]\tlr: 1.000e-02, loss: 0.4\n")
    assert t.seconds.tolist() == [0.0, 0.0, 10.5, 10.5]


def test_tutorial_accuracy_sentence():
    same(rows("Epoch [1/1], Step [100/100], Loss: 0.3\n"
              "Accuracy of the network on the 10000 test images: 97.5 %\n"),
         [(1, 1, 100, "train", "metric", "loss", 0.3), (2, 1, 100, "test", "metric", "accuracy", 0.975)])


def test_hyper_parameter_line_gives_only_lr():
    same(rows("lr=0.1 batch=32 dropout: 0.4\n"), [(1, None, 1, "train", "metric", "lr", 0.1)])


# -- chatter stays silent ---------------------------------------------------------------------------
@pytest.mark.parametrize("line", [
    "Loading data from /path/x_1.5",
    "Python 3.10.12",
    "torch version 2.1.0",
    "2024-03-30 16:45:40,529 - INFO - started worker 3",
    "Starting epoch 3 of 10",
    "Epoch 3/10",
    "the loss is 0.5",
    "HTTP error 404 on retry 3",
    '  "layer_norm_eps": 1e-12,',
    '  "learning_rate": 0.001,',
    "layer_norm_eps: 1e-12",
    "Model size: 109.5M parameters",
    "trainable params: 24,313,856 || all params: 3,237,063,680 || trainable%: 0.7511",
    "[2025-04-01 07:26:44,333] [INFO] [logging.py:96:log_dist] [Rank 0] DeepSpeed LR Scheduler = None",
    "Num examples = 7,204",
    "Saving checkpoint to ./ckpt/epoch_3_loss_0.53.pt",
    "    accuracy                           0.98       208",
    "   macro avg       0.97      0.97      0.97       208",
    "Learning rate : 0.010, LSTM Dim : 128, Dropout : 0.400, Batch_size : 256",
])
def test_chatter_gives_no_metric(line):
    t = table_of(line + "\n")
    assert set(t.name) <= {"lr"}
    if "Learning rate" not in line:
        assert t.empty


@pytest.mark.parametrize("line", [
    "{'loss': 0.6931, 'grad_norm': 1.2, 'learning_rate': 5e-05, 'epoch': 0.01}",
    "  5%|▌         | 10/200 [00:10<03:10,  1.00it/s, loss=0.5]",
    "Epoch 0: 100%|██████████| 938/938 [00:10<00:00, v_num=0, train_loss=0.3]",
    "938/938 [==============================] - 3s 3ms/step - loss: 0.3 - accuracy: 0.9",
    "938/938 ━━━━━━━━━━━━━━━━━━━━ 3s 3ms/step - accuracy: 0.9 - loss: 0.3",
    "I0717 21:06:08.612304  9965 solver.cpp:244] Iteration 100, loss = 0.693147",
    "│         val_loss          │    0.5    │",
    "learning_rate=0.0001,",
    "67s - loss: 2.4808 - acc: 0.2275 - val_loss: 2.1192 - val_acc: 0.4365",
    "Monitored metric val_loss = nan is not finite. Previous best value was 0.438. Signaling Trainer to stop.",
])
def test_lines_of_other_formats_are_left_to_their_parsers(line):
    batch = plain.start().feed(make_block(line + "\n", 1))
    assert batch.unknown == [0] and len(batch.rows) == 0


# -- crashes and anomalies ---------------------------------------------------------------------------
def notes(text: str) -> list[tuple[int, str, str]]:
    t = table_of(text)
    t = t[t.kind == "note"]
    return list(zip(t.line, t.name, t.text))


def test_anomaly_and_traceback():
    result = parse_text("iter 3: loss=nan\n"
                        "Traceback (most recent call last):\n"
                        '  File "train.py", line 9, in <module>\n'
                        "    loss.backward()\n"
                        "    ^^^^^^^^^^^^^^^\n"
                        "RuntimeError: Function 'LogSoftmaxBackward0' returned nan values in its 0th output.\n",
                        "plain")
    t = result.table
    assert [(r.line, r.name, r.step) for r in t[t.kind == "note"].itertuples()] == [
        (2, "crash", 3), (6, "anomaly", 3)]
    assert result.stats.lines_unknown == 0


def test_crash_lines():
    assert notes("Killed\n"
                 "/var/spool/slurmd/job42/slurm_script: line 12: 31337 Killed  python train.py\n"
                 "Segmentation fault (core dumped)\n"
                 "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n"
                 "[1]+  Killed                  python train.py\n"
                 "Killed 3 zombie workers before start\n") == [
        (1, "crash", "Killed"),
        (2, "crash", "/var/spool/slurmd/job42/slurm_script: line 12: 31337 Killed  python train.py"),
        (3, "crash", "Segmentation fault (core dumped)"),
        (4, "crash", "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"),
        (5, "crash", "[1]+  Killed                  python train.py")]


def test_ranked_and_chained_tracebacks():
    assert notes("[rank1]: Traceback (most recent call last):\n"
                 '[rank1]:   File "x.py", line 1, in <module>\n'
                 "[rank1]: ValueError: Caught ValueError in DataLoader worker process 3.\n"
                 "Original Traceback (most recent call last):\n"
                 '  File "y.py", line 2, in f\n'
                 "ValueError: Sample larger than population or is negative\n") == [
        (1, "crash", "Traceback (most recent call last):"),
        (3, "crash", "ValueError: Caught ValueError in DataLoader worker process 3."),
        (6, "crash", "ValueError: Sample larger than population or is negative")]


def test_wandb_summary_values_are_notes():
    result = parse_text("loss: 0.5\n"
                        "wandb: Run history:\n"
                        "wandb:   train/loss ▁▁▁▂▂▂▂▂▃▃▃\n"
                        "wandb: \n"
                        "wandb: Run summary:\n"
                        "wandb:     train/grad_norm nan\n"
                        "wandb:          train/loss 0.0\n"
                        "wandb: \n"
                        "wandb: Synced 5 W&B file(s)\n", "plain")
    t = result.table
    summary = t[t.name == "summary"]
    assert summary.kind.tolist() == ["note", "note"] and summary.line.tolist() == [6, 7]
    assert math.isnan(summary.value.iloc[0]) and summary.value.iloc[1] == 0.0
    assert t[t.kind == "metric"].line.tolist() == [1]
    assert result.stats.lines_unknown == 0


# -- detection ------------------------------------------------------------------------------------
def test_sniff_is_about_one_point_per_metric_line():
    assert plain.sniff(list(plain.samples)) == len(plain.samples)
    assert plain.sniff(["Loading data", "Python 3.10.12", "Epoch 1/10", "Traceback (most recent call last):"]) == 0
    assert plain.sniff(["{'loss': 0.5, 'epoch': 0.1}", "I0717 21:06:08.612304  9965 solver.cpp:244] Iteration 100, "
                        "loss = 0.69"]) == 0


def test_samples_are_parsed():
    for sample in plain.samples:
        assert (table_of(sample + "\n").kind == "metric").any(), sample


# -- the generated logs ---------------------------------------------------------------------------
@pytest.fixture(scope="module", params=GENERATED, ids=lambda p: p.name)
def generated(request):
    path = request.param
    return path, parse_fixture(f"plain-generated/{path.name}")


LOSS_VALUE = regex.compile(rb"(?:Loss: |loss=|Average loss: )(?P<v>\S+?)[,\s]")


def test_generated_logs_every_loss_is_a_row(generated):
    path, result = generated
    assert result.stats.parser == "plain"
    assert result.stats.lines_unknown == 0
    expected = []
    for i, line in enumerate(path.read_bytes().split(b"\n")):
        m = LOSS_VALUE.search(line + b"\n")
        if m:
            expected.append((i + 1, float(m.group("v"))))
    t = result.table
    loss = t[(t.name == "loss") & (t.kind == "metric")]
    assert list(loss.line) == [line for line, _ in expected]
    np.testing.assert_array_equal(loss.value.to_numpy(), np.array([v for _, v in expected]))


def test_generated_logs_in_small_chunks(generated):
    path, result = generated
    data = path.read_bytes()
    again = parse_chunks([data[i:i + 97] for i in range(0, len(data), 97)]).table
    pd.testing.assert_frame_equal(again, result.table)


def test_lr_too_high_log_values():
    t = parse_fixture("plain-generated/mnist-style-lr-too-high.log").table
    first = t[t.line == 1].iloc[0]
    assert (first.epoch, first.step, first.phase, first["name"], first.value) == (1, 0, "train", "loss", 2.362245)
    inf = t[t.line == 36].iloc[0]
    assert (inf.epoch, inf.step, inf.value) == (3, 2 * 6000 + 5760, math.inf)
    test = t[(t.line == 38) & (t.phase == "test")]
    assert test["name"].tolist() == ["loss", "accuracy"] and math.isnan(test.value.iloc[0])
    assert test.value.iloc[1] == 0.458 and test.step.tolist() == [17760, 17760]
    assert t.step.dropna().is_monotonic_increasing


def test_anomaly_log_values():
    t = parse_fixture("plain-generated/anomaly-detection-sqrt-nan.log").table
    nan_row = t[(t.line == 44) & (t.name == "loss")].iloc[0]
    assert nan_row.step == 44 and math.isnan(nan_row.value)
    assert t[(t.line == 44) & (t.name == "nll")].value.tolist() == [0.4756]
    assert [(r.line, r.name) for r in t[t.kind == "note"].itertuples()] == [(52, "crash"), (64, "anomaly")]
