"""The coverage rule every stated-uncertainty test applies: a 90 % bound must hold 85-95 %
of held-out cases, and a batch's share is a sample that may leave that range by up to two
binomial standard errors (at 90 %, n cases)."""

from __future__ import annotations

import numpy as np
import pandas as pd

COVERAGE = (0.85, 0.95)


def within_85_to_95(table: pd.DataFrame) -> pd.Series:
    """Per row (a measure, ...): is the share inside COVERAGE, give or take two standard
    errors? ``table`` has columns ``mean`` (the share inside the bound) and ``size``."""
    se = np.sqrt(0.9 * 0.1 / table["size"])
    return (table["mean"] >= COVERAGE[0] - 2 * se) & (table["mean"] <= COVERAGE[1] + 2 * se)
