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
from sensor_io.errors import InputError, first_line, read_problem
from sensor_io.json_doc import JSONDoc

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

    The descent defaults sit above every controlled real rep and below the simulated
    uncontrolled ones (sources in docs/thresholds.md): real controlled single-leg squats
    reach ratio 0.79 and impact 2.4 m/s², a foot landing 8 m/s²; simulated uncontrolled
    descents reach impact >= 6 m/s² (5th percentile).
    """

    knee_cm_1: float = 1.0
    """Knee medial displacement for "inside the second toe", cm."""
    knee_cm_2: float = 3.5
    """For "inside the entire foot", cm: the athlete's foot medial offset
    (:meth:`with_foot_offset`), 3.5 cm by default."""
    pelvis_deg: float = 5.0
    """Pelvic drop of the swing side, degrees."""
    trunk_deg: float = 10.0
    """Lateral trunk lean, degrees."""
    wrist_motion_deg: float = 25.0
    """Wrist-sensor rotation away from its standing pose that counts as the hand leaving
    the waist, degrees."""
    descent_drop_ratio: float = 1.5
    """Peak descent speed in the last 40 % of the descent over that in the first 60 %
    counted as a sudden drop (no unit; a smooth, controlled descent is fastest midway,
    ratio ~0.6)."""
    impact_ms2: float = 5.0
    """Peak of the high-passed (> 4 Hz) specific-force magnitude of the pelvis/leg sensors
    around the bottom counted as an impact, m/s²."""
    pain_nrs_min: float = 1.0
    """Reported pain NRS (0-10) from which a rep is painful."""
    test_rule: str = "majority"
    """How reps combine into the test result: ``majority``, ``any`` or ``worst``."""
    origins: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    """(name, text) pairs saying where non-default thresholds came from (e.g. a TOML
    file); shown in explanations. Filled by the loaders."""

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
        """A copy with some settings changed.

        Parameters
        ----------
        settings : Mapping
            Setting name (:func:`settable_names`) -> value; an unknown name is refused
            (InputError, one line naming it).
        origin : str
            Where the new values come from, kept in :attr:`origins` for explanations.

        Returns
        -------
        RuleConfig
            The copy; this one is unchanged.
        """
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
        """A copy whose ``knee_cm_2`` is the athlete's foot medial offset.

        Parameters
        ----------
        foot_medial_offset_m : float
            The foot's medial border from the second toe, m (recording metadata).

        Returns
        -------
        RuleConfig
            The copy, ``knee_cm_2`` in cm.
        """
        return self.override({"knee_cm_2": 100.0 * foot_medial_offset_m},
                             origin="the athlete's foot medial offset")

    def threshold(self, name: str) -> float:
        """A threshold by name.

        Parameters
        ----------
        name : str
            A field of this config, or the setting of a registered item's level.

        Returns
        -------
        float
            This config's value, else the registered level's
            (:func:`analysis.registry.level_default`), in the measure's unit; InputError
            for a name neither knows.
        """
        if name in _DEFAULTS:
            return getattr(self, name)
        value = registry.level_default(name)
        if value is None:
            raise InputError(f"unknown rule threshold {name!r}")
        return value

    def origin_of(self, name: str) -> str:
        """Where a threshold comes from, for explanations.

        Parameters
        ----------
        name : str
            The threshold's name.

        Returns
        -------
        str
            "default heuristic" while it has the default value (always, for a registered
            item's threshold), else the origin recorded by :meth:`override` (a file, the
            athlete's foot offset, ...).
        """
        if name not in _DEFAULTS or getattr(self, name) == _DEFAULTS[name]:
            return DEFAULT_ORIGIN
        return dict(self.origins).get(name, "configured")


def threshold_names() -> tuple[str, ...]:
    """The numeric thresholds of :class:`RuleConfig`.

    Returns
    -------
    tuple of str
        Field names, in declaration order.
    """
    return tuple(f.name for f in fields(RuleConfig) if f.name not in ("test_rule", "origins"))


def settable_names() -> tuple[str, ...]:
    """Names a TOML file or :meth:`RuleConfig.override` may set.

    Returns
    -------
    tuple of str
        The thresholds and ``test_rule``.
    """
    return (*threshold_names(), "test_rule")


_DEFAULTS = {f.name: f.default for f in fields(RuleConfig)}


def load_rule_config(path: str | Path, base: RuleConfig | None = None) -> RuleConfig:
    """Rule settings from a TOML file.

    The file holds ``name = value`` lines at top level or in a ``[rules]``
    table, e.g. ``pelvis_deg = 6.0``.

    Parameters
    ----------
    path : str or Path
        The TOML file.
    base : RuleConfig, optional
        The settings the file changes (default: the defaults).

    Returns
    -------
    RuleConfig
        ``base`` with the file's settings; unknown names, wrong types and bad TOML are
        refused (InputError, one line naming the file and the setting).
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path}: not valid TOML: {err}") from None
    except (OSError, UnicodeDecodeError) as err:  # tomllib decodes UTF-8 itself: not its error
        raise InputError(f"{path}: cannot read rule settings: {read_problem(err)}") from None
    except (ValueError, RecursionError) as err:  # a number of 4300+ digits, nesting too deep
        raise InputError(f"{path}: not readable TOML: {first_line(err)}") from None
    settings = doc.get("rules", doc) if set(doc) <= {"rules"} else doc
    if not isinstance(settings, dict):
        raise InputError(f"{path}: [rules] must be a table")
    try:
        return (base or RuleConfig()).override(settings, origin=f"set in {path.name}")
    except InputError as err:
        raise InputError(f"{path}: {err}") from None


