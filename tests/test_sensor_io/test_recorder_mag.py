"""The magnetometer (IMU9) kept in live recordings: Recorder.add_samples(mag=...), the
journal's SAMPLES records and recovery carry it; a sensor without one has no mag."""

import asyncio
import dataclasses
import functools

import numpy as np
import pytest

from sensor_io.ble_client import SensorSpec, StreamingSession
from sensor_io.ble_emulation import EmulatedPeripheral, EmulatedWorld, gravity_signal
from sensor_io.recorder import Recorder, recording_from_journal
from sensor_io.recording_io import read_recording
from sensor_io.vendors.movesense import protocol as movesense
from sensor_io.virtual_clock import run_virtual


def _imu(n: int, t0: float = 0.0, rate: float = 100.0):
    t = t0 + np.arange(n) / rate
    rng = np.random.default_rng(int(t0 * 1000))
    acc = rng.normal(size=(n, 3)) * 0.2 + [0.0, 0.0, 9.81]  # m/s², standing
    return t, acc, rng.normal(size=(n, 3)), rng.normal(20, 5, size=(n, 3))


def test_mag_is_kept_in_memory_in_the_journal_and_in_the_file(tmp_path):
    rec = Recorder(tmp_path / "m.sdj", test_leg="left")
    t, acc, gyr, mag = _imu(50)
    assert rec.add_samples("pelvis", t[:30], acc[:30], gyr[:30], mag[:30]) == 30
    # an overlapping block: its first 10 samples are duplicates, dropped with their mag
    assert rec.add_samples("pelvis", t[20:], acc[20:], gyr[20:], mag[20:]) == 20
    rec.add_samples("thigh_left", t, acc, gyr)  # no magnetometer
    live = rec.recording()
    rec.finish(tmp_path / "m.parquet")
    recovered, report = recording_from_journal(tmp_path / "m.sdj")
    written = read_recording(tmp_path / "m.parquet")
    for r in (live, recovered, written):
        np.testing.assert_array_equal(r.streams["pelvis"].mag, mag)
        np.testing.assert_array_equal(r.streams["pelvis"].acc, acc)
        assert r.streams["thigh_left"].mag is None
    assert report.samples == {"pelvis": 50, "thigh_left": 50} and not report.lost


@pytest.mark.parametrize("first_with_mag", [False, True])
def test_a_sensor_whose_mag_comes_and_goes_keeps_its_imu_and_no_partial_mag(tmp_path,
                                                                           first_with_mag):
    rec = Recorder(tmp_path / "p.sdj", test_leg="left")
    t, acc, gyr, mag = _imu(40)
    rec.add_samples("pelvis", t[:20], acc[:20], gyr[:20], mag[:20] if first_with_mag else None)
    rec.add_samples("pelvis", t[20:], acc[20:], gyr[20:], None if first_with_mag else mag[20:])
    rec.close()
    recovered, _ = recording_from_journal(tmp_path / "p.sdj")
    for r in (rec.recording(), recovered):
        assert r.streams["pelvis"].mag is None  # all or nothing: never a half-NaN column
        np.testing.assert_array_equal(r.streams["pelvis"].gyr, gyr)


def test_a_movesense_imu9_stream_records_its_magnetometer(tmp_path):
    """Through bleak against the emulated GSP firmware, subscribed to /Meas/IMU9: the
    emulator's field (20, 0, -40) µT reaches the recording and its recovery."""
    imu9 = dataclasses.replace(movesense.PROFILE,
                               start=functools.partial(movesense.start_imu, schema="IMU9"))
    world = EmulatedWorld(speed=8.0)
    addr = "EE:00:00:00:00:09"
    world.add(EmulatedPeripheral(addr, movesense.PROFILE, gravity_signal()))
    sb, cb = world.backends()
    rec = Recorder(tmp_path / "ms.sdj", test_leg="left")
    session = StreamingSession([SensorSpec("pelvis", addr, 104.0, profile=imu9)], rec,
                               scanner_backend=sb, client_backend=cb, clock=world.now)

    async def run() -> None:
        await session.connect_all()
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.25, stop.set)
        await session.run(stop)

    run_virtual(run())
    rec.close()
    assert movesense.subscribe("/Meas/IMU9/104")[2:] in world.get(addr).writes[-2]
    recovered, _ = recording_from_journal(tmp_path / "ms.sdj")
    for r in (rec.recording(), recovered):
        s = r.streams["pelvis"]
        assert len(s) > 100 and s.mag is not None
        np.testing.assert_allclose(s.mag, np.tile([20.0, 0.0, -40.0], (len(s), 1)))
