"""The analysis document of a programme set, typed.

A hold set's and a heel-tap set's analysis (:class:`analysis.exercises.hold.HoldSet`,
:class:`analysis.exercises.heel_taps.HeelTapSet`) is handed on as a
:class:`HoldSetResult` or a :class:`HeelTapSetResult`: `stepdown analyze --json` prints
its :meth:`~HoldSetResult.to_json`, the catalog stores it, the progression rules, the
band comparison and the reports read its fields. ``to_json`` *is* the document
(``format`` ``stepdown-exercise``, version 1) and :func:`read_set_result` reads one back
(stored before or now) to an equal object, whose ``to_json`` writes the same bytes.
Values are kept as the document holds them (rounded as written), never recomputed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from analysis.result import JSONDoc, Rep
from sensor_io.errors import InputError
from sensor_io.exercise import ExerciseSet, exercise_from_json

FORMAT = "stepdown-exercise"
VERSION = 1


class SetResultError(InputError):
    """A set's analysis document that is not one; ``str(err)`` is one line."""


def _fail(what: str) -> SetResultError:
    return SetResultError(f"exercise analysis document: {what}")


def _number(v: Any, where: str, optional: bool = True) -> Any:
    if (v is None and optional) or (isinstance(v, int | float) and not isinstance(v, bool)):
        return v
    raise _fail(f"{where} is {v!r}, not a number{' or null' if optional else ''}")


def _flag(v: Any, where: str) -> bool | None:
    if v is None or isinstance(v, bool):
        return v
    raise _fail(f"{where} is {v!r}, not true, false or null")


def _record(cls: type, doc: Any, where: str, **read: Any) -> Any:
    """A flat record of numbers (or those fields ``read`` gives readers for) with exactly
    the class's fields as keys."""
    if not isinstance(doc, Mapping):
        raise _fail(f"{where} is not an object")
    names = [f.name for f in fields(cls)]
    if sorted(doc) != sorted(names):
        raise _fail(f"{where} has keys {', '.join(doc)}; expected {', '.join(names)}")
    return cls(**{k: read[k](doc[k], f"{where}.{k}") if k in read else _number(doc[k], f"{where}.{k}")
                  for k in names})


def _in_order(record: Any) -> JSONDoc:
    return {f.name: getattr(record, f.name) for f in fields(record)}


@dataclass(frozen=True)
class StatedUncertainty:
    """The 90 % uncertainty a set's measures are stated with."""

    measures: Mapping[str, float]
    """Measure -> 90 % bound, in the measure's unit (unit in its name)."""
    basis: str
    """Where the bounds come from."""
    case: str | None = None
    """The calibration case the bounds are for (:func:`analysis.uncertainty.calibration_case`,
    e.g. "knee hinge, still"); None: not stated (a hold set, or a heel-tap set's document
    written before it was)."""

    def to_json(self) -> JSONDoc:
        """The document's ``uncertainty`` block.

        Returns
        -------
        dict
            ``measures``, ``basis`` and, when stated, ``case``.
        """
        return ({"measures": dict(self.measures), "basis": self.basis}
                | ({} if self.case is None else {"case": self.case}))

    @classmethod
    def from_json(cls, doc: Any) -> StatedUncertainty:
        """Read the ``uncertainty`` block.

        Parameters
        ----------
        doc : Any
            The block (``case`` optional: documents written before it have none).

        Returns
        -------
        StatedUncertainty
            The bounds; SetResultError (one line) for another shape.
        """
        if not (isinstance(doc, Mapping) and set(doc) in ({"measures", "basis"},
                                                          {"measures", "basis", "case"})
                and isinstance(doc["measures"], Mapping) and isinstance(doc["basis"], str)
                and isinstance(doc.get("case", ""), str)):
            raise _fail("uncertainty is not {measures, basis[, case]}")
        return cls({k: _number(v, f"uncertainty.{k}", False) for k, v in doc["measures"].items()},
                   doc["basis"], doc.get("case"))


