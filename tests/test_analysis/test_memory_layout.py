"""Compact memory layouts change no figure (issue 22): a recording read ``compact`` (float32
samples), own-rate orientations that keep no resampled signals, float32 grid signals.

The JSON of an analysis is compared whole: the compact layouts must leave every printed
number as it was.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.orientation import piecewise_orientation
from analysis.pipeline import analyze
from analysis.segment_motion import SensorOrientation
from sensor_io.recording import SensorStream
from sensor_io.recording_io import COMPACT_DTYPE, read_recording, write_recording

DATA = Path(__file__).resolve().parents[2] / "data"
SAMPLE = DATA / "medium_left_full_set.parquet"  # five sensors, the richest sample


@pytest.fixture(scope="module")
def full_and_compact():
    return read_recording(SAMPLE), read_recording(SAMPLE, compact=True)


def test_compact_read_keeps_time_exact_and_rounds_only_the_samples(full_and_compact):
    full, compact = full_and_compact
    assert list(compact.streams) == list(full.streams)
    for name, s in compact.streams.items():
        f = full.streams[name]
        assert s.t.dtype == np.float64 and np.array_equal(s.t, f.t)
        assert s.acc.dtype == s.gyr.dtype == COMPACT_DTYPE
        assert np.array_equal(s.acc, f.acc.astype(COMPACT_DTYPE))
        assert np.array_equal(s.gyr, f.gyr.astype(COMPACT_DTYPE))
        assert s.acc.flags.c_contiguous and s.gyr.flags.c_contiguous


def test_compact_read_of_the_csv_twin_is_the_parquet_one(tmp_path, full_and_compact):
    full, compact = full_and_compact
    write_recording(full, tmp_path / "twin.csv")
    twin = read_recording(tmp_path / "twin.csv", compact=True)
    for name, s in twin.streams.items():
        assert s.acc.dtype == COMPACT_DTYPE
        assert np.array_equal(s.acc, compact.streams[name].acc)
        assert np.array_equal(s.gyr, compact.streams[name].gyr)


def test_analysis_of_a_compact_recording_prints_the_same_json(full_and_compact):
    full, compact = full_and_compact
    assert analyze(compact).to_json() == analyze(full).to_json()


def _stream_in_pieces() -> SensorStream:
    """A jittery 200 Hz stream with a 1 s silence (two pieces), swaying about x."""
    rng = np.random.default_rng(5)
    t = np.cumsum(rng.uniform(0.004, 0.006, 1200))
    t[600:] += 1.0
    angle = 0.3 * np.sin(2 * np.pi * t)
    acc = np.column_stack([np.zeros_like(t), 9.81 * np.sin(angle), 9.81 * np.cos(angle)])
    gyr = np.column_stack([0.6 * np.pi * np.cos(2 * np.pi * t), rng.normal(0, 0.01, (len(t), 2))])
    return SensorStream(t, acc + rng.normal(0, 0.05, acc.shape), gyr)


def test_signals_made_again_are_those_the_filter_was_fed():
    """SensorOrientation resamples acc and gyr from the stream on demand: bit for bit the
    arrays piecewise_orientation resampled for the filter, in every piece and any slice."""
    s, bias = _stream_in_pieces(), np.array([0.01, -0.02, 0.005])
    kept = piecewise_orientation(s.t, s.gyr - bias, s.acc)
    lean = piecewise_orientation(s.t, s.gyr, s.acc, keep_signals=False, gyr_bias=bias)
    assert lean.acc is None and lean.gyr is None and len(lean.runs) == 2
    assert np.array_equal(lean.quat, kept.quat)
    o = SensorOrientation(lean.t_u, lean.quat, lean.gap, s, bias, lean.runs, lean.spans)
    acc, gyr = o.signals()
    assert np.array_equal(acc, kept.acc) and np.array_equal(gyr, kept.gyr)
    rows = slice(550, 700)  # across the gap between the pieces
    acc, gyr = o.signals(rows)
    assert np.array_equal(acc, kept.acc[rows]) and np.array_equal(gyr, kept.gyr[rows])
    t = np.arange(lean.t_u[0], lean.t_u[-1], 0.01)
    acc_g, gyr_g = o.on_grid(t)
    assert np.array_equal(acc_g[:, 1], np.interp(t, kept.t_u, kept.acc[:, 1]))
    assert np.array_equal(gyr_g[:, 0], np.interp(t, kept.t_u, kept.gyr[:, 0]))


def test_heading_drift_corrected_in_place_is_the_same_correction():
    """consume=True (what the pipeline does, freeing each segment's old arrays at once)
    gives the numbers of the copying correction."""
    from analysis import quat
    from analysis.segment_motion import Motion, SegmentMotion, correct_heading_drift

    t = np.arange(0.0, 60.0, 0.01)
    drift = 0.002 * t  # rad, slow turn about the vertical

    def motion() -> Motion:
        rng = np.random.default_rng(3)
        q = quat.turn_about_z(drift, quat.normalise(np.tile([1.0, 0.05, 0.02, 0.0], (len(t), 1))))
        return Motion(t, {p: SegmentMotion(p, q.copy(),
                                           rng.normal(0, 0.3, (len(t), 3)).astype(np.float32),
                                           np.zeros((len(t), 3), np.float32),
                                           np.zeros(len(t), bool))
                          for p in ("pelvis", "thigh_left", "wrist_left")}, t < 3.0)

    pauses = [np.arange(1000 + 1500 * k, 1400 + 1500 * k) for k in range(3)]
    copied = correct_heading_drift(motion(), pauses)
    m = motion()
    in_place = correct_heading_drift(m, pauses, consume=True)
    assert in_place is m
    for p, seg in copied.segments.items():
        assert np.array_equal(in_place.segments[p].q_facing_seg, seg.q_facing_seg)
        assert np.array_equal(in_place.segments[p].acc_facing, seg.acc_facing)
    # the drift is taken out where the segments stood still
    corrected = quat.axis_of(copied.segments["pelvis"].q_facing_seg[pauses[-1]], 0)
    assert np.abs(np.degrees(np.arctan2(corrected[:, 1], corrected[:, 0]))).max() < 0.5
