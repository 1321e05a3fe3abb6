"""Frozen frames (sensor_io.frozen_frames): a repeated frame that cannot be a still sensor's
is found; a still sensor's identical frames and real packet-loss fills are not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sensor_io.errors import InputError
from sensor_io.frozen_frames import FrozenLimits, frozen_runs, without_frozen
from sensor_io.recording import Recording, SensorStream

RATE_HZ = 100.0
BROAD = Path(__file__).resolve().parents[3] / "shared" / "data" / "broad"


def moving(n: int = 1000, seed: int = 0) -> SensorStream:
    """A sensor turning at ~20 °/s with noise: no two samples alike."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE_HZ
    gyr = np.radians([20.0, 5.0, -3.0]) + rng.normal(0, np.radians(0.2), (n, 3))
    acc = np.array([0.5, 0.3, 9.7]) + rng.normal(0, 0.05, (n, 3))
    return SensorStream(t, acc, gyr)


def freeze(s: SensorStream, i: int, n: int) -> SensorStream:
    """The stream with sample i repeated over the next n samples."""
    acc, gyr = s.acc.copy(), s.gyr.copy()
    acc[i:i + n + 1], gyr[i:i + n + 1] = acc[i], gyr[i]
    return SensorStream(s.t, acc, gyr)


def test_a_frame_repeated_mid_movement_is_found_with_its_rows_time_and_reading():
    s = freeze(moving(), 300, 400)  # 4.0 s
    (run,) = frozen_runs("pelvis", s)
    assert run.repeats == slice(301, 701)  # the frame itself (row 300) is a real sample
    assert run.t0 == pytest.approx(3.0) and run.duration_s == pytest.approx(4.0)
    assert run.gyr_dps == pytest.approx(np.degrees(np.linalg.norm(s.gyr[300])))
    assert run.gyr_dps > 19
    assert run.warning().startswith("pelvis sensor repeated one frame for 4.0 s at 3.0 s")
    assert run.warning().endswith(": treated as a gap")


def test_a_still_sensors_identical_frames_are_kept():
    # WitMotion's on-board filter holds its reading while it lies still: the same bytes
    # every frame, at its resting rate (here its standing bias) and gravity
    t = np.arange(2000) / RATE_HZ
    bias = np.radians([0.4, -0.3, 0.2])
    still = SensorStream(t, np.tile([0.1, -0.2, 9.79], (len(t), 1)), np.tile(bias, (len(t), 1)))
    rec = Recording({"pelvis": still}, test_leg="left")
    assert frozen_runs("pelvis", still, gyr_rest=bias) == []
    kept, runs = without_frozen(rec, {"pelvis": bias})
    assert runs == [] and kept is rec and len(kept.streams["pelvis"]) == 2000


def test_the_rate_is_judged_with_the_standing_bias_taken_off():
    # a still sensor with a 3 °/s bias (an uncalibrated MEMS gyro): still, with its bias
    t = np.arange(500) / RATE_HZ
    bias = np.radians([3.0, 0.0, 0.0])
    still = SensorStream(t, np.tile([0.0, 0.0, 9.81], (500, 1)), np.tile(bias, (500, 1)))
    assert frozen_runs("pelvis", still, gyr_rest=bias) == []
    assert len(frozen_runs("pelvis", still)) == 1  # without it, 3 °/s reads as movement


def test_a_frame_far_from_gravity_is_frozen_even_without_rotation():
    t = np.arange(500) / RATE_HZ
    acc = np.tile([0.0, 0.0, 9.80665 + 2.5], (500, 1))  # 2.5 m/s² off g: not resting
    s = SensorStream(t, acc, np.zeros((500, 3)))
    (run,) = frozen_runs("thigh_left", s)
    assert run.acc_mps2 == pytest.approx(2.5, abs=1e-3) and run.gyr_dps == 0.0
    assert frozen_runs("thigh_left", s, limits=FrozenLimits(acc_mps2=3.0)) == []


def test_a_short_repeat_is_kept():
    s = freeze(moving(), 300, 9)  # 0.09 s, under min_s
    assert frozen_runs("pelvis", s) == []
    assert len(frozen_runs("pelvis", freeze(moving(), 300, 10))) == 1  # 0.10 s


def test_the_repeats_leave_the_analysis_copy_and_the_recording_is_unchanged():
    s = freeze(moving(), 300, 400)
    other = moving(seed=1)
    rec = Recording({"pelvis": s, "thigh_left": other}, test_leg="left")
    before = {k: (v.t.copy(), v.acc.copy(), v.gyr.copy()) for k, v in rec.streams.items()}
    kept, runs = without_frozen(rec)
    assert [r.sensor for r in runs] == ["pelvis"]
    p = kept.streams["pelvis"]
    assert len(p) == 1000 - 400
    assert p.t[300] == pytest.approx(3.0) and p.t[301] == pytest.approx(7.01)  # a 4 s gap
    assert kept.streams["thigh_left"] is other  # untouched streams are shared
    for k, (t, acc, gyr) in before.items():  # the recording itself keeps every sample
        np.testing.assert_array_equal(rec.streams[k].t, t)
        np.testing.assert_array_equal(rec.streams[k].acc, acc)
        np.testing.assert_array_equal(rec.streams[k].gyr, gyr)


@pytest.mark.parametrize("limits", [{"min_s": 0.0}, {"gyr_dps": -1.0}, {"acc_mps2": True}])
def test_limits_must_be_positive_numbers(limits):
    with pytest.raises(InputError, match="frozen: .* must be a positive number"):
        FrozenLimits(**limits)


@pytest.mark.skipif(not BROAD.is_dir(), reason=f"BROAD trials not found at {BROAD}")
def test_real_packet_loss_fills_are_kept():
    # the BROAD IMU (285.7 Hz) fills a lost packet by repeating the last sample 3 times
    # (10.5 ms), mid-movement too (up to 101 °/s): real samples around it, never a gap
    from scipy.io import loadmat

    for trial, n_fills, n_moving in (("02_undisturbed_slow_rotation_B", 1, 0),
                                     ("25_disturbed_tapping_B", 40, 12)):
        d = loadmat(BROAD / f"{trial}.mat", squeeze_me=True)
        rate = float(d["sampling_rate"])
        t = np.arange(len(d["imu_gyr"])) / rate
        s = SensorStream(t, np.asarray(d["imu_acc"], float), np.asarray(d["imu_gyr"], float))
        rest = s.gyr[~d["movement"].astype(bool)].mean(axis=0)
        short = 2.5 / rate  # judge repeats of 3 samples too
        every = frozen_runs("pelvis", s, rest, FrozenLimits(min_s=short, gyr_dps=1e-9,
                                                             acc_mps2=1e-9))
        assert len(every) == n_fills and max(r.duration_s for r in every) < 0.011
        assert len(frozen_runs("pelvis", s, rest, FrozenLimits(min_s=short))) == n_moving
        assert frozen_runs("pelvis", s, rest) == []  # 10.5 ms is no frozen sensor
