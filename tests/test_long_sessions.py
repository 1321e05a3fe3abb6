"""Long sessions: what thins or windows data keeps what its reference needs (issue 22)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from analysis import quat
from analysis.measures import MIN_REFERENCE_SAMPLES, _standing_sample, _wrist_motion_rad

RATE_HZ = 100.0


def _wrist_session(minutes: float, standing_s: tuple[float, float], turn_deg: float,
                   lifts: list[tuple[float, float]]):
    """A reference sensor turning and tilting slowly for ``minutes`` and a wrist rigidly on it,
    its heading frame off by ``turn_deg`` about the vertical, except during ``lifts``
    ((start s, end s): the hand rotated 40° about the forearm). Returns (motion, ref_q,
    wrist_q, truth_rad)."""
    t = np.arange(0.0, minutes * 60.0, 1.0 / RATE_HZ)
    heading = 0.6 * np.sin(2 * np.pi * t / 97.0) + 0.002 * t
    tilt = 0.2 * np.sin(2 * np.pi * t / 13.0)
    ref_q = quat.qmul(quat.about_z(heading), quat.from_rotvec(np.column_stack(
        [tilt, np.zeros_like(t), np.zeros_like(t)])))
    truth = np.zeros_like(t)
    for t0, t1 in lifts:
        truth[(t >= t0) & (t < t1)] = np.radians(40.0)
    hand = quat.from_rotvec(np.column_stack([np.zeros_like(t), truth, np.zeros_like(t)]))
    mount = quat.from_rotvec(np.array([0.3, -0.2, 1.1]))
    wrist_q = quat.qmul(quat.about_z(-np.radians(turn_deg)), quat.qmul(ref_q, quat.qmul(mount, hand)))
    motion = SimpleNamespace(t=t, standing=(t >= standing_s[0]) & (t < standing_s[1]))
    return motion, ref_q, wrist_q, truth


def test_wrist_motion_of_a_40_min_session_keeps_its_standing_reference():
    """40 min at 100 Hz, standing from 0.4 to 3.1 s: thinning to ~600 samples (every 400th)
    kept none of it, and the reference mean raised (ValueError: mean of an empty rotation
    set), a traceback from `stepdown analyze`."""
    lifts = [(600.0, 606.0), (1800.0, 1803.0), (2300.0, 2310.0)]
    motion, ref_q, wrist_q, truth = _wrist_session(40.0, (0.4, 3.1), 57.0, lifts)
    step = len(motion.t) // 600
    assert motion.standing[::step].sum() == 0  # the case that crashed
    got = _wrist_motion_rad(motion, ref_q, wrist_q)
    assert got.shape == truth.shape
    assert np.max(np.abs(got - truth)) < np.radians(0.3)


def test_standing_reference_is_the_thinned_samples_when_they_are_enough():
    """A short test keeps its reference (the same samples as before the fix, same numbers)."""
    standing = np.zeros(3000, bool)
    standing[20:330] = True
    idx = np.arange(0, 3000, 5)
    np.testing.assert_array_equal(_standing_sample(idx, standing), idx[standing[idx]])


def test_standing_reference_of_a_long_session_thins_the_standing_window_on_its_own():
    standing = np.zeros(240_000, bool)
    standing[31:311] = True
    idx = np.arange(0, 240_000, 400)
    ref = _standing_sample(idx, standing)
    assert len(idx[standing[idx]]) == 0
    assert MIN_REFERENCE_SAMPLES <= len(ref) <= 2 * MIN_REFERENCE_SAMPLES
    assert standing[ref].all() and ref[0] == 31
