"""The quiet standing window: the first common still stretch, wherever it lies."""

from __future__ import annotations

import re

import numpy as np
import pytest

from calibration.standing import (
    GRID_HZ,
    MIN_WINDOW_S,
    PREFIX_S,
    TRIM_S,
    _runs,
    find_standing_window,
    still_mask,
)
from sensor_io.recording import Recording, SensorStream
from simulator.single_test import SimConfig, simulate


def _stream(t: np.ndarray, still: np.ndarray, seed: int) -> SensorStream:
    """Gravity plus noise; a 1.5 Hz swing of ~1 rad/s where not ``still``."""
    rng = np.random.default_rng(seed)
    swing = np.where(still, 0.0, 1.0)[:, None] * np.sin(2 * np.pi * 1.5 * t)[:, None]
    gyr = 0.005 * rng.normal(size=(len(t), 3)) + swing * [1.0, 0.3, 0.0]
    acc = [0.0, 9.81, 0.0] + 0.02 * rng.normal(size=(len(t), 3)) + 2.0 * swing * [1.0, 0.0, 0.5]
    return SensorStream(t, acc, gyr)


def _recording(still_from_s: float, still_to_s: float, duration_s: float = 30.0) -> Recording:
    t = np.arange(0.0, duration_s, 0.01)
    still = (t >= still_from_s) & (t < still_to_s)
    return Recording({"pelvis": _stream(t, still, 1), "thigh_left": _stream(t + 0.003, still, 2)},
                     test_leg="left")


def _full_scan(rec: Recording) -> tuple[float, float] | None:
    """The definition, on the whole recording at once."""
    t_start = max(s.t[0] for s in rec.streams.values())
    t_end = min(s.t[-1] for s in rec.streams.values())
    grid = np.arange(t_start, t_end, 1.0 / GRID_HZ)
    mask = np.ones(len(grid), bool)
    for s in rec.streams.values():
        mask &= still_mask(grid, s.t, s.acc, s.gyr)
    for i0, i1 in _runs(mask):
        t0, t1 = grid[i0] + TRIM_S, grid[i1 - 1] - TRIM_S
        if t1 - t0 >= MIN_WINDOW_S:
            return t0, t1
    return None


def _assert_settled_part_of(win, run: tuple[float, float]) -> None:
    """The window is the run with its ends cut back where the sensors start to move more
    than in its middle: inside it, and most of it."""
    assert run[0] <= win.t0 < win.t1 <= run[1]
    assert win.duration_s >= 0.8 * (run[1] - run[0])


@pytest.mark.parametrize(("still_from_s", "still_to_s"), [
    (0.0, 3.0),                       # the usual: standing at the start
    (PREFIX_S - 3.0, PREFIX_S + 2.0),  # a still stretch across the first look's end
    (PREFIX_S + 3.0, PREFIX_S + 6.0),  # standing only after a first 13 s of movement
    (0.0, 30.0),                      # still throughout
])
def test_window_is_the_first_still_stretch_found_by_scanning_everything(still_from_s, still_to_s):
    rec = _recording(still_from_s, still_to_s)
    win = find_standing_window(rec)
    expected = _full_scan(rec)
    assert expected is not None and win is not None
    _assert_settled_part_of(win, expected)
    assert still_from_s <= win.t0 and win.t1 <= still_to_s


def test_no_window_when_never_still():
    assert find_standing_window(_recording(0.0, 0.0)) is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_simulated_tests_get_the_window_of_the_full_scan(seed):
    rec = simulate(SimConfig(seed=seed, n_reps=4)).recording
    win = find_standing_window(rec)
    assert win is not None
    _assert_settled_part_of(win, _full_scan(rec))


def _swaying(t: np.ndarray, rate_dps: float, seed: int) -> SensorStream:
    """Standing on one leg: gravity, a 0.8 Hz sway of rms ``rate_dps`` on two axes and the
    ~0.2 m/s² of acceleration it brings, plus sensor noise."""
    rng = np.random.default_rng(seed)
    w = np.radians(rate_dps) * np.sqrt(2) * np.sin(2 * np.pi * 0.8 * t + rng.uniform(0, 6))
    gyr = np.column_stack([w, 0.5 * w, 0 * w]) + 0.003 * rng.normal(size=(len(t), 3))
    acc = [0.0, 9.81, 0.0] + 0.2 * np.column_stack([0 * w, 0 * w, w / w.std()]) \
        + 0.02 * rng.normal(size=(len(t), 3))
    return SensorStream(t, acc, gyr)


def test_single_leg_sway_is_used_with_a_quality_flag_not_refused():
    t = np.arange(0.0, 6.0, 0.01)
    rec = Recording({"pelvis": _swaying(t, 3.5, 1), "thigh_left": _swaying(t, 3.0, 2)},
                    test_leg="left")
    win = find_standing_window(rec)
    assert win is not None and win.duration_s > 5.0
    assert win.quality == "sway"
    assert 1.7 < np.degrees(win.gyr_std_rad_s) < 3.5
    assert "standing with sway" in win.describe()


def test_a_short_standing_is_used_as_short_and_none_is_described():
    short = find_standing_window(_recording(0.0, 1.8, duration_s=12.0))
    assert short is not None and short.quality == "short"
    assert 1.0 <= short.duration_s < MIN_WINDOW_S
    never = _recording(0.0, 0.0, duration_s=12.0)
    assert find_standing_window(never) is None
    from calibration.standing import describe_no_window
    assert describe_no_window(never).startswith("the sensors never stopped moving")
    brief = _recording(3.0, 3.8, duration_s=12.0)
    assert find_standing_window(brief) is None
    # the 0.8 s of rest, less the edges the moving window sees moving
    assert re.search(r"longest still stretch is 0\.[3-8] s, at 3\.[0-3] s", describe_no_window(brief))


def test_no_valid_simulated_test_is_refused_and_swaying_ones_say_so():
    from analysis.pipeline import analyze
    from simulator.single_test import simulate_batch

    qualities = []
    for sim in simulate_batch(8, seed=77, n_reps=2):
        doc = analyze(sim.recording, classify=False).to_json()
        qualities.append(doc["calibration"]["quality"])
        if doc["calibration"]["quality"] != "still":
            assert any(w.startswith("calibration: ") for w in doc["warnings"])
    assert "sway" in qualities


def test_only_standing_is_refused_with_what_was_found():
    from calibration import CalibrationError, calibrate

    with pytest.raises(CalibrationError, match="only standing, no reps"):
        calibrate(_recording(0.0, 30.0))
