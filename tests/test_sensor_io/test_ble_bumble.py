"""Integration tier: Movesense over a real BLE host stack (bumble, two virtual
controllers linked in memory) under bleak's API, so MTU exchange, notification size
limits and GATT discovery are the stack's, not ours."""

import asyncio

import numpy as np
import pytest

pytest.importorskip("bumble", reason="bumble (dev extra) not installed")

from ble_emulation.bumble_tier import PERIPHERAL_ADDRESS, BumbleWorld  # noqa: E402

from sensor_io.ble_client import SensorSpec, StreamingSession, scan  # noqa: E402
from sensor_io.ble_emulation import gravity_signal  # noqa: E402
from sensor_io.recorder import Recorder  # noqa: E402
from sensor_io.vendors.movesense import protocol as movesense  # noqa: E402
from sensor_io.virtual_clock import run_virtual  # noqa: E402


async def _stream(tmp_path, mtu, seconds=1.5):
    world = BumbleWorld(gravity_signal(), mtu=mtu)
    await world.power_on()
    sb, cb = world.backends()
    found = await scan(0.5, backend=sb)
    rec = Recorder(tmp_path / "b.sdj", test_leg="left")
    session = StreamingSession([SensorSpec("pelvis", PERIPHERAL_ADDRESS, 52,
                                           movesense.PROFILE)], rec,
                               scanner_backend=sb, client_backend=cb, scan_timeout_s=3.0)
    await session.connect_all()
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    await session.run(stop)
    rec.close()
    return world, found, session, rec


def test_movesense_over_bumble_with_mtu_exchange(tmp_path):
    world, found, session, rec = run_virtual(_stream(tmp_path, mtu=247))
    assert [(d.address, d.model) for d in found] == [(PERIPHERAL_ADDRESS, "Movesense")]
    s = rec.recording().streams["pelvis"]
    assert len(s) >= 0.8 * 52 * 1.5 and session.status["pelvis"].bad_packets == 0
    # device timestamps: the sample period is the device's; the clock model may slew
    # a few ms while it learns the link latency (more so on a loaded machine)
    dt = np.diff(s.t)
    assert np.median(dt) == pytest.approx(1 / 52, abs=1e-4)
    assert np.all(np.abs(dt - 1 / 52) < 0.15 / 52)
    np.testing.assert_allclose(s.acc[:, 2], 9.80665, atol=1e-5)
    assert session.status["pelvis"].state == "stopped"


def test_default_mtu_truncates_packets_and_nothing_is_invented(tmp_path):
    # without an MTU exchange (ATT default 23), a 102-byte IMU6 notification is cut to 20
    world, _, session, rec = run_virtual(_stream(tmp_path, mtu=23, seconds=0.8))
    assert world.sensor.sent_samples > 0
    assert session.status["pelvis"].samples == 0
    assert session.status["pelvis"].bad_packets > 0
    assert "pelvis" not in rec.recording().streams
