"""Append-only, crash-safe journal of a live recording.

File layout: the 8-byte magic ``SDJOURN1``, then records

    uint32 LE length | uint32 LE crc32(payload) | payload (length bytes)
    payload = uint8 kind | uint16 LE header length | header (UTF-8 JSON) | body bytes

A crash (SIGKILL, power loss) can only tear the last record: the reader stops at the
first record whose length runs past the end of the file or whose CRC does not match,
and reports how many bytes it dropped.  The writer flushes and fsyncs at least every
``sync_interval_s`` (default 0.5 s), so at most that much is lost.

Record kinds (bodies are little-endian):

- ``META``: header = recording metadata (DESIGN.md keys), no body.
- ``RAW``: header {sensor, char, t_host}; body = the notification bytes as received.
- ``SAMPLES``: header {sensor, n}; body = float64 (n, 7): t [s, common clock],
  ax ay az [m/s²], gx gy gz [rad/s], sensor frame.
- ``GAP``: header {sensor, start_s, end_s, reason}: samples known missing.
- ``EVENT``: header {what, t, ...}: calibration start, reconnects, user notes.
"""

from __future__ import annotations

import json
import os
import struct
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from sensor_io.errors import InputError

MAGIC = b"SDJOURN1"
META, RAW, SAMPLES, GAP, EVENT = 0, 1, 2, 3, 4
_PREFIX = struct.Struct("<II")
_MAX_RECORD = 64 * 1024 * 1024


class JournalError(InputError):
    """A file that is not a stepdown journal."""


@dataclass
class Record:
    kind: int
    header: dict[str, Any]
    body: bytes

    def samples(self) -> np.ndarray:
        """For SAMPLES records: (n, 7) float64 columns t, ax, ay, az, gx, gy, gz."""
        return np.frombuffer(self.body, dtype="<f8").reshape(-1, 7)


def encode_record(kind: int, header: dict[str, Any], body: bytes = b"") -> bytes:
    """One framed record (length, CRC, payload)."""
    h = json.dumps(header, separators=(",", ":")).encode()
    payload = struct.pack("<BH", kind, len(h)) + h + body
    return _PREFIX.pack(len(payload), zlib.crc32(payload)) + payload


def samples_body(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> bytes:
    """Body of a SAMPLES record: t (N,) s, acc (N, 3) m/s², gyr (N, 3) rad/s."""
    return np.column_stack([t, acc, gyr]).astype("<f8").tobytes()


class JournalWriter:
    """Appends records to a journal and keeps it durable.

    Appends are buffered; the buffer is flushed and the file fsynced once the last sync
    is ``sync_interval_s`` old, checked on every append and by :meth:`sync_if_due`, which
    the live loop calls on every poll so that records are made durable even when every
    stream has gone quiet.
    """

    def __init__(self, path: str | Path, sync_interval_s: float = 0.5) -> None:
        self.path = Path(path)
        self.sync_interval_s = sync_interval_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        if not new:
            with open(self.path, "rb") as f:
                if f.read(len(MAGIC)) != MAGIC:
                    raise JournalError(f"{self.path}: exists and is not a stepdown journal")
        self._f: BinaryIO = open(self.path, "ab")
        if new:
            self._f.write(MAGIC)
        self._last_sync = time.monotonic()

    def append(self, kind: int, header: dict[str, Any], body: bytes = b"") -> None:
        self._f.write(encode_record(kind, header, body))
        self.sync_if_due()

    def sync_if_due(self) -> None:
        if time.monotonic() - self._last_sync >= self.sync_interval_s:
            self.sync()

    def sync(self) -> None:
        """Flush Python's buffer and fsync the file."""
        self._f.flush()
        os.fsync(self._f.fileno())
        self._last_sync = time.monotonic()

    def close(self) -> None:
        if not self._f.closed:
            self.sync()
            self._f.close()

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class JournalContents:
    records: list[Record]
    torn_bytes: int  # bytes dropped: a record cut by a crash, or damaged ones


def _record_at(data: bytes, i: int) -> tuple[Record, int] | None:
    """The intact record starting at byte i and the offset after it, else None."""
    if len(data) - i < _PREFIX.size:
        return None
    length, crc = _PREFIX.unpack_from(data, i)
    start = i + _PREFIX.size
    if length < 3 or length > _MAX_RECORD or start + length > len(data):
        return None
    payload = data[start:start + length]
    if zlib.crc32(payload) != crc:
        return None
    kind, hlen = struct.unpack_from("<BH", payload, 0)
    try:
        header = json.loads(payload[3:3 + hlen])
    except ValueError:
        return None
    return Record(kind, header, payload[3 + hlen:]), start + length


def read_journal(path: str | Path) -> JournalContents:
    """All intact records of a journal in order, and how many bytes were skipped.

    A damaged record (bad CRC) inside the file is skipped by searching byte by byte for
    the next intact one, so one bad sector does not cost the rest; a torn tail is dropped.
    """
    path = Path(path)
    data = path.read_bytes()
    if data[: len(MAGIC)] != MAGIC:
        raise JournalError(f"{path}: not a stepdown journal (bad magic)")
    records: list[Record] = []
    i = len(MAGIC)
    skipped = 0
    while i < len(data):
        found = _record_at(data, i)
        if found is None:
            i += 1
            skipped += 1
            continue
        record, i = found
        records.append(record)
    return JournalContents(records, skipped)
