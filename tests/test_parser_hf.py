"""The HuggingFace Trainer parser against real Trainer logs: independent counts, exact values, line shapes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import regex

from logdoctor.model import UsageError
from logdoctor.parsers import hf
from logdoctor.parsing import parse_chunks
from logdoctor.sources import make_block
from tests.conftest import logs, parse_fixture, parse_text

HF_LOGS = logs("hf")

# Independent counts: plain regexes over the raw bytes, nothing shared with the parsers.
LOSS_DICT = regex.compile(rb"\{'loss': ")
PLAIN_LOSS = regex.compile(rb"(?m)^loss: ")
# A value the log printed as nan: in a dict ('grad_norm': nan), in a "key: nan" print, in wandb's summary.
LOGGED_NAN = regex.compile(rb"'[\w/]+': '?[-+]?nan'?[,}]|(?<![\w'])\w+: [-+]?nan\b|^wandb:\s+\S+\s+[-+]?nan\s*$")


def raw_lines(path):
    return path.read_bytes().split(b"\n")


@pytest.fixture(scope="module", params=HF_LOGS, ids=lambda p: p.name)
def parsed(request):
    path = request.param
    return path, parse_fixture(f"hf/{path.name}")


def rows_at(table: pd.DataFrame, line: int) -> pd.DataFrame:
    return table[table.line == line]


def value(table: pd.DataFrame, line: int, name: str, phase: str = "train") -> pd.Series:
    """The one row of ``name`` at ``line``."""
    found = table[(table.line == line) & (table.name == name) & (table.phase == phase)]
    assert len(found) == 1, f"{len(found)} rows of {phase} {name} at line {line}"
    return found.iloc[0]


def check(row: pd.Series, *, step, epoch, value_, kind="metric"):
    assert row.kind == kind
    assert (pd.isna(row.step) and step is None) or row.step == step
    assert (pd.isna(row.epoch) and epoch is None) or row.epoch == epoch
    if isinstance(value_, float) and math.isnan(value_):
        assert math.isnan(row.value)
    else:
        assert row.value == value_


# -- every real HF log ---------------------------------------------------------------------
def test_hf_logs_are_detected_as_hf(parsed):
    _, result = parsed
    assert result.stats.parser == "hf"


def test_every_logged_nan_is_a_non_finite_value_at_its_line(parsed):
    path, result = parsed
    expected = {i + 1 for i, line in enumerate(raw_lines(path)) if LOGGED_NAN.search(line)}
    t = result.table
    non_finite = ~np.isfinite(t.value.to_numpy())
    metrics = set(t.loc[non_finite & (t.kind == "metric").to_numpy(), "line"])
    summaries = set(t.loc[non_finite & ((t.kind == "note") & (t.name == "summary")).to_numpy(), "line"])
    assert metrics | summaries == expected
    assert not metrics & summaries


def test_every_loss_dict_is_one_train_loss_row(parsed):
    path, result = parsed
    lines = raw_lines(path)
    dict_lines = {i + 1 for i, line in enumerate(lines) if LOSS_DICT.search(line)}
    plain_lines = {i + 1 for i, line in enumerate(lines) if PLAIN_LOSS.search(line)}
    t = result.table
    train_loss = t[(t.phase == "train") & (t.name == "loss") & (t.kind == "metric")]
    assert set(train_loss.line) == dict_lines | plain_lines
    assert len(train_loss) == len(dict_lines) + len(plain_lines)
    # an eval dict never becomes a train row, a summary never a metric
    assert not (t[(t.kind == "metric")].name == "train_loss").any()


def test_every_line_is_accounted_for(parsed):
    path, result = parsed
    s = result.stats
    data = path.read_bytes()
    assert s.lines == data.count(b"\n") + (not data.endswith(b"\n"))
    assert s.lines_with_rows + s.lines_recognised + s.lines_unknown == s.lines
    assert s.lines_with_rows == result.table.line.nunique()


def test_small_chunks_give_the_same_table(parsed):
    path, result = parsed
    data = path.read_bytes()
    chunks = [data[i:i + 777] for i in range(0, len(data), 777)]
    again = parse_chunks(chunks).table
    pd.testing.assert_frame_equal(again, result.table)


# -- exact values at chosen lines -------------------------------------------------------------
def test_condenser_grad_norm_nan_from_the_first_step():
    t = parse_fixture("hf/hf-trainer-condenser-gradnorm-nan-loss-zero.log").table
    check(value(t, 222, "loss"), step=1, epoch=0, value_=0.0)
    check(value(t, 222, "grad_norm"), step=1, epoch=0, value_=math.nan)
    check(value(t, 222, "lr"), step=1, epoch=0, value_=5.555555555555556e-07)
    assert value(t, 222, "loss").seconds == 5 * 60 + 44   # the bar's elapsed [05:44<…]
    check(value(t, 271, "grad_norm"), step=50, epoch=0, value_=math.nan)
    # wandb's run summary repeats the last values as notes, not as a training step
    check(value(t, 319, "summary"), step=None, epoch=None, value_=math.nan, kind="note")
    assert value(t, 319, "summary").text == "train/grad_norm nan"
    assert (t[(t.kind == "note") & (t.name == "crash")].line.tolist() == [272, 291, 307, 327, 354, 357, 370])


def test_llamafactory_steps_come_from_the_bar_under_interleaved_ranks():
    t = parse_fixture("hf/hf-llamafactory-sft-gradnorm-numeric-dicts.log").table
    check(value(t, 6948, "loss"), step=1, epoch=0, value_=1.5071)
    check(value(t, 6948, "grad_norm"), step=1, epoch=0, value_=7.700284481048584)
    check(value(t, 6971, "lr"), step=24, epoch=0, value_=4.849231551964771e-05)
    assert value(t, 6971, "lr").seconds == 3600 + 2 * 60 + 17   # [1:02:17<…]
    train = t[(t.name == "loss") & (t.kind == "metric")]
    assert train.step.tolist() == list(range(1, 25))
    crashes = t[(t.kind == "note") & (t.name == "crash")]
    assert (crashes.text == "TypeError: iteration over a 0-d tensor").sum() == 8   # one per rank


def test_bert_two_runs_counted_without_bars():
    t = parse_fixture("hf/hf-trainer-bert-lm-dict-logs.log").table
    check(value(t, 62, "loss"), step=1, epoch=0, value_=1.6282)
    check(value(t, 62, "lr"), step=1, epoch=0, value_=1.8562598821331036e-05)
    check(value(t, 66, "loss", "val"), step=4, epoch=1, value_=0.0012160619953647256)
    check(value(t, 66, "runtime", "val"), step=4, epoch=1, value_=16.8658)
    check(value(t, 78, "summary"), step=13, epoch=3, value_=0.1268128219462339, kind="note")
    assert value(t, 78, "summary").text.startswith("{'train_runtime': 2331.9715")
    # second run: its evals come before its first train dict, whose step starts again at 1
    check(value(t, 89, "loss", "val"), step=None, epoch=1, value_=0.1370067596435547)
    check(value(t, 89, "f1", "val"), step=None, epoch=1, value_=0.9598552923328276)
    check(value(t, 91, "loss"), step=1, epoch=2, value_=0.1373)
    assert value(t, 91, "loss").segment > value(t, 76, "loss").segment


def test_trl_string_values_and_stdout_buffered_apart_from_the_bar():
    t = parse_fixture("hf/hf-trl-sft-llama32-lora-tqdm-cr.log").table
    check(value(t, 44, "loss"), step=1, epoch=0, value_=3.412)
    check(value(t, 44, "num_tokens"), step=1, epoch=0, value_=18080.0)
    check(value(t, 44, "mean_token_accuracy"), step=1, epoch=0, value_=0.5337)
    check(value(t, 45, "loss"), step=2, epoch=0, value_=2.897)
    # the bar stood at 480/1677 when the first dicts were flushed: not their step
    assert value(t, 44, "loss").step != 480
    check(value(t, 377, "loss", "val"), step=55, epoch=1, value_=0.7417)
    check(value(t, 1049, "summary"), step=167, epoch=3, value_=0.7331, kind="note")
    train = t[(t.name == "loss") & (t.phase == "train")]
    assert train.step.is_monotonic_increasing and train.step.tolist() == list(range(1, 168))


def test_condenser_anomaly_detection_log():
    t = parse_fixture("hf/hf-trainer-condenser-anomaly-detect-nan-traceback.log").table
    check(value(t, 220, "loss"), step=1, epoch=None, value_=math.nan)
    check(value(t, 220, "co"), step=1, epoch=None, value_=math.nan)
    check(value(t, 257, "loss"), step=2, epoch=None, value_=math.nan)
    anomalies = t[(t.kind == "note") & (t.name == "anomaly")]
    assert anomalies.line.tolist() == [313, 333]
    assert anomalies.text.iloc[0] == ("RuntimeError: Function 'LogSoftmaxBackward0' returned nan values "
                                      "in its 0th output.")
    assert t[(t.kind == "note") & (t.name == "crash")].line.tolist() == [294, 314, 342, 355]


# -- line shapes ----------------------------------------------------------------------------------
def table_of(text: str) -> pd.DataFrame:
    return parse_text(text, "hf").table


def test_dict_glued_to_a_bar_takes_the_bar_step_and_time():
    t = table_of("  5%|▌         | 10/200 [00:10<03:10,  1.00it/s]"
                 "{'loss': 0.6931, 'grad_norm': 1.2, 'learning_rate': 5e-05, 'epoch': 0.01}\n")
    assert t.name.tolist() == ["loss", "grad_norm", "lr"]
    assert t.value.tolist() == [0.6931, 1.2, 5e-05]
    assert t.step.tolist() == [10, 10, 10] and t.epoch.tolist() == [0, 0, 0]
    assert t.seconds.tolist() == [10.0, 10.0, 10.0]


def test_bare_and_quoted_non_finite_values_are_kept():
    t = table_of("{'loss': nan, 'grad_norm': inf, 'learning_rate': '-inf', 'epoch': 0.5}\n"
                 "{'loss': '3.412', 'grad_norm': 'nan', 'learning_rate': np.float64(1e-05), 'epoch': '1.25'}\n")
    first, second = t[t.line == 1], t[t.line == 2]
    assert math.isnan(first.value.iloc[0]) and first.value.iloc[1] == math.inf and first.value.iloc[2] == -math.inf
    assert second.value.iloc[0] == 3.412 and math.isnan(second.value.iloc[1]) and second.value.iloc[2] == 1e-05
    assert second.epoch.tolist() == [1, 1, 1] and first.epoch.tolist() == [0, 0, 0]


def test_eval_and_test_prefixes_set_the_phase():
    t = table_of("{'loss': 0.5, 'epoch': 0.9}\n"
                 "{'eval_loss': 0.43, 'eval_accuracy': 0.81, 'eval_runtime': 16.8, 'epoch': 1.0}\n"
                 "{'test_loss': 0.45, 'test_f1': 0.7}\n")
    val = t[t.phase == "val"]
    assert val.name.tolist() == ["loss", "accuracy", "runtime"] and val.value.tolist() == [0.43, 0.81, 16.8]
    assert val.epoch.tolist() == [1, 1, 1] and val.step.tolist() == [1, 1, 1]
    test = t[t.phase == "test"]
    assert test.name.tolist() == ["loss", "f1"] and test.value.tolist() == [0.45, 0.7]


def test_summary_dict_is_one_note():
    t = table_of("{'train_runtime': 2331.97, 'train_samples_per_second': 23.863, 'train_loss': 0.1268, 'epoch': 3.0}\n")
    assert len(t) == 1
    row = t.iloc[0]
    assert (row.kind, row["name"], row.value, row.epoch) == ("note", "summary", 0.1268, 3)


def test_unreadable_value_is_a_note():
    t = table_of("{'loss': 0.5, 'grad_norm': '[String too long: 300 > 100]', 'epoch': 0.1}\n")
    note = t[t.kind == "note"].iloc[0]
    assert note["name"] == "grad_norm" and "unreadable" in note.text and math.isnan(note.value)


def test_other_dicts_are_not_metrics():
    # No row at all: with --parser hf forced, that is an error that says so.
    with pytest.raises(UsageError, match="--parser hf matched no line"):
        table_of("[2025-04-01 07:26:44,341] [INFO] [config.py:1001:print]   aio_config ... "
                 "{'block_size': 1048576, 'queue_depth': 8, 'thread_count': 1}\n"
                 "{'text': ['', ' = Valkyria Chronicles III = ']}\n")


def test_bars_are_recognised_without_rows():
    result = parse_text("  0%|          | 0/1800 [00:00<?, ?it/s]\n"
                        "Map (num_proc=4): 100%|██████████| 4358/4358 [00:00<00:00, 9000.00 examples/s]\n"
                        "{'loss': 0.7, 'epoch': 0.0}\n", "hf")
    assert result.stats.lines_recognised == 2 and result.stats.lines_unknown == 0
    assert len(result.table) == 1


def test_evaluation_bar_does_not_move_the_step():
    t = table_of("  0%|          | 0/100 [00:00<?, ?it/s]\n"
                 " 10%|█         | 10/100 [00:10<01:30,  1.00it/s]\n"
                 "{'loss': 0.7, 'epoch': 0.1}\n"
                 " 50%|█████     | 14/28 [00:01<00:01,  9.00it/s]\n"
                 "100%|██████████| 28/28 [00:03<00:00,  9.00it/s]\n"
                 "{'eval_loss': 0.8, 'epoch': 0.1}\n")
    assert t.step.tolist() == [10, 10]


def test_without_bars_steps_count_dicts_times_logging_steps():
    t = table_of("TrainingArguments(\n"
                 "logging_steps=50,\n"
                 "output_dir=out,\n"
                 ")\n"
                 "{'loss': 0.9, 'epoch': 0.1}\n"
                 "{'loss': 0.8, 'epoch': 0.2}\n"
                 "{'eval_loss': 0.85, 'epoch': 0.2}\n")
    assert t.step.tolist() == [50, 100, 100]
    plain_counted = table_of("{'loss': 0.9, 'epoch': 0.1}\n{'loss': 0.8, 'epoch': 0.2}\n")
    assert plain_counted.step.tolist() == [1, 2]


def test_dicts_in_a_burst_after_the_bar_are_counted():
    # stdout block-buffered apart from the bar on stderr: the bar is far ahead of the dicts
    t = table_of("  0%|          | 0/1000 [00:00<?, ?it/s]\n"
                 " 40%|████      | 400/1000 [04:00<06:00,  1.00it/s]\n"
                 "{'loss': 2.0, 'epoch': 0.01}\n"
                 "{'loss': 1.9, 'epoch': 0.02}\n"
                 "{'loss': 1.8, 'epoch': 0.03}\n")
    assert t.step.tolist() == [1, 2, 3]


def test_log_metrics_blocks():
    t = table_of("***** eval metrics *****\n"
                 "  epoch                   =        3.0\n"
                 "  eval_loss               =     0.4312\n"
                 "***** train metrics *****\n"
                 "  train_loss              =     0.1268\n")
    val = t[t.kind == "metric"]
    assert val.name.tolist() == ["loss"] and val.phase.tolist() == ["val"] and val.value.tolist() == [0.4312]
    note = t[t.kind == "note"].iloc[0]
    assert (note["name"], note.value, note.text) == ("summary", 0.1268, "train_loss              =     0.1268")


def test_checkpoint_note_and_new_run():
    t = table_of("[INFO|trainer.py:3000] 2024-01-01 00:00:00,000 >> Saving model checkpoint to out/checkpoint-500\n")
    assert t.name.tolist() == ["checkpoint"] and t.text.tolist() == ["out/checkpoint-500"]


def test_lines_are_fed_as_blocks_too():
    parser = hf.start()
    batch = parser.feed(make_block("hello\n{'loss': 0.5, 'epoch': 0.0}\nworld\n", 1))
    assert batch.unknown == [0, 2]
    assert batch.rows.columns["line"] == [2]


# -- detection ------------------------------------------------------------------------------------
def test_sniff_scores_dict_lines_and_nothing_else():
    assert hf.sniff(["{'loss': 0.6931, 'learning_rate': 5e-05, 'epoch': 0.01}"]) >= 3
    assert hf.sniff(["{'eval_loss': 0.5, 'epoch': 1.0}", "{'loss': 0.4, 'epoch': 1.2}"]) >= 6
    assert hf.sniff(["epoch 3 step 120 loss 0.53", "Epoch 1/10", "{'text': 'hello'}", ""]) == 0
    # the HF stack's own lines tell the format before the first dict, a little
    assert 0 < hf.sniff(["[INFO|trainer.py:2243] 2025-04-01 07:26:44,413 >> ***** Running training *****"] * 10) <= 3


def test_samples_are_parsed():
    for sample in hf.samples:
        assert len(table_of(sample + "\n")) > 0, sample
