"""The hip's sideways shift from the pelvis sensor's acceleration (analysis.hip_shift)."""

import numpy as np
import pytest

from analysis.hip_shift import hip_medial_shift_m, sacrum_to_hip_m
from sensor_io.anthropometry import Body

BODY = Body.from_height(1.75)
T = np.arange(0.0, 7.0, 0.01)
REP = (2.0, 5.0)


def _bump(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """0 -> 1 -> 0 over [t0, t1], smooth (sin²)."""
    u = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
    return np.sin(np.pi * u) ** 2


def _bump_acc(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """Second derivative of :func:`_bump` (1/s²)."""
    w = np.pi / (t1 - t0)
    inside = (t > t0) & (t < t1)
    return np.where(inside, 2 * w**2 * np.cos(2 * w * (t - t0)), 0.0)


def _case(test_leg: str, shift_m: float = 0.03, sway_m: float = 0.006, acc_error: float = 0.03):
    """A hip that sways (0.8 Hz) and shifts medially by shift_m during the rep, seen by a
    pelvis sensor whose medio-lateral acceleration carries a constant error (m/s²)."""
    f = 0.8
    sway = sway_m * np.sin(2 * np.pi * f * T)
    medial = sway + shift_m * _bump(T, *REP)
    acc_medial = (-(2 * np.pi * f) ** 2 * sway + shift_m * _bump_acc(T, *REP)) + acc_error
    sign = 1.0 if test_leg == "right" else -1.0
    acc = np.zeros((len(T), 3))
    acc[:, 1], acc[:, 2] = sign * acc_medial, 9.81
    q = np.tile([1.0, 0.0, 0.0, 0.0], (len(T), 1))
    # between reps the leg stands straight: the thigh tilts with the sway
    hip_over_knee = medial * BODY.thigh_m / (BODY.thigh_m + BODY.shank_m)
    standing = T < 1.0
    return medial, acc, q, hip_over_knee, standing


@pytest.mark.parametrize("test_leg", ["right", "left"])
def test_a_medial_shift_during_the_rep_is_measured_despite_sway_and_a_tilt_error(test_leg):
    medial, acc, q, hip_over_knee, standing = _case(test_leg)
    est = hip_medial_shift_m(T, acc, q, hip_over_knee, standing, [REP], BODY, test_leg)
    rep = (T > REP[0]) & (T < REP[1])
    truth = medial - medial[standing].mean()
    assert np.max(np.abs(est[rep] - truth[rep])) < 0.002
    assert abs(est[rep].max() - truth[rep].max()) < 0.001


def test_a_rep_with_a_pause_on_one_side_only_is_anchored_by_position_and_velocity():
    medial, acc, q, hip_over_knee, standing = _case("right", acc_error=0.0)
    est = hip_medial_shift_m(T, acc, q, hip_over_knee, standing, [(REP[0], 6.95)], BODY, "right")
    rep = (T > REP[0]) & (T < 5.0)
    assert np.max(np.abs(est[rep] - medial[rep] + medial[standing].mean())) < 0.003


def test_without_a_pause_the_hip_is_taken_as_over_the_foot():
    medial, acc, q, hip_over_knee, standing = _case("right")
    spans = [(1.0, 2.0), (2.05, 5.0), (5.05, 6.0)]  # back to back: no standing around the middle
    est = hip_medial_shift_m(T, acc, q, hip_over_knee, standing, spans, BODY, "right")
    assert np.all(est[(T > 2.05) & (T < 5.0)] == 0.0)


def test_the_hip_centre_lies_forward_below_and_lateral_of_the_sacrum_on_the_test_side():
    right, left = sacrum_to_hip_m(BODY, "right"), sacrum_to_hip_m(BODY, "left")
    assert right[0] > 0.08 and right[1] < -0.05      # ~12 cm forward, ~7 cm down
    assert right[2] == pytest.approx(BODY.hip_width_m / 2)  # z points right
    assert np.allclose(left, right * [1, 1, -1])


def test_a_pause_ends_at_a_gap_of_the_pelvis_sensor():
    # A gap right before the rep: its interpolated acceleration is no measurement, so the
    # pause before the rep is cut there and the rep hangs on the pause after it alone.
    medial, acc, q, hip_over_knee, standing = _case("right", acc_error=0.0)
    gap = (T > 1.6) & (T < 1.9)
    acc[gap, 1] = 5.0  # what a gap's interpolation could make of it
    est = hip_medial_shift_m(T, acc, q, hip_over_knee, standing, [REP], BODY, "right", gap)
    rep = (T > REP[0]) & (T < REP[1])
    assert np.max(np.abs(est[rep] - medial[rep] + medial[standing].mean())) < 0.003



def test_a_gap_that_cuts_a_rep_from_its_pause_leaves_the_hip_over_the_foot():
    # A 0.3 s gap across the rep's start: the pause before it is cut, and the bridged
    # acceleration inside the rep (here a hip correction missed) leaves a velocity that
    # the pause after it alone cannot bound (a simulated rep read 11 cm for 0.5 cm). The
    # rep's shift is not measured; the next rep still is.
    medial, acc, q, hip_over_knee, standing = _case("right", acc_error=0.0)
    spans = [REP, (5.6, 6.4)]
    gap = (T > 1.9) & (T < 2.2)
    acc[gap, 1] = 0.5
    est = hip_medial_shift_m(T, acc, q, hip_over_knee, standing, spans, BODY, "right", gap)
    assert np.all(est[(T > REP[0]) & (T < REP[1])] == 0.0)
    later = (T > 5.6) & (T < 6.4)
    assert np.max(np.abs(est[later] - medial[later] + medial[standing].mean())) < 0.003
    assert np.ptp(medial[later]) > 0.005  # the sway there is there to be measured


def test_a_gap_between_both_pauses_is_integrated_through():
    # Both pauses intact: the fit's velocity and acceleration terms bound what the gap's
    # guessed acceleration leaves, and the rep keeps its measured shift.
    medial, acc, q, hip_over_knee, standing = _case("right", acc_error=0.0)
    gap = (T > 3.4) & (T < 3.6)
    acc[gap, 1] = np.interp(T[gap], T[~gap], acc[~gap, 1])  # bridged as a link would
    est = hip_medial_shift_m(T, acc, q, hip_over_knee, standing, [REP], BODY, "right", gap)
    rep = (T > REP[0]) & (T < REP[1])
    truth = medial - medial[standing].mean()
    assert np.max(np.abs(est[rep] - truth[rep])) < 0.003
    assert est[rep].max() > 0.02  # the 3 cm shift is measured, not taken as zero


def test_a_rep_with_the_pelvis_silent_has_no_knee_from_its_hip_shift():
    # The hip's shift comes from the pelvis' acceleration: where the pelvis sensor is
    # silent for longer than a link's normal losses, the knee is not measured, with why.
    from dataclasses import replace

    from analysis.pipeline import analyze
    from sensor_io.recording import SensorStream
    from simulator.single_test import SimConfig, simulate

    sim = simulate(SimConfig(seed=3, sensors=("pelvis", "thigh"), calibration_movement=True,
                             test_leg="right", n_reps=4))
    bottom = sim.truth["reps"][1]["bottom_s"]
    s = sim.recording.streams["pelvis"]
    keep = (s.t < bottom - 0.4) | (s.t > bottom + 0.4)
    streams = {**sim.recording.streams, "pelvis": SensorStream(s.t[keep], s.acc[keep], s.gyr[keep])}
    a = analyze(replace(sim.recording, streams=streams), classify=False)
    assert a.series.knee_source == "thigh+pelvis, hip shift measured"
    cut = [r for r in a.reps if abs(r.bottom_s - bottom) < 0.5]
    assert len(cut) == 1 and cut[0].measures.get("knee_medial_cm") is None
    assert "pelvis" in cut[0].not_measured["knee_medial_cm"]
    assert all(r.measures.get("knee_medial_cm") is not None for r in a.reps if r is not cut[0])
