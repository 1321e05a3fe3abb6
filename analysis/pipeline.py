"""The whole analysis of one recording, one code path for files and live streams.

Standing window and gyro biases -> orientation per sensor (vqf) -> sensor-to-segment
calibration -> segment motion in the facing frame -> rep segmentation -> heading
drift removed in the standing pauses -> measures -> checklist.

``analyze(rec)`` returns an :class:`Analysis`; ``Analysis.to_json()`` is the
analysis contract of DESIGN.md plus documented extra keys: ``body`` (dimensions
used and where they came from), ``skipped`` (partial reps), ``flags`` (rule vs
classifier disagreements), per rep ``not_measured`` (measure -> why it is null) and
``cut_by_gap`` (the rep's ends that lie on a gap), ``explanations``, ``rules``, ``classifier`` (whether
the shipped rep classifier was used, targets withheld, quality probabilities; see
:func:`analysis.classifier.classifier_inputs`), ``completeness`` (items not
assessed and the highest total then possible), ``uncertainty`` (each measure's
uncertainty, borderline rep items and the range of totals and categories, see
:mod:`analysis.uncertainty`; ``unvalidated`` names the measures with no real-data
validation, :mod:`analysis.validation`) and ``warnings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from analysis import model_info
from analysis.checklist import Checklist, score_test
from analysis.measures import (
    MeasureSeries,
    depth_rad,
    drop_measures_in_gaps,
    measure_series,
    rep_measures,
)
from analysis.model_info import read_summary, usable_items_from_cv
from analysis.recording_pieces import (
    STANDING_GAP_S,
    RepContext,
    check_rep,
    cut_by_gap,
    data_pieces,
    face_as_in_recording,
    heading_guessed_in,
    with_standing,
)
from analysis.rep_segmentation import RepSegmenter
from analysis.rules import RuleConfig
from analysis.segment_motion import (
    Motion,
    correct_heading_drift,
    quiet_windows,
    segment_motion,
    sensor_orientations,
    standing_tracks,
)
from analysis.uncertainty import (
    UNCERTAINTY_BASIS,
    calibration_case,
    find_borderline,
    measure_uncertainty,
    total_range,
)
from analysis.validation import (
    MODEL_TO_REALITY,
    REALITY_BASIS,
    UNVALIDATED,
    mark_unvalidated,
    with_reality,
)
from calibration import (
    Calibration,
    CalibrationError,
    StandingWindow,
    calibrate,
    gyro_biases,
    standing_window,
)
from calibration.calibrate import uses_flexion_axis
from sensor_io.anthropometry import DEFAULT_HEIGHT_M, Body
from sensor_io.errors import InputError
from sensor_io.recording import Recording

ANALYSIS_VERSION = 1
REP_EXTRAS = ("not_measured", "cut_by_gap")
"""Rep keys beyond the contract: measure -> why it is null; which ends a gap cut."""


@dataclass
class Analysis:
    """Everything one analysis produced (series kept for plots and review)."""

    recording: Recording
    calibration: Calibration
    body: Body
    body_source: dict[str, str]
    motion: Motion
    series: MeasureSeries
    reps: list[dict[str, Any]]
    partial: list[dict[str, float]]
    checklist: Checklist
    config: RuleConfig = field(default_factory=RuleConfig)
    classifier: dict[str, Any] = field(default_factory=dict)  # classifier_inputs' note
    notes: list[str] = field(default_factory=list)  # doubts found while analysing

    @property
    def sensors_used(self) -> list[str]:
        return list(self.calibration.sensors)

    def to_json(self) -> dict[str, Any]:
        """The analysis contract (DESIGN.md) with its documented extras."""
        scored = self.checklist.to_json()
        return {
            "format": "stepdown-analysis", "version": ANALYSIS_VERSION,
            "test_leg": self.recording.test_leg,
            "sensors_used": self.sensors_used,
            "calibration": self.calibration.to_json(),
            "body": {"thigh_length_m": round(self.body.thigh_m, 3),
                     "shank_length_m": round(self.body.shank_m, 3),
                     "foot_medial_offset_m": round(self.body.foot_medial_offset_m, 3),
                     "source": self.body_source,
                     "knee_medial_from": self.series.knee_source},
            "reps": [rep | {k: r[k] for k in REP_EXTRAS if k in r}
                     for rep, r in zip(scored["reps"], self.reps, strict=True)],
            "test": scored["test"],
            "skipped": [{"start_s": round(p["start_s"], 3), "end_s": round(p["end_s"], 3),
                         "reason": "partial rep (less than half the usual depth)"}
                        for p in self.partial],
            "flags": self.checklist.flags_json(),
            "explanations": self.checklist.explanations(self.recording.test_leg),
            "rules": {"note": "thresholds are default heuristics, not validated cut-offs"
                      if not self.config.origins else "thresholds configured",
                      "test_rule": self.checklist.test.rule},
            "classifier": self.classifier,
            "completeness": self.completeness(),
            "uncertainty": self.uncertainty(),
            "warnings": self.warnings(),
        }

    def warnings(self) -> list[str]:
        """Plain-language doubts about the recording as a whole (empty when none)."""
        out = list(self.notes)
        if not self.reps:
            out.append("no complete step-down rep found")
        if len(self.partial) > max(3, len(self.reps)):
            out.append(f"{len(self.partial)} movements were shallower than half the usual depth "
                       f"against {len(self.reps)} full reps: this does not look like a "
                       "step-down test; check the recording before trusting the scores")
        return out

    def uncertainty(self) -> dict[str, Any]:
        """The uncertainty of each measure the reps have, the borderline rep items, and
        the range of test totals and categories they and the unassessed items allow."""
        measured = {k for rep in self.reps for k, v in rep["measures"].items() if v is not None}
        simulated = {k: v for k, v in measure_uncertainty(self.series.knee_source,
                                                          self.calibration).items()
                     if k in measured and k not in UNVALIDATED}
        u = with_reality(simulated)
        borderline = find_borderline(self.checklist, u)
        return {"basis": f"{REALITY_BASIS}; simulated: {UNCERTAINTY_BASIS}",
                "case": calibration_case(self.calibration), "measures": u,
                "simulated": simulated,
                "model_to_reality": {k: v for k, v in MODEL_TO_REALITY.items() if k in u},
                "unvalidated": {k: v for k, v in UNVALIDATED.items() if k in measured},
                "borderline": [b.to_json() for b in borderline],
                **total_range(self.checklist, borderline).to_json()}

    def completeness(self) -> dict[str, Any]:
        """Which test-level items could not be assessed, and the highest total then possible."""
        test = self.checklist.test
        missing = [k for k, v in test.items.items() if v is None]
        worst = {"knee": 2}
        return {"not_assessed": missing,
                "total_upper_bound": test.total + sum(worst.get(k, 1) for k in missing)}


def body_of(rec: Recording) -> tuple[Body, dict[str, str]]:
    """Body dimensions from the metadata, filling gaps from height (or the default height)."""
    a = rec.athlete
    height = a.height_m or DEFAULT_HEIGHT_M
    body = Body.from_height(height, thigh_m=a.thigh_length_m, shank_m=a.shank_length_m,
                            foot_medial_offset_m=a.foot_medial_offset_m)
    h_src = "height" if a.height_m else f"default height {DEFAULT_HEIGHT_M} m"
    source = {
        "thigh_length_m": "recording" if a.thigh_length_m else f"from {h_src}",
        "shank_length_m": "recording" if a.shank_length_m else f"from {h_src}",
        "foot_medial_offset_m": "recording" if a.foot_medial_offset_m else "default",
    }
    return body, source


SENSOR_FOR_ITEM = {"arm": "wrist", "trunk": "trunk"}


def _classifier_can_help(rec: Recording, summary: dict[str, Any] | None) -> bool:
    """Could the shipped model decide an item the worn sensors cannot measure?

    summary: the model's (:func:`read_summary`). Unknown (no summary beside the
    model) counts as yes: the model is then loaded.
    """
    if summary is None:
        return True
    usable = usable_items_from_cv(summary.get("cv", {}))
    return any(not usable[item] and rec.stream(seg) is None for item, seg in SENSOR_FOR_ITEM.items())


def _classifier_not_needed(summary: dict[str, Any] | None) -> dict[str, Any]:
    summary = summary or {}
    withheld = {k: v for k, v in usable_items_from_cv(summary.get("cv", {})).items() if v}
    return {"status": "not needed: no missing item that the model can judge",
            "model": f"data/{model_info.shipped_model_path().name}",
            "trained_on": (summary.get("training") or {}).get("source", ""),
            "withheld": withheld,
            "quality": "not computed (ask for it: stepdown analyze --quality)"}


def _recorded_pain(rec: Recording, n_reps: int) -> tuple[Any, list[str]]:
    """The recording's pain report matched to the reps found, and a note when they differ.

    Per-rep pain is matched in order; reps beyond the report get none (a live
    recording in progress has fewer reps than the athlete will report).
    """
    pain = rec.pain_nrs
    if not isinstance(pain, list) or len(pain) == n_reps:
        return pain, []
    note = (f"pain was reported for {len(pain)} reps but {n_reps} were found: "
            "matched to the reps in order")
    return (list(pain) + [None] * n_reps)[:n_reps], [note]


def _rows(table: pd.DataFrame) -> list[dict[str, float]]:
    """A segmenter's table as one dict of Python floats per row (what to_dict("records")
    gives, without pandas' per-row cost)."""
    columns = {c: table[c].to_numpy(dtype=np.float64).tolist() for c in table.columns}
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _reps_by_piece(depth: np.ndarray, t: np.ndarray, pieces: list[slice]
                   ) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Full and partial reps segmented inside each data piece (a rep never spans a gap);
    each row also holds its piece's first and last time (piece_t0, piece_t1, s)."""
    full, partial = [], []
    for sl in pieces:
        tp = t[sl]
        if len(tp) < 16:
            continue
        seg = RepSegmenter().segment(depth[sl], tp)
        edge = {"piece_t0": float(tp[0]), "piece_t1": float(tp[-1])}
        full += [r | edge for r in _rows(seg.reps_)]
        partial += [r | edge for r in _rows(seg.partial_)]
    return full, partial


