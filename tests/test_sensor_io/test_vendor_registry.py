"""One folder per vendor, one registry line: the built-in vendors are laid out alike, the
generic client and emulator name none of them, and a toy vendor (``tests/toy_vendor/``)
streams through bleak, the client and the generic emulator once registered."""

import ast
import asyncio
from pathlib import Path

import numpy as np
import pytest
import toy_vendor

from sensor_io import vendors
from sensor_io.ble_client import SensorSpec, StreamingSession, scan
from sensor_io.ble_emulation import EmulatedPeripheral, EmulatedWorld, gravity_signal
from sensor_io.recorder import Recorder
from sensor_io.vendors.common import STANDARD_GRAVITY
from sensor_io.virtual_clock import run_virtual

PACKAGE = Path(vendors.__file__).parent
ADDR = "EE:00:00:00:00:07"


def test_each_built_in_vendor_is_one_folder_with_its_parts():
    assert list(vendors.VENDORS) == list(vendors.BUILT_IN)
    for name in vendors.BUILT_IN:
        folder = PACKAGE / name
        assert {"__init__.py", "gatt.py", "protocol.py", "emulator.py"} <= {
            p.name for p in folder.iterdir()}, name
        vendor = vendors.VENDORS[name]
        gatt = __import__(f"sensor_io.vendors.{name}.gatt", fromlist=["SERVICE_UUID"])
        assert vendor.profile.service_uuid == gatt.SERVICE_UUID
        assert vendors.profile_for([gatt.SERVICE_UUID.upper()]) is vendor.profile
        assert vendors.vendor_of(vendor.profile) is vendor


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return names


@pytest.mark.parametrize("module", ["ble_client.py", "ble_emulation.py", "vendors/__init__.py",
                                    "vendors/base.py", "vendors/common.py"])
def test_the_generic_modules_import_no_vendor_folder(module):
    imported = _imported_modules(PACKAGE.parent / module)
    named = {m for m in imported for v in vendors.BUILT_IN
             if m == f"sensor_io.vendors.{v}" or m.startswith(f"sensor_io.vendors.{v}.")}
    assert not named, f"{module} imports {named}: a vendor belongs in its folder"


@pytest.fixture
def registry(monkeypatch):
    """The registry as built, restored after the test."""
    monkeypatch.setattr(vendors, "VENDORS", dict(vendors.VENDORS))
    return vendors


def _world() -> EmulatedWorld:
    world = EmulatedWorld(speed=8.0)
    world.add(EmulatedPeripheral(ADDR, toy_vendor.VENDOR.profile, gravity_signal(),
                                 name="TOY 0007"))
    return world


def test_an_unregistered_vendor_is_neither_recognised_nor_emulated(registry):
    assert registry.profile_for([toy_vendor.gatt.SERVICE_UUID], "TOY 0007") is None
    with pytest.raises(ValueError, match="no registered vendor for Toy IMU"):
        _world()


def test_a_toy_vendor_registered_in_one_line_streams_through_bleak(registry, tmp_path):
    registry.register(toy_vendor.VENDOR)  # the one registry line
    world = _world()
    sb, cb = world.backends()
    found = run_virtual(scan(0.2, backend=sb))
    assert [(d.address, d.model) for d in found] == [(ADDR, "Toy IMU")]

    rec = Recorder(tmp_path / "toy.sdj", test_leg="left")
    session = StreamingSession([SensorSpec("pelvis", ADDR, 90.0)], rec, scanner_backend=sb,
                               client_backend=cb, clock=world.now)

    async def run() -> None:
        await session.connect_all()
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.5, stop.set)  # 4 s of world time
        await session.run(stop)

    run_virtual(run())
    rec.close()
    st = session.status["pelvis"]
    assert (st.model, st.setup, st.gaps, st.bad_packets) == ("Toy IMU", "100 Hz", 0, 0)
    p = world.get(ADDR)
    assert p.writes[0] == b"\x01\x64\x00" and p.writes[-1] == b"\x02"  # start 100 Hz, stop
    s = rec.recording().streams["pelvis"]
    assert len(s) == len(p.sent_samples) > 300  # every sample sent was kept
    assert np.median(np.diff(s.t)) == pytest.approx(0.01, rel=1e-3)
    # the samples are the signal's: gravity on z (float32 on the wire), and acc x the
    # 0.5 Hz sine at the sample's world time (common clock + the session's start), once
    # the device clock is fitted (until then its offset is off by up to a connection event)
    assert np.allclose(s.acc[:, 2], STANDARD_GRAVITY, atol=1e-5)
    error = np.abs(s.acc[:, 0] - 0.5 * np.sin(2 * np.pi * 0.5 * (s.t + session._t0)))
    # 2e-3 m/s² is 1.3 ms on this sine (slope at most 1.6 m/s³)
    assert error.max() < 0.05 and error[len(s) // 2:].max() < 2e-3