@dataclass(frozen=True)
class Reason:
    """Why an item has its value: the measure, its value, the threshold(s), the origin."""

    item: str
    """The checklist item."""
    measure: str
    """The measure's name (unit in it), or ``pain_nrs``."""
    value: float | None
    """The measure's value or the pain NRS; None when not measurable."""
    thresholds: tuple[float, ...]
    """The threshold(s) compared with ``>`` (pain: ``≥``), in the measure's unit; two for
    the knee."""
    level: int | None
    """The item value (0, 1, 2) this measure gives; None when not assessed."""
    origin: str
    """Where the threshold came from ("default heuristic", a file, ...)."""

    @property
    def fired(self) -> bool:
        """Whether the measure exceeded a threshold (the item is present)."""
        return bool(self.level)

    def to_json(self) -> JSONDoc:
        """The reason as the coach review shows it.

        Returns
        -------
        dict
            ``measure``, ``value``, ``thresholds``, ``fired``, ``level``, ``origin``.
        """
        return {"measure": self.measure, "value": self.value,
                "thresholds": list(self.thresholds), "fired": self.fired,
                "level": self.level, "origin": self.origin}


@dataclass(frozen=True)
class RepItems:
    """One rep scored by rules."""

    items: dict[str, int | None]
    """Item -> points (None: not assessed)."""
    sources: dict[str, str]
    """Item -> ``rule``, ``reported`` (pain) or ``not_assessed``."""
    reasons: dict[str, tuple[Reason, ...]]
    """Item -> its reasons, one per measure deciding it (two for the descent)."""


def measured_rules() -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """The measures and thresholds deciding each item, read from the registry when called
    (an item registered later is scored too).

    Returns
    -------
    dict
        Item -> ((measure, threshold names compared with ``>`` in rising order), ...); the
        item level is the number of thresholds exceeded, the highest over its measures.
    """
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

    Parameters
    ----------
    measures : Mapping
        The rep's measures by name (:data:`analysis.registry.MEASURES`, units in the
        names), None where not measurable.
    config : RuleConfig, optional
        The thresholds (default: the defaults).
    pain_nrs : float, optional
        The athlete's 0-10 pain for this rep; None when not reported.

    Returns
    -------
    RepItems
        Items, their sources and the reasons.
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
