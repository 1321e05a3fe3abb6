"""What the session writes to each device and how it reads the answers, through bleak's
own API against emulated devices that answer and refuse as the vendors document
(``sensor_io/vendors/*/emulator.py``); virtual time, so timeouts do not depend on load."""

import asyncio

from ble_emulation.faults import Faults

from sensor_io.ble_client import SensorSpec, StreamingSession
from sensor_io.ble_emulation import EmulatedPeripheral, EmulatedWorld, gravity_signal
from sensor_io.errors import InputError
from sensor_io.recorder import Recorder
from sensor_io.vendors.movella import protocol as movella
from sensor_io.vendors.movesense import protocol as movesense
from sensor_io.vendors.movesense.emulator import MovesenseDevice
from sensor_io.vendors.polar import protocol as polar
from sensor_io.vendors.polar.emulator import H10, VERITY_SENSE, PolarModel
from sensor_io.virtual_clock import run_virtual
from stepdown.live.lines import status_line

MS, POL, DOT = "EE:00:00:00:00:01", "EE:00:00:00:00:02", "EE:00:00:00:00:04"


def world_with(**peripherals):
    world = EmulatedWorld(speed=8.0)
    for p in peripherals.values():
        world.add(p)
    return world


async def session_run(world, specs, tmp_path, seconds=1.0):
    sb, cb = world.backends()
    rec = Recorder(tmp_path / "c.sdj", test_leg="left")
    session = StreamingSession(specs, rec, scanner_backend=sb, client_backend=cb,
                               clock=world.now, backoff_s=(0.05, 0.2))
    try:
        await session.connect_all()
    except InputError as err:
        rec.close()
        return session, rec, err
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    await session.run(stop)
    rec.close()
    return session, rec, None


def test_movesense_writes_hello_and_the_slashed_path_with_nonzero_references(tmp_path):
    world = world_with(ms=EmulatedPeripheral(MS, movesense.PROFILE, gravity_signal()))
    session, rec, err = run_virtual(session_run(world, [SensorSpec("pelvis", MS, 100)], tmp_path))
    assert err is None
    assert world.get(MS).writes == [b"\x00\x01", bytes([1, 99]) + b"/Meas/IMU6/104",
                                    bytes([2, 99])]
    st = session.status["pelvis"]
    assert st.setup.startswith("/Meas/IMU6/104") and st.rate_hz == 104
    assert st.samples > 0.8 * 8 * 104 and st.rssi == -60


def test_polar_verity_start_follows_its_settings_answer(tmp_path):
    world = world_with(p=EmulatedPeripheral(POL, polar.PROFILE, gravity_signal()))
    session, rec, err = run_virtual(session_run(world, [SensorSpec("thigh_left", POL, 100)],
                                                tmp_path))
    assert err is None
    starts = [w for w in world.get(POL).writes if w[0] == polar.OP_START]
    assert starts == [bytes.fromhex("0202 00013400 01011000 02010800 040103"),
                      bytes.fromhex("0205 00013400 01011000 0201D007 040103")]
    st = session.status["thigh_left"]
    assert st.rate_hz == 52 and "±8 g" in st.setup  # asked 100 Hz: the device offers 52
    assert st.battery_pct == 87 and "87 %" in status_line(session.status, 1.0)
    s = rec.recording().streams["thigh_left"]
    assert abs(s.acc[:, 2].mean() - 9.80665) < 0.02  # FACTOR applied ×1000, not ÷1000
    assert rec.events[0]["what"] == "started" and "52 Hz" in rec.events[0]["setup"]


def test_an_h10_is_not_started_and_no_gyro_is_asked_of_it(tmp_path):
    world = world_with(p=EmulatedPeripheral(POL, polar.PROFILE, gravity_signal(),
                                            variant=H10))
    session, rec, err = run_virtual(session_run(world, [SensorSpec("trunk", POL, 200)], tmp_path))
    assert "trunk sensor EE:00:00:00:00:02: could not start" in str(err)
    assert "no GYRO stream" in str(err)
    assert world.get(POL).writes == []
    assert session.status["trunk"].state == "failed"
    assert rec.events[0]["what"] == "start_failed" and "GYRO" in rec.events[0]["reason"]


