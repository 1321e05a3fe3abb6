"""Movesense GSP: decoder and command layer on the vendor's own byte layouts.

Sources: movesense-device-lib ``samples/gatt_sensordata_app/GATTSensorDataClient.cpp``
(the firmware: command ``CMD REF <data>``, "client reference [1 byte, not zero!]", hello
answered ``{COMMAND_RESULT, reference, 'H','e','l','l','o'}``, the 507 error as
``{COMMAND_RESULT, reference, 0x01, 0xFB}``, data ``{DATA, clientReference, <SBEM>}``) and
its python client example, which subscribes with ``bytearray([1, 99]) +
bytearray("/Meas/Acc/13", "utf-8")``.  IMU6/IMU9 payloads: uint32 ms timestamp, then
float32 arrays acc, gyro (and magn) of the packet's N samples (the SBEM of
WB_RES::IMU6Data / IMU9Data).
"""

import asyncio
import struct

import numpy as np
import pytest
from vendor_io import DeviceIO

from sensor_io.vendors.common import DEG, AnswerTimeout, ProtocolError
from sensor_io.vendors.movesense import protocol as ms
from sensor_io.vendors.movesense.emulator import MovesenseDevice


def imu_packet(ts_ms, *arrays, ref=ms.IMU_REF, kind=ms.RESP_DATA) -> bytes:
    """``02 REF`` + uint32 ms + each array's N×3 float32, as the firmware's SBEM writes."""
    body = struct.pack("<I", ts_ms) + b"".join(
        b"".join(struct.pack("<3f", *row) for row in a) for a in arrays)
    return bytes([kind, ref]) + body


def test_commands_are_the_firmware_examples_bytes():
    """IMU6 at 52 Hz under reference 99 is ``01 63 2F 4D 65 61 73 …`` ("/Meas/IMU6/52",
    15 bytes), as the python client example writes ``[1, 99] + "/Meas/Acc/13"``."""
    assert ms.subscribe(ms.imu_path(52)) == bytes([1, 99]) + b"/Meas/IMU6/52"
    assert ms.subscribe(ms.imu_path(52)).hex()[:14] == "01632f4d656173"
    assert ms.hello() == b"\x00\x01"
    assert ms.unsubscribe() == bytes([2, 99])
    with pytest.raises(ProtocolError, match="must start with '/'"):
        ms.subscribe("Meas/IMU6/52")
    with pytest.raises(ProtocolError, match="reference 0"):
        ms.hello(0)
    with pytest.raises(ProtocolError):
        ms.imu_path(100)


def test_hello_answer_is_text_not_a_status():
    d = ms.MovesenseDecoder()
    d.feed(ms.NOTIFY_UUID, bytes([1, 1]) + b"Hello")
    assert d.hello == {1} and d.results == {} and d.stats.bad_packets == 0
    assert ms.parse_result(bytes([1, 7, 0x01, 0xFB])) == 507  # the firmware's 507


def test_imu6_packet_decodes_to_si_with_device_time():
    pkt = imu_packet(1000, [(0, 0, 9.81), (0.5, 0, 9.81)], [(90, 0, 0), (0, -180, 0)])
    s = ms.MovesenseDecoder(rate_hz=104).feed(ms.NOTIFY_UUID, pkt)
    np.testing.assert_allclose(s.acc, [[0, 0, 9.81], [0.5, 0, 9.81]], rtol=1e-6)
    np.testing.assert_allclose(s.gyr, [[90 * DEG, 0, 0], [0, -np.pi, 0]], rtol=1e-6)
    np.testing.assert_allclose(s.t_device_s, [1.0, 1.0 + 1 / 104])
    assert s.mag is None


def test_imu9_is_decoded_by_its_own_schema_with_magnetometer():
    """292 bytes are 12 IMU6 samples or 8 IMU9 ones: only the subscription decides."""
    acc = [(0.1 * k, 0, 9.8) for k in range(8)]
    gyr = [(k, 0, 0) for k in range(8)]
    mag = [(30.0, -5.0, 40.0 + k) for k in range(8)]
    pkt = imu_packet(500, acc, gyr, mag)
    assert len(pkt) - 2 == 292
    d9 = ms.MovesenseDecoder(rate_hz=52, schema="IMU9")
    s = d9.feed(ms.NOTIFY_UUID, pkt)
    assert len(s) == 8
    np.testing.assert_allclose(s.mag[:, 2], 40.0 + np.arange(8), rtol=1e-6)
    np.testing.assert_allclose(s.gyr[:, 0], np.arange(8) * DEG, rtol=1e-6)
    other_ref = d9.feed(ms.NOTIFY_UUID, imu_packet(500, acc, gyr, mag, ref=5))
    assert len(other_ref) == 0 and d9.stats.bad_packets == 1  # unknown reference: never decoded


