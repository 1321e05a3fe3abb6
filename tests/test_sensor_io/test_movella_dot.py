"""Movella DOT: the BLE payload on the specification's layout, and the app's CSV export
imported as a recording.

Sources: "Movella DOT BLE Service Specification" (XD0506P rev. C): Table 13 measurement
control ``Type Action Payload-mode`` (1 = measurement; start 1, stop 0; mode 21 = Rate
quantities), Table 15 (Rate quantities, 28 bytes: Timestamp, Acceleration, Angular
velocity on the medium payload characteristic, trailing bytes 0x00), Table 17
(timestamp µs uint32; acceleration m/s², angular velocity dps, float32), Table 7 (device
control, output rate uint16 at byte 24, visit-index bit 4).  CSV export: the DOT SDK's
XsensDotLogger (``sep=,``, ``Key:,value`` lines, ``PacketCounter,SampleTimeFine,Acc_X,
Acc_Y,Acc_Z,Gyr_X,Gyr_Y,Gyr_Z`` for Rate quantities).
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from sensor_io.recording_io import read_recording
from sensor_io.vendors.common import DEG, ProtocolError
from sensor_io.vendors.movella import protocol as movella
from sensor_io.vendors.movella.app_export import read_dot_csv, recording_from_dot
from simulator.single_test import SimConfig, placement_name, simulate
from stepdown.cli import main


def test_rate_quantities_payload_on_the_documented_layout():
    # 28 bytes: uint32 µs, 3 float32 m/s², 3 float32 °/s; 12 zero bytes pad to 40
    data = struct.pack("<I3f3f", 1_000_000, 0.5, -0.25, 9.81, 90.0, 0.0, -45.0) + bytes(12)
    d = movella.DotDecoder(60)
    s = d.feed(movella.MEDIUM_UUID, data)
    np.testing.assert_allclose(s.acc, [[0.5, -0.25, 9.81]], rtol=1e-6)
    np.testing.assert_allclose(s.gyr, [[90 * DEG, 0, -45 * DEG]], rtol=1e-6)
    assert s.t_device_s[0] == pytest.approx(1.0)
    assert len(d.feed(movella.MEDIUM_UUID, data[:20])) == 0  # truncated
    assert len(d.feed(movella.MEDIUM_UUID, data[:28] + b"\x01" + bytes(11))) == 0  # not padding
    assert len(d.feed(movella.MEDIUM_UUID, data)) == 0  # same timestamp again: out of order
    assert d.stats.bad_packets == 2 and d.stats.implausible == 1


def test_commands_on_the_documented_layout():
    assert movella.measurement(True) == bytes([0x01, 0x01, 0x15])   # start, mode 21
    assert movella.measurement(False) == bytes([0x01, 0x00, 0x15])  # stop
    ctl = movella.set_output_rate(60)
    assert len(ctl) == 32 and ctl[0] == 0x10 and ctl[24:26] == b"\x3c\x00"
    assert movella.output_rate(ctl) == 60
    with pytest.raises(ProtocolError):
        movella.set_output_rate(120)  # recording only, not streaming


def dot_export(path, t_us, acc, gyr_dps, synced=True, start="2026-11-24 17:03:00.000 +0000"):
    """An export laid out as XsensDotLogger writes it (Rate quantities)."""
    lines = ["sep=,", "DeviceTag:,Movella DOT" + "," * 17, "FirmwareVersion:,2.6.0" + "," * 17,
             "AppVersion:,2024.6.0" + "," * 17,
             f"SyncStatus:,{'Synced' if synced else 'Un-synced'}" + "," * 17,
             "OutputRate:,60Hz" + "," * 17, "FilterProfile:,General" + "," * 17,
             "Measurement Mode:,Rate quantities" + "," * 17, f"StartTime:,{start}" + "," * 17,
             "Movella Technologies B. V. 2005-2026,," + "," * 17, "",
             "PacketCounter,SampleTimeFine,Acc_X,Acc_Y,Acc_Z,Gyr_X,Gyr_Y,Gyr_Z"]
    for k, (t, a, g) in enumerate(zip(t_us, acc, gyr_dps, strict=True)):
        lines.append(f"{k},{int(t)},{a[0]:.6f},{a[1]:.6f},{a[2]:.6f},"
                     f"{g[0]:.6f},{g[1]:.6f},{g[2]:.6f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_app_exports_import_as_a_recording_and_analyse(tmp_path, capsys):
    sim = simulate(SimConfig(seed=4, test_leg="right", sensors=("pelvis", "thigh"),
                             ideal_sensors=True))
    args = []
    for seg in ("pelvis", "thigh"):
        name = placement_name(seg, "right")
        s = sim.recording.streams[name]
        t_us = np.round((s.t + 4000.0) * 1e6) % 2**32  # a synced clock that wraps inside
        f = dot_export(tmp_path / f"{seg}.csv", t_us, s.acc, np.degrees(s.gyr))
        args.append(f"{name}={f}")
    out = tmp_path / "dot.parquet"
    assert main(["import-dot", *args, "--leg", "right", "--out", str(out)]) == 0
    rec = read_recording(out)
    for name in ("pelvis", "thigh_right"):
        truth = sim.recording.streams[name]
        got = rec.streams[name]
        np.testing.assert_allclose(got.t, truth.t - truth.t[0] + (got.t[0]), atol=2e-6)
        np.testing.assert_allclose(got.acc, truth.acc, atol=1e-6)
        np.testing.assert_allclose(got.gyr, truth.gyr, atol=1e-7)
        assert rec.sensors_meta[name]["model"] == "Movella DOT"
    assert main(["analyze", str(out), "--json"]) == 0
    assert '"test_leg": "right"' in capsys.readouterr().out


def test_unsynced_exports_are_placed_by_start_time(tmp_path):
    t = np.arange(200) * 1e6 / 60
    z = np.tile([0, 0, 9.81], (200, 1))
    a = dot_export(tmp_path / "a.csv", t + 5e6, z, 0 * z, synced=False,
                   start="2026-11-24 17:03:00.000 +0000")
    b = dot_export(tmp_path / "b.csv", t + 9e8, z, 0 * z, synced=False,
                   start="2026-11-24 17:03:00.250 +0000")
    rec = recording_from_dot({"pelvis": a, "thigh_left": b}, "left")
    assert rec.streams["thigh_left"].t[0] - rec.streams["pelvis"].t[0] == pytest.approx(0.25)
    assert rec.extra["clock"] == "StartTime per file"


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.replace("Gyr_Z", "Mag_Z"), "no Gyr_Z column"),
    (lambda s: s.replace(",0.000000,", ",nan,", 1), "NaN or infinite"),
    (lambda s: s.replace("PacketCounter", "Index").replace("SampleTimeFine", "T"),
     "not a Movella DOT export"),
    (lambda s: s + "99,5,oops,0,0,0,0,0\n", "not a number"),
])
def test_bad_exports_are_one_clear_error(tmp_path, capsys, edit, message):
    t = np.arange(10) * 1e6 / 60
    z = np.tile([0, 0, 9.81], (10, 1))
    f = dot_export(tmp_path / "a.csv", t, z, 0 * z)
    f.write_text(edit(f.read_text()))
    rc = main(["import-dot", f"pelvis={f}", "--leg", "left", "--out", str(tmp_path / "x.parquet")])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "x.parquet").exists()


@pytest.mark.parametrize("path, message", [
    ("nope.csv", "nope.csv: cannot read: No such file or directory"),
    (".", "cannot read: Is a directory"),
    ("binary.parquet", "binary.parquet: cannot read: not a text file"),
])
def test_a_file_that_cannot_be_read_says_why(tmp_path, capsys, monkeypatch, path, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "binary.parquet").write_bytes(b"PAR1\xff\xfe\x00\x9c" * 64)
    rc = main(["import-dot", f"pelvis={path}", "--leg", "left", "--out", "x.parquet"])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert "Error)" not in err  # not the exception's class name


def test_an_existing_recording_is_not_overwritten_without_force(tmp_path, capsys):
    z = np.tile([0, 0, 9.81], (10, 1))
    f = dot_export(tmp_path / "a.csv", np.arange(10) * 1e6 / 60, z, 0 * z)
    out = tmp_path / "test.parquet"
    out.write_bytes(b"an earlier recording")
    rc = main(["import-dot", f"pelvis={f}", "--leg", "left", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "already exists; use --force" in err and len(err.strip().splitlines()) == 1
    assert out.read_bytes() == b"an earlier recording"


@pytest.mark.parametrize("out, message", [
    ("no/x.parquet", "--out no/x.parquet: folder no does not exist"),
    ("x.txt", "--out x.txt: the recording must end in .parquet or .csv"),
])
def test_a_bad_out_is_refused_before_the_exports_are_read(tmp_path, capsys, monkeypatch, out,
                                                          message):
    monkeypatch.chdir(tmp_path)
    rc = main(["import-dot", "pelvis=missing.csv", "--leg", "left", "--out", out])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_one_file_for_two_sensors_is_refused(tmp_path, capsys):
    z = np.tile([0, 0, 9.81], (10, 1))
    f = dot_export(tmp_path / "a.csv", np.arange(10) * 1e6 / 60, z, 0 * z)
    rc = main(["import-dot", f"pelvis={f}", f"thigh_left={tmp_path}/./a.csv", "--leg", "left",
               "--out", str(tmp_path / "x.parquet")])
    err = capsys.readouterr().err
    assert rc == 2 and "given for both pelvis and thigh_left" in err
    assert not (tmp_path / "x.parquet").exists()


def test_time_going_back_is_refused(tmp_path):
    z = np.tile([0, 0, 9.81], (3, 1))
    f = dot_export(tmp_path / "a.csv", [100, 200, 150], z, 0 * z)
    with pytest.raises(Exception, match="not increasing at data row 3"):
        read_dot_csv(f)
