"""The coverage rule every stated-uncertainty test applies: a 90 % bound must hold 85-95 %
of held-out cases, and a batch's share is a sample that may leave that range by up to two
binomial standard errors (at 90 %, n cases)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.exercises.change_bound import change_bound

COVERAGE = (0.85, 0.95)


def within_85_to_95(table: pd.DataFrame) -> pd.Series:
    """Per row (a measure, ...): is the share inside COVERAGE, give or take two standard
    errors? ``table`` has columns ``mean`` (the share inside the bound) and ``size``."""
    se = np.sqrt(0.9 * 0.1 / table["size"])
    return (table["mean"] >= COVERAGE[0] - 2 * se) & (table["mean"] <= COVERAGE[1] + 2 * se)


def with_change_bounds(pairs: pd.DataFrame,
                       simulated: Mapping[str, Mapping[str, float]] | None = None) -> pd.DataFrame:
    """Simulated pairs (one row per change: ``measure``, ``frames``, ``error`` measured -
    true) with each change's bound: ``sim`` its simulated part alone (what simulation can
    check), ``bound`` with the real part, and ``abs_error``.  ``simulated``: the bound's
    simulated table (default the retest's)."""
    sim = [change_bound(r.measure, r.frames, real=False, simulated=simulated)
           for r in pairs.itertuples()]
    full = [change_bound(r.measure, r.frames, simulated=simulated) for r in pairs.itertuples()]
    return pairs.assign(sim=sim, bound=full, abs_error=pairs.error.abs())


def change_coverage(pairs: pd.DataFrame, what: str) -> pd.DataFrame:
    """Share of the changes inside the bound's simulated part per measure (``mean``,
    ``size``), printed under ``what`` with the same per leg frames."""
    inside = pairs.abs_error <= pairs.sim
    per_measure = inside.groupby(pairs.measure).agg(["mean", "size"])
    print(f"\nShare of held-out {what} inside the change bound's simulated part:")
    print(per_measure.round(3))
    print(inside.groupby([pairs.measure, pairs.leg_frames]).agg(["mean", "size"]).round(3))
    return per_measure
