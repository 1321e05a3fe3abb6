"""Movesense GSP decoder on byte vectors built from the GATT SensorData protocol."""

import struct

import numpy as np
import pytest

from sensor_io.protocols import movesense as ms
from sensor_io.protocols.common import DEG, ProtocolError


def imu6_packet(ts_ms, acc, gyr_dps, ref=ms.IMU_REF, kind=ms.RESP_DATA) -> bytes:
    body = struct.pack("<I", ts_ms)
    body += b"".join(struct.pack("<3f", *a) for a in acc)
    body += b"".join(struct.pack("<3f", *g) for g in gyr_dps)
    return bytes([kind, ref]) + body


def test_commands_are_documented_bytes():
    assert ms.hello() == b"\x00\x00"
    assert ms.subscribe(ms.imu6_path(104)) == b"\x01\x63Meas/IMU6/104"
    assert ms.unsubscribe() == b"\x02\x63"
    with pytest.raises(ProtocolError):
        ms.imu6_path(100)


def test_imu6_packet_decodes_to_si_with_device_time():
    pkt = imu6_packet(1000, [(0, 0, 9.81), (0.5, 0, 9.81)], [(90, 0, 0), (0, -180, 0)])
    s = ms.MovesenseDecoder(rate_hz=104).feed(ms.NOTIFY_UUID, pkt)
    np.testing.assert_allclose(s.acc, [[0, 0, 9.81], [0.5, 0, 9.81]], rtol=1e-6)
    np.testing.assert_allclose(s.gyr, [[90 * DEG, 0, 0], [0, -np.pi, 0]], rtol=1e-6)
    np.testing.assert_allclose(s.t_device_s, [1.0, 1.0 + 1 / 104])


def test_encoder_matches_hand_built_packet():
    acc = np.array([[1.0, 2.0, 3.0]])
    assert ms.encode_imu6(7, acc, np.array([[DEG, 0, 0]])) == imu6_packet(7, acc, [(1, 0, 0)])


def test_command_result_is_recorded_not_sampled():
    d = ms.MovesenseDecoder()
    assert len(d.feed(ms.NOTIFY_UUID, bytes([1, ms.IMU_REF]) + struct.pack("<H", 200))) == 0
    assert d.results[ms.IMU_REF] == 200


def test_data_part2_is_joined():
    pkt = imu6_packet(50, [(1, 1, 1)] * 4, [(2, 2, 2)] * 4)
    d = ms.MovesenseDecoder(rate_hz=52)
    assert len(d.feed(ms.NOTIFY_UUID, pkt[:41])) == 0
    s = d.feed(ms.NOTIFY_UUID, bytes([ms.RESP_DATA_PART2, ms.IMU_REF]) + pkt[41:])
    assert len(s) == 4 and d.stats.bad_packets == 0


def test_truncated_corrupt_and_foreign_packets_are_counted_and_dropped():
    d = ms.MovesenseDecoder()
    good = imu6_packet(10, [(0, 0, 9.8)], [(0, 0, 0)])
    nan = imu6_packet(10, [(np.nan, 0, 9.8)], [(0, 0, 0)])
    assert len(d.feed(ms.NOTIFY_UUID, b"\x02")) == 0
    assert len(d.feed(ms.NOTIFY_UUID, good[:-3])) == 0  # held as a possible first part
    assert len(d.feed(ms.NOTIFY_UUID, nan)) == 0
    assert len(d.feed(ms.NOTIFY_UUID, imu6_packet(10, [(0, 0, 1)], [(0, 0, 0)], ref=9))) == 0
    assert len(d.feed(ms.NOTIFY_UUID, good)) == 1
    assert d.stats.bad_packets == 4


def test_uint32_millisecond_clock_wrap_is_unwrapped():
    d = ms.MovesenseDecoder(rate_hz=13)
    a = d.feed(ms.NOTIFY_UUID, imu6_packet(2**32 - 20, [(0, 0, 1)], [(0, 0, 0)]))
    b = d.feed(ms.NOTIFY_UUID, imu6_packet(57, [(0, 0, 1)], [(0, 0, 0)]))
    assert b.t_device_s[0] - a.t_device_s[0] == pytest.approx(0.077)
