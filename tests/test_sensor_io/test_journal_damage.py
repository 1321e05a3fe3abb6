"""The journal survives damage: every intact record is kept, and what was lost is said
exactly (which sensor, how many samples, which time span), then written as gaps."""

import errno
import os

import numpy as np
import pytest
from disk_faults import filling_disk

from sensor_io.journal import (
    MAGIC,
    MAGIC_V1,
    SAMPLES,
    JournalBusyError,
    JournalError,
    JournalWriter,
    read_journal,
)
from sensor_io.recorder import DAMAGED, Recorder, recording_from_journal, recover
from sensor_io.recording_io import read_recording

SENSORS = ("pelvis", "thigh_left")


def _block(t0, n, rate=100.0):
    t = t0 + np.arange(n) / rate
    return t, np.column_stack([np.sin(t), np.cos(t), np.full(n, 9.81)]), np.zeros((n, 3))


def _journal(path, seconds=20.0, block=5, with_raw=True):
    """A closed journal: both sensors at 100 Hz in blocks of ``block`` samples, with raw
    notifications between them, as the live loop writes them.  Returns the recorder."""
    rec = Recorder(path, test_leg="left", sensors_meta={"pelvis": {"model": "M"}})
    for i in range(int(seconds * 100 / block)):
        for s in SENSORS:
            if with_raw:
                rec.add_raw(s, "uuid", i * block / 100.0, bytes(range(40)))
            t, acc, gyr = _block(i * block / 100.0, block)
            rec.add_samples(s, t, acc if s == "pelvis" else -acc, gyr)  # distinct bytes
    rec.close()
    return rec


def _accounted(rec_written, recovered, report):
    """Per sensor: samples written == recovered + reported lost."""
    lost = {s: sum(sp.samples for sp in report.lost if sp.sensor == s) for s in SENSORS}
    return {s: (rec_written.kept[s], len(recovered.streams[s]) + lost[s]) for s in SENSORS}


def test_a_clean_journal_is_recovered_whole_with_its_session(tmp_path):
    w = _journal(tmp_path / "j.sdj")
    rec, report = recording_from_journal(tmp_path / "j.sdj")
    assert report.closed and report.magic_ok and not report.lost and report.torn_bytes == 0
    assert {s: len(rec.streams[s]) for s in SENSORS} == {s: 2000 for s in SENSORS}
    assert rec.extra["session"] == w.session == report.session and len(w.session) == 16


def test_a_flipped_bit_in_the_magic_loses_nothing(tmp_path):
    p = tmp_path / "j.sdj"
    _journal(p)
    data = bytearray(p.read_bytes())
    data[3] ^= 0x04
    p.write_bytes(bytes(data))
    rec, report = recording_from_journal(p)
    assert not report.magic_ok and not report.lost
    assert all(len(rec.streams[s]) == 2000 for s in SENSORS)


def test_zeroed_first_4kb_loses_only_those_samples_and_keeps_the_metadata(tmp_path):
    p = tmp_path / "j.sdj"
    w = _journal(p)
    data = bytearray(p.read_bytes())
    data[:4096] = bytes(4096)
    p.write_bytes(bytes(data))
    rec, report = recording_from_journal(p)
    assert rec.test_leg == "left" and rec.sensors_meta["pelvis"]["model"] == "M"  # repeated
    for s in SENSORS:
        lost = [sp for sp in report.lost if sp.sensor == s]
        assert len(lost) == 1 and lost[0].start_s == 0.0  # from the sensor's first sample
        assert lost[0].end_s == rec.streams[s].t[0]
        assert 0 < lost[0].samples == round(lost[0].end_s * 100)  # every sample before it
        gap = [g for g in rec.extra["gaps"] if g["sensor"] == s]
        assert gap == [{"sensor": s, "start_s": 0.0, "end_s": lost[0].end_s, "reason": DAMAGED}]
    assert all(a == b for a, b in _accounted(w, rec, report).values())


def test_a_damaged_byte_in_the_middle_costs_one_block_marked_as_a_gap(tmp_path):
    p = tmp_path / "j.sdj"
    _journal(p)
    contents = read_journal(p)
    data = bytearray(p.read_bytes())
    # damage the body of one SAMPLES record of the thigh in the middle of the file
    target = [r for r in contents.records if r.kind == SAMPLES
              and r.header["sensor"] == "thigh_left"][200]
    t_lost = target.samples()[:, 0]
    at = data.find(target.body)
    data[at + 17] ^= 0x80
    p.write_bytes(bytes(data))
    rec, report = recording_from_journal(p)
    assert report.closed and report.tail_bytes == 0 and report.damaged_bytes > 0
    assert report.lost_records == 1
    (span,) = report.lost
    assert span.sensor == "thigh_left" and span.samples == len(t_lost) == 5
    assert span.start_s == pytest.approx(t_lost[0] - 0.01) and span.end_s == pytest.approx(
        t_lost[-1] + 0.01)
    assert len(rec.streams["pelvis"]) == 2000 and len(rec.streams["thigh_left"]) == 1995
    assert {"sensor": "thigh_left", "start_s": span.start_s, "end_s": span.end_s,
            "reason": DAMAGED} in rec.extra["gaps"]


