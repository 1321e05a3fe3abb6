"""Band feedback: heel-tap sets with and without the band compared on the knee measures.

The article's band pulls the knee inward so that the athlete learns to resist it, and
is to be weaned off as fast as possible. The question per athlete is whether knee
control without the band matches control with it: the change from band to no-band
sets of the median knee medial displacement and hip adduction and internal rotation
per tap, against the measurement uncertainty (:mod:`analysis.exercises.change`).

The sets are of one session (same straps): when every set's document states its
calibration case, the change is judged by the paired change bound
(:func:`analysis.exercises.change_bound.change_bound`) with the heel taps' own simulated
part (:data:`analysis.exercises.change_bound.BAND_CHANGE_SIMULATED`, from band and no-band
sets of one simulated athlete) and the retest's real part; a set whose document states no
case (written before it did) leaves the comparison on sqrt(u_band² + u_no-band²) of the
sets' stated bounds. Several sets of a kind pool their taps (a median over more taps):
the bound, derived for one set against one, is then on the safe side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analysis.exercises.change import MeasureChange, compare_reps
from analysis.exercises.change_bound import BAND_CHANGE_SIMULATED
from sensor_io.errors import InputError

if TYPE_CHECKING:
    from analysis.exercises.set_result import HeelTapSetResult
    from analysis.result import JSONDoc

KNEE_MEASURES = ("knee_medial_cm", "hip_adduction_deg", "hip_internal_rotation_deg")


@dataclass(frozen=True)
class BandComparison:
    """Band sets ("before") against no-band sets ("after"): a positive change is a knee
    that goes further in without the band."""

    band_sets: int
    """Heel-tap sets with the band."""
    no_band_sets: int
    """Heel-tap sets without it."""
    changes: tuple[MeasureChange, ...]
    """Per knee measure, the change from band to no band (unit in the measure's name)."""

    @property
    def matched(self) -> bool | None:
        """No-band control matches band control: no knee measure worse without the band
        beyond the measurement uncertainty (None when none could be judged)."""
        judged = [c for c in self.changes if c.beyond_uncertainty is not None]
        if not judged:
            return None
        return not any(c.beyond_uncertainty and c.change > 0 for c in judged)

    def to_json(self) -> JSONDoc:
        """The comparison as ``stepdown programme band --json`` prints it.

        Returns
        -------
        dict
            ``band_sets``, ``no_band_sets``, ``changes``, ``matched`` and a ``note``.
        """
        return {"band_sets": self.band_sets, "no_band_sets": self.no_band_sets,
                "changes": [c.to_json() for c in self.changes], "matched": self.matched,
                "note": "change = no band - band; positive: the knee goes further in "
                        "without the band"}


def compare_band(sets: Sequence[HeelTapSetResult]) -> BandComparison:
    """Compare the band and no-band heel-tap sets.

    Parameters
    ----------
    sets : Sequence of HeelTapSetResult
        Heel-tap sets' analyses.

    Returns
    -------
    BandComparison
        Band sets against no-band sets, each change against the paired change bound when
        every set states its calibration case (else the sets' bounds combined);
        InputError (one line) without both kinds.
    """
    band = [s for s in sets if s.exercise.band]
    free = [s for s in sets if not s.exercise.band]
    if not band or not free:
        raise InputError(f"band comparison needs heel-tap sets with and without the band; "
                         f"got {len(band)} with and {len(free)} without")
    reps = lambda group: [t.rep.measures for s in group for t in s.taps]  # noqa: E731
    cases = [s.uncertainty.case for s in sets]
    return BandComparison(len(band), len(free), compare_reps(
        reps(band), reps(free), KNEE_MEASURES, _widest(band), _widest(free),
        cases=None if None in cases else tuple(dict.fromkeys(cases)),
        simulated=BAND_CHANGE_SIMULATED))


def _widest(sets: Sequence[HeelTapSetResult]) -> dict[str, float]:
    """Per measure the widest uncertainty the sets state (they may differ in calibration)."""
    out: dict[str, float] = {}
    for s in sets:
        for k, v in s.uncertainty.measures.items():
            out[k] = max(v, out.get(k, 0.0))
    return out
