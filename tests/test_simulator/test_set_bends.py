"""Programme sets simulated with the guided knee bends, as `stepdown record` asks for them
before a set: the prompt in the metadata frames the simulated bends, the set's movement
follows them, and the analysis calibrates from them."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.exercises.hold import analyze_hold
from analysis.pipeline import analyze
from sensor_io.exercise import exercise_of
from sensor_io.recording import calibration_movement_window
from simulator.heel_taps import HeelTapConfig, simulate_heel_taps
from simulator.hold import HoldConfig, simulate_hold


def _hold(seed: int, bends: bool = True):
    return simulate_hold(HoldConfig(seed=seed, holds=2, hold_s=(8.0, 10.0),
                                    calibration_movement=bends))


@pytest.mark.parametrize("seed", [1, 5])  # 5: a standing drawn under 3 s, which a hold lengthens
def test_a_simulated_hold_set_does_the_bends_inside_the_prompt_before_the_first_hold(seed):
    sim = _hold(seed)
    window = calibration_movement_window(sim.recording)
    truth = sim.truth["calibration_movement"]
    assert window == tuple(truth["prompt_s"])
    (p0, p1), (b0, b1) = window, truth["span_s"]
    assert b0 == pytest.approx(sim.scenario.standing_s)
    # the simulator's prompt lead and tail (PROMPT_LEAD_S, PROMPT_TAIL_S), the prompt in ms
    assert -0.001 <= b0 - p0 <= 0.501 and 0.299 <= p1 - b1 <= 1.001
    assert p1 < sim.truth["holds"][0]["start_s"]
    # the thigh really bends inside the prompt, and stands still before it
    kin = sim.kinematics
    incl = np.degrees(np.arccos(np.clip(kin.R["thigh"][:, 2, 1], -1.0, 1.0)))
    stand = incl[(kin.t > 0.3) & (kin.t < b0 - 0.2)]
    bent = incl[(kin.t > b0) & (kin.t < b1)]
    assert bent.max() - stand.mean() > 10.0 and np.ptp(stand) < 3.0


def test_the_bends_are_the_default_for_a_set_and_can_be_left_out():
    assert HoldConfig().calibration_movement and HeelTapConfig().calibration_movement
    without = _hold(1, bends=False)
    assert calibration_movement_window(without.recording) is None
    assert "calibration_movement" not in without.truth
    taps = simulate_heel_taps(HeelTapConfig(seed=2, reps=4))
    window = calibration_movement_window(taps.recording)
    assert window is not None and window[1] < taps.truth["reps"][0]["start_s"]
    assert len(taps.truth["reps"]) == 4  # no bend is a tap


def test_the_hold_analysis_calibrates_the_pelvis_from_the_bends_and_finds_no_hold_in_them():
    sim = _hold(1)
    doc = analyze(sim.recording, classify=False).to_json()
    assert doc["calibration"]["movement"] == "used"
    assert doc["calibration"]["sensors"]["pelvis"]["method"] == "gravity+skin normal+guided bends"
    assert doc["calibration"]["sensors"]["thigh_left"]["method"] == "gravity+guided knee bends"
    res = analyze_hold(sim.recording, exercise_of(sim.recording)).to_json()
    assert len(res["holds"]) == 2
    assert res["holds"][0]["start_s"] > calibration_movement_window(sim.recording)[1]
    assert res["calibration"]["window_s"][1] <= calibration_movement_window(sim.recording)[0]
    without = analyze(_hold(1, bends=False).recording, classify=False).to_json()
    assert without["calibration"]["sensors"]["pelvis"]["method"] == "gravity+skin normal"


def test_a_swaying_standing_is_found_before_the_bends():
    """Seed 1's README hold set: without the bends its standing sways too much and the set is
    refused (tests/test_stepdown/test_analyze_cli.py); with them the standing is looked for
    before the bends first, and all three holds are read."""
    sim = simulate_hold(HoldConfig(seed=1, holds=3, hold_s=(10.8, 13.2)))
    res = analyze_hold(sim.recording, exercise_of(sim.recording)).to_json()
    assert res["calibration"]["window_s"][1] <= calibration_movement_window(sim.recording)[0]
    assert len(res["holds"]) == 3
    for h, t in zip(res["holds"], sim.truth["holds"], strict=True):
        assert h["tut_s"] == pytest.approx(t["tut_s"], abs=0.5)
