"""Peaks of a 1-D signal and Savitzky-Golay weights, without importing scipy.signal.

Rep segmentation needs ``scipy.signal.find_peaks`` (height, prominence and distance) and
``savgol_coeffs``; importing scipy.signal costs more than the whole analysis of a 30 s
test (issue 22). These follow scipy's definitions and give its results
(tests/test_analysis/test_filters.py compares them): a peak is a sample above both neighbours, the
middle one (rounded down) of a flat top; peaks below ``height`` go first, then, highest
first, every peak closer than ``distance`` samples to a kept higher one, then those whose
prominence (height above the higher of the lowest points on each side before a higher
sample or the signal's end) is below ``prominence``.
"""

from __future__ import annotations

import math

import numpy as np


def find_peaks(x: np.ndarray, height: float, prominence: float, distance: float) -> np.ndarray:
    """Indices (ascending) of the peaks of x (N,) (see module docstring)."""
    peaks = _local_maxima(x)
    peaks = peaks[x[peaks] >= height]
    peaks = peaks[_far_enough(peaks, x[peaks], math.ceil(distance))]
    return peaks[_prominences(x, peaks) >= prominence]


def _local_maxima(x: np.ndarray) -> np.ndarray:
    """Samples above both neighbours; of a flat top, its middle sample (rounded down)."""
    slope = np.sign(np.diff(x))
    moving = np.flatnonzero(slope)  # a flat top is the run of zero slopes between + and -
    s = slope[moving]
    k = np.flatnonzero((s[:-1] > 0) & (s[1:] < 0))
    return (moving[k] + 1 + moving[k + 1]) // 2


def _far_enough(peaks: np.ndarray, heights: np.ndarray, distance: int) -> np.ndarray:
    """(P,) bool: the peaks kept when, highest first, each removes the lower ones closer
    than ``distance`` samples (scipy's order, ties included)."""
    keep = np.ones(len(peaks), dtype=bool)
    if distance <= 1:
        return keep
    for j in np.argsort(heights)[::-1]:
        if not keep[j]:
            continue
        lo = np.searchsorted(peaks, peaks[j] - distance, side="right")
        hi = np.searchsorted(peaks, peaks[j] + distance, side="left")
        keep[lo:hi] = False
        keep[j] = True
    return keep


def _prominences(x: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """(P,) prominence of each peak: its height above the higher of its two bases, the
    lowest sample on each side before a higher one (or the signal's end)."""
    out = np.empty(len(peaks))
    for i, p in enumerate(peaks):
        higher_left = np.flatnonzero(x[:p] > x[p])
        higher_right = np.flatnonzero(x[p + 1:] > x[p])
        lo = higher_left[-1] + 1 if len(higher_left) else 0
        hi = p + 1 + higher_right[0] if len(higher_right) else len(x)
        out[i] = x[p] - max(x[lo:p + 1].min(), x[p:hi].min())
    return out


def savgol_coeffs(window: int, polyorder: int, pos: int | None = None,
                  use: str = "conv") -> np.ndarray:
    """``scipy.signal.savgol_coeffs(window, polyorder, pos=pos, use=use)`` (smoothing, no
    derivative): (window,) weights that evaluate at sample ``pos`` (default the middle) the
    least-squares polynomial of degree ``polyorder`` through a window of samples; "conv"
    gives them reversed, for convolution."""
    pos = window // 2 if pos is None else pos
    x = np.arange(-pos, window - pos, dtype=float)
    if use == "conv":
        x = x[::-1]
    design = x ** np.arange(polyorder + 1).reshape(-1, 1)
    target = np.zeros(polyorder + 1)
    target[0] = 1.0
    return np.linalg.lstsq(design, target, rcond=None)[0]
