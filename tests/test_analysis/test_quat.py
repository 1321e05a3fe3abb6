"""The quaternion convention: [w x y z], q_A_B rotates B-coordinates into A."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from analysis import quat

S = np.sqrt(0.5)
Q_Z90 = np.array([S, 0.0, 0.0, S])  # 90° about z
Q_X90 = np.array([S, S, 0.0, 0.0])  # 90° about x


def random_quats(n: int, seed: int = 0) -> np.ndarray:
    return quat.from_scipy(Rotation.random(n, random_state=seed))


def test_scalar_first_at_the_scipy_boundary():
    rot = quat.to_scipy(Q_Z90)
    assert np.allclose(rot.as_quat(), [0.0, 0.0, S, S])  # scipy is [x y z w]
    assert np.allclose(quat.from_scipy(rot), Q_Z90)


def test_rotate_maps_b_coordinates_into_a():
    # q_A_B = 90° about z: B's x axis is A's y axis.
    assert np.allclose(quat.qrotate(Q_Z90, [1.0, 0.0, 0.0]), [0.0, 1.0, 0.0])
    assert np.allclose(quat.qrotate(Q_X90, [0.0, 1.0, 0.0]), [0.0, 0.0, 1.0])


def test_qmul_is_hamilton_product_and_chains_frames():
    assert np.allclose(quat.qmul([0, 1, 0, 0], [0, 0, 1, 0]), [0, 0, 0, 1])  # i*j = k
    q_ab, q_bc = random_quats(2, seed=1)
    v_c = np.array([0.3, -1.2, 2.0])
    via_b = quat.qrotate(q_ab, quat.qrotate(q_bc, v_c))
    assert np.allclose(quat.qrotate(quat.qmul(q_ab, q_bc), v_c), via_b)


def test_inverse_conjugate_and_relative():
    q = random_quats(5, seed=2)
    ident = quat.qmul(q, quat.qinv(q))
    assert np.allclose(np.abs(ident[:, 0]), 1.0)
    assert np.allclose(quat.qconj(q[0]), q[0] * [1, -1, -1, -1])
    q_g_r, q_g_s = q[0], q[1]
    q_r_s = quat.qrel(q_g_r, q_g_s)
    assert np.allclose(quat.qrotate(quat.qmul(q_g_r, q_r_s), [1, 2, 3]),
                       quat.qrotate(q_g_s, [1, 2, 3]))
    assert np.isclose(quat.angle(quat.qrel(q_g_s, q_g_s)), 0.0, atol=1e-7)


def test_shapes_match_single_and_series():
    q = random_quats(7, seed=3)
    assert quat.qmul(q[0], q[1]).shape == (4,)
    assert quat.qmul(q, q).shape == (7, 4)
    assert quat.qmul(q[0], q).shape == (7, 4)  # broadcast
    assert quat.qrotate(q[0], [1, 0, 0]).shape == (3,)
    assert quat.qrotate(q, np.ones((7, 3))).shape == (7, 3)
    assert quat.angle(q[0]).shape == ()
    assert quat.angle(q).shape == (7,)
    assert quat.to_matrix(q).shape == (7, 3, 3)
    assert quat.to_matrix(q[0]).shape == (3, 3)
    assert quat.normalise(2 * q).shape == (7, 4)
    assert quat.inclination(q).shape == (7,)
    with pytest.raises(ValueError, match="shape"):
        quat.qmul(np.ones((3, 3)), Q_Z90)


def test_matrix_and_rotvec_round_trip():
    q = random_quats(4, seed=4)
    mat = quat.to_matrix(q)
    v = np.array([0.5, 0.1, -0.7])
    assert np.allclose(mat @ v, quat.qrotate(q, np.tile(v, (4, 1))))
    back = quat.from_matrix(mat)
    assert np.allclose(np.abs(np.sum(back * q, axis=1)), 1.0)  # same up to sign
    assert np.allclose(quat.to_rotvec(Q_Z90), [0, 0, np.pi / 2])
    assert np.allclose(quat.from_rotvec([0, 0, np.pi / 2]), Q_Z90)


def test_angle_normalise():
    assert np.isclose(quat.angle(Q_Z90), np.pi / 2)
    assert np.allclose(np.linalg.norm(quat.normalise([2.0, 0, 0, 0])), 1.0)
    with pytest.raises(ValueError, match="zero"):
        quat.normalise([0.0, 0, 0, 0])


def test_inclination_ignores_heading_and_heading_ignores_nothing():
    tilt = quat.from_rotvec([np.radians(20), 0, 0])
    yawed = quat.qmul(quat.from_rotvec([0, 0, np.radians(70)]), tilt)
    assert np.isclose(np.degrees(quat.inclination(yawed)), 20.0)
    assert np.isclose(np.degrees(quat.heading(Q_Z90)), 90.0)
    assert np.isclose(np.degrees(quat.inclination(Q_Z90)), 0.0, atol=1e-6)
    assert np.isclose(np.degrees(quat.inclination(Q_X90)), 90.0)


def test_qmul_matches_scipy_composition_with_broadcasting():
    rng = np.random.default_rng(3)
    a = Rotation.random(50, random_state=rng)
    b = Rotation.random(50, random_state=rng)
    expected = (a * b).as_quat(scalar_first=True)
    got = quat.qmul(a.as_quat(scalar_first=True), b.as_quat(scalar_first=True))
    assert np.allclose(np.abs(np.sum(got * expected, axis=1)), 1.0, atol=1e-12)  # q ~ -q
    one = quat.qmul(a[0].as_quat(scalar_first=True), b.as_quat(scalar_first=True))
    assert one.shape == (50, 4)
    assert quat.qmul(a[0].as_quat(scalar_first=True), b[0].as_quat(scalar_first=True)).shape == (4,)


def test_interpolate_agrees_with_slerp_between_close_samples():
    from scipy.spatial.transform import Slerp

    rng = np.random.default_rng(4)
    t = np.arange(0, 2, 0.01)
    rotvec = np.cumsum(rng.normal(0, 0.05, (len(t), 3)), axis=0)  # up to ~3 rad/s
    q = Rotation.from_rotvec(rotvec).as_quat(scalar_first=True)
    q[::7] *= -1  # the filter may hand out either sign
    t_new = np.sort(rng.uniform(-0.1, 2.1, 300))
    ours = quat.interpolate(t_new, t, q)
    ref = Slerp(t, Rotation.from_quat(q, scalar_first=True))(np.clip(t_new, t[0], t[-1]))
    err = quat.angle(quat.qrel(ref.as_quat(scalar_first=True), ours))
    assert np.degrees(err.max()) < 0.01


@pytest.mark.parametrize("k", [0, 1, 2])
def test_axis_of_is_the_rotated_basis_vector(k):
    q = Rotation.random(20, random_state=5).as_quat(scalar_first=True)
    e = np.eye(3)[k]
    assert np.allclose(quat.axis_of(q, k), quat.qrotate(q, e))
    assert np.allclose(quat.axis_of(q[0], k), quat.qrotate(q[0], e))


@pytest.mark.parametrize("k", [0, 1, 2])
def test_one_coordinate_or_the_heading_of_an_axis_is_that_of_axis_of_bit_for_bit(k):
    q = np.random.default_rng(k).normal(size=(500, 4))  # not unit: normalised alike
    axis = quat.axis_of(q, k)
    for i in range(3):
        assert np.array_equal(quat.axis_component(q, k, i), axis[:, i])
    assert np.array_equal(quat.axis_heading(q, k), np.arctan2(axis[:, 1], axis[:, 0]))
    assert quat.axis_component(q[0], k, 2) == axis[0, 2]
    with pytest.raises(IndexError):
        quat.axis_component(q, k, 3)


def test_one_quaternion_times_a_series_matches_the_product_sample_by_sample():
    q = quat.from_scipy(Rotation.random(30, random_state=6))
    one = q[0]
    assert np.allclose(quat.qmul(one, q), [quat.qmul(one, p) for p in q], atol=1e-15)
    assert np.allclose(quat.qmul(q, one), [quat.qmul(p, one) for p in q], atol=1e-15)
    v = np.array([0.3, -1.2, 2.0])
    assert np.allclose(quat.qrotate(quat.qmul(q, one), v), quat.qrotate(q, quat.qrotate(one, v)))


def test_turns_about_z_are_the_z_rotation_composed_in_closed_form():
    rng = np.random.default_rng(7)
    q = quat.from_scipy(Rotation.random(40, random_state=7))
    v = rng.normal(size=(40, 3))
    angle = rng.uniform(-4.0, 4.0, 40)
    z_rot = quat.from_rotvec(np.column_stack([np.zeros(40), np.zeros(40), angle]))
    assert np.allclose(quat.about_z(angle), z_rot, atol=1e-15)
    assert np.allclose(quat.turn_about_z(angle, q), quat.qmul(z_rot, q), atol=1e-15)
    assert np.allclose(quat.rotate_about_z(angle, v), quat.qrotate(z_rot, v), atol=1e-14)
    # a single angle over a series, and a single vector: the matching shapes
    assert np.allclose(quat.turn_about_z(0.5, q), quat.qmul(quat.about_z(0.5), q), atol=1e-15)
    assert quat.rotate_about_z(np.pi / 2, [1.0, 0.0, 0.0]).shape == (3,)
    assert np.allclose(quat.rotate_about_z(np.pi / 2, [1.0, 0.0, 2.0]), [0.0, 1.0, 2.0])
    assert quat.about_z(0.1).shape == (4,)