@dataclass(frozen=True)
class HoldEntry:
    """One hold as the document gives it (times in s on the recording's clock)."""

    index: int
    """1-based hold number."""
    start_s: float
    """Start, s."""
    end_s: float
    """End, s."""
    tut_s: float
    """Time under tension, s."""
    depth_deg: float
    """Mean thigh inclination from standing, degrees."""
    pelvis_sway_deg: float | None
    """Standard deviation of the pelvic drop over the hold, degrees (None: no pelvis data)."""
    tremor_dps: float | None
    """RMS of the thigh's 6-14 Hz angular rate above standing, deg/s."""
    pelvic_drop_deg: float | None
    """Mean pelvic drop over the hold, degrees (> 0: swing side lower)."""
    completed: bool | None
    """Held for the prescription's minimum hold time; None when none was given."""


@dataclass(frozen=True)
class HoldSummary:
    """A hold set's totals against its prescription."""

    holds: int
    """Holds found."""
    tut_s: float
    """Total time under tension, s (the set's training volume)."""
    prescribed_holds: int | None
    """Holds prescribed (None: not given)."""
    prescribed_hold_s: tuple[float, float] | None
    """Prescribed (min, max) hold time, s (None: not given)."""
    completed: int | None
    """Holds that lasted the prescribed minimum (None: no hold time prescribed)."""
    pelvis_sway_deg: float | None
    """Median pelvis sway of the holds, degrees."""
    tremor_dps: float | None
    """Median tremor of the holds, deg/s."""


def _hold_s(v: Any, where: str) -> tuple[float, float] | None:
    if v is None:
        return None
    if not (isinstance(v, list | tuple) and len(v) == 2):
        raise _fail(f"{where} is {v!r}, not [min, max] s")
    return (_number(v[0], where, False), _number(v[1], where, False))


