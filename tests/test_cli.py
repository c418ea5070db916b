"""The command line: outputs, summaries, exit codes and one-line errors."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys

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
    (lambda d: written(d, "cut.log.gz", gzip.compress(b"Iteration 0, loss = 1\n" * 1000)[:40]), "damaged gzip data"),
])
def test_bad_inputs_are_one_line_errors_with_exit_2(tmp_path, make, message):
    path = make(tmp_path)
    result = run("parse", str(path))
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_permission_denied_is_a_one_line_error_with_exit_2(tmp_path, monkeypatch):
    path = written(tmp_path, "locked.log", b"Iteration 0, loss = 1\n")

    def refuse(*args, **kwargs):  # as root, chmod 000 does not stop open(): refuse it here
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("logdoctor.sources.open", refuse, raising=False)
    result = run("parse", str(path))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"logdoctor: {path}: permission denied"


def test_a_forced_parser_that_matches_nothing_says_so(tmp_path):
    result = run("parse", "--summary", "--parser", "keras", R02)
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"logdoctor: {R02}: --parser keras matched no line of this input "
                                     "(it looks like caffe); try --parser auto")
    assert run("diagnose", "--parser", "caffe", str(written(tmp_path, "h.log", b"hello\n"))).exit_code == 2


def test_unknown_parser_name_is_a_usage_error():
    result = run("parse", "--parser", "tensorboard", R02)
    assert result.exit_code == 2
    assert "unknown parser 'tensorboard'" in result.stderr


def test_parsers_lists_the_registry_in_detection_order():
    result = run("parsers")
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["caffe", "keras", "lightning", "hf", "plain"]


# ---------------------------------------------------------------- diagnose

R01 = str(FIXTURES / "caffe-generated" / "r01.log")
R03 = str(FIXTURES / "caffe-generated" / "r03.log")
R13 = str(FIXTURES / "caffe-generated" / "r13.log")


def test_diagnose_exit_codes_follow_fail_on():
    assert run("diagnose", "--no-plot", R01).exit_code == 0
    assert run("diagnose", "--no-plot", R02).exit_code == 1
    assert run("diagnose", "--no-plot", "--fail-on", "never", R02).exit_code == 0
    assert run("diagnose", "--no-plot", R13).exit_code == 0  # overfitting is info
    assert run("diagnose", "--no-plot", "--fail-on", "info", R13).exit_code == 1


def test_diagnose_text_names_line_step_numbers_and_advice():
    result = run("diagnose", "--no-plot", R02)
    assert "line 323" in result.stdout and "LD101 loss-explosion" in result.stdout
    assert "step 5" in result.stdout and "first nan at line 338" in result.stdout
    assert "advice: Lower the learning rate" in result.stdout
    assert result.stdout.rstrip().endswith("1 error, 0 warnings, 0 infos in 1 file")


def test_diagnose_text_has_charts_unless_no_plot():
    with_plot = run("diagnose", R02).stdout
    assert "learning rate" in with_plot and "┤" in with_plot
    assert "┤" not in run("diagnose", "--no-plot", R02).stdout
    assert "\x1b[" not in with_plot  # not a terminal: no colour codes


def test_diagnose_json_is_versioned_and_complete():
    result = run("diagnose", "--format", "json", R03, R01)
    document = json.loads(result.stdout)
    assert document["version"] == 1
    assert [f["path"] for f in document["files"]] == [R03, R01]
    first = document["files"][0]
    assert (first["parser"], first["lines"], first["unparsed_lines"]) == ("caffe", 373, 0)
    codes = [(f["code"], f["name"], f["severity"], f["line"], f["step"]) for f in first["findings"]]
    assert codes == [("LD401", "lr-policy-misconfigured", "warning", 7, None), ("LD104", "lr-nan", "error", 313, 0)]
    keys = {"code", "name", "severity", "line", "step", "epoch", "phase", "metric", "message", "advice", "evidence"}
    assert keys <= set(first["findings"][1])
    assert document["summary"] == {"errors": 1, "warnings": 1, "infos": 0}
    assert result.exit_code == 1


def test_diagnose_github_annotations():
    result = run("diagnose", "--format", "github", R02)
    line = result.stdout.strip().splitlines()[0]
    assert line.startswith(f"::error file={R02},line=323,title=LD101 loss-explosion::loss exploded")


def test_select_ignore_and_set():
    assert "LD104" not in run("diagnose", "--format", "json", "--ignore", "lr-nan", R03).stdout
    only = json.loads(run("diagnose", "--format", "json", "--select", "LD4", R03).stdout)
    assert [f["code"] for f in only["files"][0]["findings"]] == ["LD401"]
    # a threshold so high that the explosion of r02 is no longer one
    lenient = json.loads(run("diagnose", "--format", "json", "--set", "loss-explosion.factor=1000", R02).stdout)
    assert "LD101" not in [f["code"] for f in lenient["files"][0]["findings"]]


@pytest.mark.parametrize("args, message", [
    (["--select", "LD9"], "matches no rule"),
    (["--set", "loss-explosion.nope=1"], "has no threshold 'nope'"),
    (["--set", "loss-explosion.factor=high"], "takes a float"),
    (["--set", "factor=3"], "expected RULE.FIELD=VALUE"),
])
def test_bad_rule_options_are_usage_errors(args, message):
    result = run("diagnose", *args, R02)
    assert result.exit_code == 2 and message in result.stderr


def test_a_bad_file_among_good_ones_still_reports_the_good_ones_and_exits_2(tmp_path):
    result = run("diagnose", "--no-plot", str(tmp_path / "missing.log"), R01)
    assert result.exit_code == 2
    assert "no problem found" in result.stdout and "no such file" in result.stderr


def test_rules_and_explain():
    listing = run("rules").stdout.splitlines()
    assert len(listing) == 16 and listing[0].startswith("LD101  loss-explosion")
    text = run("explain", "lr-nan").stdout
    assert text.startswith("LD104 lr-nan (error)") and "Fires on:" in text and "Silent on:" in text
    assert run("explain", "LD999").exit_code == 2


def test_the_allocator_keeps_freed_memory_with_glibc_and_is_left_alone_elsewhere():
    import platform

    from logdoctor import allocator

    assert allocator.keep_freed_memory() == (platform.libc_ver()[0] == "glibc")


@pytest.mark.parametrize("args", [["--format", "json", "--no-plot"], []])
def test_diagnosing_a_healthy_log_does_not_import_pandas(args):
    # The rules run on the table in array form: pandas (a fifth of a second) only where a DataFrame is asked for.
    code = ("import sys\nfrom logdoctor.cli import main\n"
            f"try:\n    main(['diagnose', {str(FIXTURES / 'caffe-generated' / 'r01.log')!r}, *{args!r}])\n"
            "except SystemExit:\n    pass\nprint('pandas' in sys.modules, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stderr.strip().splitlines()[-1] == "False", done.stderr
    assert ('"findings"' if args else "r01.log") in done.stdout   # (the report was written)
