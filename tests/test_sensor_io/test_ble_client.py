"""Streaming through bleak's own API against emulated vendor peripherals, with faults."""

import asyncio

import numpy as np
import pytest
from ble_emulation.faults import Faults
from bleak import BleakClient, BleakScanner

from sensor_io.ble_client import SURPLUS_TOLERANCE_S, SensorSpec, StreamingSession, scan
from sensor_io.ble_emulation import EmulatedPeripheral, EmulatedWorld, gravity_signal
from sensor_io.errors import InputError
from sensor_io.recorder import Recorder, recording_from_journal
from sensor_io.vendors.movesense import protocol as movesense
from sensor_io.vendors.polar import protocol as polar
from sensor_io.vendors.witmotion import protocol as witmotion
from sensor_io.virtual_clock import run_virtual

SPEED = 8.0
ADDR = {"movesense": "EE:00:00:00:00:01", "polar": "EE:00:00:00:00:02",
        "witmotion": "EE:00:00:00:00:03"}
PROFILE = {"movesense": movesense.PROFILE, "polar": polar.PROFILE, "witmotion": witmotion.PROFILE}


def make_world(**faults):
    world = EmulatedWorld(speed=SPEED)
    for vendor, addr in ADDR.items():
        world.add(EmulatedPeripheral(addr, PROFILE[vendor], gravity_signal(),
                                     faults=faults.get(vendor, Faults())))
    return world


async def stream(world, specs, tmp_path, seconds, **kw):
    """Stream for `seconds` of loop time; returns (session, recorder)."""
    sb, cb = world.backends()
    rec = Recorder(tmp_path / "live.sdj", test_leg="left")
    session = StreamingSession(specs, rec, scanner_backend=sb, client_backend=cb,
                               clock=world.now, backoff_s=(0.05, 0.2), **kw)
    await session.connect_all()
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    await session.run(stop)
    rec.close()
    return session, rec


def world_time(session):
    return session._t0  # common clock + this = the emulated world's clock


def sent_at_set_rate(world, vendor="witmotion"):
    """World times of the samples sent at the rate the client set: a WitMotion streams
    at its power-up rate (10 Hz) from the moment notifications are on until the rate
    write; those frames (0.1 s apart) are journaled, not taken as samples."""
    sent = np.asarray(world.get(ADDR[vendor]).sent_samples)
    first = np.flatnonzero(np.diff(sent) < 0.05)[0]
    return sent[first:]


def test_scan_lists_models_and_signal_strength():
    world = make_world()
    world.get(ADDR["polar"]).rssi = -40
    sb, _ = world.backends()
    found = run_virtual(scan(0.2, backend=sb))
    assert [d.model for d in found] == ["Polar Verity Sense", "Movesense", "WitMotion BWT901BLE"]
    assert found[0].rssi == -40 and found[0].address == ADDR["polar"]


def test_emulated_backend_speaks_through_plain_bleak():
    world = make_world()
    sb, cb = world.backends()

    async def run():
        dev = await BleakScanner.find_device_by_address(ADDR["movesense"], backend=sb)
        got = []
        async with BleakClient(dev, backend=cb) as client:
            await client.start_notify(movesense.NOTIFY_UUID, lambda c, d: got.append(bytes(d)))
            await client.write_gatt_char(movesense.WRITE_UUID,
                                         movesense.subscribe("/Meas/IMU6/52"), response=True)
            await asyncio.sleep(0.3)
        return got

    got = run_virtual(run())
    assert got[0][:2] == bytes([2, movesense.IMU_REF])  # the firmware answers with data
    s = movesense.MovesenseDecoder(52).feed(movesense.NOTIFY_UUID, got[0])
    np.testing.assert_allclose(s.acc[:, 2], 9.80665, rtol=1e-6)