def test_command_result_is_recorded_not_sampled():
    d = ms.MovesenseDecoder()
    assert len(d.feed(ms.NOTIFY_UUID, bytes([1, ms.IMU_REF, 0x01, 0xFB]))) == 0
    assert d.results[ms.IMU_REF] == 507
    assert d.stats.notices == ["the device refused the subscription (status 507)"]


def test_data_part2_is_joined():
    pkt = imu_packet(50, [(1, 1, 1)] * 4, [(2, 2, 2)] * 4)
    d = ms.MovesenseDecoder(rate_hz=52)
    assert len(d.feed(ms.NOTIFY_UUID, pkt[:41])) == 0
    s = d.feed(ms.NOTIFY_UUID, bytes([ms.RESP_DATA_PART2, ms.IMU_REF]) + pkt[41:])
    assert len(s) == 4 and d.stats.bad_packets == 0


def test_truncated_corrupt_implausible_and_foreign_packets_are_counted_and_dropped():
    d = ms.MovesenseDecoder()
    good = imu_packet(10, [(0, 0, 9.8)], [(0, 0, 0)])
    nan = imu_packet(20, [(np.nan, 0, 9.8)], [(0, 0, 0)])
    huge = imu_packet(30, [(0, 0, 1e6)], [(0, 0, 0)])  # beyond ±16 g
    assert len(d.feed(ms.NOTIFY_UUID, b"\x02")) == 0
    assert len(d.feed(ms.NOTIFY_UUID, good[:-3])) == 0  # held as a possible first part
    assert len(d.feed(ms.NOTIFY_UUID, nan)) == 0
    assert len(d.feed(ms.NOTIFY_UUID, huge)) == 0
    assert len(d.feed(ms.NOTIFY_UUID, imu_packet(10, [(0, 0, 1)], [(0, 0, 0)], ref=9))) == 0
    assert len(d.feed(ms.NOTIFY_UUID, imu_packet(40, [(0, 0, 9.8)], [(0, 0, 0)]))) == 1
    assert len(d.feed(ms.NOTIFY_UUID, imu_packet(35, [(0, 0, 9.8)], [(0, 0, 0)]))) == 0  # older
    assert d.stats.bad_packets == 3 and d.stats.implausible == 3


def test_uint32_millisecond_clock_wrap_is_unwrapped():
    d = ms.MovesenseDecoder(rate_hz=13)
    a = d.feed(ms.NOTIFY_UUID, imu_packet(2**32 - 20, [(0, 0, 1)], [(0, 0, 0)]))
    b = d.feed(ms.NOTIFY_UUID, imu_packet(57, [(0, 0, 1)], [(0, 0, 0)]))
    assert b.t_device_s[0] - a.t_device_s[0] == pytest.approx(0.077)


def test_start_procedure_against_the_firmware_behaviour():
    io = DeviceIO(MovesenseDevice)
    decoder = ms.MovesenseDecoder()
    started = asyncio.run(_start_with_first_data(io, decoder, 100))
    assert started.rate_hz == 104
    assert io.writes == [b"\x00\x01", bytes([1, 99]) + b"/Meas/IMU6/104"]
    assert io.device.subs == {99: ("IMU6", 104)}


async def _start_with_first_data(io, decoder, wanted):
    """The firmware answers a subscribe by its data: emit one packet after the write."""
    write = io.write

    async def write_then_stream(cmd):
        await write(cmd)
        if cmd.data[0] == 1:
            t = np.arange(4) / 104
            for uuid, data in io.device.packets(t, np.zeros((4, 3)), np.zeros((4, 3)),
                                                lambda x: x):
                io.answers.append((uuid, data))

    io.write = write_then_stream
    return await ms.start_imu(io, wanted, decoder)


def test_device_ignores_zero_reference_and_slashless_path():
    io = DeviceIO(MovesenseDevice)
    io.device.on_write(ms.WRITE_UUID, b"\x00\x00")  # hello with reference 0
    io.device.on_write(ms.WRITE_UUID, bytes([1, 99]) + b"Meas/IMU6/52")
    assert io.answers == [] and io.device.subs == {}
    with pytest.raises(AnswerTimeout, match="Movesense subscribe /Meas/IMU6/52"):
        asyncio.run(ms.start_imu(io, 52, ms.MovesenseDecoder()))  # no data: never "started"


def test_a_full_subscription_table_is_a_rejected_start_with_the_firmware_status():
    """No free slot: the firmware answers ``01 REF 01 FB`` (507, insufficient storage)."""
    from sensor_io.vendors.common import DeviceRejected

    io = DeviceIO(MovesenseDevice)
    io.device.subs = {k: ("IMU6", 52.0) for k in range(1, 9)}
    with pytest.raises(DeviceRejected, match="refused /Meas/IMU6/52: status 507"):
        asyncio.run(ms.start_imu(io, 52, ms.MovesenseDecoder()))
    assert io.answers[-1][1] == bytes([1, 99, 0x01, 0xFB])
