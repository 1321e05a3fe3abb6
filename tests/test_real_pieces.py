"""A recording in pieces (per-rep files, a standing file of its own) reaches the knee hinge.

Other tools export a trial as one file per rep and the standing pose as a separate
static trial: the piece that holds the standing pose then has no movement, and the
knee's flexion axis must come from the reps' own pieces (issue 21, finding 1).
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.pipeline import analyze
from calibration.joint_heading import knee_hinge, knee_hinge_pooled
from sensor_io.recording import Recording
from sensor_io.simulator import SimConfig, simulate


def _in_pieces(sim) -> tuple[Recording, Recording]:
    """The simulated test cut as the CMU export is: one piece per rep (the time between reps
    missing) and the standing pose as a recording of its own."""
    rec = sim.recording
    reps = sim.truth["reps"]
    streams = {}
    for p, s in rec.streams.items():
        parts = [s.slice_time(r["start_s"], r["end_s"]) for r in reps]
        streams[p] = type(s)(np.concatenate([x.t for x in parts]),
                             np.concatenate([x.acc for x in parts]),
                             np.concatenate([x.gyr for x in parts]))
    t0, t1 = sim.truth["standing_s"]
    standing = {p: s.slice_time(t0 + 0.2, t1 - 0.2) for p, s in rec.streams.items()}
    return (Recording(streams, rec.test_leg, rec.step_height_m, rec.athlete),
            Recording(standing, rec.test_leg, rec.step_height_m, rec.athlete))


def _axis_error_deg(sim, cal, placement: str) -> float:
    true_z = np.array(sim.truth["sensors"][placement]["R_seg_sensor"]).T[:, 2]
    return float(np.degrees(np.arccos(np.clip(abs(cal.sensors[placement].R_sensor_seg[:, 2]
                                                 @ true_z), -1.0, 1.0))))


@pytest.mark.parametrize("seed", [3, 4])
def test_per_rep_pieces_with_a_separate_standing_file_use_the_knee_hinge(seed):
    sim = simulate(SimConfig(seed=seed, sensors=("pelvis", "thigh", "shank"), profile="poor"))
    reps, standing = _in_pieces(sim)
    result = analyze(reps, standing=standing, classify=False)
    leg = sim.recording.test_leg
    methods = {p: c.method for p, c in result.calibration.sensors.items()}
    assert methods[f"thigh_{leg}"] == methods[f"shank_{leg}"] == "gravity+knee hinge"
    for seg in ("thigh", "shank"):
        assert _axis_error_deg(sim, result.calibration, f"{seg}_{leg}") < 3.0
    assert result.to_json()["uncertainty"]["case"].startswith("knee hinge")


def test_pooled_hinge_of_one_stretch_is_the_hinge_of_that_stretch():
    sim = simulate(SimConfig(seed=1, sensors=("pelvis", "thigh", "shank")))
    from analysis.pipeline import _oriented, body_of
    from analysis.segmented import piece_tracks
    from calibration.joint_heading import lever_arms

    rec, window, biases, orientations = _oriented(sim.recording, None, "offline")
    tracks = piece_tracks(orientations)
    leg = rec.test_leg
    body, _ = body_of(rec)
    cal = analyze(sim.recording, classify=False).calibration
    r_t = lever_arms("thigh", cal.sensors[f"thigh_{leg}"].R_sensor_seg[:, 1], body)["knee"]
    r_s = lever_arms("shank", cal.sensors[f"shank_{leg}"].R_sensor_seg[:, 1], body)["knee"]
    one = knee_hinge(tracks[f"thigh_{leg}"][0], r_t, tracks[f"shank_{leg}"][0], r_s)
    pooled = knee_hinge_pooled([(tracks[f"thigh_{leg}"][0], tracks[f"shank_{leg}"][0])], r_t, r_s)
    assert one is not None and pooled is not None
    np.testing.assert_allclose(one.axis_thigh, pooled.axis_thigh)
    # a stretch with no knee movement (standing only) adds nothing and is not usable alone
    still = [(type(tr)(tr.t[:150], tr.q_world_sensor[:150], tr.acc[:150], tr.gyr[:150]))
             for tr in (tracks[f"thigh_{leg}"][0], tracks[f"shank_{leg}"][0])]
    assert knee_hinge_pooled([tuple(still)], r_t, r_s) is None
    both = knee_hinge_pooled([tuple(still), (tracks[f"thigh_{leg}"][0],
                                             tracks[f"shank_{leg}"][0])], r_t, r_s)
    np.testing.assert_allclose(abs(both.axis_thigh @ one.axis_thigh), 1.0, atol=1e-9)
