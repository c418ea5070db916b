"""The event table in array form: strings as codes, and the analyzer's growing buffer."""

from __future__ import annotations

import os
import weakref

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logdoctor import table
from logdoctor.engine import Analyzer, select_rules
from logdoctor.sources import blocks_from_chunks


def rows(lines, names, texts=None, layers=None, steps=None):
    """Columns as a parser gives them (lists)."""
    columns = {"line": list(lines), "name": list(names), "value": [float(i) for i in range(len(lines))]}
    if texts is not None:
        columns["text"], columns["kind"] = list(texts), ["note" if t else "metric" for t in texts]
    if layers is not None:
        columns["layer"] = list(layers)
    if steps is not None:
        columns["step"] = list(steps)
    return table.as_arrays(columns)


def test_string_columns_are_codes_into_their_distinct_strings_with_the_schema_defaults():
    arrays = table.as_arrays({"line": [1, 2, 3], "name": ["loss", "lr", "loss"], "value": [1.0, 0.1, 0.9]})
    assert arrays["name"].codes.tolist() == [0, 1, 0] and arrays["name"].labels == ["loss", "lr"]
    assert arrays["text"].objects().tolist() == ["", "", ""]       # metrics carry "" as text
    assert arrays["layer"].objects().tolist() == [None, None, None]  # and no layer
    frame = table.frame_from_arrays(arrays)
    assert frame["name"].tolist() == ["loss", "lr", "loss"]
    assert frame["text"].dtype == object and frame["layer"].isna().all()


def test_a_parser_may_give_strings_as_codes_and_labels():
    arrays = table.as_arrays({"line": [1, 2], "name": (np.array([1, -1]), ["loss", "acc"]), "value": [1.0, 2.0]})
    assert table.frame_from_arrays(arrays)["name"].tolist() == ["acc", None]


def test_the_buffer_shows_every_piece_in_order_whatever_the_codes_of_their_strings():
    first = rows([1, 2], ["loss", "lr"], texts=["", ""], layers=[None, "conv1"], steps=[0, None])
    second = rows([3, 4, 5], ["acc", "loss", None], texts=["", "snapshot", ""], layers=["fc", None, None],
                  steps=[10, 10, None])
    buffer = table.TableBuffer(capacity=1)  # grows twice
    buffer.extend(first)
    buffer.extend(second)
    assert len(buffer) == 5 and buffer.capacity >= 5
    got = table.frame_from_arrays(buffer.arrays())
    expected = table.frame_from_arrays(table.concat_arrays([first, second]))
    pd.testing.assert_frame_equal(got, expected)
    assert got["name"].tolist() == ["loss", "lr", "acc", "loss", None]
    assert got["layer"].tolist() == [None, "conv1", "fc", None, None]
    assert got["step"].tolist() == [0, pd.NA, 10, 10, pd.NA]


def test_a_view_of_the_buffer_does_not_change_when_rows_come_after_it():
    buffer = table.TableBuffer(capacity=8)
    buffer.extend(rows([1, 2], ["loss", "lr"]))
    frame = table.frame_from_arrays(buffer.arrays())
    before = frame.copy()
    buffer.extend(rows([3, 4, 5], ["acc", "acc", "acc"]))      # fits: written after the view
    buffer.extend(rows(range(6, 40), ["x"] * 34))               # does not fit: the buffer moves
    pd.testing.assert_frame_equal(frame, before)
    assert len(table.frame_from_arrays(buffer.arrays())) == 39


def test_a_stream_compacted_in_the_buffer_keeps_what_compacting_the_frame_keeps(monkeypatch):
    text = "".join(f"I0101 00:00:00.0 1 solver.cpp:218] Iteration {i * 10}, loss = {2.3 - 0.0004 * i}\n"
                   f"I0101 00:00:00.0 1 solver.cpp:237]     Train net output #0: acc = {0.1 + 0.0002 * i}\n"
                   for i in range(1500))
    analyzer = Analyzer(select_rules(), max_rows=1000, piece_rows=100)
    compaction, reference = table.compaction, []

    def compaction_also_done_the_frames_way(arrays, budget, groups=None):
        kept, horizon = compaction(arrays, budget, groups)
        frame = table.frame_from_arrays(arrays)
        assert np.array_equal(compaction(frame, budget)[0], kept)   # the same rows, from a DataFrame
        reference.append(frame[kept].reset_index(drop=True))
        return kept, horizon

    monkeypatch.setattr(table, "compaction", compaction_also_done_the_frames_way)
    for block in blocks_from_chunks([text.encode()]):
        analyzer.feed(block)
        if reference:  # compacted in this feed: the buffer holds what was kept, nothing more
            break
    assert 0 < len(reference[0]) < 1000
    pd.testing.assert_frame_equal(table.frame_from_arrays(analyzer.buffer.arrays()), reference[0])


