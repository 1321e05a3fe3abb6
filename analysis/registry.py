"""Every measure and every checklist item, declared once.

A measure: its name (unit in the name, DESIGN.md), the unit and text shown to people,
the body segments whose sensors it needs. A checklist item: its points, whether it is on
the published Piva scale, the measure(s) and :class:`analysis.rules.RuleConfig`
thresholds that decide it, the sensor that measures it directly, and the words used to
explain it. The rule scorer, the checklist, the uncertainty, the typed result, the catalog
and the report read these tables; nothing else restates them.

Explanation templates (:attr:`Item.explain`) are ``str.format`` strings with the fields
``values`` (the fired reps' values, "6.2–7.4"), ``reps`` ("reps 2–5"), ``threshold``
("threshold 5° (default heuristic)"), ``what`` (the level's or measure's words) and
``side`` ("on the right", the swing side).

:func:`registered` adds a measure (with the function computing its series) and an item
(with its thresholds' values) for the length of a ``with`` block: everything that reads
the tables above at run time (``registry.ITEMS``, :func:`item_names`, ...) then knows them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["ITEMS", "MEASURES", "Item", "Level", "Measure", "Rule", "item", "measure",
           "measure_levels", "registered"]


@dataclass(frozen=True)
class Measure:
    """One per-rep measure (a peak over the rep, relative to standing)."""

    name: str
    """Key in the analysis JSON, unit in the name (``pelvic_drop_deg``)."""
    unit: str
    """Unit as shown to people: "cm", "°", "m/s²", "ratio"."""
    label: str
    """What it is, in words ("knee medial displacement")."""
    short: str
    """Column header in the report ("knee")."""
    digits: int
    """Decimals shown in the report."""
    needs: tuple[str, ...]
    """Segments whose sensors it rests on: the measure is dropped for a rep when one of them
    was silent during it, and not trusted where one's heading was guessed."""
    magnitude: bool = False
    """Its rep peak is the largest size to either side (``|x|``), as its rule judges it."""
    series: Callable[[Any, str], Any] | None = None
    """How a measure added by :func:`registered` is computed: ``(motion, test_leg)`` (an
    :class:`analysis.segment_motion.Motion`, ``left`` or ``right``) -> its (N,) numpy series
    on ``motion.t``, in its unit, relative to standing; None for the measures
    :func:`analysis.measures.measure_series` computes itself. (Typed loosely: the registry
    imports no other module of the analysis.)"""


@dataclass(frozen=True)
class Level:
    """One threshold of a rule: exceeding it gives the item at least ``points``."""

    setting: str
    """The :class:`analysis.rules.RuleConfig` field holding the threshold."""
    points: int
    """The item's points when the measure exceeds it."""
    what: str
    """The fault in words, for explanations ("inside the second toe")."""
    default: float | None = None
    """The threshold's value, in the measure's unit, for a setting that is not a
    :class:`analysis.rules.RuleConfig` field (an item added by :func:`registered`)."""


@dataclass(frozen=True)
class Rule:
    """A measure and its thresholds (compared with ``>``) that decide an item."""

    measure: str
    """The measure's name (:data:`MEASURES`)."""
    levels: tuple[Level, ...]
    """Its thresholds, in rising order of points."""
    digits: int = 1
    """Decimals of the measure in explanations."""


@dataclass(frozen=True)
class Item:
    """One checklist item."""

    name: str
    """Key in the analysis JSON (``knee``)."""
    max_points: int
    """Highest points of the item in one rep (knee 2, others 1)."""
    piva: bool
    """Part of the published Piva et al. (2006) subtotal."""
    rules: tuple[Rule, ...]
    """The measures that decide it (pain: none, it is reported)."""
    explain: str
    """Template of the line explaining a rule-decided fault (module docstring)."""
    classifier_label: str
    """The fault in words when the classifier decided it ("" when it never does)."""
    title: str
    """Its name for coaches (web tables, reports): "Knee inside foot"."""
    short: str
    """Its name in narrow table columns: "Knee"."""
    cue: str
    """What the athlete is told to do about it, spoken or shown ("knee out"; "" for none)."""
    sensor: str | None = None
    """The segment whose sensor measures the item directly; None for the minimum set."""


