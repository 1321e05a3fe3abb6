"""benchmarks.long_axis_heading: a frame's heading about its long axis, read and set."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from benchmarks.long_axis_heading import long_axis_heading_deg, turned_to_heading
from calibration import Calibration
from calibration.calibrate import SensorCalibration
from calibration.standing import StandingWindow


def _frame(seed: int) -> np.ndarray:
    return Rotation.random(random_state=seed).as_matrix()


@pytest.mark.parametrize("turn_deg", [0.0, 10.5, -37.0, 179.0, -179.0])
def test_the_heading_of_a_frame_turned_about_its_long_axis_is_the_turn(turn_deg):
    ref = _frame(1)
    turned = ref @ Rotation.from_rotvec([0.0, np.radians(turn_deg), 0.0]).as_matrix()
    assert long_axis_heading_deg(ref, turned) == pytest.approx(turn_deg, abs=1e-9)
    assert long_axis_heading_deg(turned, ref) == pytest.approx(-turn_deg, abs=1e-9)


def test_a_tilted_long_axis_leaves_the_twist():
    """Two frames whose long axes differ by a small tilt (swing) read the twist alone."""
    ref = _frame(2)
    swing = Rotation.from_rotvec([np.radians(3.0), 0.0, np.radians(-2.0)]).as_matrix()
    twist = Rotation.from_rotvec([0.0, np.radians(8.0), 0.0]).as_matrix()
    assert long_axis_heading_deg(ref, ref @ swing @ twist) == pytest.approx(8.0, abs=1e-9)


@pytest.mark.parametrize("heading_deg", [0.0, 4.0, -12.0])
def test_a_frame_turned_to_another_frames_heading_keeps_its_long_axis(heading_deg):
    found = _frame(3)
    ref = found @ Rotation.from_rotvec([0.0, np.radians(-10.5), 0.0]).as_matrix()
    sensors = {p: SensorCalibration(p, np.zeros(3), r, 9.81, "gravity+flexion axis")
               for p, r in (("thigh_right", found), ("pelvis", _frame(4)))}
    cal = Calibration(StandingWindow(0.0, 2.0, 0.01, 0.01), sensors)
    out = turned_to_heading(cal, "thigh_right", ref, heading_deg)
    turned = out.sensors["thigh_right"].R_sensor_seg
    assert long_axis_heading_deg(ref, turned) == pytest.approx(heading_deg, abs=1e-9)
    np.testing.assert_allclose(turned[:, 1], found[:, 1], atol=1e-12)
    np.testing.assert_allclose(turned.T @ turned, np.eye(3), atol=1e-12)
    assert out.sensors["pelvis"] is cal.sensors["pelvis"]
    assert cal.sensors["thigh_right"].R_sensor_seg is found  # the input is unchanged
