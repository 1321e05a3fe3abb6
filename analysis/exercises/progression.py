"""Prescriptions and progression rules as data, and the next session's suggestion.

The programme is a TOML file (the shipped default: ``programme_default.toml`` beside
this module, with each rule's rationale from the clinical source; a coach's copy
replaces it): the default prescription per exercise, the limits each field stays in,
and rules. A rule reads one exercise's per-session measures (:func:`session_measures`)
over the athlete's last ``sessions`` sessions with that exercise and, when every
condition held in each, changes one field of the prescription (``by`` a step, or ``to``
a value). Rules are tried in order; the first that fires for an (exercise, field) wins;
a rule whose change would do nothing (already at a limit, the band already off) does
not fire. Every suggestion says which rule fired on which numbers.

A session is the programme sets of one day: their typed analyses
(:class:`analysis.exercises.set_result.HoldSetResult`,
:class:`analysis.exercises.set_result.HeelTapSetResult`).
"""

from __future__ import annotations

import operator
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.exercises.band import compare_band
from sensor_io.errors import InputError

if TYPE_CHECKING:
    from analysis.exercises.set_result import HeelTapSetResult, HoldSetResult, SetResult
    from analysis.result import JSONDoc

DEFAULT_PROGRAMME = Path(__file__).with_name("programme_default.toml")
OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
       "==": operator.eq}
PROGRAMME_EXERCISES = ("heel_taps", "hold")
FIELDS = {"heel_taps": ("sets", "reps", "step_cm", "load_kg", "band"),
          "hold": ("sets", "holds", "hold_s")}
MEASURES = {"heel_taps": ("controlled_share", "knee_medial_cm", "pelvic_drop_deg", "taps",
                          "adherence", "step_cm", "load_kg", "band", "band_matched"),
            "hold": ("completed_share", "pelvis_sway_deg", "tremor_dps", "tut_s", "hold_s",
                     "holds")}


@dataclass(frozen=True)
class Prescription:
    """What is prescribed of one exercise (heel taps: ``sets``, ``reps``, ``step_cm``,
    ``load_kg``, ``band``; holds: ``sets``, ``holds``, ``hold_s``: :data:`FIELDS`); a field
    left None is not prescribed. Values keep the type they were written with (``15`` or
    ``15.0``), so the JSON reads back to the same bytes."""

    sets: int | None = None
    """Sets per session."""
    reps: int | None = None
    """Heel taps per set."""
    step_cm: float | None = None
    """Step height, cm."""
    load_kg: float | None = None
    """Added load, kg (0: body weight)."""
    band: bool | None = None
    """Done with the band pulling the knee inward."""
    holds: int | None = None
    """Holds per set."""
    hold_s: tuple[float, float] | None = None
    """Each hold's (min, max) time, s; a JSON list [min, max]."""

    def __post_init__(self) -> None:
        if isinstance(self.hold_s, list):  # as JSON and TOML give it
            object.__setattr__(self, "hold_s", tuple(self.hold_s))

    def value(self, name: str) -> Any:
        """One field's value.

        Parameters
        ----------
        name : str
            A field of :data:`FIELDS`.

        Returns
        -------
        Any
            Its value, in the field's unit; None when not prescribed.
        """
        return getattr(self, name)

    def with_value(self, name: str, value: Any) -> Prescription:
        """This prescription with one field changed.

        Parameters
        ----------
        name : str
            A field of :data:`FIELDS`.
        value : Any
            Its new value, in the field's unit.

        Returns
        -------
        Prescription
            A new prescription; this one is unchanged.
        """
        return replace(self, **{name: value})

    def updated(self, other: Prescription) -> Prescription:
        """This prescription with every field ``other`` prescribes taken from it.

        Parameters
        ----------
        other : Prescription
            The newer prescription (a coach's, a set's).

        Returns
        -------
        Prescription
            A new prescription.
        """
        return replace(self, **{f.name: v for f in fields(other)
                                if (v := getattr(other, f.name)) is not None})

    def items(self) -> list[tuple[str, Any]]:
        """The prescribed fields as the JSON writes them, in :data:`FIELDS` order.

        Returns
        -------
        list of (str, Any)
            (field, value) of each prescribed field; ``hold_s`` as a list.
        """
        return [(f.name, list(v) if isinstance(v, tuple) else v) for f in fields(self)
                if (v := getattr(self, f.name)) is not None]

    def to_json(self) -> JSONDoc:
        """The prescription as the programme's JSON and the catalog store it.

        Returns
        -------
        dict
            Field -> value of each prescribed field (:meth:`items`).
        """
        return dict(self.items())

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], exercise: str) -> Prescription:
        """The prescription :meth:`to_json` (or a programme file's table) wrote.

        Parameters
        ----------
        doc : Mapping
            Field -> value.
        exercise : str
            ``heel_taps`` or ``hold``: the fields it may have (:data:`FIELDS`).

        Returns
        -------
        Prescription
            The prescription; InputError (one line) for an unknown exercise or field.
        """
        if exercise not in FIELDS:
            raise InputError(f"prescription: unknown exercise {exercise!r} (expected "
                             f"{', '.join(PROGRAMME_EXERCISES)})")
        if not isinstance(doc, Mapping):
            raise InputError(f"prescription.{exercise} must be a table of fields, got {doc!r}")
        unknown = sorted(set(doc) - set(FIELDS[exercise]))
        if unknown:
            raise InputError(f"prescription.{exercise}: unknown field {unknown[0]!r} "
                             f"(expected {', '.join(FIELDS[exercise])})")
        for name, value in doc.items():
            if not _FIELD_CHECKS[name](value):
                raise InputError(f"prescription.{exercise}.{name} must be {_FIELD_KINDS[name]}, "
                                 f"got {value!r}")
        return cls(**doc)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and bool(np.isfinite(v))


