"""Every setting of an analysis in one frozen object, saved inside each result.

:class:`AnalysisConfig` holds the rule thresholds (:class:`analysis.rules.RuleConfig`),
the rep segmentation, what counts as standing (the calibration window), the flexion-axis
limits of the calibration, the kinematics filter, the gap tolerances (of the measures and of
the orientation filter), when a repeated frame is a frozen sensor's, the stated uncertainty
of each measure (simulated, and its model-to-reality term) and whether the rep classifier
runs.
:class:`analysis.pipeline.StepDownPipeline` is built from one;
:meth:`AnalysisConfig.clone` gives a copy with some settings changed (for a sweep or a
comparison, as tpcp's ``clone`` / ``set_params`` do), and :meth:`AnalysisConfig.to_json`
is the ``config`` block of the analysis document, which :meth:`AnalysisConfig.from_json`
reads back, so a result says how it was made and can be made again.

Results made before a setting existed read it as its default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from analysis.rules import RuleConfig, settable_names
from analysis.soft_tissue import SACRAL_EXCESS_DEG
from analysis.uncertainty_tables import stated_uncertainty
from analysis.validation import stated_reality_terms
from calibration.calibrate import CalibrationLimits
from calibration.standing import StandingLimits
from sensor_io.errors import InputError
from sensor_io.frozen_frames import FrozenLimits
from sensor_io.json_doc import JSONDoc

KINEMATICS_CUTOFF_HZ = 4.0
"""Step-downs move below ~3 Hz; soft-tissue wobble of the thigh (9-14 Hz) and heel-impact
ringing would otherwise set the per-rep peaks."""
MAX_GAP_S = 0.5
"""A rep's measures that rest on a sensor silent for longer than this, s, are dropped."""
MAX_BRIDGE_S = 0.5
"""Longest silence an orientation is carried across, s (a BLE link's normal losses are
shorter; MAX_GAP_S drops a rep's measures past the same length). Past it the series is cut
into pieces, each started afresh (:func:`analysis.orientation.piecewise_orientation`)."""
ORIENTATION_MODES = ("offline", "causal")


@dataclass(frozen=True)
class SegmentationConfig:
    """Rep segmentation on the depth signal (:class:`analysis.rep_segmentation.RepSegmenter`)."""

    min_depth_deg: float = 8.0
    """A rep is a peak of the thigh's inclination deeper than this, degrees."""
    partial_ratio: float = 0.5
    """Peaks shallower than this share of the median rep depth are partial reps."""
    edge_ratio: float = 0.05
    """A rep starts and ends where the depth crosses this share of its own depth."""
    min_rep_s: float = 0.8
    """Shortest time between two rep bottoms, s."""
    smooth_s: float = 0.15
    """Length of the Savitzky-Golay smoothing window, s."""


