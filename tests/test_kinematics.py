"""Hip joint angles in closed form, pinned against scipy's ``as_euler("ZXY")``.

The closed form in :func:`analysis.kinematics.euler_zxy_rad` replaced scipy on
speed grounds; these tests hold it to scipy's numbers (to 1e-12 rad) on random
rotations, on a real-sized series, and at and near gimbal lock, where scipy sets
the third angle to zero.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from analysis import kinematics as kin
from analysis import quat

TOL = 1e-12


def scipy_zxy(q: np.ndarray) -> np.ndarray:
    """The reference: scipy's intrinsic ZXY angles of [w x y z] quaternions (no warnings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Gimbal lock detected"
        return quat.to_scipy(q).as_euler("ZXY")


def angle_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| of angles (rad), with -π and π counted as the same angle."""
    d = np.abs(a - b)
    return np.minimum(d, 2.0 * np.pi - d)


def random_quats(n: int, seed: int = 0) -> np.ndarray:
    return quat.normalise(np.random.default_rng(seed).normal(size=(n, 4)))


def test_random_rotations_match_scipy():
    q = random_quats(100_000)
    got = kin.euler_zxy_rad(q)
    assert angle_gap(got, scipy_zxy(q)).max() < TOL
    assert np.all(np.abs(got) <= np.pi) and np.all(np.abs(got[:, 1]) <= np.pi / 2)


def test_one_sample_gives_three_angles_and_matches_the_series():
    q = random_quats(5, seed=1)
    one = kin.euler_zxy_rad(q[3])
    assert one.shape == (3,)
    np.testing.assert_allclose(one, kin.euler_zxy_rad(q)[3], rtol=0, atol=0)


def test_scale_and_sign_of_the_quaternion_do_not_matter():
    q = random_quats(1000, seed=2)
    scale = np.random.default_rng(3).uniform(0.5, 2.0, size=(1000, 1))
    ref = kin.euler_zxy_rad(q)
    assert angle_gap(kin.euler_zxy_rad(q * scale), ref).max() < TOL
    assert angle_gap(kin.euler_zxy_rad(-q), ref).max() < TOL


def test_known_rotations_give_their_angles():
    """Rz(a) Rx(b) Ry(c) built by hand from elementary turns comes back as (a, b, c)."""
    a, b, c = 0.7, -0.3, 1.2
    about = {axis: lambda t, axis=axis: np.r_[np.cos(t / 2), np.sin(t / 2) * np.eye(3)[axis]]
             for axis in range(3)}
    q = quat.qmul(quat.qmul(about[2](a), about[0](b)), about[1](c))
    np.testing.assert_allclose(kin.euler_zxy_rad(q), [a, b, c], atol=TOL)


@pytest.mark.parametrize("pole", [np.pi / 2, -np.pi / 2])
@pytest.mark.parametrize("off", [0.0, 1e-9, 5e-8, 2e-7, 1e-6, 1e-4, 1e-2])
def test_at_and_near_gimbal_lock_match_scipy(pole, off):
    """Within 1e-7 rad of b = ±π/2 scipy warns and puts the whole turn in a (c = 0); the
    closed form does the same, and just outside it splits the turn as scipy does."""
    rng = np.random.default_rng(4)
    n = 2000
    angles = np.column_stack([rng.uniform(-np.pi, np.pi, n),
                              np.full(n, pole - np.sign(pole) * off),
                              rng.uniform(-np.pi, np.pi, n)])
    q = quat.from_scipy(Rotation.from_euler("ZXY", angles))
    q[::2] *= -1.0  # both signs of the same rotations
    got = kin.euler_zxy_rad(q)
    assert angle_gap(got, scipy_zxy(q)).max() < TOL
    if off < kin.GIMBAL_LOCK_RAD:
        assert np.all(got[:, 2] == 0.0)


def test_real_sized_hip_series_match_scipy():
    """A 33 s, 100 Hz pelvis + thigh pair (the benchmark's size): hip angles as before."""
    rng = np.random.default_rng(5)
    n = 3300
    t = np.arange(n) / 100.0
    pelvis = quat.from_scipy(Rotation.from_euler(
        "ZXY", np.column_stack([0.05 * np.sin(t), 0.08 * np.sin(0.5 * t), rng.normal(0, 0.02, n)])))
    hip = np.column_stack([0.6 * (1 - np.cos(t)), 0.2 * np.sin(t), 0.1 * np.sin(0.7 * t)])
    thigh = quat.qmul(pelvis, quat.from_scipy(Rotation.from_euler("ZXY", hip)))
    for leg, sign in (("right", 1.0), ("left", -1.0)):
        got = kin.hip_angles_rad(pelvis, thigh, leg)
        ref = scipy_zxy(quat.qrel(pelvis, thigh)) * np.array([1.0, sign, sign])
        assert got.shape == (n, 3)
        assert angle_gap(got, ref).max() < TOL
        np.testing.assert_allclose(got, hip * np.array([1.0, sign, sign]), atol=1e-9)
