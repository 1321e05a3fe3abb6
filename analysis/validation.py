"""Which measures have been validated against a reference on real people, and which not.

A measure listed in :data:`UNVALIDATED` is shown, marked as unvalidated, in whole
degrees, without a stated uncertainty, and feeds no checklist item: nothing yet shows
that it tracks the real movement.
"""

from __future__ import annotations

from collections.abc import Mapping

UNVALIDATED: dict[str, str] = {
    "hip_internal_rotation_deg": (
        "unvalidated: on real recordings (CMU-MBL SUB22, Xsens) its rep peaks do not follow "
        "the lab reference's hip rotation (see docs/real_data.md); shown for review only"),
}
"""Measure -> why it is unvalidated (one sentence for reports)."""


def mark_unvalidated(measures: dict) -> dict:
    """The measures with every unvalidated one rounded to whole units (no unearned precision).

    Parameters
    ----------
    measures : dict
        Measure name (unit in it) -> value or None.

    Returns
    -------
    dict
        The same names; the :data:`UNVALIDATED` ones rounded.
    """
    return {k: (round(v) if k in UNVALIDATED and v is not None else v) for k, v in measures.items()}


MODEL_TO_REALITY: dict[str, dict[str, float]] = {
    "functional axis": {"pelvic_drop_deg": 6.4, "hip_flexion_deg": 4.9, "hip_adduction_deg": 6.4},
    "knee hinge": {"pelvic_drop_deg": 6.4, "hip_flexion_deg": 3.3, "hip_adduction_deg": 10.0},
}
"""Per leg-frame calibration (:func:`analysis.uncertainty.calibration_case`'s first part:
the thigh's frame from its functional axis with pelvis + thigh, from the knee hinge with a
shank too) and measure (unit in its name), the error between a real body and what the analysis
measures that simulation does not show (soft tissue, the sensors' own fusion and heading,
the angle definition of a lab reference): the term that, added in quadrature to the
simulated uncertainty, gives a bound meant to hold 90 % of the rep-peak errors of an
exercise *not seen*. Each exercise brings a bias of its own, so the bound comes from a
random-effects model over exercises, not a quantile of pooled reps
(``benchmarks.cmu_real.exercise_bound``: Student's t over the exercises' biases and the
reps' scatter). Estimated on the real development trials (CMU-MBL SUB22: single-leg,
half single-leg, Bulgarian and decline squats, lunges, high and low step-ups, 27-29 reps
per measure; pelvis + thigh for the functional axis, the full set for the knee hinge);
leaving each exercise out in turn they held pelvic drop 27/29 and 27/29, hip flexion 28/29
and 27/29 (with the sacral model's shape fitted on the other six too: 27/29 and 24/29), hip
adduction 25/29 and 24/27 (``make bench`` -> real re-derives them). Pelvic drop is wide because the
step-ups read 5° less drop than the lab's pelvis (the four squats alone gave 2.8°, which
held none of the step-ups' reps). Hip flexion's term is what is left after the sacral
sensor's soft-tissue excess is taken out (:mod:`analysis.soft_tissue`; 16.2° and 13.4°
before it, 6.5° and 4.2° before its fall past 40° of thigh and the legs' levelled device
orientation; hip adduction's 10.0° and 14.9° before the levelling; docs/real_data.md).
Measures without a real reference (knee displacement, trunk lean, wrist) have no term: their intervals
are simulated only, and the output says so."""

REALITY_BASIS = ("simulated uncertainty combined in quadrature with a model-to-reality term "
                 "estimated on real recordings against a lab reference (CMU-MBL SUB22, 27-29 "
                 "reps of 7 single-leg exercises, a bound for an exercise not seen) for pelvic "
                 "drop and hip flexion/adduction; the other measures' intervals are from "
                 "simulation only")


def reality_terms(leg_frames: str, table: Mapping[str, Mapping[str, float]] | None = None
                  ) -> dict[str, float]:
    """The model-to-reality terms of a leg-frame calibration.

    Parameters
    ----------
    leg_frames : str
        "knee hinge" or "functional axis" (a case string that starts with one is taken too).
    table : Mapping, optional
        Leg frames -> measure -> term (the setting ``AnalysisConfig.model_to_reality``;
        default :data:`MODEL_TO_REALITY`).

    Returns
    -------
    dict of str to float
        Measure -> term, in the measure's unit; the larger of the two per measure for a
        case not listed.
    """
    table = MODEL_TO_REALITY if table is None else table
    for case, terms in table.items():
        if leg_frames.startswith(case):
            return dict(terms)
    return {k: max(t.get(k, 0.0) for t in table.values()) for k in sorted(set().union(*table.values()))}


def with_reality(simulated: dict[str, float], leg_frames: str,
                 table: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, float]:
    """Each measure's stated uncertainty: the simulated one combined with its
    model-to-reality term.

    Parameters
    ----------
    simulated : dict of str to float
        Measure -> simulated 90 % bound, in the measure's unit.
    leg_frames : str
        The leg-frame calibration (:func:`reality_terms`).
    table : Mapping, optional
        The model-to-reality terms (:func:`reality_terms`).

    Returns
    -------
    dict of str to float
        Measure -> sqrt(sim² + term²), rounded up to 0.1.
    """
    import math

    terms = reality_terms(leg_frames, table)
    return {k: math.ceil(10 * math.hypot(v, terms.get(k, 0.0)) - 1e-9) / 10
            for k, v in simulated.items()}


def stated_reality_terms() -> dict[str, dict[str, float]]:
    """A copy of :data:`MODEL_TO_REALITY` (the setting's default).

    Returns
    -------
    dict of str to dict of str to float
        Leg frames -> measure -> term, in the measure's unit.
    """
    return {frames: dict(terms) for frames, terms in MODEL_TO_REALITY.items()}
