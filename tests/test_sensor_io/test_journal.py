"""Crash-safe journal and recorder: torn tails, duplicates, gaps, SIGKILL recovery."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from sensor_io.errors import InputError
from sensor_io.journal import MAGIC, RAW, SAMPLES, JournalWriter, read_journal
from sensor_io.recorder import Recorder, recording_from_journal
from sensor_io.recording import Athlete
from sensor_io.recording_io import read_recording
from stepdown.cli import main

REPO = Path(__file__).resolve().parents[2]


def _samples(t0, n, rate=100.0):
    t = t0 + np.arange(n) / rate
    acc = np.column_stack([np.sin(t), np.cos(t), np.full(n, 9.81)])
    gyr = np.column_stack([t, -t, 0 * t])
    return t, acc, gyr


def test_records_roundtrip_and_torn_tail_is_dropped(tmp_path):
    p = tmp_path / "j.sdj"
    with JournalWriter(p) as j:
        j.append(RAW, {"sensor": "pelvis", "char": "x", "t_host": 1.5}, b"\x55\x61abc")
        j.append(SAMPLES, {"sensor": "pelvis", "n": 1}, np.arange(7.0).tobytes())
    full = p.read_bytes()
    c = read_journal(p)
    assert [r.kind for r in c.records] == [RAW, SAMPLES] and c.torn_bytes == 0
    assert c.records[0].body == b"\x55\x61abc"
    np.testing.assert_array_equal(c.records[1].samples(), [np.arange(7.0)])
    for cut in (1, 5, 30):  # a crash mid-write of the last record
        p.write_bytes(full[:-cut])
        c = read_journal(p)
        assert [r.kind for r in c.records] == [RAW] and c.torn_bytes > 0


def test_damaged_record_is_skipped_and_the_rest_kept(tmp_path):
    p = tmp_path / "j.sdj"
    with JournalWriter(p) as j:
        for i in range(4):
            j.append(RAW, {"i": i}, b"x" * 10)
    data = bytearray(p.read_bytes())
    rec_len = (len(data) - len(MAGIC)) // 4
    data[len(MAGIC) + rec_len + 20] ^= 0xFF  # damage record 1: its CRC fails
    p.write_bytes(bytes(data))
    c = read_journal(p)
    assert [r.header["i"] for r in c.records] == [0, 2, 3]
    assert c.torn_bytes == rec_len


def test_not_a_journal_is_one_clear_error(tmp_path):
    p = tmp_path / "x.sdj"
    p.write_bytes(b"PAR1 not a journal")
    with pytest.raises(InputError, match="not a stepdown journal"):
        read_journal(p)
    with pytest.raises(InputError):
        JournalWriter(p)  # refuses to append to a foreign file
    assert p.read_bytes() == b"PAR1 not a journal"  # and leaves it untouched


def test_recorder_keeps_order_drops_duplicates_marks_gaps(tmp_path):
    rec = Recorder(tmp_path / "r.sdj", test_leg="left", athlete=Athlete(id="a-1"),
                   sensors_meta={"pelvis": {"model": "Movesense"}})
    t, acc, gyr = _samples(0.0, 50)
    assert rec.add_samples("pelvis", t, acc, gyr) == 50
    assert rec.add_samples("pelvis", t[40:], acc[40:], gyr[40:]) == 0  # duplicated
    t2, a2, g2 = _samples(0.8, 30)  # overlaps 0.8..0.49? no: starts after 0.49
    rec.add_samples("pelvis", t2, a2, g2)
    rec.add_gap("thigh_left", 0.2, 0.5, "disconnected")
    rec.add_samples("thigh_left", *_samples(0.0, 20))
    rec.close()
    r, report = recording_from_journal(tmp_path / "r.sdj")
    assert report.torn_bytes == 0
    assert len(r.streams["pelvis"]) == 80 and np.all(np.diff(r.streams["pelvis"].t) > 0)
    np.testing.assert_allclose(r.streams["pelvis"].acc[:50], acc)
    assert r.extra["gaps"] == [{"sensor": "thigh_left", "start_s": 0.2, "end_s": 0.5,
                                "reason": "disconnected"}]
    assert r.test_leg == "left" and r.athlete.id == "a-1"
    assert r.sensors_meta["pelvis"]["model"] == "Movesense"
    mem = rec.recording()
    np.testing.assert_array_equal(mem.streams["pelvis"].t, r.streams["pelvis"].t)


def test_unknown_placement_and_leg_are_refused(tmp_path):
    with pytest.raises(InputError, match="test leg"):
        Recorder(tmp_path / "a.sdj", test_leg="up")
    rec = Recorder(tmp_path / "b.sdj", test_leg="right")
    with pytest.raises(InputError, match="placement"):
        rec.add_samples("elbow", *_samples(0, 3))
    rec.close()


CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    from sensor_io.recorder import Recorder
    rec = Recorder(sys.argv[1], test_leg="left", sync_interval_s=0.5)
    start = time.time()
    print(start, flush=True)
    while True:
        now = time.time() - start
        t = now + np.arange(4) / 200.0
        for sensor in ("pelvis", "thigh_left"):
            rec.add_samples(sensor, t, np.tile([0, 0, 9.81], (4, 1)), np.zeros((4, 3)))
        print(t[-1], flush=True)  # what the recorder has been given so far
        time.sleep(0.02)
""")


