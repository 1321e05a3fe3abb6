"""Long sessions: what thins or windows data keeps what its reference needs (issue 22)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from analysis import quat
from analysis.measures import MIN_REFERENCE_SAMPLES, _standing_sample, _wrist_motion_rad
from analysis.pipeline import analyze
from sensor_io.recording_io import read_recording
from simulator.session import (
    WALK_SPEED_MPS,
    SessionConfig,
    simulate_session,
    walking_kinematics,
)
from stepdown.cli import main
from stepdown.truth_files import read_truth

RATE_HZ = 100.0


def _wrist_session(minutes: float, standing_s: tuple[float, float], turn_deg: float,
                   lifts: list[tuple[float, float]]):
    """A reference sensor turning and tilting slowly for ``minutes`` and a wrist rigidly on it,
    its heading frame off by ``turn_deg`` about the vertical, except during ``lifts``
    ((start s, end s): the hand rotated 40° about the forearm). Returns (motion, ref_q,
    wrist_q, truth_rad)."""
    t = np.arange(0.0, minutes * 60.0, 1.0 / RATE_HZ)
    heading = 0.6 * np.sin(2 * np.pi * t / 97.0) + 0.002 * t
    tilt = 0.2 * np.sin(2 * np.pi * t / 13.0)
    ref_q = quat.qmul(quat.about_z(heading), quat.from_rotvec(np.column_stack(
        [tilt, np.zeros_like(t), np.zeros_like(t)])))
    truth = np.zeros_like(t)
    for t0, t1 in lifts:
        truth[(t >= t0) & (t < t1)] = np.radians(40.0)
    hand = quat.from_rotvec(np.column_stack([np.zeros_like(t), truth, np.zeros_like(t)]))
    mount = quat.from_rotvec(np.array([0.3, -0.2, 1.1]))
    wrist_q = quat.qmul(quat.about_z(-np.radians(turn_deg)), quat.qmul(ref_q, quat.qmul(mount, hand)))
    motion = SimpleNamespace(t=t, standing=(t >= standing_s[0]) & (t < standing_s[1]))
    return motion, ref_q, wrist_q, truth


def test_wrist_motion_of_a_40_min_session_keeps_its_standing_reference():
    """40 min at 100 Hz, standing from 0.4 to 3.1 s: thinning to ~600 samples (every 400th)
    kept none of it, and the reference mean raised (ValueError: mean of an empty rotation
    set), a traceback from `stepdown analyze`."""
    lifts = [(600.0, 606.0), (1800.0, 1803.0), (2300.0, 2310.0)]
    motion, ref_q, wrist_q, truth = _wrist_session(40.0, (0.4, 3.1), 57.0, lifts)
    step = len(motion.t) // 600
    assert motion.standing[::step].sum() == 0  # the case that crashed
    got = _wrist_motion_rad(motion, ref_q, wrist_q)
    assert got.shape == truth.shape
    assert np.max(np.abs(got - truth)) < np.radians(0.3)


def test_standing_reference_is_the_thinned_samples_when_they_are_enough():
    """A short test keeps its reference (the same samples as before the fix, same numbers)."""
    standing = np.zeros(3000, bool)
    standing[20:330] = True
    idx = np.arange(0, 3000, 5)
    np.testing.assert_array_equal(_standing_sample(idx, standing), idx[standing[idx]])


def test_standing_reference_of_a_long_session_thins_the_standing_window_on_its_own():
    standing = np.zeros(240_000, bool)
    standing[31:311] = True
    idx = np.arange(0, 240_000, 400)
    ref = _standing_sample(idx, standing)
    assert len(idx[standing[idx]]) == 0
    assert MIN_REFERENCE_SAMPLES <= len(ref) <= 2 * MIN_REFERENCE_SAMPLES
    assert standing[ref].all() and ref[0] == 31


# -- simulated sessions: sets, rests, walks ----------------------------------------------------

@pytest.fixture(scope="module")
def session():
    cfg = SessionConfig(seed=5, sets=3, rest_s=6.0, walk_s=10.0, test_leg="right",
                        sensors=("pelvis", "thigh", "wrist"), rates_hz={"wrist": 52.0})
    return simulate_session(cfg)


def test_session_blocks_follow_each_other_on_one_clock(session):
    sets, walks = session.truth["sets"], session.truth["walks"]
    assert len(sets) == 3 and len(walks) == 2
    bounds = [x for s, w in zip(sets, walks + [None], strict=True)
              for x in ([s["start_s"], s["end_s"]] + (w if w else []))]
    assert bounds == sorted(bounds) and bounds[0] == 0.0
    assert all(w[1] - w[0] == pytest.approx(10.0, abs=0.01) for w in walks)
    for k in (1, 2):  # each further set begins with its rest, as quiet standing
        lo, hi = sets[k]["standing_s"]
        assert hi - lo == pytest.approx(6.0) and lo == sets[k]["start_s"]
    assert len(session.truth["reps"]) == 15
    assert [r["index"] for r in session.truth["reps"]] == list(range(1, 16))
    assert [r["set"] for r in session.truth["reps"]] == [1] * 5 + [2] * 5 + [3] * 5
    for r in session.truth["reps"]:
        s = sets[r["set"] - 1]
        assert s["standing_s"][1] < r["start_s"] < r["bottom_s"] < r["end_s"] <= s["end_s"]


def test_session_sensors_keep_one_clock_rate_and_mounting(session):
    rec = session.recording
    assert rec.placements == ["pelvis", "thigh_right", "wrist_right"]
    for name, s in rec.streams.items():
        assert np.all(np.diff(s.t) > 0), name
        assert s.t[-1] > session.truth["sets"][-1]["end_s"] - 1.0
        rate = session.truth["sensors"][name]["rate_hz"]
        assert np.median(np.diff(s.t)) == pytest.approx(1 / rate, rel=0.01)
    assert session.truth["sensors"]["wrist_right"]["rate_hz"] == 52.0
    # standing in the last set's rest reads the same gravity direction as in the first set:
    # one mounting for the whole session
    pelvis = rec.streams["pelvis"]
    first = pelvis.acc[(pelvis.t > 0.5) & (pelvis.t < 2.0)].mean(axis=0)
    lo, hi = session.truth["sets"][2]["standing_s"]
    last = pelvis.acc[(pelvis.t > lo + 1.0) & (pelvis.t < hi - 1.0)].mean(axis=0)
    cos = first @ last / np.linalg.norm(first) / np.linalg.norm(last)
    assert np.degrees(np.arccos(min(cos, 1.0))) < 2.0


def test_walk_ends_facing_as_it_began_and_moves_like_walking():
    from sensor_io.anthropometry import Body

    kin = walking_kinematics(12.0, Body.from_height(1.75), "left", np.random.default_rng(0))
    for seg in ("pelvis", "thigh", "trunk"):
        turn = kin.R[seg][-1] @ kin.R[seg][0].T
        assert np.degrees(np.arccos((np.trace(turn) - 1) / 2)) < 1.0, seg
    assert np.linalg.norm(kin.p["pelvis"][-1, :2] - kin.p["pelvis"][0, :2]) < 0.05  # back at the step
    step = np.diff(kin.p["pelvis"][:, :2], axis=0) * 1000.0
    assert np.linalg.norm(step, axis=1).max() == pytest.approx(WALK_SPEED_MPS, rel=0.05)


def test_analysis_finds_every_rep_of_every_set(session):
    doc = analyze(session.recording).to_json()
    found = np.array([r["bottom_s"] for r in doc["reps"]])
    for r in session.truth["reps"]:
        assert np.min(np.abs(found - r["bottom_s"])) < 0.3, r["bottom_s"]


def test_simulate_cli_writes_a_session(tmp_path, capsys):
    out = tmp_path / "s.parquet"
    rc = main(["simulate", str(out), "--sets", "2", "--reps", "3", "--rest", "5", "--walk", "9",
               "--seed", "2"])
    text, err = capsys.readouterr()
    assert rc == 0, err
    assert "2 sets, 6 reps" in text
    truth = read_truth(out)
    assert len(truth["sets"]) == 2 and truth["options"]["walk_s"] == 9.0
    rec = read_recording(out)
    assert rec.duration_s == pytest.approx(truth["sets"][-1]["end_s"], abs=0.1)


def test_simulate_cli_session_by_minutes_is_about_that_long(tmp_path, capsys):
    out = tmp_path / "m.parquet"
    rc = main(["simulate", str(out), "--minutes", "1.5", "--rest", "5", "--walk", "9"])
    assert rc == 0, capsys.readouterr().err
    duration = read_recording(out).duration_s
    assert 60.0 < duration < 90.0 + 40.0  # sets start before 1.5 min; the last one runs on


@pytest.mark.parametrize("args, message", [
    (["--sets", "0"], "--sets must be at least 1"),
    (["--minutes", "-2"], "--minutes must be above 0"),
    (["--sets", "2", "--walk", "3"], "--walk 3 s is too short"),
    (["--sets", "2", "--rest", "1"], "--rest 1 s is too short"),
    (["--sets", "2", "--ideal-body"], "--ideal-body is for a single test"),
])
def test_simulate_cli_refuses_bad_session_options_in_one_line(tmp_path, capsys, args, message):
    rc = main(["simulate", str(tmp_path / "x.parquet"), *args])
    _, err = capsys.readouterr()
    assert rc == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.parquet").exists()


def test_batched_heading_search_matches_one_scipy_mean_per_turn():
    from scipy.spatial.transform import Rotation

    from analysis.measures import _median_residuals

    motion, ref_q, wrist_q, _ = _wrist_session(2.0, (0.4, 3.1), 123.0, [(30.0, 34.0)])
    idx = np.arange(0, len(motion.t), 20)
    ref_idx = np.flatnonzero(motion.standing)[::5]
    cs = np.radians(np.arange(0.0, 360.0, 30.0))
    want = []
    for c in cs:
        turn = quat.from_rotvec(np.array([0.0, 0.0, c]))
        rel = quat.qrel(ref_q[idx], quat.qmul(turn, wrist_q[idx]))
        rel_st = quat.qrel(ref_q[ref_idx], quat.qmul(turn, wrist_q[ref_idx]))
        ref = Rotation.from_quat(rel_st, scalar_first=True).mean().as_quat(scalar_first=True)
        want.append(np.median(quat.angle(quat.qrel(ref, rel))))
    got = _median_residuals(cs, ref_q, wrist_q, idx, ref_idx)
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert np.argmin(got) == int(round(123.0 / 30.0)) % 12  # nearest turn to the true 123°


def test_joint_heading_tracks_of_a_long_session_stop_after_track_s():
    """The knee hinge's tracks are views of at most TRACK_S after standing (issue 22: an
    hour of five sensors made the calibration the analysis' peak, 1 GiB)."""
    from analysis.segment_motion import TRACK_S, SensorOrientation, standing_tracks
    from calibration import StandingWindow
    from sensor_io.recording import SensorStream

    def orientation(t):
        n = len(t)
        samples = SensorStream(t, np.tile([0.0, 0.0, 9.81], (n, 1)), np.ones((n, 3)))
        return SensorOrientation(t, np.tile([1.0, 0, 0, 0], (n, 1)), np.zeros(n, bool),
                                 samples, np.full(3, 0.25), [(slice(0, n), slice(0, n))],
                                 spans=[(0.0, t[-1])])

    t = np.arange(0.0, 1200.0, 0.005)
    o = orientation(t)
    window = StandingWindow(0.5, 3.0, 0.01, 0.05)
    track = standing_tracks({"thigh_left": o}, window)["thigh_left"]
    assert track.t[0] == 0.0 and track.t[-1] == pytest.approx(3.0 + TRACK_S, abs=0.005)
    assert np.shares_memory(track.q_world_sensor, o.q_world_sensor)  # a view, not a copy
    assert track.acc.shape == track.gyr.shape == (len(track.t), 3)  # only the track resampled
    np.testing.assert_allclose(track.gyr, 0.75)  # bias removed
    test = orientation(t[t < 120.0])  # a test shorter than TRACK_S keeps its whole piece
    assert len(standing_tracks({"thigh_left": test}, window)["thigh_left"].t) == len(test.t_u)
