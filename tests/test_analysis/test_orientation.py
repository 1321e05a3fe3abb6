"""Orientation through our vqf wrapper: physics on synthetic data, BROAD real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis import quat
from analysis.orientation import (
    OrientationStream,
    estimate_orientation,
    resample_uniform,
    vqf_param_names,
)
from sensor_io.errors import InputError

G = 9.81
BROAD = Path(__file__).resolve().parents[3] / "shared" / "data" / "broad"  # beside the checkout
BROAD_TRIALS = ("02_undisturbed_slow_rotation_B", "25_disturbed_tapping_B")


def turn_about_z(rate_hz: float = 100.0, turn_deg: float = 90.0):
    """2 s still, a turn about global z over 2 s, 2 s still; sensor level."""
    n_still, n_turn = int(2 * rate_hz), int(2 * rate_hz)
    w = np.radians(turn_deg) / 2.0
    gz = np.r_[np.zeros(n_still), np.full(n_turn, w), np.zeros(n_still)]
    gyr = np.column_stack([np.zeros_like(gz), np.zeros_like(gz), gz])
    acc = np.tile([0.0, 0.0, G], (len(gz), 1))
    return gyr, acc


@pytest.mark.parametrize("mode", ["offline", "causal"])
def test_a_90_degree_turn_integrates_to_90_degrees(mode):
    gyr, acc = turn_about_z()
    ori = estimate_orientation(gyr, acc, 100.0, mode=mode)
    assert ori.quat.shape == (len(gyr), 4) and ori.bias.shape == (len(gyr), 3)
    rel = quat.qrel(ori.quat[50], ori.quat[-1])
    assert np.degrees(quat.angle(rel)) == pytest.approx(90.0, abs=0.5)
    assert quat.to_rotvec(rel)[2] > 0  # about +z, counter-clockwise seen from above
    assert np.degrees(quat.inclination(ori.quat[-1])) < 0.5


@pytest.mark.parametrize("mode", ["offline", "causal"])
def test_static_tilt_gives_the_right_inclination(mode):
    q_g_s = quat.from_rotvec([np.radians(20.0), 0.0, 0.0])
    acc_s = quat.qrotate(quat.qinv(q_g_s), [0.0, 0.0, G])  # gravity seen by the tilted sensor
    n = 3000  # 30 s at 100 Hz: the causal filter converges from identity
    ori = estimate_orientation(np.zeros((n, 3)), np.tile(acc_s, (n, 1)), 100.0, mode=mode)
    assert np.degrees(quat.inclination(ori.quat[-1])) == pytest.approx(20.0, abs=0.2)
    assert np.allclose(quat.qrotate(ori.quat[-1], acc_s), [0, 0, G], atol=0.05)
    assert ori.rest[-1]  # a still sensor is detected at rest


def test_magnetometer_fixes_heading():
    yaw = np.radians(30.0)
    q_g_s = quat.from_rotvec([0.0, 0.0, yaw])
    n = 1000
    inv = quat.qinv(q_g_s)
    acc = np.tile(quat.qrotate(inv, [0, 0, G]), (n, 1))
    mag = np.tile(quat.qrotate(inv, [0.0, 20.0, -40.0]), (n, 1))  # field north = +y (ENU)
    ori = estimate_orientation(np.zeros((n, 3)), acc, 100.0, mag=mag)
    assert np.degrees(quat.angle(quat.qrel(q_g_s, ori.quat[-1]))) == pytest.approx(0.0, abs=1.0)


def test_stream_in_chunks_equals_causal_batch():
    rng = np.random.default_rng(1)
    gyr, acc = turn_about_z()
    gyr = gyr + rng.normal(0, 0.01, gyr.shape)
    acc = acc + rng.normal(0, 0.1, acc.shape)
    batch = estimate_orientation(gyr, acc, 100.0, mode="causal")
    stream = OrientationStream(100.0)
    cuts = np.r_[0, np.sort(rng.choice(np.arange(1, len(gyr)), 9, replace=False)), len(gyr)]
    parts = [stream.update(gyr[a:b], acc[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    assert sum(len(p) for p in parts) == stream.n_samples_ == len(gyr)
    assert np.allclose(np.vstack([p.quat for p in parts]), batch.quat)
    assert np.array_equal(np.concatenate([p.rest for p in parts]), batch.rest)
    stream.reset()
    assert np.allclose(stream.update(gyr[:10], acc[:10]).quat, batch.quat[:10])


def test_resample_jittery_stream_with_a_gap():
    rng = np.random.default_rng(2)
    t = np.arange(1000) * 0.01 + rng.uniform(-0.002, 0.002, 1000)
    t = np.delete(t, np.arange(400, 430))  # a 0.3 s gap
    t = np.delete(t, [100, 200])  # two single dropped samples: not gaps
    sig = np.column_stack([3.0 * t, -t + 1.0])  # linear: interpolation is exact
    t_u, sig_u, ramp_u, gap = resample_uniform(t, sig, 2.0 * t)
    step = np.diff(t_u)  # the median interval of a jittered stream: about 0.01 s
    assert np.allclose(step, step[0]) and step[0] == pytest.approx(0.01, rel=0.01)
    assert t_u[0] == t[0] and t_u[-1] <= t[-1]
    assert sig_u.shape == (len(t_u), 2) and ramp_u.shape == (len(t_u),)
    assert np.allclose(sig_u, np.column_stack([3.0 * t_u, -t_u + 1.0]))
    k = int(np.argmax(np.diff(t)))  # the last sample before the gap
    in_gap = (t_u > t[k]) & (t_u < t[k + 1])
    assert np.array_equal(gap, in_gap) and 25 <= gap.sum() <= 32


@pytest.mark.parametrize("rate_hz", [None, 50.0, 100.0, 173.0])
def test_resample_gives_np_interp_numbers(rate_hz):
    """All columns interpolated at once give np.interp's numbers, column by column (to
    rounding), on a jittery stream with dropped samples and a gap."""
    rng = np.random.default_rng(7)
    t = np.arange(2000) * 0.01 + rng.uniform(-0.003, 0.003, 2000)
    t = np.delete(t, np.r_[300:340, rng.choice(np.arange(400, 2000), 40, replace=False)])
    gyr, acc, one = rng.normal(size=(len(t), 3)), rng.normal(9.81, 1.0, (len(t), 3)), np.sin(t)
    t_u, gyr_u, acc_u, one_u, _ = resample_uniform(t, gyr, acc, one, rate_hz=rate_hz)
    for got, a in ((gyr_u, gyr), (acc_u, acc)):
        ref = np.column_stack([np.interp(t_u, t, a[:, k]) for k in range(3)])
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * np.abs(a).max())
    np.testing.assert_allclose(one_u, np.interp(t_u, t, one), rtol=0, atol=1e-12)
    assert np.array_equal(gyr_u[0], gyr[0])  # the grid starts on the first sample


def test_resample_grid_past_the_last_sample_by_rounding_takes_the_last_value():
    """The grid may end a hair past t[-1] (its length is rounded): no extrapolation there."""
    t = np.r_[np.linspace(0.0, 0.99, 100), 1.0 - 1e-12]
    x = np.r_[np.zeros(100), 5.0]
    t_u, x_u, _ = resample_uniform(t, x, rate_hz=100.0)
    assert t_u[-1] > t[-1] and x_u[-1] == 5.0


def test_resample_at_a_chosen_rate_and_refusals():
    t = np.linspace(0.0, 1.0, 101)
    t_u, x_u, gap = resample_uniform(t, np.sin(t), rate_hz=50.0)
    assert len(t_u) == 51 and not gap.any()
    assert np.allclose(x_u, np.interp(t_u, t, np.sin(t)))
    with pytest.raises(InputError, match="strictly increasing at sample 2"):
        resample_uniform([0.0, 0.1, 0.1, 0.2], [1, 2, 3, 4])
    with pytest.raises(InputError, match="array 0"):
        resample_uniform(t, np.ones(5))


def test_bad_input_is_one_clear_error():
    gyr, acc = turn_about_z()
    gyr[7, 1] = np.nan
    with pytest.raises(InputError, match="gyr has a non-finite value at sample 7"):
        estimate_orientation(gyr, acc, 100.0)
    with pytest.raises(InputError, match="acc must have shape"):
        estimate_orientation(np.zeros((5, 3)), np.zeros((4, 3)), 100.0)
    with pytest.raises(InputError, match="tauAc"):
        estimate_orientation(np.zeros((5, 3)), np.zeros((5, 3)), 100.0, params={"tauAc": 2})
    with pytest.raises(InputError, match="mode"):
        estimate_orientation(np.zeros((5, 3)), np.zeros((5, 3)), 100.0, mode="live")
    with pytest.raises(InputError, match="rate_hz"):
        estimate_orientation(np.zeros((5, 3)), np.zeros((5, 3)), 0.0)
    assert "tauAcc" in vqf_param_names()


def test_params_reach_the_filter():
    gyr, acc = turn_about_z()
    gyr = gyr + [0.02, 0.0, 0.0]  # a constant gyro bias
    with_rest = estimate_orientation(gyr, acc, 100.0, mode="causal")
    without = estimate_orientation(gyr, acc, 100.0, mode="causal",
                                   params={"restBiasEstEnabled": False,
                                           "motionBiasEstEnabled": False})
    assert abs(with_rest.bias[199, 0] - 0.02) < 0.005  # rest detected after 1.5 s
    assert np.all(without.bias == 0.0)


def broad_inclination_rmse_deg(name: str, mode: str) -> float:
    """BROAD metric: q_err = q_est ⊗ q_ref⁻¹, inclination 2·acos√(w²+z²), RMSE over movement."""
    from scipy.io import loadmat

    d = loadmat(BROAD / f"{name}.mat")
    rate = float(np.squeeze(d["sampling_rate"]))
    ori = estimate_orientation(d["imu_gyr"], d["imu_acc"], rate, mode=mode)  # 6D, vqf defaults
    ref = d["opt_quat"]
    use = np.squeeze(d["movement"]).astype(bool) & np.isfinite(ref).all(axis=1)
    err = quat.qmul(ori.quat[use], quat.qinv(ref[use]))
    return float(np.sqrt(np.mean(np.degrees(quat.inclination(err)) ** 2)))


@pytest.mark.skipif(not BROAD.is_dir(), reason=f"BROAD data not found at {BROAD}")
def test_broad_inclination_rmse_within_one_degree():
    print("\nBROAD 6D inclination RMSE (deg), vqf defaults through analysis.orientation:")
    for name in BROAD_TRIALS:
        offline = broad_inclination_rmse_deg(name, "offline")
        causal = broad_inclination_rmse_deg(name, "causal")
        print(f"  {name:32s} offline {offline:.3f}  causal {causal:.3f}")
        assert offline <= 1.0
        assert causal <= 1.0


def test_jittery_stream_with_a_gap_resampled_then_filtered_keeps_the_turn():
    rng = np.random.default_rng(3)
    t = np.arange(800) * 0.01 + rng.uniform(-0.002, 0.002, 800)
    t = np.delete(t, np.arange(100, 140))  # a 0.4 s gap while standing still
    # smooth 90° turn about z between 3 s and 5 s: rate = (π/2)·(1 - cos)/2 s⁻¹ bump
    phase = np.clip((t - 3.0) / 2.0, 0.0, 1.0)
    rate = np.where((t > 3.0) & (t < 5.0), (np.pi / 2) * (1 - np.cos(2 * np.pi * phase)) / 2.0, 0)
    gyr = np.column_stack([np.zeros_like(t), np.zeros_like(t), rate])
    acc = np.tile([0.0, 0.0, G], (len(t), 1))
    t_u, gyr_u, acc_u, gap = resample_uniform(t, gyr, acc)
    assert gap.any() and not gap[t_u > 2.0].any()
    ori = estimate_orientation(gyr_u, acc_u, 1.0 / (t_u[1] - t_u[0]))
    turn = quat.qrel(ori.quat[np.searchsorted(t_u, 2.5)], ori.quat[-1])
    assert np.degrees(quat.angle(turn)) == pytest.approx(90.0, abs=1.0)


def _still_pieces_with_device_tilts(tilts_deg: tuple[float, ...], rate_hz: float = 100.0):
    """A still sensor pitched 20° forward, one 2 s piece per tilt with 1 s of silence
    between pieces; the device's own orientation in each piece tilted that much more
    (about global x) than the accelerometer says. (t, gyr, acc, true q, device q)."""
    n = int(2 * rate_hz)
    q_true = quat.qmul(quat.about_z(0.7), quat.from_rotvec([0.0, np.radians(20.0), 0.0]))
    acc1 = quat.qrotate(quat.qinv(q_true[None]), np.array([0.0, 0.0, G]))[0]
    t = np.concatenate([k * 3.0 + np.arange(n) / rate_hz for k in range(len(tilts_deg))])
    q_dev = np.concatenate([np.tile(quat.qmul(quat.from_rotvec([np.radians(a), 0.0, 0.0]),
                                              q_true), (n, 1)) for a in tilts_deg])
    return t, np.zeros((len(t), 3)), np.tile(acc1, (len(t), 1)), q_true, q_dev


def test_a_device_orientation_is_levelled_per_piece_to_its_accelerometer():
    """level_device: each piece's device orientation, tilted by its own amount (2.6° and
    -4° here, as a device filter's inclination moves between recordings), is turned back
    onto its accelerometer within 0.01°, heading kept; without it, and in causal mode (it
    needs the whole piece), the device's tilt stays."""
    from analysis.orientation import piecewise_orientation

    t, gyr, acc, q_true, q_dev = _still_pieces_with_device_tilts((2.6, -4.0))

    def error_deg(**kw) -> np.ndarray:
        o = piecewise_orientation(t, gyr, acc, device_quat=q_dev, **kw)
        assert len(o.spans) == 2 and o.source == "device"
        return np.degrees(quat.angle(quat.qrel(np.tile(q_true, (len(o.quat), 1)), o.quat)))

    assert error_deg(level_device=True).max() < 0.01
    for kw in ({}, {"level_device": True, "mode": "causal"}):
        err = error_deg(**kw)
        assert err.min() > 2.5 and err.max() == pytest.approx(4.0, abs=0.01), kw


