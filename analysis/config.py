"""Every setting of an analysis in one frozen object, saved inside each result.

:class:`AnalysisConfig` holds the rule thresholds (:class:`analysis.rules.RuleConfig`),
the rep segmentation, the kinematics filter, the gap tolerances (of the measures and of the
orientation filter) and whether the rep classifier runs.
:class:`analysis.pipeline.StepDownPipeline` is built from one;
:meth:`AnalysisConfig.clone` gives a copy with some settings changed (for a sweep or a
comparison, as tpcp's ``clone`` / ``set_params`` do), and :meth:`AnalysisConfig.to_json`
is the ``config`` block of the analysis document, which :meth:`AnalysisConfig.from_json`
reads back, so a result says how it was made and can be made again.

Not yet in here (module constants, fixed in this version): the standing-window and
calibration limits (:mod:`calibration.standing`, :mod:`calibration.calibrate`) and the
stated uncertainties (:mod:`analysis.uncertainty`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from analysis.rules import RuleConfig, settable_names
from sensor_io.errors import InputError

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
    kinematics_cutoff_hz: float = KINEMATICS_CUTOFF_HZ
    """Low-pass cut-off of the measure series, Hz."""
    max_gap_s: float = MAX_GAP_S
    """Longest silence of a sensor a rep's measures may rest on, s."""
    max_bridge_s: float = MAX_BRIDGE_S
    """Longest silence of a sensor its orientation is carried across, s; past it the series
    is cut into pieces, each started afresh."""
    orientation_mode: str = "offline"
    """``offline`` (vqf's acausal filter) or ``causal`` (forward only, as a live stream)."""
    classify: bool = True
    """Let the shipped rep classifier decide items the worn sensors cannot measure."""
    quality: bool = False
    """Also give the classifier's per-rep quality probability (loads the model)."""

    def __post_init__(self) -> None:
        if self.orientation_mode not in ORIENTATION_MODES:
            raise InputError(f"orientation_mode must be one of {', '.join(ORIENTATION_MODES)}, "
                             f"got {self.orientation_mode!r}")
        for name in ("kinematics_cutoff_hz", "max_gap_s", "max_bridge_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise InputError(f"analysis setting {name} must be a positive number, got {value!r}")

    def clone(self, **changes: Any) -> AnalysisConfig:
        """A copy with some settings changed.

        Parameters
        ----------
        **changes
            Settings by field name. ``rules`` and ``segmentation`` take a whole object or a
            mapping of the settings to change in it (``rules={"pelvis_deg": 6.0}``).

        Returns
        -------
        AnalysisConfig
            The copy; this one is unchanged.
        """
        if isinstance(changes.get("rules"), Mapping):
            changes["rules"] = self.rules.override(changes["rules"])
        if isinstance(changes.get("segmentation"), Mapping):
            changes["segmentation"] = replace(self.segmentation, **changes["segmentation"])
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The ``config`` block of the analysis document.

        Returns
        -------
        dict
            ``rules`` (every threshold, the test rule and the ``origins`` of non-default
            ones), ``segmentation`` and the other fields by name.
        """
        rules = {k: getattr(self.rules, k) for k in settable_names()}
        rules["origins"] = dict(self.rules.origins)  # where non-default thresholds came from
        return {"rules": rules, "segmentation": asdict(self.segmentation),
                **{f.name: getattr(self, f.name) for f in fields(self)
                   if f.name not in ("rules", "segmentation")}}

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
        seg_known = [f.name for f in fields(SegmentationConfig)]
        seg = doc.get("segmentation", {})
        if not isinstance(seg, Mapping) or any(k not in seg_known for k in seg):
            raise InputError(f"config: segmentation takes {', '.join(seg_known)}")
        rest = {k: v for k, v in doc.items() if k not in ("rules", "segmentation")}
        return cls(rules=rules, segmentation=SegmentationConfig(**seg), **rest)
