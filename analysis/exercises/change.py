"""Did a measure change between two groups of reps by more than it can be measured?

Used for the practice-then-retest comparison (:mod:`analysis.exercises.retest`) and for
band vs no-band heel-tap sets (:mod:`analysis.exercises.band`). Each group's value is the
median of its reps' peaks; the change is after - before. A change is *beyond the
measurement uncertainty* when |change| exceeds its 90 % bound; where a measure has no
stated uncertainty in either group (unvalidated, or not measured) the answer is None,
never a guess.

The bound: between two groups of one session whose calibration cases are known (a test and
its retest; band and no-band heel-tap sets whose documents state their case), the change
bound of :mod:`analysis.exercises.change_bound` (paired simulated errors of the change,
per kind of pair, and how real offsets moved between trials of one subject strapped once):
the session's common error cancels in the change. Otherwise (a result or a set's document
stored before it stated its case) the two groups' stated 90 % bounds
(:mod:`analysis.uncertainty` with the model-to-reality term) combined as
sqrt(u_before² + u_after²), each group's median given the single measure's bound; that
treats the two errors as independent and is far wider than 90 % on simulated pairs
(``python -m benchmarks retest``, ``python -m benchmarks band``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.exercises.change_bound import change_bound
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
    """The change's 90 % bound (see the module); None when either group's is unstated."""

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
                 u_after: Mapping[str, float], cases: Sequence[str] | None = None,
                 simulated: Mapping[str, Mapping[str, float]] | None = None
                 ) -> tuple[MeasureChange, ...]:
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
    cases : Sequence of str, optional
        The two step-down tests' calibration cases
        (:func:`analysis.uncertainty.calibration_case`; a band comparison's distinct cases):
        the groups are of one session, judged by
        :func:`analysis.exercises.change_bound.change_bound`. None: sqrt(u_before² + u_after²).
    simulated : Mapping, optional
        The change bound's simulated part for this kind of pair (leg frames -> measure ->
        figure; :func:`analysis.exercises.change_bound.change_bound`); None: the retest's.

    Returns
    -------
    tuple of MeasureChange
        One per measure, against its change bound (None where either group states no
        uncertainty for it).
    """
    out = []
    for m in measures:
        b, nb = _median(before, m)
        a, na = _median(after, m)
        ub, ua = u_before.get(m), u_after.get(m)
        bound = None
        if ub is not None and ua is not None:
            paired = change_bound(m, cases, simulated=simulated) if cases is not None else None
            bound = paired if paired is not None else math.hypot(ub, ua)
        out.append(MeasureChange(m, b, a, nb, na, bound))
    return tuple(out)
