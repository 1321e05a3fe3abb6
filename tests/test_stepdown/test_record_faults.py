"""Fault injection through the real `stepdown record` path (emulated sensors on the
virtual clock, so every run is the same on any machine): for every sensor, the samples it
sent are kept or reported lost (as gaps), and every way a recording can end says what was
saved and how to recover it."""

from __future__ import annotations

import asyncio
import errno
import os
import signal

import pytest
from ble_emulation.faults import Faults
from disk_faults import filling_disk

from sensor_io import ble_client
from sensor_io.ble_emulation import EmulatedPeripheral
from sensor_io.recorder import recording_from_journal
from sensor_io.recording_io import read_recording
from stepdown.cli import main
from stepdown.commands import live

VIRTUAL = ["--emulate", "--emulate-speed", "0"]
PACKET = {"pelvis": 4, "thigh_left": 12, "shank_left": 1}  # samples per notification


def _record(out, *extra, sensors=("pelvis", "thigh"), duration=12.0):
    args = ["record", *VIRTUAL, "--leg", "left", "--athlete", "a-1", "--no-score",
            "--duration", str(duration)]
    for s in sensors:
        args += [f"--{s}", "x"]
    if out is not None:
        args += ["--out", str(out)]
    return main(args + list(extra))


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setattr(live.console, "width", 400)  # whole lines to match against


@pytest.fixture
def worlds(monkeypatch):
    """The emulated worlds `record` builds; set ``worlds.faults[segment]`` first.  Each
    peripheral counts the sample instants it measures (``measured``), whatever happens
    to the notifications carrying them."""
    real = live.emulated_world
    real_emit = EmulatedPeripheral._emit

    def counting_emit(self, t):
        self.measured = getattr(self, "measured", 0) + len(t)
        real_emit(self, t)

    monkeypatch.setattr(EmulatedPeripheral, "_emit", counting_emit)

    class Worlds(list):
        faults: dict = {}

    made = Worlds()
    made.faults = {}

    def patched(segments, leg, seed, speed, **kw):
        world, addresses, sim, start = real(segments, leg, seed, speed, **kw)
        for seg, f in made.faults.items():
            world.peripherals[addresses[seg]].faults = f
        made.append((world, addresses))
        return world, addresses, sim, start

    monkeypatch.setattr(live, "emulated_world", patched)
    return made


def _account(rec, world, addresses):
    """Per sensor: (samples the sensor measured and sent, kept, reported lost in gaps)."""
    rows = {}
    for seg, addr in addresses.items():
        p = world.peripherals[addr]
        name = seg if seg in ("pelvis", "trunk") else f"{seg}_left"
        kept = len(rec.streams[name]) if name in rec.streams else 0
        rate = p.rate_hz
        gaps = [g for g in rec.extra.get("gaps", []) if g["sensor"] == name]
        lost = sum(round((g["end_s"] - g["start_s"]) * rate) - 1 for g in gaps)
        rows[name] = (getattr(p, "measured", 0), kept, lost)
    return rows


def test_no_fault_every_sent_sample_is_kept(tmp_path, worlds, capsys):
    out = tmp_path / "r.parquet"
    assert _record(out) == 0
    rows = _account(read_recording(out), *worlds[0])
    assert all(sent == kept and lost == 0 for sent, kept, lost in rows.values()), rows
    text = capsys.readouterr().out
    assert f"stepdown recover {out.with_suffix('.sdj')}" in text


