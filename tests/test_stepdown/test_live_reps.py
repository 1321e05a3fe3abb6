"""The live rep tracker (stepdown/live/reps.py): each rep is shown provisional while the
athlete is still coming up, then final once its end is certain.  The record loop is
stepped by hand over a simulated test, 0.05 s of fresh data a turn (no transport delay:
the benchmark bench_live_page measures that), so every run is the same."""

import numpy as np
import pytest

from sensor_io.errors import InputError
from sensor_io.recorder import Recorder
from simulator.single_test import SimConfig, simulate
from stepdown.live.reps import RepTracker

pipeline = pytest.importorskip("analysis.pipeline")
STEP_S = 0.05  # the record loop's turn (stepdown.live.loop.POLL_S)


def _run_tracker(seed, tmp_path):
    """Step the tracker through simulated seed ``seed``: ([(time, status, rep)], the
    reps of the whole recording's analysis)."""
    from stepdown.live.scoring import analysis_scorer

    rec = simulate(SimConfig(seed=seed, test_leg="left", sensors=("pelvis", "thigh"))).recording
    recorder = Recorder(tmp_path / f"s{seed}.sdj", test_leg="left", overwrite=True)
    tracker, score, shown = RepTracker(recorder), analysis_scorer(), []
    t_go = 3.0  # the record command's calibration: 3 s of standing
    prev = -np.inf
    for now in np.arange(STEP_S, max(s.t[-1] for s in rec.streams.values()) + STEP_S, STEP_S):
        for name, s in rec.streams.items():
            k0, k1 = np.searchsorted(s.t, [prev, now], side="right")
            recorder.add_samples(name, s.t[k0:k1], s.acc[k0:k1], s.gyr[k0:k1])
        prev = now
        if now < t_go:
            continue
        if tracker.t_go == 0.0:
            tracker.start(now)
        if not (why := tracker.due(now)):
            continue
        window, shift = tracker.window(now, why)
        try:
            reps = score(window)
        except InputError:
            continue
        shown += [(now, status, rep) for status, rep in tracker.accept(reps, shift, now, why)]
    recorder.close()
    return shown, pipeline.analyze(rec).to_json()["reps"]


@pytest.mark.parametrize("seed", [1, 4, 8])
def test_each_rep_is_shown_provisional_before_its_end_then_final(seed, tmp_path):
    shown, final = _run_tracker(seed, tmp_path)
    assert len(final) == 5
    statuses = {f["index"]: [st for _, st, r in shown if r.index == f["index"]] for f in final}
    assert all(s[0] == "provisional" and s[1] in ("confirmed", "corrected") and len(s) == 2
               for s in statuses.values()), statuses
    for f in final:
        (t_first, _, first), (t_final, _, last) = [(t, st, r) for t, st, r in shown
                                                   if r.index == f["index"]]
        # fresh data: the result is there before the rep's end, its final form after it
        assert t_first < f["end_s"] < t_final
        assert first.bottom_s == pytest.approx(f["bottom_s"], abs=0.05)
        assert last.end_s == pytest.approx(f["end_s"], abs=0.15)
    corrected = sum(s[1] == "corrected" for s in statuses.values())
    assert corrected <= 1  # the peaks are past at 40 % of the way back: seeds 1, 4, 8 have none


def test_the_return_trigger_fires_on_the_way_up_before_the_end_trigger():
    from analysis.rep_end import rep_may_have_ended, rep_returning

    sim = simulate(SimConfig(seed=3, sensors=("pelvis", "thigh"), ideal_sensors=True))
    thigh = sim.recording.stream("thigh")
    rep1 = sim.truth["reps"][0]
    start = sim.scenario.standing_s
    t = thigh.t[(thigh.t > rep1["bottom_s"]) & (thigh.t < rep1["end_s"] + 0.5)]
    returning = next(x for x in t if rep_returning(thigh.slice_time(-1.0, x), start))
    ended = next(x for x in t if rep_may_have_ended(thigh.slice_time(-1.0, x), start))
    assert rep1["bottom_s"] + 0.3 < returning < ended
    assert returning < rep1["end_s"]  # the truth's end (5 % of the depth)
    assert not rep_returning(thigh.slice_time(-1.0, start - 0.5), 0.0)          # standing
    assert not rep_returning(thigh.slice_time(-1.0, rep1["bottom_s"]), start)   # at the bottom
    assert not rep_returning(thigh.slice_time(-1.0, rep1["end_s"] + 0.3), rep1["end_s"])
