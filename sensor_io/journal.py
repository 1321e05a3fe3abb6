"""Append-only, crash-safe journal of a live recording; it survives damage.

File layout (version 2): the 8-byte magic ``SDJOURN2``, then records

    sync b"\\xd5SDR" | uint32 length | uint64 session | uint32 seq | uint32 crc | payload
    payload = uint8 kind | uint16 header length | header (UTF-8 JSON) | body bytes

all little-endian; ``crc`` is the CRC-32 of length, session, seq and payload.  Every
record carries its own sync marker, checksum, the session id and a sequence number, so
a reader that meets damage (a flipped bit, a zeroed sector, a torn tail) skips to the
next sync marker whose record checks out, keeps everything after it, and knows from the
sequence numbers how many records it lost.  Nothing depends on the file's first bytes:
a damaged magic is reported, not fatal, and the metadata record is repeated every
``meta_every_bytes`` (64 kB) so losing the start of the file does not lose it.

Record kinds (bodies are little-endian):

- ``META``: header = recording metadata (DESIGN.md keys) and ``session``; no body.
- ``RAW``: header {sensor, char, t_host}; body = the notification bytes as received.
- ``SAMPLES``: header {sensor, n, k, t_first}: n samples, k of this sensor kept before
  them, t_first its first sample (s); body = float64 (n, 7): t [s, common clock],
  ax ay az [m/s²], gx gy gz [rad/s], sensor frame.  k and t_first let a reader say
  exactly how many samples of which sensor a damaged stretch cost, and over which span.
- ``GAP``: header {sensor, start_s, end_s, reason}: samples known missing.
- ``EVENT``: header {what, t, ...}: calibration start, reconnects, user notes.
- ``END``: header {samples: {sensor: kept}, t_end}: the recording was closed cleanly.

The writer owns the file exclusively (a new file, ``flock``-ed) and keeps the bytes it
could not write yet (full disk, file-size limit) in memory, retrying at every sync; the
version-1 format (``SDJOURN1``, no sync marker nor session) is still read.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sensor_io.errors import InputError
from sensor_io.json_doc import JSONDoc

MAGIC = b"SDJOURN2"
MAGIC_V1 = b"SDJOURN1"
SYNC = b"\xd5SDR"
META, RAW, SAMPLES, GAP, EVENT, END = 0, 1, 2, 3, 4, 5
_FRAME = struct.Struct("<4sIQII")     # sync, length, session, seq, crc
_CHECKED = struct.Struct("<IQI")      # the frame fields the CRC covers, then the payload
_V1_PREFIX = struct.Struct("<II")
_MAX_RECORD = 64 * 1024 * 1024


class JournalError(InputError):
    """A file that is not a stepdown journal, or one that cannot be written."""


class EmptyJournalError(JournalError):
    """A journal that holds nothing: the recording stopped before anything was saved."""


class JournalBusyError(JournalError):
    """A journal another live recording is writing."""


def new_session_id() -> int:
    """A random 64-bit session id (shown as 16 hex digits).

    Returns
    -------
    int
        The id, 0 <= id < 2**64.
    """
    return secrets.randbits(64)


@dataclass
class Record:
    """One intact journal record, as read or as to be written."""

    kind: int
    """META, RAW, SAMPLES, GAP, EVENT or END (uint8 on disk)."""
    header: JSONDoc
    """The header (UTF-8 JSON on disk), keys as the module docstring lists per kind."""
    body: bytes
    """The body bytes (little-endian; SAMPLES: float64 rows, see :meth:`samples`)."""
    session: int = 0
    """The writer's session id (uint64 on disk; 0 in version 1)."""
    seq: int = -1
    """The record's sequence number in its session (uint32 on disk; -1 in version 1)."""

    def samples(self) -> np.ndarray:
        """For SAMPLES records: (n, 7) float64 columns t, ax, ay, az, gx, gy, gz, or
        (n, 10) with mx, my, mz after them when the header says ``"mag": true``.

        Returns
        -------
        numpy.ndarray
            Shape (n, 7) or (n, 10), float64: t s (common clock), acc m/s², gyr rad/s[,
            mag µT], sensor frame (a view of the little-endian body).
        """
        return np.frombuffer(self.body, dtype="<f8").reshape(-1, 10 if self.header.get("mag")
                                                              else 7)


