"""Frozen frames: a sensor (or its BLE stack) that hangs and repeats its last frame.

A run of bit-identical consecutive samples is what a still WitMotion legitimately sends
(its on-board filter holds the reading while it lies still), and what a hung sensor sends
mid-movement. Only the first is possible when the repeated frame reads a rotation or a
specific force no still sensor can read: then the repeats are not samples, and
:func:`without_frozen` leaves them out of an analysis's copy of the recording, so the
stretch is a gap (never bridged beyond the analysis's bridge, reps on it "not measured").
Without this, vqf's offline filter takes such a stretch for rest and its gyro reading for
the bias of the whole recording (the pelvic drop of the other reps moved by up to 5.8°
on simulated tests, docs/real_data.md). The recorded file is never changed.

Units: acc m/s², gyr rad/s, sensor frame; times s on the recording's clock. The limits
(:class:`FrozenLimits`, a setting of the analysis) are in °/s and m/s², their sources in
docs/real_data.md ("Frozen frames").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sensor_io.errors import InputError
from sensor_io.recording import Recording, SensorStream
from sensor_io.vendors.common import STANDARD_GRAVITY

MIN_FROZEN_S = 0.1
"""Shortest repeat of one frame that can be a frozen sensor, s: longer than the
hold-last-sample fills of real packet loss (3 repeats, 10.5 ms, in the BROAD trials)."""
MAX_STILL_GYR_DPS = 2.0
"""Largest angular rate, °/s with the standing gyro bias taken off, a frame of a still
sensor reads: its noise (MPU-9250, in WitMotion's WT901: 0.01 °/s/√Hz, 0.1 °/s rms per axis
at 100 Hz; real sensors at rest in BROAD: 0.10-0.19 °/s) keeps one frame's |rate| under
1 °/s even 4 sd out, and the bias may drift about as much after the standing. 91 % of
the simulated pelvis's samples during reps read more (82 % above 3 °/s)."""
MAX_STILL_ACC_MPS2 = 2.0
"""Largest distance of a still sensor's |specific force| from g, m/s²: above a consumer
accelerometer's zero-g offsets seen from any side (±80 mg per axis, MPU-6050) and the
0.5 m/s² of real standing data."""


@dataclass(frozen=True)
class FrozenLimits:
    """When a repeated frame cannot be a still sensor (a setting of the analysis:
    ``AnalysisConfig.frozen``)."""

    min_s: float = MIN_FROZEN_S
    """A frame repeated at least this long (from the frame to its last repeat) is judged, s;
    shorter repeats are kept."""
    gyr_dps: float = MAX_STILL_GYR_DPS
    """Above this |angular rate| (standing bias taken off), °/s, the frame is moving."""
    acc_mps2: float = MAX_STILL_ACC_MPS2
    """Above this distance of |specific force| from g, m/s², the frame is moving."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise InputError(f"frozen: {name} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class FrozenRun:
    """One frame a sensor repeated while it cannot have been still."""

    sensor: str
    """The placement."""
    t0: float
    """Time of the frame (its first, real, sample), s."""
    duration_s: float
    """From the frame to its last repeat, s."""
    repeats: slice
    """The stream's rows that repeat the frame (left out of the analysis)."""
    gyr_dps: float
    """The frame's |angular rate|, °/s, standing bias taken off."""
    acc_mps2: float
    """The frame's |specific force| minus g, m/s²."""

    def warning(self) -> str:
        """The analysis's one-line warning about it.

        Returns
        -------
        str
            E.g. "pelvis sensor repeated one frame for 4.0 s at 12.3 s ...: treated as a gap".
        """
        return (f"{self.sensor} sensor repeated one frame for {self.duration_s:.1f} s at "
                f"{self.t0:.1f} s (reading {self.gyr_dps:.1f} deg/s and |a| - g "
                f"{self.acc_mps2:+.1f} m/s², not a still sensor): treated as a gap")


