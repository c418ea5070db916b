"""The fast paths of the engine give exactly what the plain pandas / loop versions gave.

Grouping, compaction, the running medians and the candidate filters of the rules were rewritten
for speed on tables of millions of rows; each is checked here against the straightforward version
it replaced (kept below as the reference), on random inputs with ties, gaps, nan and inf.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from logdoctor import table as tables
from logdoctor.engine import Analyzer, select_rules
from logdoctor.rules.accuracy_collapse import AccuracyCollapse
from logdoctor.rules.episodes import _growth_before, _reference, _walk_back, find_explosion, first_nonfinite
from logdoctor.rules.loss_saturation import CLAMPS, FRACTIONS, LossSaturation
from logdoctor.series import (
    CHUNK,
    Run,
    Series,
    expanding_median,
    forward_filled,
    from_running_means,
    median_of_five,
    trailing_median,
)
from logdoctor.sources import blocks_from_chunks

# ---------------------------------------------------------------- the reference versions


def reference_series_codes(frame: pd.DataFrame) -> np.ndarray:
    keys = [name for name in tables.SERIES_KEY if name in ("segment", "phase", "name") or frame[name].notna().any()]
    return frame.groupby(keys, dropna=False, sort=False, observed=True).ngroup().to_numpy()


def compact(frame: pd.DataFrame, budget: int, groups=None) -> tuple[pd.DataFrame, int]:
    """The rows :func:`tables.compaction` keeps, as a frame, and the horizon."""
    kept, horizon = tables.compaction(frame, budget, groups)
    return frame[kept].reset_index(drop=True), horizon


def reference_compact(frame: pd.DataFrame, budget: int) -> tuple[pd.DataFrame, int]:
    metric = (frame["kind"] == "metric").to_numpy()
    group = reference_series_codes(frame)
    share = max(budget // max(int(group.max()) + 1 if len(group) else 1, 1), 100)
    head, tail, buckets = share // 10, share // 2, share // 5
    position = pd.Series(group).groupby(group).cumcount().to_numpy()
    size = np.bincount(group)[group]
    values = frame["value"].to_numpy()
    bad = ~np.isfinite(values)
    first_bad = np.zeros(len(frame), dtype=bool)
    if bad.any():
        rank = pd.Series(group[bad]).groupby(group[bad]).cumcount().to_numpy()
        first_bad[np.flatnonzero(bad)[rank < head]] = True
    keep = ~metric | first_bad | (position < head) | (position >= size - tail)
    middle = ~keep
    lines = frame["line"].to_numpy()
    horizon = int(lines[middle].max()) + 1 if middle.any() else 0
    if middle.any():
        span = np.maximum(size - head - tail, 1)
        bucket = (position - head) * buckets // span
        middle &= ~bad
        sub = pd.DataFrame({"g": group[middle], "b": bucket[middle], "v": values[middle], "i": np.flatnonzero(middle)})
        sub["d"] = (sub["v"] - sub.groupby(["g", "b"], sort=False)["v"].transform("median")).abs()
        nearest = sub.groupby(["g", "b"], sort=False)["d"].idxmin().to_numpy()
        keep[sub["i"].to_numpy()[nearest]] = True
    return frame[keep].reset_index(drop=True), horizon


def reference_nearest_median(values: np.ndarray, begins: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Per run, the place of the first value nearest the run's median (pandas' median)."""
    places = np.concatenate([np.arange(b, b + n) for b, n in zip(begins, sizes)])
    run = np.repeat(np.arange(len(begins)), sizes)
    runs = pd.Series(values[places], index=places)
    distance = (runs - runs.groupby(run).transform("median")).abs()
    return distance.groupby(run).idxmin().to_numpy()


