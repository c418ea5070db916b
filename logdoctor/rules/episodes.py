"""Shapes in a series that several rules ask about: a blow-up, the first non-finite value.

Everything here is causal: whether value *i* starts an episode depends on the
values up to *i* plus a bounded number after it, so a longer prefix of a live
log never takes back what a shorter one proved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from logdoctor.series import Series, trailing_median

REFERENCE_WINDOW = 5


@dataclass(frozen=True)
class Explosion:
    """A blow-up of a series: where the growth began, where it was proven, and the numbers."""

    start: int            # index of the first value of the growth
    proof: int            # index of the first value far above the reference
    reference: float      # the level before the growth (median of the values before it)
    peak: float           # largest finite value seen in the episode
    first_nonfinite: int | None  # index of the first nan/inf after the start, if any


def first_nonfinite(values: np.ndarray, start: int = 0) -> int | None:
    finite = np.isfinite(values[start:])
    return None if finite.all() else int(np.argmin(finite)) + start


def find_explosion(series: Series, factor: float, hold_factor: float, hold: int, final: bool,
                   nan_growth: float) -> Explosion | None:
    """The first blow-up of ``series``, if any.

    A value at least ``factor`` times the median of the values before it (and above
    the level the series started at, so that noise on a loss near zero is no
    blow-up) is a blow-up when the series stays above ``hold_factor`` times that
    reference (and above half the starting level) for ``hold`` more values or until
    it turns non-finite.  At the end of
    the input, fewer values suffice if all of them held.  A non-finite value right
    after ``nan_growth``-fold growth over the last few values is a blow-up too.

    The reference and the hold are taken on the series' settled values (for a
    progress bar's running means: the epoch means), so that one bad batch at the
    start of an epoch, dragging the running mean up for a while, is no blow-up.
    """
    values = series.values
    finite = np.isfinite(values)
    if finite.sum() < 2 and first_nonfinite(values) is None:
        return None
    settled, settled_values = series.settled_values()
    keep = np.isfinite(settled_values)
    if not keep.all():  # (most series are finite: no copies)
        settled, settled_values = settled[keep], settled_values[keep]
    reference_at = _reference(settled_values, settled, len(values))
    start_level = values[np.argmax(finite)] if finite.any() else np.nan  # the first finite value
    # Values from the second up to the first non-finite one that jump far above their reference
    # (in numpy: a Python loop over every value would cost more than all the other rules).
    stop = first_nonfinite(values, 1)
    jumps = (reference_at > 0) & ~(values < factor * reference_at) & ~(values < start_level)
    for i in np.flatnonzero(jumps[1:stop]) + 1:
        i, ref = int(i), reference_at[i]
        later = settled[settled > i][:hold]
        ends = first_nonfinite(values, i + 1)
        if ends is not None and (len(later) < hold or ends <= later[-1]):
            later = later[later < ends]
        else:
            ends = None
        # Held above the reference, and above half the level the run started at: a run that has
        # learnt its loss down to ~0 wanders by large factors without exploding.
        held = bool(np.all(series.printed[later] >= max(hold_factor * ref, 0.5 * start_level)))
        complete = ends is not None or len(later) == hold or (final and len(later) > 0)
        if held and complete:
            return _episode(values, _walk_back(values, i, ref), i, reference_at)
    if stop is not None:
        growth = _growth_before(values, stop, nan_growth)
        if growth is not None:
            return _episode(values, growth, stop, reference_at)
    return None  # a nan with no growth before it is not a blow-up


def _reference(settled_values: np.ndarray, settled: np.ndarray, n: int) -> np.ndarray:
    """For each of ``n`` values, the median of the ``REFERENCE_WINDOW`` settled values before it."""
    medians = np.concatenate(([np.nan], trailing_median(settled_values, REFERENCE_WINDOW)))
    if len(settled) == n:  # every value settled (and finite): ``settled`` is 0, 1, ..., n - 1
        return medians[:n]
    # Value i takes the median of the settled values before it: the k-th median for i from just after the
    # k-th settled value up to the next one.
    return np.repeat(medians, np.diff(settled, prepend=-1, append=n - 1))


def _growth_before(values: np.ndarray, i: int, nan_growth: float) -> int | None:
    """Where a run of growth ending at non-finite value ``i`` began, if it grew ``nan_growth``-fold."""
    j = i - 1
    while j > 0 and np.isfinite(values[j - 1]) and values[j - 1] < values[j]:
        j -= 1
    if j < i - 1 and np.isfinite(values[j]) and values[j] > 0 and values[i - 1] >= nan_growth * values[j]:
        return j + 1
    return None


def _walk_back(values: np.ndarray, i: int, reference: float) -> int:
    """The first value of the climb that ends at ``i``: earlier values already rising above the reference."""
    j = i
    while j > 0 and np.isfinite(values[j - 1]) and values[j - 1] < values[j] and values[j - 1] > 1.5 * reference:
        j -= 1
    return j


def _episode(values: np.ndarray, start: int, proof: int, reference: np.ndarray) -> Explosion:
    ref = reference[start] if np.isfinite(reference[start]) else values[max(start - 1, 0)]
    tail = values[start:]
    finite_tail = tail[np.isfinite(tail)]
    return Explosion(start=start, proof=proof, reference=float(ref),
                     peak=float(finite_tail.max()) if len(finite_tail) else float("nan"),
                     first_nonfinite=first_nonfinite(values, start))
