"""The CSV files the Movella DOT app exports, one per sensor, joined into a recording.

Layout (the DOT SDK's ``XsensDotLogger``, which the app uses to export): a ``sep=,`` line,
``Key:,value,,,…`` metadata lines (DeviceTag, FirmwareVersion, AppVersion, SyncStatus,
OutputRate ``60Hz``, FilterProfile, Measurement Mode, StartTime ``yyyy-MM-dd
HH:mm:ss.SSS Z``), a copyright line, an empty line, then the column header and one row
per sample.  Needed columns: ``SampleTimeFine`` (sensor clock, µs, uint32 that wraps),
``Acc_X/Y/Z`` (m/s², calibrated, sensor frame) and ``Gyr_X/Y/Z`` (°/s): the "Rate
quantities" measurement mode, or a recording exported with acceleration and angular
velocity.  ``Mag_X/Y/Z`` are in arbitrary units and are not imported.

Common clock: sensors whose export says ``SyncStatus: Synced`` share SampleTimeFine
(the DOT synchronisation aligns their clocks), so their times are used as they are;
otherwise each file is placed by its StartTime (ms resolution) and the file's own
SampleTimeFine, and the recording says so.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from sensor_io.errors import InputError, read_problem
from sensor_io.gyro_scale import check_gyro_scale
from sensor_io.recording import LEGS, PLACEMENTS, Recording, SensorStream
from sensor_io.validation import check_stream

NEEDED = ("SampleTimeFine", "Acc_X", "Acc_Y", "Acc_Z", "Gyr_X", "Gyr_Y", "Gyr_Z")


@dataclass
class DotExport:
    """One exported sensor: t_us (N,) unwrapped SampleTimeFine in µs, acc (N, 3) m/s²,
    gyr (N, 3) rad/s, and the metadata lines (key -> value)."""

    t_us: np.ndarray
    """Unwrapped SampleTimeFine, shape (N,), µs (sensor clock)."""
    acc: np.ndarray
    """Acceleration, shape (N, 3), m/s², sensor frame."""
    gyr: np.ndarray
    """Angular rate, shape (N, 3), rad/s (converted from the export's °/s), sensor frame."""
    meta: dict[str, str] = field(default_factory=dict)
    """The metadata lines, key (without its colon) -> value."""

    @property
    def synced(self) -> bool:
        """Whether the export says ``SyncStatus: Synced`` (clock shared with the others)."""
        return self.meta.get("SyncStatus", "").lower() == "synced"

    def start_time_s(self) -> float | None:
        """StartTime as POSIX seconds, or None when absent or unreadable.

        Returns
        -------
        float or None
            The measurement's start, s since the POSIX epoch (ms resolution).
        """
        text = self.meta.get("StartTime")
        try:
            return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f %z").timestamp() if text else None
        except ValueError:
            return None


def read_dot_csv(path: str | os.PathLike[str]) -> DotExport:
    """Parse one DOT app export; InputError (one line) for anything that is not one.

    Parameters
    ----------
    path : str or os.PathLike
        The exported CSV file.

    Returns
    -------
    DotExport
        Its samples (SampleTimeFine unwrapped, µs; acc m/s²; gyr rad/s; sensor frame) and
        metadata.

    Raises
    ------
    InputError
        For an unreadable file, a missing column, a non-numeric value or a SampleTimeFine
        that is not an increasing uint32 count of µs.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{p}: cannot read: {read_problem(err)}") from None
    rows = list(csv.reader(io.StringIO(text)))
    meta: dict[str, str] = {}
    header_at = None
    for k, row in enumerate(rows):
        if row and row[0].startswith("PacketCounter") or "SampleTimeFine" in row:
            header_at = k
            break
        if row and row[0].endswith(":") and len(row) > 1:
            meta[row[0][:-1].strip()] = row[1].strip()
    if header_at is None:
        raise InputError(f"{p}: not a Movella DOT export (no PacketCounter/SampleTimeFine "
                         "header line)")
    header = [h.strip() for h in rows[header_at]]
    missing = [c for c in NEEDED if c not in header]
    if missing:
        mode = meta.get("Measurement Mode", "unknown")
        raise InputError(f"{p}: no {', '.join(missing)} column (measurement mode {mode}); "
                         "export acceleration and angular velocity ('Rate quantities')")
    cols = [header.index(c) for c in NEEDED]
    values = _numeric_rows(rows[header_at + 1:], cols, header_at + 2, p)
    if len(values) < 2:
        raise InputError(f"{p}: fewer than 2 samples")
    stf = values[:, 0]
    if np.any(stf < 0) or np.any(stf >= 2**32) or np.any(stf != np.round(stf)):
        raise InputError(f"{p}: SampleTimeFine is not a uint32 count of µs")
    wraps = np.concatenate([[0], np.cumsum(np.diff(stf) < -2**31)])
    t_us = stf + wraps * 2.0**32
    bad = np.flatnonzero(np.diff(t_us) <= 0)
    if bad.size:
        raise InputError(f"{p}: SampleTimeFine not increasing at data row {bad[0] + 2}")
    return DotExport(t_us, values[:, 1:4], np.radians(values[:, 4:7]), meta)


def _numeric_rows(rows: list[list[str]], cols: list[int], first_line: int,
                  path: Path) -> np.ndarray:
    out = []
    for k, row in enumerate(rows):
        if not any(cell.strip() for cell in row):
            continue
        try:
            vals = [float(row[c]) for c in cols]
        except (ValueError, IndexError):
            raise InputError(f"{path}: line {first_line + k}: not a number in "
                             f"{', '.join(NEEDED)}") from None
        if not np.all(np.isfinite(vals)):
            raise InputError(f"{path}: line {first_line + k}: NaN or infinite value")
        out.append(vals)
    return np.asarray(out, dtype=np.float64).reshape(-1, len(cols))


def recording_from_dot(files: dict[str, str | os.PathLike[str]], test_leg: str,
                       **meta: object) -> Recording:
    """One recording from DOT exports given as {placement: path}; times in s from the
    earliest sample of all sensors (see the module docstring for the common clock).

    Parameters
    ----------
    files : dict of str to path
        The export of each placement, {placement: path}.
    test_leg : str
        "left" or "right".
    **meta : object
        Further :class:`~sensor_io.recording.Recording` fields (athlete, step_height_m, ...).

    Returns
    -------
    Recording
        The sensors' streams on one clock (s, from the earliest sample; acc m/s², gyr rad/s,
        sensor frame), with each sensor's model, rate and tag in its metadata.

    Raises
    ------
    InputError
        For an unknown placement or leg, a bad export, unsynced exports without StartTime,
        or samples that fail the stream and gyro-unit checks.
    """
    if test_leg not in LEGS:
        raise InputError(f"test leg must be left or right, not {test_leg!r}")
    unknown = [p for p in files if p not in PLACEMENTS]
    if unknown:
        raise InputError(f"unknown placement {unknown[0]!r} (expected one of {PLACEMENTS})")
    exports = {placement: read_dot_csv(path) for placement, path in files.items()}
    synced = all(e.synced for e in exports.values())
    starts = {p: e.start_time_s() for p, e in exports.items()}
    if not synced and len(exports) > 1 and any(s is None for s in starts.values()):
        raise InputError("the exports are not synced and lack StartTime: their sensors "
                         "cannot be put on one clock")
    t = {}
    for p, e in exports.items():
        if synced or len(exports) == 1:
            t[p] = e.t_us * 1e-6
        else:
            t[p] = starts[p] + (e.t_us - e.t_us[0]) * 1e-6  # type: ignore[operator]
    t0 = min(v[0] for v in t.values())
    streams = {p: SensorStream(t[p] - t0, e.acc, e.gyr) for p, e in exports.items()}
    for p, stream in streams.items():  # units checked per input file, named in the message
        check_stream(p, stream.t, stream.acc, stream.gyr, path=str(files[p]))
        check_gyro_scale(stream.t, stream.acc, stream.gyr, f"{files[p]} ({p})", "°/s")
    sensors_meta = {p: {"model": "Movella DOT", "rate_hz": round(streams[p].rate_hz, 3),
                        "tag": e.meta.get("DeviceTag"), "source": Path(files[p]).name}
                    for p, e in exports.items()}
    extra = {"clock": "DOT sync (SampleTimeFine)" if synced else "StartTime per file"}
    return Recording(streams=streams, test_leg=test_leg, sensors_meta=sensors_meta,
                     extra=extra, **meta)  # type: ignore[arg-type]