ITEM_MEASURES = {"knee": ("knee_medial_cm",), "pelvis": ("pelvic_drop_deg",),
                 "trunk": ("trunk_lean_deg",), "arm": ("wrist_motion_deg",)}
"""The measure(s) each rule item is decided from."""


def _not_for_unmeasured(cls_items: list | None, reps: list[dict]) -> list | None:
    """The classifier's rep items with those whose measure was found "not measured" taken
    out: a rep that cannot be measured is not scored from the same data by a model."""
    if cls_items is None:
        return None
    out = []
    for items, rep in zip(cls_items, reps, strict=True):
        unknown = set(rep.get("not_measured", {}))
        out.append(None if items is None else
                   {k: (None if unknown.intersection(ITEM_MEASURES.get(k, ())) else v)
                    for k, v in items.items()})
    return out


def _quiet_windows_with_data(motion: Motion, spans: list[tuple[float, float]]) -> list[np.ndarray]:
    """The standing pauses between reps (:func:`quiet_windows`) with the samples of a gap
    taken out: interpolated samples there look still but say nothing of the heading."""
    any_gap = np.zeros(len(motion.t), dtype=bool)
    for m in motion.segments.values():
        any_gap |= m.gap
    kept = [idx[~any_gap[idx]] for idx in quiet_windows(motion, spans)]  # sample indices
    return [idx for idx in kept if len(idx) >= 20]


