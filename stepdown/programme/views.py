"""Plain-text views of the programme for the command line."""

from __future__ import annotations

from typing import Any


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return "-".join(f"{x:g}" for x in v)
    return f"{v:g}" if isinstance(v, int | float) else str(v)


def prescription_lines(prescription: dict[str, dict[str, Any]]) -> list[str]:
    return [f"  {ex.replace('_', ' ')}: " + ", ".join(f"{k} {_value(v)}" for k, v in p.items())
            for ex, p in prescription.items()]


def programme_lines(programme: Any) -> list[str]:
    """The programme file's prescriptions and rules, each rule with its rationale."""
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
    """The next session: suggestions (rule, numbers, rationale) and the prescription."""
    lines = []
    if plan.suggestions:
        lines.append("suggestions for the next session:")
        for s in plan.suggestions:
            lines += [f"  {s.text()}", f"      why: {s.rationale}"]
    else:
        lines.append("no change suggested: keep the prescription")
    lines += ["next prescription:", *prescription_lines(plan.prescription)]
    return lines
