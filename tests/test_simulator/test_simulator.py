"""Physics of the step-down simulator (our test bench must be right)."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from simulator.single_test import SimConfig, simulate, simulate_batch
from simulator.virtual_imu import GRAVITY_MS2, ideal_imu

ALL = ("pelvis", "thigh", "shank", "trunk", "wrist")


@pytest.fixture(scope="module")
def ideal():
    return simulate(SimConfig(seed=11, sensors=ALL, profile="poor", ideal_sensors=True,
                              test_leg="right", physics="ideal", balance=None))


def test_sensor_at_rest_reads_gravity(ideal):
    stand = ideal.scenario.standing_s
    for name, s in ideal.recording.streams.items():
        m = (s.t > 0.3) & (s.t < stand - 0.2)
        norm = np.linalg.norm(s.acc[m], axis=1)
        assert abs(np.mean(norm) - GRAVITY_MS2) < 0.03, name
        assert np.max(np.abs(s.gyr[m])) < np.deg2rad(3.0), name


def test_specific_force_is_gravity_plus_acceleration():
    # A sensor moved up at 2 m/s² without rotating reads 9.81 + 2 along global z.
    t = np.arange(0, 1, 0.001)
    p = np.column_stack([np.zeros_like(t), np.zeros_like(t), 0.5 * 2.0 * t**2])
    R = np.tile(np.eye(3), (len(t), 1, 1))
    gyr, acc = ideal_imu(R, p, 0.001)
    assert np.allclose(acc[5:-5], [0, 0, GRAVITY_MS2 + 2.0], atol=1e-6)
    assert np.allclose(gyr, 0)


def _integrate(q0: Rotation, gyr: np.ndarray, t: np.ndarray) -> Rotation:
    """Body-frame gyro integrated with the exponential map (midpoint rates)."""
    steps = Rotation.from_rotvec(0.5 * (gyr[1:] + gyr[:-1]) * np.diff(t)[:, None])
    out = [q0]
    for k in range(len(steps)):
        out.append(out[-1] * steps[k])
    return Rotation.concatenate(out)


def test_integrated_gyro_reproduces_segment_orientation(ideal):
    kin_t = ideal.kinematics.t
    for name, vs in ideal.sensors.items():
        # the signal itself (1 kHz model grid): integration is exact up to numerics
        R_true = Rotation.from_matrix(vs.R_global_sensor)
        gyr, _ = ideal_imu(vs.R_global_sensor, np.zeros((len(kin_t), 3)), kin_t[1] - kin_t[0])
        est = _integrate(R_true[0], gyr, kin_t)
        assert np.rad2deg(np.max((R_true.inv() * est).magnitude())) < 0.2, name
        # the sampled 100 Hz gyro still reproduces the orientation after the whole test
        R_s = Rotation.from_matrix(np.stack(
            [np.interp(vs.t_true, kin_t, vs.R_global_sensor[:, i, j])
             for i in range(3) for j in range(3)], -1).reshape(-1, 3, 3))
        est_s = _integrate(R_s[0], vs.gyr, vs.t_true)
        assert np.rad2deg(np.max((R_s.inv() * est_s).magnitude())) < 2.0, name


def test_left_and_mirrored_right_give_the_same_truth():
    a = simulate(SimConfig(seed=5, test_leg="left", sensors=ALL, profile="poor"))
    b = simulate(SimConfig(seed=5, test_leg="right", sensors=ALL, profile="poor"))
    assert len(a.truth["reps"]) == len(b.truth["reps"]) == 5
    for ra, rb in zip(a.truth["reps"], b.truth["reps"], strict=True):
        for k, v in ra["measures"].items():
            assert v == pytest.approx(rb["measures"][k], abs=1e-9), k
        assert ra["start_s"] == rb["start_s"]
    # ... while the sensors really sit on opposite sides of the body.
    pa = a.kinematics.p["pelvis"][0]
    pb = b.kinematics.p["pelvis"][0]
    assert pa[1] == pytest.approx(-pb[1]) and abs(pa[1]) > 0.05


def test_mounting_is_arbitrary_about_the_normal_and_tilted_at_most_15deg():
    spins = []
    for seed in range(12):
        sim = simulate(SimConfig(seed=seed, sensors=("pelvis", "thigh"), ideal_sensors=True))
        R = sim.sensors["pelvis"].R_seg_sensor
        z_sensor = R[:, 2]
        tilt = np.degrees(np.arccos(np.clip(z_sensor @ np.array([-1.0, 0, 0]), -1, 1)))
        assert tilt <= 15.0 + 1e-9
        spins.append(np.degrees(np.arctan2(R[2, 0], R[1, 0])))
    assert np.ptp(spins) > 180  # spread all around, not a fixed strap direction


def test_truth_knee_displacement_and_pelvic_drop_follow_the_fault_parameters(ideal):
    for rep, params in zip(ideal.truth["reps"], [r for r in ideal.scenario.reps if not r.partial],
                           strict=True):
        m = rep["measures"]
        # a lateral drift of the hip over the foot carries the knee laterally too
        expected = 100 * (params.knee_medial_m * min(params.depth, 1) - 0.6 * params.hip_shift_m)
        assert m["knee_medial_cm"] == pytest.approx(expected, abs=0.35)
        assert m["pelvic_drop_deg"] == pytest.approx(
            np.rad2deg(params.pelvic_drop_rad) * min(params.depth, 1), abs=0.8)
        assert 35 < m["hip_flexion_deg"] < 80
        assert rep["start_s"] < rep["bottom_s"] < rep["end_s"]


def test_real_sensor_errors_are_present():
    sim = simulate(SimConfig(seed=2, sensors=ALL, partial_rep=True, fidget=True))
    rates = {round(s.rate_hz) for s in sim.recording.streams.values()}
    assert rates <= {52, 100, 104, 200}
    for name, s in sim.recording.streams.items():
        dt = np.diff(s.t)
        assert np.all(dt > 0), name
        assert np.std(dt / np.median(dt)) > 0.01, name  # jitter and dropped samples
    stand = sim.scenario.standing_s
    pel = sim.recording.streams["pelvis"]
    m = (pel.t > 0.3) & (pel.t < stand - 0.2)
    assert np.linalg.norm(np.mean(pel.gyr[m], axis=0)) > np.deg2rad(0.1)  # a gyro bias
    assert len(sim.truth["partial_reps"]) == 1
    assert len(sim.truth["reps"]) == 5


def test_same_seed_same_recording_and_batch_varies():
    a = simulate(SimConfig(seed=9))
    b = simulate(SimConfig(seed=9))
    assert np.array_equal(a.recording.streams["pelvis"].acc, b.recording.streams["pelvis"].acc)
    batch = list(simulate_batch(8, seed=1))
    assert {s.recording.test_leg for s in batch} == {"left", "right"}
    assert len({tuple(s.truth["sensors"]) for s in batch}) > 4  # four sets x two legs
    segs = {frozenset(p.split("_")[0] for p in s.recording.placements) for s in batch}
    assert len(segs) == 4
    assert len({len(s.truth["reps"]) for s in batch}) > 1


def _lateral_com_m(kin, body) -> np.ndarray:
    """Whole-body centre of mass along global y (m) from the segment positions, with
    Winter's mass fractions: HAT, stance thigh and shank, swing leg hanging straight."""
    up = lambda length: np.array([0.0, length, 0.0])  # noqa: E731
    ankle, hip, pelvis = kin.p["shank"], kin.p["thigh"], kin.p["pelvis"]
    knee = ankle + kin.R["shank"] @ up(body.shank_m)
    hat = kin.p["trunk"] + kin.R["trunk"] @ up(0.12 * body.height_m)
    swing_hip = 2 * pelvis - hip
    parts = [(0.678, hat[:, 1]), (0.100, (hip[:, 1] + knee[:, 1]) / 2),
             (0.0465, (knee[:, 1] + ankle[:, 1]) / 2), (0.161, swing_hip[:, 1])]
    return sum(m * y for m, y in parts) / sum(m for m, _ in parts)


