"""Rep segmentation: start, bottom and end of each dip of the depth signal."""

from __future__ import annotations

import numpy as np

from analysis.rep_segmentation import RepSegmenter


def test_segmenter_finds_each_dip_and_its_bottom():
    t = np.arange(0.0, 20.0, 0.01)
    bottoms = [4.0, 9.0, 14.0]
    depth = sum(np.radians(40.0) * np.exp(-0.5 * ((t - b) / 0.5) ** 2) for b in bottoms)
    seg = RepSegmenter().segment(depth, t)
    assert seg.reps_.dtype.names == ("start_s", "bottom_s", "end_s", "depth_deg")
    assert np.allclose(seg.reps_.bottom_s, bottoms, atol=0.02)
    assert (seg.reps_.start_s < seg.reps_.bottom_s).all()
    assert (seg.reps_.bottom_s < seg.reps_.end_s).all()
    assert len(seg.partial_) == 0
