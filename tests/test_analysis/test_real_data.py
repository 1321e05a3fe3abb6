"""Calibration, orientation and joint angles on real people's IMU signals (issue 3, Real data).

Two recordings made by others with real sensors, used from ../shared/data
(tests skip with the reason when the folder is absent):

- qmt_full_body (MIT; Bo Yang, TU Berlin, 2021, from the qmt toolbox examples):
  16 IMUs at 100 Hz, of which we use hip (pelvis), upper legs (thighs) and lower
  legs (shanks).  Seen in the signals (not in its README, which says "~20 s of
  standing"): ~5 s standing, sitting down at ~5-12 s, seated ~12-38 s (thighs
  ~80° from vertical, pelvis ~23° tilted back), standing up, then ~45 s of
  vigorous movement (gyro ~5 rad/s).  Not a step-down, yet our calibration
  accepts every sensor (flexion still dominates the leg rotation), so the hip
  angles are checked for plausibility over all of it.  Its ``quat`` is the
  dataset's own orientation estimate (another filter, with magnetometer, of a
  frame that is not our sensor frame: constant offsets only), the independent
  reference for two heading-free cross-checks: each segment's tilt from the
  standing pose, and the thigh-to-pelvis rotation angle from the standing pose.
- skinematics_walking (BSD-3; Thomas Haslwanter, scikit-kinematics): thigh and
  shank Xsens sensors at 120 Hz, ~2 s standing then ~27 s walking; knee flexion
  from the thigh-shank relative rotation through our vqf wrapper.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import find_peaks

from analysis import kinematics as kin
from analysis import quat
from analysis.orientation import estimate_orientation
from analysis.pipeline import analyze
from analysis.segment_motion import Motion, segment_motion, sensor_orientations
from calibration import Calibration, calibrate, gyro_biases, standing_window
from sensor_io.errors import InputError
from sensor_io.recording import Recording, SensorStream

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"  # beside the checkout
QMT = DATA / "qmt_full_body" / "full_body_example_data.mat"
WALK = DATA / "skinematics_walking"
QMT_RATE_HZ = 100.0
WALK_RATE_HZ = 120.0
QMT_SEGMENTS = {  # our placement -> the dataset's segment name
    "pelvis": "hip",
    "thigh_left": "upper_leg_left", "thigh_right": "upper_leg_right",
    "shank_left": "lower_leg_left", "shank_right": "lower_leg_right",
}
REFERENCE_SETTLED_S = 2.0  # the dataset's own filter is still converging in its first ~0.5 s
LEGS = ("left", "right")

needs_qmt = pytest.mark.skipif(not QMT.is_file(), reason=f"qmt full-body data not found at {QMT}")
needs_walk = pytest.mark.skipif(not WALK.is_dir(),
                                reason=f"skinematics walking data not found at {WALK}")


# ---------------------------------------------------------------- qmt full body


def load_qmt() -> tuple[Recording, dict[str, np.ndarray]]:
    """The recording (pelvis, thighs, shanks; t from 0 s) and the dataset's quats (N,4) [w x y z]."""
    from scipy.io import loadmat

    d = loadmat(QMT, squeeze_me=True, struct_as_record=False)
    t = np.asarray(d["t"], dtype=np.float64)
    t = t - t[0]
    streams = {p: SensorStream(t.copy(), np.asarray(d[n].acc, float), np.asarray(d[n].gyr, float))
               for p, n in QMT_SEGMENTS.items()}
    quats = {p: np.asarray(d[n].quat, float) for p, n in QMT_SEGMENTS.items()}
    return Recording(streams, test_leg="left"), quats