def test_two_vendors_stream_concurrently_onto_the_common_clock(tmp_path):
    world = make_world()
    specs = [SensorSpec("pelvis", ADDR["movesense"], 104), SensorSpec("thigh_left", ADDR["polar"], 52)]
    session, rec = run_virtual(stream(world, specs, tmp_path, 1.0))
    r = rec.recording()
    for placement, vendor, rate in (("pelvis", "movesense", 104), ("thigh_left", "polar", 52)):
        s = r.streams[placement]
        assert s.rate_hz == pytest.approx(rate, rel=1e-3)
        assert len(s) > 0.8 * SPEED * rate * 0.9
        assert not [g for g in rec.gaps if g.sensor == placement]
        # clock model: each sample's common time against the instant the emulated device
        # sampled it (latency of the emulated link is up to ~half a packet)
        sent = np.asarray(world.get(ADDR[vendor]).sent_samples) - world_time(session)
        err = s.t - sent[np.clip(np.searchsorted(sent, s.t), 0, len(sent) - 1)]
        err = np.where(np.abs(err) < 0.5 / rate, err, err - np.sign(err) / rate)
        assert np.median(np.abs(err)) < 0.010 and np.max(np.abs(err)) < 0.08
        # and the values are the device's: with nothing dropped, the recorded samples are
        # the sent ones in order; each equals the signal at the instant the device sampled
        # it (checked by order, so the clock's own error, bounded above, cannot fail it)
        k0 = int(np.searchsorted(sent, s.t[0]))
        best = None
        for k in range(max(0, k0 - 3), k0 + 4):
            inst = sent[k:k + len(s)]
            if len(inst) < len(s):
                continue
            acc, gyr = gravity_signal()(inst + world_time(session))
            worst = max(np.max(np.abs(s.acc - acc)), np.max(np.abs(s.gyr - gyr)))
            best = worst if best is None else min(best, worst)
        assert best is not None and best < 0.02  # int16 quantisation of the vendor format
    assert all(st.state == "stopped" for st in session.status.values())
    # Polar: both streams were started and, when the session ended, stopped
    writes = world.get(ADDR["polar"]).writes
    assert [w[:2] for w in writes] == [b"\x01\x02", b"\x01\x05", b"\x02\x02", b"\x02\x05",
                                       b"\x03\x02", b"\x03\x05"]
    assert world.get(ADDR["movesense"]).writes[-1] == movesense.unsubscribe()


def test_drops_are_marked_duplicates_removed_corruption_counted(tmp_path):
    # GSP has no checksum: a split notification is the detectable corruption
    world = make_world(movesense=Faults(drop_every=25, duplicate_every=7, split_every=31))
    specs = [SensorSpec("pelvis", ADDR["movesense"], 104)]
    session, rec = run_virtual(stream(world, specs, tmp_path, 1.0))
    s = rec.recording().streams["pelvis"]
    assert np.all(np.diff(s.t) > 0)
    spacing = np.diff(s.t) * 104
    holes = int(np.sum(spacing > 1.5))
    gaps = [g for g in rec.gaps if g.sensor == "pelvis"]
    assert holes == len(gaps) > 0  # every hole is marked, no marker without a hole
    assert session.status["pelvis"].bad_packets > 0
    # nothing invented: every sample time maps to a sample the device sent
    sent = np.asarray(world.get(ADDR["movesense"]).sent_samples) - world_time(session)
    nearest = np.min(np.abs(s.t[:, None] - sent[None, :]), axis=1)
    assert np.max(nearest) < 0.05


def test_split_and_corrupted_witmotion_bytes_resync(tmp_path):
    world = make_world(witmotion=Faults(split_every=5, corrupt_every=13))
    specs = [SensorSpec("pelvis", ADDR["witmotion"], 100)]
    session, rec = run_virtual(stream(world, specs, tmp_path, 1.0))
    s = rec.recording().streams["pelvis"]
    assert len(s) > 0.7 * SPEED * 100
    # corrupted frames are either caught or decode to bounded values; the good ones match
    acc_norm = np.linalg.norm(s.acc, axis=1)
    assert np.mean(np.abs(acc_norm - 9.82) < 0.1) > 0.85
    assert session.status["pelvis"].battery_v == pytest.approx(3.9)


