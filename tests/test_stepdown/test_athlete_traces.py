"""The live page's traces (stepdown/athlete/scoring.py): the rep in progress is the
analysis' own knee and pelvis series from the rep's start to the newest sample, drawn
against the analysis' thresholds."""

from dataclasses import replace

import numpy as np
import pytest

from simulator.single_test import SimConfig, simulate
from stepdown.athlete.scoring import TRACE_STEP_S, current_rep_trace, live_tracer, rule_thresholds

pipeline = pytest.importorskip("analysis.pipeline")


def _until(rec, t_end):
    return replace(rec, streams={n: s.slice_time(-np.inf, t_end) for n, s in rec.streams.items()})


def test_the_rep_in_progress_is_traced_from_its_start_to_the_newest_sample():
    from analysis.rules import RuleConfig

    sim = simulate(SimConfig(seed=8, test_leg="left", sensors=("pelvis", "thigh")))
    rep1 = sim.truth["reps"][0]
    cut = rep1["bottom_s"]  # half-way: the athlete at the bottom
    so_far = _until(sim.recording, cut)
    trace = live_tracer()(so_far, 3.0)
    result = pipeline.analyze(so_far, classify=False)
    t = result.series.t
    start = trace["start_s"]
    assert start == pytest.approx(rep1["start_s"], abs=0.3)   # the truth's start (5 % depth)
    assert t[-1] - start - trace["t"][-1] < TRACE_STEP_S  # up to the newest sample
    assert np.median(np.diff(trace["t"])) == pytest.approx(TRACE_STEP_S, abs=0.015)
    for key in ("knee_medial_cm", "pelvic_drop_deg"):  # the analysis' own series, thinned
        want = np.interp(start + np.array(trace["t"]), t, result.series.series[key])
        assert np.allclose(trace[key], want, atol=0.011)
    cfg = RuleConfig()
    assert trace["thresholds"] == {"knee_medial_cm": [cfg.knee_cm_1, cfg.knee_cm_2],
                                   "pelvic_drop_deg": [cfg.pelvis_deg]}
    assert rule_thresholds(result.config) == trace["thresholds"]


def test_no_trace_while_standing_after_the_last_rep_shown():
    sim = simulate(SimConfig(seed=8, test_leg="left", sensors=("pelvis", "thigh")))
    rep1, rep2 = sim.truth["reps"][:2]
    between = pipeline.analyze(_until(sim.recording, rep2["start_s"] - 0.2), classify=False)
    s, limits = between.series, rule_thresholds(between.config)
    assert current_rep_trace(s.t, s.depth_rad, s.series, rep1["end_s"], limits) is None
    assert current_rep_trace(s.t, s.depth_rad, s.series, rep1["start_s"] - 0.5, limits) is not None


def test_the_rep_in_progress_is_traced_as_its_result_will_read(tmp_path):
    # traced from the window the rep is scored from, with the frames carried from the reps
    # so far: when the rep's result comes, its curve peaks at the result's values (with its
    # own frames, from the window, 0.3-0.5 cm of knee off: benchmarks/bench_live.py)
    from sensor_io.recorder import Recorder
    from stepdown.live.emulation import Prompts, simulated_test
    from stepdown.live.reps import RepTracker
    from stepdown.live.scoring import analysis_scorer
    from stepdown.live.window import find_frames

    sim = simulated_test(["pelvis", "thigh", "shank"], "left", 3, Prompts(3.0, 10.0))
    final = pipeline.analyze(sim.recording).to_json()["reps"]
    prev, rep = final[1], final[2]

    def tracker_until(t_end):
        rec = Recorder(tmp_path / f"{t_end:.2f}.sdj", test_leg="left", keep_raw=False)
        for name, s in sim.recording.streams.items():
            k = int(np.searchsorted(s.t, t_end))
            rec.add_samples(name, s.t[:k], s.acc[:k], s.gyr[:k])
        rec.set_calibration_movement(3.0, 13.0)
        reps = RepTracker(rec)
        reps.start(13.0)
        reps.shown = final[:2]
        return reps

    frames = find_frames(tracker_until(prev["end_s"] + 0.3).recorder.recording(), 2).calibration
    scorer, found = analysis_scorer(), None
    for t in np.arange(rep["bottom_s"], rep["end_s"] + 1.0, 0.05):  # the loop's turns
        reps = tracker_until(t)
        window, shift = reps.window(t)
        found = next((r for r in scorer(window, frames)
                      if abs(r["bottom_s"] + shift - rep["bottom_s"]) < 0.5), None)
        if found is not None:
            break
    assert found is not None
    window, shift = reps.window(t, "trace")
    trace = live_tracer()(window, prev["end_s"] - shift, frames)
    for key in ("knee_medial_cm", "pelvic_drop_deg"):
        assert max(v for v in trace[key] if v is not None) == pytest.approx(
            found["measures"][key], abs=0.02), key