@pytest.mark.parametrize("test_leg", ["right", "left"])
def test_balance_keeps_the_centre_of_mass_over_the_foot_when_the_trunk_leans(test_leg):
    from sensor_io.anthropometry import Body
    from simulator.forward_kinematics import simulate_kinematics
    from simulator.scenario import RepParams, Scenario

    body = Body.from_height(1.80)
    rep = RepParams(descent_s=1.5, bottom_s=0.3, ascent_s=1.3, rest_s=1.0,
                    trunk_lean_rad=np.deg2rad(15.0))
    excursion = {}
    for gain in (0.0, 1.0):
        kin = simulate_kinematics(Scenario(reps=(rep,), balance_gain=gain), body, test_leg,
                                  np.random.default_rng(0))
        com = _lateral_com_m(kin, body)
        bottom = np.argmin(np.abs(kin.t - kin.reps[0].bottom_s))
        excursion[gain] = com[bottom] - com[: int(2.0 * 1000)].mean()
        if gain:
            knee_in_cm = 100 * kin.knee_medial_m[bottom]
    # Leaning 15 deg moves the centre of mass ~3.5 cm toward the stance side (sign:
    # lateral is -y for a right leg); with the hip shifting back it stays within 2 mm,
    # and the knee, carried medially with the hip, ends up over 1 cm inside the foot.
    lateral = -1.0 if test_leg == "right" else 1.0
    assert 0.030 < lateral * excursion[0.0] < 0.045
    assert abs(excursion[1.0]) < 0.002
    assert knee_in_cm > 1.0


