"""Polar PMD: decoder and command layer on the vendor's own byte examples.

Sources (polarofficial/polar-ble-sdk): "Polar Measurement Data Specification for 3rd
Party" (technical_documentation/Polar_Measurement_Data_Specification.pdf, PMD spec below),
technical_documentation/online_measurement.pdf, and the SDK's unit tests whose literal
bytes are quoted (AccDataTest.kt, PmdSettingTest.kt,
BlePmdClientControlPointResponseTest.kt) with the rules of AccData.kt,
PmdControlPointResponse.kt, PmdSetting.kt and PmdMeasurementType.kt.
"""

import asyncio
import struct

import numpy as np
import pytest
from vendor_io import DeviceIO

from sensor_io.vendors.common import DEG, STANDARD_GRAVITY, DeviceRejected
from sensor_io.vendors.polar import protocol as polar
from sensor_io.vendors.polar.emulator import H10, VERITY_SENSE, PolarDevice

G = STANDARD_GRAVITY
HDR_2E9 = bytes.fromhex("02 00 94 35 77 00 00 00 00")  # ACC, ts 2 000 000 000 ns


def frame(frame_type: int, body: str, header: bytes = HDR_2E9) -> bytes:
    return header + bytes([frame_type]) + bytes.fromhex(body)


def test_verity_delta_example_with_factor_gives_minus_11_mg():
    """PMD spec, "Delta frame sample example from Polar Verity Sense": reference
    ``D0 FF 65 01 E4 0F`` (−48, 357, 4068), delta size ``08``, deltas ``FC 07 FF`` and
    ``0C 13 F2`` → (−52, 364, 4067), (−40, 383, 4053).  The document gives two deltas of
    its 0x1D, so the count byte here is 02.  With FACTOR 0.000244 from the start answer
    the SDK (AccData.dataFromCompressedType0) gives mG = trunc(count × FACTOR × 1000):
    x = −11 mG = −0.108 m/s²."""
    body = "D0FF6501E40F 0802 FC07FF 0C13F2"
    raw = polar.decode_delta_frame(bytes.fromhex(body))
    np.testing.assert_array_equal(raw, [[-48, 357, 4068], [-52, 364, 4067], [-40, 383, 4053]])
    d = polar.PolarDecoder(rate_hz=52)
    d.configure(52, {polar.TYPE_ACC: {2: 8}, polar.TYPE_GYRO: {2: 2000}})
    d.feed(polar.CONTROL_UUID, bytes.fromhex("F0 02 02 00 00 05 01") + struct.pack("<f", 0.000244))
    assert d.factors[polar.TYPE_ACC] == pytest.approx(0.000244)
    _, s = polar.decode_frame(frame(0x80, body), 52, d.factors[polar.TYPE_ACC])
    np.testing.assert_allclose(s.acc[:, 0] / G * 1000, [-11, -12, -9])
    assert s.acc[0, 0] == pytest.approx(-0.108, abs=5e-4)
    np.testing.assert_allclose(s.acc[0, 2] / G * 1000, 992)  # 4068 × 0.244 = 992.6 → 992


def test_sdk_compressed_type0_factor_example():
    """AccDataTest "process acc compressed data type 0": reference ``71 07 F0 6A 9E 8D``
    (1905, 27376, −29282), 10-bit deltas ``BE 5C BE BA`` → (+190, −105, −85); factor
    2.44e-4 → mG truncated toward zero (the SDK's expectation (factor × count × 1000)
    .toInt(), worked out by hand here).  One delta of the test's 0x38 is used."""
    _, s = polar.decode_frame(frame(0x80, "7107F06A9E8D 0A01 BE5CBEBA"), 52, 2.44e-4)
    np.testing.assert_allclose(s.acc / G * 1000, [[464, 6679, -7144], [511, 6654, -7165]])


