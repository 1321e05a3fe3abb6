"""Crash-safe recorder: live samples go to a journal first, the Parquet recording last.

A :class:`Recorder` takes decoded samples (common clock, SI, sensor frame), raw
notification bytes, gap markers and events; each is appended to the journal
(:mod:`sensor_io.journal`) as it arrives and kept in memory for live scoring.
:meth:`Recorder.finish` writes the recording; :func:`recover` rebuilds one from a
journal left behind by a crash, and says exactly which samples of which sensor a
damaged journal lost.  Gaps are written into the recording metadata as
``extra["gaps"]`` = [{sensor, start_s, end_s, reason}], never filled in; the session id
is ``extra["session"]`` (16 hex digits) in the journal and the recording alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sensor_io.errors import InputError, RecordingError
from sensor_io.journal import (
    END,
    EVENT,
    GAP,
    META,
    RAW,
    SAMPLES,
    EmptyJournalError,
    JournalContents,
    JournalWriter,
    read_journal,
    samples_body,
)
from sensor_io.json_doc import JSONDoc
from sensor_io.recording import (
    CALIBRATION_MOVEMENT_KEY,
    FORMAT_NAME,
    FORMAT_VERSION,
    KNEE_BENDS,
    LEGS,
    PLACEMENTS,
    Athlete,
    Recording,
    SensorStream,
)
from sensor_io.recording_io import write_recording

DAMAGED = "journal damaged"


@dataclass
class GapMarker:
    """Samples of ``sensor`` known missing between start_s and end_s (common clock, s)."""

    sensor: str
    """The placement."""
    start_s: float
    """The last sample before the gap, s, common clock."""
    end_s: float
    """The first sample after the gap (or the end), s, common clock."""
    reason: str
    """Why the samples are missing (reconnect, "journal damaged", ...)."""


@dataclass
class LostSpan:
    """Samples of ``sensor`` the journal held but lost to damage: ``samples`` of them
    after start_s (the last kept sample before, s; None: from the sensor's first sample)
    and before end_s (the first kept sample after; None: to the end of the recording)."""

    sensor: str
    """The placement."""
    start_s: float | None
    """The last kept sample before, s; None: from the sensor's first sample."""
    end_s: float | None
    """The first kept sample after, s; None: to the end of the recording."""
    samples: int
    """How many samples were lost."""


@dataclass
class RecoveryReport:
    """What :func:`recording_from_journal` rebuilt, and what the journal's damage cost."""

    records: int
    """Intact records read."""
    torn_bytes: int
    """Bytes dropped in all: damaged stretches and an unreadable tail."""
    samples: dict[str, int] = field(default_factory=dict)
    """Samples recovered per placement."""
    problem: str | None = None
    """Why the rebuilt recording breaks the contract, if it does."""
    lost: list[LostSpan] = field(default_factory=list)
    """The samples lost to damage, per sensor and span."""
    damaged_bytes: int = 0
    """Bytes in damaged stretches followed by intact records."""
    tail_bytes: int = 0
    """Bytes unreadable at the end: a torn last record, or damage."""
    magic_ok: bool = True
    """Whether the journal's magic was intact."""
    closed: bool = False
    """The journal ends with its END record (a clean finish)."""
    lost_records: int = 0
    """Sequence numbers missing between intact records."""
    session: str | None = None
    """The session id, 16 hex digits."""


def _meta_header(rec_meta: JSONDoc) -> JSONDoc:
    return {"format": FORMAT_NAME, "version": FORMAT_VERSION, **rec_meta}


class Recorder:
    """Journal-backed sample sink for one test.

    Parameters
    ----------
    journal_path : str or pathlib.Path
        The journal, which must not exist yet.
    test_leg : str
        'left' or 'right'.
    athlete : Athlete, optional
        Id and optional body dimensions (m).
    sensors_meta : dict, optional
        Placement -> {model, address, rate_hz, ...}.
    step_height_m : float, optional
        Step height, m.
    started_at : str, optional
        When the recording started (ISO 8601 text).
    pain_nrs : list of float or float, optional
        Pain 0-10 per rep, or one number for the whole test.
    keep_raw : bool
        Journal the raw notification bytes too.
    sync_interval_s : float
        Longest time between journal syncs, s.
    session : int, optional
        The session id (see :class:`~sensor_io.journal.JournalWriter`).
    overwrite : bool
        Replace a journal no other process is writing.
    clock : callable
        Seconds, monotonic (the journal's sync timer only).
    exercise : dict, optional
        The ``exercise`` metadata object (:mod:`sensor_io.exercise`).
    """

    def __init__(
        self, journal_path: str | Path, *, test_leg: str, athlete: Athlete | None = None,
        sensors_meta: dict[str, JSONDoc] | None = None,
        step_height_m: float | None = None, started_at: str | None = None,
        pain_nrs: list[float] | float | None = None, keep_raw: bool = True,
        sync_interval_s: float = 0.5, session: int | None = None, overwrite: bool = False,
        clock: Callable[[], float] = time.monotonic, exercise: JSONDoc | None = None,
    ) -> None:
        if test_leg not in LEGS:
            raise InputError(f"test leg must be one of {LEGS}, got {test_leg!r}")
        self.journal = JournalWriter(journal_path, sync_interval_s=sync_interval_s,
                                     session=session, overwrite=overwrite, clock=clock)
        self.keep_raw = keep_raw
        self.meta: JSONDoc = {
            "test_leg": test_leg, "step_height_m": step_height_m,
            "athlete": asdict(athlete or Athlete()),
            "sensors": dict(sensors_meta or {}), "started_at": started_at,
            "pain_nrs": pain_nrs,
        }
        if exercise is not None:  # sensor_io.exercise: which exercise, band, load
            self.meta["exercise"] = exercise
        self.gaps: list[GapMarker] = []
        self.events: list[JSONDoc] = []
        self._parts: dict[str, list[np.ndarray]] = {}
        self._mag_parts: dict[str, list[np.ndarray]] = {}  # (n, 3) µT, aligned with _parts
        self._last_t: dict[str, float] = {}
        self._first_t: dict[str, float] = {}
        self.kept: dict[str, int] = {}
        self.dropped_non_increasing = 0
        self.journal.set_meta(_meta_header(self.meta))
        self.journal.sync()  # the metadata is durable before any sensor connects

    @property
    def session(self) -> str:
        """The session id, 16 hex digits (in every journal record and in the recording)."""
        return f"{self.journal.session:016x}"

    def set_pain(self, pain_nrs: list[float] | float | None) -> None:
        """The athlete's 0-10 pain per rep (or one number for the whole test).

        Parameters
        ----------
        pain_nrs : list of float, float or None
            Pain NRS, 0-10.
        """
        self.meta["pain_nrs"] = pain_nrs
        self.journal.set_meta(_meta_header(self.meta))

    def set_calibration_movement(self, t0: float, t1: float) -> None:
        """The guided calibration movement (knee bends on both feet) was asked for from
        ``t0`` to ``t1`` (s, common clock): :data:`CALIBRATION_MOVEMENT_KEY` in the metadata.

        Parameters
        ----------
        t0 : float
            Start, s, common clock.
        t1 : float
            End, s, common clock.
        """
        self.meta[CALIBRATION_MOVEMENT_KEY] = {"kind": KNEE_BENDS,
                                               "window_s": [round(t0, 3), round(t1, 3)]}
        self.journal.set_meta(_meta_header(self.meta))

    def update_sensor_meta(self, sensor: str, **fields: Any) -> None:
        """Add fields (model, rate_hz, battery_v, ...) to a sensor's metadata.

        Parameters
        ----------
        sensor : str
            The placement.
        **fields : Any
            The fields (rate_hz in Hz, battery_v in V, ...).
        """
        self.meta["sensors"].setdefault(sensor, {}).update(fields)
        self.journal.set_meta(_meta_header(self.meta))

    def add_raw(self, sensor: str, char_uuid: str, t_host: float, data: bytes) -> None:
        """Journal one notification as received (when ``keep_raw``).

        Parameters
        ----------
        sensor : str
            The placement.
        char_uuid : str
            The characteristic that notified.
        t_host : float
            Its arrival, s, common clock.
        data : bytes
            The notification's bytes.
        """
        if self.keep_raw:
            self.journal.append(RAW, {"sensor": sensor, "char": char_uuid, "t_host": t_host},
                                bytes(data))

    def add_samples(self, sensor: str, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                    mag: np.ndarray | None = None) -> int:
        """Append samples t (N,) s, acc (N, 3) m/s², gyr (N, 3) rad/s and, where the sensor
        measures it, mag (N, 3) µT (sensor frame); samples not later than the sensor's last
        one are dropped (duplicates).  Returns how many were kept.

        Parameters
        ----------
        sensor : str
            The placement.
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
        int
            How many samples were kept.
        """
        if sensor not in PLACEMENTS:
            raise InputError(f"unknown placement {sensor!r} (expected one of {PLACEMENTS})")
        block = np.column_stack([np.asarray(t, float), np.asarray(acc, float),
                                 np.asarray(gyr, float)])
        last = self._last_t.get(sensor, -np.inf)
        prev_max = np.maximum.accumulate(np.concatenate([[last], block[:-1, 0]]))
        keep = block[:, 0] > prev_max
        block = block[keep]
        self.dropped_non_increasing += len(t) - len(block)
        if not len(block):
            return 0
        first = self._first_t.setdefault(sensor, float(block[0, 0]))
        k = self.kept.get(sensor, 0)
        mag_kept = None if mag is None else np.asarray(mag, float)[keep]
        header = {"sensor": sensor, "n": len(block), "k": k, "t_first": first}
        self.journal.append(SAMPLES, header if mag_kept is None else {**header, "mag": True},
                            samples_body(block[:, 0], block[:, 1:4], block[:, 4:7], mag_kept))
        self._keep_mag(sensor, k, len(block), mag_kept)
        self._parts.setdefault(sensor, []).append(block)
        self._last_t[sensor] = float(block[-1, 0])
        self.kept[sensor] = k + len(block)
        return len(block)

    def add_gap(self, sensor: str, start_s: float, end_s: float, reason: str) -> None:
        """Mark samples known missing (journaled, and in the recording's ``extra["gaps"]``).

        Parameters
        ----------
        sensor : str
            The placement.
        start_s : float
            The last sample before the gap, s, common clock.
        end_s : float
            The first sample after the gap, s, common clock.
        reason : str
            Why they are missing.
        """
        gap = GapMarker(sensor, float(start_s), float(end_s), reason)
        self.gaps.append(gap)
        self.journal.append(GAP, asdict(gap))

    def add_event(self, what: str, t: float, **fields: Any) -> None:
        """Note an event (journaled, and in the recording's ``extra["events"]``).

        Parameters
        ----------
        what : str
            The event's name.
        t : float
            When, s, common clock.
        **fields : Any
            Details, JSON-serialisable.
        """
        ev = {"what": what, "t": t, **fields}
        self.events.append(ev)
        self.journal.append(EVENT, ev)

    def mark_silent_to_end(self, sensors: list[str], t_start_s: float, t_end_s: float,
                           min_gap_s: float = 0.5) -> list[GapMarker]:
        """Gap markers for sensors silent at the end: from their last sample (or, for one
        that never sent any, from ``t_start_s``) to ``t_end_s`` (s, common clock), when
        that is longer than ``min_gap_s``.  Returns the markers added.

        Parameters
        ----------
        sensors : list of str
            The placements to check.
        t_start_s : float
            When the recording started, s, common clock.
        t_end_s : float
            When it ended, s, common clock.
        min_gap_s : float
            Shorter silences are not marked, s.

        Returns
        -------
        list of GapMarker
            The markers added.
        """
        added = []
        for sensor in sensors:
            last = self._last_t.get(sensor)
            start = t_start_s if last is None else last
            if t_end_s - start > min_gap_s:
                self.add_gap(sensor, start, t_end_s,
                             "never sent data" if last is None else "no data to the end")
                added.append(self.gaps[-1])
        return added

    def _keep_mag(self, sensor: str, k: int, n: int, mag: np.ndarray | None) -> None:
        """Keep ``mag`` (n, 3) µT of a block, aligned with the sensor's samples (NaN rows
        for samples that came without, once a sensor has sent any)."""
        if mag is None and sensor not in self._mag_parts:
            return
        parts = self._mag_parts.setdefault(sensor, [np.full((k, 3), np.nan)])
        parts.append(np.full((n, 3), np.nan) if mag is None else mag)

    def _block(self, sensor: str) -> np.ndarray | None:
        """All samples of ``sensor`` so far as one (N, 7) block [t, acc, gyr]; the parts
        are joined once and kept joined, so a live loop asking often pays for new samples
        only."""
        parts = self._parts.get(sensor)
        if not parts:
            return None
        if len(parts) > 1:
            parts[:] = [np.concatenate(parts)]
        return parts[0]

    def stream(self, sensor: str) -> SensorStream | None:
        """The samples of one placement so far, as views on the buffer (time increasing);
        cheaper than :meth:`recording` when one sensor is all a caller needs.

        Parameters
        ----------
        sensor : str
            The placement.

        Returns
        -------
        SensorStream or None
            t (N,) s, acc (N, 3) m/s², gyr (N, 3) rad/s, sensor frame (no mag); None
            before its first sample.
        """
        b = self._block(sensor)
        return None if b is None else SensorStream(b[:, 0], b[:, 1:4], b[:, 4:7])

    def recording(self) -> Recording:
        """The recording so far (in memory; the journal is the durable copy).

        Returns
        -------
        Recording
            The samples, gaps, events and metadata so far.
        """
        blocks = {s: b for s in self._parts if (b := self._block(s)) is not None}
        for s, parts in self._mag_parts.items():
            if s in blocks:
                blocks[s] = np.column_stack([blocks[s], np.concatenate(parts)])
        return _build_recording({**self.meta, "session": self.session}, blocks, self.gaps,
                                self.events)

    def finish(self, path: str | Path) -> tuple[Recording, str | None]:
        """Close the journal and write the recording to ``path`` (.parquet or .csv).

        Returns the recording and, if it breaks the format contract (e.g. a sensor of the
        minimum set never connected), the reason; it is then written unvalidated so that
        nothing recorded is lost.  An OSError writing ``path`` propagates (the journal
        and :meth:`recording` still hold everything).

        Parameters
        ----------
        path : str or pathlib.Path
            The recording file, .parquet or .csv.

        Returns
        -------
        rec : Recording
            The recording written.
        problem : str or None
            Why it breaks the format contract; None when it is valid.
        """
        self.close()
        rec = self.recording()
        return rec, write_keeping_everything(rec, path)

    def close(self, t_end: float | None = None) -> bool:
        """End the journal with its END record and close it; False if some bytes could not
        be written (they are in ``journal.unwritten()``).

        Parameters
        ----------
        t_end : float, optional
            The END record's time, s, common clock (default: the last sample's).

        Returns
        -------
        bool
            Whether everything is on disk.
        """
        if self.journal.closed:
            return not self.journal.pending_bytes
        t = t_end if t_end is not None else max(self._last_t.values(), default=0.0)
        for _ in range(2):  # twice: one damaged copy still leaves the counts
            self.journal.append(END, {"samples": dict(self.kept), "t_end": t})
        return self.journal.close()


def _build_recording(meta: JSONDoc, blocks: dict[str, np.ndarray],
                     gaps: list[GapMarker], events: list[JSONDoc]) -> Recording:
    streams: dict[str, SensorStream] = {}
    for sensor, b in blocks.items():
        b = b[np.argsort(b[:, 0], kind="stable")]
        b = b[np.concatenate([[True], np.diff(b[:, 0]) > 0])]
        mag = b[:, 7:10] if b.shape[1] == 10 else None
        streams[sensor] = SensorStream(t=b[:, 0].copy(), acc=b[:, 1:4].copy(),
                                       gyr=b[:, 4:7].copy(),
                                       mag=mag.copy() if mag is not None
                                       and np.isfinite(mag).all() else None)
    athlete = Athlete(**{k: v for k, v in (meta.get("athlete") or {}).items()
                         if k in Athlete.__dataclass_fields__})
    extra: JSONDoc = {}
    if meta.get("session"):
        extra["session"] = meta["session"]
    if gaps:
        extra["gaps"] = [asdict(g) for g in sorted(gaps, key=lambda g: (g.sensor, g.start_s))]
    if events:
        extra["events"] = events
    if meta.get("exercise"):
        extra["exercise"] = meta["exercise"]
    if meta.get(CALIBRATION_MOVEMENT_KEY):
        extra[CALIBRATION_MOVEMENT_KEY] = meta[CALIBRATION_MOVEMENT_KEY]
    return Recording(
        streams=streams, test_leg=meta["test_leg"], step_height_m=meta.get("step_height_m"),
        athlete=athlete, sensors_meta={s: m for s, m in meta.get("sensors", {}).items()
                                       if s in streams},
        pain_nrs=meta.get("pain_nrs"), started_at=meta.get("started_at"), extra=extra,
    )


def _mag_columns_alike(parts: list[np.ndarray]) -> list[np.ndarray]:
    """A sensor's (n, 7) and (n, 10) sample blocks made all (n, 10), NaN where a block came
    without the magnetometer, when any block has it; else unchanged."""
    if all(p.shape[1] == 7 for p in parts):
        return parts
    return [p if p.shape[1] == 10 else np.column_stack([p, np.full((len(p), 3), np.nan)])
            for p in parts]


def _lost_spans(samples: list[Any], end: JSONDoc | None) -> list[LostSpan]:
    """Per sensor, the samples missing between intact SAMPLES records (their ``k``
    counts jump), before the first one, and after the last one when the END record
    says how many there were."""
    lost: list[LostSpan] = []
    by_sensor: dict[str, list[Any]] = {}
    for r in samples:
        by_sensor.setdefault(r.header["sensor"], []).append(r)
    for sensor, recs in by_sensor.items():
        have, last_t = 0, None
        for r in recs:
            k = r.header.get("k")
            if k is not None and k > have:
                start = last_t if last_t is not None else r.header.get("t_first")
                lost.append(LostSpan(sensor, start, float(r.samples()[0, 0]), k - have))
            have = max(have, k or 0) + r.header["n"]
            last_t = float(r.samples()[-1, 0])
        total = ((end or {}).get("samples") or {}).get(sensor)
        if total is not None and total > have:
            lost.append(LostSpan(sensor, last_t, None, total - have))
    for sensor, total in ((end or {}).get("samples") or {}).items():
        if sensor not in by_sensor and total:
            lost.append(LostSpan(sensor, None, None, total))
    return lost


def recording_from_journal(journal_path: str | Path) -> tuple[Recording, RecoveryReport]:
    """Rebuild the recording held by a journal (intact records only); the samples lost to
    damage are reported (``report.lost``) and marked as gaps (reason "journal damaged").

    Parameters
    ----------
    journal_path : str or pathlib.Path
        The journal.

    Returns
    -------
    rec : Recording
        The rebuilt recording.
    report : RecoveryReport
        What was read and what the damage cost.
    """
    contents = read_journal(journal_path, kinds={META, SAMPLES, GAP, EVENT, END})  # not RAW
    if contents.empty:
        raise EmptyJournalError(f"{journal_path}: the journal is empty: the recording stopped "
                                "before anything was saved (nothing to recover)")
    meta: JSONDoc | None = None
    sample_recs = []
    gaps: list[GapMarker] = []
    events: list[JSONDoc] = []
    end = None
    for r in contents.records:
        if r.kind == META:
            meta = r.header
        elif r.kind == SAMPLES:
            sample_recs.append(r)
        elif r.kind == GAP:
            gaps.append(GapMarker(**r.header))
        elif r.kind == EVENT:
            events.append(r.header)
        elif r.kind == END:
            end = r.header
    if meta is None:
        raise InputError(f"{journal_path}: the journal's metadata records are all damaged "
                         f"({len(contents.records)} intact records, {contents.torn_bytes} "
                         "bytes unreadable)")
    parts: dict[str, list[np.ndarray]] = {}
    for r in sample_recs:
        parts.setdefault(r.header["sensor"], []).append(r.samples())
    blocks = {s: np.concatenate(_mag_columns_alike(p)) for s, p in parts.items()}
    if not blocks:
        raise EmptyJournalError(f"{journal_path}: the journal holds no samples: the recording "
                         "stopped before any sensor streamed (nothing to recover)")
    lost = _lost_spans(sample_recs, end)
    t_end = max(float(b[:, 0].max()) for b in blocks.values())
    for span in lost:
        if span.start_s is not None or span.end_s is not None:
            gaps.append(GapMarker(span.sensor, span.start_s if span.start_s is not None
                                  else span.end_s, span.end_s if span.end_s is not None
                                  else float((end or {}).get("t_end", t_end)), DAMAGED))
    rec = _build_recording(meta, blocks, gaps, events)
    _recount_quality(rec, lost)
    report = RecoveryReport(records=len(contents.records), torn_bytes=contents.torn_bytes,
                            samples={s: len(v) for s, v in rec.streams.items()}, lost=lost,
                            **_damage(contents), closed=end is not None,
                            session=meta.get("session"))
    return rec, report


def gap_samples(gaps: list[JSONDoc], sensor: str, rate_hz: float) -> int:
    """How many samples of ``sensor`` at ``rate_hz`` the gap markers say are missing
    (a gap runs from the last sample before to the first one after it).

    Parameters
    ----------
    gaps : list of dict
        Gap markers {sensor, start_s, end_s, reason} (s).
    sensor : str
        The placement.
    rate_hz : float
        Its sample rate, Hz.

    Returns
    -------
    int
        The number of missing samples.
    """
    return sum(max(0, round((g["end_s"] - g["start_s"]) * rate_hz) - 1)
               for g in gaps if g["sensor"] == sensor)


def _recount_quality(rec: Recording, lost: list[LostSpan]) -> None:
    """A recovered recording's quality summaries, recounted from what was recovered:
    samples, gaps, and lost samples (those of the stream's gaps, and exactly those the
    damaged journal lost); the decoder's counts are kept as last journaled."""
    gaps = rec.extra.get("gaps", [])
    stream_gaps = [g for g in gaps if g["reason"] != DAMAGED]
    for sensor, s in rec.streams.items():
        meta = rec.sensors_meta.setdefault(sensor, {})
        rate = meta.get("rate_hz") or s.rate_hz
        meta["quality"] = {**meta.get("quality", {}), "samples": len(s),
                           "gaps": sum(1 for g in gaps if g["sensor"] == sensor),
                           "lost_samples": gap_samples(stream_gaps, sensor, rate)
                           + sum(sp.samples for sp in lost if sp.sensor == sensor)}


def _damage(c: JournalContents) -> JSONDoc:
    return {"damaged_bytes": sum(b - a for a, b in c.damaged), "tail_bytes": c.tail_bytes,
            "magic_ok": c.magic_ok, "lost_records": c.lost_records}


def write_keeping_everything(rec: Recording, path: str | Path) -> str | None:
    """Write ``rec`` validated; if it breaks the contract, write it anyway and return why.

    Parameters
    ----------
    rec : Recording
        The recording.
    path : str or pathlib.Path
        .parquet or .csv.

    Returns
    -------
    str or None
        Why it breaks the contract; None when it is valid.
    """
    try:
        write_recording(rec, path)
        return None
    except RecordingError as err:
        write_recording(rec, path, validate=False)
        return str(err)


def recover(journal_path: str | Path, out_path: str | Path) -> tuple[Recording, RecoveryReport]:
    """Write the recording rebuilt from ``journal_path`` to ``out_path`` (.parquet or .csv);
    ``report.problem`` says why it breaks the contract, if it does.

    Parameters
    ----------
    journal_path : str or pathlib.Path
        The journal.
    out_path : str or pathlib.Path
        The recording to write, .parquet or .csv.

    Returns
    -------
    rec : Recording
        The rebuilt recording.
    report : RecoveryReport
        What was read, what the damage cost and any contract problem.
    """
    rec, report = recording_from_journal(journal_path)
    report.problem = write_keeping_everything(rec, out_path)
    return rec, report
