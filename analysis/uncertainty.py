"""How sure a score is: each measure's uncertainty, borderline items, the range of totals.

A rep item decided by a rule is *borderline* when its measure lies within the
measure's uncertainty of a threshold: another measurement of the same movement
could fall on the other side.  The test's total then has a range: every
borderline rep item at its lower level and every item not assessed at 0 gives the
lowest total, the upper levels and every unassessed item at its maximum the
highest; the category range follows.  A classifier-decided item counts as
unsure (0 or 1): it is a model's guess, not a measurement.

The uncertainties (:data:`MEASURE_UNCERTAINTY`) are the 90th percentile of the
absolute error of each measure's rep peak on simulated whole-body tests, rounded up
to 0.05, per calibration case (:func:`calibration_case`: knee hinge or functional
axes, still or swaying standing; :data:`UNCERTAINTY_BASIS`; ``make bench``
re-derives them, and ``tests/test_analysis/test_uncertainty_accuracy.py`` checks them on a
held-out batch and a shifted one).  They are figures from simulation: on real
athletes the errors are not yet known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analysis import registry
from analysis.checklist import (
    Checklist,
    RepResult,
    aggregate_items,
    category,
    compress_reps,
    rep_total,
)
from analysis.uncertainty_tables import MEASURE_UNCERTAINTY
from sensor_io.json_doc import JSONDoc

if TYPE_CHECKING:  # annotations only: importing calibration loads scipy.signal (0.7 s)
    from analysis.result import AnalysisResult
    from calibration import Calibration

UNCERTAINTY_SEED, UNCERTAINTY_TESTS = 7, 256
GUIDED_TESTS = 128  # more, without a shank, recorded with the guided calibration movement
UNCERTAINTY_BASIS = (f"90th percentile of the absolute error on {UNCERTAINTY_TESTS} simulated "
                     f"whole-body tests (simulate_batch seed {UNCERTAINTY_SEED}; {GUIDED_TESTS} "
                     "more with the guided calibration movement), per calibration "
                     "case, rounded up to 0.05; not yet known on real athletes")

LEG_FRAMES = ("knee hinge", "guided bends", "functional axis")
"""How the leg sensors' frames were found (:func:`calibration_case`)."""

MAX_LEVEL = registry.max_points()


def largest_uncertainty(measure: str) -> float | None:
    """The widest stated figure of a measure over every calibration case (and, for the
    knee, every way of measuring it): e.g. a band drawn around a trend of many tests.

    Parameters
    ----------
    measure : str
        The measure's name.

    Returns
    -------
    float or None
        The 90 % bound in the measure's unit; None for a measure without one.
    """
    values = [v for table in MEASURE_UNCERTAINTY.values() for k, v in table.items()
              if k == measure or k.startswith(f"{measure} (")]
    return max(values) if values else None


GUIDED_METHOD = "gravity+guided knee bends"  # calibration.calibrate's (not imported: scipy)
PELVIS_FROM_BENDS = "+guided bends"  # the pelvis's method ends so when the bends turned it


def calibration_case(calibration: Calibration | None) -> str:
    """"<leg frames>, <standing>" of a calibration: "knee hinge" when the test leg's
    thigh and shank frames came from the knee hinge, "guided bends" when the thigh's
    came from the guided calibration movement, else "functional axis"; standing
    "still", or "sway" for a swaying or short standing window.

    Parameters
    ----------
    calibration : Calibration or None
        The analysis' calibration; None: the still, functional-axis case.

    Returns
    -------
    str
        "<leg frames>, <standing>", e.g. "knee hinge, still".
    """
    if calibration is None:
        return "functional axis, still"
    methods = [c.method for c in calibration.sensors.values()]  # "... (reused from the session)"
    legs = ("knee hinge" if any(m.startswith("gravity+knee hinge") for m in methods)
            else "guided bends" if any(m.startswith(GUIDED_METHOD) for m in methods)
            else "functional axis")
    standing = "still" if calibration.window.quality == "still" else "sway"
    return f"{legs}, {standing}"