def test_sdk_compressed_type1_example_is_mg():
    """AccDataTest "process acc compressed data type 1": ``F1 FF 14 00 F0 03 06 01 7B 0F
    08`` in a 0x81 frame → (−15, 20, 1008), (−20, 17, 1008) mG (factor 1)."""
    _, s = polar.decode_frame(frame(0x81, "F1FF1400F003 0601 7B0F08"), 52)
    np.testing.assert_allclose(s.acc / G * 1000, [[-15, 20, 1008], [-20, 17, 1008]])


def test_sdk_uncompressed_type1_example_with_last_sample_timestamp():
    """AccDataTest "process acc raw data frame type 1": header ``02 00 94 35 77 00 00 00 00
    01`` (ts 2 000 000 000 ns, the last sample's), samples ``F7 FF FF FF E7 03`` (−9, −1,
    999) and ``F8 FF FE FF E5 03`` (−8, −2, 997) mG."""
    _, s = polar.decode_frame(frame(0x01, "F7FFFFFFE703 F8FFFEFFE503"), 52)
    np.testing.assert_allclose(s.acc / G * 1000, [[-9, -1, 999], [-8, -2, 997]])
    assert s.t_device_s[-1] == pytest.approx(2.0)
    assert s.t_device_s[0] == pytest.approx(2.0 - 1 / 52)


def test_settings_answer_from_the_sdk_and_the_start_it_leads_to():
    """PmdSettingTest.testPmdSettingsWithRange: ``00 01 34 00 01 01 10 00 02 04 F5 00 F4
    01 E8 03 D0 07 04 01 03`` = 52 Hz, 16 bit, ranges 245/500/1000/2000, 3 channels.  A
    start sends every listed setting, one value each (PmdSetting.serializeSelected),
    channels included: ``04 01 03``."""
    offered = polar.parse_settings(bytes.fromhex(
        "00013400 01011000 0204F500F401E803D007 040103"))
    assert offered == {0: [52], 1: [16], 2: [245, 500, 1000, 2000], 4: [3]}
    chosen = polar.choose_settings(offered, 52, polar.GYRO_RANGE_DPS)
    assert polar.start_request(polar.TYPE_GYRO, chosen) == bytes.fromhex(
        "0205 00013400 01011000 0201D007 040103")
    assert polar.stop(polar.TYPE_GYRO) == b"\x03\x05"
    assert polar.get_settings(polar.TYPE_ACC) == b"\x01\x02"


def test_control_point_answers_from_the_sdk_and_the_h10_start_answer():
    """BlePmdClientControlPointResponseTest: ``F0 01 02 00 00 FF FF FF`` (success, no
    MORE, parameters FF FF FF) and ``F0 01 06 07 00`` (error 7, invalid resolution).
    PMD spec, Start Stream: the H10 answers ``F0 02 02 00 00 01``; a parameter block of
    one byte carries no settings (PmdSetting.parsePmdSettingsData)."""
    ok = polar.ControlResponse(bytes.fromhex("F0 01 02 00 00 FF FF FF"))
    assert (ok.op, ok.kind, ok.status, ok.more, ok.params) == (1, 2, 0, False, b"\xff" * 3)
    bad = polar.ControlResponse(bytes.fromhex("F0 01 06 07 00"))
    assert (bad.status, bad.reason) == (7, "invalid resolution")
    assert polar.parse_control_response(bytes.fromhex("F0 02 02 00 00 01")) == (2, 2, 0, {})
    d = polar.PolarDecoder()
    d.feed(polar.CONTROL_UUID, bytes.fromhex("F0 02 02 00 00 01"))
    assert d.stats.bad_packets == 0 and d.status[(2, 2)] == 0


def test_more_answers_are_joined():
    parts = [bytes.fromhex("F0 01 02 00 01 00 04 19 00 32 00"),
             bytes.fromhex("F0 01 02 00 00 64 00 C8 00")]
    answer = polar.joined_answer(parts)
    assert polar.parse_settings(answer.params) == {0: [25, 50, 100, 200]}


