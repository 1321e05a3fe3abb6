"""Which reps of a live test to show, and when to score: the record loop's rep tracker.

Scoring means analysing the live window (:mod:`stepdown.live.window`: the calibration
and the samples since the last rep shown), 8-15 ms, so the loop does it only when a rep
may have ended (:func:`analysis.rep_end.rep_may_have_ended` on the test thigh) or, as a
safety net, every FALLBACK_SCORE_S while the thigh is not deep in a rep.  A rep whose
end may still move (:func:`analysis.rep_end.rep_end_settled`) is held back and looked
at again on each turn for up to RETRY_S: scored while the depth was still falling, a rep
ended 0.3-0.5 s early and came back a second time later.  Times in s on the session's
common clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sensor_io.recorder import Recorder
    from sensor_io.recording import Recording

FALLBACK_SCORE_S = 5.0  # s between analyses when no rep end is seen
RETRY_S = 1.0           # s of looking again at each turn for a rep whose end may move


@dataclass
class RepTracker:
    """The reps shown so far (``shown``: analysis JSON ``reps`` entries, numbered and
    timed as in the session) and what the next analysis needs.

    recorder: the live test's recorder (its test thigh feeds the trigger).
    t_go: the common clock at "go" (the end of the calibration).
    """

    recorder: Recorder
    t_go: float = 0.0
    shown: list[dict[str, Any]] = field(default_factory=list)
    t_scored: float = 0.0  # when the last analysis started
    unsettled_since: float | None = None  # a rep was found whose end may still move

    def start(self, t_go: float) -> None:
        """The test begins ("go"): reps are looked for from ``t_go`` on."""
        self.t_go = self.t_scored = t_go

    def due(self, now: float) -> bool:
        """Is a new analysis worth running at ``now``?  When the thigh has dipped since
        the last one and is back near standing, or, as a safety net, FALLBACK_SCORE_S
        after the last one while the thigh is not deep in a rep (a rep analysed mid-way
        would end too early and be shown twice).  Analysing on every turn instead would
        cost a core on a long session."""
        from analysis.rep_end import mid_dip, rep_may_have_ended

        if self.unsettled_since is not None and now - self.unsettled_since < RETRY_S:
            return True  # a rep found, its end not settled yet: look again
        thigh = self.recorder.stream(f"thigh_{self.recorder.meta['test_leg']}")
        if thigh is None or len(thigh) < 20:
            return now - self.t_scored >= FALLBACK_SCORE_S
        if now - self.t_scored >= FALLBACK_SCORE_S:
            return not mid_dip(thigh)
        return rep_may_have_ended(thigh, self.t_scored)

    def window(self, now: float) -> tuple[Recording, float]:
        """What scoring the next rep needs: the calibration and the samples since the last
        rep shown (:func:`stepdown.live.window.live_window`), so a score costs the same
        late in a long session as early, and the window's time shift; the pain reports of
        the reps already shown are left out.  Marks an analysis as started at ``now``."""
        from stepdown.live.window import live_window

        self.t_scored = now
        # from the quiet standing before the last rep shown: joining at a rep's end, where
        # the thigh is still flexed, would leave the orientation filter ~10° off for seconds
        since = self.shown[-1]["start_s"] if self.shown else self.t_go
        rec, shift = live_window(self.recorder, self.t_go, since, now)
        if shift > 0 and isinstance(rec.pain_nrs, list):
            rec.pain_nrs = rec.pain_nrs[len(self.shown):]
        return rec, shift

    def accept(self, reps: list[dict[str, Any]], shift: float, now: float
               ) -> list[dict[str, Any]]:
        """The reps of a window's analysis (scored at ``now`` on the window of ``shift``)
        to show now, numbered and timed as in the session, and noted as shown; a last rep
        whose end may still move is held back."""
        if reps and not reps[-1].get("settled", True):  # the last rep's end may still move
            reps = reps[:-1]
            self.unsettled_since = self.unsettled_since or now
        else:
            self.unsettled_since = None
        new = self._new_reps(reps, shift)
        self.shown.extend(new)
        return new

    def _new_reps(self, reps: list[dict[str, Any]], shift: float) -> list[dict[str, Any]]:
        """The reps of a window's analysis not shown yet, numbered and timed as in the
        session."""
        from stepdown.live.window import to_session_time

        if shift == 0:  # the window was the whole recording so far
            return reps[len(self.shown):]
        last_end = self.shown[-1]["end_s"] if self.shown else self.t_go
        fresh = [to_session_time(r, shift, self.t_go) for r in reps]
        # a rep whose bottom is before the last shown rep's end is that rep again
        fresh = [r for r in fresh if r["bottom_s"] > last_end]
        return [{**r, "index": len(self.shown) + i} for i, r in enumerate(fresh, 1)]