def measure_uncertainty(knee_source: str | None, calibration: Calibration | None = None,
                        tables: Mapping[str, Mapping[str, float]] | None = None
                        ) -> dict[str, float]:
    """The uncertainty of each measure of an analysis.

    Parameters
    ----------
    knee_source : str or None
        How the knee was measured: ``"shank"``, ``"thigh+pelvis model"``,
        ``"thigh+pelvis, hip shift measured"``, or None when it was not.
    calibration : Calibration, optional
        How the analysis was calibrated (see :func:`calibration_case`); with the guided
        bends, pelvic drop takes the figure without them unless the pelvis's heading came
        from them too.
    tables : Mapping, optional
        The stated uncertainties per calibration case (the setting
        ``AnalysisConfig.uncertainty``; default :data:`MEASURE_UNCERTAINTY`).

    Returns
    -------
    dict of str to float
        Measure -> its simulated 90 % bound, in the measure's unit.
    """
    tables = MEASURE_UNCERTAINTY if tables is None else tables
    case = calibration_case(calibration)
    table = tables[case]
    out = {k: v for k, v in table.items() if not k.startswith("knee_medial_cm")}
    if case.startswith("guided bends") and not _pelvis_from_bends(calibration):
        # the "guided bends" figure holds for a pelvis frame turned by the bends; a pelvis
        # that did not tilt in them keeps the skin normal's heading, and its leak
        without = tables[case.replace("guided bends", "functional axis")]
        out["pelvic_drop_deg"] = without["pelvic_drop_deg"]
    knee = table.get(f"knee_medial_cm ({knee_source})")
    if knee is not None:
        out["knee_medial_cm"] = knee
    return out


def _pelvis_from_bends(calibration: Calibration | None) -> bool:
    """Did the pelvis frame's heading come from the guided bends
    (:mod:`calibration.pelvis_heading`)?"""
    pelvis = None if calibration is None else calibration.sensors.get("pelvis")
    return pelvis is not None and PELVIS_FROM_BENDS in pelvis.method


@dataclass(frozen=True)
class Borderline:
    """A rep item whose measure is within its uncertainty of a threshold."""

    rep_index: int
    """The rep's index."""
    item: str
    """The checklist item."""
    measure: str
    """The measure deciding it (unit in its name)."""
    value: float
    """The measure's value in the rep."""
    threshold: float
    """The threshold it is near, in the measure's unit."""
    uncertainty: float
    """The measure's 90 % bound, in its unit."""
    level_below: int
    """The item's level below that threshold."""
    level_above: int
    """Its level above it."""

    def to_json(self) -> JSONDoc:
        """The entry of the analysis document's ``uncertainty.borderline``.

        Returns
        -------
        dict
            ``rep``, ``item``, ``measure``, ``value``, ``threshold``, ``uncertainty``.
        """
        return {"rep": self.rep_index, "item": self.item, "measure": self.measure,
                "value": self.value, "threshold": self.threshold,
                "uncertainty": self.uncertainty}


def find_borderline(checklist: Checklist, uncertainty: Mapping[str, float]) -> list[Borderline]:
    """Every rule-decided rep item whose measure is within its uncertainty of a threshold.

    Parameters
    ----------
    checklist : Checklist
        The scored test.
    uncertainty : Mapping
        Measure -> its 90 % bound, in the measure's unit.

    Returns
    -------
    list of Borderline
        One per rep item and threshold.
    """
    found = []
    for rep in checklist.reps:
        for item, reasons in rep.reasons.items():
            if rep.sources.get(item) != "rule":
                continue
            for reason in reasons:
                u = uncertainty.get(reason.measure)
                if u is None or reason.value is None:
                    continue
                for level, threshold in enumerate(reason.thresholds):
                    if abs(reason.value - threshold) <= u:
                        found.append(Borderline(rep.index, item, reason.measure, reason.value,
                                                threshold, u, level, level + 1))
    return found


def _rep_bounds(rep: RepResult, borderline: list[Borderline]) -> tuple[dict, dict]:
    """The rep's items at their lowest and highest plausible levels."""
    lo: dict[str, int] = {}
    hi: dict[str, int] = {}
    for item, value in rep.items.items():
        if value is None or rep.sources[item] == "classifier":
            lo[item], hi[item] = 0, MAX_LEVEL.get(item, 1)
        else:
            lo[item] = hi[item] = int(value)
    for b in borderline:
        if b.rep_index == rep.index:
            lo[b.item] = min(lo[b.item], b.level_below)
            hi[b.item] = max(hi[b.item], b.level_above)
    return lo, hi


@dataclass(frozen=True)
class TotalRange:
    """The lowest and highest test totals the uncertainty allows, and their categories."""

    low: int
    """The lowest total, 0-8."""
    high: int
    """The highest total."""

    @property
    def categories(self) -> tuple[str, str]:
        """The categories of the lowest and the highest total."""
        return category(self.low), category(self.high)

    @property
    def certain(self) -> bool:
        """True when every total in the range has the same category."""
        return category(self.low) == category(self.high)

    def to_json(self) -> JSONDoc:
        """The range as the analysis document's ``uncertainty`` carries it.

        Returns
        -------
        dict
            ``total_range`` and ``category_range``.
        """
        return {"total_range": [self.low, self.high], "category_range": list(self.categories)}