def reference_explosion(series, factor, hold_factor, hold, final, nan_growth):
    """find_explosion as a loop over every value."""
    values = series.values
    finite = np.isfinite(values)
    if finite.sum() < 2 and first_nonfinite(values) is None:
        return None
    settled, settled_values = series.settled_values()
    keep = np.isfinite(settled_values)
    settled, settled_values = settled[keep], settled_values[keep]
    reference_at = _reference(settled_values, settled, len(values))
    start_level = values[finite][0] if finite.any() else np.nan
    for i in range(1, len(values)):
        if not finite[i]:
            growth = _growth_before(values, i, nan_growth)
            return None if growth is None else (growth, i)
        ref = reference_at[i]
        if not (ref > 0) or values[i] < factor * ref or values[i] < start_level:
            continue
        later = settled[settled > i][:hold]
        ends = first_nonfinite(values, i + 1)
        if ends is not None and (len(later) < hold or ends <= later[-1]):
            later = later[later < ends]
        else:
            ends = None
        held = bool(np.all(series.printed[later] >= max(hold_factor * ref, 0.5 * start_level)))
        if held and (ends is not None or len(later) == hold or (final and len(later) > 0)):
            return _walk_back(values, i, ref), i
    return None


def reference_collapse(rule, values, final):
    """AccuracyCollapse._collapse as a loop over every evaluation."""
    base = float(values[0])
    peak = np.maximum.accumulate(values)
    for i in range(2, len(values)):
        gain = peak[i - 1] - base
        if gain < rule.learnt:
            continue
        high = max(values[i - 1], values[i - 2]) >= base + 0.75 * gain
        low = values[i] <= base + 0.25 * gain
        later = values[i + 1:i + 1 + rule.hold]
        if high and low and (len(later) == rule.hold or (final and len(later) > 0)):
            if (later <= base + 0.5 * gain).all():
                return i
        same = values[i:i + rule.pinned]
        if len(same) == rule.pinned and np.ptp(same) == 0 and values[i] <= base + 0.35 * gain \
                and values[i - 1] != values[i]:
            return i
    return None


def reference_pinned(rule, values):
    """The place LossSaturation._pinned reports, as a loop over every stuck place."""
    same = np.isfinite(values[1:]) & (np.abs(values[1:] - values[:-1]) <= np.abs(values[1:]) * 1e-4)
    runs = np.convolve(same.astype(int), np.ones(rule.repeats - 1, dtype=int), mode="valid")
    for k in np.flatnonzero(runs == rule.repeats - 1):
        value = float(values[k])
        if not (values[:k] < 0.5 * value).any():
            continue
        for clamp in CLAMPS:
            fraction = value / clamp
            if any(abs(fraction - f) <= 1e-3 * f for f in FRACTIONS):
                return int(k), clamp, fraction
    return None


def reference_from_running_means(means, spans, epochs):
    """from_running_means as first written: each shifted array a copy, NaN in front."""
    previous_span = np.concatenate(([np.nan], spans[:-1]))
    previous_mean = np.concatenate(([np.nan], means[:-1]))
    same_epoch = np.concatenate(([False], (epochs[1:] == epochs[:-1]) | (np.isnan(epochs[1:]) & np.isnan(epochs[:-1]))))
    grows = same_epoch & (spans > previous_span)
    with np.errstate(invalid="ignore", divide="ignore"):
        interval = (spans * means - previous_span * previous_mean) / (spans - previous_span)
    out = np.where(grows, interval, means)
    out = np.where(grows & ~np.isfinite(interval), means, out)
    if np.nanmin(means, initial=0.0) >= 0:
        out = np.where(out < 0, means, out)
    repeat = same_epoch & (spans == previous_span)
    if repeat.any():
        out = pd.Series(np.where(repeat, np.nan, out)).ffill().to_numpy()
        out = np.where(repeat & ~np.isfinite(means), means, out)
    return out


