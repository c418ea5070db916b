"""Terminal charts of the loss and the learning rate with the findings marked (plotext glue).

Imported only by the text reporter: plotext is not loaded for json, github or parse.
"""

from __future__ import annotations

import numpy as np

from logdoctor.model import Finding, Severity
from logdoctor.series import Run, Series

MAX_POINTS = 1500  # plotext draws every point; more than the terminal has columns is waste


def _x(series: Series, use_steps: bool) -> np.ndarray:
    return series.steps if use_steps else series.lines.astype(float)


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) > MAX_POINTS:
        idx = np.unique(np.linspace(0, len(x) - 1, MAX_POINTS).astype(int))
        x, y = x[idx], y[idx]
    return x.tolist(), y.tolist()


def _log_scale(arrays: list[np.ndarray]) -> bool:
    """Log scale when the positive values span two orders of magnitude or more."""
    values = np.concatenate([a[np.isfinite(a) & (a > 0)] for a in arrays]) if arrays else np.array([])
    if len(values) == 0 or (np.concatenate(arrays)[np.isfinite(np.concatenate(arrays))] <= 0).any():
        return False
    return values.max() / values.min() >= 100


def charts(run: Run, findings: list[Finding], width: int, color: bool) -> str:
    """The loss chart (train and val/test) and, when printed, the learning-rate chart."""
    import plotext as plt

    losses = run.loss("train") + run.loss("val") + run.loss("test")
    lrs = list(run.series(names=("lr",)))
    if not losses and not lrs:
        return ""
    every = losses + lrs
    use_steps = all(np.isfinite(s.steps).mean() > 0.9 for s in every)
    out = []
    for title, group in (("loss", losses), ("learning rate", lrs)):
        if not group:
            continue
        plt.clear_figure()
        plt.plotsize(max(40, width), 14 if title == "loss" else 9)
        if not color:
            plt.theme("clear")
        for s in group:
            x, y = _thin(_x(s, use_steps), s.values)
            if x:
                label = s.label if len({g.segment for g in group}) == 1 else f"{s.label} [run {s.segment + 1}]"
                plt.plot(x, y, label=label, marker="braille")
        if _log_scale([s.values for s in group]):
            plt.yscale("log")
        marks = sorted({(f.step if use_steps else f.line) for f in findings
                        if (f.step if use_steps else f.line) is not None and f.severity >= Severity.WARNING})
        for x in marks[:12]:
            plt.vline(x, "red" if color else None)
        plt.title(title + ("  (| = findings)" if marks else ""))
        plt.xlabel("step" if use_steps else "line")
        chart = plt.build()
        out.append(chart if color else plt.uncolorize(chart))
    return "\n".join(out)
