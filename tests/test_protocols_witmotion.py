"""WitMotion BWT901BLE decoder on byte vectors built from the vendor's protocol table."""

import struct

import numpy as np
import pytest

from sensor_io.protocols import witmotion as wm
from sensor_io.protocols.common import DEG, STANDARD_GRAVITY, ProtocolError

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
