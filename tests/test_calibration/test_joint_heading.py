"""Leg-sensor frames from the knee hinge: valgus in step with flexion does not tilt them."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.pipeline import analyze
from calibration import calibrate
from calibration.joint_heading import heading_between
from simulator.single_test import SimConfig, simulate


def test_the_turn_between_two_world_frames_is_found_in_closed_form():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 2))
    delta = np.radians(37.0)
    c, s = np.cos(delta), np.sin(delta)
    rotated = a @ np.array([[c, s], [-s, c]])  # each row turned by +delta
    found = heading_between(rotated, a)
    assert np.degrees(found.delta_rad) == pytest.approx(37.0, abs=1e-9)
    assert found.coherence == pytest.approx(1.0)
    noisy = heading_between(rotated + rng.normal(scale=3.0, size=a.shape), a)
    assert noisy.coherence < 0.5  # mostly noise: not usable
    assert not noisy.usable


def _axis_errors_deg(sim, calibration) -> dict[str, float]:
    """Angle (deg) between the estimated and the true medio-lateral (z) axis per leg sensor."""
    out = {}
    for p, c in calibration.sensors.items():
        if p.startswith(("thigh", "shank")):
            true_z = np.array(sim.truth["sensors"][p]["R_seg_sensor"]).T[:, 2]
            cos = np.clip(c.R_sensor_seg[:, 2] @ true_z, -1.0, 1.0)
            out[p.split("_")[0]] = float(np.degrees(np.arccos(cos)))
    return out


@pytest.mark.slow
def test_knee_hinge_finds_the_flexion_axes_that_valgus_tilts_in_the_functional_axis():
    hinge, functional = [], []
    for seed in range(6):
        sim = simulate(SimConfig(seed=seed, sensors=("pelvis", "thigh", "shank"), profile="poor"))
        cal = analyze(sim.recording, classify=False).calibration
        assert {c.method for p, c in cal.sensors.items() if p != "pelvis"} == {"gravity+knee hinge"}
        hinge.append(_axis_errors_deg(sim, cal))
        functional.append(_axis_errors_deg(sim, calibrate(sim.recording)))  # no joint data
    for seg in ("thigh", "shank"):
        h = np.median([e[seg] for e in hinge])
        f = np.median([e[seg] for e in functional])
        print(f"{seg}: median axis error {h:.2f} deg (knee hinge) vs {f:.2f} deg (functional)")
        assert h < 1.5
    assert np.mean([e["shank"] for e in hinge]) < np.mean([e["shank"] for e in functional])
