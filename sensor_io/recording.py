"""The in-memory recording: per-sensor sample arrays plus metadata.

Units are SI throughout (DESIGN.md): time ``t`` in s on the recording's common
clock, ``acc`` specific force in m/s² (gravity included), ``gyr`` in rad/s,
``mag`` in µT, all in the *sensor* frame.  Reading and writing files lives in
:mod:`sensor_io.recording_io`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sensor_io.errors import InputError

PLACEMENTS: tuple[str, ...] = (
    "pelvis", "thigh_left", "thigh_right", "shank_left", "shank_right",
    "trunk", "wrist_left", "wrist_right",
)
LEGS: tuple[str, ...] = ("left", "right")
FORMAT_NAME = "stepdown-recording"
FORMAT_VERSION = 1
CALIBRATION_MOVEMENT_KEY = "calibration_movement"
"""Metadata key of the guided calibration movement: ``{"kind": KNEE_BENDS, "window_s":
[t0, t1]}``, the time span (s, common clock) in which the athlete was asked to do it."""
KNEE_BENDS = "knee bends on both feet"


@dataclass
class SensorStream:
    """Samples of one sensor.

    t: (N,) s, strictly increasing, common clock.
    acc: (N, 3) m/s², specific force in the sensor frame.
    gyr: (N, 3) rad/s, sensor frame.
    mag: (N, 3) µT in the sensor frame, or None.
    acc, gyr, mag are float64, or float32 when read ``compact`` for analysis
    (:func:`sensor_io.recording_io.read_recording`); t is always float64.
    quat: (N, 4) [w x y z] the device's own orientation output q_global_sensor (z up),
    or None; kept in memory only (vendor imports), not part of the recording format.
    """

    t: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    mag: np.ndarray | None = None
    quat: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.t)

    @property
    def rate_hz(self) -> float:
        """Median sampling rate in Hz (robust to gaps)."""
        if len(self.t) < 2:
            return float("nan")
        return float(1.0 / np.median(np.diff(self.t)))

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0]) if len(self.t) else 0.0

    def gaps(self, factor: float = 2.5) -> np.ndarray:
        """Durations (s) of the gaps: sample intervals longer than ``factor`` × the median.

        Returns (G,) float64, in time order; empty when there is no gap.
        """
        if len(self.t) < 2:
            return np.zeros(0)
        dt = np.diff(self.t)
        return dt[dt > factor * np.median(dt)]

    def slice_time(self, t0: float, t1: float) -> SensorStream:
        """Samples with t0 <= t < t1 (s)."""
        m = (self.t >= t0) & (self.t < t1)
        return SensorStream(self.t[m], self.acc[m], self.gyr[m],
                            None if self.mag is None else self.mag[m],
                            None if self.quat is None else self.quat[m])


@dataclass
class Athlete:
    """Body dimensions in m; None where unknown (filled from height later)."""

    id: str | None = None
    height_m: float | None = None
    thigh_length_m: float | None = None
    shank_length_m: float | None = None
    foot_medial_offset_m: float | None = None


@dataclass
class Recording:
    """One lateral step-down test: streams keyed by placement, plus metadata.

    ``sensors_meta`` maps placement -> free-form dict (model, rate_hz, ...).
    ``pain_nrs`` is a list of 0-10 per rep, one number for the whole test, or None.
    ``extra`` keeps unknown metadata keys so a round trip loses nothing.
    """

    streams: dict[str, SensorStream]
    test_leg: str
    step_height_m: float | None = None
    athlete: Athlete = field(default_factory=Athlete)
    sensors_meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    pain_nrs: list[float] | float | None = None
    started_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def placements(self) -> list[str]:
        """Placements present, in the canonical order of PLACEMENTS."""
        return [p for p in PLACEMENTS if p in self.streams]

    @property
    def swing_leg(self) -> str:
        return "right" if self.test_leg == "left" else "left"

    def stream(self, segment: str) -> SensorStream | None:
        """Stream for a segment name ('pelvis', 'thigh', 'shank', 'trunk', 'wrist').

        Leg segments ('thigh', 'shank') refer to the test leg; 'wrist' takes
        either wrist, test side first.
        """
        if segment in ("thigh", "shank"):
            return self.streams.get(f"{segment}_{self.test_leg}")
        if segment == "wrist":
            return (self.streams.get(f"wrist_{self.test_leg}")
                    or self.streams.get(f"wrist_{self.swing_leg}"))
        return self.streams.get(segment)

    @property
    def duration_s(self) -> float:
        if not self.streams:
            return 0.0
        t0 = min(s.t[0] for s in self.streams.values() if len(s))
        t1 = max(s.t[-1] for s in self.streams.values() if len(s))
        return float(t1 - t0)


def pain_per_rep(pain_nrs: list[float] | float | None, n_reps: int) -> list[float | None]:
    """Pain NRS (0-10) for each of ``n_reps`` reps.

    One number applies to every rep; a list must have exactly one value per rep;
    None gives None per rep (not reported).
    """
    if pain_nrs is None:
        return [None] * n_reps
    if not isinstance(pain_nrs, list):
        return [float(pain_nrs)] * n_reps
    if len(pain_nrs) != n_reps:
        raise InputError(f"pain_nrs has {len(pain_nrs)} values but the test has {n_reps} reps")
    return [float(p) for p in pain_nrs]


def calibration_movement_window(rec: Recording) -> tuple[float, float] | None:
    """[t0, t1] (s) of the guided calibration movement the recording's metadata names
    (:data:`CALIBRATION_MOVEMENT_KEY`), None when it has none; InputError (one line)
    when the entry is malformed or of a kind this version does not know."""
    entry = rec.extra.get(CALIBRATION_MOVEMENT_KEY)
    if entry is None:
        return None
    window = entry.get("window_s") if isinstance(entry, dict) else None
    kind = entry.get("kind") if isinstance(entry, dict) else None
    try:
        t0, t1 = (float(v) for v in window)
    except (TypeError, ValueError):
        raise InputError(f"metadata {CALIBRATION_MOVEMENT_KEY}: expected "
                         '{"kind": ..., "window_s": [t0, t1]}, got ' f"{entry!r:.80}") from None
    if kind != KNEE_BENDS:
        raise InputError(f"metadata {CALIBRATION_MOVEMENT_KEY}: unknown kind {kind!r}; "
                         f"this version knows {KNEE_BENDS!r}")
    if not (np.isfinite(t0) and np.isfinite(t1) and t0 < t1):
        raise InputError(f"metadata {CALIBRATION_MOVEMENT_KEY}: window_s [{t0}, {t1}] is not "
                         "an increasing pair of times in s")
    return t0, t1