@pytest.mark.parametrize("faults", [
    {"pelvis": Faults(drop_every=7)},
    {"thigh": Faults(drop_every=3), "pelvis": Faults(duplicate_every=5)},
    {"thigh": Faults(split_every=4)},
    {"shank": Faults(duplicate_every=5)},
], ids=["pelvis-drops", "thigh-drops-pelvis-dups", "thigh-split", "witmotion-dups"])
def test_packet_faults_every_sample_is_kept_or_reported_lost(tmp_path, worlds, faults):
    worlds.faults = faults
    out = tmp_path / "r.parquet"
    assert _record(out, sensors=tuple(dict.fromkeys(("pelvis", "thigh", *faults)))) == 0
    rows = _account(read_recording(out), *worlds[0])
    for name, (sent, kept, lost) in rows.items():
        # a packet lost before the first received one or after the last received one
        # cannot be noticed by any receiver: at most one such packet at each end; a gap to
        # the end also counts the samples still filling the device's next packet when the
        # session stopped (measured, never sent): at most one packet.  An untimed stream
        # (WitMotion) that repeats notifications may keep a bounded surplus: a repeat is
        # told from a still sensor's next frame only by the count running ahead of the
        # rate clock (sensor_io.ble_client.SURPLUS_TOLERANCE_S, plus the frames of one
        # 30 ms connection event: the clock anchors on the first arrival)
        surplus = ble_client.SURPLUS_TOLERANCE_S * 100 + 3 if name.startswith("shank") else 0
        assert -(surplus + PACKET[name]) <= sent - (kept + lost) <= 2 * PACKET[name], \
            (name, sent, kept, lost)


def test_refused_packets_are_counted_and_their_samples_reported_lost(tmp_path, worlds):
    """A corrupted Polar frame fails its decoder's checks: the frame's samples are a gap
    and the packet is counted in the sensor's quality summary.  (Frames that still decode
    after corruption are the decoders' plausibility checks: issue #18.)"""
    worlds.faults = {"thigh": Faults(corrupt_every=9)}
    out = tmp_path / "c.parquet"
    assert _record(out) == 0
    rec = read_recording(out)
    sent, kept, lost = _account(rec, *worlds[0])["thigh_left"]
    assert lost > 0 and 0 <= sent - (kept + lost) <= 2 * PACKET["thigh_left"]
    quality = rec.sensors_meta["thigh_left"]["quality"]
    assert quality["bad_packets"] > 0 and quality["lost_samples"] == lost


def test_a_sensor_lost_for_good_is_a_gap_to_the_end(tmp_path, worlds, capsys):
    worlds.faults = {"thigh": Faults(disconnect_at_s=5.0, down_for_s=1e9)}
    out = tmp_path / "r.parquet"
    assert _record(out) == 0
    rec = read_recording(out)
    (gap,) = [g for g in rec.extra["gaps"] if g["sensor"] == "thigh_left"]
    thigh, pelvis = rec.streams["thigh_left"], rec.streams["pelvis"]
    assert gap["start_s"] == thigh.t[-1] and gap["end_s"] >= pelvis.t[-1] - 0.1
    assert gap["reason"] == "no data to the end"
    sent, kept, lost = _account(rec, *worlds[0])["thigh_left"]
    assert sent == kept  # every sample it measured before vanishing is kept
    # and the rest of the session is reported lost: the thigh's samples plus the gap
    # cover as many sample instants as the pelvis' whole span
    rate = rec.sensors_meta["thigh_left"]["rate_hz"]
    assert kept + lost == pytest.approx((gap["end_s"] - thigh.t[0]) * rate, abs=2)


def test_a_sensor_that_never_sends_is_marked_and_nothing_crashes(tmp_path, worlds, capsys):
    worlds.faults = {"shank": Faults(silent=True)}
    out = tmp_path / "r.parquet"
    assert _record(out, sensors=("pelvis", "thigh", "shank")) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    rec = read_recording(out)
    assert "shank_left" not in rec.streams
    (gap,) = [g for g in rec.extra["gaps"] if g["sensor"] == "shank_left"]
    assert gap["reason"] == "never sent data" and gap["end_s"] - gap["start_s"] > 10


# -- one session, one file set ----------------------------------------------------------
def test_recording_twice_to_one_out_is_refused_and_keeps_the_first(tmp_path, capsys):
    out = tmp_path / "r.parquet"
    assert _record(out, duration=4.0) == 0
    first = out.read_bytes()
    assert _record(out, duration=4.0) == 2
    err = capsys.readouterr().err
    assert "exists (an earlier session)" in err and "--overwrite" in err
    assert out.read_bytes() == first
    journal_before = out.with_suffix(".sdj").read_bytes()
    assert _record(out, "--overwrite", duration=4.0) == 0  # asked for: replaced whole
    assert out.read_bytes() != first
    _, report = recording_from_journal(out.with_suffix(".sdj"))
    assert report.session == read_recording(out).extra["session"]
    assert out.with_suffix(".sdj").read_bytes() != journal_before


