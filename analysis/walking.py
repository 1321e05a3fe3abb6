"""Walking between the sets of a session, told apart from step-down reps.

A session is sets of step-downs with rests and walks between them (issue 22). Walking
swings each thigh forward and back once a stride: the test thigh's sagittal pitch (the
elevation of its anterior x axis above horizontal, relative to standing) alternates
between flexion (knee in front of the hip, above FLEXION_DEG) and extension (knee behind
it, below -EXTENSION_DEG). In a step-down set the test leg is the stance leg: its thigh
flexes as the body lowers and comes back to upright, never swings behind it. Swings of the
same sign less than MERGE_S apart are one swing (a threshold crossed twice by noise).

A walking bout is a run of at least MIN_SWINGS swings of alternating sign, each beginning
within MAX_PAUSE_S of the previous one's end; it reaches back and on to where the thigh was
last near upright (within NEAR_DEG), so the first step off the step and the last onto it
belong to it. Reps are segmented only outside walking bouts, inside the sets.
"""

from __future__ import annotations

import numpy as np

from analysis import quat

FLEXION_DEG = 8.0
EXTENSION_DEG = 4.0
NEAR_DEG = 2.0
MIN_SWINGS = 4
MAX_PAUSE_S = 1.0
MERGE_S = 0.3


def thigh_pitch_rad(q_facing_thigh: np.ndarray) -> np.ndarray:
    """The thigh's pitch: elevation of its anterior (x) axis above horizontal.

    Heading-free: needs no heading correction.

    Parameters
    ----------
    q_facing_thigh : numpy.ndarray
        (N, 4) thigh orientation in the facing frame, [w, x, y, z].

    Returns
    -------
    numpy.ndarray
        (N,) rad, > 0 when the knee is in front of the hip (flexion).
    """
    return np.arcsin(np.clip(quat.axis_component(q_facing_thigh, 0, 2), -1.0, 1.0))


def walking_bouts(t: np.ndarray, pitch_rad: np.ndarray) -> np.ndarray:
    """The walking bouts: alternating thigh swings, widened to near-upright samples.

    Parameters
    ----------
    t : numpy.ndarray
        (N,) sample times, s, ascending.
    pitch_rad : numpy.ndarray
        (N,) the test thigh's pitch relative to standing (:func:`thigh_pitch_rad` minus its
        standing mean), rad.

    Returns
    -------
    numpy.ndarray
        (K, 2) int: [start, stop) sample indices of each bout, in time order.
    """
    deg = np.degrees(pitch_rad)
    sign = np.where(deg > FLEXION_DEG, 1, np.where(deg < -EXTENSION_DEG, -1, 0)).astype(np.int8)
    change = np.flatnonzero(np.diff(sign)) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(sign)]])
    swing = sign[starts] != 0
    starts, stops, s = starts[swing], stops[swing], sign[starts[swing]]
    if len(s) < MIN_SWINGS:
        return np.zeros((0, 2), dtype=np.int64)
    pause = t[starts[1:]] - t[stops[:-1] - 1]
    same = (s[1:] == s[:-1]) & (pause <= MERGE_S)  # one swing, its threshold crossed twice
    first = np.concatenate([[True], ~same])
    last = np.concatenate([~same, [True]])
    starts, stops, s = starts[first], stops[last], s[first]
    pause = t[starts[1:]] - t[stops[:-1] - 1]
    linked = (s[1:] != s[:-1]) & (pause <= MAX_PAUSE_S)
    chain = np.concatenate([[0], np.cumsum(~linked)])  # chain id of every swing
    counts = np.bincount(chain)
    ends = np.cumsum(counts)
    walk = counts >= MIN_SWINGS
    bouts = np.column_stack([starts[ends[walk] - counts[walk]], stops[ends[walk] - 1]])
    return _to_near_upright(bouts, np.abs(deg) < NEAR_DEG)


def _to_near_upright(bouts: np.ndarray, near: np.ndarray) -> np.ndarray:
    """Each bout widened back to the last near-upright sample before it and on to the first
    after it (the recording's ends when there is none); overlapping bouts merged."""
    idx = np.flatnonzero(near)
    if len(bouts) == 0:
        return bouts
    if len(idx) == 0:
        return np.array([[0, len(near)]])
    before = np.searchsorted(idx, bouts[:, 0]) - 1
    after = np.searchsorted(idx, bouts[:, 1])
    lo = np.where(before >= 0, idx[np.maximum(before, 0)] + 1, 0)
    hi = np.where(after < len(idx), idx[np.minimum(after, len(idx) - 1)], len(near))
    merged = [[int(lo[0]), int(hi[0])]]
    for a, b in zip(lo[1:], hi[1:], strict=True):
        if a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], int(b))
        else:
            merged.append([int(a), int(b)])
    return np.array(merged, dtype=np.int64)


def outside_bouts(piece: slice, bouts: np.ndarray, n: int) -> list[slice]:
    """The parts of a piece outside every walking bout.

    Parameters
    ----------
    piece : slice
        A slice of a length-``n`` series.
    bouts : numpy.ndarray
        (K, 2) [start, stop) sample indices of the bouts, in time order.
    n : int
        Length of the series.

    Returns
    -------
    list of slice
        The parts of ``piece`` outside every bout, in order.
    """
    a, b, _ = piece.indices(n)
    out = []
    for lo, hi in bouts:
        if hi <= a or lo >= b:
            continue
        if lo > a:
            out.append(slice(a, int(lo)))
        a = max(a, int(hi))
    if b > a:
        out.append(slice(a, b))
    return out
