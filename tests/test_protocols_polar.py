"""Polar PMD decoder on byte vectors built from the PMD specification."""

import struct

import numpy as np
import pytest

from sensor_io.protocols import polar
from sensor_io.protocols.common import DEG, STANDARD_GRAVITY, ProtocolError


def test_start_and_stop_requests_are_documented_bytes():
    # 02 02 | 00 01 3400 | 01 01 1000 | 02 01 0800 : ACC, 52 Hz, 16 bit, 8 g
    want = bytes.fromhex("0202" "00013400" "01011000" "02010800")
    assert polar.start(polar.TYPE_ACC, 52, 8) == want
    assert polar.stop(polar.TYPE_GYRO) == b"\x03\x05"
    assert polar.get_settings(polar.TYPE_ACC) == b"\x01\x02"


def test_control_response_with_factor():
    resp = bytes.fromhex("f0020200" "00" "0501") + struct.pack("<f", 0.5)
    op, kind, status, settings = polar.parse_control_response(resp)
    assert (op, kind, status) == (polar.OP_START, polar.TYPE_ACC, 0)
    assert settings[polar.SETTING_FACTOR] == [0.5]
    with pytest.raises(ProtocolError):
        polar.parse_control_response(bytes.fromhex("f00202000000"))  # TLV truncated


def test_uncompressed_int16_acc_frame_in_mg():
    ts = 10**9  # ns of the last sample
    data = bytes([2]) + struct.pack("<Q", ts) + b"\x01" + struct.pack("<6h", 0, 0, 1000, 0, -500, 0)
    kind, s = polar.decode_frame(data, rate_hz=50)
    assert kind == polar.TYPE_ACC
    np.testing.assert_allclose(s.acc, [[0, 0, STANDARD_GRAVITY], [0, -STANDARD_GRAVITY / 2, 0]])
    np.testing.assert_allclose(s.t_device_s, [0.98, 1.0])


def test_delta_frame_hand_packed():
    # reference (1, 2, 3); one block: 2-bit deltas, 2 samples: (+1, -1, 0), (-2, 1, 1)
    # 2-bit codes: 01 11 00 10 01 01 -> LSB first: byte0 = 0b00_11_01 pattern
    codes = [1, 3, 0, 2, 1, 1]
    bits = sum(c << (2 * i) for i, c in enumerate(codes))
    body = struct.pack("<3h", 1, 2, 3) + bytes([2, 2]) + bits.to_bytes(2, "little")
    raw = polar.decode_delta_frame(body)
    np.testing.assert_array_equal(raw, [[1, 2, 3], [2, 1, 3], [0, 2, 4]])


def test_delta_roundtrip_and_gyro_units():
    rng = np.random.default_rng(0)
    raw = np.cumsum(rng.integers(-300, 300, size=(30, 3)), axis=0)
    frame = polar.encode_frame(polar.TYPE_GYRO, 5 * 10**9, raw)
    kind, s = polar.decode_frame(frame, rate_hz=52, factor=0.1)
    assert kind == polar.TYPE_GYRO
    np.testing.assert_allclose(s.gyr, raw * 0.1 * DEG)
    assert s.t_device_s[-1] == pytest.approx(5.0)


@pytest.mark.parametrize("cut", [5, 11, 14, 17])
def test_truncated_frames_raise(cut):
    raw = np.arange(30).reshape(10, 3) * 7
    frame = polar.encode_frame(polar.TYPE_ACC, 10**9, raw)
    with pytest.raises(ProtocolError):
        polar.decode_frame(frame[:cut], rate_hz=52)


def test_decoder_pairs_acc_and_gyro_and_survives_corruption():
    d = polar.PolarDecoder(rate_hz=52)
    d.feed(polar.CONTROL_UUID, bytes.fromhex("f00205000005 01") + struct.pack("<f", 0.1))
    assert d.factors[polar.TYPE_GYRO] == pytest.approx(0.1)
    n = 10
    t_last = 2 * 10**9
    acc_raw = np.tile([0, 0, 1000], (n, 1))
    gyr_raw = np.tile([100, 0, 0], (n, 1))
    out = [d.feed(polar.DATA_UUID, polar.encode_frame(polar.TYPE_ACC, t_last, acc_raw))]
    bad = polar.encode_frame(polar.TYPE_GYRO, t_last, gyr_raw)
    out.append(d.feed(polar.DATA_UUID, bad[:15]))  # truncated: dropped, counted
    out.append(d.feed(polar.DATA_UUID, bytes([polar.TYPE_GYRO]) + bad[1:]))
    got = sum(len(o) for o in out)
    assert got == n
    assert d.stats.bad_packets == 1
    s = out[-1]
    np.testing.assert_allclose(s.acc[0], [0, 0, STANDARD_GRAVITY])
    np.testing.assert_allclose(s.gyr[0], [10 * DEG, 0, 0], rtol=1e-6)