def total_range(checklist: Checklist, borderline: list[Borderline]) -> TotalRange:
    """The test total with every unsure rep item at its lower, then its upper level,
    combined by the checklist's own test rule.

    Parameters
    ----------
    checklist : Checklist
        The scored test.
    borderline : list of Borderline
        Its borderline rep items (:func:`find_borderline`).

    Returns
    -------
    TotalRange
        The lowest and highest totals; unassessed and classifier items count at their
        lowest and highest levels.
    """
    bounds = [_rep_bounds(rep, borderline) for rep in checklist.reps]
    rule = checklist.test.rule

    def total(side: int) -> int:
        items = aggregate_items([b[side] for b in bounds], rule)
        if not bounds:  # no rep: nothing assessed, anything possible
            items = {k: 0 if side == 0 else MAX_LEVEL.get(k, 1) for k in items}
        return rep_total(items)
    return TotalRange(total(0), total(1))


def _unit(measure: str) -> str:
    return {"cm": " cm", "deg": "°"}.get(measure.rsplit("_", 1)[-1], "")


def describe_uncertainty(result: AnalysisResult) -> list[str]:
    """Plain lines on how sure an analysis is.

    Parameters
    ----------
    result : AnalysisResult
        The analysis (its ``uncertainty`` and ``completeness`` blocks, its reps).

    Returns
    -------
    list of str
        The range of totals the measurement uncertainty and the unassessed items allow,
        then the borderline rep items behind it, one line per item and threshold.  Empty
        for a result without ``uncertainty`` (e.g. stored before it existed) or without
        reps.
    """
    u = result.uncertainty
    if not u or not result.reps:
        return []
    low, high = u["total_range"]
    if low == high:
        return [f"certain: total {low}; every measured item is clear of its threshold by more "
                "than the measure's uncertainty"]
    cats = u["category_range"]
    cat = cats[0] if cats[0] == cats[1] else f"{cats[0]} to {cats[1]}"
    why = []
    if u["borderline"]:
        why.append(f"{len(u['borderline'])} borderline rep item(s)")
    if (result.completeness or {}).get("not_assessed"):
        why.append("the items not assessed")
    lines = [f"could be: total {low}–{high} ({cat}), allowing for {' and '.join(why) or 'classifier items'}"]
    groups: dict[tuple[str, str, float, float], list[JSONDoc]] = {}
    for b in u["borderline"]:
        groups.setdefault((b["item"], b["measure"], b["threshold"], b["uncertainty"]), []).append(b)
    for (item, measure, threshold, unc), found in groups.items():
        values = [b["value"] for b in found]
        span = f"{min(values):.1f}" + (f"–{max(values):.1f}" if max(values) - min(values) >= 0.05 else "")
        unit = _unit(measure)
        lines.append(f"  ~ {item} in {compress_reps([b['rep'] for b in found])} ({span}{unit}) is "
                     f"within ±{unc:g}{unit} of the {threshold:g}{unit} threshold")
    hint = _knee_hint(result)
    return lines + ([hint] if hint else [])


def _knee_hint(result: AnalysisResult) -> str | None:
    """What would decide a borderline knee item measured without a shank: a shank sensor
    (the knee hinge) and, where the thigh's axis came from the reps, the guided bends;
    their stated bounds from the analysis's own tables, each named only when narrower than
    the knee's bound now.  None when no knee item is borderline or a shank was worn."""
    u = result.uncertainty or {}
    knee = [b["uncertainty"] for b in u.get("borderline", ()) if b["item"] == "knee"]
    if not knee:
        return None
    if any(s.startswith("shank") for s in result.recording.sensors_used):
        return None
    case = u.get("case") or ""
    standing = "sway" if case.endswith("sway") else "still"
    tables = (result.config or {}).get("uncertainty") or MEASURE_UNCERTAINTY
    shank = tables.get(f"knee hinge, {standing}", {}).get("knee_medial_cm (shank)")
    bends = tables.get(f"guided bends, {standing}", {}).get(
        "knee_medial_cm (thigh+pelvis, hip shift measured)")
    if shank is None or shank >= min(knee):
        return None
    line = f"  a shank sensor on the test leg would measure the knee to ±{shank:g} cm"
    if case.startswith("functional axis") and bends is not None and bends < min(knee):
        line += (f"; the guided knee bends before the test (stepdown record asks for them) "
                 f"to ±{bends:g} cm")
    return line
