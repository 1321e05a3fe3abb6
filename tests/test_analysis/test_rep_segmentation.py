"""Rep segmentation helpers: the smoothing is scipy's Savitzky-Golay filter, edges included."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import savgol_filter

from analysis.rep_segmentation import RepSegmenter, savgol_smooth


@pytest.mark.parametrize(("n", "window", "order"), [(3300, 15, 2), (16, 15, 2), (200, 5, 2),
                                                    (500, 31, 3)])
def test_savgol_smooth_is_savgol_filter_with_its_interp_edges(n, window, order):
    x = np.cumsum(np.random.default_rng(n).normal(size=n))
    expected = savgol_filter(x, window, order)
    got = savgol_smooth(x, window, order)
    assert np.allclose(got, expected, rtol=0, atol=1e-10 * np.abs(x).max())
    # the edges are the polynomial fits, not zero-padded convolution
    assert np.allclose(got[:window // 2], expected[:window // 2], rtol=0, atol=1e-9)
    assert np.allclose(got[-(window // 2):], expected[-(window // 2):], rtol=0, atol=1e-9)


def test_segmenter_finds_each_dip_and_its_bottom():
    t = np.arange(0.0, 20.0, 0.01)
    bottoms = [4.0, 9.0, 14.0]
    depth = sum(np.radians(40.0) * np.exp(-0.5 * ((t - b) / 0.5) ** 2) for b in bottoms)
    seg = RepSegmenter().segment(depth, t)
    assert list(seg.reps_.columns) == ["start_s", "bottom_s", "end_s", "depth_deg"]
    assert np.allclose(seg.reps_.bottom_s, bottoms, atol=0.02)
    assert (seg.reps_.start_s < seg.reps_.bottom_s).all()
    assert (seg.reps_.bottom_s < seg.reps_.end_s).all()
    assert seg.partial_.empty