@dataclass(frozen=True)
class AnalysisConfig:
    """Every tunable of :class:`analysis.pipeline.StepDownPipeline`."""

    rules: RuleConfig = field(default_factory=RuleConfig)
    """Rule thresholds and the test rule."""
    segmentation: SegmentationConfig = field(default_factory=SegmentationConfig)
    """How reps are found."""
    standing: StandingLimits = field(default_factory=StandingLimits)
    """What counts as standing: the calibration window's search and its quality."""
    calibration: CalibrationLimits = field(default_factory=CalibrationLimits)
    """What a leg sensor's flexion axis must meet to be trusted."""
    kinematics_cutoff_hz: float = KINEMATICS_CUTOFF_HZ
    """Low-pass cut-off of the measure series, Hz."""
    max_gap_s: float = MAX_GAP_S
    """Longest silence of a sensor a rep's measures may rest on, s."""
    max_bridge_s: float = MAX_BRIDGE_S
    """Longest silence of a sensor its orientation is carried across, s; past it the series
    is cut into pieces, each started afresh."""
    frozen: FrozenLimits = field(default_factory=FrozenLimits)
    """When a frame a sensor repeats cannot be a still sensor's: its repeats are then a gap
    (:mod:`sensor_io.frozen_frames`)."""
    orientation_mode: str = "offline"
    """``offline`` (vqf's acausal filter) or ``causal`` (forward only, as a live stream)."""
    classify: bool = True
    """Let the shipped rep classifier decide items the worn sensors cannot measure."""
    quality: bool = False
    """Also give the classifier's per-rep quality probability (loads the model)."""
    uncertainty: Mapping[str, Mapping[str, float]] = field(default_factory=stated_uncertainty)
    """The stated 90 % uncertainty of each measure per calibration case ("knee hinge,
    still" -> measure, the knee labelled with how it was measured -> bound in the measure's
    unit; :mod:`analysis.uncertainty_tables`): what makes a rep item borderline."""
    model_to_reality: Mapping[str, Mapping[str, float]] = field(
        default_factory=stated_reality_terms)
    """The error between a real body and the analysis that simulation does not show, added
    in quadrature to :attr:`uncertainty`: leg frames ("knee hinge", "functional axis") ->
    measure -> term in the measure's unit (:data:`analysis.validation.MODEL_TO_REALITY`)."""
    sacral_excess_deg: float = SACRAL_EXCESS_DEG
    """The sacral pelvis sensor's soft-tissue excess, deg: the anterior tilt it reads beyond
    the pelvis once it tilts 15° from standing (less before), falling as the test thigh
    inclines past 40° (2 % a degree), taken out of the pelvis before hip flexion is measured
    (:mod:`analysis.soft_tissue`; fitted on real recordings against a lab pelvis, 7
    single-leg exercises, hip flexion peak error 7.9 -> 2.3° left one exercise out, the
    legs' device orientation levelled); 0 takes nothing out."""

    def __post_init__(self) -> None:
        if self.orientation_mode not in ORIENTATION_MODES:
            raise InputError(f"orientation_mode must be one of {', '.join(ORIENTATION_MODES)}, "
                             f"got {self.orientation_mode!r}")
        for name in ("kinematics_cutoff_hz", "max_gap_s", "max_bridge_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise InputError(f"analysis setting {name} must be a positive number, got {value!r}")
        value = self.sacral_excess_deg
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise InputError(f"analysis setting sacral_excess_deg must be a number of at least 0, "
                             f"got {value!r}")
        _check_tables("uncertainty", self.uncertainty, list(stated_uncertainty()))
        _check_tables("model_to_reality", self.model_to_reality, list(stated_reality_terms()))

    def clone(self, **changes: Any) -> AnalysisConfig:
        """A copy with some settings changed.

        Parameters
        ----------
        **changes
            Settings by field name. ``rules``, ``segmentation`` and ``calibration`` take a
            whole object or a mapping of the settings to change in it
            (``rules={"pelvis_deg": 6.0}``).

        Returns
        -------
        AnalysisConfig
            The copy; this one is unchanged.
        """
        if isinstance(changes.get("rules"), Mapping):
            changes["rules"] = self.rules.override(changes["rules"])
        for name in NESTED:
            if isinstance(changes.get(name), Mapping):
                changes[name] = replace(getattr(self, name), **changes[name])
        return replace(self, **changes)

    def to_json(self) -> JSONDoc:
        """The ``config`` block of the analysis document.

        Returns
        -------
        dict
            ``rules`` (every threshold, the test rule and the ``origins`` of non-default
            ones), ``segmentation``, ``standing``, ``calibration``, ``uncertainty``,
            ``model_to_reality`` and the other fields by name.
        """
        rules = {k: getattr(self.rules, k) for k in settable_names()}
        rules["origins"] = dict(self.rules.origins)  # where non-default thresholds came from
        out: JSONDoc = {"rules": rules}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in NESTED:
                out[f.name] = asdict(value)
            elif f.name in TABLES:
                out[f.name] = {case: dict(table) for case, table in value.items()}
            elif f.name != "rules":
                out[f.name] = value
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> AnalysisConfig:
        """The configuration a document's ``config`` block describes.

        Parameters
        ----------
        doc : Mapping
            The block, as :meth:`to_json` writes it.

        Returns
        -------
        AnalysisConfig
            Equal to the one that wrote the block; InputError (one line) for an unknown or
            wrong setting.
        """
        known = [f.name for f in fields(cls)]
        unknown = [k for k in doc if k not in known]
        if unknown:
            raise InputError(f"config: unknown setting(s) {', '.join(unknown)}; "
                             f"known: {', '.join(known)}")
        settings = dict(doc.get("rules", {}))
        origins = settings.pop("origins", {})
        if not isinstance(origins, Mapping) or not all(isinstance(v, str) for v in origins.values()):
            raise InputError("config: rules.origins must map settings to where they came from")
        rules = replace(RuleConfig().override(settings), origins=tuple(sorted(origins.items())))
        nested = {}
        for name, kind in NESTED.items():
            part_known = [f.name for f in fields(kind)]
            part = doc.get(name, {})  # absent from results made before it was a setting
            if not isinstance(part, Mapping) or any(k not in part_known for k in part):
                raise InputError(f"config: {name} takes {', '.join(part_known)}")
            nested[name] = kind(**part)
        rest = {k: v for k, v in doc.items() if k not in ("rules", *NESTED)}
        return cls(rules=rules, **nested, **rest)


NESTED: dict[str, type] = {"segmentation": SegmentationConfig, "standing": StandingLimits,
                           "calibration": CalibrationLimits, "frozen": FrozenLimits}
"""The settings that are objects of numbers of their own, by field name."""


TABLES = ("uncertainty", "model_to_reality")
"""The settings that are tables: case -> measure -> value in the measure's unit."""


def _check_tables(name: str, tables: Any, cases: list[str]) -> None:
    """InputError (one line) unless ``tables`` gives each of ``cases`` a table of numbers
    of at least 0."""
    if not isinstance(tables, Mapping) or sorted(tables) != sorted(cases):
        raise InputError(f"analysis setting {name} must give each case "
                         f"({'; '.join(cases)}) its table")
    for case, table in tables.items():
        if not isinstance(table, Mapping) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
                for v in table.values()):
            raise InputError(f"analysis setting {name}: {case!r} must map measures to "
                             "numbers of at least 0")
