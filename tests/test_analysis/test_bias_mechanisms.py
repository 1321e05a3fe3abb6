"""What the pelvic drop's error is made of, on development tests (docs/accuracy.md, "Small
biases on small batches"; ``make bench`` bias_mechanisms prints it on 100 tests).

The pelvis's frame comes from gravity and the sacral sensor's skin normal; a strap tilted
sideways turns its lateral axis forward by psi, and the pelvis's anterior tilt then reads
as obliquity.  That is the pelvic drop's per-rep error, almost whole: if another error
source appears (the orientation filter, the standing window, peak picking), this fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.bench_bias_mechanisms import collect, pelvic_drop_parts
from simulator.single_test import simulate_batch

pytestmark = pytest.mark.slow

DEVELOPMENT_SEED = 911  # neither a training seed nor a held-out batch (tests/conftest.py)


@pytest.fixture(scope="module")
def drop_rows():
    return collect(simulate_batch(12, seed=DEVELOPMENT_SEED, sensor_sets=(("pelvis", "thigh"),)),
                   pelvic_drop_parts)


def test_the_pelvis_frames_part_is_its_heading_error_times_the_anterior_tilt(drop_rows):
    r = np.corrcoef(drop_rows.frame, drop_rows.predicted)[0, 1]
    slope = np.polyfit(drop_rows.predicted, drop_rows.frame, 1)[0]
    assert r > 0.99 and 0.95 < slope < 1.05, (r, slope)


def test_the_pelvis_frame_carries_the_pelvic_drop_error(drop_rows):
    assert len(drop_rows) >= 40
    rest = drop_rows.err - drop_rows.frame
    assert 1.0 - rest.var() / drop_rows.err.var() >= 0.9
    assert abs(rest.mean()) <= 0.1, rest.mean()