class QmtRun:
    """Our calibration and segment motion of the qmt recording, and the reference on our grid."""

    def __init__(self) -> None:
        self.rec, quats = load_qmt()
        self.window = standing_window(self.rec)
        orientations = sensor_orientations(self.rec, gyro_biases(self.rec, self.window))
        self.cal: Calibration = calibrate(
            self.rec, window=self.window,
            vertical={p: o.vertical_in_sensor() for p, o in orientations.items()})
        self.motion: Motion = segment_motion(self.rec, self.cal, orientations)
        idx = np.round((self.motion.t - self.rec.streams["pelvis"].t[0]) * QMT_RATE_HZ).astype(int)
        self.reference = {p: q[idx] for p, q in quats.items()}  # same instants as motion.t

    def q(self, placement: str) -> np.ndarray:
        return self.motion.segments[placement].q_facing_seg

    def hip_deg(self, leg: str) -> np.ndarray:
        """(N,3) flexion, adduction, internal rotation of that hip, deg, relative to standing."""
        hip = kin.hip_angles_rad(self.q("pelvis"), self.q(f"thigh_{leg}"), leg)
        return np.degrees(kin.relative_to(hip, self.motion.standing))

    def pelvic_obliquity_deg(self, leg: str) -> np.ndarray:
        drop = kin.pelvic_drop_rad(self.q("pelvis"), leg)
        return np.degrees(kin.relative_to(drop, self.motion.standing))

    def seated(self) -> np.ndarray:
        """(N,) bool: both thighs' raw accelerometers > 60° from their standing direction.

        Found from the raw signals, independently of our orientation.
        """
        out = np.ones(len(self.motion.t), bool)
        for leg in LEGS:
            s = self.rec.streams[f"thigh_{leg}"]
            a = s.acc / np.linalg.norm(s.acc, axis=1)[:, None]
            m = (s.t >= self.window.t0) & (s.t <= self.window.t1)
            a0 = a[m].mean(axis=0)
            tilt = np.degrees(np.arccos(np.clip(a @ (a0 / np.linalg.norm(a0)), -1, 1)))
            out &= np.interp(self.motion.t, s.t, tilt) > 60.0
        return out


@pytest.fixture(scope="module")
def qmt() -> QmtRun:
    if not QMT.is_file():
        pytest.skip(f"qmt full-body data not found at {QMT}")
    return QmtRun()


def tilt_from_standing_deg(q: np.ndarray, standing: np.ndarray) -> np.ndarray:
    """(N,) angle between the global vertical seen in the segment now and at standing, deg.

    Heading-free and unchanged by a constant sensor-to-segment rotation, so our
    segment quats and the dataset's quats of another frame can be compared.
    """
    v = quat.qrotate(quat.qconj(q), np.array([0.0, 0.0, 1.0]))
    v0 = v[standing].mean(axis=0)
    return np.degrees(np.arccos(np.clip(v @ (v0 / np.linalg.norm(v0)), -1.0, 1.0)))


def joint_angle_from_standing_deg(q_proximal: np.ndarray, q_distal: np.ndarray,
                                  standing: np.ndarray) -> np.ndarray:
    """(N,) total rotation angle of the distal segment relative to the proximal one, deg,
    away from the standing pose.  Unchanged by constant sensor-to-segment rotations
    (needs a common heading of the two, which the dataset gets from its magnetometers
    and we from the facing alignment)."""
    rel = quat.qrel(q_proximal, q_distal)
    ref = rel[standing].mean(axis=0)
    ref = ref / np.linalg.norm(ref)
    rel = rel * np.sign(rel @ ref)[:, None]  # one hemisphere: q and -q are one rotation
    return np.degrees(quat.angle(quat.qrel(ref, rel)))


@needs_qmt
def test_standing_window_is_found_in_the_quiet_start(qmt):
    win = qmt.window
    # the subject stands still for ~5 s, then sits down (thigh gyro > 1 rad/s from ~5 s)
    assert 0.0 <= win.t0 < win.t1 <= 5.0
    assert win.duration_s >= 1.5
    assert np.degrees(win.gyr_std_rad_s) < 1.0 and win.acc_std_ms2 < 0.1