def encode_record(kind: int, header: JSONDoc, body: bytes = b"", *, session: int = 0,
                  seq: int = 0) -> bytes:
    """One framed record (sync, length, session, seq, CRC, payload).

    Parameters
    ----------
    kind : int
        META, RAW, SAMPLES, GAP, EVENT or END.
    header : dict
        The header, written as compact UTF-8 JSON.
    body : bytes
        The body bytes.
    session : int
        The session id (uint64).
    seq : int
        The sequence number (uint32).

    Returns
    -------
    bytes
        ``SYNC | uint32 length | uint64 session | uint32 seq | uint32 crc | payload``,
        little-endian, payload = ``uint8 kind | uint16 header length | header | body``.
    """
    h = json.dumps(header, separators=(",", ":")).encode()
    payload = struct.pack("<BH", kind, len(h)) + h + body
    crc = zlib.crc32(payload, zlib.crc32(_CHECKED.pack(len(payload), session, seq)))
    return _FRAME.pack(SYNC, len(payload), session, seq, crc) + payload


def samples_body(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                 mag: np.ndarray | None = None) -> bytes:
    """Body of a SAMPLES record: t (N,) s, acc (N, 3) m/s², gyr (N, 3) rad/s and, where
    the sensor measures it, mag (N, 3) µT (the record's header then has ``"mag": true``).

    Parameters
    ----------
    t : numpy.ndarray
        Sample times, shape (N,), s, common clock.
    acc : numpy.ndarray
        Specific force, shape (N, 3), m/s², sensor frame.
    gyr : numpy.ndarray
        Angular rate, shape (N, 3), rad/s, sensor frame.
    mag : numpy.ndarray, optional
        Magnetic field, shape (N, 3), µT, sensor frame.

    Returns
    -------
    bytes
        Little-endian float64 rows (N, 7) or (N, 10): t, ax ay az, gx gy gz[, mx my mz].
    """
    cols = [t, acc, gyr] if mag is None else [t, acc, gyr, mag]
    return np.column_stack(cols).astype("<f8").tobytes()


def _open_exclusive(path: Path, overwrite: bool) -> int:
    """A write descriptor on a journal no other process holds; refuses an existing file
    unless ``overwrite`` (then truncates it once the lock is held)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | (0 if overwrite else os.O_EXCL), 0o644)
    except FileExistsError:
        if journal_in_use(path):
            raise JournalBusyError(f"{path}: another recording is writing this journal") from None
        raise JournalError(f"{path}: a journal of an earlier session is there (rebuild it with "
                           f"`stepdown recover {path}`, or pass --overwrite)") from None
    except OSError as err:
        raise JournalError(f"cannot create the journal {path}: {err.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise JournalBusyError(f"{path}: another recording is writing this journal") from None
    os.ftruncate(fd, 0)
    return fd


def journal_in_use(path: Path) -> bool:
    """Is a live recording writing the journal at ``path`` (it holds its lock)?

    Parameters
    ----------
    path : pathlib.Path
        The journal.

    Returns
    -------
    bool
        True when another process holds its exclusive lock; False when it is free or
        cannot be opened.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


