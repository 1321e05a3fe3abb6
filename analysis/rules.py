"""The rule scorer: per-rep checklist items from measured thresholds (DESIGN.md, Default rules).

The rules are data (:class:`RuleConfig`), overridable per athlete or clinic
from a TOML file (:func:`load_rule_config`). :func:`score_rep` turns one rep's
measures into items (0/1; knee 0/1/2), the source of each item and, for every
item, the :class:`Reason`: which measure, its value, the threshold(s), whether
it fired. All thresholds are heuristics, not validated cut-offs; reports say so.

Rules (strict ``>`` except pain):

========  ==================================================================
knee      1 if ``knee_medial_cm`` > knee_cm_1; 2 if > knee_cm_2 (the foot's
          medial offset: knee inside the entire foot)
pelvis    1 if ``pelvic_drop_deg`` > pelvis_deg
trunk     1 if ``trunk_lean_deg`` > trunk_deg
arm       1 if ``wrist_motion_deg`` > wrist_motion_deg (the hand leaves the waist)
descent   1 if ``descent_drop_ratio`` > descent_drop_ratio (a sudden drop) or
          ``impact_ms2`` > impact_ms2 (an impact at the bottom); decided from
          whichever of the two is measurable
pain      1 if the reported pain NRS (0-10) ≥ pain_nrs_min
========  ==================================================================

A measure that is missing, ``None`` or NaN cannot be measured: its item is
``None`` with source ``"not_assessed"`` (the classifier may decide it later,
see :mod:`analysis.checklist`). Pain is ``"reported"`` or ``"not_assessed"``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from analysis import registry
from sensor_io.errors import InputError

__all__ = [
    "ITEMS", "TEST_RULES", "Reason", "RepItems", "RuleConfig", "load_rule_config", "score_rep",
]

ITEMS = registry.item_names()
"""Checklist items in report order (:mod:`analysis.registry`)."""

TEST_RULES = ("majority", "any", "worst")
"""How per-rep items become test-level items (see analysis.checklist)."""

DEFAULT_ORIGIN = "default heuristic"


@dataclass(frozen=True)
class RuleConfig:
    """Thresholds of the rule scorer; units in the names (cm, deg, m/s²).

    knee_cm_1: knee medial displacement for "inside the second toe", cm.
    knee_cm_2: for "inside the entire foot", cm: the athlete's foot medial
        offset (:meth:`with_foot_offset`), 3.5 cm by default.
    pelvis_deg: pelvic drop of the swing side, deg.
    trunk_deg: lateral trunk lean, deg.
    wrist_motion_deg: wrist-sensor rotation away from its standing pose that
        counts as the hand leaving the waist, deg.
    descent_drop_ratio: peak descent speed in the last 40 % of the descent
        over that in the first 60 % counted as a sudden drop (dimensionless;
        a smooth, controlled descent is fastest midway, ratio ~0.6).
    impact_ms2: peak of the high-passed (> 4 Hz) specific-force magnitude of
        the pelvis/leg sensors around the bottom counted as an impact, m/s².
        Both defaults sit above every controlled real rep and below the simulated
        uncontrolled ones (sources in docs/thresholds.md): real controlled single-leg
        squats reach ratio 0.79 and impact 2.4 m/s², a foot landing 8 m/s²;
        simulated uncontrolled descents reach impact >= 6 m/s² (5th percentile).
    pain_nrs_min: reported pain NRS (0-10) from which a rep is painful.
    test_rule: how reps combine into the test result: majority, any, worst.
    origins: (name, text) pairs saying where non-default thresholds came from
        (e.g. a TOML file); shown in explanations. Filled by the loaders.
    """

    knee_cm_1: float = 1.0
    knee_cm_2: float = 3.5
    pelvis_deg: float = 5.0
    trunk_deg: float = 10.0
    wrist_motion_deg: float = 25.0
    descent_drop_ratio: float = 1.5
    impact_ms2: float = 5.0
    pain_nrs_min: float = 1.0
    test_rule: str = "majority"
    origins: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        for name in threshold_names():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or value < 0:
                raise InputError(
                    f"rule setting {name} must be a non-negative number, got {value!r}")
        if self.test_rule not in TEST_RULES:
            raise InputError(
                f"rule setting test_rule must be one of {', '.join(TEST_RULES)}, "
                f"got {self.test_rule!r}")
        if self.knee_cm_2 < self.knee_cm_1:
            raise InputError(f"rule setting knee_cm_2 ({self.knee_cm_2}) is below "
                             f"knee_cm_1 ({self.knee_cm_1})")

    def override(self, settings: Mapping[str, Any], origin: str = "configured") -> RuleConfig:
        """A copy with ``settings`` applied; unknown names are refused by name."""
        known = settable_names()
        unknown = [k for k in settings if k not in known]
        if unknown:
            raise InputError(f"unknown rule setting(s) {', '.join(map(repr, unknown))}; "
                             f"known: {', '.join(known)}")
        values = {k: float(v) if isinstance(v, int) and not isinstance(v, bool)
                  and k != "test_rule" else v for k, v in settings.items()}
        notes = dict(self.origins) | {k: origin for k in settings}
        return replace(self, **values, origins=tuple(sorted(notes.items())))

    def with_foot_offset(self, foot_medial_offset_m: float) -> RuleConfig:
        """knee_cm_2 from the athlete's foot medial offset (m, recording metadata)."""
        return self.override({"knee_cm_2": 100.0 * foot_medial_offset_m},
                             origin="the athlete's foot medial offset")

    def threshold(self, name: str) -> float:
        """A threshold by name: this config's field, else the value a registered item's
        level carries (:func:`analysis.registry.level_default`), in the measure's unit."""
        if name in _DEFAULTS:
            return getattr(self, name)
        value = registry.level_default(name)
        if value is None:
            raise InputError(f"unknown rule threshold {name!r}")
        return value

    def origin_of(self, name: str) -> str:
        """Where a threshold comes from, for explanations.

        "default heuristic" while it has the default value (always, for a registered item's
        threshold), else the origin recorded by :meth:`override` (a file, the athlete's
        foot offset, ...).
        """
        if name not in _DEFAULTS or getattr(self, name) == _DEFAULTS[name]:
            return DEFAULT_ORIGIN
        return dict(self.origins).get(name, "configured")