_FIELD_KINDS = {"sets": "a whole number", "reps": "a whole number", "holds": "a whole number",
                "step_cm": "a number (cm)", "load_kg": "a number (kg)", "band": "true or false",
                "hold_s": "[min, max] seconds"}
_FIELD_CHECKS = {
    "sets": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "reps": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "holds": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "step_cm": _is_number, "load_kg": _is_number, "band": lambda v: isinstance(v, bool),
    "hold_s": lambda v: isinstance(v, list | tuple) and len(v) == 2 and all(map(_is_number, v)),
}
"""What each prescription field's JSON value must be."""


Prescriptions = dict[str, Prescription]
"""Exercise (``heel_taps``, ``hold``) -> its prescription."""


def prescriptions_json(prescriptions: Mapping[str, Prescription]) -> JSONDoc:
    """Exercise -> prescription as JSON (``next_prescription`` of ``programme next --json``).

    Parameters
    ----------
    prescriptions : Mapping of str to Prescription
        Exercise -> its prescription.

    Returns
    -------
    dict
        Exercise -> :meth:`Prescription.to_json`, in the mapping's order.
    """
    return {ex: p.to_json() for ex, p in prescriptions.items()}


@dataclass(frozen=True)
class Condition:
    """One comparison of a rule: a set's ``measure`` (unit in its name) ``op`` ``value``."""

    measure: str
    """A per-session measure (:data:`MEASURES`), unit in its name."""
    op: str
    """The comparison, one of :data:`OPS`."""
    value: float
    """What the measure is compared with, in its unit."""

    def holds(self, v: float | None) -> bool:
        """Whether a session's value meets the condition.

        Parameters
        ----------
        v : float or None
            The session's value of :attr:`measure`; None never meets it.

        Returns
        -------
        bool
            ``v op value``.
        """
        return v is not None and bool(OPS[self.op](v, self.value))

    def text(self) -> str:
        """The condition as written: 'controlled_share >= 0.8'.

        Returns
        -------
        str
            Measure, operator and value.
        """
        return f"{self.measure} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Rule:
    """One progression rule (see module docstring)."""

    id: str
    """The rule's name, cited in suggestions."""
    exercise: str
    """The exercise whose sessions it reads and whose prescription it changes."""
    sessions: int
    """How many of the latest sessions with the exercise must meet every condition."""
    when: tuple[Condition, ...]
    """The conditions."""
    field: str
    """The prescription field it changes (:data:`FIELDS`)."""
    by: float | None
    """A step added to the field (within its limits); None when ``to`` is given."""
    to: Any
    """The field's new value; None when ``by`` is given."""
    rationale: str
    """Why, from the clinical source."""
    band: bool | None = None
    """Read only the sets with (True) or without (False) the band; None: all sets."""


