"""Sets apart from the walking between them (issue 22): reps are counted inside sets only.

Accuracy from the session simulator's truth (every rep of every set, the walks between
sets) at 5, 20 and 60 min, and on real signals: the CMU-MBL SUB22 walking trial is found
as walking, its single-leg exercises are not (skips without STEPDOWN_CMU_DATA).
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.pipeline import _walking, analyze
from analysis.walking import outside_bouts, walking_bouts
from benchmarks import cmu_real
from simulator.session import SessionConfig, simulate_session

RATE_HZ = 100.0
MATCH_S = 0.3  # a found rep matches a true one when their bottoms are this close


def _gait(t: np.ndarray, stride_hz: float = 0.9) -> np.ndarray:
    """Thigh pitch (rad) of walking: 12° ± 20° at the stride rate."""
    return np.radians(12.0 + 20.0 * np.sin(2 * np.pi * stride_hz * t))


def _step_downs(t: np.ndarray, period_s: float = 3.0, depth_deg: float = 45.0) -> np.ndarray:
    """Thigh pitch (rad) of step-downs: flexion to depth_deg and back to upright, no extension."""
    return np.radians(depth_deg * np.sin(np.pi * (t % period_s) / period_s) ** 2)


def test_walking_between_two_sets_is_one_bout_and_the_sets_are_not_walking():
    t = np.arange(0.0, 60.0, 1 / RATE_HZ)
    walk = (t >= 25.0) & (t < 35.0)
    pitch = np.where(walk, _gait(t - 25.0), _step_downs(t))
    bouts = walking_bouts(t, pitch)
    assert len(bouts) == 1
    lo, hi = t[bouts[0][0]], t[bouts[0][1] - 1]
    assert 24.0 < lo <= 25.3 and 34.7 <= hi < 36.0  # reaches to the upright moments around it
    assert len(walking_bouts(t, _step_downs(t))) == 0


def test_noise_on_a_step_down_set_does_not_make_walking():
    rng = np.random.default_rng(1)
    t = np.arange(0.0, 60.0, 1 / RATE_HZ)
    pitch = _step_downs(t, 2.0) + np.radians(1.5) * rng.standard_normal(len(t))
    assert len(walking_bouts(t, pitch)) == 0


def test_slow_walking_with_a_small_extension_is_still_walking():
    t = np.arange(0.0, 20.0, 1 / RATE_HZ)
    pitch = np.radians(10.0 + 15.0 * np.sin(2 * np.pi * 0.7 * t))  # -5°..25°, 1.4 s strides
    bouts = walking_bouts(t, pitch)
    assert len(bouts) == 1 and bouts[0][1] - bouts[0][0] > 0.9 * len(t)


def test_outside_bouts_cuts_a_piece_around_them():
    bouts = np.array([[10, 20], [30, 40]])
    assert outside_bouts(slice(0, 50), bouts, 100) == [slice(0, 10), slice(20, 30), slice(40, 50)]
    assert outside_bouts(slice(15, 35), bouts, 100) == [slice(20, 30)]
    assert outside_bouts(slice(None), np.zeros((0, 2), int), 100) == [slice(0, 100)]


@pytest.mark.parametrize("seed", range(6))
def test_a_single_test_has_no_walking(seed):
    """Single-leg sway, partial reps, fidgets and every fault profile stay a set (40 seeds
    checked once while building this; six here)."""
    from simulator.single_test import SimConfig, simulate

    sensors = ("pelvis", "thigh", "shank", "trunk", "wrist") if seed % 2 else ("pelvis", "thigh")
    sim = simulate(SimConfig(seed=seed, profile=("good", "medium", "poor")[seed % 3],
                             sensors=sensors))
    result = analyze(sim.recording)
    assert len(_walking(result.motion, sim.recording.test_leg)) == 0
    assert len(result.reps) == len(sim.truth["reps"])


def _score(minutes: float, seed: int) -> dict[str, float]:
    sim = simulate_session(SessionConfig(seed=seed, minutes=minutes))
    result = analyze(sim.recording)
    found = np.array([r.bottom_s for r in result.reps])
    truth = np.array([r["bottom_s"] for r in sim.truth["reps"]])
    hit = sum(bool(len(found)) and np.min(np.abs(found - b)) < MATCH_S for b in truth)
    false = sum(np.min(np.abs(truth - f)) >= MATCH_S for f in found)
    t = result.motion.t
    walking = np.zeros(len(t), bool)
    for a, b in _walking(result.motion, sim.recording.test_leg):
        walking[a:b] = True
    true_walk = np.zeros(len(t), bool)
    for a, b in sim.truth["walks"]:
        true_walk |= (t >= a) & (t < b)
    in_sets = np.zeros(len(t), bool)
    for r in sim.truth["reps"] + sim.truth["partial_reps"]:
        in_sets |= (t >= r["start_s"]) & (t <= r["end_s"])
    out = {"reps": len(truth), "found": hit, "false": false, "walks": len(sim.truth["walks"]),
           "walk_covered": walking[true_walk].mean(), "reps_called_walking": walking[in_sets].mean()}
    print(f"\n{minutes:g} min session, seed {seed}: {out}")
    return out


@pytest.mark.parametrize("minutes, seed", [
    (5.0, 22),
    pytest.param(20.0, 23, marks=pytest.mark.slow),
    pytest.param(60.0, 24, marks=pytest.mark.slow),
])
def test_session_reps_are_found_in_the_sets_and_none_in_the_walks(minutes, seed):
    """Before issue 22's set segmentation a 60 min session gave 730 reps for ~200 real ones
    (every stride of the walks between sets was a rep)."""
    s = _score(minutes, seed)
    assert s["walks"] >= 3
    assert s["found"] == s["reps"] and s["false"] == 0
    assert s["walk_covered"] > 0.9
    assert s["reps_called_walking"] == 0.0


# -- real signals -------------------------------------------------------------------------------

ROOT = cmu_real.data_root()
needs_cmu = pytest.mark.skipif(ROOT is None, reason=f"{cmu_real.ENV} unset or not a clone of "
                                                    "CMU-MBL/IMU_Exercise_Prediction")


def _cmu_walking(trial: str) -> tuple[float, int]:
    """Share of the trial's data samples inside walking bouts, and its reps found."""
    from stepdown.commands.analyze import run_analysis

    files = cmu_real._rep_files(cmu_real.trial_dir(ROOT, trial))
    leg = cmu_real.stance_leg([cmu_real.read_reference(cmu_real.reference_file(ROOT, f))
                               for f in files])
    result = run_analysis(cmu_real.trial_dir(ROOT, trial), standing=cmu_real.standing_file(ROOT),
                          placement=cmu_real.placement_arg("pelvis+thigh", leg), test_leg=leg)
    motion = result.motion
    walking = np.zeros(len(motion.t), bool)
    for a, b in _walking(motion, leg):
        walking[a:b] = True
    data = ~motion.standing & ~motion.get("thigh", leg).gap
    return float(walking[data].mean()), len(result.reps)


@needs_cmu
def test_real_walking_is_walking():
    share, reps = _cmu_walking("Walk")
    print(f"\nCMU SUB22 Walk: {share:.0%} of its samples in walking bouts, {reps} reps")
    assert share > 0.5 and reps == 0


@needs_cmu
@pytest.mark.parametrize("trial", ["SqSL", "Lunge", "StepUpH"])
def test_real_single_leg_exercises_are_not_walking(trial):
    share, reps = _cmu_walking(trial)
    assert share == 0.0 and reps >= 3