def test_feature_read_and_measurement_stopped_indication():
    """PmdMeasurementType.fromByteArray: byte 1 bit 2 = ACC, bit 5 = GYRO (``0F 24``).
    BlePMDClient.processPmdCpCommand: ``01 02 05`` = the device stopped ACC and GYRO."""
    assert polar.parse_features(bytes.fromhex("0F 24 00")) == {polar.TYPE_ACC, polar.TYPE_GYRO}
    d = polar.PolarDecoder()
    d.feed(polar.CONTROL_UUID, bytes.fromhex("01 02 05"))
    assert d.stats.bad_packets == 0 and d.stopped == {2, 5}
    assert d.stats.notices == ["the device stopped its ACC, GYRO stream"]


def _run(coro):
    return asyncio.run(coro)


def test_h10_acc_start_uses_its_own_settings_answer_split_over_more():
    """Asked for 200 Hz, the H10's own answer (25/50/100/200 Hz, ±2/4/8 g, no channels
    setting; sent in two MORE parts) decides: 200 Hz, 8 g, and the start answer
    ``F0 02 02 00 00 01`` is a success without factor."""
    io = DeviceIO(lambda answer: PolarDevice(H10, answer))
    offered = _run(polar.query_settings(io, polar.TYPE_ACC))
    assert offered == {0: [25, 50, 100, 200], 1: [16], 2: [2, 4, 8]}
    assert [a[4] for _, a in io.answers] == [1, 0]  # the answer came in two parts
    chosen = polar.choose_settings(offered, 200, polar.ACC_RANGE_G)
    assert _run(polar.start_measurement(io, polar.TYPE_ACC, chosen)) is None
    assert io.writes[-1] == bytes.fromhex("0202 0001C800 01011000 02010800")
    assert io.answers[-1][1] == bytes.fromhex("F0 02 02 00 00 01")


def test_h10_has_no_gyro_and_nothing_is_started_on_it():
    io = DeviceIO(lambda answer: PolarDevice(H10, answer))
    decoder = polar.PolarDecoder()
    with pytest.raises(DeviceRejected, match="no GYRO stream"):
        _run(polar.start_imu(io, 200, decoder))
    assert io.writes == []


def test_verity_start_sends_channels_and_learns_factors():
    io = DeviceIO(lambda answer: PolarDevice(VERITY_SENSE, answer))
    decoder = polar.PolarDecoder()
    started = _run(polar.start_imu(io, 100, decoder))
    assert started.rate_hz == 52  # the only rate it offers without SDK mode
    assert "52 Hz" in started.setup and "±8 g" in started.setup
    assert io.writes[-2:] == [bytes.fromhex("0202 00013400 01011000 02010800 040103"),
                              bytes.fromhex("0205 00013400 01011000 0201D007 040103")]
    assert decoder.factors == pytest.approx({2: 0.000244, 5: 0.061})


def test_device_refuses_what_it_did_not_offer_and_the_reason_is_named():
    io = DeviceIO(lambda answer: PolarDevice(VERITY_SENSE, answer))
    with pytest.raises(DeviceRejected, match=r"invalid sample rate \(status 8\)"):
        _run(polar.start_measurement(io, polar.TYPE_ACC, {0: 104, 1: 16, 2: 8, 4: 3}))
    with pytest.raises(DeviceRejected, match=r"invalid parameter \(status 5\)"):
        _run(polar.start_measurement(io, polar.TYPE_ACC, {0: 52, 1: 16, 2: 8}))  # no channels


def _acc_frame(ts_ns: int, n: int, value_mg: int = 1000) -> bytes:
    return (bytes([polar.TYPE_ACC]) + struct.pack("<Q", ts_ns) + b"\x01"
            + np.tile([0, 0, value_mg], (n, 1)).astype("<i2").tobytes())


