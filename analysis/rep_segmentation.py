"""Rep segmentation: start, bottom and end of each step-down.

Works on the depth signal (thigh inclination from vertical, relative to
standing, rad).  A rep is a peak of that signal deeper than ``min_depth_deg``
and at least ``partial_ratio`` × the median peak depth (shallower peaks are
partial reps, reported apart); start and end are where the signal crosses
``edge_ratio`` × the rep's own depth above the baseline around it (the same
5 % definition the simulator's truth uses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.ndimage import convolve1d
from scipy.signal import find_peaks, savgol_coeffs

COLUMNS = pd.Index(["start_s", "bottom_s", "end_s", "depth_deg"])
"""The columns of ``RepSegmenter.reps_`` and ``partial_``: s, s, s, deg (an Index, built
once: pandas takes several times longer to build a small frame from a list of names)."""


@dataclass
class RepSegmenter:
    """Find reps in a depth signal (see module docstring).

    Parameters are in degrees and seconds; results land in ``reps_`` (DataFrame:
    start_s, bottom_s, end_s, depth_deg) and ``partial_`` (same columns).
    """

    min_depth_deg: float = 8.0
    partial_ratio: float = 0.5
    edge_ratio: float = 0.05
    min_rep_s: float = 0.8
    smooth_s: float = 0.15
    reps_: pd.DataFrame = field(init=False, repr=False)
    partial_: pd.DataFrame = field(init=False, repr=False)

    def segment(self, depth_rad: np.ndarray, t: np.ndarray) -> RepSegmenter:
        """Segment ``depth_rad`` (N,) rad sampled at times ``t`` (N,) s (uniform)."""
        dt = float(np.median(np.diff(t)))
        d = np.degrees(depth_rad)
        win = max(5, int(round(self.smooth_s / dt)) | 1)
        if len(d) > win:
            d = savgol_smooth(d, win, 2)
        peaks, props = find_peaks(d, height=self.min_depth_deg, prominence=self.min_depth_deg * 0.6,
                                  distance=max(1, int(self.min_rep_s / dt)))
        if len(peaks) == 0:
            self.reps_ = pd.DataFrame(columns=COLUMNS)
            self.partial_ = pd.DataFrame(columns=COLUMNS)
            return self
        heights = d[peaks]
        full = heights >= self.partial_ratio * np.median(heights[heights >= 0.7 * heights.max()])
        rows = []
        bounds = np.concatenate([[0], (peaks[:-1] + peaks[1:]) // 2, [len(d) - 1]])
        for k, p in enumerate(peaks):
            lo, hi = bounds[k], bounds[k + 1]
            # baseline: the lowest level between this and the neighbouring reps
            base_l = np.min(d[lo:p + 1])
            base_r = np.min(d[p:hi + 1])
            depth = d[p] - max(base_l, base_r)
            left = np.flatnonzero(d[lo:p + 1] < base_l + self.edge_ratio * (d[p] - base_l))
            right = np.flatnonzero(d[p:hi + 1] < base_r + self.edge_ratio * (d[p] - base_r))
            i0 = lo + (left[-1] + 1 if len(left) else 0)
            i1 = p + (right[0] - 1 if len(right) else hi - p)
            rows.append((self._cross(t, d, i0 - 1, i0, base_l + self.edge_ratio * (d[p] - base_l)),
                         self._bottom(t, d, p, i0, i1),
                         self._cross(t, d, i1, i1 + 1, base_r + self.edge_ratio * (d[p] - base_r)),
                         depth))
        table = np.array(rows, dtype=np.float64)
        self.reps_ = pd.DataFrame(table[full], columns=COLUMNS)
        self.partial_ = pd.DataFrame(table[~full], columns=COLUMNS)
        return self

    @staticmethod
    def _cross(t: np.ndarray, d: np.ndarray, i: int, j: int, level: float) -> float:
        """Time the signal crosses ``level`` between samples i and j (linear)."""
        i, j = max(i, 0), min(j, len(d) - 1)
        if i == j or d[j] == d[i]:
            return float(t[j])
        f = min(max((level - d[i]) / (d[j] - d[i]), 0.0), 1.0)
        return float(t[i] + f * (t[j] - t[i]))

    @staticmethod
    def _bottom(t: np.ndarray, d: np.ndarray, p: int, i0: int, i1: int) -> float:
        """Middle of the plateau near the peak (within 1 % of the depth)."""
        seg = d[i0:i1 + 1]
        near = np.flatnonzero(seg >= d[p] - 0.01 * (d[p] - seg.min()) - 0.3)
        return float(np.mean(t[i0 + near])) if len(near) else float(t[p])


def savgol_smooth(x: np.ndarray, window: int, polyorder: int) -> np.ndarray:
    """``scipy.signal.savgol_filter(x, window, polyorder)`` (its default mode "interp") for a
    1-D x longer than the window, with the weights designed once per (window, polyorder).

    Inside, the smoothing convolution; in the first and last ``window // 2`` samples, the
    polynomial fitted to the first / last window evaluated there, as savgol_filter does
    (it refits those two polynomials on every call, most of its cost on our short series).
    """
    centre, first = _savgol_weights(window, polyorder)
    y = convolve1d(x, centre, mode="constant")
    half = window // 2
    y[:half] = first @ x[:window]
    y[-half:] = first[::-1, ::-1] @ x[-window:]  # the same fit, mirrored
    return y


@lru_cache(maxsize=8)
def _savgol_weights(window: int, polyorder: int) -> tuple[np.ndarray, np.ndarray]:
    """Savitzky-Golay weights: the centre ones (window,) for convolution, and (window // 2,
    window): row k evaluates the polynomial fitted to a window at its k-th sample."""
    first = np.array([savgol_coeffs(window, polyorder, pos=k, use="dot")
                      for k in range(window // 2)])
    return savgol_coeffs(window, polyorder), first