def test_whole_body_physics_changes_only_the_hip_and_leg_when_only_balance_differs():
    cfg = dict(seed=5, sensors=("pelvis", "thigh", "trunk"), profile="poor")
    plain = simulate(SimConfig(**cfg, balance=None))
    coupled = simulate(SimConfig(**cfg, balance=(1.0, 1.0)))
    assert coupled.scenario.balance_gain == 1.0 and plain.scenario.balance_gain == 0.0
    assert coupled.truth["balance_gain"] == 1.0 and "balance_gain" not in plain.truth
    np.testing.assert_array_equal(plain.kinematics.R["trunk"], coupled.kinematics.R["trunk"])
    assert not np.allclose(plain.kinematics.R["thigh"], coupled.kinematics.R["thigh"])


def _rates_dps(R: np.ndarray, dt: float) -> np.ndarray:
    """Angular speed (deg/s) of a rotation series (N,3,3) on a uniform grid."""
    rot = Rotation.from_matrix(R)
    return np.degrees((rot[:-1].inv() * rot[1:]).magnitude() / dt)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_single_leg_stance_sways_a_few_tenths_of_a_degree_at_one_to_three_deg_s(seed):
    sim = simulate(SimConfig(seed=seed, sensors=ALL, profile="good"))
    kin, scn = sim.kinematics, sim.scenario
    dt = kin.t[1] - kin.t[0]
    # the rest between reps is single-leg stance: rms angle and rate of the thigh there
    rep = kin.reps[0]
    m = (kin.t > rep.end_s + 0.3) & (kin.t < kin.reps[1].start_s - 0.3)
    y = kin.R["thigh"][m][:, :, 1]  # long axis
    tilt_deg = np.degrees(np.arccos(np.clip(y @ y.mean(axis=0) / np.linalg.norm(y.mean(axis=0)),
                                            -1, 1)))
    assert 0.1 < np.sqrt(np.mean(tilt_deg ** 2)) < 1.2
    rate = _rates_dps(kin.R["pelvis"][m], dt)
    assert 0.5 < np.sqrt(np.mean(rate ** 2)) < 5.0
    assert scn.sway_rate_dps == sim.truth["physics"]["sway_rate_dps"]


def test_a_hand_on_the_waist_rides_on_the_pelvis_not_on_the_flexing_trunk():
    sim = simulate(SimConfig(seed=4, sensors=ALL, profile="good", n_reps=3))
    kin = sim.kinematics
    on_trunk = sim.scenario.hand_on_trunk
    assert 0.2 <= on_trunk <= 0.5

    def turn_deg(a: str, b: str) -> np.ndarray:
        """How far b has turned on a since the first sample (deg)."""
        rel = Rotation.from_matrix(np.einsum("nji,njk->nik", kin.R[a], kin.R[b]))
        return np.degrees((rel[0].inv() * rel).magnitude())
    hand_off = np.array([r.params.arm_rad > 0 for r in kin.reps])
    bottom = [np.argmin(np.abs(kin.t - r.bottom_s)) for r, off in zip(kin.reps, hand_off,
                                                                      strict=True) if not off]
    assert bottom
    trunk_on_pelvis = turn_deg("pelvis", "trunk")[bottom]
    wrist_on_pelvis = turn_deg("pelvis", "wrist")[bottom]
    # the trunk flexes 10-30 deg on the pelvis; the resting hand follows only its share
    assert np.all(trunk_on_pelvis > 8)
    np.testing.assert_allclose(wrist_on_pelvis, on_trunk * trunk_on_pelvis, atol=1.5)


