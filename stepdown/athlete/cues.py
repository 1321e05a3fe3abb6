"""Cue selection: what the athlete hears (and reads on the live page) at each moment.

A rep's cue names the one thing to fix: the scored fault with the most points, ties
broken in the order of :data:`FIX_ORDER` (the knee and the pelvis first: they are what
the band feedback and the retraining aim at).  Pain is reported by the athlete, not a
movement fault, so it never becomes the thing to fix.  Each kind of cue has its own tone
pattern, so it is recognisable without words; spoken words come on top where a speech
engine exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis import registry

FIX_ORDER = ("knee", "pelvis", "trunk", "arm", "descent")
"""Movement faults that can be the one thing to fix, in tie-break order."""

FIX_WORDS = {i.name: i.cue for i in registry.ITEMS if i.cue}
"""Short spoken/printed instruction per fault (what to do, not what went wrong)."""

Tone = tuple[float, float]
"""(frequency Hz, duration s); frequency 0 is a pause."""

TONES: dict[str, tuple[Tone, ...]] = {
    "good": ((660.0, 0.10), (880.0, 0.16)),                    # rising pair
    "knee": ((440.0, 0.12), (0.0, 0.06), (440.0, 0.12)),      # two low beeps
    "pelvis": ((330.0, 0.30),),                                # one long low tone
    "trunk": ((523.0, 0.08), (0.0, 0.05), (523.0, 0.08), (0.0, 0.05), (523.0, 0.08)),
    "arm": ((587.0, 0.12), (392.0, 0.18)),                     # falling pair
    "descent": ((294.0, 0.08), (0.0, 0.04)) * 3,               # low stutter
    "set_start": ((523.0, 0.09), (659.0, 0.09), (784.0, 0.20)),
    "set_end": ((784.0, 0.09), (659.0, 0.09), (523.0, 0.25)),
    "sensor_lost": ((880.0, 0.08), (440.0, 0.08)) * 3,         # warble
    "bends": ((392.0, 0.2), (523.0, 0.2), (392.0, 0.3)),       # down-up-down
}


@dataclass(frozen=True)
class Cue:
    """One cue. kind: a key of :data:`TONES`; text: what the page and the text fallback
    show; words: what a speech engine says (short)."""

    kind: str
    text: str
    words: str

    @property
    def tones(self) -> tuple[Tone, ...]:
        return TONES[self.kind]


def thing_to_fix(items: dict[str, Any]) -> str | None:
    """The one movement fault to fix from a rep's checklist items, or None if none."""
    faults = [k for k in FIX_ORDER if (items.get(k) or 0) > 0]
    if not faults:
        return None
    return max(faults, key=lambda k: (items[k], -FIX_ORDER.index(k)))


def rep_cue(rep: dict[str, Any]) -> Cue:
    """The cue after a scored rep (an analysis JSON ``reps`` entry)."""
    n = rep.get("index")
    fix = thing_to_fix(rep.get("items") or {})
    if fix is None:
        return Cue("good", f"rep {n}: good", f"{n}, good")
    return Cue(fix, f"rep {n}: {FIX_WORDS[fix]}", f"{n}, {FIX_WORDS[fix]}")


def corrected_cue(rep: dict[str, Any]) -> Cue:
    """The cue when a rep's final result changes what its provisional cue said."""
    cue = rep_cue(rep)
    said = cue.text.split(": ", 1)[1]
    return Cue(cue.kind, f"rep {rep.get('index')} corrected: {said}", f"correction, {said}")


def set_start_cue(set_number: int) -> Cue:
    return Cue("set_start", f"set {set_number}: go", "go")


def set_end_cue(set_number: int, reps: int) -> Cue:
    return Cue("set_end", f"set {set_number} done: {reps} reps", f"set done, {reps} reps")


def sensor_lost_cue(placement: str) -> Cue:
    words = placement.replace("_", " ")
    return Cue("sensor_lost", f"sensor {placement}: no data", f"check {words} sensor")


def bends_cue() -> Cue:
    """The prompt for the guided calibration movement (before the first set)."""
    return Cue("bends", "knee bends: 2-3 slow bends on both feet, then stand on the test leg",
               "knee bends, both feet")
