"""The quiet standing window: the first common still stretch, wherever it lies."""

from __future__ import annotations

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
from sensor_io.simulator import SimConfig, simulate


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
    assert (win.t0, win.t1) == expected
    assert still_from_s <= win.t0 and win.t1 <= still_to_s


def test_no_window_when_never_still():
    assert find_standing_window(_recording(0.0, 0.0)) is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_simulated_tests_get_the_window_of_the_full_scan(seed):
    rec = simulate(SimConfig(seed=seed, n_reps=4)).recording
    win = find_standing_window(rec)
    assert win is not None and (win.t0, win.t1) == _full_scan(rec)