MEASURES: tuple[Measure, ...] = (
    Measure("knee_medial_cm", "cm", "knee medial displacement", "knee", 1, ("thigh", "shank")),
    Measure("hip_adduction_deg", "°", "hip adduction", "hip add", 1, ("pelvis", "thigh")),
    Measure("hip_internal_rotation_deg", "°", "hip internal rotation", "hip IR", 1,
            ("pelvis", "thigh")),
    Measure("hip_flexion_deg", "°", "hip flexion", "hip flex", 0, ("pelvis", "thigh")),
    Measure("pelvic_drop_deg", "°", "pelvic drop (swing side lower)", "pelvis", 1, ("pelvis",)),
    Measure("trunk_lean_deg", "°", "lateral trunk lean", "trunk", 1, ("trunk",), magnitude=True),
    Measure("wrist_motion_deg", "°", "wrist motion from the waist", "wrist", 0, ("wrist", "pelvis")),
    Measure("impact_ms2", "m/s²", "impact at the bottom", "impact", 1, ("pelvis", "thigh", "shank")),
    Measure("descent_drop_ratio", "ratio", "descent speed ratio (late/early)", "drop", 2,
            ("thigh",)),
)
"""Every measure, in the order of the analysis JSON."""

ITEMS: tuple[Item, ...] = (
    Item("arm", 1, True,
         (Rule("wrist_motion_deg", (Level("wrist_motion_deg", 1, "hand left the waist"),), 0),),
         "hand left the waist (wrist moved {values}°) in {reps}; {threshold}",
         "hand left the waist", "Arm (hand leaves waist)", "Arm", "hands on hips",
         sensor="wrist"),
    Item("trunk", 1, True,
         (Rule("trunk_lean_deg", (Level("trunk_deg", 1, "trunk leaned"),)),),
         "trunk leaned {values}° sideways in {reps}; {threshold}",
         "trunk leaned for balance", "Trunk lean", "Trunk", "trunk upright", sensor="trunk"),
    Item("pelvis", 1, True,
         (Rule("pelvic_drop_deg", (Level("pelvis_deg", 1, "pelvis dropped"),)),),
         "pelvis dropped {values}° {side} in {reps}; {threshold}", "pelvis dropped",
         "Pelvis drop", "Pelvis", "hips level"),
    Item("knee", 2, True,
         (Rule("knee_medial_cm", (Level("knee_cm_1", 1, "inside the second toe"),
                                  Level("knee_cm_2", 2, "inside the entire foot"))),),
         "knee {what} ({values} cm medial) in {reps}; {threshold}", "knee moved inside the foot",
         "Knee inside foot", "Knee", "knee out"),
    Item("descent", 1, False,
         (Rule("descent_drop_ratio", (Level("descent_drop_ratio", 1,
                                            "sudden drop, descent speed ratio"),)),
          Rule("impact_ms2", (Level("impact_ms2", 1, "impact at the bottom"),))),
         "descent not controlled: {what} {values}{unit} in {reps}; {threshold}",
         "descent not controlled", "Descent control", "Descent", "slow down"),
    Item("pain", 1, False, (), "pain reported (NRS {values}) in {reps}; {threshold}", "",
         "Pain", "Pain", ""),
)
"""Every checklist item, in report order (DESIGN.md's table)."""

_MEASURES = {m.name: m for m in MEASURES}
_ITEMS = {i.name: i for i in ITEMS}


@contextmanager
def registered(measures: tuple[Measure, ...] = (), items: tuple[Item, ...] = ()
               ) -> Iterator[None]:
    """Measures and items added to the tables for the length of a ``with`` block.

    Parameters
    ----------
    measures : tuple of Measure
        New measures, each with its :attr:`Measure.series`; appended to :data:`MEASURES`.
    items : tuple of Item
        New checklist items, appended to :data:`ITEMS` (after pain); their thresholds carry
        their value in :attr:`Level.default`.

    Yields
    ------
    None
        The tables hold the additions inside the block and are restored after it.
    """
    global MEASURES, ITEMS, _MEASURES, _ITEMS
    clash = [x.name for x in (*measures, *items) if x.name in _MEASURES or x.name in _ITEMS]
    if clash:
        raise ValueError(f"already registered: {', '.join(clash)}")
    before = MEASURES, ITEMS
    MEASURES, ITEMS = (*MEASURES, *measures), (*ITEMS, *items)
    _MEASURES, _ITEMS = {m.name: m for m in MEASURES}, {i.name: i for i in ITEMS}
    try:
        yield
    finally:
        MEASURES, ITEMS = before
        _MEASURES, _ITEMS = {m.name: m for m in MEASURES}, {i.name: i for i in ITEMS}