def reference_series(frame: pd.DataFrame) -> list[dict]:
    """Each series' arrays as a pandas groupby of the metric rows gives them, in order of first row."""
    out = []
    metric = frame[frame["kind"] == "metric"]
    keys = [name for name in tables.SERIES_KEY if name in ("segment", "phase", "name") or frame[name].notna().any()]
    for _, rows in metric.groupby(keys, dropna=False, sort=False, observed=True):
        floats = {name: rows[name].to_numpy(dtype="float64", na_value=np.nan) for name in ("step", "epoch", "span")}
        printed = rows["value"].to_numpy()
        values = printed if np.isnan(floats["span"]).all() else \
            reference_from_running_means(printed, floats["span"], floats["epoch"])
        output = rows["output"].iloc[0]
        out.append({"name": rows["name"].iloc[0], "phase": rows["phase"].iloc[0], "segment": rows["segment"].iloc[0],
                    "output": None if pd.isna(output) else int(output), "rows": rows.index.to_numpy(),
                    "lines": rows["line"].to_numpy(), "steps": floats["step"], "epochs": floats["epoch"],
                    "spans": floats["span"], "printed": printed, "values": values})
    return sorted(out, key=lambda s: s["rows"][0])


def reference_clamp_hits(values: np.ndarray) -> tuple[float, np.ndarray] | None:
    """The clamp LossSaturation reports a loss sitting at, and where, as a pass over every value per clamp."""
    for clamp in CLAMPS:
        at = np.flatnonzero(np.isfinite(values) & (np.abs(values - clamp) <= clamp * 1e-4))
        if len(at) >= LossSaturation().repeats:
            return clamp, at
    return None


# ---------------------------------------------------------------- random inputs