@dataclass(frozen=True)
class Programme:
    """Prescriptions per exercise, limits per field ([min, max]) and the rules, in order."""

    prescription: Prescriptions
    """Exercise -> its default prescription."""
    limits: dict[str, tuple[float, float]]
    """Field -> the [min, max] it stays in."""
    rules: tuple[Rule, ...]
    """The rules, in the order they are tried."""
    source: str
    """The TOML file it was read from."""


@dataclass(frozen=True)
class Session:
    """The programme sets of one day: date (YYYY-MM-DD) and their analyses."""

    date: str
    """The day, YYYY-MM-DD."""
    sets: tuple[SetResult, ...]
    """The sets' analyses."""


@dataclass(frozen=True)
class Suggestion:
    """A change for the next session, the rule that made it and the numbers it fired on."""

    rule: str
    """The rule that fired."""
    exercise: str
    """The exercise changed."""
    field: str
    """The prescription field changed."""
    before: Any
    """Its value now."""
    after: Any
    """Its value for the next session."""
    because: str
    """The numbers the rule fired on."""
    rationale: str
    """The rule's rationale."""

    def text(self) -> str:
        """The suggestion in one line.

        Returns
        -------
        str
            'heel taps: step_cm 15 -> 20 (rule ...: ...)'.
        """
        return (f"{self.exercise.replace('_', ' ')}: {self.field} {_fmt(self.before)} -> "
                f"{_fmt(self.after)} (rule {self.rule}: {self.because})")

    def to_json(self) -> JSONDoc:
        """The suggestion as ``stepdown programme next --json`` prints it.

        Returns
        -------
        dict
            ``rule``, ``exercise``, ``field``, ``from``, ``to``, ``because``, ``rationale``.
        """
        return {"rule": self.rule, "exercise": self.exercise, "field": self.field,
                "from": self.before, "to": self.after, "because": self.because,
                "rationale": self.rationale}


@dataclass(frozen=True)
class RuleVerdict:
    """Whether one rule fired for the next session, and why (or why not)."""

    rule: str
    """The rule's id."""
    fired: bool
    """It changed the prescription."""
    why: str
    """The numbers it fired on, or the reason it did not (a condition not met, too few
    sessions, the field at its limit or already changed)."""

    def to_json(self) -> JSONDoc:
        """The verdict as ``stepdown programme next --json`` prints it.

        Returns
        -------
        dict
            ``rule``, ``fired``, ``why``.
        """
        return {"rule": self.rule, "fired": self.fired, "why": self.why}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> RuleVerdict:
        """The verdict :meth:`to_json` wrote.

        Parameters
        ----------
        doc : Mapping
            ``rule``, ``fired``, ``why``.

        Returns
        -------
        RuleVerdict
            The verdict; InputError (one line) for another shape.
        """
        if not (isinstance(doc, Mapping) and set(doc) == {"rule", "fired", "why"}
                and isinstance(doc["rule"], str) and isinstance(doc["fired"], bool)
                and isinstance(doc["why"], str)):
            raise InputError(f"a rule verdict is {{rule, fired, why}}, got {doc!r}")
        return cls(doc["rule"], doc["fired"], doc["why"])