def test_a_journal_in_use_is_refused_even_with_overwrite(tmp_path, capsys):
    from sensor_io.journal import JournalWriter

    out = tmp_path / "busy.parquet"
    holder = JournalWriter(out.with_suffix(".sdj"))  # another live recording
    try:
        assert _record(out, "--overwrite", duration=4.0) == 2
    finally:
        holder.close()
    assert "another recording is writing this journal" in capsys.readouterr().err
    assert not out.exists()


def test_default_names_do_not_collide_within_a_second(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STEPDOWN_HOME", str(tmp_path))
    assert _record(None, duration=3.0) == 0
    assert _record(None, duration=3.0) == 0
    names = sorted(p.name for p in (tmp_path / "recordings").glob("*.parquet"))
    assert len(names) == 2 and all(n.startswith("a-1-") for n in names)
    sessions = {read_recording(tmp_path / "recordings" / n).extra["session"] for n in names}
    assert len(sessions) == 2


# -- storage faults ---------------------------------------------------------------------
def test_a_read_only_target_is_one_line(tmp_path, monkeypatch, capsys):
    target = tmp_path / "ro"
    real_open = os.open

    def ro_open(path, flags, *a, **kw):
        if str(path).startswith(str(target)) and flags & (os.O_WRONLY | os.O_RDWR):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *a, **kw)

    target.mkdir()
    monkeypatch.setattr(os, "open", ro_open)
    assert _record(target / "r.parquet", duration=3.0) == 2
    err = capsys.readouterr().err
    assert "cannot create the journal" in err and "Read-only file system" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_disk_full_mid_set_keeps_everything_in_memory_and_says_how_to_recover(
        tmp_path, worlds, monkeypatch, capsys):
    out = tmp_path / "full" / "r.parquet"
    journal = str(out.with_suffix(".sdj"))

    def on_journal(fd):
        return os.path.exists(f"/proc/self/fd/{fd}") and os.readlink(f"/proc/self/fd/{fd}") == journal

    monkeypatch.setattr(os, "write", filling_disk(60_000, on_journal))  # full ~8 s in
    assert _record(out) == 1
    text = capsys.readouterr().out
    assert text.count("cannot write the journal") == 1, text  # one warning, not one per write
    assert "No space left on device" in text and "keeping the samples in memory" in text
    rec = read_recording(out)  # the recording itself is whole: nothing was dropped
    rows = _account(rec, *worlds[0])
    assert all(sent == kept for sent, kept, _ in rows.values()), rows
    copy = text.split("(journal ")[1].split(";")[0]
    assert not copy.startswith(str(out.parent))  # a whole copy went to a fallback folder
    back, report = recording_from_journal(copy)
    assert report.closed and not report.lost
    assert {s: len(v) for s, v in back.streams.items()} == {s: len(v) for s, v in rec.streams.items()}


# -- signals ------------------------------------------------------------------------------
def _signal_at_calibration(monkeypatch, *delays_and_signals):
    """Send the given signals to this process ``delay`` virtual s after calibration starts."""
    real = live.emulated_world

    def patched(segments, leg, seed, speed, **kw):
        world, addresses, sim, start = real(segments, leg, seed, speed, **kw)

        def start_and_schedule():
            start()
            loop = asyncio.get_running_loop()
            for delay, sig in delays_and_signals:
                loop.call_later(delay, os.kill, os.getpid(), sig)

        return world, addresses, sim, start_and_schedule

    monkeypatch.setattr(live, "emulated_world", patched)


