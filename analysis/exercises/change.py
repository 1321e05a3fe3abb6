"""Did a measure change between two groups of reps by more than it can be measured?

Used for band vs no-band heel-tap sets (:mod:`analysis.exercises.band`) and for the
practice-then-retest comparison (:mod:`analysis.exercises.retest`). Each group's value
is the median of its reps' peaks; the change is after - before. Its uncertainty is
the stated 90 % bound of each group's measure (:mod:`analysis.uncertainty`, with the
model-to-reality term the analyses state) combined as sqrt(u_before² + u_after²): a
group's median is given the single measure's bound, because most of the error is the
session's calibration, which does not average out over reps. A change is *beyond the
measurement uncertainty* when |change| exceeds that bound; where a measure has no
stated uncertainty (unvalidated, or not measured) the answer is None, never a guess.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.result import JSONDoc, RepMeasures


@dataclass(frozen=True)
class MeasureChange:
    """One measure's medians before and after (unit in the name), the change and its bound."""

    measure: str
    """The measure's name (unit in it)."""
    before: float | None
    """Median rep peak of the first group; None when it has none."""
    after: float | None
    """Median rep peak of the second group."""
    n_before: int
    """Reps measured in the first group."""
    n_after: int
    """Reps measured in the second group."""
    uncertainty: float | None
    """The change's 90 % bound, sqrt(u_before² + u_after²); None when either is unstated."""

    @property
    def change(self) -> float | None:
        """after - before, in the measure's unit; None when either is missing."""
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def beyond_uncertainty(self) -> bool | None:
        """Whether |change| exceeds the bound; None when either is unknown."""
        if self.change is None or self.uncertainty is None:
            return None
        return abs(self.change) > self.uncertainty

    def to_json(self) -> JSONDoc:
        """The change as the comparisons' JSON gives it (values rounded to 0.01).

        Returns
        -------
        dict
            ``measure``, ``before``, ``after``, ``change``, ``uncertainty_90``,
            ``n_before``, ``n_after``, ``beyond_uncertainty``.
        """
        r = lambda v: None if v is None else round(float(v), 2)  # noqa: E731
        return {"measure": self.measure, "before": r(self.before), "after": r(self.after),
                "change": r(self.change), "uncertainty_90": r(self.uncertainty),
                "n_before": self.n_before, "n_after": self.n_after,
                "beyond_uncertainty": self.beyond_uncertainty}

    def text(self) -> str:
        """The change in one line.

        Returns
        -------
        str
            'knee_medial_cm 2.4 -> 1.1 (-1.3, beyond the ±0.9 uncertainty)'.
        """
        if self.change is None:
            return f"{self.measure}: not measured in both"
        if self.beyond_uncertainty is None:
            verdict = "no stated uncertainty"
        else:
            verdict = (f"{'beyond' if self.beyond_uncertainty else 'within'} the "
                       f"±{self.uncertainty:.2f} measurement uncertainty")
        return (f"{self.measure}: {self.before:.2f} -> {self.after:.2f} "
                f"({self.change:+.2f}, {verdict})")


def _median(reps: Sequence[Mapping[str, Any] | RepMeasures], measure: str
            ) -> tuple[float | None, int]:
    values = [r.get(measure) for r in reps]
    values = [v for v in values if v is not None]
    return (float(np.median(values)) if values else None), len(values)


def compare_reps(before: Sequence[Mapping[str, Any] | RepMeasures],
                 after: Sequence[Mapping[str, Any] | RepMeasures],
                 measures: Sequence[str], u_before: Mapping[str, float],
                 u_after: Mapping[str, float]) -> tuple[MeasureChange, ...]:
    """Per measure, the change of the median rep peak from one group of reps to another.

    Parameters
    ----------
    before : Sequence of Mapping or RepMeasures
        The first group's reps' measures: name (unit in it) -> value, or the typed
        :class:`analysis.result.RepMeasures`.
    after : Sequence of Mapping or RepMeasures
        The second group's.
    measures : Sequence of str
        The measures compared.
    u_before : Mapping
        Measure -> the first group's stated 90 % bound, in the measure's unit.
    u_after : Mapping
        The same for the second group.

    Returns
    -------
    tuple of MeasureChange
        One per measure, against the combined uncertainty of the two bounds.
    """
    out = []
    for m in measures:
        b, nb = _median(before, m)
        a, na = _median(after, m)
        ub, ua = u_before.get(m), u_after.get(m)
        bound = None if ub is None or ua is None else math.hypot(ub, ua)
        out.append(MeasureChange(m, b, a, nb, na, bound))
    return tuple(out)