def _still(t):
    """A sensor lying still: the same reading every sample, so identical frames."""
    n = len(t)
    return np.tile([0.0, 0.0, 9.80665], (n, 1)), np.zeros((n, 3))


def test_a_still_witmotion_keeps_every_frame_of_a_connection_event(tmp_path):
    # WitMotion frames carry no timestamp, and BLE hands over everything queued since the
    # last connection event at once: a sensor at rest sends three byte-identical frames
    # within the same instant every 30 ms.  Each is a sample: none may be dropped.
    world = EmulatedWorld(speed=SPEED, connection_interval_s=0.03)
    world.add(EmulatedPeripheral(ADDR["witmotion"], PROFILE["witmotion"], _still))
    session, rec = run_virtual(stream(world, [SensorSpec("pelvis", ADDR["witmotion"], 100)],
                                      tmp_path, 1.0))
    s = rec.recording().streams["pelvis"]
    assert len(s) == len(sent_at_set_rate(world)) > 700
    assert session.status["pelvis"].duplicates == 0
    assert np.median(np.diff(s.t)) == pytest.approx(0.01, rel=2e-3)
    assert np.allclose(s.acc[:, 2], 9.80665, atol=0.01)


@pytest.mark.parametrize("every", [4, 1])
def test_a_witmotion_notification_delivered_twice_adds_no_more_than_the_clock_allows(tmp_path,
                                                                                    every):
    # every 4th notification, or every one (a stale subscription after a reconnect), is
    # delivered twice.  Its bytes equal the frame before it, like a still sensor's next
    # frame: only the count against the sample rate can tell, so the surplus kept is
    # bounded by SURPLUS_TOLERANCE_S (the rate fit stops once a repeat is caught) plus the
    # frames of one connection event (3 at 100 Hz, 30 ms: the clock anchors on the first).
    world = EmulatedWorld(speed=SPEED)
    world.add(EmulatedPeripheral(ADDR["witmotion"], PROFILE["witmotion"], _still,
                                 faults=Faults(duplicate_every=every)))
    session, rec = run_virtual(stream(world, [SensorSpec("pelvis", ADDR["witmotion"], 100)],
                                      tmp_path, 1.0))
    s = rec.recording().streams["pelvis"]
    sent = len(world.get(ADDR["witmotion"]).sent_samples)
    delivered_twice = sent // every
    assert sent <= len(s) <= sent + SURPLUS_TOLERANCE_S * 100 + 3
    assert session.status["pelvis"].duplicates >= delivered_twice - (len(s) - sent)
    assert np.median(np.diff(s.t)) == pytest.approx(0.01, rel=0.005)  # 100 Hz, not 125/200
    assert np.allclose(s.acc[:, 2], 9.80665, atol=0.01)


def test_a_moving_witmotion_delivered_twice_keeps_its_samples_in_order(tmp_path):
    world = EmulatedWorld(speed=SPEED)
    world.add(EmulatedPeripheral(ADDR["witmotion"], PROFILE["witmotion"], gravity_signal(),
                                 faults=Faults(duplicate_every=1)))
    session, rec = run_virtual(stream(world, [SensorSpec("pelvis", ADDR["witmotion"], 100)],
                                      tmp_path, 1.0))
    s = rec.recording().streams["pelvis"]
    sent = np.asarray(world.get(ADDR["witmotion"]).sent_samples)
    assert len(sent) <= len(s) <= len(sent) + SURPLUS_TOLERANCE_S * 100 + 3
    # no value is repeated beyond the surplus: consecutive samples differ (the signal moves)
    repeats = int(np.sum(np.all(s.gyr[1:] == s.gyr[:-1], axis=1)))
    assert repeats <= len(s) - len(sent)
    # nothing invented: every kept value is one the device sent (to int16 quantisation)
    sent_x = np.sort(gravity_signal()(sent)[0][:, 0])
    k = np.clip(np.searchsorted(sent_x, s.acc[:, 0]), 1, len(sent_x) - 1)
    nearest = np.minimum(np.abs(sent_x[k] - s.acc[:, 0]), np.abs(sent_x[k - 1] - s.acc[:, 0]))
    assert np.max(nearest) < 0.005