def test_the_legs_device_orientations_are_levelled_and_the_pelvis_is_not():
    """sensor_orientations levels a file's device orientation for the thighs and shanks
    (LEVELLED_DEVICE_SEGMENTS) and leaves the pelvis's as the device gave it (levelling it
    made pelvic drop worse on real recordings); a stream without a device orientation is
    filtered by vqf as before."""
    from analysis.segment_motion import sensor_orientations
    from sensor_io.recording import Recording, SensorStream

    t, gyr, acc, q_true, q_dev = _still_pieces_with_device_tilts((3.0,))
    streams = {p: SensorStream(t, acc, gyr, None, q_dev)
               for p in ("pelvis", "thigh_left", "shank_left")}
    streams["thigh_right"] = SensorStream(t, acc, gyr)
    out = sensor_orientations(Recording(streams, test_leg="left"),
                              {p: np.zeros(3) for p in streams})
    err = {p: np.degrees(quat.angle(quat.qrel(np.tile(q_true, (len(o.q_world_sensor), 1)),
                                              o.q_world_sensor))).max()
           for p, o in out.items() if p != "thigh_right"}
    assert err["thigh_left"] < 0.01 and err["shank_left"] < 0.01, err
    assert err["pelvis"] == pytest.approx(3.0, abs=0.01), err
    assert out["thigh_right"].source == "vqf 6D"