@needs_qmt
def test_calibration_accepts_every_sensor_with_sound_quality_figures(qmt):
    print("\nqmt full body calibration:", json.dumps(qmt.cal.to_json()["sensors"], indent=1))
    assert set(qmt.cal.sensors) == set(QMT_SEGMENTS)
    for p, c in qmt.cal.sensors.items():
        assert c.gravity_ms2 == pytest.approx(9.81, abs=0.3), p
        assert np.isfinite(c.R_sensor_seg).all()
        np.testing.assert_allclose(c.R_sensor_seg.T @ c.R_sensor_seg, np.eye(3), atol=1e-9)
        if p.startswith(("thigh", "shank")):
            assert c.method == "gravity+flexion axis"
            assert c.axis_share > 0.5 and c.axis_gravity_deg > 60.0, p
        else:
            assert c.method == "gravity+skin normal"


@needs_qmt
@pytest.mark.parametrize("leg", LEGS)
def test_hip_angles_and_pelvic_obliquity_stay_in_a_human_range(qmt, leg):
    hip = qmt.hip_deg(leg)
    drop = qmt.pelvic_obliquity_deg(leg)
    assert np.isfinite(hip).all() and np.isfinite(drop).all()
    flex, add, rot = hip.T
    print(f"\n{leg} hip flexion {flex.min():.1f}..{flex.max():.1f}, adduction {add.min():.1f}.."
          f"{add.max():.1f}, internal rotation {rot.min():.1f}..{rot.max():.1f}, "
          f"pelvic obliquity {drop.min():.1f}..{drop.max():.1f} deg")
    assert -30.0 <= flex.min() and flex.max() <= 130.0
    assert np.abs(add).max() <= 50.0
    assert np.abs(rot).max() <= 50.0
    assert np.abs(drop).max() <= 30.0
    # the movement really flexes the hip: not a frozen or zeroed series
    assert flex.max() >= 40.0


@needs_qmt
@pytest.mark.parametrize("leg", LEGS)
def test_seated_hip_is_flexed_and_the_pelvis_tilts_back_not_sideways(qmt, leg):
    seated = qmt.seated()
    assert seated.sum() >= 20 * QMT_RATE_HZ  # ~26 s of sitting
    flex = qmt.hip_deg(leg)[seated, 0]
    assert 40.0 <= np.median(flex) <= 100.0
    # sitting rolls the pelvis back (~23°) about its medio-lateral axis: a pelvis
    # frame whose axes were mixed up would show that as obliquity
    anterior = quat.qrotate(qmt.q("pelvis"), np.array([1.0, 0.0, 0.0]))
    tilt_back = np.degrees(np.arcsin(anterior[seated, 2]))
    assert np.median(tilt_back) >= 15.0
    assert np.abs(np.median(qmt.pelvic_obliquity_deg(leg)[seated])) <= 5.0


@needs_qmt
@pytest.mark.parametrize("placement", list(QMT_SEGMENTS))
def test_segment_tilt_agrees_with_the_datasets_own_filter(qmt, placement):
    st = qmt.motion.standing
    ours = tilt_from_standing_deg(qmt.q(placement), st)
    theirs = tilt_from_standing_deg(qmt.reference[placement], st)
    err = np.abs(ours - theirs)[qmt.motion.t >= REFERENCE_SETTLED_S]
    print(f"\n{placement} tilt vs dataset quat: median {np.median(err):.2f}, "
          f"p95 {np.percentile(err, 95):.2f}, max {err.max():.2f} deg (ours up to {ours.max():.0f})")
    assert ours.max() >= 30.0  # every segment really moved
    assert np.median(err) <= 1.5
    assert np.percentile(err, 95) <= 6.0


@needs_qmt
@pytest.mark.parametrize("leg", LEGS)
def test_hip_rotation_angle_agrees_with_the_datasets_own_filter(qmt, leg):
    st = qmt.motion.standing
    ours = joint_angle_from_standing_deg(qmt.q("pelvis"), qmt.q(f"thigh_{leg}"), st)
    theirs = joint_angle_from_standing_deg(qmt.reference["pelvis"],
                                           qmt.reference[f"thigh_{leg}"], st)
    err = np.abs(ours - theirs)[qmt.motion.t >= REFERENCE_SETTLED_S]
    seated = qmt.seated()
    print(f"\n{leg} thigh-pelvis rotation vs dataset quat: median {np.median(err):.2f}, p95 "
          f"{np.percentile(err, 95):.2f}, max {err.max():.2f} deg; seated ours "
          f"{ours[seated].mean():.1f} vs {theirs[seated].mean():.1f} deg")
    assert ours.max() >= 50.0
    assert np.median(err) <= 4.0
    assert np.percentile(err, 95) <= 8.0
    assert abs(ours[seated].mean() - theirs[seated].mean()) <= 6.0