@dataclass(frozen=True)
class Plan:
    """The next session: the prescription after the suggestions, and every rule's verdict."""

    prescription: Prescriptions
    """Exercise -> the next session's prescription."""
    suggestions: tuple[Suggestion, ...]
    """The changes, in rule order."""
    checked: tuple[RuleVerdict, ...] = field(default=())
    """Every rule's verdict, in rule order."""
    source: str = ""
    """The programme file used."""

    def to_json(self) -> JSONDoc:
        """The plan as ``stepdown programme next --json`` prints it.

        Returns
        -------
        dict
            ``programme``, ``next_prescription``, ``suggestions``, ``rules_checked``.
        """
        return {"programme": self.source, "next_prescription": prescriptions_json(self.prescription),
                "suggestions": [s.to_json() for s in self.suggestions],
                "rules_checked": [c.to_json() for c in self.checked]}


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, list | tuple):
        return "-".join(_fmt(x) for x in v)
    return f"{v:g}" if isinstance(v, int | float) else str(v)


# --- loading -------------------------------------------------------------------------


def load_programme(path: str | Path | None = None) -> Programme:
    """Read a programme.

    Parameters
    ----------
    path : str or Path, optional
        The programme TOML (default: the shipped one).

    Returns
    -------
    Programme
        The programme; InputError (one line) naming the file and what is wrong.
    """
    path = Path(path) if path is not None else DEFAULT_PROGRAMME
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such programme file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not valid TOML: {err}") from None
    try:
        return _parse(doc, str(path))
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"{path}: {err}") from None


def _parse(doc: dict[str, Any], source: str) -> Programme:
    prescription = {}
    for ex, p in doc.get("prescription", {}).items():
        if ex not in PROGRAMME_EXERCISES:
            raise ValueError(f"prescription.{ex}: unknown exercise (expected "
                             f"{', '.join(PROGRAMME_EXERCISES)})")
        try:
            prescription[ex] = Prescription.from_json(p, ex)
        except InputError as err:
            raise ValueError(str(err)) from None
    limits = {k: (float(v[0]), float(v[1])) for k, v in doc.get("limits", {}).items()}
    rules = tuple(_rule(r, i) for i, r in enumerate(doc.get("rules", []), 1))
    ids = [r.id for r in rules]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"rule id {dup[0]!r} is used twice")
    return Programme(prescription, limits, rules, source)


def _rule(r: dict[str, Any], n: int) -> Rule:
    where = f"rule {n} ({r.get('id', '?')})"
    missing = [k for k in ("id", "exercise", "when", "change", "rationale") if k not in r]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}")
    ex = r["exercise"]
    if ex not in PROGRAMME_EXERCISES:
        raise ValueError(f"{where}: unknown exercise {ex!r} (expected "
                         f"{', '.join(PROGRAMME_EXERCISES)})")
    conds = []
    for c in r["when"]:
        if c.get("measure") not in MEASURES[ex]:
            raise ValueError(f"{where}: unknown measure {c.get('measure')!r} for {ex} "
                             f"(expected {', '.join(MEASURES[ex])})")
        if c.get("op") not in OPS:
            raise ValueError(f"{where}: unknown operator {c.get('op')!r} (expected {', '.join(OPS)})")
        conds.append(Condition(c["measure"], c["op"], float(c["value"])))
    ch = r["change"]
    if ch.get("field") not in FIELDS[ex]:
        raise ValueError(f"{where}: cannot change {ch.get('field')!r} of {ex} "
                         f"(fields: {', '.join(FIELDS[ex])})")
    if ("by" in ch) == ("to" in ch):
        raise ValueError(f"{where}: change needs exactly one of 'by' or 'to'")
    sessions = int(r.get("sessions", 1))
    if sessions < 1:
        raise ValueError(f"{where}: sessions must be at least 1")
    return Rule(r["id"], ex, sessions, tuple(conds), ch["field"],
                float(ch["by"]) if "by" in ch else None, ch.get("to"), str(r["rationale"]),
                r.get("band"))


# --- measures per session ------------------------------------------------------------


def _median(values: list[float | None]) -> float | None:
    v = [x for x in values if x is not None]
    return float(np.median(v)) if v else None


