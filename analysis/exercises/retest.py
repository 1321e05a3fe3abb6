"""Practice then retest: the article's "assume coordination and build".

A poor first test often reflects coordination, not weakness: the athlete practises
(e.g. more than 5 reps of the step-down, or heel taps) and is tested again in the same
session. The comparison says, per measure, whether the median rep peak changed by more
than the change's measurement uncertainty (:mod:`analysis.exercises.change`: the change
bound of one session, :mod:`analysis.exercises.change_bound`), and whether the
test total changed beyond what the uncertain items allow: the two tests' total ranges
(:func:`analysis.uncertainty.total_range`: every borderline item at either level) do
not overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analysis.exercises.change import MeasureChange, compare_reps
from analysis.result import AnalysisResult, JSONDoc

RETEST_MEASURES = ("knee_medial_cm", "pelvic_drop_deg", "hip_adduction_deg", "trunk_lean_deg")


@dataclass(frozen=True)
class Retest:
    """First and second test of a session, with the practice done between them."""

    first_total: int
    """The first test's total, 0-8."""
    second_total: int
    """The retest's total."""
    first_range: tuple[int, int]
    """The totals the first test's uncertain items allow (low, high)."""
    second_range: tuple[int, int]
    """The same for the retest."""
    first_category: str
    """The first test's category."""
    second_category: str
    """The retest's category."""
    changes: tuple[MeasureChange, ...]
    """Per measure of RETEST_MEASURES, the change of the median rep peak."""
    practice: tuple[str, ...] = ()
    """The practice done between the tests, in words."""

    @property
    def total_change_beyond_uncertainty(self) -> bool:
        """The two totals' ranges do not overlap."""
        return self.second_range[1] < self.first_range[0] or self.second_range[0] > self.first_range[1]

    def verdict(self) -> str:
        """The comparison for the coach.

        Returns
        -------
        str
            One plain-language line.
        """
        better = [c.measure for c in self.changes if c.beyond_uncertainty and c.change < 0]
        worse = [c.measure for c in self.changes if c.beyond_uncertainty and c.change > 0]
        total = (f"total {self.first_total} -> {self.second_total} "
                 f"({self.first_category} -> {self.second_category})")
        if self.total_change_beyond_uncertainty and self.second_total < self.first_total:
            head = f"better after practice: {total}, beyond the measurement uncertainty"
        elif self.total_change_beyond_uncertainty:
            head = f"worse after practice: {total}, beyond the measurement uncertainty"
        else:
            (a, b), (c, d) = self.first_range, self.second_range
            head = (f"no change in the score beyond the measurement uncertainty: {total}; "
                    f"its uncertain items allow totals {a}-{b} and {c}-{d}")
        tail = []
        if better:
            tail.append("beyond their uncertainty, lower after practice: " + ", ".join(better))
        if worse:
            tail.append("beyond their uncertainty, higher after practice: " + ", ".join(worse))
        hint = ""
        if self.total_change_beyond_uncertainty and self.second_total < self.first_total:
            hint = "; the first test's faults look like coordination, not weakness"
        return head + ("; " + "; ".join(tail) if tail else "") + hint

    def to_json(self) -> JSONDoc:
        """The comparison as ``stepdown programme retest --json`` prints it.

        Returns
        -------
        dict
            ``first``, ``second``, ``practice``, ``total_change_beyond_uncertainty``,
            ``changes`` and ``verdict``.
        """
        return {"first": {"total": self.first_total, "total_range": list(self.first_range),
                          "category": self.first_category},
                "second": {"total": self.second_total, "total_range": list(self.second_range),
                           "category": self.second_category},
                "practice": list(self.practice),
                "total_change_beyond_uncertainty": self.total_change_beyond_uncertainty,
                "changes": [c.to_json() for c in self.changes], "verdict": self.verdict()}


def compare_tests(first: AnalysisResult, second: AnalysisResult,
                  practice: Sequence[str] = ()) -> Retest:
    """Compare a test with its retest.

    Parameters
    ----------
    first : AnalysisResult
        The first test's analysis (reps, test, uncertainty).
    second : AnalysisResult
        The retest's.
    practice : Sequence of str
        The practice done between them, in words.

    Returns
    -------
    Retest
        The totals, their ranges and categories, and the measure changes against the
        change bound of one session (both tests taken in the same session, same straps).
    """
    u1, u2 = first.uncertainty or {}, second.uncertainty or {}
    return Retest(
        first_total=first.test.total, second_total=second.test.total,
        first_range=tuple(u1["total_range"]), second_range=tuple(u2["total_range"]),
        first_category=first.test.category, second_category=second.test.category,
        changes=compare_reps([r.measures for r in first.reps], [r.measures for r in second.reps],
                             RETEST_MEASURES, u1["measures"], u2["measures"],
                             _cases(u1, u2)),
        practice=tuple(practice))


def _cases(u1: JSONDoc, u2: JSONDoc) -> tuple[str, str] | None:
    """The two tests' calibration cases; None when either result has none (stored before
    the uncertainty said it): the change is then judged by the two tests' own bounds."""
    c1, c2 = u1.get("case"), u2.get("case")
    return (c1, c2) if isinstance(c1, str) and isinstance(c2, str) else None