@pytest.mark.parametrize("sig,name,at", [
    (signal.SIGTERM, "SIGTERM", 5.0), (signal.SIGHUP, "SIGHUP", 5.0),
    (signal.SIGINT, "Ctrl-C", 5.0), (signal.SIGINT, "Ctrl-C", 1.0)],
    ids=["sigterm-live", "sighup-live", "ctrl-c-live", "ctrl-c-calibrating"])
def test_a_stop_signal_saves_everything_and_says_so(tmp_path, monkeypatch, capsys, sig, name,
                                                     at):
    _signal_at_calibration(monkeypatch, (at, sig))
    out = tmp_path / "s.parquet"
    assert _record(out, duration=60.0) == 0
    text = capsys.readouterr().out
    assert f"stopped by {name}: wrote {out}" in text and "stepdown recover" in text
    rec = read_recording(out)
    assert at - 0.5 < rec.streams["pelvis"].duration_s - rec.streams["pelvis"].t[0] < at + 2.0
    _, report = recording_from_journal(out.with_suffix(".sdj"))
    assert report.closed and not report.lost


def test_two_ctrl_c_stop_at_once_and_still_save(tmp_path, monkeypatch, capsys):
    _signal_at_calibration(monkeypatch, (5.0, signal.SIGINT), (5.01, signal.SIGINT))
    out = tmp_path / "s.parquet"
    assert _record(out, duration=60.0) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    last = " ".join(lines[-3:])
    assert "stopped at once by a second Ctrl-C: wrote" in last and "stepdown recover" in last
    assert read_recording(out).streams["pelvis"].duration_s > 4.5


def test_a_signal_while_saving_waits_for_the_save(tmp_path, monkeypatch, capsys):
    from stepdown import record_guard

    real_save = record_guard.save

    def save_interrupted(*args):
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the recording is written
        return real_save(*args)

    monkeypatch.setattr(live, "save", save_interrupted)
    out = tmp_path / "w.parquet"
    assert _record(out, duration=6.0) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    assert read_recording(out).streams["pelvis"].duration_s > 5.0


def test_ctrl_c_while_connecting_says_nothing_was_recorded(tmp_path, monkeypatch, capsys):
    real = ble_client.StreamingSession.connect_all

    async def interrupted_connect(self):
        asyncio.get_running_loop().call_soon(os.kill, os.getpid(), signal.SIGINT)
        await real(self)

    monkeypatch.setattr(ble_client.StreamingSession, "connect_all", interrupted_connect)
    out = tmp_path / "c.parquet"
    assert _record(out) == 130
    captured = capsys.readouterr()
    assert "stopped by Ctrl-C before any sensor streamed: nothing was recorded" in captured.out
    assert "Traceback" not in captured.err
    assert not out.exists() and not out.with_suffix(".sdj").exists()


def test_kill_during_connect_leaves_a_journal_recover_explains(tmp_path, capsys):
    import subprocess
    import sys
    from pathlib import Path

    # a process killed (SIGKILL) after creating its journal, before any sensor streamed
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from sensor_io.recorder import Recorder; "
         "r = Recorder(sys.argv[1], test_leg='left'); print('ready', flush=True); "
         "time.sleep(60)", str(tmp_path / "k.sdj")], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    try:
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
    assert main(["recover", str(tmp_path / "k.sdj")]) == 2
    err = capsys.readouterr().err
    assert "no samples: the recording stopped before any sensor streamed" in err
    assert "Traceback" not in err and "bad magic" not in err
    empty = tmp_path / "e.sdj"
    empty.write_bytes(b"")
    assert main(["recover", str(empty)]) == 2
    assert "empty" in capsys.readouterr().err


