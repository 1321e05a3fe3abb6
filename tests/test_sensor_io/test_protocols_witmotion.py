"""WitMotion BWT901BLE decoder and command layer on the vendor's byte layouts.

Sources: WitMotion "BLE 5.0 communication protocol" (``55 61`` + 9 int16 frames, ``55 71``
register replies, ``FF AA REG DL DH`` writes) and the vendor's SDK example
WITMOTION/WitBluetooth_BWT901BLE5_0 (MainActivity.handleReadReg03 writes
``ff aa 27 03 00`` to read the rate register; DeviceModel resynchronises on ``55 61`` /
``55 71``).
"""

import asyncio
import struct

import numpy as np
import pytest
from vendor_io import DeviceIO

from sensor_io.vendors.common import DEG, STANDARD_GRAVITY, DeviceRejected, ProtocolError
from sensor_io.vendors.witmotion import protocol as wm
from sensor_io.vendors.witmotion.emulator import WitMotionDevice

G = STANDARD_GRAVITY


def frame(ax=0, ay=0, az=2048, wx=0, wy=0, wz=0, roll=0, pitch=0, yaw=0) -> bytes:
    """55 61 + 9 int16 LE: raw counts (az=2048 is +1 g at ±16 g full scale)."""
    return bytes([0x55, 0x61]) + struct.pack("<9h", ax, ay, az, wx, wy, wz, roll, pitch, yaw)


def test_documented_frame_decodes_to_si():
    # at rest, z up: 1 g = 32768/16 = 2048 counts; 1000 °/s = 16384 counts
    data = bytes.fromhex("5561" "0000" "0000" "0008" "0040" "0000" "00c0" "0000" "0000" "0040")
    s = wm.WitMotionDecoder().feed(wm.NOTIFY_UUID, data)
    np.testing.assert_allclose(s.acc, [[0, 0, G]])
    np.testing.assert_allclose(s.gyr, [[1000 * DEG, 0, -1000 * DEG]])
    assert s.t_device_s is None
    assert wm.decode_angles_deg(data)[2] == pytest.approx(90.0)


def test_commands_match_documented_bytes():
    assert wm.unlock() == bytes.fromhex("ffaa6988b5")
    assert wm.save() == bytes.fromhex("ffaa000000")
    assert wm.set_rate(100.0) == bytes.fromhex("ffaa030900")
    assert wm.set_rate(200.0) == bytes.fromhex("ffaa030b00")
    assert wm.read_register(0x64) == bytes.fromhex("ffaa276400")
    with pytest.raises(ProtocolError):
        wm.set_rate(123.0)


def test_split_and_merged_notifications_give_the_same_samples():
    stream = b"".join(frame(ax=i, wz=-i) for i in range(10))
    whole = wm.WitMotionDecoder().feed(wm.NOTIFY_UUID, stream)
    d = wm.WitMotionDecoder()
    parts = [d.feed(wm.NOTIFY_UUID, stream[i:i + 7]) for i in range(0, len(stream), 7)]
    acc = np.concatenate([p.acc for p in parts])
    np.testing.assert_allclose(acc, whole.acc)
    assert len(whole) == 10 and d.stats.bad_packets == 0


def test_resyncs_after_garbage_and_truncated_frame():
    d = wm.WitMotionDecoder()
    data = b"\x00\x13\x55" + frame(ax=1) + frame(ax=2)[:9] + frame(ax=3) + frame(ax=4)
    s = d.feed(wm.NOTIFY_UUID, data)
    raw_ax = np.round(s.acc[:, 0] / (16 * G) * 32768).astype(int)
    assert list(raw_ax) == [1, 3, 4]  # the torn frame 2 is dropped, nothing invented
    assert d.stats.skipped_bytes > 0


def test_truncated_tail_waits_for_the_rest():
    d = wm.WitMotionDecoder()
    f = frame(ax=5)
    assert len(d.feed(wm.NOTIFY_UUID, f[:12])) == 0
    assert len(d.feed(wm.NOTIFY_UUID, f[12:])) == 1


def test_register_reply_gives_battery_voltage():
    d = wm.WitMotionDecoder()
    reply = bytes([0x55, 0x71, 0x64, 0x00]) + struct.pack("<8h", 392, 0, 0, 0, 0, 0, 0, 0)
    assert len(d.feed(wm.NOTIFY_UUID, reply + frame())) == 1
    assert d.battery_v == pytest.approx(3.92)


def test_bad_frame_array_shape_is_refused():
    with pytest.raises(ProtocolError):
        wm.decode_imu_frames(np.zeros((2, 19), np.uint8))


def _ax(s):
    return list(np.round(s.acc[:, 0] / (16 * G) * 32768).astype(int))


def test_a_frame_without_its_leading_55_costs_only_itself():
    """A 19-byte frame starting ``61`` between two good frames: both good ones decode
    (the one before it is a whole frame followed by garbage, not a torn one)."""
    d = wm.WitMotionDecoder()
    s = d.feed(wm.NOTIFY_UUID, frame(ax=1) + frame(ax=2)[1:] + frame(ax=3))
    assert _ax(s) == [1, 3]
    d = wm.WitMotionDecoder()
    parts = [frame(ax=1), frame(ax=2)[1:], frame(ax=3), frame(ax=4)]
    got = [d.feed(wm.NOTIFY_UUID, p) for p in parts]
    assert sum((_ax(g) for g in got), []) == [1, 3, 4]


def test_frames_before_the_rate_reply_are_not_taken_as_samples():
    d = wm.WitMotionDecoder()
    d.awaiting_rate = True  # set by the start procedure before it writes the rate
    reply = bytes([0x55, 0x71, 0x03, 0x00]) + struct.pack("<8h", 0x09, 0, 0, 0, 0, 0, 0, 0)
    s = d.feed(wm.NOTIFY_UUID, frame(ax=1) + reply + frame(ax=2))
    assert _ax(s) == [2] and d.registers[0x03] == 0x09


def test_start_sets_and_reads_back_the_rate():
    """Unlock ``FF AA 69 88 B5``, rate ``FF AA 03 09 00`` (100 Hz), save, then the SDK's
    register read ``FF AA 27 03 00`` (answered ``55 71 03 00 09 00 …``) and the battery."""
    io = DeviceIO(WitMotionDevice)
    started = asyncio.run(wm.start_imu(io, 90, wm.WitMotionDecoder()))
    assert started.rate_hz == 100
    assert [w.hex() for w in io.writes] == ["ffaa6988b5", "ffaa030900", "ffaa000000",
                                            "ffaa270300", "ffaa276400"]
    assert io.answers[0][1][:6] == bytes.fromhex("55 71 03 00 09 00")


def test_a_device_that_ignores_the_rate_write_is_a_rejected_start():
    io = DeviceIO(WitMotionDevice)
    io.device.on_write = _without_unlock(io.device.on_write)
    with pytest.raises(DeviceRejected, match="kept rate code 0x06"):
        asyncio.run(wm.start_imu(io, 100, wm.WitMotionDecoder()))


def _without_unlock(on_write):
    return lambda uuid, data: None if data[2] == wm.REG_UNLOCK else on_write(uuid, data)