def session_measures(sets: Sequence[SetResult], exercise: str,
                     band: bool | None = None) -> dict[str, float | None] | None:
    """One session's measures of an exercise (see the TOML's comments).

    Parameters
    ----------
    sets : Sequence of HoldSetResult or HeelTapSetResult
        The session's sets' analyses.
    exercise : str
        ``heel_taps`` or ``hold``.
    band : bool, optional
        Only the sets with (True) or without (False) the band; None: all.

    Returns
    -------
    dict or None
        Measure (:data:`MEASURES`) -> value, unit in its name; None when the session has no
        such set.
    """
    all_of_kind = [s for s in sets if s.kind == exercise]
    chosen = [s for s in all_of_kind if band is None or s.exercise.band == band]
    if not chosen:
        return None
    if exercise == "hold":
        return _hold_measures(chosen)
    m = _tap_measures(chosen)
    has_both = len({s.exercise.band for s in all_of_kind}) == 2
    matched = compare_band(all_of_kind).matched if has_both else None
    m["band_matched"] = None if matched is None else float(matched)
    return m


def _tap_measures(sets: Sequence[HeelTapSetResult]) -> dict[str, float | None]:
    taps = [t for s in sets for t in s.taps]
    judged = [t.controlled for t in taps if t.controlled is not None]
    prescribed = [s.exercise.prescription.get("reps") for s in sets]
    steps = [s.step_height_m for s in sets if s.step_height_m is not None]
    return {
        "taps": float(len(taps)),
        "controlled_share": sum(judged) / len(judged) if judged else None,
        "knee_medial_cm": _median([t.rep.measures.get("knee_medial_cm") for t in taps]),
        "pelvic_drop_deg": _median([t.rep.measures.get("pelvic_drop_deg") for t in taps]),
        "adherence": (len(taps) / sum(prescribed) if all(prescribed) and prescribed else None),
        "step_cm": round(100.0 * max(steps), 1) if steps else None,
        "load_kg": max(float(s.exercise.load_kg) for s in sets),
        "band": float(any(s.exercise.band for s in sets)),
    }


def _hold_measures(sets: Sequence[HoldSetResult]) -> dict[str, float | None]:
    holds = [h for s in sets for h in s.holds]
    rx = [s.exercise.prescription for s in sets]
    prescribed = sum(p.get("holds", 0) for p in rx) or len(holds)
    mins = [p["hold_s"][0] for p in rx if p.get("hold_s")]
    done = [h for h in holds if h.completed]
    return {
        "holds": float(len(holds)),
        "completed_share": len(done) / prescribed if mins and prescribed else None,
        "pelvis_sway_deg": _median([h.pelvis_sway_deg for h in holds]),
        "tremor_dps": _median([h.tremor_dps for h in holds]),
        "tut_s": float(sum(h.tut_s for h in holds)),
        "hold_s": min(mins) if mins else None,
    }


# --- the next session ----------------------------------------------------------------


def current_prescription(programme: Programme, sessions: Sequence[Session]) -> Prescriptions:
    """The prescription the athlete is on now.

    Parameters
    ----------
    programme : Programme
        The programme (its default prescription).
    sessions : Sequence of Session
        The athlete's sessions, oldest first.

    Returns
    -------
    dict of str to Prescription
        Exercise -> prescription: the programme's, with what the athlete's latest sets say
        they were prescribed (step, load, band, reps, hold times).
    """
    out = dict(programme.prescription)
    for s in sessions:  # oldest first: the latest set of each kind wins
        for done in s.sets:
            rx = done.exercise.prescription
            if done.kind == "heel_taps":
                taps = [d.exercise for d in s.sets if d.kind == "heel_taps"]
                said = Prescription(
                    # on the band while any set of the day used it (a no-band set is the check)
                    band=any(e.band for e in taps), load_kg=max(float(e.load_kg) for e in taps),
                    step_cm=(None if done.step_height_m is None
                             else round(100.0 * done.step_height_m, 1)),
                    reps=rx.get("reps") or None)
            else:
                said = Prescription(holds=rx.get("holds") or None, hold_s=rx.get("hold_s") or None)
            out[done.kind] = out.get(done.kind, Prescription()).updated(said)
    return out


