"""One rep as the live loop shows it: the analysis' typed rep with what the live test adds.

The record loop, the rep tracker, the terminal lines, the cues and the live page all hand
a :class:`LiveRep` to each other; only the live page's state (:mod:`stepdown.athlete.bus`,
JSON to the browser) turns it into plain values.  Times in s on the session's common clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from analysis.result import Rep
from sensor_io.json_doc import JSONDoc


@dataclass(frozen=True)
class RepTrace:
    """Measures of one rep (or of the rep in progress) over time, for the live page."""

    start_s: float
    """Start of the rep, s on the clock of the analysis it comes from."""
    t: tuple[float, ...]
    """Sample times, s from :attr:`start_s`."""
    values: Mapping[str, tuple[float | None, ...]]
    """Measure name -> its value at each of :attr:`t` in the measure's unit (None: not
    finite there); a measure no sensor gives is left out."""
    thresholds: Mapping[str, tuple[float, ...]]
    """Measure name -> the rule thresholds it is scored against, in its unit."""
    units: Mapping[str, str]
    """Measure name -> its unit ("cm", "deg")."""

    def to_json(self) -> JSONDoc:
        """The trace as the live page reads it.

        Returns
        -------
        dict of str to Any
            ``t``, ``start_s``, ``thresholds``, ``units`` and one list per measure (s, and each
            measure's unit).
        """
        return {"t": list(self.t), "start_s": self.start_s,
                "thresholds": {k: list(v) for k, v in self.thresholds.items()},
                "units": dict(self.units), **{k: list(v) for k, v in self.values.items()}}


@dataclass(frozen=True)
class LiveRep:
    """A scored rep of a live test.

    Its :attr:`rep` is numbered and timed as in the session once the rep tracker has
    placed it (:meth:`stepdown.live.reps.RepTracker.accept`); before that, as in the
    window it was analysed in.
    """

    rep: Rep
    """The analysis' rep (measures, items with their sources, total)."""
    borderline: tuple[str, ...] = ()
    """Items whose measure lies within its uncertainty of a threshold (may still flip)."""
    unmeasured_items: tuple[str, ...] = ()
    """Items the worn sensors should have decided but could not (a sensor dropped out)."""
    settled: bool = True
    """False: the rep's end may still move as data comes in (the last rep of a window)."""
    trace: RepTrace | None = None
    """The live page's knee and pelvis traces of the rep
    (:func:`stepdown.athlete.scoring.rep_trace`); None where no page draws them."""

    @property
    def index(self) -> int:
        """1-based rep number."""
        return self.rep.index

    @property
    def start_s(self) -> float:
        """Start of the rep, s."""
        return self.rep.start_s

    @property
    def bottom_s(self) -> float | None:
        """Deepest point of the rep, s."""
        return self.rep.bottom_s

    @property
    def end_s(self) -> float:
        """End of the rep, s."""
        return self.rep.end_s

    @property
    def total(self) -> int:
        """Checklist total of the rep, 0-8."""
        return self.rep.total

    @property
    def items(self) -> dict[str, int | None]:
        """Item name -> points (None: not assessed)."""
        return self.rep.item_values()
