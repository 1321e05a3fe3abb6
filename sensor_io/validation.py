"""Checks a recording against the format contract (DESIGN.md) as it is loaded.

Every failure raises one :class:`~sensor_io.errors.RecordingError` whose message
names the file, the sensor and the row where they apply, and says what was
expected.  **Row numbers are 1-based data rows**: row 1 is the first sample row
of the file, not counting the CSV header (so row N is CSV line N + 1, and the
N-th row of a Parquet table or of a DataFrame passed to
:func:`sensor_io.recording_io.recording_from_frame`).  For a Recording built in
memory, the row is the 1-based sample index within that sensor's stream.

The plausibility checks catch the classic unit mistakes at the door:
acceleration in g instead of m/s², angular rate in °/s instead of rad/s, time in
ms instead of s.  Their thresholds are module constants below.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from sensor_io.errors import RecordingError
from sensor_io.exercise import check_exercise
from sensor_io.recording import FORMAT_NAME, FORMAT_VERSION, LEGS, PLACEMENTS
from sensor_io.vectors import row_norms

REQUIRED_COLUMNS: tuple[str, ...] = ("sensor", "t", "ax", "ay", "az", "gx", "gy", "gz")
MAG_COLUMNS: tuple[str, ...] = ("mx", "my", "mz")
NUMERIC_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS[1:] + MAG_COLUMNS

# Median |a| (m/s²) of a worn sensor is close to g; near 1 means the file is in g.
ACC_MEDIAN_RANGE_MPS2 = (5.0, 20.0)
ACC_IN_G_RANGE = (0.5, 2.0)
# The 99th percentile of |ω| of a human segment stays well below this (rad/s);
# vigorous whole-body movement reaches ~15 rad/s at the thigh.
GYR_Q99_MAX_RADPS = 35.0
GYR_QUANTILE = 0.99
# Median sampling interval: above 1 s the time is almost surely in ms.
MAX_MEDIAN_DT_S = 1.0
# No IMU measures beyond these (the widest ranges made: ±400 g, ±4000 °/s, ±5000 µT): a value
# past them is a corrupt file, not a movement. Far above what a file in g or °/s holds, so
# those still get the unit checks' message.
ABS_MAX: dict[str, float] = {"a": 1e5, "g": 1e4, "m": 1e6}
"""Largest plausible |value| of the columns ax.., gx.., mx.. (by their first letter): m/s², rad/s,
µT."""
_UNIT = {"a": "m/s²", "g": "rad/s", "m": "µT"}
RATE_RANGE_HZ = (20.0, 2000.0)
MIN_SAMPLES = 2
STEP_HEIGHT_RANGE_M = (0.05, 0.60)
BODY_HEIGHT_RANGE_M = (0.8, 2.5)
SEGMENT_LENGTH_RANGE_M = (0.1, 1.0)
FOOT_OFFSET_RANGE_M = (0.0, 0.15)
PAIN_RANGE = (0.0, 10.0)
QUALITY_KEYS = ("samples", "gaps", "lost_samples")
"""What a sensor's recorder quality summary (``sensors.<name>.quality``) holds at least."""


# --- names and columns ---------------------------------------------------------


