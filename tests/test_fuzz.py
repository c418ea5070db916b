"""Property-based robustness: any bytes in, no exception out, every line accounted for, watch == diagnose.

CI runs the "ci" profile (a bounded number of examples); a longer local run:
    HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import os

import numpy as np
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logdoctor.cli import main
from logdoctor.engine import Analyzer, select_rules
from logdoctor.model import UsageError
from logdoctor.parsing import TableStream
from logdoctor.sources import LineSplitter, blocks_from_chunks
from tests.conftest import FIXTURES

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("long", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

RULES = select_rules()
SEEDS = [FIXTURES / p for p in (
    "caffe-generated/r02.log", "caffe-generated/r05.log", "keras/keras2-rnn-steps-progbar-cr-bs.log",
    "lightning/pl2-stderr-earlystopping-messages.log", "hf/hf-trainer-condenser-gradnorm-nan-loss-zero.log",
    "plain-generated/mnist-style-lr-too-high.log", "keras/keras3-pytest-capture-ansi-bs-progbar-traceback.log")]
SEED_LINES = [p.read_bytes().splitlines(keepends=True)[:400] for p in SEEDS]
NASTY = [b"\r", b"\x08\x08\x08", b"\x1b[3", b"1m", b"\x00", b"\xff\xfe", b"\r\n", b"nan", b"-nan", b"1.#QNAN",
         b"inf", b"1e+400", b" = ", b"loss: ", b"Iteration ", b"{'loss': ", b"Epoch 1/3", b"\xe2\x94", b"\x81"]


def physical_lines(data: bytes) -> int:
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def parse_all(chunks: list[bytes], parser: str = "auto"):
    stream = TableStream(parser, "fuzz")
    for block in blocks_from_chunks(chunks):
        stream.feed(block)
    stream.close()
    return stream.take(), stream.stats()


@st.composite
def mutated_logs(draw):
    """A real log mutated: cut, lines duplicated, shuffled, mixed with another format, noise inserted."""
    lines = list(draw(st.sampled_from(SEED_LINES)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    for _ in range(draw(st.integers(0, 6))):
        action = draw(st.sampled_from(["cut", "duplicate", "shuffle", "mix", "noise", "truncate"]))
        if not lines:
            break
        i = int(rng.integers(0, len(lines)))
        if action == "cut":
            line = lines[i]
            k = int(rng.integers(0, len(line) + 1))
            lines[i] = line[:k]
        elif action == "duplicate":
            lines[i:i] = [lines[i]] * int(rng.integers(1, 4))
        elif action == "shuffle":
            j = min(len(lines), i + int(rng.integers(2, 20)))
            part = lines[i:j]
            rng.shuffle(part)
            lines[i:j] = part
        elif action == "mix":
            other = SEED_LINES[int(rng.integers(0, len(SEED_LINES)))]
            k = int(rng.integers(0, len(other)))
            lines[i:i] = other[k:k + int(rng.integers(1, 30))]
        elif action == "noise":
            line = lines[i]
            k = int(rng.integers(0, len(line) + 1))
            lines[i] = line[:k] + NASTY[int(rng.integers(0, len(NASTY)))] + line[k:]
        else:
            lines = lines[:i]
    return b"".join(lines)


def cuts_of(data: bytes, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    points = sorted(set(rng.integers(0, len(data) + 1, int(rng.integers(0, 12))).tolist()))
    return [data[a:b] for a, b in zip([0] + points, points + [len(data)])]


@given(st.binary(max_size=4000))
def test_random_bytes_never_raise_and_every_line_is_counted(data):
    try:
        frame, stats = parse_all([data])
    except UsageError:
        return
    assert stats.lines_with_rows + stats.lines_recognised + stats.lines_unknown == stats.lines
    assert stats.lines == physical_lines(data)
    assert frame["line"].between(1, max(stats.lines, 1)).all()


@given(mutated_logs())
def test_mutated_real_logs_parse_and_account(data):
    try:
        frame, stats = parse_all([data])
    except UsageError:
        return
    assert stats.lines == physical_lines(data)
    assert stats.lines_with_rows + stats.lines_recognised + stats.lines_unknown == stats.lines
    assert stats.lines_with_rows == frame["line"].nunique()


@given(mutated_logs(), st.integers(0, 2**32 - 1))
def test_watch_agrees_with_diagnose_on_mutated_logs(data, seed):
    def run(chunks, check_each):
        analyzer = Analyzer(RULES, "auto", "fuzz")
        splitter = LineSplitter()
        found = []
        for chunk in chunks:
            block = splitter.feed(chunk, partial=True)
            if block is not None:
                analyzer.feed(block)
            if check_each:
                found += analyzer.findings()
        block = splitter.close()
        if block is not None:
            analyzer.feed(block)
        return sorted((f.code, f.line, f.step) for f in found + analyzer.close())

    try:
        whole = run([data], False)
    except UsageError:
        return
    assert run(cuts_of(data, seed), True) == whole


@settings(max_examples=15)
@given(mutated_logs(), st.sampled_from(["parse", "diagnose", "watch"]))
def test_the_cli_exits_0_1_or_2_without_a_traceback(tmp_path_factory, data, command):
    path = tmp_path_factory.mktemp("fuzz") / "train.log"
    path.write_bytes(data)
    runner = CliRunner()
    if command == "watch":
        result = runner.invoke(main, ["watch", "--format", "jsonl", "-"], input=data)
    else:
        result = runner.invoke(main, [command, *(["--no-plot"] if command == "diagnose" else []), str(path)])
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in (result.stderr or "")
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1
