"""The in-memory recording: per-sensor sample arrays plus metadata.

Units are SI throughout (DESIGN.md): time ``t`` in s on the recording's common
clock, ``acc`` specific force in m/s² (gravity included), ``gyr`` in rad/s,
``mag`` in µT, all in the *sensor* frame.  Reading and writing files lives in
:mod:`sensor_io.recording_io`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sensor_io.errors import InputError
from sensor_io.json_doc import JSONDoc

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

    acc, gyr, mag are float64, or float32 when read ``compact`` for analysis
    (:func:`sensor_io.recording_io.read_recording`); t is always float64.
    """

    t: np.ndarray
    """Sample times, shape (N,), s, strictly increasing, common clock."""
    acc: np.ndarray
    """Specific force, shape (N, 3), m/s² (gravity included), sensor frame."""
    gyr: np.ndarray
    """Angular rate, shape (N, 3), rad/s, sensor frame."""
    mag: np.ndarray | None = None
    """Magnetic field, shape (N, 3), µT, sensor frame; None when not recorded."""
    quat: np.ndarray | None = None
    """Shape (N, 4) [w x y z], the device's own orientation output q_global_sensor (z up),
    or None; kept in memory only (vendor imports), not part of the recording format."""

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
        """Time from the first to the last sample, s (0 without samples)."""
        return float(self.t[-1] - self.t[0]) if len(self.t) else 0.0

    def gaps(self, factor: float = 2.5) -> np.ndarray:
        """Durations (s) of the gaps: sample intervals longer than ``factor`` × the median.

        Parameters
        ----------
        factor : float
            An interval longer than this many median intervals is a gap.

        Returns
        -------
        numpy.ndarray
            Shape (G,), float64, s, in time order; empty when there is no gap.
        """
        if len(self.t) < 2:
            return np.zeros(0)
        dt = np.diff(self.t)
        return dt[dt > factor * np.median(dt)]

    def slice_time(self, t0: float, t1: float) -> SensorStream:
        """Samples with t0 <= t < t1 (s).

        Parameters
        ----------
        t0 : float
            Start, s (included).
        t1 : float
            End, s (excluded).

        Returns
        -------
        SensorStream
            The samples in the window, all arrays sliced alike.
        """
        m = (self.t >= t0) & (self.t < t1)
        return SensorStream(self.t[m], self.acc[m], self.gyr[m],
                            None if self.mag is None else self.mag[m],
                            None if self.quat is None else self.quat[m])


@dataclass
class Athlete:
    """Body dimensions in m; None where unknown (filled from height later)."""

    id: str | None = None
    """The athlete's identifier (free text)."""
    height_m: float | None = None
    """Body height, m."""
    thigh_length_m: float | None = None
    """Thigh length, m."""
    shank_length_m: float | None = None
    """Shank length, m."""
    foot_medial_offset_m: float | None = None
    """Medial offset of the foot from the ankle, m."""


@dataclass
class Recording:
    """One lateral step-down test: streams keyed by placement, plus metadata."""

    streams: dict[str, SensorStream]
    """The sensors' samples by placement (one of PLACEMENTS)."""
    test_leg: str
    """The standing (tested) leg, "left" or "right"."""
    step_height_m: float | None = None
    """Step height, m; None when not given."""
    athlete: Athlete = field(default_factory=Athlete)
    """The athlete's id and body dimensions, m."""
    sensors_meta: dict[str, JSONDoc] = field(default_factory=dict)
    """Placement -> free-form dict (model, rate_hz, ...)."""
    pain_nrs: list[float] | float | None = None
    """A list of 0-10 per rep, one number for the whole test, or None."""
    started_at: str | None = None
    """When the recording started (ISO 8601 text), or None."""
    extra: JSONDoc = field(default_factory=dict)
    """Unknown metadata keys, kept so a round trip loses nothing."""

    @property
    def placements(self) -> list[str]:
        """Placements present, in the canonical order of PLACEMENTS."""
        return [p for p in PLACEMENTS if p in self.streams]

    @property
    def swing_leg(self) -> str:
        """The other leg, the one lowered toward the floor: "left" or "right"."""
        return "right" if self.test_leg == "left" else "left"

    def stream(self, segment: str) -> SensorStream | None:
        """Stream for a segment name ('pelvis', 'thigh', 'shank', 'trunk', 'wrist').

        Leg segments ('thigh', 'shank') refer to the test leg; 'wrist' takes
        either wrist, test side first.

        Parameters
        ----------
        segment : str
            'pelvis', 'thigh', 'shank', 'trunk' or 'wrist'.

        Returns
        -------
        SensorStream or None
            Its stream, None when that sensor was not worn.
        """
        if segment in ("thigh", "shank"):
            return self.streams.get(f"{segment}_{self.test_leg}")
        if segment == "wrist":
            return (self.streams.get(f"wrist_{self.test_leg}")
                    or self.streams.get(f"wrist_{self.swing_leg}"))
        return self.streams.get(segment)

    @property
    def duration_s(self) -> float:
        """Time from the earliest to the latest sample of all sensors, s."""
        if not self.streams:
            return 0.0
        t0 = min(s.t[0] for s in self.streams.values() if len(s))
        t1 = max(s.t[-1] for s in self.streams.values() if len(s))
        return float(t1 - t0)


def pain_per_rep(pain_nrs: list[float] | float | None, n_reps: int) -> list[float | None]:
    """Pain NRS (0-10) for each of ``n_reps`` reps.

    One number applies to every rep; a list must have exactly one value per rep;
    None gives None per rep (not reported).

    Parameters
    ----------
    pain_nrs : list of float, float or None
        The recording's ``pain_nrs`` (0-10).
    n_reps : int
        The number of reps found.

    Returns
    -------
    list of float or None
        One value (0-10) or None per rep; InputError when a list's length is not ``n_reps``.
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
    when the entry is malformed or of a kind this version does not know.

    Parameters
    ----------
    rec : Recording
        The recording.

    Returns
    -------
    tuple of float or None
        (t0, t1), s on the common clock, t0 < t1; None without the entry.
    """
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
