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
from stepdown.live.window import live_window, to_session_time

pipeline = pytest.importorskip("analysis.pipeline")


def _recorder_until(tmp_path, rec, t_end):
    r = Recorder(tmp_path / f"w{t_end:.3f}.sdj", test_leg=rec.test_leg, overwrite=True)
    for name, s in rec.streams.items():
        k = int(np.searchsorted(s.t, t_end))
        r.add_samples(name, s.t[:k], s.acc[:k], s.gyr[:k])
    return r


@pytest.mark.parametrize("seed", [pytest.param(3, marks=pytest.mark.xfail(
    strict=True, reason="issue 12: the knee hinge re-derived from a two-rep window is less sure "
    "than from the session so far (rep 4: 0.75 vs 1.29 cm, truth 1.67); the window should "
    "reuse the session's calibration")), 8])
def test_each_rep_measured_in_its_window_as_in_the_recording_so_far(tmp_path, seed):
    sim = simulate(SimConfig(seed=seed, sensors=("pelvis", "thigh", "shank")))
    rec, t_go = sim.recording, 3.0
    reps = pipeline.analyze(rec).to_json()["reps"]
    windows = 0
    for prev, cur in zip(reps, reps[1:], strict=False):
        now = cur["end_s"] + 0.5  # when the live loop scores it
        r = _recorder_until(tmp_path, rec, now)
        so_far = pipeline.analyze(r.recording()).to_json()["reps"]
        window, shift = live_window(r, t_go, prev["start_s"], now)
        r.close()
        if shift == 0:  # the previous rep began right after "go": the window is everything
            continue
        windows += 1
        found = [to_session_time(x, shift, t_go) for x in pipeline.analyze(window).to_json()["reps"]]
        (mine,) = [x for x in found if abs(x["end_s"] - cur["end_s"]) < 0.3]
        (ref,) = [x for x in so_far if abs(x["end_s"] - cur["end_s"]) < 0.3]
        assert mine["bottom_s"] == pytest.approx(ref["bottom_s"], abs=0.03)
        for k, v in ref["measures"].items():
            if v is None:
                assert mine["measures"][k] is None, k
                continue
            tol = 0.5 if k.endswith("_cm") else 1.0 if k.endswith("_deg") else 0.05 * abs(v) + 0.05
            assert mine["measures"][k] == pytest.approx(v, abs=tol), (cur["index"], k)
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
