"""The whole analysis of one recording, one code path for files and live streams.

Standing window and gyro biases -> orientation per sensor (vqf) -> sensor-to-segment
calibration -> segment motion in the facing frame -> rep segmentation -> heading
drift removed in the standing pauses -> measures -> checklist.

``analyze(rec)`` returns an :class:`Analysis`; ``Analysis.to_json()`` is the
analysis contract of DESIGN.md plus documented extra keys: ``body`` (dimensions
used and where they came from), ``skipped`` (partial reps), ``flags`` (rule vs
classifier disagreements), per rep ``not_measured`` (measure -> why it is null) and
``cut_by_gap`` (the rep's ends that lie on a gap), ``explanations``, ``rules`` (the note on
the thresholds and the test rule), ``config`` (every setting the analysis was made with,
:meth:`analysis.config.AnalysisConfig.to_json`), ``classifier`` (whether
the shipped rep classifier was used, targets withheld, quality probabilities; see
:func:`analysis.classifier.classifier_inputs`), ``completeness`` (items not
assessed and the highest total then possible), ``uncertainty`` (each measure's
uncertainty, borderline rep items and the range of totals and categories, see
:mod:`analysis.uncertainty`; ``unvalidated`` names the measures with no real-data
validation, :mod:`analysis.validation`) and ``warnings``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np

from analysis import model_info, registry
from analysis.checklist import Checklist, score_test
from analysis.config import MAX_BRIDGE_S, AnalysisConfig, SegmentationConfig
from analysis.measures import (
    HIP_SHIFT_MEASURED,
    MeasureSeries,
    depth_rad,
    drop_measures_in_gaps,
    measure_series,
    rep_measures,
)
from analysis.model_info import read_summary, usable_items_from_cv
from analysis.recording_pieces import (
    STANDING_GAP_S,
    LegAlignment,
    RepContext,
    align_leg_headings,
    check_rep,
    cut_by_gap,
    data_pieces,
    face_as_in_recording,
    heading_guessed_in,
    hip_aligned_at,
    piece_tracks,
    with_standing,
)
from analysis.rep_segmentation import RepSegmenter
from analysis.result import (
    SCHEMA_VERSION,
    AnalysisResult,
    Flag,
    MeasuredRep,
    RecordingSummary,
    RepMeasures,
    Skipped,
)
from analysis.rules import TEST_RULES, RuleConfig
from analysis.segment_motion import (
    Motion,
    SensorOrientation,
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
    REALITY_BASIS,
    UNVALIDATED,
    mark_unvalidated,
    reality_terms,
    with_reality,
)
from analysis.walking import outside_bouts, thigh_pitch_rad, walking_bouts
from calibration import (
    Calibration,
    CalibrationError,
    StandingLimits,
    StandingWindow,
    calibrate,
    gyro_biases,
    standing_window,
)
from calibration.calibrate import GUIDED_METHOD, CalibrationLimits, uses_flexion_axis
from sensor_io.anthropometry import DEFAULT_HEIGHT_M, Body
from sensor_io.errors import InputError
from sensor_io.frozen_frames import FrozenLimits, FrozenRun, frozen_during, without_frozen
from sensor_io.json_doc import JSONDoc
from sensor_io.recording import Recording, calibration_movement_window

ANALYSIS_VERSION = SCHEMA_VERSION


@dataclass
class Analysis:
    """Everything one analysis produced (series kept for plots and review)."""

    recording: Recording
    """The recording analysed (with a standing pose put in front when one was given, and
    frozen frames' repeats left out: :mod:`sensor_io.frozen_frames`)."""
    calibration: Calibration
    """The standing window and every sensor's frame."""
    body: Body
    """Segment lengths used, m."""
    body_source: dict[str, str]
    """Body dimension -> where it came from."""
    motion: Motion
    """The segments' motion on the common grid, facing frame."""
    series: MeasureSeries
    """The measure series on that grid, relative to standing."""
    reps: list[MeasuredRep]
    """The full reps found, measured (not yet scored: :attr:`checklist`)."""
    partial: list[dict[str, float]]
    """Partial reps: ``start_s``, ``end_s`` (s)."""
    checklist: Checklist
    """The scored reps and test."""
    config: RuleConfig = field(default_factory=RuleConfig)
    """The rule thresholds used."""
    classifier: JSONDoc = field(default_factory=dict)
    """The note of :func:`analysis.classifier.classifier_inputs`."""
    notes: list[str] = field(default_factory=list)
    """Doubts found while analysing."""
    settings: AnalysisConfig = field(default_factory=AnalysisConfig)
    """Every setting the analysis was made with (its rules: ``config``, as used)."""

    @property
    def sensors_used(self) -> list[str]:
        """The placements the analysis used."""
        return list(self.calibration.sensors)

    def to_json(self) -> JSONDoc:
        """The analysis contract (DESIGN.md) with its documented extras.

        Returns
        -------
        dict
            The JSON of :meth:`result`.
        """
        return self.result().to_json()

    def result(self) -> AnalysisResult:
        """The typed result of this analysis.

        Returns
        -------
        AnalysisResult
            What ``stepdown analyze --json`` prints, typed (:mod:`analysis.result`).
        """
        body = {"thigh_length_m": round(self.body.thigh_m, 3),
                "shank_length_m": round(self.body.shank_m, 3),
                "foot_medial_offset_m": round(self.body.foot_medial_offset_m, 3),
                "source": self.body_source, "knee_medial_from": self.series.knee_source}
        test = self.checklist.test
        return AnalysisResult(
            recording=RecordingSummary(self.recording.test_leg, tuple(self.sensors_used),
                                       self.calibration.to_json(), body),
            reps=tuple(r.rep() for r in self.checklist.reps),
            test=test,
            version=ANALYSIS_VERSION,
            skipped=tuple(Skipped(round(p["start_s"], 3), round(p["end_s"], 3),
                                  "partial rep (less than half the usual depth)")
                          for p in self.partial),
            flags=tuple(Flag(f.rep_index, f.item, f.rule, f.classifier, f.probability)
                        for f in self.checklist.flags),
            explanations=tuple(self.checklist.explanations(self.recording.test_leg)),
            rules={"note": "thresholds are default heuristics, not validated cut-offs"
                   if not self.config.origins else "thresholds configured",
                   "test_rule": test.rule},
            config=self.settings.to_json(),
            classifier=self.classifier, completeness=self.completeness(),
            uncertainty=self.uncertainty(), warnings=tuple(self.warnings()))

    def warnings(self) -> list[str]:
        """Plain-language doubts about the recording as a whole.

        Returns
        -------
        list of str
            Empty when there are none.
        """
        out = list(self.notes)
        if not self.reps:
            out.append("no complete step-down rep found")
        if len(self.partial) > max(3, len(self.reps)):
            out.append(f"{len(self.partial)} movements were shallower than half the usual depth "
                       f"against {len(self.reps)} full reps: this does not look like a "
                       "step-down test; check the recording before trusting the scores")
        return out

    def uncertainty(self) -> JSONDoc:
        """How sure the result is.

        Returns
        -------
        dict
            The uncertainty of each measure the reps have (90 % bounds in the measures'
            units), the borderline rep items, and the range of test totals and categories
            they and the unassessed items allow.
        """
        measured = {k for rep in self.reps for k in rep.measures.names
                    if rep.measures.get(k) is not None}
        simulated = {k: v for k, v in measure_uncertainty(self.series.knee_source,
                                                          self.calibration,
                                                          self.settings.uncertainty).items()
                     if k in measured and k not in UNVALIDATED}
        case = calibration_case(self.calibration)
        u = with_reality(simulated, case, self.settings.model_to_reality)
        borderline = find_borderline(self.checklist, u)
        return {"basis": f"{REALITY_BASIS}; simulated: {UNCERTAINTY_BASIS}",
                "case": case, "measures": u,
                "simulated": simulated,
                "model_to_reality": {k: v for k, v in reality_terms(
                    case, self.settings.model_to_reality).items() if k in u},
                "unvalidated": {k: v for k, v in UNVALIDATED.items() if k in measured},
                "borderline": [b.to_json() for b in borderline],
                **total_range(self.checklist, borderline).to_json()}

    def completeness(self) -> JSONDoc:
        """What the sensors could not assess.

        Returns
        -------
        dict
            ``not_assessed`` (test-level items) and ``total_upper_bound`` (the highest
            total then possible).
        """
        test = self.checklist.test
        missing = [k for k, v in test.items.items() if v is None]
        return {"not_assessed": missing,
                "total_upper_bound": test.total + sum(registry.item(k).max_points for k in missing)}


IMPACT_MIN_RATE_HZ = 50.0
"""Below this rate (the fastest of the pelvis and leg sensors) the impact at the bottom of
a rep is under-read: ``python -m benchmarks variants`` (docs/accuracy.md, "Variants not
tuned on") reads 13 of 13 simulated hard landings over the threshold at 100 Hz, 11 at
50 Hz and 4 at 25 Hz."""


def low_rate_notes(rec: Recording) -> list[str]:
    """A warning when the impact at the bottom of a rep cannot be read in full.

    The impact is the largest high-passed specific force over the pelvis and leg sensors,
    so it is under-read only when the fastest of them streams below IMPACT_MIN_RATE_HZ.

    Parameters
    ----------
    rec : Recording
        The recording.

    Returns
    -------
    list of str
        One note, or none.
    """
    rates = [s.rate_hz for p, s in rec.streams.items()
             if p.startswith(("pelvis", "thigh", "shank")) and len(s) > 1]
    if not rates or max(rates) >= IMPACT_MIN_RATE_HZ:
        return []
    return [f"the pelvis and leg sensors stream at {max(rates):.0f} Hz at most, below "
            f"{IMPACT_MIN_RATE_HZ:.0f} Hz: an impact at the bottom of a rep is under-read, so "
            "the descent item may miss an uncontrolled descent (in simulation 4 of 13 hard "
            "landings found at 25 Hz, 13 of 13 at 100 Hz)"]


def body_of(rec: Recording) -> tuple[Body, dict[str, str]]:
    """Body dimensions from the metadata, filling gaps from height (or the default height).

    Parameters
    ----------
    rec : Recording
        The recording (its athlete metadata).

    Returns
    -------
    tuple of (Body, dict)
        The dimensions (m) and, per dimension, where it came from.
    """
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


SENSOR_FOR_ITEM = registry.sensor_for_item()


def _classifier_can_help(rec: Recording, summary: JSONDoc | None) -> bool:
    """Could the shipped model decide an item the worn sensors cannot measure?

    summary: the model's (:func:`read_summary`). Unknown (no summary beside the
    model) counts as yes: the model is then loaded.
    """
    if summary is None:
        return True
    usable = usable_items_from_cv(summary.get("cv", {}))
    return any(not usable[item] and rec.stream(seg) is None for item, seg in SENSOR_FOR_ITEM.items())


def _classifier_not_needed(summary: JSONDoc | None) -> JSONDoc:
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


def _rows(table: np.recarray) -> list[dict[str, float]]:
    """A segmenter's table as one dict of Python floats per row."""
    return [dict(zip(table.dtype.names, row, strict=True)) for row in table.tolist()]


def _reps_by_piece(depth: np.ndarray, t: np.ndarray, pieces: list[slice], walking: np.ndarray,
                   segmentation: SegmentationConfig
                   ) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Full and partial reps segmented inside each data piece (a rep never spans a gap),
    outside the walking bouts (``walking``: (K, 2) sample index ranges), each set apart;
    each row also holds its piece's first and last time (piece_t0, piece_t1, s)."""
    full, partial = [], []
    for piece in pieces:
        tp = t[piece]
        if len(tp) < 16:
            continue
        edge = {"piece_t0": float(tp[0]), "piece_t1": float(tp[-1])}
        for sl in outside_bouts(piece, walking, len(t)):
            if sl.stop - sl.start < 16:
                continue
            seg = RepSegmenter(**asdict(segmentation)).segment(depth[sl], t[sl])
            full += [r | edge for r in _rows(seg.reps_)]
            partial += [r | edge for r in _rows(seg.partial_)]
    return full, partial


def _walking(motion: Motion, test_leg: str) -> np.ndarray:
    """(K, 2) sample index ranges of the walking bouts (:mod:`analysis.walking`)."""
    thigh = motion.get("thigh", test_leg)
    pitch = thigh_pitch_rad(thigh.q_facing_seg)
    return walking_bouts(motion.t, pitch - np.mean(pitch[motion.standing]))


ITEM_MEASURES = registry.item_measures()
"""The measure(s) each rule item is decided from."""


def _not_for_unmeasured(cls_items: list | None, reps: list[MeasuredRep]) -> list | None:
    """The classifier's rep items with those whose measure was found "not measured" taken
    out: a rep that cannot be measured is not scored from the same data by a model."""
    if cls_items is None:
        return None
    out = []
    for items, rep in zip(cls_items, reps, strict=True):
        unknown = set(rep.not_measured or {})
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


class _Oriented(NamedTuple):
    """A recording made ready for calibration (:func:`_oriented`)."""

    rec: Recording
    window: StandingWindow
    biases: dict[str, np.ndarray]
    orientations: dict[str, SensorOrientation]
    frozen: list[FrozenRun]


def _oriented(rec: Recording, standing: Recording | None, mode: str,
              max_bridge_s: float = MAX_BRIDGE_S, limits: StandingLimits | None = None,
              frozen: FrozenLimits | None = None) -> _Oriented:
    """The recording (with a separate standing recording put in front when given, and the
    repeats of frozen frames left out: :mod:`sensor_io.frozen_frames`), its standing window,
    gyro biases, every sensor's orientation and the frozen runs left out."""
    if standing is not None:
        rec, window = with_standing(rec, standing, limits)
    else:
        window = standing_window(rec, limits)
    biases = gyro_biases(rec, window)
    rec, runs = without_frozen(rec, biases, frozen)
    return _Oriented(rec, window, biases,
                     sensor_orientations(rec, biases, mode=mode, max_bridge_s=max_bridge_s), runs)


def _calibrated(rec: Recording, window: StandingWindow, biases: dict[str, np.ndarray],
                orientations: dict[str, SensorOrientation], body: Body,
                limits: CalibrationLimits | None = None) -> Calibration:
    legs = {p: o for p, o in orientations.items() if uses_flexion_axis(p)}
    movement = calibration_movement_window(rec)
    # the legs' vertical for their flexion axes; the pelvis's for its heading from the bends
    tilting = {**legs, **({"pelvis": orientations["pelvis"]}
                          if movement is not None and "pelvis" in orientations else {})}
    vertical = {p: o.vertical_in_sensor() for p, o in tilting.items()}
    in_pieces = any(len(o.spans) > 1 for o in orientations.values())
    tracks = piece_tracks(legs) if in_pieces else standing_tracks(legs, window)
    return calibrate(rec, window=window, biases=biases, vertical=vertical, tracks=tracks, body=body,
                     movement=movement, limits=limits)


def _outside(reps: list[dict[str, float]], window: tuple[float, float] | None
             ) -> list[dict[str, float]]:
    """The reps that do not start inside the guided calibration movement's window (its
    knee bends are not step-downs)."""
    if window is None:
        return reps
    return [r for r in reps if not window[0] <= r["start_s"] <= window[1]]


def _hip_spans(cal: Calibration, test_leg: str, reps: list[dict[str, float]]
               ) -> list[tuple[float, float]] | None:
    """The reps' (start_s, end_s) in time order, over which the pelvis sensor measures the
    hip's sideways shift for the knee without a shank (:mod:`analysis.hip_shift`): only
    when the thigh's frame came from the guided knee bends.  A flexion axis found in the
    reps has taken in the leg's tilt over the foot that balance brings with depth
    (docs/accuracy.md): the thigh's frame then already holds part of that shift, and
    adding the measured shift would count it twice; None then (the hip taken as staying
    over the foot)."""
    thigh = cal.sensors.get(f"thigh_{test_leg}")
    if thigh is None or not thigh.method.startswith(GUIDED_METHOD):
        return None
    return sorted((r["start_s"], r["end_s"]) for r in reps)


def session_calibration(rec: Recording, standing: Recording | None = None,
                        config: AnalysisConfig | None = None) -> Calibration:
    """The calibration of one set, to reuse for the other sets of the same session
    (:func:`analyze`'s ``session``): a set with too little movement to find the flexion
    axes (a static hold) is then still measured.

    Parameters
    ----------
    rec : Recording
        The set with movement enough to calibrate from.
    standing : Recording, optional
        A separate standing recording of the same sensors.
    config : AnalysisConfig, optional
        The settings the sets are analysed with (default: the defaults); its orientation
        filter, gap bridge, standing and calibration limits make the frames, so the result
        analysed with them saves every setting that made it.

    Returns
    -------
    Calibration
        Its sensor-to-segment frames.
    """
    settings = config or AnalysisConfig()
    body, _ = body_of(rec)
    rec, window, biases, orientations, _ = _oriented(rec, standing, settings.orientation_mode,
                                                     settings.max_bridge_s, settings.standing,
                                                     settings.frozen)
    return _calibrated(rec, window, biases, orientations, body, settings.calibration)


def reuse_calibration(session: Calibration, rec: Recording, window: StandingWindow,
                      biases: dict[str, np.ndarray]) -> Calibration:
    """A session's sensor-to-segment frames with this recording's standing window and gyro
    biases.

    Parameters
    ----------
    session : Calibration
        The session's calibration (:func:`session_calibration`).
    rec : Recording
        This recording.
    window : StandingWindow
        Its standing window.
    biases : dict of str to numpy.ndarray
        Its gyro biases, (3,) rad/s per placement.

    Returns
    -------
    Calibration
        The frames with this window and these biases; CalibrationError when the sensors
        differ (the frames belong to other straps).
    """
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
    """Analyse one recording end to end (see module docstring) with the default settings
    but those given: :class:`StepDownPipeline` built from them.

    Parameters
    ----------
    rec : Recording
        The recording.
    config : RuleConfig, optional
        The rule thresholds (default: the defaults).
    rule : str, optional
        Overrides their test rule ("majority", "any", "worst").
    pain_nrs : float or list of float, optional
        See :meth:`StepDownPipeline.analyze`.
    mode : str
        The orientation filter, "offline" or "causal".
    classify : bool
        Use the shipped classifier for items the sensors cannot measure (False: they stay
        not_assessed).
    quality : bool
        Also give the classifier's per-rep quality probability (loads the model even when
        no item needs it).
    standing : Recording, optional
        See :meth:`StepDownPipeline.analyze`.
    session : Calibration, optional
        See :meth:`StepDownPipeline.analyze`.

    Returns
    -------
    Analysis
        Everything the analysis produced; its :meth:`Analysis.result` is the typed result.
    """
    settings = analysis_config(config, rule, mode, classify, quality)
    return StepDownPipeline(settings).analyze(rec, pain_nrs=pain_nrs, standing=standing,
                                              session=session)


def analysis_config(config: RuleConfig | None = None, rule: str | None = None,
                    mode: str = "offline", classify: bool = True, quality: bool = False
                    ) -> AnalysisConfig:
    """The settings :func:`analyze` analyses with, given its arguments, for a caller that
    also needs them elsewhere (:func:`session_calibration`).

    Parameters
    ----------
    config : RuleConfig, optional
        The rule thresholds (default: the defaults).
    rule : str, optional
        Overrides their test rule ("majority", "any", "worst").
    mode : str
        The orientation filter, "offline" or "causal".
    classify : bool
        Use the shipped classifier for items the sensors cannot measure.
    quality : bool
        Also give the classifier's per-rep quality probability.

    Returns
    -------
    AnalysisConfig
        The defaults with these rules, test rule, orientation filter and classifier use;
        InputError (one line) for an unknown test rule.
    """
    rules = config or RuleConfig()
    if rule is not None:
        if rule not in TEST_RULES:
            raise InputError(f"test rule must be one of {', '.join(TEST_RULES)}, got {rule!r}")
        rules = replace(rules, test_rule=rule)
    return AnalysisConfig(rules=rules, orientation_mode=mode, classify=classify,
                          quality=quality)


@dataclass(frozen=True)
class StepDownPipeline:
    """The analysis as an object built from its settings: ``StepDownPipeline(config)``, then
    :meth:`analyze` per recording; :meth:`clone` gives one with other settings (a sweep,
    a comparison), as tpcp pipelines do. Every result carries the settings it was made
    with (:attr:`Analysis.settings`, the ``config`` block of its JSON)."""

    config: AnalysisConfig = field(default_factory=AnalysisConfig)
    """Every setting of the analysis."""

    def clone(self, **changes: Any) -> StepDownPipeline:
        """This pipeline with settings changed.

        Parameters
        ----------
        **changes
            Settings by name, as :meth:`AnalysisConfig.clone` takes them.

        Returns
        -------
        StepDownPipeline
            A new pipeline; this one is unchanged.
        """
        return StepDownPipeline(self.config.clone(**changes))

    def analyze(self, rec: Recording, pain_nrs: float | list[float] | None = None,
                standing: Recording | None = None, session: Calibration | None = None
                ) -> Analysis:
        """Analyse one recording.

        Parameters
        ----------
        rec : Recording
            The recording.
        pain_nrs : float or list of float, optional
            Overrides the recording's own pain report (0-10, per rep or one for the test).
        standing : Recording, optional
            A separate standing recording of the same sensors (a static trial, an earlier
            set of the session) to calibrate from, put in front of ``rec`` with a gap
            (:func:`analysis.recording_pieces.with_standing`).
        session : Calibration, optional
            The sensor-to-segment frames of another set of the same session
            (:func:`session_calibration`), used instead of finding them in this recording.

        Returns
        -------
        Analysis
            Everything the analysis produced.
        """
        return _analyze(rec, self.config, pain_nrs, standing, session)

    def session_calibration(self, rec: Recording, standing: Recording | None = None
                            ) -> Calibration:
        """:func:`session_calibration` with this pipeline's settings, for its :meth:`analyze`'s
        ``session``.

        Parameters
        ----------
        rec : Recording
            The set with movement enough to calibrate from.
        standing : Recording, optional
            A separate standing recording of the same sensors.

        Returns
        -------
        Calibration
            Its sensor-to-segment frames.
        """
        return session_calibration(rec, standing, self.config)


def _analyze(rec: Recording, settings: AnalysisConfig, pain_nrs: float | list[float] | None,
             standing: Recording | None, session: Calibration | None) -> Analysis:
    config, mode = settings.rules, settings.orientation_mode
    classify, quality = settings.classify, settings.quality
    body, body_source = body_of(rec)
    if rec.athlete.foot_medial_offset_m and "knee_cm_2" not in dict(config.origins):
        config = config.with_foot_offset(rec.athlete.foot_medial_offset_m)
    rec, window, biases, orientations, frozen = _oriented(
        rec, standing, mode, settings.max_bridge_s, settings.standing, settings.frozen)
    if session is None:
        cal = _calibrated(rec, window, biases, orientations, body, settings.calibration)
    else:
        cal = reuse_calibration(session, rec, window, biases)
    multi_piece = any(len(o.spans) > 1 for o in orientations.values())
    motion = segment_motion(rec, cal, orientations, consume=True)  # own-rate arrays freed
    if standing is not None:
        motion = face_as_in_recording(motion, rec.test_leg)
    aligned: list[LegAlignment] = []
    if multi_piece:
        motion, aligned = align_leg_headings(motion, rec.test_leg, settings.max_bridge_s)
    depth = depth_rad(motion, rec.test_leg)
    pieces = (data_pieces(motion, rec.test_leg, settings.max_bridge_s) if multi_piece
              else [slice(None)])
    walking = _walking(motion, rec.test_leg)
    full, partial = _reps_by_piece(depth, motion.t, pieces, walking, settings.segmentation)
    movement = calibration_movement_window(rec)
    full, partial = _outside(full, movement), _outside(partial, movement)
    spans = sorted([(r["start_s"], r["end_s"]) for r in full + partial]
                   + ([movement] if movement else []))
    motion = correct_heading_drift(motion, _quiet_windows_with_data(motion, spans), consume=True)
    series = measure_series(motion, rec.test_leg, body, depth, settings.kinematics_cutoff_hz,
                            hip_spans=_hip_spans(cal, rec.test_leg, full + partial),
                            sacral_excess_deg=settings.sacral_excess_deg, pieces=pieces)
    reps: list[MeasuredRep] = []
    notes = cal.notes() + [run.warning() for run in frozen]
    if standing is not None:
        notes.append(f"calibrated from a separate standing recording, put {STANDING_GAP_S:g} s "
                     "before this one (the calibration window's times are on that clock); "
                     "this recording is faced by its own pelvis heading")
    notes += low_rate_notes(rec)
    if thigh_turns := [a.turn_deg for a in aligned if a.placement.startswith("thigh")]:
        turns = ", ".join(f"{d:+.0f}" for d in thigh_turns)
        notes.append(f"{len(thigh_turns)} pieces without the standing pose: the test leg's "
                     "headings there were aligned to the pelvis's (the hip's rotation where least "
                     f"flexed, the knee's flexion axis; thigh turned {turns} deg); hip rotation "
                     "is not measured in them")
    for i, r in enumerate(full, 1):
        start_s, bottom_s, end_s = r["start_s"], r["bottom_s"], r["end_s"]
        measures = rep_measures(series, start_s, bottom_s, end_s)
        silent = drop_measures_in_gaps(measures, motion, rec.test_leg, start_s, end_s,
                                       settings.max_gap_s)
        if series.knee_source == HIP_SHIFT_MEASURED and "pelvis" in silent:
            measures["knee_medial_cm"] = None  # its hip shift integrated a gap's guess
        if silent:
            notes.append(f"rep {i}: no data from {', '.join(silent)} for part of the rep; "
                         "the measures that need it are left out")
        ctx = RepContext((r["piece_t0"], r["piece_t1"]),
                         heading_guessed_in(motion, start_s, end_s),
                         hip_aligned_at(aligned, bottom_s))
        hung = [p for p in frozen_during(frozen, start_s, end_s) if p in silent]
        why = f" ({', '.join(hung)} repeated one frame: treated as a gap)" if hung else ""
        not_measured = {k: f"no data from {', '.join(silent)} during the rep{why}"
                        for k, v in measures.items() if v is None and silent}
        not_measured |= check_rep(measures, ctx)
        cut = cut_by_gap(start_s, end_s, ctx) if multi_piece else None
        reps.append(MeasuredRep(i, round(start_s, 3), round(bottom_s, 3), round(end_s, 3),
                                RepMeasures.from_json(mark_unvalidated(measures)),
                                not_measured or None, tuple(cut) if cut else None))
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
    checklist = score_test(reps, config, pain_nrs=pain,
                           classifier_items=cls_items, classifier_proba=cls_proba)
    return Analysis(rec, cal, body, body_source, motion, series, reps, partial, checklist, config,
                    cls_info, notes, replace(settings, rules=config))