def _apply(rule: Rule, value: Any, limits: Mapping[str, tuple[float, float]]) -> Any:
    if rule.to is not None:
        return tuple(rule.to) if isinstance(rule.to, list) else rule.to  # as Prescription keeps it
    lo, hi = limits.get(rule.field, (-np.inf, np.inf))
    if isinstance(value, tuple):  # (min, max) hold times move together
        return tuple(v + _step(value[0], rule.by, lo, hi) - value[0] for v in value)
    new = _step(value, rule.by, lo, hi)
    return int(new) if isinstance(value, int) and new.is_integer() else new


def _step(value: float, by: float, lo: float, hi: float) -> float:
    """value + by kept within [lo, hi], never moved against ``by`` (a value already
    beyond a limit stays where it is)."""
    new = value + by
    return float(max(new, min(lo, value)) if by < 0 else min(new, max(hi, value)))


def suggest(programme: Programme, sessions: Sequence[Session],
            override: Mapping[str, Prescription] | None = None) -> Plan:
    """The next session's prescription and the suggestions that changed it (module docstring).

    Parameters
    ----------
    programme : Programme
        The prescriptions, limits and rules.
    sessions : Sequence of Session
        The athlete's sessions (sorted by date here).
    override : Mapping of str to Prescription, optional
        Exercise -> the prescribed fields that replace what the sets say (a coach's
        prescription made after the last session).

    Returns
    -------
    Plan
        The next prescription, the suggestions and every rule's verdict.
    """
    sessions = sorted(sessions, key=lambda s: s.date)
    current = current_prescription(programme, sessions)
    for ex, rx in (override or {}).items():
        current[ex] = current.get(ex, Prescription()).updated(rx)
    nxt = dict(current)
    taken: set[tuple[str, str]] = set()
    out, checked = [], []
    for rule in programme.rules:
        key = (rule.exercise, rule.field)
        series = [(s.date, m) for s in sessions
                  if (m := session_measures(s.sets, rule.exercise, rule.band)) is not None]
        last = series[-rule.sessions:]
        before = current.get(rule.exercise, Prescription()).value(rule.field)
        if key in taken:
            why = f"{rule.exercise} {rule.field} already changed by an earlier rule"
        elif len(last) < rule.sessions:
            why = (f"needs {rule.sessions} session(s) with {rule.exercise}"
                   f"{'' if rule.band is None else ' (band ' + _fmt(rule.band) + ')'}, "
                   f"has {len(last)}")
        elif before is None:
            why = f"no current {rule.field} to change"
        else:
            failed = [(d, c, m.get(c.measure)) for d, m in last for c in rule.when
                      if not c.holds(m.get(c.measure))]
            after = _apply(rule, before, programme.limits)
            if failed:
                d, c, v = failed[0]
                shown = "none" if v is None else _fmt(v)
                why = f"{c.text()} not met on {d} ({c.measure} = {shown})"
            elif after == before:
                why = f"{rule.field} already {_fmt(before)} (limit)"
            else:
                because = "; ".join(
                    f"{c.measure} " + ", ".join(_fmt(round(m[c.measure], 2)) for _, m in last)
                    + f" {c.op} {c.value:g}" for c in rule.when)
                because += f" in the last {len(last)} session(s) ({', '.join(d for d, _ in last)})"
                out.append(Suggestion(rule.id, rule.exercise, rule.field, before, after, because,
                                      rule.rationale))
                nxt[rule.exercise] = nxt[rule.exercise].with_value(rule.field, after)
                taken.add(key)
                checked.append(RuleVerdict(rule.id, True, because))
                continue
        checked.append(RuleVerdict(rule.id, False, why))
    return Plan(nxt, tuple(out), tuple(checked), programme.source)
