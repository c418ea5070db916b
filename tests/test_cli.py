"""The command line: outputs, summaries, exit codes and one-line errors."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from logdoctor.cli import main
from tests.conftest import FIXTURES

R02 = str(FIXTURES / "caffe-generated" / "r02.log")


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def test_parse_writes_the_event_table_as_csv():
    result = run("parse", R02)
    assert result.exit_code == 0
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert list(frame.columns[:9]) == ["line", "seconds", "epoch", "step", "phase", "kind", "name", "value", "text"]
    first_nan = frame[(frame.name == "loss") & frame.value.isna() & (frame.kind == "metric")].iloc[0]
    assert (first_nan.line, first_nan.step) == (338, 30)


def test_parse_jsonl_has_one_object_per_row():
    result = run("parse", "--format", "jsonl", R02)
    rows = [json.loads(line) for line in result.stdout.splitlines() if line]
    assert result.exit_code == 0
    assert rows[0]["name"] == "solver_parameters"
    assert sum(1 for r in rows if r["name"] == "lr") == 60


def test_parse_reads_stdin():
    result = run("parse", "--summary", "-", input=open(R02, "rb").read())
    assert result.exit_code == 0
    assert result.stdout.startswith("<stdin>: parser caffe")


def test_summary_accounts_for_every_line_and_counts_non_finite_values():
    result = run("parse", "--summary", R02)
    assert result.exit_code == 0
    assert "lines: 513 = 229 with values + 284 recognised without values + 0 unknown" in result.stdout
    loss = next(line for line in result.stdout.splitlines() if line.startswith("train  loss") and "#" not in line)
    assert loss.split()[2:] == ["61", "55", "0", "300"]


def test_parquet_needs_an_output_file():
    result = run("parse", "--format", "parquet", R02)
    assert result.exit_code == 2
    assert result.stderr.strip() == "logdoctor: --format parquet needs -o FILE"


def written(folder, name, content):
    path = folder / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.log", "no such file"),
    (lambda d: d, "is a directory"),
    (lambda d: written(d, "empty.log", b""), "empty input"),
    (lambda d: written(d, "blank.log", b"\n  \n"), "empty input"),
    (lambda d: written(d, "m.caffemodel", bytes(range(256)) * 64), "not a text log"),
    (lambda d: written(d, "notes.txt", b"hello\nworld\n"), "unrecognised log format"),
])
def test_bad_inputs_are_one_line_errors_with_exit_2(tmp_path, make, message):
    path = make(tmp_path)
    result = run("parse", str(path))
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_unknown_parser_name_is_a_usage_error():
    result = run("parse", "--parser", "tensorboard", R02)
    assert result.exit_code == 2
    assert "unknown parser 'tensorboard'" in result.stderr


def test_parsers_lists_the_registry_in_detection_order():
    result = run("parsers")
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["caffe", "keras", "lightning", "hf", "plain"]