@pytest.mark.slow
def test_a_file_size_limit_mid_set_is_one_warning_and_the_recording_is_whole(tmp_path):
    """A real EFBIG (``ulimit -f``) in a child process: journal writes fail part-way, the
    samples stay in memory, the recording is written whole, and no partial journal copy
    is left in a fallback folder."""
    import resource
    import subprocess
    import sys
    from pathlib import Path

    limit = 150_000  # bytes: the journal passes it ~8 s in, the Parquet stays below it

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    home = tmp_path / "home"
    env = {**os.environ, "STEPDOWN_HOME": str(home / "sd"), "HOME": str(home),
           "TMPDIR": str(home), "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           "COLUMNS": "400"}
    out = tmp_path / "lim" / "r.parquet"
    proc = subprocess.run(
        [sys.executable, "-m", "stepdown", "record", *VIRTUAL, "--leg", "left", "--athlete",
         "u", "--pelvis", "x", "--thigh", "x", "--no-score", "--duration", "12", "--out",
         str(out)], preexec_fn=limit_file_size, capture_output=True, text=True, env=env,
        timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stdout.count("cannot write the journal") == 1
    assert "File too large; keeping the samples in memory and retrying" in proc.stdout
    assert f"wrote {out} (the journal {out.with_suffix('.sdj')} lacks its last part" in proc.stdout
    rec = read_recording(out)
    assert all(s.duration_s > 11.0 for s in rec.streams.values())
    assert out.with_suffix(".sdj").stat().st_size == limit
    assert not list(home.rglob("*.sdj"))  # failed copies removed, not left half-written
    part, report = recording_from_journal(out.with_suffix(".sdj"))
    assert not report.closed and 5.0 < part.streams["pelvis"].duration_s < 11.0


# -- what the athlete and coach are told when a sensor is missing ---------------------------
def _scored(out, *sensors):
    args = ["record", *VIRTUAL, "--leg", "left", "--athlete", "a-1", "--out", str(out)]
    for s in sensors:
        args += [f"--{s}", "x"]
    return main(args)


@pytest.mark.slow
def test_a_thigh_lost_for_good_is_never_called_good(tmp_path, worlds, capsys):
    pytest.importorskip("analysis.pipeline")
    worlds.faults = {"thigh": Faults(disconnect_at_s=16.0, down_for_s=1e9)}
    out = tmp_path / "v.parquet"
    assert _scored(out, "pelvis", "thigh") == 0
    text = capsys.readouterr().out
    test = [line for line in text.splitlines() if line.startswith("test:")]
    assert len(test) == 1 and "category not decided" in test[0]
    assert "no thigh_left data" in test[0] and "(no data to the end)" in test[0]
    assert "(good)" not in text
    rec = read_recording(out)
    quality = rec.sensors_meta["thigh_left"]["quality"]
    world, addresses = worlds[0]
    rate = world.peripherals[addresses["thigh"]].rate_hz  # a Verity Sense: 52 Hz
    lost_s = rec.streams["pelvis"].t[-1] - 16.0  # from the disconnect to the end
    assert quality["gaps"] == 1 and quality["lost_samples"] > (lost_s - 1.0) * rate


@pytest.mark.slow
def test_a_rep_without_knee_data_says_knee_not_measured(tmp_path, worlds, capsys):
    pytest.importorskip("analysis.pipeline")
    worlds.faults = {"shank": Faults(disconnect_at_s=14.0, down_for_s=4.0)}
    out = tmp_path / "k.parquet"
    assert _scored(out, "pelvis", "thigh", "shank") == 0
    lines = capsys.readouterr().out.splitlines()
    reps = [line for line in lines if line.startswith("rep ")]
    lacking = [line for line in reps if "knee not measured" in line]
    assert lacking and all("no faults" not in line for line in lacking)
    assert len(lacking) < len(reps)  # the reps with the shank back are measured
    (test,) = [line for line in lines if line.startswith("test:")]
    assert "category not decided: knee not measured in rep" in test
    assert "arm" not in test.split("(")[1]  # the sensor set's limits are not losses


def test_info_shows_the_recorded_quality_summary(tmp_path, worlds, capsys):
    worlds.faults = {"thigh": Faults(disconnect_at_s=5.0, down_for_s=1e9)}
    out = tmp_path / "q.parquet"
    assert _record(out) == 0
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    import re

    assert re.search(r"thigh_left: \d+ samples kept, 1 gaps \(\d+ samples lost\), 0 bad packets",
                     text), text
    assert "(no data to the end)" in text


def test_no_bluetooth_adapter_is_one_line(monkeypatch, capsys):
    async def no_dbus(*_a, **_kw):  # what bleak raises when BlueZ's D-Bus socket is missing
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(live, "scan", no_dbus)
    assert main(["devices", "--timeout", "0.1"]) == 2
    err = capsys.readouterr().err
    assert "cannot use Bluetooth" in err and "None" not in err and "Traceback" not in err


def test_little_free_space_is_said_before_the_start(tmp_path, monkeypatch, capsys):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(10**9, 10**9 - 2_000_000, 2_000_000))
    assert _record(tmp_path / "f.parquet", duration=3.0) == 0
    text = capsys.readouterr().out
    assert text.count("only 2.0 MB free on the disk of") == 1 and "min of recording" in text


@pytest.mark.parametrize("faults", [
    {"thigh": Faults(disconnect_at_s=5.0, down_for_s=2.0)},
    {"pelvis": Faults(disconnect_at_s=4.0, down_for_s=1.0), "thigh": Faults(drop_every=5)},
], ids=["thigh-reconnects", "pelvis-reconnects-thigh-drops"])
def test_a_dropout_and_reconnect_is_one_gap_covering_what_was_missed(tmp_path, worlds, faults):
    worlds.faults = faults
    out = tmp_path / "r.parquet"
    assert _record(out) == 0
    rec = read_recording(out)
    for name, (sent, kept, lost) in _account(rec, *worlds[0]).items():
        s = rec.streams[name]
        rate = rec.sensors_meta[name]["rate_hz"]
        # the sensor measures nothing while disconnected, so compare with its time span:
        # every sample instant from its first to its last sample is kept or in a gap
        assert kept + lost == pytest.approx((s.t[-1] - s.t[0]) * rate + 1, abs=2), name
        assert sent - PACKET[name] * 2 <= kept + lost  # and nothing it sent goes unaccounted
    reasons = {g["reason"] for g in rec.extra["gaps"]}
    assert "disconnected" in reasons


def _record_process(out):
    """`stepdown record` of two emulated sensors in a real process (real time, 8x)."""
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "COLUMNS": "400"}
    return subprocess.Popen(
        [sys.executable, "-m", "stepdown", "record", "--emulate", "--emulate-speed", "8",
         "--leg", "left", "--athlete", "b", "--pelvis", "x", "--thigh", "x", "--no-score",
         "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        text=True)


@pytest.mark.slow
def test_two_ctrl_c_in_a_real_process(tmp_path):
    """The same through a real process and real signals (real time, 8x)."""
    import time

    out = tmp_path / "two.parquet"
    proc = _record_process(out)
    try:
        for line in proc.stdout:
            if line.startswith("Go:"):
                break
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    # when the second signal lands depends on the machine: while stopping (at once), while
    # saving (the save goes on) or as the loop hands over (dropped: it is ending anyway);
    # whichever, one line says how it stopped and what was written
    assert ("stopped at once by a second Ctrl-C: wrote" in stdout
            or "stopped by Ctrl-C (a second Ctrl-C came while saving: saved first): wrote"
            in stdout or "stopped by Ctrl-C: wrote" in stdout), stdout
    assert f"stepdown recover {out.with_suffix('.sdj')}" in stdout
    assert read_recording(out).streams["pelvis"].duration_s > 3.0


@pytest.mark.slow
def test_kill_9_mid_record_is_recovered_with_what_it_says(tmp_path, capsys):
    """SIGKILL on a real `record` process: the journal rebuilds the recording, and recover
    says it did not end cleanly (at most its last second missing)."""

    out = tmp_path / "k.parquet"
    proc = _record_process(out)
    try:
        statuses = []
        for line in proc.stdout:
            if "streaming" in line and "smp" in line:
                statuses.append(line)
                if len(statuses) == 2:  # ~10 s of emulated streaming shown
                    break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert not out.exists()
    shown = int(statuses[-1].split("pelvis streaming ")[1].split(" smp")[0])
    assert main(["recover", str(out.with_suffix(".sdj"))]) == 0
    text = capsys.readouterr().out
    assert "did not end cleanly" in text and f"wrote {out}" in text
    rec = read_recording(out)
    rate = rec.sensors_meta["pelvis"]["rate_hz"]
    # what the status line had counted before the kill, less at most one second
    assert len(rec.streams["pelvis"]) >= shown - rate * 1.0
    quality = rec.sensors_meta["pelvis"]["quality"]  # recounted; the decoder's as journaled
    assert quality["samples"] == len(rec.streams["pelvis"]) and quality["bad_packets"] == 0


def test_a_failing_live_scorer_does_not_cost_the_recording(tmp_path, monkeypatch, capsys):
    def broken(rec, frames=None):
        raise AttributeError("'NoneType' object has no attribute 'q_facing_seg'")

    monkeypatch.setattr(live, "analysis_scorer", lambda: broken)
    out = tmp_path / "s.parquet"
    args = ["record", *VIRTUAL, "--leg", "left", "--athlete", "a", "--pelvis", "x", "--thigh",
            "x", "--duration", "8", "--out", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert text.count("live scoring failed (AttributeError") == 1 and f"wrote {out}" in text
    assert read_recording(out).streams["pelvis"].duration_s > 7.0


def test_recover_refuses_a_journal_still_being_written(tmp_path, capsys):
    from sensor_io.recorder import Recorder

    live_rec = Recorder(tmp_path / "busy.sdj", test_leg="left")
    try:
        assert main(["recover", str(tmp_path / "busy.sdj")]) == 2
    finally:
        live_rec.close()
    assert "being written by a recording still running" in capsys.readouterr().err
    assert not (tmp_path / "busy.parquet").exists()


def test_the_disk_running_low_during_the_test_is_said_once(tmp_path, monkeypatch, capsys):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    calls = {"n": 0}

    def shrinking(_path):  # plenty at the start, then 50 kB
        calls["n"] += 1
        return usage(10**10, 0, 10**10 if calls["n"] == 1 else 50_000)

    monkeypatch.setattr(shutil, "disk_usage", shrinking)
    assert _record(tmp_path / "low.parquet", duration=6.0) == 0
    text = capsys.readouterr().out
    assert text.count("only 0.1 MB free on the disk of") == 1 and calls["n"] >= 2


def test_a_disk_refusing_too_long_stops_the_recording_cleanly(tmp_path, worlds, monkeypatch,
                                                              capsys):
    from stepdown import record_guard

    monkeypatch.setattr(record_guard, "MAX_PENDING_BYTES", 100_000)  # read when recording
    out = tmp_path / "full" / "r.parquet"
    journal = str(out.with_suffix(".sdj"))

    def on_journal(fd):
        return os.path.exists(f"/proc/self/fd/{fd}") and os.readlink(f"/proc/self/fd/{fd}") == journal

    monkeypatch.setattr(os, "write", filling_disk(20_000, on_journal))
    assert _record(out, duration=60.0) == 1
    text = capsys.readouterr().out
    assert "stopping: the disk has refused the journal for too long" in text
    rec = read_recording(out)  # what came before the stop is all there
    rows = _account(rec, *worlds[0])
    assert all(0 <= sent - kept <= 2 * PACKET[n] for n, (sent, kept, _) in rows.items()), rows
    assert rec.streams["pelvis"].duration_s < 50.0


def test_a_thigh_that_never_sends_is_said_and_the_rest_kept(tmp_path, worlds, capsys):
    worlds.faults = {"thigh": Faults(silent=True)}
    out = tmp_path / "t.parquet"
    assert _scored(out, "pelvis", "thigh") == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    lines = captured.out.splitlines()
    assert "thigh_left: no samples (never sent data)" in lines
    assert "test: not scored (no data from thigh_left)" in lines
    assert any("written although it breaks the format" in line for line in lines)
    assert out.exists() and not any(line.startswith("rep ") for line in lines)