@pytest.mark.parametrize("labels", [["loss"], ["lr", "loss"], ["a", "b", "c"]])
def test_strings_picked_by_rows_keep_their_labels(labels):
    strings = table.Strings(np.array([0, -1, len(labels) - 1]), labels)
    assert strings[np.array([True, False, True])].objects().tolist() == [labels[0], labels[-1]]
    assert strings.label(1) is None and strings.label(2) == labels[-1]


def test_merging_puts_the_few_rows_before_the_rows_of_their_line_as_a_stable_sort_would():
    rng = np.random.default_rng(0)
    for _ in range(300):
        n, m = int(rng.integers(1, 40)), int(rng.integers(0, 8))
        bulk = table.as_arrays({"line": sorted(rng.integers(1, 30, n).tolist()),
                                "name": rng.choice(["a", "b"], n).tolist(), "value": rng.random(n).tolist(),
                                "step": [None if x < .3 else int(x * 100) for x in rng.random(n)]})
        few = table.as_arrays({"line": sorted(rng.integers(1, 30, m).tolist()),
                               "name": rng.choice(["b", "c"], m).tolist(), "value": rng.random(m).tolist(),
                               "kind": ["note"] * m, "text": rng.choice(["", "snapshot"], m).tolist()})
        both = table.concat_arrays([few, bulk])
        expected = table.take_arrays(both, np.argsort(both["line"], kind="stable"))
        pd.testing.assert_frame_equal(table.frame_from_arrays(table.merge_arrays(bulk, few)),
                                      table.frame_from_arrays(expected))


def test_a_column_every_row_leaves_at_its_default_is_not_stored_until_a_row_sets_it():
    buffer = table.TableBuffer(capacity=2)
    buffer.extend(rows([1, 2], ["loss", "lr"]))  # no step, text, layer or epoch
    assert {"step", "text", "layer", "epoch", "segment"} <= buffer.blank and "name" not in buffer.blank
    shown = buffer.arrays()
    assert table.is_default("step", shown["step"]) and shown["step"].mask.tolist() == [True, True]
    assert shown["text"].objects().tolist() == ["", ""] and shown["layer"].objects().tolist() == [None, None]
    buffer.extend(rows([3, 4, 5], ["snapshot", "acc", "loss"], texts=["snapshot", "", ""], layers=["fc", None, None],
                       steps=[10, 10, None]))  # sets them (and the buffer grows; "" is not the first text here)
    assert {"step", "text", "layer"}.isdisjoint(buffer.blank) and "epoch" in buffer.blank
    buffer.extend(rows([6], ["loss"]))  # a default piece after: its defaults are written
    frame = table.frame_from_arrays(buffer.arrays())
    assert frame["step"].tolist() == [pd.NA, pd.NA, 10, 10, pd.NA, pd.NA]
    assert frame["text"].tolist() == ["", "", "snapshot", "", "", ""]
    assert frame["layer"].tolist() == [None, None, "fc", None, None, None]
    assert frame["epoch"].isna().all() and (frame["segment"] == 0).all()
    frame.loc[0, "epoch"] = 3  # a frame's columns are its own, the default ones too
    del frame
    buffer.keep(np.array([True, False, True, False, False, True]))
    kept = table.frame_from_arrays(buffer.arrays())
    assert kept["line"].tolist() == [1, 3, 6] and kept["text"].tolist() == ["", "snapshot", ""]
    assert kept["epoch"].isna().all() and "epoch" in buffer.blank


