"""Plain-text views of the programme for the command line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analysis.exercises.progression import Prescription


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list | tuple):
        return "-".join(f"{x:g}" for x in v)
    return f"{v:g}" if isinstance(v, int | float) else str(v)


def prescription_lines(prescription: Mapping[str, Prescription]) -> list[str]:
    """One line per exercise: its prescribed fields.

    Parameters
    ----------
    prescription : Mapping of str to Prescription
        Exercise -> its prescription.

    Returns
    -------
    list of str
        '  heel taps: sets 3, reps 10, ...'.
    """
    return [f"  {ex.replace('_', ' ')}: " + ", ".join(f"{k} {_value(v)}" for k, v in p.items())
            for ex, p in prescription.items()]


def programme_lines(programme: Any) -> list[str]:
    """The programme file's prescriptions and rules, each rule with its rationale.

    Parameters
    ----------
    programme : Programme
        The programme (:func:`analysis.exercises.progression.load_programme`).

    Returns
    -------
    list of str
        The lines `stepdown programme rules` prints.
    """
    lines = [f"programme: {programme.source}", "prescription:",
             *prescription_lines(programme.prescription), "rules (tried in order):"]
    for r in programme.rules:
        change = (f"{r.field} {'+' if r.by > 0 else ''}{r.by:g}" if r.by is not None
                  else f"{r.field} -> {_value(r.to)}")
        band = "" if r.band is None else f", sets {'with' if r.band else 'without'} band"
        when = " and ".join(c.text() for c in r.when)
        lines.append(f"  {r.id} ({r.exercise}{band}): if {when} in the last {r.sessions} "
                     f"session(s), {change}")
        lines.append(f"      why: {r.rationale}")
    return lines


def plan_lines(plan: Any) -> list[str]:
    """The next session: suggestions (rule, numbers, rationale) and the prescription.

    Parameters
    ----------
    plan : Plan
        The plan (:func:`analysis.exercises.progression.suggest`).

    Returns
    -------
    list of str
        The lines `stepdown programme next` prints.
    """
    lines = []
    if plan.suggestions:
        lines.append("suggestions for the next session:")
        for s in plan.suggestions:
            lines += [f"  {s.text()}", f"      why: {s.rationale}"]
    else:
        lines.append("no change suggested: keep the prescription")
    lines += ["next prescription:", *prescription_lines(plan.prescription)]
    return lines


def parse_prescription(exercise: str, values: list[str]) -> Prescription:
    """FIELD=VALUE strings of ``stepdown programme prescribe`` as a prescription.

    Parameters
    ----------
    exercise : str
        ``heel_taps`` or ``hold``.
    values : list of str
        ``FIELD=VALUE`` each: ``band=yes``, ``hold_s=30-45`` (s), ``step_cm=15`` (cm),
        ``load_kg=2.5`` (kg), ``reps=10``.

    Returns
    -------
    Prescription
        The prescribed fields; InputError (one line) for an unknown field or a value out
        of its range.
    """
    from analysis.exercises.progression import FIELDS, Prescription
    from sensor_io.errors import InputError

    if exercise not in FIELDS:
        raise InputError(f"--exercise must be one of {', '.join(FIELDS)}, not {exercise!r}")
    out: dict[str, Any] = {}
    for item in values:
        key, sep, text = item.partition("=")
        if not sep or key not in FIELDS[exercise]:
            raise InputError(f"{item!r}: give FIELD=VALUE with FIELD one of "
                             f"{', '.join(FIELDS[exercise])}")
        try:
            if key == "band":
                if text.lower() not in ("yes", "no", "true", "false", "on", "off"):
                    raise ValueError
                out[key] = text.lower() in ("yes", "true", "on")
            elif key == "hold_s":
                lo, hi = (float(x) for x in text.split("-"))
                if not 1 <= lo <= hi <= 600:
                    raise ValueError
                out[key] = [lo, hi]
            elif key in ("sets", "reps", "holds"):
                out[key] = int(text)
                if not 1 <= out[key] <= 100:
                    raise ValueError
            else:
                out[key] = float(text)
                if not 0 <= out[key] <= 200:
                    raise ValueError
        except ValueError:
            raise InputError(f"{item!r}: not a valid {key} (e.g. reps=10, band=yes, "
                             "hold_s=30-45, step_cm=15, load_kg=2.5)") from None
    return Prescription(**out)