class JournalWriter:
    """Appends records to a new journal and keeps it durable.

    Appends go to an in-memory buffer; the buffer is written and the file fsynced once
    the last sync is ``sync_interval_s`` old (on every append and on :meth:`sync_if_due`,
    which the live loop calls on every poll, so records become durable even when every
    stream has gone quiet).  A write that fails (full disk, file-size limit, I/O error)
    keeps the unwritten bytes in memory and is retried at the next sync; ``error`` holds
    the failure until a retry succeeds and ``pending_bytes`` what is not on disk yet.

    Parameters
    ----------
    path : str or pathlib.Path
        The new journal (its folder is created); JournalBusyError when another recording
        writes it.
    sync_interval_s : float
        Longest time between syncs, s.
    session : int, optional
        The session id written in every record (random by default).
    overwrite : bool
        Replace an existing file (else JournalError when one exists).
    meta_every_bytes : int
        The metadata set by :meth:`set_meta` is repeated every this many bytes.
    clock : callable
        Seconds, monotonic (the sync timer only).
    """

    def __init__(self, path: str | Path, sync_interval_s: float = 0.5, *,
                 session: int | None = None, overwrite: bool = False,
                 meta_every_bytes: int = 64 * 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        self.sync_interval_s = sync_interval_s
        self.session = new_session_id() if session is None else session
        self.meta_every_bytes = meta_every_bytes
        self._clock = clock
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise JournalError(f"cannot create the folder {self.path.parent}: "
                               f"{err.strerror}") from None
        self._fd: int | None = _open_exclusive(self.path, overwrite)
        self._pending = bytearray(MAGIC)
        self._seq = 0
        self._meta: JSONDoc | None = None
        self._since_meta = 0
        self.written_bytes = 0
        self.error: OSError | None = None
        self.failures = 0  # syncs that could not write everything
        self._last_sync = self._clock()

    @property
    def pending_bytes(self) -> int:
        """Bytes appended but not written to the file yet."""
        return len(self._pending)

    @property
    def closed(self) -> bool:
        """Whether the file is closed (its lock released)."""
        return self._fd is None

    def set_meta(self, meta: JSONDoc) -> None:
        """Append the recording's metadata now, and repeat it as the journal grows.

        Parameters
        ----------
        meta : dict
            The recording's metadata (DESIGN.md keys); ``session`` is added.
        """
        self._meta = meta
        self._append(META, {**meta, "session": f"{self.session:016x}"})

    def append(self, kind: int, header: JSONDoc, body: bytes = b"") -> None:
        """Append one record (the metadata first when it is due), and sync when due.

        Parameters
        ----------
        kind : int
            RAW, SAMPLES, GAP, EVENT or END.
        header : dict
            The record's header (see the module docstring).
        body : bytes
            The record's body.
        """
        if self._meta is not None and self._since_meta >= self.meta_every_bytes:
            self.set_meta(self._meta)
        self._append(kind, header, body)
        self.sync_if_due()

    def _append(self, kind: int, header: JSONDoc, body: bytes = b"") -> None:
        rec = encode_record(kind, header, body, session=self.session, seq=self._seq)
        self._seq += 1
        self._pending += rec
        self._since_meta = 0 if kind == META else self._since_meta + len(rec)

    def sync_if_due(self) -> None:
        """Sync when the last sync is ``sync_interval_s`` old."""
        if self._clock() - self._last_sync >= self.sync_interval_s:
            self.sync()

    def sync(self) -> bool:
        """Write the buffer and fsync the file; False (and ``error`` set) if a write
        failed, the unwritten bytes then stay buffered for the next try.

        Returns
        -------
        bool
            Whether everything appended is on disk.
        """
        self._last_sync = self._clock()
        if self._fd is None:
            return not self._pending
        try:
            while self._pending:
                n = os.write(self._fd, self._pending)
                del self._pending[:n]
                self.written_bytes += n
            os.fsync(self._fd)
        except OSError as err:
            self.error = err
            self.failures += 1
            return False
        self.error = None
        return True

    def unwritten(self) -> bytes:
        """The bytes not on disk yet (they continue the file exactly where it stops).

        Returns
        -------
        bytes
            A copy of the buffer.
        """
        return bytes(self._pending)

    def close(self) -> bool:
        """Sync and close; False if bytes are still unwritten (see :meth:`unwritten`).

        Returns
        -------
        bool
            Whether everything appended is on disk.
        """
        if self._fd is None:
            return not self._pending
        ok = self.sync()
        os.close(self._fd)  # releases the lock
        self._fd = None
        return ok

    def __del__(self) -> None:  # a writer dropped unclosed must not keep its file locked
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- reading -------------------------------------------------------------------------------
@dataclass
class JournalContents:
    """What a reader found: the intact records in order and the damage it skipped."""

    records: list[Record]
    """The intact records, in file order."""
    torn_bytes: int
    """Bytes dropped in all: damaged stretches and an unreadable tail."""
    damaged: list[tuple[int, int]] = field(default_factory=list)
    """The damaged stretches, [start, end) byte offsets."""
    tail_bytes: int = 0
    """Unreadable bytes at the end (a torn last record, or damage)."""
    magic_ok: bool = True
    """Whether the file starts with an intact magic."""
    version: int = 2
    """The format version read (1 or 2)."""
    lost_records: int = 0
    """Sequence numbers missing between intact records."""
    foreign_records: int = 0
    """Intact records of another session (skipped)."""
    session: int | None = None
    """The journal's session id; None when no record names one."""
    empty: bool = False
    """No record at all, not even the magic whole."""


def _v2_record_at(data: bytes, i: int, kinds: frozenset[int] | None = None,
                  ) -> tuple[Record, int] | None:
    """The intact record starting at byte i and the offset after it, else None; a record
    whose kind is not in ``kinds`` is checked but not decoded (empty header and body)."""
    if len(data) - i < _FRAME.size:
        return None
    sync, length, session, seq, crc = _FRAME.unpack_from(data, i)
    start = i + _FRAME.size
    if sync != SYNC or length < 3 or length > _MAX_RECORD or start + length > len(data):
        return None
    payload = data[start:start + length]
    if zlib.crc32(payload, zlib.crc32(_CHECKED.pack(length, session, seq))) != crc:
        return None
    if kinds is not None and payload[0] not in kinds:
        return Record(payload[0], {}, b"", session, seq), start + length
    record = _decode_payload(payload, session, seq)
    return None if record is None else (record, start + length)


def _v1_record_at(data: bytes, i: int) -> tuple[Record, int] | None:
    if len(data) - i < _V1_PREFIX.size:
        return None
    length, crc = _V1_PREFIX.unpack_from(data, i)
    start = i + _V1_PREFIX.size
    if length < 3 or length > _MAX_RECORD or start + length > len(data):
        return None
    payload = data[start:start + length]
    if zlib.crc32(payload) != crc:
        return None
    record = _decode_payload(payload, 0, -1)
    return None if record is None else (record, start + length)


def _decode_payload(payload: bytes, session: int, seq: int) -> Record | None:
    kind, hlen = struct.unpack_from("<BH", payload, 0)
    try:
        header = json.loads(payload[3:3 + hlen])
    except ValueError:
        return None
    if not isinstance(header, dict):
        return None
    return Record(kind, header, payload[3 + hlen:], session, seq)


def read_journal(path: str | Path, kinds: set[int] | None = None) -> JournalContents:
    """All intact records of a journal in order, and the damage skipped on the way.

    Damage anywhere (the magic, the first records, the middle, the tail) costs only the
    records it touches: the reader resynchronises on the next intact record.  A journal
    with nothing in it (a recording killed before its first write) has no records;
    raises :class:`JournalError` for a file that is no journal.  ``kinds``: decode only
    records of these kinds (the others are checked and counted, then left out).

    Parameters
    ----------
    path : str or pathlib.Path
        The journal.
    kinds : set of int, optional
        Record kinds to decode (None: all).

    Returns
    -------
    JournalContents
        The intact records in order and the damage skipped.
    """
    path = Path(path)
    data = path.read_bytes()
    if len(data) <= len(MAGIC) and MAGIC.startswith(data):
        return JournalContents([], 0, empty=True)  # killed before its first write
    if data[:len(MAGIC_V1)] == MAGIC_V1:
        return _read_v1(data)
    magic_ok = data[:len(MAGIC)] == MAGIC
    c = _scan_v2(data, len(MAGIC) if magic_ok else 0, None if kinds is None else frozenset(kinds))
    c.magic_ok = magic_ok
    if not c.records and not magic_ok:
        raise JournalError(f"{path}: not a stepdown journal (no intact record found)")
    return c


def _scan_v2(data: bytes, i: int, kinds: frozenset[int] | None) -> JournalContents:
    records: list[Record] = []
    damaged: list[tuple[int, int]] = []
    tail = 0
    while i < len(data):
        found = _v2_record_at(data, i, kinds)
        if found is not None:
            records.append(found[0])
            i = found[1]
            continue
        j = data.find(SYNC, i + 1)
        while j >= 0 and _v2_record_at(data, j) is None:
            j = data.find(SYNC, j + 1)
        if j < 0:
            tail = len(data) - i
            break
        damaged.append((i, j))
        i = j
    session = next((r.session for r in records if r.kind == META), None)
    if session is None and records:
        session = records[0].session
    own = [r for r in records if r.session == session]
    seqs = np.array([r.seq for r in own], dtype=np.int64)
    lost = int(np.sum(np.clip(np.diff(seqs) - 1, 0, None))) + (int(seqs[0]) if len(seqs) else 0)
    kept = own if kinds is None else [r for r in own if r.kind in kinds]
    return JournalContents(kept, sum(b - a for a, b in damaged) + tail, damaged, tail,
                           version=2, lost_records=lost,
                           foreign_records=len(records) - len(own), session=session)


def _read_v1(data: bytes) -> JournalContents:
    """Version 1: no sync markers, so a damaged record is skipped byte by byte."""
    records: list[Record] = []
    i, skipped = len(MAGIC_V1), 0
    while i < len(data):
        found = _v1_record_at(data, i)
        if found is None:
            i += 1
            skipped += 1
            continue
        record, i = found
        records.append(record)
    return JournalContents(records, skipped, version=1)