def test_default_columns_are_shared_views_that_stay_default_when_joined_or_merged():
    first, second = rows([1, 3], ["loss", "lr"]), rows([2], ["acc"], steps=[5])
    assert table.is_default("epoch", first["epoch"]) and not first["epoch"].mask.flags.writeable
    assert table.is_default("step", first["step"]) and not table.is_default("step", second["step"])
    joined, merged = table.concat_arrays([first, second]), table.merge_arrays(first, second)
    assert table.is_default("epoch", joined["epoch"]) and len(joined["epoch"]) == 3
    assert table.is_default("layer", merged["layer"]) and merged["line"].tolist() == [1, 2, 3]
    assert merged["step"].tolist() == [None, 5, None]
    # A parser's lists of defaults are such a column; a list with a value, or an array that only holds
    # defaults, is not taken for one (it is stored as it is).
    assert table.is_default("epoch", table.as_arrays({"line": [1], "value": [1.0], "epoch": [None]})["epoch"])
    assert table.is_default("phase", table.as_arrays({"line": [1], "value": [1.0], "phase": ["train"]})["phase"])
    assert not table.is_default("phase", table.as_arrays({"line": [1], "value": [1.0], "phase": ["val"]})["phase"])
    assert not table.is_default("step", np.ma.MaskedArray(np.zeros(2, dtype=np.int64), mask=np.ones(2, dtype=bool)))


def test_a_compacted_buffer_reuses_its_storage_unless_a_frame_still_shows_it():
    buffer = table.TableBuffer(capacity=16)
    buffer.extend(rows([1, 2, 3, 4], ["loss", "lr", "loss", "acc"], steps=[10, 20, 30, 40]))
    storage = weakref.ref(buffer.data["line"])  # (not a reference that would keep it)
    buffer.keep(np.array([False, True, True, True]))  # no view alive: the rows move to the start
    assert buffer.data["line"] is storage() and len(buffer) == 3
    frame = table.frame_from_arrays(buffer.arrays())
    buffer.keep(np.array([True, False, True]))  # the frame shows the storage: new storage, the frame unchanged
    assert buffer.data["line"] is not storage()
    assert frame["line"].tolist() == [2, 3, 4] and frame["name"].tolist() == ["lr", "loss", "acc"]
    assert table.frame_from_arrays(buffer.arrays())["name"].tolist() == ["lr", "acc"]
    del frame
    storage = weakref.ref(buffer.data["line"])
    buffer.extend(rows([5], ["lr"], steps=[None]))
    buffer.keep(np.array([False, True, True]))
    assert buffer.data["line"] is storage()
    kept = table.frame_from_arrays(buffer.arrays())
    assert kept["line"].tolist() == [4, 5] and kept["name"].tolist() == ["acc", "lr"]
    assert kept["step"].isna().tolist() == [False, True]


def test_rows_of_earlier_lines_that_come_late_go_among_the_last_rows_in_line_order():
    buffer = table.TableBuffer(capacity=16)
    buffer.extend(rows([1, 2, 5, 6], ["loss", "lr", "loss", "note"]))
    frame = table.frame_from_arrays(buffer.arrays())  # a view of the rows taken back
    buffer.extend(rows([5, 7], ["acc", "loss"]))  # a held state's rows of line 5, after the rows of line 6
    later = table.frame_from_arrays(buffer.arrays())
    assert later["line"].tolist() == [1, 2, 5, 5, 6, 7]
    assert later["name"].tolist() == ["loss", "lr", "loss", "acc", "note", "loss"]  # line 5: in order of coming
    assert frame["line"].tolist() == [1, 2, 5, 6] and frame["name"].tolist() == ["loss", "lr", "loss", "note"]


def same_groups(groups: table.Grouping, codes: np.ndarray) -> bool:
    """Whether ``groups`` puts the rows together that ``codes`` numbers alike, each group in log order."""
    n = len(codes)
    return (np.array_equal(pd.factorize(groups.codes)[0], codes)
            and all(np.all(np.diff(groups.order[a:b]) > 0) for a, b in zip(groups.starts,
                                                                        np.append(groups.starts[1:], n))))


def test_the_rules_grouping_tells_the_same_series_apart_as_series_codes():
    rng = np.random.default_rng(3)
    for trial in range(50):
        n = int(rng.integers(1, 300))
        frame = table.frame_from_columns({
            "line": list(range(n)), "value": [1.0] * n, "segment": rng.integers(0, 3, n).tolist(),
            "name": rng.choice(["loss", "lr", "acc"], n).tolist(), "phase": rng.choice(["train", "test"], n).tolist(),
            "output": rng.choice([None, 0, 1], n).tolist(), "layer": rng.choice([None, "ip1"], n).tolist()})
        arrays = table.arrays_from_frame(frame)
        strings = {name: arrays[name] for name in table.STRING_COLUMNS}
        for known in (None, strings):
            assert same_groups(table.series_grouping(frame, known), table.series_codes(frame))
        assert same_groups(table.series_grouping(arrays), table.series_codes(frame))   # the analyzer's form


