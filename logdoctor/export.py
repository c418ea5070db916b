"""Writing the event table (csv, jsonl, parquet) and its summary."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from logdoctor.model import UsageError


def write_table(frame: pd.DataFrame, fmt: str, output: str | None) -> None:
    """Write ``frame`` as ``fmt`` to ``output`` (a path) or stdout."""
    if fmt == "parquet":
        if not output:
            raise UsageError("--format parquet needs -o FILE")
        try:
            frame.to_parquet(output, index=False)
        except ImportError:
            raise UsageError("--format parquet needs pyarrow: pip install 'logdoctor[parquet]'") from None
        return
    target = output or sys.stdout
    if fmt == "csv":
        frame.to_csv(target, index=False, lineterminator="\n")
    else:
        _with_non_finite_as_text(frame).to_json(target, orient="records", lines=True, force_ascii=False)


def _with_non_finite_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """JSON has no nan or inf (pandas writes null for both): a metric's non-finite value becomes its
    text, ``"nan"``, ``"inf"`` or ``"-inf"``, as in ``diagnose --format json``.  A note without a
    value keeps null."""
    values = frame["value"].to_numpy(dtype="float64")
    odd = ~np.isfinite(values) & (frame["kind"] == "metric").to_numpy()
    if not odd.any():
        return frame
    text = frame["value"].astype(object)
    text[odd] = np.where(np.isnan(values[odd]), "nan", np.where(values[odd] > 0, "inf", "-inf"))
    return frame.assign(value=text)


def summary_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Per phase and series: how many values, how many non-finite, first and last step."""
    metrics = frame[frame["kind"] == "metric"]
    if metrics.empty:
        return pd.DataFrame(columns=["phase", "name", "output", "values", "non_finite", "first_step", "last_step"])
    grouped = metrics.groupby(["phase", "name", "output"], observed=True, sort=False, dropna=False)
    out = grouped.agg(values=("value", "size"),
                      non_finite=("value", lambda v: int((~np.isfinite(v.to_numpy())).sum())),
                      first_step=("step", "min"), last_step=("step", "max")).reset_index()
    return out


def summary_text(result, path: str) -> str:
    """The ``parse --summary`` report."""
    frame, stats = result.table, result.stats
    lines = [f"{'<stdin>' if path == '-' else path}: parser {stats.parser}"
             + (f" (also {', '.join(p for p in stats.parsers_used if p != stats.parser)})"
                if set(stats.parsers_used) - {stats.parser} else ""),
             f"lines: {stats.lines} = {stats.lines_with_rows} with values + "
             f"{stats.lines_recognised} recognised without values + {stats.lines_unknown} unknown",
             f"rows: {len(frame)} ({int((frame['kind'] == 'metric').sum())} values, "
             f"{int((frame['kind'] == 'note').sum())} notes), "
             f"segments: {int(frame['segment'].max()) + 1 if len(frame) else 0}",
             ""]
    rows = summary_rows(frame)
    header = (f"{'phase':<6} {'name':<32} {'output':>6} {'values':>8} {'non-finite':>10} {'first step':>11} "
              f"{'last step':>10}")
    lines.append(header)
    for r in rows.itertuples(index=False):
        first = "" if pd.isna(r.first_step) else str(int(r.first_step))
        last = "" if pd.isna(r.last_step) else str(int(r.last_step))
        output = "" if pd.isna(r.output) else f"#{int(r.output)}"
        lines.append(f"{r.phase:<6} {r.name:<32} {output:>6} {r.values:>8} {r.non_finite:>10} {first:>11} {last:>10}")
    return "\n".join(lines)