def level_default(setting: str) -> float | None:
    """The value a registered item's threshold ``setting`` carries (:attr:`Level.default`).

    Parameters
    ----------
    setting : str
        A threshold's name.

    Returns
    -------
    float or None
        Its default value; None when no registered level names it.
    """
    return next((lv.default for i in ITEMS for r in i.rules for lv in r.levels
                 if lv.setting == setting and lv.default is not None), None)


def measure(name: str) -> Measure:
    """The measure called ``name``.

    Parameters
    ----------
    name : str
        A measure's name (:data:`MEASURES`), e.g. ``"pelvic_drop_deg"``.

    Returns
    -------
    Measure
        Its declaration; KeyError for an unknown name.
    """
    return _MEASURES[name]


def item(name: str) -> Item:
    """The checklist item called ``name``.

    Parameters
    ----------
    name : str
        An item's name (:data:`ITEMS`), e.g. ``"knee"``.

    Returns
    -------
    Item
        Its declaration; KeyError for an unknown name.
    """
    return _ITEMS[name]


def unit_after_number(name: str) -> str:
    """A measure's unit as written after a number.

    Parameters
    ----------
    name : str
        The measure's name.

    Returns
    -------
    str
        "°" joined to the number, " cm" or " m/s²" spaced, "" for a ratio.
    """
    unit = measure(name).unit
    return "" if unit == "ratio" else unit if unit == "°" else f" {unit}"


def by_magnitude(name: str) -> bool:
    """Whether a series' rep peak is taken by its size to either side.

    Parameters
    ----------
    name : str
        A measure's name; any other series name (``depth``) is taken as it is.

    Returns
    -------
    bool
        True for a measure declared with ``magnitude`` (the trunk lean).
    """
    return name in _MEASURES and _MEASURES[name].magnitude


def measure_needs() -> dict[str, tuple[str, ...]]:
    """The segments each measure's value rests on.

    Returns
    -------
    dict of str to tuple of str
        Measure name -> segments (``pelvis``, ``thigh``, ...).
    """
    return {m.name: m.needs for m in MEASURES}


def item_names() -> tuple[str, ...]:
    """The checklist items' names.

    Returns
    -------
    tuple of str
        In report order.
    """
    return tuple(i.name for i in ITEMS)


def measure_names() -> tuple[str, ...]:
    """The measures' names.

    Returns
    -------
    tuple of str
        In the order of the analysis JSON.
    """
    return tuple(m.name for m in MEASURES)


def max_points() -> dict[str, int]:
    """Each item's highest points in one rep.

    Returns
    -------
    dict of str to int
        Item name -> points (knee 2, the others 1).
    """
    return {i.name: i.max_points for i in ITEMS}


def item_measures() -> dict[str, tuple[str, ...]]:
    """The measures each rule-decided item is decided from.

    Returns
    -------
    dict of str to tuple of str
        Item name -> measure names (pain, which is reported, is left out).
    """
    return {i.name: tuple(r.measure for r in i.rules) for i in ITEMS if i.rules}


def measure_levels(name: str) -> tuple[tuple[Item, Level], ...]:
    """The thresholds a measure is judged against, with the item each decides.

    Parameters
    ----------
    name : str
        A measure's name (:data:`MEASURES`).

    Returns
    -------
    tuple of (Item, Level)
        In rising order of points; empty for a measure no rule judges (hip flexion). A
        level's value is the :class:`analysis.rules.RuleConfig` field ``level.setting``, in
        the measure's unit.
    """
    return tuple((i, level) for i in ITEMS for r in i.rules if r.measure == name
                 for level in r.levels)


def sensor_for_item() -> dict[str, str]:
    """The items only their own sensor measures (the minimum set measures the others).

    Returns
    -------
    dict of str to str
        Item name -> the segment whose sensor measures it.
    """
    return {i.name: i.sensor for i in ITEMS if i.sensor}
