"""Xsens/Movella per-sensor CSV exports -> one :class:`Recording` made of segments.

The layout read here is the one of the public CMU-MBL exercise dataset (Xsens MTw
Awinda exported to CSV, one file per rep cut from a continuous trial): three header
rows, then one row per sample::

    ,Chest,Chest,...,Pelvis,...            row 1: sensor name (repeated per column)
    ,Time,Orientation,...,Accelerometer,.. row 2: quantity
    ,S,S,X,Y,Z,X,Y,Z,...                   row 3: component (S = scalar / time)

(:func:`read_mt_export` reads the other Xsens layout, MT Manager's text export: one
file per sensor, ``//`` comment lines, ``Acc_X`` ... columns.)

Per sensor: ``Time`` s, ``Orientation`` the device's own quaternion [w x y z]
(q_global_sensor, z up), ``Accelerometer`` m/s², ``Gyroscope`` rad/s and optionally
``Magnetometer`` (µT-scaled, |m| ≈ 40-55 indoors). The first column is a row index.

A folder of such files (a trial cut into reps) becomes one recording on the
files' common clock: the files are put in time order (not name order: rep10 sorts
before rep2) and the time between them is a gap, never filled. Sensor names are
mapped to placements by the user (``Pelvis=pelvis,RightThigh=thigh_right``), because
names say nothing reliable about where a sensor was worn.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sensor_io.errors import InputError, first_line, read_problem
from sensor_io.recording import PLACEMENTS, Recording, SensorStream
from sensor_io.validation import ACC_IN_G_RANGE, ACC_MEDIAN_RANGE_MPS2
from sensor_io.vectors import row_norms

QUANTITIES = {"Orientation": 4, "Accelerometer": 3, "Gyroscope": 3, "Magnetometer": 3}
REQUIRED = ("Time", "Accelerometer", "Gyroscope")
MIN_SEGMENT_S = 0.5
"""A file shorter than this cannot start an orientation of its own (the filters need
a few tenths of a second of accelerometer to find the vertical)."""

# Units per file. The recording's unit ranges (sensor_io.validation) cannot run per file:
# a rep file cut around a jump legitimately leaves them (on the 172 development files of
# CMU-MBL SUB22, StepDnH/StepDnL not read, per-file median |a| ran 8.04-96.6 m/s², 515 of
# the 1,720 sensor streams outside the recording's 5-20). So a file is refused only for
# what can only be the wrong unit (`python -m benchmarks file_units`), and the joined
# recording is still checked as a whole.
FILE_ACC_IN_G = (ACC_IN_G_RANGE[0], ACC_MEDIAN_RANGE_MPS2[0])
"""Median |a| of one file and sensor that can only be g (as read): 0.5-5. In m/s² it
would mean free fall for more than half the file; the smallest real median was 8.04
m/s² (SqDL rep 2, right wrist). The same files written in g fall in it 98 % of the time
(jumps' medians reach 9.9 g)."""
FILE_GYR_AXIS_Q99_MAX = np.radians(4000.0)
"""rad/s (69.8): the widest gyroscope range made is ±4000 °/s per axis (Xsens sensors stop
at ±2000 °/s), so a 99th percentile of the largest axis |ω| above it can only be °/s.
Largest real: 31.9 rad/s; the same files written in °/s exceed it 84 % of the time (the
rest, standing or slow files, read under 1.2 rad/s: no per-file test tells them)."""


@dataclass(frozen=True)
class XsensFile:
    """One file: per sensor name, its columns (quantity -> (N, k) float64, Time (N,))."""

    path: Path
    """The file read."""
    sensors: dict[str, dict[str, np.ndarray]]
    """Sensor name -> quantity -> values: Time (N,) s, Orientation (N, 4) [w x y z],
    Accelerometer (N, 3) m/s², Gyroscope (N, 3) rad/s, Magnetometer (N, 3) µT-scaled;
    sensor frame."""


def parse_placement_map(text: str) -> dict[str, str]:
    """``"Pelvis=pelvis,RightThigh=thigh_right"`` -> {"Pelvis": "pelvis", ...}.

    Parameters
    ----------
    text : str
        Comma-separated ``SENSOR=placement`` pairs (the ``--placement`` option).

    Returns
    -------
    dict of str to str
        Sensor name -> placement; InputError (one line) for a malformed pair or an unknown
        placement.
    """
    out: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, placement = (s.strip() for s in part.partition("="))
        if not sep or not name or not placement:
            raise InputError(f"--placement: {part!r} is not SENSOR=placement "
                             "(e.g. Pelvis=pelvis,RightThigh=thigh_right)")
        if placement not in PLACEMENTS:
            raise InputError(f"--placement: unknown placement {placement!r} for {name}; "
                             f"known: {', '.join(PLACEMENTS)}")
        if placement in out.values():
            raise InputError(f"--placement: placement {placement!r} given twice")
        out[name] = placement
    if not out:
        raise InputError("--placement is empty; give SENSOR=placement pairs")
    return out


MT_COLUMNS = {"acc": ("Acc_X", "Acc_Y", "Acc_Z"), "gyr": ("Gyr_X", "Gyr_Y", "Gyr_Z"),
              "mag": ("Mag_X", "Mag_Y", "Mag_Z"), "quat": ("Quat_q0", "Quat_q1", "Quat_q2", "Quat_q3")}
"""MT Manager's export columns (acc m/s², gyr rad/s, mag a.u., quat [w x y z])."""


def looks_like_mt_export(path: Path) -> bool:
    """An MT Manager text export (``// Sample rate: 100.0Hz`` comment lines, then a header
    with Acc_X ... columns), or a folder of them (one file per sensor)?

    Parameters
    ----------
    path : pathlib.Path
        A file or a folder.

    Returns
    -------
    bool
        Whether it (or the folder's first file) looks like one.
    """
    files = _export_files(path) if path.is_dir() else [path]
    try:
        with open(files[0], encoding="utf-8-sig") as fh:
            head = [fh.readline() for _ in range(12)]
    except (OSError, UnicodeDecodeError, IndexError):
        return False
    return bool(head[0].startswith("//")) and any("Acc_X" in line for line in head)


def _export_files(folder: Path) -> list[Path]:
    """The .txt and .csv files of a folder, by name (a LICENSE or README beside them is not
    an export)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".txt", ".csv"))


def read_mt_export_file(path: Path) -> SensorStream:
    """One sensor's MT Manager export: ``//`` comment lines (one says the sample rate), a
    header row, then tab- or comma-separated samples. Time from the packet counter and
    the sample rate (``SampleTimeFine``, 1e-4 s ticks, where present).

    Parameters
    ----------
    path : pathlib.Path
        The export file.

    Returns
    -------
    SensorStream
        t (N,) s from 0; acc (N, 3) m/s², gyr (N, 3) rad/s as exported, sensor frame; mag
        (N, 3) (a.u.) and quat (N, 4) [w x y z] where present and finite, else None.
    """
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read: {read_problem(err)}") from None
    comments = [ln for ln in lines if ln.startswith("//")]
    body = [ln for ln in lines if ln.strip() and not ln.startswith("//")]
    rate_line = next((ln for ln in comments if "rate" in ln.lower() and ":" in ln), None)
    rate = None
    if rate_line is not None:
        try:
            rate = float(rate_line.split(":")[1].strip().lower().removesuffix("hz"))
        except ValueError:
            raise InputError(f"{path}: {rate_line.strip()!r} gives no rate in Hz") from None
    if not body:
        raise InputError(f"{path}: no header or samples after the comment lines")
    sep = "\t" if "\t" in body[0] else ","
    header = [h.strip() for h in body[0].split(sep)]
    index = {h: i for i, h in enumerate(header) if h}
    missing = [c for c in MT_COLUMNS["acc"] + MT_COLUMNS["gyr"] if c not in index]
    if missing:
        raise InputError(f"{path}: no {', '.join(missing)} column; not an MT Manager export "
                         "with calibrated inertial data")
    # the named columns: a trailing separator (an empty name) may be on a row or not
    width = max(index.values()) + 1
    rows = [row.split(sep)[:width] for row in body[1:]]
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    bad = np.flatnonzero(lengths < width)
    if bad.size:
        i = int(bad[0])
        raise InputError(f"{path}: sample {i + 1} has {lengths[i]} cells, the header names "
                         f"{width} (truncated or corrupt file?)")
    try:
        data = np.array([[_cell_float(c) for c in row] for row in rows])
    except ValueError:
        i, cell = next((i, c) for i, row in enumerate(rows) for c in row if not _is_number(c))
        raise InputError(f"{path}: sample {i + 1}: {cell.strip()[:20]!r} is not a number") from None
    if data.ndim != 2 or len(data) < 2:
        raise InputError(f"{path}: fewer than 2 samples")
    if "SampleTimeFine" in index:
        t = np.unwrap(data[:, index["SampleTimeFine"]], period=2.0**32) * 1e-4
    else:
        counter = next((c for c in ("PacketCounter", "Counter") if c in index), None)
        if counter is None or rate is None or not rate > 0:
            raise InputError(f"{path}: no SampleTimeFine, and no packet counter with a "
                             "'// Sample rate' line: the sample times cannot be known")
        t = np.unwrap(data[:, index[counter]], period=65536.0) / rate
    t = t - t[0]

    def cols(name: str) -> np.ndarray | None:
        if not all(c in index for c in MT_COLUMNS[name]):
            return None
        a = data[:, [index[c] for c in MT_COLUMNS[name]]]
        return a if np.isfinite(a).all() else None

    acc, gyr = cols("acc"), cols("gyr")
    if acc is None or gyr is None:
        raise InputError(f"{path}: an accelerometer or gyroscope value is missing")
    if np.any(np.diff(t) <= 0):
        raise InputError(f"{path}: sample times are not strictly increasing")
    return SensorStream(t, acc, gyr, cols("mag"), cols("quat"))


def read_mt_export(path: str | os.PathLike[str], placement: dict[str, str], test_leg: str,
                   ) -> Recording:
    """A folder of MT Manager exports, one file per sensor, named (by file name without
    its extension) in ``placement``: file stem -> placement. All files share one clock
    starting at 0 (MT Manager exports a synchronised recording).

    Parameters
    ----------
    path : str or os.PathLike
        The folder (or one file).
    placement : dict of str to str
        File stem -> placement.
    test_leg : str
        "left" or "right".

    Returns
    -------
    Recording
        One stream per named file (t s, acc m/s², gyr rad/s, sensor frame).
    """
    folder = Path(path)
    files = {p.stem: p for p in (_export_files(folder) if folder.is_dir() else [folder])}
    unknown = sorted(set(placement) - set(files))
    if unknown:
        raise InputError(f"{folder}: no file named {', '.join(unknown)}; it has "
                         f"{', '.join(sorted(files))}")
    streams = {pl: read_mt_export_file(files[name]) for name, pl in placement.items()}
    meta = {pl: {"model": "Xsens (MT Manager export)", "name": name,
                 "rate_hz": round(streams[pl].rate_hz, 1)} for name, pl in placement.items()}
    return Recording(streams, test_leg=test_leg, sensors_meta=meta,
                     extra={"source": {"format": "xsens-mt-export", "path": str(folder)}})


def looks_like_xsens_csv(path: Path) -> bool:
    """Is this a file (or a folder holding files) in the layout of this module?

    Parameters
    ----------
    path : pathlib.Path
        A file or a folder.

    Returns
    -------
    bool
        Whether it (or the folder's first file) looks like one.
    """
    files = _csv_files(path) if path.is_dir() else [path]
    if not files or files[0].suffix.lower() != ".csv":
        return False
    try:
        with open(files[0], newline="", encoding="utf-8-sig") as fh:
            rows = [next(csv.reader(fh), []) for _ in range(2)]
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return len(rows[1]) > 1 and rows[1][1] == "Time" and any(q in rows[1] for q in QUANTITIES)


def _csv_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv" and p.is_file())


def read_xsens_file(path: Path) -> XsensFile:
    """Parse one export file; InputError naming the file for anything not in the layout.

    Parameters
    ----------
    path : pathlib.Path
        The CSV file.

    Returns
    -------
    XsensFile
        Its columns per sensor (units as in the module docstring).
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = [next(reader, None) for _ in range(3)]
            body = list(reader)
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read: {read_problem(err)}") from None
    except csv.Error as err:  # e.g. a stray quote: the field then runs past the size limit
        raise InputError(f"{path}: not a readable CSV file (corrupt?): {first_line(err)}") from None
    if any(h is None for h in header) or len({len(h) for h in header}) != 1:
        raise InputError(f"{path}: not an Xsens CSV export (expected three header rows of "
                         "sensor, quantity and component names)")
    names, quantities = header[0], header[1]
    columns: dict[str, dict[str, list[int]]] = {}
    for j in range(1, len(names)):
        columns.setdefault(names[j], {}).setdefault(quantities[j], []).append(j)
    for sensor, qs in columns.items():
        missing = [q for q in REQUIRED if q not in qs]
        if missing or len(qs["Time"]) != 1:
            raise InputError(f"{path}: sensor {sensor!r} lacks {', '.join(missing) or 'one Time'} "
                             "columns; not an Xsens CSV export in the known layout")
        for q, idx in qs.items():
            if q in QUANTITIES and len(idx) != QUANTITIES[q]:
                raise InputError(f"{path}: sensor {sensor!r} has {len(idx)} {q} columns, "
                                 f"expected {QUANTITIES[q]}")
    while body and not body[-1]:
        body.pop()
    if not body:
        raise InputError(f"{path}: no samples after the header")
    lengths = np.fromiter(map(len, body), dtype=np.int64, count=len(body))
    bad = np.flatnonzero(lengths != len(names))
    if bad.size:  # line numbers count the three header rows
        i = int(bad[0])
        raise InputError(f"{path}: line {i + 4} has {lengths[i]} cells, the header has "
                         f"{len(names)} (truncated or corrupt file?)")
    try:
        data = np.array([[_cell_float(c) for c in row] for row in body])
    except ValueError:
        i, cell = next((i, c) for i, row in enumerate(body) for c in row if not _is_number(c))
        raise InputError(f"{path}: line {i + 4}: {cell[:20]!r} is not a number") from None
    sensors = {s: {q: data[:, idx[0]] if q == "Time" else data[:, idx] for q, idx in qs.items()}
               for s, qs in columns.items()}
    return XsensFile(path, sensors)


def _cell_float(cell: str) -> float:
    """One cell's value; a blank cell (empty or spaces) is missing (NaN)."""
    return float(cell) if cell.strip() else np.nan


def _is_number(cell: str) -> bool:
    """Whether :func:`_cell_float` reads ``cell`` (the same test, so a refused table
    always has a cell to name)."""
    try:
        _cell_float(cell)
    except ValueError:
        return False
    return True


def read_xsens(path: str | os.PathLike[str], placement: dict[str, str], test_leg: str,
               ) -> Recording:
    """A folder of per-rep files (or one file) -> a Recording of segments.

    placement: sensor name in the file -> placement (:func:`parse_placement_map`);
    sensors not named are left out. Streams carry the device quaternion as
    ``SensorStream.quat``. InputError (one line) for a layout it does not know, a
    named sensor that is not in the files, non-finite or unsorted time, files that
    overlap in time, or a file too short to start an orientation.

    Parameters
    ----------
    path : str or os.PathLike
        A folder of per-rep CSV files, or one file.
    placement : dict of str to str
        Sensor name in the file -> placement (:func:`parse_placement_map`); sensors not
        named are left out.
    test_leg : str
        "left" or "right".

    Returns
    -------
    Recording
        The files' segments on their common clock (t s, acc m/s², gyr rad/s, mag µT,
        sensor frame; gaps between files not filled).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    paths = _csv_files(path) if path.is_dir() else [path]
    if not paths:
        raise InputError(f"{path}: no .csv files in the folder")
    files = [read_xsens_file(p) for p in paths]
    for f in files:
        unknown = sorted(set(placement) - set(f.sensors))
        if unknown:
            raise InputError(f"{f.path}: no sensor named {', '.join(unknown)} in the file; "
                             f"it has {', '.join(sorted(f.sensors))}")
    pieces = [_file_streams(f, placement) for f in files]
    pieces.sort(key=lambda p: min(float(s.t[0]) for s in p.values()))
    streams = {pl: _join([p[pl] for p in pieces], pl, [f.path for f in files])
               for pl in placement.values()}
    meta = {pl: {"model": "Xsens (CSV export)", "name": name,
                 "rate_hz": round(streams[pl].rate_hz, 1)} for name, pl in placement.items()}
    return Recording(streams, test_leg=test_leg, sensors_meta=meta,
                     extra={"source": {"format": "xsens-csv", "path": str(path),
                                       "files": [p.name for p in paths]}})


def _file_streams(f: XsensFile, placement: dict[str, str]) -> dict[str, SensorStream]:
    out = {}
    for name, pl in placement.items():
        cols = f.sensors[name]
        t = cols["Time"]
        where = f"{f.path}, sensor {name}"
        if not np.all(np.isfinite(t)):
            raise InputError(f"{where}: time has a missing or non-finite value")
        if len(t) < 2 or np.any(np.diff(t) <= 0):
            raise InputError(f"{where}: time is not strictly increasing")
        if t[-1] - t[0] < MIN_SEGMENT_S:
            raise InputError(f"{where}: holds {t[-1] - t[0]:.2f} s, too short to start an "
                             f"orientation (needs ≥ {MIN_SEGMENT_S} s)")
        for q in ("Accelerometer", "Gyroscope"):
            if not np.isfinite(cols[q]).all():
                raise InputError(f"{where}: {q} has a missing or non-finite value")
        check_file_units(cols["Accelerometer"], cols["Gyroscope"], where)
        quat = cols.get("Orientation")
        if quat is not None and not np.isfinite(quat).all():
            quat = None  # the device's orientation is optional; a hole in it drops it
        mag = cols.get("Magnetometer")
        if mag is not None and not np.isfinite(mag).all():
            mag = None
        out[pl] = SensorStream(t.copy(), cols["Accelerometer"], cols["Gyroscope"], mag, quat)
    return out


def check_file_units(acc: np.ndarray, gyr: np.ndarray, where: str) -> None:
    """Refuse one file's sensor whose accelerometer can only be in g or gyroscope only in
    °/s (:data:`FILE_ACC_IN_G`, :data:`FILE_GYR_AXIS_Q99_MAX`), whatever the other files hold.

    Parameters
    ----------
    acc : numpy.ndarray
        Acceleration as read, shape (N, 3), claimed m/s², sensor frame; finite.
    gyr : numpy.ndarray
        Angular rate as read, shape (N, 3), claimed rad/s, sensor frame; finite.
    where : str
        The file and sensor, for the message.

    Raises
    ------
    InputError
        One line naming ``where``, the figure and the unit it looks like.
    """
    med = float(np.median(row_norms(acc)))
    lo, hi = FILE_ACC_IN_G
    if lo <= med < hi:
        raise InputError(f"{where}: median |a| = {med:.3g}, looks like g; expected m/s² "
                         "(about 9.81 at rest), as in the other files")
    q = float(np.quantile(np.abs(gyr).max(axis=1), 0.99))
    if q > FILE_GYR_AXIS_Q99_MAX:
        raise InputError(f"{where}: 99% of |ω| per axis stay below {q:.4g}, beyond any "
                         f"gyroscope's range in rad/s (≤ {FILE_GYR_AXIS_Q99_MAX:.1f}); looks "
                         "like °/s, expected rad/s")


def _join(parts: list[SensorStream], placement: str, paths: list[Path]) -> SensorStream:
    """Concatenate one placement's time-ordered file streams; overlap is refused."""
    for a, b in zip(parts, parts[1:], strict=False):
        if b.t[0] <= a.t[-1]:
            raise InputError(f"{placement}: files overlap in time ({a.t[-1]:.2f} s ≥ "
                             f"{b.t[0]:.2f} s); give the files of one trial only")
    keep_mag = all(p.mag is not None for p in parts)
    keep_quat = all(p.quat is not None for p in parts)
    return SensorStream(
        np.concatenate([p.t for p in parts]), np.concatenate([p.acc for p in parts]),
        np.concatenate([p.gyr for p in parts]),
        np.concatenate([p.mag for p in parts]) if keep_mag else None,
        np.concatenate([p.quat for p in parts]) if keep_quat else None)
