"""Wrong units in a Movella DOT app export are refused with one clear line (issue 21).

The app exports the gyroscope in °/s; a file whose gyro columns hold rad/s (another
tool's export, a script's conversion) would read 57 times too slow and pass as a
recording without movement. The accelerometer's own tilt tells (sensor_io.gyro_scale).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_movella_dot import dot_export

from sensor_io.gyro_scale import MIN_RATIO, gyro_to_tilt_ratio
from simulator.single_test import SimConfig, placement_name, simulate
from stepdown.cli import main


def _swinging(rate_hz: float = 100.0, seconds: float = 6.0) -> tuple[np.ndarray, ...]:
    """A sensor swinging ±40° at 0.5 Hz about its x axis (horizontal), gravity only."""
    t = np.arange(0.0, seconds, 1.0 / rate_hz)
    angle = np.radians(40.0) * np.sin(2 * np.pi * 0.5 * t)
    rate = np.gradient(angle, t)
    acc = 9.81 * np.column_stack([np.zeros_like(t), np.sin(angle), np.cos(angle)])
    gyr = np.column_stack([rate, np.zeros_like(t), np.zeros_like(t)])
    return t, acc, gyr


def test_a_pure_rotation_turns_the_gyro_as_far_as_gravity_tilts():
    t, acc, gyr = _swinging()
    assert gyro_to_tilt_ratio(t, acc, gyr) == pytest.approx(1.0, abs=0.1)
    assert gyro_to_tilt_ratio(t, acc, np.radians(gyr)) == pytest.approx(1 / 57.3, rel=0.15)
    still = np.tile([0.0, 0.0, 9.81], (len(t), 1)) + np.random.default_rng(0).normal(0, 0.05, (len(t), 3))
    assert gyro_to_tilt_ratio(t, still, 0 * gyr) is None  # no movement: nothing to judge


def test_simulated_step_downs_stay_well_above_the_threshold():
    """Every simulated sensor (linear accelerations included) passes, with margin."""
    for seed in range(3):
        sim = simulate(SimConfig(seed=seed, sensors=("pelvis", "thigh", "shank", "trunk", "wrist")))
        for p, s in sim.recording.streams.items():
            ratio = gyro_to_tilt_ratio(s.t, s.acc, s.gyr)
            assert ratio is not None and ratio > 1.5 * MIN_RATIO, (seed, p, ratio)


def _import_exports(tmp_path, capsys, in_g: set[str], gyr_in_rad: bool = False):
    """`import-dot` of a simulated test's pelvis and thigh as DOT exports (acc in g for the
    segments ``in_g``, gyro in rad/s where asked): (exit code, output lines, --out path)."""
    sim = simulate(SimConfig(seed=4, test_leg="right", sensors=("pelvis", "thigh")))
    args = []
    for seg in ("pelvis", "thigh"):
        name = placement_name(seg, "right")
        s = sim.recording.streams[name]
        acc = s.acc / 9.81 if seg in in_g else s.acc
        gyr = s.gyr if gyr_in_rad else np.degrees(s.gyr)
        f = dot_export(tmp_path / f"{seg}.csv", np.round((s.t + 10.0) * 1e6), acc, gyr)
        args.append(f"{name}={f}")
    out = tmp_path / "dot.parquet"
    rc = main(["import-dot", *args, "--leg", "right", "--out", str(out)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return rc, [ln for ln in (captured.out + captured.err).splitlines() if ln.strip()], out


@pytest.mark.parametrize("case, message", [
    ("gyro in rad/s", "were they exported in rad/s?"),
    ("acc in g", "looks like g"),
])
def test_dot_export_in_wrong_units_is_one_line_and_nothing_written(tmp_path, capsys, case, message):
    in_g = {"pelvis", "thigh"} if case == "acc in g" else set()
    rc, lines, out = _import_exports(tmp_path, capsys, in_g, gyr_in_rad=case == "gyro in rad/s")
    assert rc == 2 and len(lines) == 1 and message in lines[0], lines
    assert "pelvis.csv" in lines[0]  # the input file is named, not the recording not written
    assert not out.exists()


def test_one_dot_export_in_g_among_files_in_m_s2_is_refused_naming_it(tmp_path, capsys):
    """A DOT export is one sensor's whole stream, so the units are checked per file: one file
    in g beside another in m/s² is refused, naming that file (the Xsens per-rep import's gap)."""
    rc, lines, out = _import_exports(tmp_path, capsys, in_g={"thigh"})
    assert rc == 2 and len(lines) == 1 and "looks like g" in lines[0], lines
    assert "thigh.csv" in lines[0] and "pelvis.csv" not in lines[0]
    assert not out.exists()
