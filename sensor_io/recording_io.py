"""Reading and writing recordings: the Parquet contract and its CSV twin (DESIGN.md).

A recording on disk is one long table, one row per sample per sensor, with the
columns ``sensor`` (string), ``t`` (s), ``ax ay az`` (m/s²), ``gx gy gz``
(rad/s) and optionally ``mx my mz`` (µT), all float64.  The metadata is the
JSON object of DESIGN.md: in Parquet the key-value metadata ``stepdown``; beside
a CSV file the sidecar ``<name>.json``.

Writing is deterministic: sensors in PLACEMENTS order, each sorted by time,
floats in CSV as Python's shortest exact repr, metadata keys in the contract's
order.  Writing the same Recording twice gives identical bytes, and a CSV twin
reads back to exactly the same Recording as its Parquet twin.  Files are
written to a temporary name and moved into place, so a failed write never
destroys an existing file.  Parquet data pages carry a CRC32 checksum, checked on
reading: a damaged page is refused, not read as other numbers (Parquet files
written without checksums, e.g. by other tools or before they were added, are read
unchecked; the footer, with the metadata, has no checksum).

Where the magnetometer columns exist, a sensor without a magnetometer has them
empty (null in Parquet, empty cells in CSV, NaN in a DataFrame).  Unknown
metadata keys are kept in ``Recording.extra``; unknown keys inside ``athlete``
in ``Recording.extra["athlete"]``; both are written back unchanged.

Loading validates everything (:mod:`sensor_io.validation`); each failure is one
:class:`~sensor_io.errors.RecordingError` naming file, sensor and 1-based data
row.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sensor_io.errors import RecordingError, first_line
from sensor_io.json_doc import JSONDoc, JSONProblem, parse_json
from sensor_io.recording import (
    FORMAT_NAME,
    FORMAT_VERSION,
    PLACEMENTS,
    Athlete,
    Recording,
    SensorStream,
)
from sensor_io.validation import (
    MAG_COLUMNS,
    NUMERIC_COLUMNS,
    REQUIRED_COLUMNS,
    check_columns,
    check_metadata,
    check_minimum_set,
    check_placement,
    check_range,
    check_stream,
)

if TYPE_CHECKING:  # pandas (~0.3 s to import) only for the DataFrame twins and CSV names
    import pandas as pd

METADATA_KEY = "stepdown"
SUFFIXES = (".parquet", ".csv")
_KNOWN_KEYS = ("format", "version", "test_leg", "step_height_m", "athlete", "sensors",
               "pain_nrs", "started_at")
_ATHLETE_FIELDS = tuple(f.name for f in fields(Athlete))


# --- public API -----------------------------------------------------------------------


COMPACT_DTYPE = np.float32
"""The samples' type when read ``compact``: 7 significant digits, beyond any IMU's own
resolution (16-bit samples), in half the memory of float64."""


def read_recording(path: str | os.PathLike[str], compact: bool = False) -> Recording:
    """Load and validate a recording from ``.parquet`` or ``.csv`` (+ sidecar ``.json``).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.parquet`` file, or the ``.csv`` file with its sidecar ``<name>.json``.
    compact : bool
        acc, gyr and mag in COMPACT_DTYPE (time stays float64), for analysis: an hour
        of five sensors then holds 80 MB instead of 140. Writing such a recording back would
        store its samples rounded to float32, so read without it to convert or edit a file.

    Returns
    -------
    Recording
        The validated recording (t s, acc m/s², gyr rad/s, mag µT, sensor frame).
    """
    path = Path(path)
    if path.is_dir():
        raise RecordingError("a folder, not a recording file (.parquet, or .csv with its "
                             ".json sidecar)", path=str(path))
    if not path.is_file():  # before the suffix: a mistyped name is missing, not of a wrong type
        raise RecordingError("no such file", path=str(path))
    suffix = _suffix(path)
    dtype = COMPACT_DTYPE if compact else np.float64
    table, meta = _read_parquet(path, dtype) if suffix == ".parquet" else _read_csv(path)
    rec = _build_recording(table, meta, str(path), dtype)
    del table
    pa.default_memory_pool().release_unused()  # the Arrow columns the streams were copied from
    return rec


def write_recording(rec: Recording, path: str | os.PathLike[str], *,
                    validate: bool = True) -> None:
    """Write ``rec`` as ``.parquet``, or as ``.csv`` plus the sidecar ``<name>.json``.

    With ``validate`` (default) the recording is first checked exactly as on
    load, so what is written always reads back; pass False only to save raw
    data that must not be lost even though it breaks the contract.

    Parameters
    ----------
    rec : Recording
        The recording.
    path : str or os.PathLike
        ``.parquet`` or ``.csv`` (the sidecar is written beside it).
    validate : bool
        Check the recording as on load before writing.
    """
    path = Path(path)
    suffix = _suffix(path)
    if validate:
        check_recording(rec, path=str(path))
    meta = metadata_to_dict(rec)
    table = _long_table(rec)
    if suffix == ".parquet":
        _atomic_write(path, _parquet_bytes(table, meta))
    else:
        _atomic_write(path, _csv_bytes(table))
        _atomic_write(sidecar_path(path), _json_text(meta, indent=2).encode())


def recording_to_frame(rec: Recording) -> pd.DataFrame:
    """The long table as a DataFrame: columns sensor, t, ax..gz[, mx..mz].

    Rows: sensors in PLACEMENTS order, each sorted by t.  Magnetometer columns
    exist if any sensor has a magnetometer; NaN for sensors without one.

    Parameters
    ----------
    rec : Recording
        The recording.

    Returns
    -------
    pandas.DataFrame
        Columns sensor (str), t (s), ax ay az (m/s²), gx gy gz (rad/s)[, mx my mz (µT)], sensor frame.
    """
    import pandas as pd

    table = _long_table(rec)
    cols: dict[str, Any] = {"sensor": table.sensor_column()}
    cols.update(table.values)
    return pd.DataFrame(cols)


def recording_from_frame(df: pd.DataFrame, meta: JSONDoc, *,
                         path: str | None = None) -> Recording:
    """Build and validate a Recording from a long table and its metadata dict.

    df: columns sensor (str), t, ax..gz (float64)[, mx..mz (float64, NaN where a
    sensor has no magnetometer)], rows in any sensor order, each sensor's rows
    in time order.  ``path`` only names the source in error messages.

    Parameters
    ----------
    df : pandas.DataFrame
        The long table (t s, ax..az m/s², gx..gz rad/s, mx..mz µT, sensor frame).
    meta : dict
        The metadata JSON object, parsed.
    path : str, optional
        The source, for error messages.

    Returns
    -------
    Recording
        The validated recording.
    """
    columns = [str(c) for c in df.columns]
    has_mag = check_columns(columns, path=path)
    for c in NUMERIC_COLUMNS:
        if c in df.columns and df[c].dtype != np.float64:
            raise RecordingError(f"column {c} has type {df[c].dtype}, expected float64",
                                 path=path)
    codes, names = _factorize(df["sensor"].to_numpy(dtype=object))
    values = {c: df[c].to_numpy(dtype=np.float64) for c in NUMERIC_COLUMNS if c in df.columns}
    mag_present = None
    if has_mag:
        mag_present = ~np.isnan(np.column_stack([values[c] for c in MAG_COLUMNS])).all(axis=1)
    return _build_recording(_Table(codes, names, values, mag_present), meta, path)


def metadata_to_dict(rec: Recording) -> JSONDoc:
    """The metadata JSON object of ``rec``, keys in the contract's order, then extras.

    Parameters
    ----------
    rec : Recording
        The recording.

    Returns
    -------
    dict
        The metadata, ready for ``json.dump``.
    """
    meta: JSONDoc = {"format": FORMAT_NAME, "version": FORMAT_VERSION,
                            "test_leg": rec.test_leg}
    if rec.step_height_m is not None:
        meta["step_height_m"] = rec.step_height_m
    athlete = {k: getattr(rec.athlete, k) for k in _ATHLETE_FIELDS
               if getattr(rec.athlete, k) is not None}
    athlete.update(rec.extra.get("athlete", {}))
    if athlete:
        meta["athlete"] = athlete
    if rec.sensors_meta:
        order = [p for p in PLACEMENTS if p in rec.sensors_meta]
        order += sorted(p for p in rec.sensors_meta if p not in PLACEMENTS)
        meta["sensors"] = {p: rec.sensors_meta[p] for p in order}
    if rec.pain_nrs is not None:
        meta["pain_nrs"] = rec.pain_nrs
    if rec.started_at is not None:
        meta["started_at"] = rec.started_at
    for key in sorted(k for k in rec.extra if k != "athlete"):
        if key in _KNOWN_KEYS:
            raise RecordingError(f"Recording.extra must not hold the contract key {key!r}")
        meta[key] = rec.extra[key]
    return meta


def sidecar_path(csv_path: str | os.PathLike[str]) -> Path:
    """The metadata sidecar of a CSV recording: ``<name>.json`` beside it.

    Parameters
    ----------
    csv_path : str or os.PathLike
        The CSV recording.

    Returns
    -------
    pathlib.Path
        Its sidecar's path.
    """
    return Path(csv_path).with_suffix(".json")


def check_recording(rec: Recording, *, path: str | None = None) -> None:
    """Validate an in-memory Recording as :func:`read_recording` validates a file.

    Rows in messages are 1-based sample indices within the sensor's stream.

    Parameters
    ----------
    rec : Recording
        The recording.
    path : str, optional
        The source, for error messages.

    Raises
    ------
    RecordingError
        On the first part that breaks the contract.
    """
    check_metadata(json.loads(_json_text(metadata_to_dict(rec))), path=path)
    for name in rec.streams:
        check_placement(name, path=path)
    for name in rec.placements:
        s = rec.streams[name]
        check_stream(name, np.asarray(s.t, dtype=np.float64), np.asarray(s.acc, np.float64),
                     np.asarray(s.gyr, np.float64),
                     None if s.mag is None else np.asarray(s.mag, np.float64), path=path)
    _check_listed_sensors(rec.sensors_meta, rec.streams, path)
    check_minimum_set(rec.streams, rec.test_leg, path=path)


# --- the long table ---------------------------------------------------------------------


@dataclass
class _Table:
    """The long table's columns, the sensor column factorized.

    codes: (R,) int, each row's sensor as an index into ``names`` (the distinct
    sensor names in order of first appearance), -1 where the name is missing.
    values: column name -> (R,) float64.  mag_present: (R,) bool, whether the
    row carries magnetometer values; None when the table has no magnetometer
    columns.
    """

    codes: np.ndarray
    names: list[Any]
    values: dict[str, np.ndarray]
    mag_present: np.ndarray | None
    blocks: dict[str, np.ndarray] | None = None
    ranges_checked: bool = False
    """True when every value was checked against the IMU ranges column by column (the
    Parquet reader, before a compact cast), so the streams need not be again."""
    """"acc", "gyr" and (with magnetometer columns) "mag": (R, 3) arrays whose columns the
    values of ax..az, gx..gz, mx..mz are views of (a Parquet read fills them in place), so
    a sensor's (N, 3) samples are a slice of them, not a copy; None when the columns are
    separate arrays."""

    def sensor_of(self, row: int) -> Any:
        """The sensor name of a 0-based row, None where it is missing."""
        code = int(self.codes[row])
        return self.names[code] if code >= 0 else None

    def sensor_column(self) -> np.ndarray:
        """(R,) object: the sensor column as names (None where missing)."""
        return np.array(self.names + [None], dtype=object)[self.codes]


def _factorize(sensor: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """(codes, names) of an (R,) object column, as :class:`_Table` keeps them."""
    import pandas as pd

    codes, names = pd.factorize(sensor)  # missing (None, NaN) -> -1
    return codes, list(names)


def _long_table(rec: Recording) -> _Table:
    names = rec.placements + sorted(p for p in rec.streams if p not in PLACEMENTS)
    streams = [rec.streams[p] for p in names]
    orders = [np.argsort(np.asarray(s.t), kind="stable") for s in streams]
    has_mag = any(s.mag is not None for s in streams)
    codes = np.repeat(np.arange(len(names)), [len(s) for s in streams])
    t = _concat([np.asarray(s.t, np.float64).reshape(-1, 1)[o]
                 for s, o in zip(streams, orders, strict=True)], 1)
    acc = _concat([np.asarray(s.acc, np.float64)[o] for s, o in zip(streams, orders, strict=True)])
    gyr = _concat([np.asarray(s.gyr, np.float64)[o] for s, o in zip(streams, orders, strict=True)])
    values = {"t": t[:, 0]}
    values.update({c: acc[:, i] for i, c in enumerate(("ax", "ay", "az"))})
    values.update({c: gyr[:, i] for i, c in enumerate(("gx", "gy", "gz"))})
    mag_present = None
    if has_mag:
        mag = _concat([np.full((len(s), 3), np.nan) if s.mag is None
                       else np.asarray(s.mag, np.float64)[o]
                       for s, o in zip(streams, orders, strict=True)])
        mag_present = np.concatenate([np.full(len(s), s.mag is not None, dtype=bool)
                                      for s in streams]) if streams else np.zeros(0, bool)
        values.update({c: mag[:, i] for i, c in enumerate(MAG_COLUMNS)})
    return _Table(codes, names, values, mag_present)


def _concat(blocks: list[np.ndarray], width: int = 3) -> np.ndarray:
    return np.concatenate(blocks) if blocks else np.zeros((0, width))


def _build_recording(table: _Table, meta: Any, path: str | None,
                     dtype: type[np.floating] = np.float64) -> Recording:
    """Validate the table and metadata, group rows by sensor, build the Recording (acc, gyr,
    mag in ``dtype``)."""
    check_metadata(meta, path=path)
    codes, names = table.codes, table.names
    if len(codes) == 0:
        raise RecordingError("the recording has no samples", path=path)
    null = codes < 0
    if null.any():
        raise RecordingError("missing sensor name", path=path, row=int(np.argmax(null)) + 1)
    for k, name in enumerate(names):
        check_placement(name, path=path, row=int(np.argmax(codes == k)) + 1)
    streams: dict[str, SensorStream] = {}
    for k in sorted(range(len(names)), key=lambda k: PLACEMENTS.index(names[k])):
        streams[names[k]] = _stream_from_rows(names[k], table, np.flatnonzero(codes == k), path,
                                              dtype)
    _check_listed_sensors(meta.get("sensors") or {}, streams, path)
    check_minimum_set(streams, meta["test_leg"], path=path)
    return _recording_from_meta(streams, meta)


def _stream_from_rows(name: str, table: _Table, idx: np.ndarray, path: str | None,
                      dtype: type[np.floating] = np.float64) -> SensorStream:
    v = table.values
    rows = idx + 1
    # a sensor's rows are usually one block (as written): then a slice selects them
    take = slice(idx[0], idx[-1] + 1) if idx[-1] - idx[0] + 1 == len(idx) else idx
    t = v["t"][take] if table.blocks is not None else v["t"][take].copy()  # own a caller's frame
    acc = _xyz(table, "acc", ("ax", "ay", "az"), take)
    gyr = _xyz(table, "gyr", ("gx", "gy", "gz"), take)
    mag = None
    if table.mag_present is not None:
        present = table.mag_present[take]
        if present.all():
            mag = _xyz(table, "mag", MAG_COLUMNS, take)
        elif present.any():
            raise RecordingError(
                "magnetometer values missing in this row but present in others of the sensor",
                path=path, sensor=name, row=int(rows[np.argmin(present)]))
    check_stream(name, t, acc, gyr, mag, rows=rows, path=path, ranges=not table.ranges_checked)
    return SensorStream(t, acc.astype(dtype, copy=False), gyr.astype(dtype, copy=False),
                        None if mag is None else mag.astype(dtype, copy=False))


def _xyz(table: _Table, block: str, columns: tuple[str, ...], take: slice | np.ndarray
         ) -> np.ndarray:
    """(N, 3) rows ``take`` of three columns: a view of the table's block when it has one
    and take is a slice, else a copy."""
    if table.blocks is not None:
        return table.blocks[block][take]
    return np.column_stack([table.values[c][take] for c in columns])


def _check_listed_sensors(sensors_meta: JSONDoc, streams: dict[str, SensorStream],
                          path: str | None) -> None:
    for name in sensors_meta:
        if name not in streams:
            raise RecordingError("listed in the metadata 'sensors' but has no samples",
                                 path=path, sensor=name)


def _recording_from_meta(streams: dict[str, SensorStream], meta: JSONDoc) -> Recording:
    athlete_meta = dict(meta.get("athlete") or {})
    athlete = Athlete(**{k: athlete_meta.pop(k) for k in _ATHLETE_FIELDS if k in athlete_meta})
    extra = {k: v for k, v in meta.items() if k not in _KNOWN_KEYS}
    if athlete_meta:
        extra["athlete"] = athlete_meta
    return Recording(
        streams=streams, test_leg=meta["test_leg"], step_height_m=meta.get("step_height_m"),
        athlete=athlete, sensors_meta=dict(meta.get("sensors") or {}),
        pain_nrs=meta.get("pain_nrs"), started_at=meta.get("started_at"), extra=extra,
    )


# --- Parquet ---------------------------------------------------------------------------


def _parquet_bytes(table: _Table, meta: JSONDoc) -> bytes:
    # the sensor column from codes and names in Arrow (no Python string per row)
    names = pa.array(table.names, type=pa.string())
    arrays = [pa.DictionaryArray.from_arrays(pa.array(table.codes, type=pa.int32()), names)
              .cast(pa.string())]
    names = list(REQUIRED_COLUMNS)
    arrays += [pa.array(table.values[c], type=pa.float64()) for c in REQUIRED_COLUMNS[1:]]
    if table.mag_present is not None:
        names += list(MAG_COLUMNS)
        arrays += [pa.array(table.values[c], type=pa.float64(), mask=~table.mag_present)
                   for c in MAG_COLUMNS]
    schema = pa.schema([pa.field(n, a.type) for n, a in zip(names, arrays, strict=True)],
                       metadata={METADATA_KEY: _json_text(meta)})
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), buf, compression="zstd",
                   write_page_checksum=True)
    return buf.getvalue()


def _read_parquet(path: Path, dtype: type[np.floating] = np.float64) -> tuple[_Table, Any]:
    """The long table of a Parquet recording, read one column at a time.

    Column by column, each copied into its place in the table's arrays (t and the (R, 3)
    blocks the streams are then slices of) and its Arrow copy dropped before the next is
    read, and the sensor column decoded straight into codes (``read_dictionary``): reading
    the whole table at once held about three times the data (an hour of five sensors is
    ~150 MB of samples), and columns kept whole then copied into streams twice it. The
    blocks are of ``dtype`` (t is float64).
    """
    with _parquet_errors(path):
        try:
            f = pq.ParquetFile(path, read_dictionary=["sensor"], page_checksum_verification=True)
        except KeyError:  # no sensor column: check_columns below names what is missing
            f = pq.ParquetFile(path)
    with f:
        schema = f.schema_arrow
        raw = (schema.metadata or {}).get(METADATA_KEY.encode())
        if raw is None:
            raise RecordingError(f"no '{METADATA_KEY}' metadata in the Parquet file "
                                 "(not a stepdown recording?)", path=str(path))
        meta = _parse_json(raw.decode("utf-8", errors="replace"), str(path), "Parquet metadata")
        check_metadata(meta, path=str(path))
        has_mag = check_columns(schema.names, path=str(path))
        sensor_type = schema.field("sensor").type
        if pa.types.is_dictionary(sensor_type):
            sensor_type = sensor_type.value_type
        if not (pa.types.is_string(sensor_type) or pa.types.is_large_string(sensor_type)):
            raise RecordingError(f"column sensor has type {sensor_type}, expected string",
                                 path=str(path))
        for c in NUMERIC_COLUMNS:
            if c in schema.names and schema.field(c).type != pa.float64():
                raise RecordingError(f"column {c} has type {schema.field(c).type}, expected "
                                     "float64 (double)", path=str(path))
        codes, names = _arrow_factorize(_read_column(f, "sensor", path))
        values, valid = _empty_columns(len(codes), has_mag, dtype), {}
        for c in (c for c in NUMERIC_COLUMNS if c in schema.names):
            column, valid[c] = _arrow_values(_read_column(f, c, path))
            if c not in MAG_COLUMNS and valid[c] is not None:
                i = int(np.argmin(valid[c]))
                raise RecordingError(f"missing value in column {c}", path=str(path),
                                     sensor=names[codes[i]] if codes[i] >= 0 else None, row=i + 1)
            if valid[c] is not None:  # a null's slot holds anything: not a value to check
                column = np.where(valid[c], column, np.nan)
            if c != "t":  # before a compact cast: 1e300 would read as inf
                check_range(c, column, path=str(path),
                            sensor=lambda i: names[codes[i]] if codes[i] >= 0 else None)
            values[c][:] = column
            del column  # its Arrow buffer: one column of Arrow memory at a time
    blocks = {k: values[cols[0]].base for k, cols in _BLOCKS.items() if cols[0] in values}
    mag_present = None
    if has_mag:
        rows = len(codes)
        mag_present = np.column_stack([np.ones(rows, bool) if valid[c] is None else valid[c]
                                       for c in MAG_COLUMNS]).any(axis=1)
    return _Table(codes, names, values, mag_present, blocks, ranges_checked=True), meta


_BLOCKS = {"acc": ("ax", "ay", "az"), "gyr": ("gx", "gy", "gz"), "mag": MAG_COLUMNS}


def _empty_columns(rows: int, has_mag: bool, dtype: type[np.floating]) -> dict[str, np.ndarray]:
    """The numeric columns of a table of ``rows`` rows, to fill: t (R,) float64 and the
    columns of the (R, 3) acc, gyr (and mag) blocks of ``dtype``, as views of them."""
    values = {"t": np.empty(rows)}
    for block, columns in _BLOCKS.items():
        if block != "mag" or has_mag:
            xyz = np.empty((rows, 3), dtype)
            values.update({c: xyz[:, i] for i, c in enumerate(columns)})
    return values


@contextmanager
def _parquet_errors(path: Path) -> Iterator[None]:
    """An Arrow or OS error while reading becomes one RecordingError line."""
    try:
        yield
    except (pa.ArrowException, OSError) as err:
        raise RecordingError(f"not a readable Parquet file (truncated or corrupt?): "
                             f"{first_line(err)}", path=str(path)) from None


def _read_column(f: pq.ParquetFile, name: str, path: Path) -> pa.ChunkedArray:
    with _parquet_errors(path):
        column = f.read(columns=[name], use_threads=False).column(0)
    # Arrow's allocator keeps the pages it decoded from; hand them back before the next column
    # (without it, reading an hour's recording held ~200 MB more than its samples)
    pa.default_memory_pool().release_unused()
    return column


_NUMPY_TYPES = {pa.float64(): np.float64, pa.int8(): np.int8, pa.int16(): np.int16,
                pa.int32(): np.int32, pa.int64(): np.int64}


def _arrow_values(col: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
    """(values, valid) of a float64 or integer Arrow column, read from its buffers.

    values: (R,) read-only view of the data (undefined where not valid); valid: (R,) bool,
    None when the column has no nulls.  Arrow's own ``to_numpy`` converts through its
    pandas layer, which imports pandas (~0.3 s, a third of `stepdown info`).
    """
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    dtype = np.dtype(_NUMPY_TYPES[arr.type])
    n, offset = len(arr), arr.offset
    validity, data = arr.buffers()[:2]
    values = (np.frombuffer(data, dtype, count=n, offset=offset * dtype.itemsize) if n
              else np.zeros(0, dtype))
    if not arr.null_count:
        return values, None
    bits = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")
    return values, bits[offset:offset + n].astype(bool)


def _arrow_factorize(sensor: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """(codes, names) of the string column (plain or dictionary-encoded) as :class:`_Table`
    keeps them, without making a Python string per row."""
    if pa.types.is_dictionary(sensor.type) and sensor.num_chunks == 1:
        encoded = sensor.chunk(0)  # as read: indices into the column's own dictionary
    else:
        if pa.types.is_dictionary(sensor.type):
            sensor = sensor.cast(sensor.type.value_type)
        encoded = sensor.combine_chunks().dictionary_encode()  # first-appearance order
    codes, valid = _arrow_values(encoded.indices)
    codes = codes.astype(np.int64)
    if valid is not None:  # a missing name: refused later with its row
        codes[~valid] = -1
    return codes, encoded.dictionary.to_pylist()


# --- CSV -------------------------------------------------------------------------------


def _csv_bytes(table: _Table) -> bytes:
    names = list(REQUIRED_COLUMNS) + (list(MAG_COLUMNS) if table.mag_present is not None else [])
    cols: list[list[str]] = [table.sensor_column().tolist()]
    for c in names[1:]:
        text = list(map(repr, table.values[c].tolist()))
        if c in MAG_COLUMNS:
            text = [s if p else "" for s, p in zip(text, table.mag_present.tolist(), strict=True)]
        cols.append(text)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(zip(*cols, strict=True))
    return out.getvalue().encode("utf-8")


def _read_csv(path: Path) -> tuple[_Table, Any]:
    meta = _read_sidecar(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (UnicodeDecodeError, csv.Error) as err:
        raise RecordingError(f"not a readable CSV file (corrupt?): {first_line(err)}",
                             path=str(path)) from None
    while rows and not rows[-1]:
        rows.pop()
    if not rows:
        raise RecordingError("empty CSV file (no header row)", path=str(path))
    header, data = rows[0], rows[1:]
    has_mag = check_columns(header, path=str(path))
    lengths = np.fromiter(map(len, data), dtype=np.int64, count=len(data))
    bad = np.flatnonzero(lengths != len(header))
    if bad.size:
        i = int(bad[0])
        raise RecordingError(f"has {lengths[i]} fields, expected {len(header)} "
                             "(truncated or corrupt file?)", path=str(path), row=i + 1)
    columns = dict(zip(header, zip(*data, strict=True), strict=True)) if data else {
        c: () for c in header}
    mag_present = None
    if has_mag:
        empty = np.column_stack([np.asarray(columns[c], dtype=object) == "" for c in MAG_COLUMNS])
        mag_present = ~empty.all(axis=1) if len(data) else np.zeros(0, bool)
    codes, names = _factorize(np.asarray(columns["sensor"], dtype=object))
    table = _Table(codes, names, {}, mag_present)
    table.values = {c: _parse_floats(columns[c], c, table, str(path), allow_empty=c in MAG_COLUMNS)
                    for c in NUMERIC_COLUMNS if c in columns}
    return table, meta


def _parse_floats(cells: tuple[str, ...], column: str, table: _Table, path: str, *,
                  allow_empty: bool) -> np.ndarray:
    """Cells -> (R,) float64, exactly (Python's correctly rounded float parsing)."""
    if allow_empty:
        cells = tuple("nan" if c == "" else c for c in cells)
    try:
        return np.array(cells, dtype=np.float64).reshape(len(cells))
    except ValueError:
        for i, cell in enumerate(cells):
            try:
                float(cell)
            except ValueError:
                what = (f"empty cell in column {column}" if not cell.strip()
                        else f"column {column}: {cell!r} is not a number")
                raise RecordingError(what, path=path, sensor=table.sensor_of(i), row=i + 1) from None
        raise


def _read_sidecar(csv_path: Path) -> Any:
    side = sidecar_path(csv_path)
    if not side.is_file():
        raise RecordingError(_without_sidecar(csv_path, side.name), path=str(csv_path))
    try:
        text = side.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise RecordingError(f"metadata sidecar is not UTF-8 text: {first_line(err)}",
                             path=str(side)) from None
    return _parse_json(text, str(side), "metadata sidecar")


def _without_sidecar(csv_path: Path, sidecar: str) -> str:
    """Why a CSV without its sidecar is refused: a recording that lost it, another tool's
    export (the first lines tell), or neither."""
    with open(csv_path, encoding="utf-8-sig", errors="replace") as f:
        head = [f.readline() for _ in range(20)]
    if any("PacketCounter" in ln or "SampleTimeFine" in ln for ln in head):
        return ("a Movella DOT app export, not a stepdown recording: join the sensors' "
                "exports into one with `stepdown import-dot`")
    if not set(REQUIRED_COLUMNS) <= {c.strip() for c in head[0].split(",")}:
        return (f"not a stepdown recording (its header is not {','.join(REQUIRED_COLUMNS)}, "
                f"and there is no {sidecar} with its metadata beside it)")
    return (f"the metadata sidecar {sidecar} is missing "
            "(a CSV recording keeps its metadata in <name>.json beside it)")


# --- small helpers -----------------------------------------------------------------------


def _suffix(path: Path) -> str:
    """The file type, .parquet or .csv; anything else is refused."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise RecordingError(f"unsupported file type {path.suffix!r} "
                             f"(expected {' or '.join(SUFFIXES)})", path=str(path))
    return suffix


def _parse_json(text: str, path: str, what: str) -> Any:
    try:
        return parse_json(text)
    except JSONProblem as err:
        raise RecordingError(f"{what} is {err}", path=path) from None


def _json_text(meta: JSONDoc, indent: int | None = None) -> str:
    try:
        text = json.dumps(meta, indent=indent, ensure_ascii=False, allow_nan=False,
                          default=_json_default)
    except (TypeError, ValueError) as err:
        raise RecordingError(f"metadata cannot be written as JSON: {err}") from None
    return text + "\n" if indent is not None else text


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic | np.ndarray):
        return obj.tolist()
    raise TypeError(f"metadata value {obj!r} of type {type(obj).__name__} is not JSON")


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then move it into place.

    A failure at any point leaves an existing file at ``path`` untouched.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates 0600; give the file the mode a plain open() would (umask)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
