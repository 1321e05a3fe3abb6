"""Which reps of a live test to show, and when to score: the record loop's rep tracker.

Scoring means analysing the live window (:mod:`stepdown.live.window`: the calibration
and the samples since the last rep shown), 8-15 ms, so the loop does it only when the
test thigh says a rep is ending (:mod:`analysis.rep_end`) or, as a safety net, every
FALLBACK_SCORE_S while the thigh is not deep in a rep.

A rep is shown twice, as a coach would: **provisional** as soon as it is found while
the athlete is still coming up (the thigh back below 40 % of its dip,
:func:`~analysis.rep_end.rep_returning`: the measures are peaks, already past), then
**final** once its end is certain (:func:`~analysis.rep_end.rep_end_settled`; a rep
scored while the depth still falls ends 0.3-0.5 s early).  The final one says whether it
``confirmed`` the provisional result (same items and total) or ``corrected`` it; a
provisional rep no final analysis finds is ``withdrawn``.  Only final reps count
(``shown``: the terminal's rep lines, the recording's pain list); times in s on the
session's common clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from stepdown.live.live_rep import LiveRep

if TYPE_CHECKING:
    from sensor_io.recorder import Recorder
    from sensor_io.recording import Recording

FALLBACK_SCORE_S = 5.0  # s between analyses when no rep end is seen
RETRY_S = 1.0           # s of looking again at each turn for a rep whose end may move
PROVISIONAL_S = 3.0     # s after which a provisional rep no analysis confirms is withdrawn
SAME_REP_S = 0.5        # s between two bottoms that are one rep found twice
IN_REP_TILT_DEG = 4.0   # thigh tilt beyond which a rep is in progress (its trace is drawn)


@dataclass
class RepTracker:
    """The reps shown so far, the provisional one, and what the next analysis needs.

    Times in s on the session's common clock.
    """

    recorder: Recorder
    """The live test's recorder (its test thigh feeds the trigger)."""
    t_go: float = 0.0
    """The common clock at "go" (the end of the calibration), s."""
    shown: list[LiveRep] = field(default_factory=list)
    """The final reps shown, numbered and timed as in the session."""
    provisional: LiveRep | None = None
    """Shown early, not final yet."""
    provisional_at: float = 0.0
    """When it was shown, s."""
    t_scored: float = 0.0
    """When the last analysis for a rep end (not an early one) started, s."""
    unsettled_since: float | None = None
    """Since when a rep was found whose end may still move, s; None: none."""

    def start(self, t_go: float) -> None:
        """The test begins ("go"): reps are looked for from ``t_go`` on.

        Parameters
        ----------
        t_go : float
            The common clock at "go", s.
        """
        self.t_go = self.t_scored = t_go

    def due(self, now: float) -> str | None:
        """Why a new analysis is worth running at ``now``, or None.

        "returning" (the thigh is on its way back up from a rep not shown yet), "ended" (it has
        dipped since the last analysis and is back near standing), "retry" (a rep's end was not
        settled), "fallback" (FALLBACK_SCORE_S since the last analysis and the thigh is not deep
        in a rep: a rep analysed mid-way would end too early); "end" is the loop's own, once the
        recording has ended.  Analysing on every turn instead would cost a core on a long
        session.

        Parameters
        ----------
        now : float
            The common clock now, s.

        Returns
        -------
        str or None
            The reason, or None: no analysis now.
        """
        from analysis.rep_end import mid_dip, rep_may_have_ended, rep_returning

        if self.unsettled_since is not None and now - self.unsettled_since < RETRY_S:
            return "retry"
        thigh = self.recorder.stream(f"thigh_{self.recorder.meta['test_leg']}")
        if thigh is None or len(thigh) < 20:
            return "fallback" if now - self.t_scored >= FALLBACK_SCORE_S else None
        if now - self.t_scored >= FALLBACK_SCORE_S:
            return None if mid_dip(thigh) else "fallback"
        if rep_may_have_ended(thigh, self.t_scored):
            return "ended"
        if self.provisional is None and rep_returning(thigh, self.t_scored):
            return "returning"
        return None

    def window(self, now: float, why: str | None = None) -> tuple[Recording, float]:
        """What scoring the next rep needs, and the window's time shift.

        The calibration and the samples since the last rep shown
        (:func:`stepdown.live.window.live_window`), so a score costs the same late in a long
        session as early; the pain reports of the reps already shown are left out.

        Parameters
        ----------
        now : float
            The common clock now, s: the analysis starts then.
        why : str or None
            Why it runs (see :meth:`due`; ``trace``: the rep in progress's trace).

        Returns
        -------
        recording : Recording
            The live window.
        shift : float
            Subtracted from the recent samples' times, s (0: the window is everything so far).
        """
        from stepdown.live.window import JOIN_S, live_window

        if why not in ("returning", "trace"):  # leave the rep-end trigger's dip in view
            self.t_scored = now
        # from the quiet standing before the last rep shown: joining at a rep's end, where
        # the thigh is still flexed, would leave the orientation filter ~10° off for seconds
        since = self.shown[-1].start_s if self.shown else self.t_go
        rec, shift = live_window(self.recorder, self.t_go, since, now)
        if shift > 0 and isinstance(rec.pain_nrs, list):
            # the window's reps begin with those shown that start in it (the last one,
            # analysed again): the analysis matches pain to reps in order
            starts = shift + self.t_go + JOIN_S
            rec.pain_nrs = rec.pain_nrs[sum(r.start_s < starts for r in self.shown):]
        return rec, shift

    @property
    def last_end(self) -> float:
        """End of the last rep shown (provisional or final), or "go"."""
        if self.provisional is not None:
            return float(self.provisional.end_s)
        return float(self.shown[-1].end_s) if self.shown else self.t_go

    def in_rep(self) -> bool:
        """Is a rep in progress?

        Nothing provisional shown yet, and the test thigh tilted beyond IN_REP_TILT_DEG now.

        Returns
        -------
        bool
            True while a rep is in progress.
        """
        from analysis.rep_end import thigh_tilt

        thigh = self.recorder.stream(f"thigh_{self.recorder.meta['test_leg']}")
        if self.provisional is not None or thigh is None or len(thigh) < 20:
            return False
        tilt, _ = thigh_tilt(thigh, thigh.t[-1] - 1.0)
        return bool(len(tilt) and tilt[-1] > IN_REP_TILT_DEG)

    def accept(self, reps: list[LiveRep], shift: float, now: float,
               why: str | None = None) -> list[tuple[str, LiveRep]]:
        """What to show of a window's analysis: (status, rep) pairs.

        Reps numbered and timed as in the session.  status: "final" (a rep not shown before),
        "confirmed" / "corrected" (the final result of the provisional rep: same or other items
        or total), "withdrawn" (the provisional rep, found by no final analysis), "provisional"
        (a new last rep whose end may still move: shown once, counted when final).

        Parameters
        ----------
        reps : list of LiveRep
            The window's scored reps, in its numbering and time.
        shift : float
            The window's time shift, s (:meth:`window`).
        now : float
            When the analysis was scored, common clock, s.
        why : str or None
            Why it ran (see :meth:`due`; ``end``: the recording has ended).

        Returns
        -------
        list of tuple of (str, LiveRep)
            (status, rep) pairs, in the order to show them.
        """
        if why == "end":  # the recording has ended: no more data can move an end
            reps = [replace(r, settled=True) for r in reps]
        new = self._new_reps(reps, shift)
        unsettled = bool(new) and not new[-1].settled
        if not (reps and not reps[-1].settled):
            self.unsettled_since = None
        elif why != "returning":  # the early look waits for the rep-end trigger
            self.unsettled_since = self.unsettled_since or now
        final = new[:-1] if unsettled else new
        out = [(self._resolve(rep), rep) for rep in final]
        self.shown.extend(final)
        if self.provisional is not None and (
                now - self.provisional_at > PROVISIONAL_S
                or any(_bottom(r) > _bottom(self.provisional) + SAME_REP_S for r in final)):
            out.append(("withdrawn", self.provisional))  # later reps, or too long: not a rep
            self.provisional = None
        if unsettled and self.provisional is None:
            self.provisional, self.provisional_at = new[-1], now
            out.append(("provisional", new[-1]))
        return out

    def _resolve(self, rep: LiveRep) -> str:
        """A final rep's status against the provisional rep (cleared when it is this one)."""
        p = self.provisional
        if p is None or abs(_bottom(p) - _bottom(rep)) > SAME_REP_S:
            return "final"
        self.provisional = None
        same = p.items == rep.items and p.total == rep.total
        return "confirmed" if same else "corrected"

    def _new_reps(self, reps: list[LiveRep], shift: float) -> list[LiveRep]:
        """The reps of a window's analysis not shown yet, numbered and timed as in the
        session."""
        from stepdown.live.window import to_session_time

        if shift == 0:  # the window was the whole recording so far
            return reps[len(self.shown):]
        last_end = self.shown[-1].end_s if self.shown else self.t_go
        fresh = [replace(r, rep=to_session_time(r.rep, shift, self.t_go)) for r in reps]
        # a rep whose bottom is before the last shown rep's end is that rep again
        fresh = [r for r in fresh if _bottom(r) > last_end]
        return [replace(r, rep=replace(r.rep, index=len(self.shown) + i))
                for i, r in enumerate(fresh, 1)]


def _bottom(rep: LiveRep) -> float:
    """A rep's deepest point (s), or its middle where the analysis gave none."""
    return rep.bottom_s if rep.bottom_s is not None else (rep.start_s + rep.end_s) / 2
