"""Live scoring analyses a window (the calibration + the samples since the standing
before the last rep shown), not the whole recording so far: it must measure each rep as
the whole recording so far does, within what the analysis itself moves when it sees more
data (on seeds 3, 8, 11, 12, 14 reps: the final analysis differs from the one "so far" by
up to 0.42 cm knee and 1.2° hip flexion; the window by up to 0.38 cm and 0.97°)."""

from __future__ import annotations

import numpy as np
import pytest

from sensor_io.recorder import Recorder
from simulator.single_test import SimConfig, simulate
from stepdown.live.window import carry_frames, live_window, to_session_time

pipeline = pytest.importorskip("analysis.pipeline")


def _recorder_until(tmp_path, rec, t_end):
    r = Recorder(tmp_path / f"w{t_end:.3f}.sdj", test_leg=rec.test_leg, overwrite=True)
    for name, s in rec.streams.items():
        k = int(np.searchsorted(s.t, t_end))
        r.add_samples(name, s.t[:k], s.acc[:k], s.gyr[:k])
    return r


@pytest.mark.parametrize("seed", [3, 8])
def test_each_rep_measured_in_its_window_as_in_the_recording_so_far(tmp_path, seed):
    # the window is analysed with the frames carried from the recording so far
    # (carry_frames), as the live loop does: a two-rep window's own knee hinge is less
    # sure (seed 3, rep 4: 0.75 cm against 1.29 cm so far; carried 0.88, truth 1.67)
    sim = simulate(SimConfig(seed=seed, sensors=("pelvis", "thigh", "shank")))
    rec, t_go = sim.recording, 3.0
    reps = pipeline.analyze(rec).to_json()["reps"]
    windows, carried = 0, None
    for shown, (prev, cur) in enumerate(zip(reps, reps[1:], strict=False), 1):
        before = _recorder_until(tmp_path, rec, prev["end_s"] + 0.5)  # when prev was shown
        carried = carry_frames(carried, before, shown)
        before.close()
        now = cur["end_s"] + 0.5  # when the live loop scores it
        r = _recorder_until(tmp_path, rec, now)
        so_far = pipeline.analyze(r.recording()).to_json()["reps"]
        window, shift = live_window(r, t_go, prev["start_s"], now)
        r.close()
        if shift == 0:  # the previous rep began right after "go": the window is everything
            continue
        windows += 1
        found = [to_session_time(x, shift, t_go) for x in
                 pipeline.analyze(window, session=carried.calibration).result().reps]
        (mine,) = [x for x in found if abs(x.end_s - cur["end_s"]) < 0.3]
        (ref,) = [x for x in so_far if abs(x["end_s"] - cur["end_s"]) < 0.3]
        assert mine.bottom_s == pytest.approx(ref["bottom_s"], abs=0.03)
        for k, v in ref["measures"].items():
            if v is None:
                assert mine.measures.get(k) is None, k
                continue
            # degrees: 1.25 since the simulated sacral sensor reads the real one's excess tilt
            # (analysis.soft_tissue): seed 3 rep 4's hip flexion 64.35 vs 63.33, with or
            # without the analysis taking the excess out (the window's own orientation
            # start); 64.65 vs 63.46 since that excess falls past 40° of thigh
            tol = 0.5 if k.endswith("_cm") else 1.25 if k.endswith("_deg") else 0.05 * abs(v) + 0.05
            assert mine.measures.get(k) == pytest.approx(v, abs=tol), (cur["index"], k)
    assert windows >= 3


def test_the_window_does_not_grow_with_the_session(tmp_path):
    sim = simulate(SimConfig(seed=3, sensors=("pelvis", "thigh")))
    r = _recorder_until(tmp_path, sim.recording, 1e9)
    late = r.recording().duration_s
    w, shift = live_window(r, 3.0, late - 4.0, late)
    assert shift > 0 and w.duration_s == pytest.approx(3.0 + 4.5, abs=0.1)
    assert w.streams["pelvis"].t[0] == r.stream("pelvis").t[0]  # the calibration is kept
    assert np.all(np.diff(w.streams["pelvis"].t) > 0)
    r.close()


def test_frames_are_found_again_only_when_the_reps_shown_double(tmp_path):
    sim = simulate(SimConfig(seed=3, sensors=("pelvis", "thigh", "shank")))
    r = _recorder_until(tmp_path, sim.recording, 1e9)
    assert carry_frames(None, r, 0) is None
    first = carry_frames(None, r, 1)
    assert first.reps == 1 and "thigh_left" in first.calibration.sensors
    assert carry_frames(first, r, 1) is first
    second = carry_frames(first, r, 2)
    assert second is not first and second.reps == 2
    assert carry_frames(second, r, 3) is second and carry_frames(second, r, 4).reps == 4
    r.close()


@pytest.mark.parametrize("seed", [3, 26])
def test_a_rep_scored_as_it_ends_reads_more_pelvic_drop_than_the_saved_recording(seed):
    # why the live result differs from the final one (docs/live.md): the orientation
    # filter runs forward and back over the data, and the live analysis has no data after
    # the rep for the backward pass; 3 s later it reads as the whole recording does. The
    # causal filter, which never looks ahead, reads the same either way.
    import dataclasses

    from stepdown.live.emulation import Prompts, simulated_test

    rec = simulated_test(["pelvis", "thigh"], "left", seed, Prompts(3.0, 10.0)).recording
    first = pipeline.analyze(rec).to_json()["reps"][0]

    def drop(after_s, mode):
        cut = {n: s.slice_time(-1.0, first["end_s"] + after_s) for n, s in rec.streams.items()}
        reps = pipeline.analyze(dataclasses.replace(rec, streams=cut), mode=mode).to_json()["reps"]
        return reps[0]["measures"]["pelvic_drop_deg"]

    live, later = drop(0.1, "offline"), drop(3.0, "offline")
    assert 0.15 < live - first["measures"]["pelvic_drop_deg"] < 1.0  # 0.23-0.66 on seeds 3, 8, 26
    assert later == pytest.approx(first["measures"]["pelvic_drop_deg"], abs=0.15)
    assert drop(0.1, "causal") == pytest.approx(drop(3.0, "causal"), abs=0.02)


def test_the_carried_frames_and_the_window_use_the_live_settings(monkeypatch):
    # one AnalysisConfig (stepdown.live.scoring.live_config) makes the frames the live loop
    # carries and analyses each window: a setting that refuses this leg's flexion axis
    # refuses both, and the defaults make frames the scorer accepts
    from analysis.config import AnalysisConfig
    from calibration import CalibrationError
    from stepdown.live import scoring
    from stepdown.live.window import find_frames

    rec = simulate(SimConfig(seed=8, test_leg="left", sensors=("pelvis", "thigh"))).recording
    carried = find_frames(rec, 2)
    assert carried.calibration is not None and len(scoring.analysis_scorer()(
        rec, carried.calibration)) == len(pipeline.analyze(rec).result().reps)
    strict = AnalysisConfig().clone(calibration={"min_axis_share": 0.9999})
    monkeypatch.setattr(scoring, "live_config", lambda: strict)
    with pytest.raises(CalibrationError, match="not dominated by flexion"):
        find_frames(rec, 2)
    with pytest.raises(CalibrationError, match="not dominated by flexion"):
        scoring.analysis_scorer()(rec, None)