def test_a_rejected_start_names_the_device_reason_and_is_never_streaming(tmp_path):
    charging = PolarModel(**{**VERITY_SENSE.__dict__, "refuse_start": 13})
    world = world_with(p=EmulatedPeripheral(POL, polar.PROFILE, gravity_signal(),
                                            variant=charging))
    session, rec, err = run_virtual(session_run(world, [SensorSpec("thigh_left", POL, 52)],
                                                tmp_path))
    assert "could not start (Polar refused to start ACC: device in charger (status 13))" \
        in str(err)
    st = session.status["thigh_left"]
    assert st.state == "failed" and st.streaming_since is None
    assert "device in charger" in status_line(session.status, 1.0)


def test_a_stream_the_device_stops_is_shown_stopped_with_its_reason(tmp_path):
    world = world_with(p=EmulatedPeripheral(POL, polar.PROFILE, gravity_signal(),
                                            faults=Faults(device_stops_at_s=4.0)))
    session, rec, err = run_virtual(session_run(world, [SensorSpec("thigh_left", POL, 52)],
                                                tmp_path, seconds=1.0))
    st = session.status["thigh_left"]
    assert st.state == "stopped" and "stopped its ACC, GYRO stream" in st.error
    assert [e["what"] for e in rec.events] == ["started", "device_stopped"]
    assert "streaming" not in status_line(session.status, 8.0)


def test_an_answer_that_never_comes_times_out_naming_the_command(tmp_path, monkeypatch):
    monkeypatch.setattr(MovesenseDevice, "on_write", lambda self, uuid, data: None)
    world = world_with(ms=EmulatedPeripheral(MS, movesense.PROFILE, gravity_signal()))
    session, rec, err = run_virtual(session_run(world, [SensorSpec("pelvis", MS, 52)], tmp_path))
    assert "could not start (no answer to Movesense HELLO" in str(err)
    assert "within 3 s" in str(err)
    assert session.status["pelvis"].state == "failed"


def test_movella_dot_streams_rate_quantities(tmp_path):
    world = world_with(d=EmulatedPeripheral(DOT, movella.PROFILE, gravity_signal()))
    session, rec, err = run_virtual(session_run(world, [SensorSpec("shank_left", DOT, 100)],
                                                tmp_path))
    assert err is None
    dev_writes = world.get(DOT).writes
    assert dev_writes[0][0] == 0x10 and dev_writes[0][24:26] == (60).to_bytes(2, "little")
    assert dev_writes[1:] == [bytes([1, 1, 21]), bytes([1, 0, 21])]
    st = session.status["shank_left"]
    assert st.battery_pct == 64
    assert st.rate_hz == 60 and st.samples > 0.8 * 8 * 60 and st.bad_packets == 0
    s = rec.recording().streams["shank_left"]
    assert abs(s.acc[:, 2].mean() - 9.80665) < 1e-3


def test_polar_answers_split_over_more_are_joined_through_bleak(tmp_path):
    chunked = PolarModel(**{**VERITY_SENSE.__dict__, "answer_chunk": 5})
    world = world_with(p=EmulatedPeripheral(POL, polar.PROFILE, gravity_signal(),
                                            variant=chunked))
    session, rec, err = run_virtual(session_run(world, [SensorSpec("thigh_left", POL, 52)],
                                                tmp_path))
    assert err is None and session.status["thigh_left"].samples > 0
    assert "±8 g" in session.status["thigh_left"].setup


def test_a_malformed_answer_is_never_taken_as_success(tmp_path, monkeypatch):
    from sensor_io.vendors.polar.emulator import PolarDevice

    def short_start_answer(self, op, kind, status, params=b""):
        self.answer(polar.CONTROL_UUID, bytes([0xF0, op, kind])[:3 if op == 2 else None]
                    + (b"" if op == 2 else bytes([status, 0]) + params))

    monkeypatch.setattr(PolarDevice, "_answer", short_start_answer)
    world = world_with(p=EmulatedPeripheral(POL, polar.PROFILE, gravity_signal()))
    session, rec, err = run_virtual(session_run(world, [SensorSpec("thigh_left", POL, 52)],
                                                tmp_path))
    assert "could not start (not a PMD control point answer: f0 02 02" in str(err)
    assert session.status["thigh_left"].state == "failed"
    assert session.status["thigh_left"].streaming_since is None