@pytest.mark.parametrize("seed", range(6))
def test_random_damage_every_sample_is_kept_or_reported_lost(tmp_path, seed):
    rng = np.random.default_rng(seed)
    p = tmp_path / "j.sdj"
    w = _journal(p, seconds=10.0)
    data = bytearray(p.read_bytes())
    for _ in range(5):  # five damaged stretches of 1 byte .. 2 kB, away from the END copies
        n = int(rng.integers(1, 2048))
        at = int(rng.integers(0, len(data) - 4096))
        data[at:at + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    p.write_bytes(bytes(data))
    rec, report = recording_from_journal(p)
    assert report.closed
    for written, accounted in _accounted(w, rec, report).values():
        assert written == accounted
    for sp in report.lost:  # no kept sample lies inside a reported lost span
        t = rec.streams[sp.sensor].t
        assert not np.any((t > sp.start_s) & (t < (sp.end_s if sp.end_s is not None else np.inf)))


def test_a_torn_tail_is_reported_as_an_unclosed_journal(tmp_path):
    p = tmp_path / "j.sdj"
    _journal(p, seconds=2.0)
    data = p.read_bytes()
    p.write_bytes(data[:-300])  # the END records and part of the last samples
    rec, report = recording_from_journal(p)
    assert not report.closed and report.tail_bytes > 0 and report.damaged_bytes == 0
    assert len(rec.streams["pelvis"]) >= 195


def test_an_empty_journal_says_nothing_was_saved(tmp_path):
    for content in (b"", MAGIC[:5], MAGIC):
        p = tmp_path / "e.sdj"
        p.write_bytes(content)
        with pytest.raises(JournalError, match="empty: the recording stopped before anything"):
            recording_from_journal(p)
    Recorder(tmp_path / "meta.sdj", test_leg="left").close()  # killed while connecting
    with pytest.raises(JournalError, match="no samples: the recording stopped before any sensor"):
        recording_from_journal(tmp_path / "meta.sdj")


def test_a_version_1_journal_is_still_read(tmp_path):
    import json
    import struct
    import zlib

    def v1(kind, header, body=b""):
        h = json.dumps(header).encode()
        payload = struct.pack("<BH", kind, len(h)) + h + body
        return struct.pack("<II", len(payload), zlib.crc32(payload)) + payload

    t, acc, gyr = _block(0.0, 10)
    body = np.column_stack([t, acc, gyr]).astype("<f8").tobytes()
    p = tmp_path / "old.sdj"
    p.write_bytes(MAGIC_V1 + v1(0, {"format": "stepdown-recording", "version": 1,
                                     "test_leg": "right"})
                  + v1(SAMPLES, {"sensor": "pelvis", "n": 10}, body))
    rec, report = recording_from_journal(p)
    assert rec.test_leg == "right" and len(rec.streams["pelvis"]) == 10 and not report.lost


def test_one_journal_one_session(tmp_path):
    p = tmp_path / "s.sdj"
    first = JournalWriter(p)
    with pytest.raises(JournalBusyError, match="another recording is writing"):
        JournalWriter(p)
    with pytest.raises(JournalBusyError):
        JournalWriter(p, overwrite=True)  # not even with --overwrite
    first.close()
    with pytest.raises(JournalError, match="earlier session.*stepdown recover"):
        JournalWriter(p)
    size = p.stat().st_size
    assert size > 0 and p.read_bytes()[:8] == MAGIC  # refusing left it untouched
    JournalWriter(p, overwrite=True).close()
    assert p.read_bytes() == MAGIC


def test_failed_writes_stay_in_memory_and_are_retried(tmp_path, monkeypatch):
    p = tmp_path / "full.sdj"
    rec = Recorder(p, test_leg="left", sync_interval_s=0.0)
    write = filling_disk(3000, lambda fd: fd == rec.journal._fd)  # 3000 more bytes fit
    monkeypatch.setattr(os, "write", write)
    for i in range(40):
        rec.add_samples("pelvis", *_block(i * 0.1, 10))
    assert rec.journal.error is not None and rec.journal.error.errno == errno.ENOSPC
    assert rec.journal.pending_bytes > 0
    on_disk = recording_from_journal(p)[0]  # what a crash now would leave: a prefix
    assert 0 < len(on_disk.streams["pelvis"]) < 400
    write.budget["n"] = 10**9  # space freed: the next sync writes everything held in memory
    assert rec.close() and rec.journal.error is None
    r, report = recording_from_journal(p)
    assert len(r.streams["pelvis"]) == 400 and not report.lost and report.closed


def test_recover_writes_the_lost_spans_as_gaps_in_the_recording(tmp_path):
    p = tmp_path / "j.sdj"
    _journal(p, seconds=5.0)
    data = bytearray(p.read_bytes())
    data[len(data) // 2:len(data) // 2 + 600] = bytes(600)
    p.write_bytes(bytes(data))
    out = tmp_path / "j.parquet"
    _, report = recover(p, out)
    back = read_recording(out)
    damaged = [g for g in back.extra["gaps"] if g["reason"] == DAMAGED]
    assert damaged and len(damaged) == len(report.lost)
    assert back.extra["session"] == report.session
    for s in SENSORS:  # the quality summary counts exactly what was lost
        q = back.sensors_meta[s]["quality"]
        assert q["samples"] == len(back.streams[s])
        assert q["lost_samples"] == sum(sp.samples for sp in report.lost if sp.sensor == s)