def random_table(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    """A long table: a few metric series of very different lengths (with nan/inf), and notes."""
    names = rng.choice(["loss", "accuracy", "lr", "loss_reg", "debug.forward.top", "snapshot"], rows,
                       p=[0.4, 0.15, 0.2, 0.1, 0.1, 0.05])
    kind = np.where(names == "snapshot", "note", "metric")
    values = np.round(rng.lognormal(0, 1, rows), int(rng.integers(1, 4)))  # rounding: ties in the buckets
    values[rng.random(rows) < 0.01] = np.nan
    values[rng.random(rows) < 0.005] = np.inf
    output = [int(o) if n == "loss_reg" else None for n, o in zip(names, rng.integers(0, 2, rows))]
    layer = [str(x) if n.startswith("debug.") else None for n, x in zip(names, rng.choice(["ip1", "ip2"], rows))]
    return tables.frame_from_columns({
        "line": list(range(1, rows + 1)), "name": [str(n) for n in names], "value": values.tolist(),
        "kind": kind.tolist(), "phase": rng.choice(["train", "test"], rows, p=[0.8, 0.2]).tolist(),
        "segment": np.sort(rng.integers(0, 2, rows)).tolist(), "output": output, "layer": layer,
        "step": [int(s) if s % 7 else None for s in range(rows)], "text": [""] * rows,
    })


def random_series(rng: np.random.Generator, n: int, values: np.ndarray | None = None) -> Series:
    """A training loss of ``n`` values on lines 1..n at steps 0..n-1, as a run of a table gives it."""
    if values is None:
        values = rng.lognormal(0, 0.3, n) * np.where(rng.random(n) < 0.05, rng.choice([5.0, 30.0, 300.0], n), 1.0)
        values[rng.random(n) < 0.02] = rng.choice([np.nan, np.inf], 1)[0]
    frame = tables.frame_from_columns({"line": list(range(1, n + 1)), "step": list(range(n)), "name": ["loss"] * n,
                                       "value": values.tolist()})
    return Run(frame).loss("train")[0]


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize("seed", range(6))
def test_series_codes_number_series_as_a_pandas_groupby(seed):
    frame = random_table(np.random.default_rng(seed), 3000)
    assert np.array_equal(tables.series_codes(frame), reference_series_codes(frame))
    assert len(tables.series_codes(frame.iloc[:0])) == 0


def test_series_codes_renumber_before_the_key_number_overflows():
    rows = 1500  # every key part distinct on every row: 1501^6 x 4 does not fit in 62 bits
    frame = tables.frame_from_columns({
        "line": list(range(rows)), "segment": list(range(rows)), "name": [f"m{i}" for i in range(rows)],
        "output": list(range(rows)), "net": list(range(rows)), "layer": [f"l{i}" for i in range(rows)],
        "blob": [f"b{i}" for i in range(rows)], "phase": ["train", "val", "test"] * (rows // 3),
        "value": [1.0] * rows})
    assert np.array_equal(tables.series_codes(frame), reference_series_codes(frame))
    assert np.array_equal(tables.series_codes(frame), np.arange(rows))


@pytest.mark.parametrize("seed,budget", [(0, 300), (1, 1000), (2, 2000), (3, 5000), (4, 700), (5, 100_000)])
def test_compact_keeps_the_rows_the_pandas_version_kept(seed, budget):
    frame = random_table(np.random.default_rng(seed), 20_000)
    compacted, horizon = compact(frame, budget)
    expected, expected_horizon = reference_compact(frame, budget)
    assert horizon == expected_horizon
    pd.testing.assert_frame_equal(compacted, expected)
    groups = tables.grouping(tables.series_codes(frame))
    pd.testing.assert_frame_equal(compact(frame, budget, groups=groups)[0], expected)


@pytest.mark.parametrize("seed,budget", [(6, 300), (7, 2000), (8, 100_000)])
def test_compact_of_series_without_holes_keeps_the_rows_the_pandas_version_kept(seed, budget):
    """Every value finite and a metric: buckets without holes."""
    frame = random_table(np.random.default_rng(seed), 20_000)
    frame.loc[~np.isfinite(frame["value"]), "value"] = 1.5
    frame.loc[:, "kind"] = "metric"
    compacted, horizon = compact(frame, budget)
    expected, expected_horizon = reference_compact(frame, budget)
    assert horizon == expected_horizon
    pd.testing.assert_frame_equal(compacted, expected)


def test_series_codes_of_every_kind_of_key_column():
    """Categories, small and far-apart integers, nullable integers missing everywhere or somewhere,
    strings with None and nan: numbered as pandas groups them."""
    rng = np.random.default_rng(12)
    rows = 4000
    for trial in range(30):
        segment = rng.integers(0, 3, rows) * (10**15 if trial % 3 == 0 else 1)  # far apart: hashed
        output = rng.choice([None, 0, 1, 7], rows).tolist() if trial % 2 else [None] * rows
        layer = rng.choice(np.array([None, np.nan, "ip1", "ip2", ""], dtype=object), rows).tolist()
        frame = tables.frame_from_columns({
            "line": list(range(rows)), "segment": segment.tolist(), "output": output,
            "name": rng.choice(["loss", "lr", "accuracy"], rows).tolist(), "layer": layer,
            "phase": rng.choice(["train", "test"], rows).tolist(), "value": [1.0] * rows})
        expected = reference_series_codes(frame)
        assert np.array_equal(tables.series_codes(frame), expected)
        names = pd.Categorical(frame["name"].to_numpy(), categories=pd.Index(["lr", "loss", "accuracy", "x"],
                                                                                dtype=object))
        assert np.array_equal(tables.series_codes(frame, {"name": names}), expected)
        arrays = tables.arrays_from_frame(frame)  # the string columns as the analyzer keeps them
        assert np.array_equal(tables.series_codes(frame, {k: arrays[k] for k in tables.STRING_COLUMNS}), expected)


@pytest.mark.parametrize("at_once", [tables.VALUES_AT_ONCE, 8])  # one matrix per length, or several
def test_the_value_nearest_a_run_median_is_the_pandas_one(at_once, monkeypatch):
    monkeypatch.setattr(tables, "VALUES_AT_ONCE", at_once)
    rng = np.random.default_rng(13)
    for trial in range(300):
        sizes = rng.integers(1, 12, int(rng.integers(1, 40)))
        if trial % 3 == 0:
            sizes[:] = sizes[0]  # one length: one matrix
        gaps = rng.integers(0, 3, len(sizes)) * (trial % 2)  # runs apart (holes) or one after the other
        begins = np.cumsum(gaps + np.concatenate(([0], sizes[:-1])))
        values = rng.normal(size=int(begins[-1] + sizes[-1])) * 10.0 ** rng.integers(-3, 3)
        if trial % 4 < 2:
            values = rng.integers(0, 4, len(values)).astype(float)  # ties
        if trial % 7 == 0:
            values[rng.random(len(values)) < 0.3] = rng.choice([1.7e308, -1.7e308])  # the mean overflows
        expected = reference_nearest_median(values, begins, sizes)
        assert np.array_equal(tables._nearest_median(values, begins, sizes), expected), trial


@pytest.mark.parametrize("seed,budget", [(20, 300), (21, 2000), (22, 30_000)])
def test_compact_of_many_series_of_any_length_with_holes(seed, budget):
    """Buckets of many different lengths, and notes and nan among a series' values (holes in its buckets)."""
    rng = np.random.default_rng(seed)
    rows = 30_000
    layer = rng.choice([f"l{i}" for i in range(40)], rows, p=np.arange(1, 41) / np.arange(1, 41).sum())
    kind = rng.choice(["metric", "note"], rows, p=[0.95, 0.05])
    values = np.round(rng.lognormal(0, 1, rows), 1)
    values[rng.random(rows) < 0.05] = np.nan
    frame = tables.frame_from_columns({
        "line": list(range(1, rows + 1)), "name": ["debug.forward.top"] * rows, "layer": layer.tolist(),
        "kind": kind.tolist(), "value": values.tolist(), "text": [""] * rows})
    compacted, horizon = compact(frame, budget)
    expected, expected_horizon = reference_compact(frame, budget)
    assert horizon == expected_horizon
    pd.testing.assert_frame_equal(compacted, expected)


@pytest.mark.parametrize("big", [False, True])  # codes that fit in 16 bits are sorted another way
def test_grouping_keeps_log_order_within_a_code(big):
    codes = np.array([3, 1, 3, 0, 1, 3, 7, 0]) + (70_000 if big else 0)
    groups = tables.grouping(codes)
    assert groups.order.tolist() == [3, 7, 1, 4, 0, 2, 5, 6] and groups.starts.tolist() == [0, 2, 4, 7]
    empty = tables.grouping(codes[:0])
    assert empty.order.tolist() == [] and empty.starts.tolist() == []


def test_running_medians_are_the_pandas_ones():
    rng = np.random.default_rng(7)
    for trial in range(1500):
        n, window = int(rng.integers(0, 150)), int(rng.integers(1, 40))
        values = rng.normal(size=n) * 10.0 ** rng.integers(-5, 5, n)
        if trial % 3 == 0:
            values = rng.integers(0, 5, n).astype(float)  # ties
        if trial % 5 == 1 and n:
            values[rng.integers(0, n, 2)] = rng.choice([np.inf, -np.inf, np.nan], 2)
        expected = pd.Series(values).rolling(window, min_periods=1).median().to_numpy()
        assert np.array_equal(trailing_median(values, window), expected, equal_nan=True), (n, window)
        at = np.sort(rng.choice(n, size=min(n, int(rng.integers(0, 8))), replace=False)) if n else np.zeros(0, int)
        if trial % 4 == 0 and n:
            at = np.arange(n)  # every place: pandas' expanding median itself
        expected = pd.Series(values).expanding().median().to_numpy()[at]
        assert np.array_equal(expanding_median(values, at), expected, equal_nan=True), (n, at)


def test_running_medians_of_values_with_many_non_finite_ones_are_the_pandas_ones():
    # Diverging runs: long stretches of nan and inf, windows with no finite value at all.
    rng = np.random.default_rng(16)
    for trial in range(800):
        n, window = int(rng.integers(0, 200)), int(rng.integers(1, 33))
        values = rng.integers(0, 6, n).astype(float) * rng.choice([1.0, 0.37, -2.5])
        values[rng.random(n) < rng.random()] = rng.choice([np.nan, np.inf, -np.inf])
        if trial % 3 == 0 and n > 20:
            values[n // 3: n // 3 + window + 2] = np.nan
        expected = pd.Series(values).rolling(window, min_periods=1).median().to_numpy()
        assert trailing_median(values, window).tobytes() == expected.tobytes(), (n, window)


def test_forward_fill_is_pandas_ffill():
    rng = np.random.default_rng(15)
    for trial in range(300):
        values = rng.choice([np.nan, np.inf, -0.0, 1.5, -2.0], int(rng.integers(0, 40)))
        assert forward_filled(values).tobytes() == pd.Series(values).ffill().to_numpy().tobytes(), values


def test_the_first_medians_of_a_window_with_negative_zero_are_the_pandas_ones():
    values = np.array([-0.0, 0.0, 0.0, -0.0, 1.0, -0.0, 0.0, 2.0])
    for window in (3, 4, 5):
        expected = pd.Series(values).rolling(window, min_periods=1).median().to_numpy()
        assert trailing_median(values, window).tobytes() == expected.tobytes()


def test_the_median_of_five_by_min_and_max_is_the_sorted_middle():
    every = np.array(list(itertools.product(range(5), repeat=5)), dtype=float).T  # every order, ties too
    assert np.array_equal(median_of_five(*every), np.sort(every, axis=0)[2])
    rng = np.random.default_rng(14)
    for trial in range(300):  # windows of five take that way when no value is -0.0
        values = rng.integers(-2, 4, int(rng.integers(0, 60))).astype(float) * (1.0 if trial % 2 else 0.37)
        expected = pd.Series(values).rolling(5, min_periods=1).median().to_numpy()
        assert np.array_equal(trailing_median(values, 5), expected)


def test_odd_windows_by_pairs_are_the_sorted_medians():
    """Odd windows other than five take the median of each pair of windows from their shared values sorted
    once (no -0.0): the same numbers as pandas, ties and negative values too."""
    rng = np.random.default_rng(19)
    for trial in range(600):
        n, window = int(rng.integers(0, 120)), int(rng.choice([3, 7, 9, 15, 31]))
        values = rng.normal(size=n) * 10.0 ** rng.integers(-3, 3, n)
        if trial % 2:
            values = rng.integers(-2, 4, n).astype(float)  # ties, 0.0 but no -0.0
        expected = pd.Series(values).rolling(window, min_periods=1).median().to_numpy()
        assert trailing_median(values, window).tobytes() == expected.tobytes(), (n, window)


def test_a_long_run_is_cut_into_chunks_without_changing_the_medians():
    values = np.random.default_rng(8).random(200_000)
    for window in (5, 15, 16):
        expected = pd.Series(values).rolling(window, min_periods=1).median().to_numpy()
        assert np.array_equal(trailing_median(values, window), expected)
    for window in (5, 6, 15):  # the last chunk one window short of full, full, one over
        for n in (CHUNK + window - 2, CHUNK + window - 1, CHUNK + window, 2 * CHUNK + window - 1):
            values = np.random.default_rng(n).integers(0, 5, n).astype(float)
            expected = pd.Series(values).rolling(window, min_periods=1).median().to_numpy()
            assert np.array_equal(trailing_median(values, window), expected), (window, n)


def test_find_explosion_finds_what_the_loop_over_every_value_found():
    rng = np.random.default_rng(9)
    for trial in range(400):
        series = random_series(rng, int(rng.integers(2, 300)))
        final, factor = bool(trial % 2), float(rng.choice([3.0, 10.0]))
        episode = find_explosion(series, factor, 3.0, 3, final, 10.0)
        expected = reference_explosion(series, factor, 3.0, 3, final, 10.0)
        assert (None if episode is None else (episode.start, episode.proof)) == expected


def test_accuracy_collapse_finds_what_the_loop_over_every_evaluation_found():
    rng = np.random.default_rng(10)
    rule = AccuracyCollapse()
    for trial in range(400):
        n = int(rng.integers(3, 120))
        level = np.where(np.arange(n) < rng.integers(0, n), rng.uniform(0.6, 0.9), rng.uniform(0.05, 0.3))
        values = np.round(np.clip(level + rng.normal(0, 0.05, n), 0, 1), int(rng.integers(1, 3)))
        values[0] = round(float(rng.uniform(0, 0.3)), 2)
        final = bool(trial % 2)
        assert rule._collapse(values, final) == reference_collapse(rule, values, final)


def test_loss_saturation_pins_where_the_loop_over_every_stuck_place_pinned():
    rng = np.random.default_rng(11)
    rule = LossSaturation()
    stuck_levels = [0.75 * 16.1181, 0.5 * 87.3365, 2.0, 1.0]
    for _ in range(300):
        n = int(rng.integers(3, 80))
        values = np.round(rng.lognormal(0, 1, n), int(rng.integers(0, 3)))
        at = int(rng.integers(0, n))
        values[at:at + int(rng.integers(1, 6))] = rng.choice(stuck_levels)
        values[rng.random(n) < 0.05] = np.nan
        found = list(rule._pinned(random_series(rng, n, values)))
        expected = reference_pinned(rule, values)
        assert (found[0].line - 1 if found else None) == (None if expected is None else expected[0])
        if found:
            assert dict(found[0].values) == {"clamp": expected[1], "fraction": expected[2]}


def test_rules_on_a_table_give_the_same_findings_as_a_stream_compacted_many_times():
    """Compaction with the codes the rules worked out (the analyzer's way) changes nothing reported."""
    text = "".join(f"I0101 00:00:00.0 1 solver.cpp:218] Iteration {i * 10}, loss = "
                   f"{2.3 - 0.0004 * i if i < 3000 else (2.3 * 1.5 ** (i - 3000) if i < 3040 else float('nan'))}\n"
                   for i in range(3100))
    answers = []
    for max_rows in (10**9, 2000, 600):
        analyzer = Analyzer(select_rules(), max_rows=max_rows, piece_rows=100)
        for block in blocks_from_chunks([text.encode()]):
            analyzer.feed(block)
        analyzer.close()
        answers.append([(f.code, f.line) for f in analyzer.report().findings])
    assert answers[0] and answers[0] == answers[1] == answers[2]


def test_running_means_are_unwound_as_the_version_with_copies_did():
    rng = np.random.default_rng(15)
    for trial in range(500):
        n = int(rng.integers(0, 60))
        epochs = np.sort(rng.integers(0, 4, n)).astype(float)
        spans = np.empty(n)
        for epoch in np.unique(epochs):  # batches since the epoch began: growing, with repeats
            where = epochs == epoch
            spans[where] = np.cumsum(rng.choice([0, 1, 1, 2, 5], where.sum()))
        spans[rng.random(n) < 0.05] -= 3  # states out of order
        means = np.round(rng.lognormal(0, 1, n), int(rng.integers(0, 4)))
        if trial % 3 == 0:
            means[rng.random(n) < 0.1] *= -1
        if trial % 4 == 1:
            means[rng.random(n) < 0.1] = rng.choice([np.nan, np.inf, -np.inf])
            spans[rng.random(n) < 0.1] = np.nan
        if trial % 5 == 2:
            epochs[rng.random(n) < 0.3] = np.nan
        if trial % 7 == 3:
            spans[rng.random(n) < 0.2] = 0
        if trial % 11 == 4:
            epochs[:] = np.nan
        expected = reference_from_running_means(means, spans, epochs)
        found = from_running_means(means, spans, epochs)
        assert found.dtype == np.float64 and found.tobytes() == expected.tobytes(), trial  # to the bit (-0.0, nan)
        if n:  # what nan-at-start and sudden-nan rely on
            assert found[:1].tobytes() == means[:1].tobytes()
            assert np.isfinite(found).all() or not np.isfinite(means).all()


@pytest.mark.parametrize("seed", range(4))
def test_series_have_the_arrays_a_pandas_groupby_gives(seed):
    """Series take their rows from the grouping, notes left out, and their arrays when first asked for."""
    rng = np.random.default_rng(30 + seed)
    rows = 2000
    frame = random_table(rng, rows)
    frame.loc[rng.random(rows) < 0.03, "kind"] = "note"  # notes within series of metrics
    frame["epoch"] = pd.array([int(e) if rng.random() > 0.1 else None for e in np.sort(rng.integers(0, 5, rows))],
                              dtype="Int64")
    if seed % 2:  # running means
        frame["span"] = pd.array([int(x) if rng.random() > 0.2 else None for x in rng.integers(1, 50, rows)],
                                 dtype="Int64")
    expected = reference_series(frame)
    found = list(Run(frame).series()) + list(Run(frame).debug_series())
    found.sort(key=lambda s: s.rows[0])
    assert len(found) == len(expected)
    for series, want in zip(found, expected):
        assert (series.name, series.phase, series.segment, series.output) == \
            (want["name"], want["phase"], want["segment"], want["output"])
        for name in ("rows", "lines", "steps", "epochs", "spans", "printed", "values"):
            assert np.array_equal(getattr(series, name), want[name], equal_nan=True), name
        assert len(series) == len(want["rows"])
        for i in range(len(series)):
            assert series.line(i) == int(want["lines"][i])
            assert series.step(i) == (None if np.isnan(want["steps"][i]) else int(want["steps"][i]))
            assert series.epoch(i) == (None if np.isnan(want["epochs"][i]) else int(want["epochs"][i]))
        settled = np.flatnonzero(np.isnan(want["spans"]) | np.append(want["epochs"][1:] != want["epochs"][:-1], True))
        assert np.array_equal(series.settled(), np.arange(len(series)) if np.isnan(want["spans"]).all() else settled)


def test_one_row_and_empty_tables_have_the_series_they_should():
    one = tables.frame_from_columns({"line": [7], "name": ["loss"], "value": [float("nan")], "step": [3]})
    (series,) = Run(one).series()
    assert series.lines.tolist() == [7] and series.step(0) == 3 and series.epoch(0) is None
    assert np.isnan(series.values[0]) and series.settled().tolist() == [0]
    assert list(Run(tables.empty_table()).series()) == []
    notes = tables.frame_from_columns({"line": [1, 2], "name": ["snapshot", "snapshot"], "kind": ["note", "note"],
                                       "value": [np.nan, np.nan], "text": ["a", "b"]})
    assert list(Run(notes).series()) == []


def test_loss_saturation_finds_a_clamp_where_the_pass_over_every_value_found_it():
    rng = np.random.default_rng(16)
    rule = LossSaturation()
    for trial in range(400):
        n = int(rng.integers(1, 80))
        values = rng.lognormal(1, 1.5, n)
        at = rng.random(n) < rng.uniform(0, 0.3)
        clamp = rng.choice(CLAMPS)
        values[at] = clamp * (1 + rng.choice([0.0, 0.5e-4, -0.9e-4, 1.1e-4, 2e-4, 1e-2], at.sum()))
        values[rng.random(n) < 0.05] = rng.choice([np.nan, np.inf, -np.inf])
        found = [f for f in rule.check(Run(tables.frame_from_columns({
            "line": list(range(1, n + 1)), "name": ["loss"] * n, "value": values.tolist()}))) if "sits at" in f.message]
        expected = reference_clamp_hits(values)
        if expected is None:
            assert not found
        else:
            clamp, hits = expected
            assert len(found) == 1 and dict(found[0].values)["clamp"] == clamp
            assert found[0].line == hits[0] + 1 and dict(found[0].values)["count"] == len(hits)


def test_reference_levels_are_the_searched_ones():
    """Each value's reference is the median of the settled values before it (a binary search per value
    before; runs of one median now)."""
    rng = np.random.default_rng(17)
    for trial in range(300):
        n = int(rng.integers(0, 50))
        settled = np.flatnonzero(rng.random(n) < rng.choice([0.0, 0.2, 0.7, 1.0]))
        settled_values = rng.lognormal(0, 1, len(settled))
        medians = np.concatenate(([np.nan], trailing_median(settled_values, 5)))
        expected = medians[np.searchsorted(settled, np.arange(n), side="left")]
        assert np.array_equal(_reference(settled_values, settled, n), expected, equal_nan=True), trial


def test_first_nonfinite_is_the_first_index_of_a_nonfinite_value():
    rng = np.random.default_rng(18)
    for trial in range(300):
        values = rng.normal(size=int(rng.integers(0, 20)))
        values[rng.random(len(values)) < 0.1] = rng.choice([np.nan, np.inf, -np.inf])
        start = int(rng.integers(0, len(values) + 1))
        bad = np.flatnonzero(~np.isfinite(values[start:]))
        assert first_nonfinite(values, start) == (int(bad[0]) + start if len(bad) else None)