def frozen_runs(sensor: str, stream: SensorStream, gyr_rest: np.ndarray | None = None,
                limits: FrozenLimits | None = None) -> list[FrozenRun]:
    """The runs of bit-identical consecutive samples that cannot be a still sensor.

    Parameters
    ----------
    sensor : str
        The placement, for the warning.
    stream : SensorStream
        Its samples; acc and gyr are compared (a magnetometer may update more slowly).
    gyr_rest : numpy.ndarray, optional
        (3,) rad/s, sensor frame: the sensor's gyro reading at rest (its standing bias),
        taken off the frame before its rate is judged; default zero.
    limits : FrozenLimits, optional
        Default :class:`FrozenLimits`.

    Returns
    -------
    list of FrozenRun
        In time order; empty when every repeated frame could be a still sensor.
    """
    limits = limits or FrozenLimits()
    if len(stream) < 3:
        return []
    acc, gyr, t = stream.acc, stream.gyr, stream.t
    same = np.all(acc[1:] == acc[:-1], axis=1) & np.all(gyr[1:] == gyr[:-1], axis=1)
    edges = np.diff(np.concatenate([[0], same.view(np.int8), [0]]))
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # frame, last repeat
    long = t[last] - t[first] >= limits.min_s
    first, last = first[long], last[long]
    rest = np.zeros(3) if gyr_rest is None else np.asarray(gyr_rest, dtype=np.float64)
    rate_dps = np.degrees(np.linalg.norm(gyr[first].astype(np.float64) - rest, axis=1))
    off_g = np.linalg.norm(acc[first].astype(np.float64), axis=1) - STANDARD_GRAVITY
    moving = (rate_dps > limits.gyr_dps) | (np.abs(off_g) > limits.acc_mps2)
    return [FrozenRun(sensor, float(t[i]), float(t[j] - t[i]), slice(int(i) + 1, int(j) + 1),
                      float(w), float(a))
            for i, j, w, a, m in zip(first, last, rate_dps, off_g, moving, strict=True) if m]


def without_frozen(rec: Recording, gyr_rest: dict[str, np.ndarray] | None = None,
                   limits: FrozenLimits | None = None) -> tuple[Recording, list[FrozenRun]]:
    """A copy of the recording for analysis with every frozen frame's repeats left out.

    The repeats' times become a gap of the sensor; the frame itself (its first sample) is
    kept. Streams without frozen frames are shared, not copied; ``rec`` is not changed.

    Parameters
    ----------
    rec : Recording
        The recording.
    gyr_rest : dict of str to numpy.ndarray, optional
        Placement -> (3,) gyro reading at rest, rad/s (the standing biases).
    limits : FrozenLimits, optional
        Default :class:`FrozenLimits`.

    Returns
    -------
    tuple of (Recording, list of FrozenRun)
        The copy (``rec`` itself when nothing was frozen) and the runs left out, by sensor
        and time.
    """
    found: list[FrozenRun] = []
    streams = dict(rec.streams)
    for placement, s in rec.streams.items():
        runs = frozen_runs(placement, s, (gyr_rest or {}).get(placement), limits)
        if not runs:
            continue
        keep = np.ones(len(s), dtype=bool)
        for r in runs:
            keep[r.repeats] = False
        streams[placement] = SensorStream(
            s.t[keep], s.acc[keep], s.gyr[keep], None if s.mag is None else s.mag[keep],
            None if s.quat is None else s.quat[keep])
        found += runs
    return (replace(rec, streams=streams) if found else rec), found


def frozen_during(runs: list[FrozenRun], start_s: float, end_s: float) -> list[str]:
    """The sensors whose frozen runs overlap a span.

    Parameters
    ----------
    runs : list of FrozenRun
        The runs :func:`without_frozen` found.
    start_s : float
        Start of the span, s.
    end_s : float
        Its end, s.

    Returns
    -------
    list of str
        Their placements, sorted.
    """
    return sorted({r.sensor for r in runs if r.t0 < end_s and r.t0 + r.duration_s > start_s})