def check_placement(name: Any, *, path: str | None = None, row: int | None = None) -> None:
    """Refuse a sensor name that is not a placement of DESIGN.md, suggesting close ones.

    Parameters
    ----------
    name : Any
        The sensor name as read.
    path : str, optional
        The file, for the message.
    row : int, optional
        The file row, for the message.

    Raises
    ------
    RecordingError
        When ``name`` is not one of PLACEMENTS.
    """
    if isinstance(name, str) and name in PLACEMENTS:
        return
    close = difflib.get_close_matches(str(name), PLACEMENTS, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise RecordingError(
        f"unknown sensor placement {name!r} ({hint}valid: {', '.join(PLACEMENTS)})",
        path=path, sensor=None, row=row,
    )


def check_columns(names: Sequence[str], *, path: str | None = None) -> bool:
    """Check the column set; returns whether the optional mx my mz columns are present.

    Parameters
    ----------
    names : sequence of str
        The column names, in file order.
    path : str, optional
        The file, for the message.

    Returns
    -------
    bool
        Whether the magnetometer columns (mx my mz, µT) are present.

    Raises
    ------
    RecordingError
        On duplicated, missing or unexpected columns, or an incomplete mx my mz set.
    """
    names = list(names)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise RecordingError(f"duplicated column(s): {', '.join(dup)}", path=path)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise RecordingError(
            f"missing required column(s): {', '.join(missing)} "
            f"(expected {', '.join(REQUIRED_COLUMNS)} [, {', '.join(MAG_COLUMNS)}])",
            path=path,
        )
    mag = [c for c in MAG_COLUMNS if c in names]
    if mag and len(mag) != len(MAG_COLUMNS):
        raise RecordingError(
            f"magnetometer columns must come as a set: found {', '.join(mag)}, "
            f"expected {', '.join(MAG_COLUMNS)}", path=path,
        )
    extra = [c for c in names if c not in REQUIRED_COLUMNS + MAG_COLUMNS]
    if extra:
        raise RecordingError(
            f"unexpected column(s): {', '.join(extra)} "
            f"(allowed: {', '.join(REQUIRED_COLUMNS + MAG_COLUMNS)})", path=path,
        )
    return bool(mag)


def check_minimum_set(placements: Iterable[str], test_leg: str, *,
                      path: str | None = None) -> None:
    """The pelvis and the test leg's thigh must both be present.

    Parameters
    ----------
    placements : iterable of str
        The placements present in the recording.
    test_leg : str
        "left" or "right".
    path : str, optional
        The file, for the message.

    Raises
    ------
    RecordingError
        When the pelvis or ``thigh_<test_leg>`` is missing.
    """
    present = set(placements)
    needed = ("pelvis", f"thigh_{test_leg}")
    for p in needed:
        if p not in present:
            have = ", ".join(q for q in PLACEMENTS if q in present) or "none"
            raise RecordingError(
                f"the {p} sensor is missing (minimum set for test_leg {test_leg}: "
                f"{' + '.join(needed)}; present: {have})", path=path,
            )


# --- samples ---------------------------------------------------------------------


def check_stream(
    sensor: str, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
    mag: np.ndarray | None = None, *, rows: np.ndarray | None = None,
    path: str | None = None, ranges: bool = True,
) -> None:
    """Check one sensor's samples, in the order they appear in the file.

    Checks, in order: enough samples, finite values, strictly increasing time,
    then the unit plausibility of time, acceleration and angular rate.

    Parameters
    ----------
    sensor : str
        The placement, for the message.
    t : numpy.ndarray
        Sample times, shape (N,), s.
    acc : numpy.ndarray
        Acceleration, shape (N, 3), m/s², sensor frame.
    gyr : numpy.ndarray
        Angular rate, shape (N, 3), rad/s, sensor frame.
    mag : numpy.ndarray, optional
        Magnetic field, shape (N, 3), µT, sensor frame; None when not recorded.
    rows : numpy.ndarray, optional
        Shape (N,), the 1-based file row of each sample (default 1..N).
    path : str, optional
        The file, for the message.
    ranges : bool
        Check the values against the IMU ranges (:func:`check_range`); False when the
        caller already did (the Parquet reader, column by column).

    Raises
    ------
    RecordingError
        On the first check that fails, naming the sensor and row.
    """
    n = len(t)
    if rows is None:
        rows = np.arange(1, n + 1)
    for name, a in (("acc", acc), ("gyr", gyr), ("mag", mag)):
        if a is not None and np.shape(a) != (n, 3):
            raise RecordingError(f"{name} has shape {np.shape(a)}, expected ({n}, 3)",
                                 path=path, sensor=sensor)
    if n < MIN_SAMPLES:
        raise RecordingError(f"has {n} sample(s); at least {MIN_SAMPLES} are needed",
                             path=path, sensor=sensor)
    _check_finite(sensor, t, acc, gyr, mag, rows, path)
    for prefix, block in (("a", acc), ("g", gyr), ("m", mag)):
        if block is not None and ranges:
            check_range(prefix, block, rows=rows, path=path, sensor=sensor)
    _check_time_increasing(sensor, t, rows, path)
    _check_time_units(sensor, t, path)
    _check_acc_units(sensor, acc, path)
    _check_gyr_units(sensor, gyr, path)


def _check_finite(sensor: str, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                  mag: np.ndarray | None, rows: np.ndarray, path: str | None) -> None:
    blocks = [("t", t[:, None]), ("a", acc), ("g", gyr)]
    if mag is not None:
        blocks.append(("m", mag))
    first: tuple[int, str, float] | None = None
    for prefix, block in blocks:
        bad = ~np.isfinite(block)
        if not bad.any():
            continue
        i, j = np.argwhere(bad)[0]
        col = "t" if prefix == "t" else prefix + "xyz"[j]
        if first is None or i < first[0]:
            first = (int(i), col, float(block[i, j]))
    if first is not None:
        i, col, value = first
        raise RecordingError(f"non-finite value {value} in column {col}",
                             path=path, sensor=sensor, row=int(rows[i]))


def check_range(column: str, values: np.ndarray, *, rows: np.ndarray | None = None,
                path: str | None = None,
                sensor: str | Callable[[int], str | None] | None = None) -> None:
    """Refuse a value beyond any IMU's range (:data:`ABS_MAX`): a corrupt file.

    Parameters
    ----------
    column : str
        A column (``ax``, ``gy``, ...) for shape (N,) ``values``, or a block's prefix (``a``,
        ``g``, ``m``) for shape (N, 3) ones (acc m/s², gyr rad/s, mag µT).
    values : numpy.ndarray
        Shape (N,) or (N, 3); non-finite values are left to the finite check.
    rows : numpy.ndarray, optional
        Shape (N,), the 1-based file row of each sample (default 1..N).
    path : str, optional
        The file, for the message.
    sensor : str or callable, optional
        The sensor, or a function of the 0-based index giving that row's sensor, for the
        message.

    Raises
    ------
    RecordingError
        On the first such value, naming its row and column.
    """
    with np.errstate(invalid="ignore"):
        over = (np.abs(values) > ABS_MAX[column[0]]) & np.isfinite(values)
    if not over.any():
        return
    i, j = np.argwhere(over.reshape(len(values), -1))[0]
    col = column if values.ndim == 1 else column + "xyz"[j]
    value = float(values[i] if values.ndim == 1 else values[i, j])
    name = sensor(int(i)) if callable(sensor) else sensor
    raise RecordingError(
        f"{col} = {value:.4g} {_UNIT[column[0]]}, beyond any IMU's range "
        f"(|{col}| ≤ {ABS_MAX[column[0]]:g}); a corrupt file?",
        path=path, sensor=name, row=int(i) + 1 if rows is None else int(rows[i]))


def _check_time_increasing(sensor: str, t: np.ndarray, rows: np.ndarray,
                           path: str | None) -> None:
    dt = np.diff(t)
    bad = np.flatnonzero(dt <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        kind = "duplicated" if dt[i - 1] == 0 else "going back in time (unsorted)"
        raise RecordingError(
            f"time not strictly increasing: t = {float(t[i])!r} s after {float(t[i - 1])!r} s "
            f"({kind})",
            path=path, sensor=sensor, row=int(rows[i]),
        )


def _median_surely_within(x: np.ndarray, lo: float, hi: float) -> bool:
    """True when counting alone shows the median of x lies in [lo, hi] (fewer than half the
    values below lo and fewer than half above hi: both middle values are then inside); False
    leaves it open. A count is a few comparisons a value, a median a partial sort."""
    half = len(x) // 2
    return (np.count_nonzero(x < lo) < half and np.count_nonzero(x > hi) < half)


def _check_time_units(sensor: str, t: np.ndarray, path: str | None) -> None:
    dt = np.diff(t)
    lo, hi = RATE_RANGE_HZ  # the median step within both limits (a hair inside the rate's)
    if _median_surely_within(dt, 1.0 / hi * (1 + 1e-9), min(MAX_MEDIAN_DT_S, 1.0 / lo) * (1 - 1e-9)):
        return
    median_dt = float(np.median(dt))
    if median_dt > MAX_MEDIAN_DT_S:
        raise RecordingError(
            f"median time step is {median_dt:.4g} s; time looks like ms, expected s",
            path=path, sensor=sensor,
        )
    rate = 1.0 / median_dt
    if not lo <= rate <= hi:
        raise RecordingError(
            f"sampling rate {rate:.4g} Hz is outside {lo:g}-{hi:g} Hz; is time in s?",
            path=path, sensor=sensor,
        )


def _check_acc_units(sensor: str, acc: np.ndarray, path: str | None) -> None:
    norms = row_norms(acc)
    lo, hi = ACC_MEDIAN_RANGE_MPS2
    if _median_surely_within(norms, lo, hi):  # no sort needed
        return
    med = float(np.median(norms))
    if lo <= med <= hi:
        return
    g_lo, g_hi = ACC_IN_G_RANGE
    why = "looks like g" if g_lo <= med <= g_hi else "is implausible"
    raise RecordingError(
        f"median |a| = {med:.3g}, {why}; expected m/s² (about 9.81 at rest)",
        path=path, sensor=sensor,
    )


def _check_gyr_units(sensor: str, gyr: np.ndarray, path: str | None) -> None:
    norms = row_norms(gyr)
    if norms.max() <= GYR_Q99_MAX_RADPS:  # then so is the quantile (no sort needed)
        return
    q = float(np.quantile(norms, GYR_QUANTILE))
    if q > GYR_Q99_MAX_RADPS:
        raise RecordingError(
            f"{GYR_QUANTILE:.0%} of |ω| stay below {q:.4g}, far above what a human "
            f"segment does in rad/s (< {GYR_Q99_MAX_RADPS:g}); looks like °/s, expected rad/s",
            path=path, sensor=sensor,
        )


# --- metadata --------------------------------------------------------------------


def check_metadata(meta: Any, *, path: str | None = None) -> None:
    """Check the metadata JSON object (already parsed) against the contract.

    Parameters
    ----------
    meta : Any
        The parsed metadata (a dict when valid).
    path : str, optional
        The file, for the message.

    Raises
    ------
    RecordingError
        On the first field that breaks the contract (DESIGN.md).
    """
    if not isinstance(meta, dict):
        raise RecordingError(f"metadata must be a JSON object, got {type(meta).__name__}",
                             path=path)
    if "format" not in meta:
        raise RecordingError(f"metadata has no 'format' (expected {FORMAT_NAME!r})", path=path)
    if meta["format"] != FORMAT_NAME:
        raise RecordingError(
            f"unknown format {meta['format']!r} (expected {FORMAT_NAME!r})", path=path)
    if "version" not in meta:
        raise RecordingError("metadata has no 'version'", path=path)
    version = meta["version"]
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise RecordingError(
            f"unsupported version {version!r} (this software reads version {FORMAT_VERSION})",
            path=path)
    if "test_leg" not in meta:
        raise RecordingError("metadata has no 'test_leg' (expected 'left' or 'right')",
                             path=path)
    if meta["test_leg"] not in LEGS:
        raise RecordingError(
            f"invalid test_leg {meta['test_leg']!r} (expected 'left' or 'right')", path=path)
    if meta.get("step_height_m") is not None:
        _check_number("step_height_m", meta["step_height_m"], STEP_HEIGHT_RANGE_M, path)
    _check_athlete(meta.get("athlete"), path)
    _check_sensors_meta(meta.get("sensors"), path)
    if meta.get("pain_nrs") is not None:
        check_pain(meta["pain_nrs"], path=path)
    _check_started_at(meta.get("started_at"), path)
    check_exercise(meta.get("exercise"), path=path)
    _check_gaps(meta.get("gaps"), path)


def check_pain(pain: Any, *, path: str | None = None) -> None:
    """pain_nrs: one number 0-10, or a non-empty list of numbers 0-10 (one per rep).

    Whether a list's length matches the number of reps is checked where the reps
    are known (:func:`sensor_io.recording.pain_per_rep`).

    Parameters
    ----------
    pain : Any
        The ``pain_nrs`` value as parsed.
    path : str, optional
        The file, for the message.

    Raises
    ------
    RecordingError
        When it is not a number 0-10 or a non-empty list of them.
    """
    values = pain if isinstance(pain, list) else [pain]
    if isinstance(pain, list) and not pain:
        raise RecordingError("pain_nrs is an empty list; give one 0-10 value per rep "
                             "or one number for the whole test", path=path)
    for i, v in enumerate(values):
        name = f"pain_nrs[{i}]" if isinstance(pain, list) else "pain_nrs"
        _check_number(name, v, PAIN_RANGE, path, unit="")


def _check_number(name: str, value: Any, bounds: tuple[float, float], path: str | None,
                  unit: str = " m") -> None:
    lo, hi = bounds
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordingError(f"{name} must be a number, got {value!r}", path=path)
    if not (math.isfinite(value) and lo <= value <= hi):
        raise RecordingError(f"{name} = {value!r} is outside {lo:g}-{hi:g}{unit}", path=path)


def _check_athlete(athlete: Any, path: str | None) -> None:
    if athlete is None:
        return
    if not isinstance(athlete, dict):
        raise RecordingError(f"athlete must be a JSON object, got {athlete!r}", path=path)
    ident = athlete.get("id")
    if ident is not None and not isinstance(ident, str):
        raise RecordingError(f"athlete.id must be a string, got {ident!r}", path=path)
    ranges = {"height_m": BODY_HEIGHT_RANGE_M, "thigh_length_m": SEGMENT_LENGTH_RANGE_M,
              "shank_length_m": SEGMENT_LENGTH_RANGE_M,
              "foot_medial_offset_m": FOOT_OFFSET_RANGE_M}
    for key, bounds in ranges.items():
        if athlete.get(key) is not None:
            _check_number(f"athlete.{key}", athlete[key], bounds, path)


def _check_sensors_meta(sensors: Any, path: str | None) -> None:
    if sensors is None:
        return
    if not isinstance(sensors, dict):
        raise RecordingError(f"sensors must be a JSON object, got {sensors!r}", path=path)
    for name, info in sensors.items():
        check_placement(name, path=path)
        if not isinstance(info, dict):
            raise RecordingError(f"sensors.{name} must be a JSON object, got {info!r}",
                                 path=path)
        quality = info.get("quality")
        if quality is not None and not (isinstance(quality, dict)
                                        and all(k in quality for k in QUALITY_KEYS)):
            raise RecordingError(f"sensors.{name}.quality must be a JSON object with "
                                 f"{', '.join(QUALITY_KEYS)}, got {quality!r}", path=path)


def _check_gaps(gaps: Any, path: str | None) -> None:
    """The recorder's gap markers (``extra["gaps"]``), when present: shown by `stepdown info`."""
    if gaps is None:
        return
    if not isinstance(gaps, list):
        raise RecordingError(f"gaps must be a JSON list, got {gaps!r}", path=path)
    for i, gap in enumerate(gaps):
        if not (isinstance(gap, dict) and isinstance(gap.get("sensor"), str)
                and isinstance(gap.get("reason"), str)
                and all(isinstance(gap.get(k), int | float) and not isinstance(gap.get(k), bool)
                        for k in ("start_s", "end_s"))):
            raise RecordingError(f"gaps[{i}] must be an object with sensor, start_s, end_s (s) "
                                 f"and reason, got {gap!r}", path=path)


def _check_started_at(value: Any, path: str | None) -> None:
    if value is None:
        return
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise RecordingError(
            f"started_at {value!r} is not an ISO 8601 time like 2026-11-24T17:03:00Z",
            path=path) from None