@pytest.mark.parametrize("timing", ["depth", "early", "late", "constant"])
def test_valgus_timing_variants_reach_the_same_peak_at_other_depths(timing):
    from simulator.forward_kinematics import valgus_envelope

    frac = np.linspace(0, 1, 101)
    v = valgus_envelope(frac, timing, 1.0)
    assert v[0] == pytest.approx(0.0) and v[-1] == pytest.approx(1.0)
    half = v[50]
    expected = {"depth": (0.45, 0.55), "early": (0.99, 1.0), "late": (0.0, 0.1),
                "constant": (0.99, 1.0)}[timing]
    assert expected[0] <= half <= expected[1]


def test_pelvis_accelerometer_holds_the_hips_sideways_shift():
    # The thigh + pelvis knee (analysis.hip_shift) integrates the sacral sensor's
    # acceleration to find how far balance moves the hip over the foot: the simulated
    # specific force must be the second derivative of the sensor's own path on the
    # whole-body chain (balance, sway), not of a pelvis pinned over the foot.
    sim = simulate(SimConfig(seed=5, sensors=("pelvis", "thigh"), profile="poor",
                             ideal_sensors=True, test_leg="right"))
    kin, vs = sim.kinematics, sim.sensors["pelvis"]
    rep = kin.reps[0]
    k = (vs.t_true >= rep.start_s - 0.5) & (vs.t_true <= rep.end_s + 0.5)
    t = vs.t_true[k]
    R = np.stack([np.interp(t, kin.t, vs.R_global_sensor[:, i, j])
                  for i in range(3) for j in range(3)], -1).reshape(-1, 3, 3)
    a_global = np.einsum("nij,nj->ni", R, vs.acc[k]) - [0.0, 0.0, GRAVITY_MS2]
    fine = kin.p["pelvis"] + kin.R["pelvis"] @ _sacral_mount(sim)  # 1 kHz
    path = np.column_stack([np.interp(t, kin.t, fine[:, i]) for i in range(3)])
    v0 = np.array([np.interp(t[0], kin.t, v) for v in np.gradient(fine, kin.t, axis=0).T])
    dt = np.diff(t)[:, None]
    v = np.concatenate([[v0], v0 + np.cumsum(0.5 * (a_global[1:] + a_global[:-1]) * dt, axis=0)])
    p = np.concatenate([[path[0]], path[0] + np.cumsum(0.5 * (v[1:] + v[:-1]) * dt, axis=0)])
    sideways = path[:, 1] - path[0, 1]
    assert np.ptp(sideways) > 0.015  # the hip does move sideways by more than a cm ...
    assert np.max(np.abs(p[:, 1] - path[:, 1])) < 0.001  # ... and the sensor feels it


def _sacral_mount(sim) -> np.ndarray:
    from simulator.virtual_imu import mounts
    return mounts(sim.body)["pelvis"].pos_m


def test_a_retest_keeps_the_athlete_and_the_straps_and_redraws_the_movement():
    first = simulate(SimConfig(seed=5, sensors=("pelvis", "thigh", "shank"), profile="poor"))
    retest = simulate(SimConfig(seed=5, movement_seed=77, sensors=("pelvis", "thigh", "shank"),
                                profile="good", step_height_m=first.scenario.step_height_m))
    assert retest.body == first.body
    assert retest.scenario.sway_deg == first.scenario.sway_deg  # the athlete's physics
    assert retest.scenario.standing_s != first.scenario.standing_s  # a new calibration
    for name, s in first.sensors.items():
        r = retest.sensors[name]
        assert np.allclose(r.R_seg_sensor, s.R_seg_sensor), name  # not re-strapped
        assert np.allclose(r.errors.gyr_bias, s.errors.gyr_bias) and r.errors.rate_hz == s.errors.rate_hz
        assert r.errors.clock_offset_s != s.errors.clock_offset_s, name  # another recording
    peaks = lambda sim: [r["measures"]["pelvic_drop_deg"] for r in sim.truth["reps"]]  # noqa: E731
    assert peaks(retest) != peaks(first)
    assert retest.truth["movement_seed"] == 77 and "movement_seed" not in first.truth
    again = simulate(SimConfig(seed=5, movement_seed=77, sensors=("pelvis", "thigh", "shank"),
                               profile="good", step_height_m=first.scenario.step_height_m))
    assert np.array_equal(again.recording.streams["pelvis"].acc, retest.recording.streams["pelvis"].acc)