@needs_qmt
@pytest.mark.parametrize("leg", LEGS)
def test_whole_analysis_runs_on_a_non_step_down_without_nan(leg):
    """Sitting and running are no step-down: the analysis may refuse with one clear
    line, or finish with finite (or null) measures; it must not crash or emit NaN."""
    rec, _ = load_qmt()
    rec.test_leg = leg
    try:
        doc = analyze(rec).to_json()
    except InputError as err:
        msg = str(err)
        assert msg and "\n" not in msg
        return
    text = json.dumps(doc, allow_nan=False)  # raises on NaN / inf
    # sitting and running are no step-down: the output must say so
    assert any("does not look like a step-down" in w for w in doc["warnings"])
    assert json.loads(text)["sensors_used"] == list(rec.placements)
    for r in doc["reps"]:
        assert r["start_s"] < r["bottom_s"] < r["end_s"]
        for name, v in r["measures"].items():
            assert v is None or np.isfinite(v), name


# ---------------------------------------------------------- skinematics walking


def load_walk(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """acc (N,3) m/s², gyr (N,3) rad/s, mag (N,3) arbitrary units, sensor frame."""
    import pandas as pd

    df = pd.read_csv(WALK / f"walking_xsens_{name}.txt", sep="\t", skiprows=4)
    acc, gyr, mag = (df[[f"{k}_{a}" for a in "XYZ"]].to_numpy(np.float64)
                     for k in ("Acc", "Gyr", "Mag"))
    return acc, gyr, mag


@pytest.fixture(scope="module")
def knee_deg() -> np.ndarray:
    """(N,) knee rotation angle from standing (the first 1.5 s), deg, 9D through our wrapper.

    The magnetometer gives the two sensors a common heading, which the relative
    rotation needs; walking bends the knee almost only in flexion.
    """
    if not WALK.is_dir():
        pytest.skip(f"skinematics walking data not found at {WALK}")
    q = {}
    for name in ("upperLeg", "lowerLeg"):
        acc, gyr, mag = load_walk(name)
        standing = np.arange(len(gyr)) < 1.5 * WALK_RATE_HZ
        bias = gyr[standing].mean(axis=0)
        q[name] = estimate_orientation(gyr - bias, acc, WALK_RATE_HZ, mag=mag).quat
    return joint_angle_from_standing_deg(q["upperLeg"], q["lowerLeg"], standing)


@needs_walk
def test_walking_knee_flexion_peaks_and_extensions_are_human(knee_deg):
    assert np.isfinite(knee_deg).all()
    walking = knee_deg[int(5 * WALK_RATE_HZ):]
    peaks, _ = find_peaks(walking, distance=int(0.6 * WALK_RATE_HZ), prominence=20.0)
    troughs, _ = find_peaks(-walking, distance=int(0.6 * WALK_RATE_HZ), prominence=20.0)
    print(f"\nwalking knee: {len(peaks)} swing peaks, median {np.median(walking[peaks]):.1f} deg "
          f"({walking[peaks].min():.1f}..{walking[peaks].max():.1f}); stance extension median "
          f"{np.median(walking[troughs]):.1f} deg")
    # ~24 s of walking at ~1.3 s per stride
    assert 12 <= len(peaks) <= 30
    # swing-phase knee flexion of normal gait is ~55-70°; near-extension in stance
    assert 45.0 <= np.median(walking[peaks]) <= 75.0
    assert walking[peaks].max() <= 90.0
    assert np.median(walking[troughs]) <= 12.0


@needs_walk
def test_knee_is_still_while_standing_before_the_walk(knee_deg):
    assert np.abs(knee_deg[: int(1.5 * WALK_RATE_HZ)]).max() <= 2.0
