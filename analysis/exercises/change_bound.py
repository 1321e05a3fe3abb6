"""The 90 % bound of a change between a test and its retest in the same session.

Within one session the athlete, the straps (mounting, soft tissue) and the sensors are the
same, so most of each test's error is common to both and cancels in their difference; the
two tests' own bounds combined (sqrt(u1² + u2²)) treat their errors as independent and
held 100 % of the simulated changes (``python -m benchmarks retest``). The change bound is
two parts in quadrature, per leg-frame calibration (:func:`leg_frames`) and measure:

- simulated (:data:`CHANGE_SIMULATED`; :data:`BAND_CHANGE_SIMULATED` for a band
  comparison's heel-tap sets): the 90th percentile of |measured - true change| of
  the median rep peak over simulated development pairs (:func:`simulated_change_figure`;
  :mod:`simulator.retest`: same body and straps, a new standing calibration, new noise and
  a new movement, often one profile better; :func:`simulator.heel_taps.band_pair` for
  the band);
- real (:func:`real_change_terms`): what simulation cannot show, from real recordings of
  one subject strapped once (CMU-MBL SUB22, :data:`REAL_TRIAL_OFFSETS`): how the offset of
  a trial's median rep peak from the lab's moves between trials
  (:func:`offset_change_bound`). The trials are different exercises, so this includes each
  exercise's own bias: it is wider than a retest of one exercise should need, and nothing
  smaller has been measured. Measures without a real reference (knee displacement, trunk
  lean) have no real part: their change bound is from simulation only. Hip flexion's
  offsets are stored as well: a retest does not compare it, but the review app's comparison
  of two tests does (:func:`between_sessions_bound`).

Degrees and centimetres, as the measures' names say.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np

from analysis.uncertainty import LEG_FRAMES

QUANTILE = 0.9

CHANGE_SIMULATED: dict[str, dict[str, float]] = {
    # ``python -m benchmarks retest``: 90th percentile of |measured - true change| rounded
    # up to 0.05 over development pairs (seeds 8500-8739 with pelvis + thigh, + shank,
    # + trunk, + shank + trunk; 9500-9619 with the guided bends), 240-480 changes per
    # leg frames and measure; each held 90-94 % of them.
    "functional axis": {"knee_medial_cm": 1.45, "pelvic_drop_deg": 0.45,
                        "hip_adduction_deg": 2.0, "trunk_lean_deg": 0.8},
    "knee hinge": {"knee_medial_cm": 0.4, "pelvic_drop_deg": 0.45,
                   "hip_adduction_deg": 0.7, "trunk_lean_deg": 0.8},
    "guided bends": {"knee_medial_cm": 1.2, "pelvic_drop_deg": 0.45,
                     "hip_adduction_deg": 1.75, "trunk_lean_deg": 0.75},
}
"""Leg frames -> measure -> the simulated part of the change bound (unit in the name)."""

BAND_CHANGE_SIMULATED: dict[str, dict[str, float]] = {
    # ``python -m benchmarks band``: 90th percentile of |measured - true change| of the median
    # tap peak (no band - band) rounded up to 0.05 over development band pairs
    # (simulator.heel_taps.band_pair: seeds 8200-8359 with the guided bends, pelvis + thigh
    # and + shank; 8400-8459 without them), 60 (functional axis), 160 (guided bends) and 220
    # (knee hinge) changes per measure. Within 0.05-0.2 of the retest's figures, which held
    # 88-94 % of these changes; only the measures a band comparison judges.
    "functional axis": {"knee_medial_cm": 1.5, "hip_adduction_deg": 1.9},
    "knee hinge": {"knee_medial_cm": 0.35, "hip_adduction_deg": 0.75},
    "guided bends": {"knee_medial_cm": 1.3, "hip_adduction_deg": 1.95},
}
"""Leg frames -> measure -> the simulated part of a band comparison's change bound (heel-tap
sets with and without the band, one session; unit in the name)."""

REAL_TRIAL_OFFSETS: dict[str, dict[str, dict[str, float]]] = {
    # ``python -m benchmarks retest`` (benchmarks.cmu_real.trial_offsets) on the development
    # trials of cmu_real.TERM_TRIALS, 3-5 reps each, standing from the one Pose trial;
    # pelvis + thigh for the functional axis, the full set for the knee hinge.
    "functional axis": {
        "pelvic_drop_deg": {"SqSL": 0.03, "SqHalfSL": 0.31, "BulgSq": 2.19, "DeclineSq": -0.75,
                            "Lunge": -1.53, "StepUpH": -4.80, "StepUpL": -1.46},
        "hip_adduction_deg": {"SqSL": -6.87, "SqHalfSL": -2.53, "BulgSq": 3.21,
                              "DeclineSq": -1.11, "Lunge": 2.61, "StepUpH": 2.69,
                              "StepUpL": 4.55},
        "hip_flexion_deg": {"SqSL": 3.73, "SqHalfSL": 2.43, "BulgSq": -1.17, "DeclineSq": 2.91,
                            "Lunge": 0.05, "StepUpH": -2.22, "StepUpL": -1.61}},
    "knee hinge": {
        "pelvic_drop_deg": {"SqSL": 0.03, "SqHalfSL": 0.31, "BulgSq": 2.19, "DeclineSq": -0.75,
                            "Lunge": -1.53, "StepUpH": -4.80, "StepUpL": -1.46},
        "hip_adduction_deg": {"SqSL": -1.51, "SqHalfSL": 2.72, "BulgSq": 8.21, "DeclineSq": 6.97,
                              "Lunge": 7.77, "StepUpH": 2.06, "StepUpL": 3.03},
        "hip_flexion_deg": {"SqSL": 2.73, "SqHalfSL": -0.66, "BulgSq": -1.26, "DeclineSq": -1.11,
                            "Lunge": 0.08, "StepUpH": -2.21, "StepUpL": -1.47}},
}
"""Leg frames -> measure -> trial -> offset of the trial's median rep peak, ours - the lab's
(deg), on the real development trials (never the held-out step-downs)."""

BASIS = ("change bound: the 90th percentile of the change's error on simulated test-retest "
         "pairs of one athlete in one session, combined in quadrature with how the offset "
         "from a lab reference moved between real trials of one subject strapped once "
         "(pelvic drop, hip adduction, hip flexion); knee and trunk from simulation only")


def leg_frames(case: str) -> str:
    """The leg-frame part of a calibration case ("knee hinge, still" -> "knee hinge").

    Parameters
    ----------
    case : str
        :func:`analysis.uncertainty.calibration_case`'s string.

    Returns
    -------
    str
        One of :data:`analysis.uncertainty.LEG_FRAMES`, or ``case`` when none.
    """
    return next((f for f in LEG_FRAMES if case.startswith(f)), case)


def simulated_change_figure(abs_errors: Sequence[float] | np.ndarray) -> float:
    """The simulated part from paired errors: their 90th percentile rounded up to 0.05, as
    :mod:`analysis.uncertainty` rounds.

    Parameters
    ----------
    abs_errors : array-like
        |measured - true change| of each development pair, in the measure's unit.

    Returns
    -------
    float
        The figure, in the measure's unit.
    """
    p = float(np.quantile(np.asarray(abs_errors, float), QUANTILE))
    return math.ceil(20 * p - 1e-9) / 20


def offset_change_bound(offsets: Sequence[float] | np.ndarray, q: float = QUANTILE) -> float:
    """The half-width that holds q of the difference of two trials' offsets.

    Each trial's offset is what is constant for the person and the straps (it cancels in
    a change) plus e ~ N(0, s²); a change moves by e2 - e1 ~ N(0, 2 s²). With s the
    offsets' sample standard deviation over k trials, the bound is Student's t (k - 1
    degrees of freedom) times sqrt(2) s.

    Parameters
    ----------
    offsets : array-like
        (k,) per-trial offsets of one subject strapped once, in the measure's unit; k >= 2.
    q : float
        The share of changes the bound holds (0.9: a 90 % bound).

    Returns
    -------
    float
        The bound, in the measure's unit.
    """
    from scipy import stats

    o = np.asarray(offsets, float)
    return float(stats.t.ppf(0.5 + q / 2, len(o) - 1) * math.sqrt(2.0) * o.std(ddof=1))


def real_change_terms(frames: str) -> dict[str, float]:
    """The real part of the change bound per measure for a leg-frame calibration.

    Parameters
    ----------
    frames : str
        Leg frames (:func:`leg_frames`); one without real trials (the guided bends) takes
        the larger of the others per measure, as :func:`analysis.validation.reality_terms`.

    Returns
    -------
    dict of str to float
        Measure -> bound, in the measure's unit.
    """
    terms = _real_terms()
    if frames in terms:
        return dict(terms[frames])
    return {k: max(t.get(k, 0.0) for t in terms.values()) for k in set().union(*terms.values())}


@cache
def _real_terms() -> dict[str, dict[str, float]]:
    """Leg frames -> measure -> :func:`offset_change_bound` of REAL_TRIAL_OFFSETS, made once
    (a change bound is asked per measure and per pair; the offsets are constants)."""
    return {f: {k: offset_change_bound(list(o.values())) for k, o in m.items()}
            for f, m in REAL_TRIAL_OFFSETS.items()}


def change_bound(measure: str, cases: Sequence[str], real: bool = True,
                 simulated: Mapping[str, Mapping[str, float]] | None = None) -> float | None:
    """The 90 % bound of a change of ``measure`` between two tests of one session.

    Parameters
    ----------
    measure : str
        The measure (unit in its name).
    cases : Sequence of str
        The two tests' calibration cases (:func:`analysis.uncertainty.calibration_case`);
        when their leg frames differ, the wider bound.
    real : bool
        Include the real part (False: the simulated part alone, what simulation can check).
    simulated : Mapping, optional
        Leg frames -> measure -> the simulated part, for changes of another kind of pair
        (:data:`BAND_CHANGE_SIMULATED`); None: the retest's
        :data:`CHANGE_SIMULATED`.

    Returns
    -------
    float or None
        sqrt(simulated² + real²) rounded up to 0.1, in the measure's unit; None when the
        paired evidence has no figure for the measure and calibration.
    """
    out = []
    for frames in {leg_frames(c) for c in cases}:
        sim = (CHANGE_SIMULATED if simulated is None else simulated).get(frames, {}).get(measure)
        if sim is None:
            return None
        r = real_change_terms(frames).get(measure, 0.0) if real else 0.0
        out.append(math.ceil(10 * math.hypot(sim, r) - 1e-9) / 10)
    return max(out) if out else None


def stated_change_bounds(cases: Sequence[str], measures: Sequence[str]) -> Mapping[str, float]:
    """:func:`change_bound` of every measure that has one.

    Parameters
    ----------
    cases : Sequence of str
        The two tests' calibration cases.
    measures : Sequence of str
        The measures.

    Returns
    -------
    dict of str to float
        Measure -> bound, in the measure's unit.
    """
    bounds = {k: change_bound(k, cases) for k in measures}
    return {k: v for k, v in bounds.items() if v is not None}


def between_sessions_bound(measure: str, simulated: Sequence[float],
                           cases: Sequence[str | None]) -> float:
    """The 90 % bound of a change of ``measure`` between two tests that may be sessions
    apart (the straps put on again): each test's simulated bound counts in full (a new
    strapping is a new mount and soft-tissue draw, so nothing simulated cancels), plus the
    real part of :func:`change_bound` (how a subject's offset from the lab moved between
    trials), all in quadrature. What is constant for the person cancels, as in a retest.

    Parameters
    ----------
    measure : str
        The measure (unit in its name).
    simulated : Sequence of float
        The two tests' simulated 90 % bounds of the measure, in its unit.
    cases : Sequence of str or None
        The two tests' calibration cases; None where an analysis does not say (then the
        widest real part of any leg frames).

    Returns
    -------
    float
        The bound rounded up to 0.1, in the measure's unit.
    """
    frames = {leg_frames(c) if c is not None else "" for c in cases}
    real = max(real_change_terms(f).get(measure, 0.0) for f in frames)
    return math.ceil(10 * math.hypot(*simulated, real) - 1e-9) / 10