def threshold_names() -> tuple[str, ...]:
    """The numeric thresholds of :class:`RuleConfig`."""
    return tuple(f.name for f in fields(RuleConfig) if f.name not in ("test_rule", "origins"))


def settable_names() -> tuple[str, ...]:
    """Names a TOML file or :meth:`RuleConfig.override` may set."""
    return (*threshold_names(), "test_rule")


_DEFAULTS = {f.name: f.default for f in fields(RuleConfig)}


def load_rule_config(path: str | Path, base: RuleConfig | None = None) -> RuleConfig:
    """Rule settings from a TOML file over ``base`` (default: the defaults).

    The file holds ``name = value`` lines at top level or in a ``[rules]``
    table, e.g. ``pelvis_deg = 6.0``. Unknown names, wrong types and bad TOML
    are refused with one line naming the file and the setting.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path}: not valid TOML: {err}") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read rule settings: {err.strerror}") from None
    settings = doc.get("rules", doc) if set(doc) <= {"rules"} else doc
    if not isinstance(settings, dict):
        raise InputError(f"{path}: [rules] must be a table")
    try:
        return (base or RuleConfig()).override(settings, origin=f"set in {path.name}")
    except InputError as err:
        raise InputError(f"{path}: {err}") from None


@dataclass(frozen=True)
class Reason:
    """Why an item has its value: the measure, its value, the threshold(s), the origin.

    value: the measure (unit in its name) or the pain NRS; None when not measurable.
    thresholds: the threshold(s) compared with ``>`` (pain: ``≥``); two for knee.
    level: the item value (0, 1, 2) or None when not assessed.
    origin: where the threshold came from ("default heuristic", a file, ...).
    """

    item: str
    measure: str
    value: float | None
    thresholds: tuple[float, ...]
    level: int | None
    origin: str

    @property
    def fired(self) -> bool:
        return bool(self.level)

    def to_json(self) -> dict[str, Any]:
        return {"measure": self.measure, "value": self.value,
                "thresholds": list(self.thresholds), "fired": self.fired,
                "level": self.level, "origin": self.origin}


@dataclass(frozen=True)
class RepItems:
    """One rep scored by rules: items (None = not assessed), sources, reasons per item.

    An item decided from several measures (descent) has one reason per measure.
    """

    items: dict[str, int | None]
    sources: dict[str, str]
    reasons: dict[str, tuple[Reason, ...]]


def measured_rules() -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """Per item: (measure, thresholds compared with ``>``, in rising order); the item level
    is the number of thresholds exceeded, the highest over the item's measures. Read from
    the registry when called, so an item registered later is scored too."""
    return {i.name: tuple((r.measure, tuple(lv.setting for lv in r.levels)) for r in i.rules)
            for i in registry.ITEMS if i.rules}


MEASURED_RULES = measured_rules()
"""The built-in items' :func:`measured_rules`."""


def _measure(measures: Mapping[str, Any], name: str) -> float | None:
    value = measures.get(name)
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"measure {name} must be a number or null, got {value!r}") from None
    return value if math.isfinite(value) else None


def _threshold_reason(
    item: str, measure: str, value: float | None, config: RuleConfig, *names: str,
) -> Reason:
    thresholds = tuple(config.threshold(n) for n in names)
    level = None if value is None else sum(value > th for th in thresholds)
    origin = "; ".join(dict.fromkeys(config.origin_of(n) for n in names))
    return Reason(item, measure, value, thresholds, level, origin)


def score_rep(
    measures: Mapping[str, Any], config: RuleConfig | None = None, pain_nrs: float | None = None,
) -> RepItems:
    """Score one rep by the rules.

    measures: the rep's measures (analysis contract names plus
    ``wrist_motion_deg``, ``descent_drop_ratio``, ``impact_ms2``), None where not
    measurable. pain_nrs: the athlete's 0-10 pain for this rep, or None.
    """
    config = config or RuleConfig()
    reasons: dict[str, tuple[Reason, ...]] = {
        item: tuple(_threshold_reason(item, measure, _measure(measures, measure), config, *names)
                    for measure, names in rules)
        for item, rules in measured_rules().items()
    }
    reasons["pain"] = (_pain_reason(pain_nrs, config),)
    items: dict[str, int | None] = {}
    sources: dict[str, str] = {}
    for item in registry.item_names():
        levels = [r.level for r in reasons[item] if r.level is not None]
        items[item] = max(levels) if levels else None
        if not levels:
            sources[item] = "not_assessed"
        else:
            sources[item] = "reported" if item == "pain" else "rule"
    return RepItems(items, sources, reasons)


def _pain_reason(pain_nrs: float | None, config: RuleConfig) -> Reason:
    value = None if pain_nrs is None else float(pain_nrs)
    if value is not None and not (math.isfinite(value) and 0.0 <= value <= 10.0):
        raise InputError(f"pain NRS must be a number from 0 to 10, got {pain_nrs!r}")
    level = None if value is None else int(value >= config.pain_nrs_min)
    return Reason("pain", "pain_nrs", value, (config.pain_nrs_min,), level,
                  config.origin_of("pain_nrs_min"))