def _oriented(rec: Recording, standing: Recording | None, mode: str
              ) -> tuple[Recording, StandingWindow, dict[str, np.ndarray], dict[str, Any]]:
    """The recording (with a separate standing recording put in front when given), its
    standing window, gyro biases and every sensor's orientation."""
    if standing is not None:
        rec, window = with_standing(rec, standing)
    else:
        window = standing_window(rec)
    biases = gyro_biases(rec, window)
    return rec, window, biases, sensor_orientations(rec, biases, mode=mode)


def _calibrated(rec: Recording, window: StandingWindow, biases: dict[str, np.ndarray],
                orientations: dict[str, Any], body: Body) -> Calibration:
    vertical = {p: o.vertical_in_sensor() for p, o in orientations.items() if uses_flexion_axis(p)}
    return calibrate(rec, window=window, biases=biases, vertical=vertical,
                     tracks=standing_tracks(orientations, window), body=body)


def session_calibration(rec: Recording, standing: Recording | None = None) -> Calibration:
    """The calibration of one set (its sensor-to-segment frames), to reuse for the other
    sets of the same session (:func:`analyze`'s ``session``): a set with too little
    movement to find the flexion axes (a static hold) is then still measured."""
    body, _ = body_of(rec)
    rec, window, biases, orientations = _oriented(rec, standing, "offline")
    return _calibrated(rec, window, biases, orientations, body)


def reuse_calibration(session: Calibration, rec: Recording, window: StandingWindow,
                      biases: dict[str, np.ndarray]) -> Calibration:
    """A session's sensor-to-segment frames with this recording's standing window and gyro
    biases; CalibrationError when the sensors differ (the frames belong to other straps)."""
    if set(session.sensors) != set(rec.streams):
        raise CalibrationError(
            f"--calibration-from: that set has sensors {', '.join(sorted(session.sensors))} "
            f"but this one has {', '.join(sorted(rec.streams))}; give a set of the same session "
            "with the same sensors")
    return Calibration(window, {p: replace(c, gyr_bias=biases[p],
                                           method=f"{c.method} (reused from the session)")
                                for p, c in session.sensors.items()})


