"""The benchmark's log generator: deterministic, the requested size, and logs logdoctor reads in full.

Timing is not tested here (benchmarks are not unit tests); this only keeps the generated logs honest,
so that the numbers ``tests/bench/run.py`` prints are about realistic input.
"""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from logdoctor.cli import main
from logdoctor.parsing import parse_path

_SPEC = importlib.util.spec_from_file_location(
    "bench_generate", Path(__file__).resolve().parent / "bench" / "generate.py")
generate = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(generate)

FORMATS = generate.FORMATS
VARIANTS = generate.VARIANTS
ONE_MB = generate.MB
# What grep -E 'Iteration [0-9]+|net output #' counts; every such line but "Testing net" holds one value.
CAFFE_VALUE_LINE = re.compile(rb"Iteration [0-9]+|net output #")


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """One 1 MB log per format and variant, with what the generator says it wrote."""
    folder = tmp_path_factory.mktemp("bench")
    made = {}
    for fmt in FORMATS:
        for variant in VARIANTS:
            path = folder / f"{fmt}-{variant}.log"
            made[fmt, variant] = (path, generate.generate(fmt, variant, ONE_MB, str(path)))
    return made


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_arguments_give_the_same_bytes(tmp_path, fmt):
    size = ONE_MB // 8
    a, b, c = tmp_path / "a.log", tmp_path / "b.log", tmp_path / "c.log"
    generate.generate(fmt, "diverging", size, str(a))
    generate.generate(fmt, "diverging", size, str(b))
    generate.generate(fmt, "diverging", size, str(c), seed=7)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_the_file_has_the_requested_size_within_a_few_percent(logs, fmt, variant):
    path, info = logs[fmt, variant]
    assert path.stat().st_size == info["bytes"]
    assert abs(info["bytes"] - ONE_MB) <= 0.04 * ONE_MB


def test_caffe_every_iteration_and_output_line_is_parsed_and_none_is_unknown(logs):
    path, info = logs["caffe", "healthy"]
    data = path.read_bytes()
    matching = [line for line in data.split(b"\n") if CAFFE_VALUE_LINE.search(line)]
    value_lines = sum(1 for line in matching if b"Testing net" not in line)

    result = CliRunner().invoke(main, ["parse", "--summary", str(path)])
    assert result.exit_code == 0, result.output
    accounting = re.search(r"lines: (\d+) = (\d+) with values \+ (\d+) recognised without values \+ (\d+) unknown",
                           result.stdout)
    assert accounting, result.stdout
    lines, _, _, unknown = map(int, accounting.groups())
    assert (lines, unknown) == (info["lines"], 0)
    series = re.findall(r"^(train|test) +(\S+) +(#\d+)? +(\d+) +(\d+)", result.stdout, re.M)
    counts = {(phase, name, output): int(values) for phase, name, output, values, _ in series}
    assert sum(counts.values()) == value_lines
    displays, tests = info["displays"], info["test_passes"]
    assert counts == {("train", "loss", ""): displays + 1, ("train", "loss", "#0"): displays,
                      ("train", "lr", ""): displays, ("test", "accuracy", "#0"): tests,
                      ("test", "loss", "#1"): tests}


@pytest.mark.parametrize("fmt", FORMATS)
def test_loss_values_are_read_and_the_first_nan_is_where_the_generator_put_it(logs, fmt):
    for variant in VARIANTS:
        path, info = logs[fmt, variant]
        result = parse_path(str(path))
        assert result.stats.parser == fmt
        assert result.stats.lines_unknown == 0
        table = result.table
        loss = table[(table.kind == "metric") & (table.phase == "train") & (table.name == "loss")]
        assert len(loss) > 100
        broken = loss[loss.value.map(lambda v: not math.isfinite(v))]
        if variant == "healthy":
            assert broken.empty
            continue
        first = broken.iloc[0]
        assert (int(first.line), int(first.step)) == (info["first_nan_line"], info["first_nan_step"])
        shown = loss.loc[:first.name].iloc[:-1]
        shown = shown[shown.output.isna()].value      # Caffe: the display loss, not "Train net output #0"
        growth = generate.GROWTH_DISPLAYS
        assert shown.iloc[-1] > 100 * shown.iloc[-growth - 1]   # x10 per display before the nan