def well_formed(groups: table.Grouping) -> bool:
    """Whether ``order`` and ``starts`` say what ``codes`` says: group g's rows, in log order, from starts[g]."""
    ends = np.append(groups.starts[1:], len(groups.codes))
    return all(np.array_equal(groups.order[a:b], np.flatnonzero(groups.codes == g))
               for g, (a, b) in enumerate(zip(groups.starts, ends))) and len(groups.order) == len(groups.codes)


def numpy_grouping(arrays):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(table, "native", None)
        return table.series_grouping(arrays)


def test_the_c_grouping_is_built():
    if os.environ.get("LOGDOCTOR_PURE_PYTHON"):
        pytest.skip("LOGDOCTOR_PURE_PYTHON is set")
    assert table.native is not None, "the C grouping was not built: `pip install -e .` needs a C compiler"


@pytest.mark.skipif(table.native is None, reason="the C grouping is not built")
@settings(max_examples=300, deadline=None)
@given(st.integers(1, 400), st.data())
def test_the_c_grouping_makes_the_groups_numpy_makes(n, data):
    # Columns of few values, of far-apart ones (past the C code's table: numpy's way), of missing ones.
    def ints(far: bool):
        pool = st.sampled_from([-2**63, 2**63 - 1, 0, 7]) if far else st.integers(-3, 3)
        return data.draw(st.lists(st.one_of(st.none(), pool), min_size=n, max_size=n))
    columns = {"line": list(range(n)), "value": [1.0] * n,
               "name": data.draw(st.lists(st.sampled_from(["loss", "lr", None]), min_size=n, max_size=n)),
               "phase": data.draw(st.lists(st.sampled_from(["train", "test"]), min_size=n, max_size=n)),
               "output": ints(data.draw(st.booleans())), "net": ints(False),
               "segment": data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))}
    arrays = table.as_arrays(columns)
    native = table.series_grouping(arrays)
    assert well_formed(native)
    assert same_groups(native, pd.factorize(numpy_grouping(arrays).codes)[0])


@pytest.mark.skipif(table.native is None, reason="the C grouping is not built")
def test_the_c_grouping_numbers_groups_in_key_order_and_declines_keys_too_many_to_count():
    values = np.array([3, 1, 3, 2], dtype=np.int32)
    missing = np.array([False, False, True, False])  # a missing value is the lowest digit
    codes, size, order, starts = table.native.group([(values, missing, (1, 3))], 4)
    assert size == 1 and list(codes) == [3, 1, 0, 2]
    assert np.frombuffer(order, np.int64).tolist() == [2, 1, 3, 0] and np.frombuffer(starts, np.int64).tolist() == [
        0, 1, 2, 3]
    first = np.array([1, 0, 1, 0], dtype=np.int8)  # the first column is the most significant
    codes, _, order, starts = table.native.group([(first, None, (0, 1)), (values, None, (1, 3))], 4)
    assert list(codes) == [2, 0, 2, 1] and np.frombuffer(starts, np.int64).tolist() == [0, 1, 2]
    far = np.array([0, 10**9, 0, 5], dtype=np.int64)
    assert table.native.group([(far, None, (0, 10**9))], 4) is None  # numpy's way
    with pytest.raises(ValueError):
        table.native.group([(far[:3], None, (0, 5))], 4)  # a column shorter than the table
    with pytest.raises(ValueError, match="outside the range"):
        table.native.group([(values, None, (1, 2))], 4)  # 3 is not in it: an error, never a write past the table


@pytest.mark.parametrize("n", [3_000, 120_000])
def test_many_series_are_numbered_before_grouping_by_numpy_or_pandas_alike(n):
    # 400 names x 400 layers: the keys' bound is past 2**16, so they are numbered first (numpy below 100,000
    # rows, pandas above: other numbers, the same groups).
    rng = np.random.default_rng(n)
    labels = [f"n{k}" for k in range(400)]
    arrays = table.as_arrays({
        "line": list(range(n)), "value": [1.0] * n,
        "name": (rng.integers(0, 400, n), labels), "layer": (rng.integers(-1, 400, n), labels)})
    assert table.series_keys(arrays)[1] > 1 << 16
    assert same_groups(table.series_grouping(arrays), table.series_codes(arrays))
    assert same_groups(table.series_grouping(table.frame_from_arrays(arrays)), table.series_codes(arrays))