def test_a_band_pair_is_one_athlete_and_straps_with_a_new_set_and_the_band_on_the_knee():
    from simulator.heel_taps import BAND_SENSORS, HeelTapConfig, band_pair, simulate_heel_taps

    band, free = band_pair(8202)
    assert band.body == free.body and band.scenario.step_height_m == free.scenario.step_height_m
    assert band.scenario.sway_deg == free.scenario.sway_deg  # the athlete's physics
    assert band.scenario.standing_s != free.scenario.standing_s  # a new calibration
    for name, s in band.sensors.items():
        r = free.sensors[name]
        assert np.allclose(r.R_seg_sensor, s.R_seg_sensor), name  # not re-strapped
        assert r.errors.clock_offset_s != s.errors.clock_offset_s, name  # another recording
    assert band.truth["band"] and not free.truth["band"]
    assert band.truth["knee_scale"] < 1.0 == free.truth["knee_scale"]
    assert free.truth["movement_seed"] != band.truth["seed"] == free.truth["seed"]
    tempo = lambda sim: [r["duration_s"] for r in sim.truth["reps"]]  # noqa: E731
    assert tempo(band) != tempo(free)  # the set's tempo is the new movement's
    # the band only scales the knee's own medial movement (knee_medial_m; the displacement
    # the hip's adduction makes stays): the band set without the band is the same taps
    plain = simulate_heel_taps(HeelTapConfig(
        seed=8202, test_leg=band.recording.test_leg, profile=band.truth["profile"],
        reps=len(band.truth["reps"]), sensors=BAND_SENSORS))
    knee = lambda sim: np.array([r["measures"]["knee_medial_cm"] for r in sim.truth["reps"]])  # noqa: E731
    assert tempo(plain) == pytest.approx(tempo(band))
    assert np.median(knee(band)) < np.median(knee(plain)) - 0.1


def test_a_guided_protocol_of_more_or_deeper_bends_keeps_the_athletes_other_draws():
    # The default draw is the one every guided batch was made with (values from before the
    # protocol settings existed); a protocol changes the count and depth only, and the prompt
    # still frames every bend.
    default = simulate(SimConfig(seed=3, calibration_movement=True))
    move = default.truth["calibration_movement"]
    assert (move["bends"], move["prompt_s"]) == (2, [2.294, 8.96])
    assert move["depth"] == pytest.approx(0.3793282392, abs=1e-9)
    protocol = simulate(SimConfig(seed=3, calibration_movement=True, guided_bends=5,
                                  guided_depth=(0.8, 1.0)))
    scn, ref = protocol.scenario, default.scenario
    assert scn.guided_bends == 5
    assert (scn.guided_depth - 0.8) / 0.2 == pytest.approx((ref.guided_depth - 0.35) / 0.25)
    for name in ("guided_bend_s", "guided_settle_s", "guided_valgus_rad", "guided_shift_m",
                 "guided_trunk_flex_rad", "standing_s"):
        assert getattr(scn, name) == getattr(ref, name)
    prompt, span = protocol.truth["calibration_movement"]["prompt_s"], \
        protocol.truth["calibration_movement"]["span_s"]
    assert span[1] - span[0] == pytest.approx(5 * ref.guided_bend_s)
    assert prompt[0] <= span[0] and prompt[1] >= span[1]
    assert all(r["start_s"] > span[1] for r in protocol.truth["reps"])
    with pytest.raises(ValueError, match="depth"):
        simulate(SimConfig(seed=3, calibration_movement=True, guided_depth=(0.8, 1.2)))