def analyze(rec: Recording, config: RuleConfig | None = None, rule: str | None = None,
            pain_nrs: float | list[float] | None = None, mode: str = "offline",
            classify: bool = True, quality: bool = False,
            standing: Recording | None = None, session: Calibration | None = None) -> Analysis:
    """Analyse one recording end to end (see module docstring).

    pain_nrs overrides the recording's own pain report; rule overrides the
    config's test rule ("majority", "any", "worst"). classify: use the shipped
    classifier for items the sensors cannot measure (False: they stay not_assessed).
    quality: also give the classifier's per-rep quality probability (loads the
    model even when no item needs it). standing: a separate standing recording of the
    same sensors (a static trial, an earlier set of the session) to calibrate from,
    put in front of ``rec`` with a gap (:func:`analysis.recording_pieces.with_standing`).
    session: the sensor-to-segment frames of another set of the same session
    (:func:`session_calibration`) used instead of finding them in this recording.
    """
    body, body_source = body_of(rec)
    config = config or RuleConfig()
    if rec.athlete.foot_medial_offset_m and "knee_cm_2" not in dict(config.origins):
        config = config.with_foot_offset(rec.athlete.foot_medial_offset_m)
    rec, window, biases, orientations = _oriented(rec, standing, mode)
    if session is None:
        cal = _calibrated(rec, window, biases, orientations, body)
    else:
        cal = reuse_calibration(session, rec, window, biases)
    motion = segment_motion(rec, cal, orientations)
    if standing is not None:
        motion = face_as_in_recording(motion, rec.test_leg)
    depth = depth_rad(motion, rec.test_leg)
    multi_piece = any(len(o.spans) > 1 for o in orientations.values())
    pieces = data_pieces(motion, rec.test_leg) if multi_piece else [slice(None)]
    full, partial = _reps_by_piece(depth, motion.t, pieces)
    spans = sorted((r["start_s"], r["end_s"]) for r in full + partial)
    motion = correct_heading_drift(motion, _quiet_windows_with_data(motion, spans))
    series = measure_series(motion, rec.test_leg, body, depth)
    reps, notes = [], cal.notes()
    if standing is not None:
        notes.append(f"calibrated from a separate standing recording, put {STANDING_GAP_S:g} s "
                     "before this one (the calibration window's times are on that clock); "
                     "this recording is faced by its own pelvis heading")
    for i, r in enumerate(full, 1):
        start_s, bottom_s, end_s = r["start_s"], r["bottom_s"], r["end_s"]
        measures = rep_measures(series, start_s, bottom_s, end_s)
        silent = drop_measures_in_gaps(measures, motion, rec.test_leg, start_s, end_s)
        if silent:
            notes.append(f"rep {i}: no data from {', '.join(silent)} for part of the rep; "
                         "the measures that need it are left out")
        ctx = RepContext((r["piece_t0"], r["piece_t1"]),
                         heading_guessed_in(motion, start_s, end_s))
        not_measured = {k: f"no data from {', '.join(silent)} during the rep"
                        for k, v in measures.items() if v is None and silent}
        not_measured |= check_rep(measures, ctx)
        rep = {"index": i, "start_s": round(start_s, 3), "bottom_s": round(bottom_s, 3),
               "end_s": round(end_s, 3), "measures": mark_unvalidated(measures)}
        if not_measured:
            rep["not_measured"] = not_measured
        if multi_piece and (cut := cut_by_gap(start_s, end_s, ctx)):
            rep["cut_by_gap"] = cut
        reps.append(rep)
    if isinstance(pain_nrs, list) and len(pain_nrs) != len(reps):
        raise InputError(f"pain: {len(pain_nrs)} values given for the {len(reps)} reps found; "
                         "give one per rep or one number for the whole test")
    pain, pain_notes = _recorded_pain(rec, len(reps)) if pain_nrs is None else (pain_nrs, [])
    notes += pain_notes
    cls_items, cls_proba, cls_info = None, None, {"status": "not asked"}
    summary = read_summary() if classify else None
    if classify and (quality or _classifier_can_help(rec, summary)):
        from analysis.classifier import classifier_inputs  # scikit-learn: ~1 s to import

        cls_items, cls_proba, cls_info = classifier_inputs(reps, series, motion, rec.test_leg, config)
        cls_items = _not_for_unmeasured(cls_items, reps)
    elif classify:
        cls_info = _classifier_not_needed(summary)
    checklist = score_test(reps, config, pain_nrs=pain, rule=rule,
                           classifier_items=cls_items, classifier_proba=cls_proba)
    return Analysis(rec, cal, body, body_source, motion, series, reps, partial, checklist, config,
                    cls_info, notes)