def test_sigkill_mid_recording_loses_at_most_the_last_second(tmp_path, capsys):
    journal = tmp_path / "killed.sdj"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(journal)], stdout=subprocess.PIPE,
                            env=env, cwd=REPO, text=True)
    try:
        proc.stdout.readline()  # started
        time.sleep(2.2)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    # measured against what the child had handed the recorder, not the wall clock, so a
    # starved child on a loaded machine cannot fail (or pass) the test
    given_until = float(proc.stdout.read().split()[-1])
    assert proc.returncode == -signal.SIGKILL
    assert journal.read_bytes()[:8] == MAGIC
    out = tmp_path / "recovered.parquet"
    assert main(["recover", str(journal), "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    rec = read_recording(out)  # a valid recording: it passes the format's validation
    for sensor in ("pelvis", "thigh_left"):
        t = rec.streams[sensor].t
        assert t[-1] >= given_until - 1.0  # lacks at most the last second
        assert t[0] < 0.1  # and nothing from the start is missing
        np.testing.assert_allclose(rec.streams[sensor].acc[:, 2], 9.81)


def test_recover_cli_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.sdj"
    bad.write_bytes(b"garbage")
    assert main(["recover", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not a stepdown journal" in err and "Traceback" not in err
    assert main(["recover", str(tmp_path / "missing.sdj")]) == 2
    capsys.readouterr()
    rec = Recorder(tmp_path / "p.sdj", test_leg="left")
    rec.add_samples("pelvis", *_samples(0.0, 30))
    rec.close()
    assert main(["recover", str(tmp_path / "p.sdj"), "--out", str(tmp_path / "no" / "p.parquet")]) == 2
    err = capsys.readouterr().err  # said before the journal is read, naming the folder, not a temp file
    assert f"folder {tmp_path / 'no'} does not exist" in err and len(err.strip().splitlines()) == 1


def test_recover_keeps_a_recording_that_breaks_the_contract(tmp_path, capsys):
    rec = Recorder(tmp_path / "p.sdj", test_leg="left")
    rec.add_samples("pelvis", *_samples(0.0, 30))  # the thigh never connected
    rec.close()
    assert main(["recover", str(tmp_path / "p.sdj")]) == 0
    assert "warning" in capsys.readouterr().out
    assert (tmp_path / "p.parquet").exists()


def test_a_quiet_journal_is_made_durable_by_sync_if_due(tmp_path):
    path = tmp_path / "quiet.sdj"
    now = [100.0]  # a clock the test moves: a loaded machine must not make the sync due early
    w = JournalWriter(path, sync_interval_s=0.05, clock=lambda: now[0])
    w.sync()
    w.append(RAW, {"sensor": "pelvis"}, b"\x01\x02")  # small: sits in the write buffer
    assert read_journal(path).records == []            # not on disk yet
    now[0] += 0.06
    w.sync_if_due()                                     # what the live loop calls each poll
    assert [r.kind for r in read_journal(path).records] == [RAW]
    w.close()


def test_recorder_stream_grows_with_each_block_and_matches_the_recording(tmp_path):
    rec = Recorder(tmp_path / "s.sdj", test_leg="left")
    assert rec.stream("pelvis") is None
    rec.add_samples("pelvis", *_samples(0.0, 50))
    first = rec.stream("pelvis")
    rec.add_samples("pelvis", *_samples(0.8, 30))
    rec.add_samples("pelvis", *_samples(1.2, 10))
    joined = rec.stream("pelvis")
    assert len(first) == 50 and len(joined) == 90
    np.testing.assert_array_equal(joined.t[:50], first.t)
    assert np.all(np.diff(joined.t) > 0)
    np.testing.assert_array_equal(joined.acc, rec.recording().streams["pelvis"].acc)
    rec.close()
