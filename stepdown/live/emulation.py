"""Emulated sensors driven by the simulator: `stepdown record --emulate` (a demo, and the
end-to-end tests through bleak).

Each simulated sensor becomes an emulated BLE peripheral of a real vendor
(:data:`EMULATED_VENDOR`) that replays the simulated stream on the emulated world's
clock.  Until the athlete is asked to stand still the sensors replay the first standing
sample; from then on the simulated test, all sensors on the simulation's common clock.
The simulated athlete stands on the step only as long as the simulation lasts, so the
recording ends with it (:func:`until_test_ends`): a sensor replaying one frozen sample
for seconds is no body standing still (a real gyro's noise never stops), and the
offline orientation filter takes such a stretch for rest and its gyro reading for the
bias of the whole recording (pelvic drop +0.9° on every rep of seed 26, from 4 s of it).
Times in s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sensor_io.ble_emulation import EmulatedWorld
    from simulator.single_test import Simulation
    from stepdown.live.loop import LiveRun

EMULATED_VENDOR = {"pelvis": "movesense", "thigh": "polar", "shank": "witmotion",
                   "trunk": "movesense", "wrist": "polar"}


def simulated_span(sim: Simulation) -> tuple[float, float]:
    """(first, last) sample time (s) over all the simulation's streams: its common clock's
    span."""
    streams = sim.recording.streams.values()
    return min(float(s.t[0]) for s in streams), max(float(s.t[-1]) for s in streams)


def emulated_world(segments: list[str], leg: str, seed: int, speed: float
                   ) -> tuple[EmulatedWorld, dict[str, str], Simulation, Callable[[], None]]:
    """A world streaming a simulated test: returns (world, {segment: address}, simulation,
    start) where ``start()`` makes the simulated athlete begin the test now (until then
    the sensors replay the first, standing sample)."""
    from sensor_io.ble_emulation import EmulatedPeripheral, EmulatedWorld, stream_signal
    from sensor_io.vendors import VENDORS
    from simulator.single_test import SimConfig, placement_name, simulate

    sim = simulate(SimConfig(seed=seed, test_leg=leg, sensors=tuple(segments)))
    origin, _ = simulated_span(sim)
    world = EmulatedWorld(speed=speed)
    addresses = {}
    for k, seg in enumerate(segments):
        addr = f"EE:00:00:00:00:{k + 1:02X}"
        stream = sim.recording.streams[placement_name(seg, leg)]
        world.add(EmulatedPeripheral(addr, VENDORS[EMULATED_VENDOR[seg]].profile,
                                     stream_signal(stream, t0=0.0, origin_s=origin)))
        addresses[seg] = addr

    def start() -> None:
        t0 = world.now()
        for seg, addr in addresses.items():
            stream = sim.recording.streams[placement_name(seg, leg)]
            world.peripherals[addr].signal = stream_signal(stream, t0=t0, origin_s=origin)

    return world, addresses, sim, start


def until_test_ends(run: LiveRun, start: Callable[[], None], sim: Simulation
                    ) -> Callable[[], None]:
    """``start`` (of :func:`emulated_world`) that also has ``run`` stop recording when the
    simulated test has been played to its end."""
    first, last = simulated_span(sim)

    def begin() -> None:
        start()
        run.duration_s = run.session.now() + (last - first)

    return begin
