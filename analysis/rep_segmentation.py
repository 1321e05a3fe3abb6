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

import numpy as np
from scipy.signal import find_peaks, savgol_filter

from analysis.config import SegmentationConfig

COLUMNS = ("start_s", "bottom_s", "end_s", "depth_deg")
"""The fields of ``RepSegmenter.reps_`` and ``partial_``: s, s, s, deg."""
REP_TABLE = np.dtype([(c, np.float64) for c in COLUMNS])
"""One row per rep: a numpy record array, ``reps_.bottom_s`` a column (no pandas, which
costs a third of a second to import, on the path of every analysis)."""


def _table(rows: np.ndarray) -> np.recarray:
    """(K, 4) float rows as a record array of REP_TABLE."""
    return np.rec.fromarrays(rows.T.reshape(len(COLUMNS), -1), dtype=REP_TABLE)


@dataclass
class RepSegmenter:
    """Find reps in a depth signal (see module docstring); the settings are
    :class:`analysis.config.SegmentationConfig`'s."""

    min_depth_deg: float = SegmentationConfig.min_depth_deg
    """A rep is a peak of the depth deeper than this, degrees."""
    partial_ratio: float = SegmentationConfig.partial_ratio
    """Peaks shallower than this share of the median rep depth are partial reps."""
    edge_ratio: float = SegmentationConfig.edge_ratio
    """A rep starts and ends where the depth crosses this share of its own depth."""
    min_rep_s: float = SegmentationConfig.min_rep_s
    """Shortest time between two rep bottoms, s."""
    smooth_s: float = SegmentationConfig.smooth_s
    """Length of the Savitzky-Golay smoothing window, s."""
    reps_: np.recarray = field(init=False, repr=False)
    """The reps found (record array of REP_TABLE: start_s, bottom_s, end_s in s,
    depth_deg), set by :meth:`segment`."""
    partial_: np.recarray = field(init=False, repr=False)
    """The partial reps, same fields, set by :meth:`segment`."""

    def segment(self, depth_rad: np.ndarray, t: np.ndarray) -> RepSegmenter:
        """Find the reps and partial reps.

        Parameters
        ----------
        depth_rad : numpy.ndarray
            (N,) thigh inclination from vertical relative to standing, rad.
        t : numpy.ndarray
            (N,) sample times, s, uniformly spaced.

        Returns
        -------
        RepSegmenter
            This segmenter, with ``reps_`` and ``partial_`` set.
        """
        dt = float(np.median(np.diff(t)))
        d = np.degrees(depth_rad)
        win = max(5, int(round(self.smooth_s / dt)) | 1)
        if len(d) > win:
            d = savgol_filter(d, win, 2)
        peaks, props = find_peaks(d, height=self.min_depth_deg, prominence=self.min_depth_deg * 0.6,
                                  distance=max(1, int(self.min_rep_s / dt)))
        if len(peaks) == 0:
            self.reps_ = self.partial_ = _table(np.zeros((0, len(COLUMNS))))
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
        self.reps_, self.partial_ = _table(table[full]), _table(table[~full])
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
