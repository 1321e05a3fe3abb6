"""Cue selection: what the athlete hears (and reads on the live page) at each moment.

A rep's cue names the one thing to fix: the scored fault with the most points, ties
broken in the order of :data:`FIX_ORDER` (the knee and the pelvis first: they are what
the band feedback and the retraining aim at).  Pain is reported by the athlete, not a
movement fault, so it never becomes the thing to fix.  Each kind of cue has its own tone
pattern, so it is recognisable without words; spoken words come on top where a speech
engine exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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
    """One cue: its tone pattern, what the page shows and what a speech engine says."""

    kind: str
    """A key of :data:`TONES`."""
    text: str
    """What the page and the text fallback show."""
    words: str
    """What a speech engine says (short)."""

    @property
    def tones(self) -> tuple[Tone, ...]:
        """The cue's tone pattern: (frequency Hz, duration s) pairs, frequency 0 a pause."""
        return TONES[self.kind]


def thing_to_fix(items: Mapping[str, int | None]) -> str | None:
    """The one movement fault to fix from a rep's checklist items, or None if none.

    Parameters
    ----------
    items : Mapping of str to int or None
        Item -> points (None: not assessed).

    Returns
    -------
    str or None
        An item of :data:`FIX_ORDER`: the most points, ties in that order.
    """
    faults = [k for k in FIX_ORDER if (items.get(k) or 0) > 0]
    if not faults:
        return None
    return max(faults, key=lambda k: (items[k] or 0, -FIX_ORDER.index(k)))


def rep_cue(index: int, items: Mapping[str, int | None]) -> Cue:
    """The cue after scored rep ``index`` with checklist ``items`` (item -> points).

    Parameters
    ----------
    index : int
        The rep's number in the session (from 1).
    items : Mapping of str to int or None
        Its checklist items: item -> points (None: not assessed).

    Returns
    -------
    Cue
        The cue to play and show.
    """
    fix = thing_to_fix(items)
    if fix is None:
        return Cue("good", f"rep {index}: good", f"{index}, good")
    return Cue(fix, f"rep {index}: {FIX_WORDS[fix]}", f"{index}, {FIX_WORDS[fix]}")


def corrected_cue(index: int, items: Mapping[str, int | None]) -> Cue:
    """The cue when rep ``index``'s final result (``items``) changes what its provisional cue said.

    Parameters
    ----------
    index : int
        The rep's number in the session (from 1).
    items : Mapping of str to int or None
        Its checklist items: item -> points (None: not assessed).

    Returns
    -------
    Cue
        The cue to play and show.
    """
    cue = rep_cue(index, items)
    said = cue.text.split(": ", 1)[1]
    return Cue(cue.kind, f"rep {index} corrected: {said}", f"correction, {said}")


def set_start_cue(set_number: int) -> Cue:
    """The cue at the start of a set.

    Parameters
    ----------
    set_number : int
        The set's number (from 1).

    Returns
    -------
    Cue
        ``set <n>: go``, spoken "go".
    """
    return Cue("set_start", f"set {set_number}: go", "go")


def set_end_cue(set_number: int, reps: int) -> Cue:
    """The cue at the end of a set, with its rep count.

    Parameters
    ----------
    set_number : int
        The set's number (from 1).
    reps : int
        Reps scored in the set.

    Returns
    -------
    Cue
        ``set <n> done: <reps> reps``.
    """
    return Cue("set_end", f"set {set_number} done: {reps} reps", f"set done, {reps} reps")


def sensor_lost_cue(placement: str) -> Cue:
    """The cue when a sensor stops sending data.

    Parameters
    ----------
    placement : str
        The sensor's placement, e.g. ``thigh_left``.

    Returns
    -------
    Cue
        ``sensor <placement>: no data``, spoken "check <placement> sensor".
    """
    words = placement.replace("_", " ")
    return Cue("sensor_lost", f"sensor {placement}: no data", f"check {words} sensor")


def bends_cue() -> Cue:
    """The prompt for the guided calibration movement (before the first set).

    Returns
    -------
    Cue
        The knee-bends prompt.
    """
    return Cue("bends", "knee bends: 2-3 slow bends on both feet, then stand on the test leg",
               "knee bends, both feet")