@dataclass(frozen=True)
class HoldSetResult:
    """The analysis of one hold set, as its document gives it."""

    exercise: ExerciseSet
    """The set as recorded: prescription, load."""
    test_leg: str
    """``left`` or ``right``: the leg holding."""
    calibration: Mapping[str, Any]
    """The standing window (``window_s``: [start, end] s)."""
    holds: tuple[HoldEntry, ...]
    """The holds, in time order."""
    summary: HoldSummary
    """Totals against the prescription."""
    units: Mapping[str, str]
    """Measure -> what its unit means."""
    uncertainty: StatedUncertainty
    """The measures' stated 90 % uncertainty."""
    warnings: tuple[str, ...] = ()
    """Plain-language doubts about the recording."""

    @property
    def kind(self) -> str:
        """``hold``."""
        return "hold"

    def to_json(self) -> JSONDoc:
        """The set's document (``format`` ``stepdown-exercise``).

        Returns
        -------
        dict
            ``format``, ``version``, ``exercise``, ``test_leg``, ``calibration``,
            ``holds``, ``summary``, ``units``, ``uncertainty`` and ``warnings``.
        """
        summary = _in_order(self.summary)
        if summary["prescribed_hold_s"] is not None:
            summary["prescribed_hold_s"] = list(summary["prescribed_hold_s"])
        return {"format": FORMAT, "version": VERSION, "exercise": self.exercise.to_json(),
                "test_leg": self.test_leg, "calibration": dict(self.calibration),
                "holds": [_in_order(h) for h in self.holds], "summary": summary,
                "units": dict(self.units), "uncertainty": self.uncertainty.to_json(),
                "warnings": list(self.warnings)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> HoldSetResult:
        """Read a hold set's document.

        Parameters
        ----------
        doc : Mapping
            The parsed document (:meth:`to_json`).

        Returns
        -------
        HoldSetResult
            The set; SetResultError (one line) when the document is not one.
        """
        _keys(doc, ("exercise", "test_leg", "calibration", "holds", "summary", "units",
                    "uncertainty", "warnings"))
        holds = tuple(_record(HoldEntry, h, f"holds[{i}]", completed=_flag)
                      for i, h in enumerate(_list(doc["holds"], "holds")))
        return cls(_exercise(doc), doc["test_leg"], _mapping(doc["calibration"], "calibration"),
                   holds, _record(HoldSummary, doc["summary"], "summary",
                                  prescribed_hold_s=_hold_s),
                   _mapping(doc["units"], "units"), StatedUncertainty.from_json(doc["uncertainty"]),
                   _warnings(doc))


@dataclass(frozen=True)
class TapEntry:
    """One heel tap as the document gives it: the test's scored rep, depth and tempo."""

    rep: Rep
    """The tap scored as a step-down rep (times in s, measures, items)."""
    depth_deg: float
    """Peak of the thigh's inclination from standing over the tap, degrees."""
    duration_s: float
    """Start to end, s."""
    descent_s: float
    """Start to bottom, s."""
    ascent_s: float
    """Bottom to end, s."""
    controlled: bool | None
    """Neither a knee nor a pelvis fault (None when one was not assessed)."""

    def to_json(self) -> JSONDoc:
        """The tap's entry of the set document.

        Returns
        -------
        dict
            The rep's contract entry plus ``depth_deg``, ``duration_s``, ``descent_s``,
            ``ascent_s`` and ``controlled``.
        """
        return self.rep.to_json() | {k: v for k, v in _in_order(self).items() if k != "rep"}

    @classmethod
    def from_json(cls, doc: Any, where: str) -> TapEntry:
        """Read one entry of ``taps``.

        Parameters
        ----------
        doc : Any
            The entry.
        where : str
            Which tap it is, for the error message.

        Returns
        -------
        TapEntry
            The tap; SetResultError or ResultError (one line) when it is not one.
        """
        if not isinstance(doc, Mapping):
            raise _fail(f"{where} is not an object")
        own = [f.name for f in fields(cls) if f.name != "rep"]
        missing = [k for k in own if k not in doc]
        if missing:
            raise _fail(f"{where}: {', '.join(missing)} missing")
        rep = Rep.from_json({k: v for k, v in doc.items() if k not in own}, where)
        return cls(rep, *(_number(doc[k], f"{where}.{k}", False) for k in own[:-1]),
                   _flag(doc["controlled"], f"{where}.controlled"))


@dataclass(frozen=True)
class TapControl:
    """A heel-tap set's control of knee and pelvis (medians over its taps)."""

    knee_medial_cm: float | None
    """Median knee medial displacement, cm (None: not measured)."""
    pelvic_drop_deg: float | None
    """Median pelvic drop, degrees."""
    controlled_share: float | None
    """Share of taps with neither a knee nor a pelvis fault, 0-1 (None: none judged)."""


@dataclass(frozen=True)
class TapSummary:
    """A heel-tap set's totals against its prescription."""

    taps: int
    """Taps found."""
    prescribed_reps: int | None
    """Taps prescribed (None: not given)."""
    cadence_per_min: float | None
    """Taps per minute, first start to last start (None for one tap)."""
    depth_deg: float
    """Median tap depth, degrees."""
    volume_kg: float
    """Taps x added load, kg."""
    control: TapControl
    """Knee and pelvis control."""


@dataclass(frozen=True)
class HeelTapSetResult:
    """The analysis of one heel-tap set, as its document gives it."""

    exercise: ExerciseSet
    """The set as recorded: load, band, prescription."""
    test_leg: str
    """``left`` or ``right``: the leg on the step."""
    step_height_m: float | None
    """Step height, m (None when not recorded)."""
    calibration: Mapping[str, Any]
    """The standing window (``window_s``: [start, end] s)."""
    taps: tuple[TapEntry, ...]
    """The taps, in time order."""
    summary: TapSummary
    """Totals, cadence and control."""
    uncertainty: StatedUncertainty
    """The measures' stated 90 % uncertainty."""
    warnings: tuple[str, ...] = ()
    """Plain-language doubts about the recording."""

    @property
    def kind(self) -> str:
        """``heel_taps``."""
        return "heel_taps"

    def to_json(self) -> JSONDoc:
        """The set's document (``format`` ``stepdown-exercise``).

        Returns
        -------
        dict
            ``format``, ``version``, ``exercise``, ``test_leg``, ``step_height_m``,
            ``calibration``, ``taps``, ``summary``, ``uncertainty`` and ``warnings``.
        """
        summary = _in_order(self.summary) | {"control": _in_order(self.summary.control)}
        return {"format": FORMAT, "version": VERSION, "exercise": self.exercise.to_json(),
                "test_leg": self.test_leg, "step_height_m": self.step_height_m,
                "calibration": dict(self.calibration), "taps": [t.to_json() for t in self.taps],
                "summary": summary, "uncertainty": self.uncertainty.to_json(),
                "warnings": list(self.warnings)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> HeelTapSetResult:
        """Read a heel-tap set's document.

        Parameters
        ----------
        doc : Mapping
            The parsed document (:meth:`to_json`).

        Returns
        -------
        HeelTapSetResult
            The set; SetResultError (one line) when the document is not one.
        """
        _keys(doc, ("exercise", "test_leg", "step_height_m", "calibration", "taps", "summary",
                    "uncertainty", "warnings"))
        taps = tuple(TapEntry.from_json(t, f"tap {i}")
                     for i, t in enumerate(_list(doc["taps"], "taps"), 1))
        control = lambda v, where: _record(TapControl, v, where)  # noqa: E731
        return cls(_exercise(doc), doc["test_leg"], _number(doc["step_height_m"], "step_height_m"),
                   _mapping(doc["calibration"], "calibration"), taps,
                   _record(TapSummary, doc["summary"], "summary", control=control),
                   StatedUncertainty.from_json(doc["uncertainty"]), _warnings(doc))


SetResult = HoldSetResult | HeelTapSetResult
"""A programme set's analysis."""
READERS: dict[str, type[HoldSetResult] | type[HeelTapSetResult]] = {
    "hold": HoldSetResult, "heel_taps": HeelTapSetResult}
"""Exercise kind -> its document's class."""


def read_set_result(doc: Any) -> SetResult:
    """Read a programme set's analysis document, of either kind.

    Parameters
    ----------
    doc : Any
        The parsed document.

    Returns
    -------
    HoldSetResult or HeelTapSetResult
        By its ``exercise.kind``; SetResultError (one line) when it is not a set's
        document of a version this reader knows.
    """
    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
        raise _fail(f"not a {FORMAT} document")
    if doc.get("version") != VERSION:
        raise _fail(f"version {doc.get('version')!r} is not one this reader knows ({VERSION})")
    exercise = doc.get("exercise")
    kind = exercise.get("kind") if isinstance(exercise, Mapping) else None
    if kind not in READERS:
        raise _fail(f"exercise kind {kind!r} is not one of {', '.join(READERS)}")
    return READERS[kind].from_json(doc)


def _keys(doc: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    wanted = ("format", "version", *keys)
    if sorted(doc) != sorted(wanted):
        raise _fail(f"keys {', '.join(doc)}; expected {', '.join(wanted)}")
    if not isinstance(doc["test_leg"], str):
        raise _fail("test_leg is not a string")


def _exercise(doc: Mapping[str, Any]) -> ExerciseSet:
    return exercise_from_json(_mapping(doc["exercise"], "exercise"))


def _mapping(v: Any, where: str) -> Any:
    if not isinstance(v, Mapping):
        raise _fail(f"{where} is not an object")
    return v


def _list(v: Any, where: str) -> list[Any]:
    if not isinstance(v, list):
        raise _fail(f"{where} is not a list")
    return v


def _warnings(doc: Mapping[str, Any]) -> tuple[str, ...]:
    w = _list(doc["warnings"], "warnings")
    if not all(isinstance(s, str) for s in w):
        raise _fail("warnings is not a list of strings")
    return tuple(w)