def test_timestamps_follow_the_measured_period_across_a_gap():
    """Back-to-back frames: the samples are (ts − ts_prev)/n apart, as the SDK's
    PmdTimeStampUtils spreads them, and that spacing is the clock's measured period
    (here 0.2 % slow, as a drifting Polar clock).  After lost frames the samples keep
    the measured spacing back from the frame's timestamp instead of being spread over
    the gap."""
    rate, n, slow = 52.0, 10, 1.002
    period_ns = 1e9 / rate * slow
    clock = polar._StreamClock(rate)
    times = [clock.times(int(round(1e12 + k * n * period_ns)), n) for k in range(1, 21)]
    np.testing.assert_allclose(np.diff(times[-1]), period_ns * 1e-9, rtol=1e-6)  # SDK's too
    assert times[-1][0] - times[-2][-1] == pytest.approx(period_ns * 1e-9, rel=1e-6)
    ts_after_gap = int(round(1e12 + 30 * n * period_ns))  # frames 21..29 lost
    t = clock.times(ts_after_gap, n)
    np.testing.assert_allclose(np.diff(t), period_ns * 1e-9, rtol=1e-6)
    sdk_spacing = (ts_after_gap - (1e12 + 20 * n * period_ns)) / n * 1e-9
    assert sdk_spacing > 9 * np.diff(t)[0]  # what spreading over the gap would have done
    assert clock.times(ts_after_gap - 1000, n) is None  # a timestamp going back: misread


def test_plausibility_drops_over_range_and_out_of_order_frames():
    d = polar.PolarDecoder(52)
    d.configure(52, {polar.TYPE_ACC: {2: 8}, polar.TYPE_GYRO: {2: 2000}})
    gyro = (bytes([polar.TYPE_GYRO]) + struct.pack("<Q", 3 * 10**9) + b"\x00"
            + np.tile([100, 0, 0], (10, 1)).astype("<i2").tobytes())
    assert len(d.feed(polar.DATA_UUID, _acc_frame(3 * 10**9, 10, 9000))) == 0  # 9 g > ±8 g
    assert d.stats.implausible == 10
    d.feed(polar.DATA_UUID, gyro)
    out = d.feed(polar.DATA_UUID, _acc_frame(int(3.2e9), 10))
    assert len(out) == 0 and d.stats.implausible == 10
    assert len(d.feed(polar.DATA_UUID, _acc_frame(int(2.5e9), 10))) == 0  # older timestamp
    assert d.stats.implausible == 20 and d.stats.bad_packets == 0


@pytest.mark.parametrize("cut", [5, 11, 14, 17])
def test_truncated_frames_are_counted_not_raised(cut):
    data = frame(0x80, "D0FF6501E40F 0802 FC07FF 0C13F2")
    d = polar.PolarDecoder(52)
    assert len(d.feed(polar.DATA_UUID, data[:cut])) == 0
    assert d.stats.bad_packets == 1


def test_gyro_factor_and_pairing():
    d = polar.PolarDecoder(rate_hz=52)
    d.configure(52, {polar.TYPE_ACC: {2: 8}, polar.TYPE_GYRO: {2: 2000}})
    d.feed(polar.CONTROL_UUID, bytes.fromhex("F0 02 05 00 00 05 01") + struct.pack("<f", 0.1))
    ts = 2 * 10**9
    acc = d.feed(polar.DATA_UUID, _acc_frame(ts, 4))
    body = "640000000000 0202" + "00" * 2  # reference (100, 0, 0), two zero 2-bit deltas
    gyr = d.feed(polar.DATA_UUID, bytes([polar.TYPE_GYRO]) + struct.pack("<Q", ts)
                 + b"\x80" + bytes.fromhex(body))
    assert len(acc) == 0 and len(gyr) == 3
    np.testing.assert_allclose(gyr.gyr[0], [10 * DEG, 0, 0], rtol=1e-6)
    np.testing.assert_allclose(gyr.acc[0], [0, 0, G])


def test_acc_without_gyro_partners_does_not_pile_up():
    d = polar.PolarDecoder(52)
    for k in range(1, 200):
        d.feed(polar.DATA_UUID, _acc_frame(int(1e12 + k * 10 / 52 * 1e9), 10))
    waiting = sum(len(t) for t, _ in d._acc)
    assert waiting <= 52 * (polar.MAX_WAIT_S + 10 / 52) + 1
    assert "without a GYRO partner" in d.stats.last_error