def test_disconnect_for_3_s_loses_nothing_received_before_and_reconnects(tmp_path):
    world = make_world(movesense=Faults(disconnect_at_s=3.0, down_for_s=3.0))
    specs = [SensorSpec("pelvis", ADDR["movesense"], 104), SensorSpec("thigh_left", ADDR["polar"], 52)]
    session, rec = run_virtual(stream(world, specs, tmp_path, 1.6))
    r, _ = recording_from_journal(tmp_path / "live.sdj")  # the durable copy
    pel = r.streams["pelvis"]
    sent = np.asarray(world.get(ADDR["movesense"]).sent_samples) - world_time(session)
    drop_t = 3.0 - world_time(session)
    before = sent[sent < drop_t]
    # every sample sent before the drop is in the recording
    nearest = np.min(np.abs(before[:, None] - pel.t[None, :]), axis=1)
    assert np.max(nearest) < 0.1 and np.sum(pel.t < drop_t) >= len(before)
    gaps = [g for g in r.extra["gaps"] if g["sensor"] == "pelvis"]
    assert len(gaps) == 1 and gaps[0]["reason"] == "disconnected"
    assert gaps[0]["end_s"] - gaps[0]["start_s"] == pytest.approx(3.0, abs=0.6)
    assert pel.t[-1] > gaps[0]["end_s"] + 2  # streaming again after the reconnect
    assert session.status["pelvis"].reconnects == 1
    thigh = r.streams["thigh_left"]
    assert len(thigh) > 0.9 * 52 * (thigh.t[-1] - thigh.t[0])  # the other kept going, no gap
    assert thigh.t[-1] > gaps[0]["end_s"]
    assert [(e["what"], e["sensor"]) for e in r.extra["events"]] == [
        ("started", "pelvis"), ("started", "thigh_left"), ("disconnected", "pelvis"),
        ("started", "pelvis"), ("reconnected", "pelvis")]


def test_failed_connects_are_retried_then_reported(tmp_path):
    world = make_world(movesense=Faults(fail_connects=2), polar=Faults(fail_connects=99))
    session, rec = run_virtual(stream(world, [SensorSpec("pelvis", ADDR["movesense"], 52)],
                                      tmp_path, 0.3, connect_attempts=3))
    assert len(rec.recording().streams["pelvis"]) > 0
    with pytest.raises(InputError, match="thigh_left sensor EE:00:00:00:00:02: could not connect"):
        run_virtual(stream(world, [SensorSpec("thigh_left", ADDR["polar"], 52)],
                           tmp_path / "x", 0.3, connect_attempts=2))


def test_unknown_address_is_one_clear_error(tmp_path):
    world = make_world()
    with pytest.raises(InputError, match="not found"):
        run_virtual(stream(world, [SensorSpec("pelvis", "EE:00:00:00:00:99", 52)],
                           tmp_path, 0.2, scan_timeout_s=0.2))


def test_silent_sensor_streams_nothing_while_others_record(tmp_path):
    world = make_world(polar=Faults(silent=True))
    specs = [SensorSpec("pelvis", ADDR["movesense"], 52), SensorSpec("thigh_left", ADDR["polar"], 52)]
    session, rec = run_virtual(stream(world, specs, tmp_path, 0.5))
    assert session.status["thigh_left"].samples == 0
    assert session.status["pelvis"].samples > 100
    assert "thigh_left" not in rec.recording().streams
