"""Live path: decode + clock + journal throughput with 6 sensors at ~200 Hz, its CPU
share, and the latency from a rep's last sample to its score on screen.

1. Offline throughput: 60 s of notifications from 6 emulated sensors (2 WitMotion at
   200 Hz, 2 Movesense at 208 Hz, 2 Polar at 208 Hz) are pre-encoded, then pushed through
   the client's processing step (raw journal, decode, clock model, sample journal):
   samples/s, and the CPU share that real time (1 s of data per s) costs.
2. Live: the same 6 sensors streamed through bleak + the emulated backend in real time
   for 5 s; process CPU time / wall time (includes the emulator itself: an upper bound).
3. Score latency: the record loop turns every POLL_S (0.05 s) and scores the recording so
   far; the latency is the wait for the next turn plus assembling the recording and
   analysing it (a simulated 30 s, 2-sensor test): mean = POLL_S / 2 + work, worst =
   POLL_S + work (the rep-end trigger's own wait: bench_live_page).
4. Live cost per rep against session length: a simulated test's movement repeated to 1,
   10 and 30 min; the work of scoring the last rep from its window (what the live loop
   does, :mod:`stepdown.live.window`) against analysing the whole recording so far, and
   the rep-end trigger the loop runs on every turn (its worst case: 20 s of thigh read).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np

from sensor_io.ble_client import SensorSpec, StreamingSession
from sensor_io.ble_emulation import EmulatedPeripheral, EmulatedWorld, gravity_signal
from sensor_io.recorder import Recorder
from sensor_io.vendors.movesense import protocol as movesense
from sensor_io.vendors.polar import protocol as polar
from sensor_io.vendors.polar.emulator import VERITY_SENSE, PolarModel
from sensor_io.vendors.witmotion import protocol as witmotion
from stepdown.live.loop import POLL_S

# a Verity Sense in Polar's SDK mode, which offers 26…416 Hz (documentation/products)
VERITY_SDK_MODE = PolarModel(**{**VERITY_SENSE.__dict__, "settings": {
    polar.TYPE_ACC: {0: [26, 52, 104, 208, 416], 1: [16], 2: [2, 4, 8, 16], 4: [3]},
    polar.TYPE_GYRO: {0: [26, 52, 104, 208, 416], 1: [16], 2: [250, 500, 1000, 2000],
                      4: [3]}}})

SENSORS = [("pelvis", witmotion.PROFILE, 200.0), ("thigh_left", witmotion.PROFILE, 200.0),
           ("shank_left", movesense.PROFILE, 208.0), ("trunk", movesense.PROFILE, 208.0),
           ("wrist_left", polar.PROFILE, 208.0), ("thigh_right", polar.PROFILE, 208.0)]


def _collector(items: list, clock: dict, uuid: str):
    """A notify callback recording (uuid, current time, bytes)."""
    return lambda data: items.append((uuid, clock["t"], bytes(data)))


def _encoded(seconds: float) -> list[list[tuple[str, float, bytes]]]:
    """Per sensor: (char uuid, world time, notification bytes) for `seconds` of data."""
    out = []
    for k, (_, profile, rate) in enumerate(SENSORS):
        p = EmulatedPeripheral(f"EE:00:00:00:01:{k:02X}", profile, gravity_signal(),
                               variant=VERITY_SDK_MODE if profile is polar.PROFILE else None)
        _started(p.device, profile, rate)
        p._client = object()  # type: ignore[assignment]
        items: list[tuple[str, float, bytes]] = []
        clock = {"t": 0.0}
        for uuid in profile.notify_uuids:
            p._subs[uuid] = _collector(items, clock, uuid)
        per = p.device.samples_per_packet
        n_packets = int(seconds * rate / per)
        for j in range(n_packets):
            t = (j * per + np.arange(per)) / rate
            clock["t"] = t[-1] + 0.004
            p._emit(t)
        out.append(items)
    return out


def _started(device, profile, rate: float) -> None:
    """Put an emulated device in the state a start at ``rate`` leaves it in."""
    if profile is witmotion.PROFILE:
        device.registers[witmotion.REG_RATE] = witmotion.RATE_CODES[rate]
    elif profile is movesense.PROFILE:
        device.subs = {movesense.IMU_REF: ("IMU6", rate)}
    else:
        device.started = {k: {0: int(rate)} for k in (polar.TYPE_ACC, polar.TYPE_GYRO)}


def _decoder(profile, rate: float):
    """The decoder as the vendor's start procedure leaves it configured."""
    decoder = profile.decoder(rate)
    if profile is polar.PROFILE:
        decoder.configure(rate, {polar.TYPE_ACC: {2: 8}, polar.TYPE_GYRO: {2: 2000}})
        decoder.factors.update(VERITY_SDK_MODE.factors)
    return decoder


def _throughput(seconds: float = 60.0) -> None:
    streams = _encoded(seconds)
    with tempfile.TemporaryDirectory() as tmp:
        rec = Recorder(Path(tmp) / "bench.sdj", test_leg="left")
        session = StreamingSession([SensorSpec(p, f"EE:{k}", r, prof) for k, (p, prof, r)
                                    in enumerate(SENSORS)], rec)
        for link in session.links.values():
            prof = link.spec.profile
            link.profile, link.rate_hz = prof, link.spec.rate_hz
            link.decoder = _decoder(prof, link.rate_hz)
            if not prof.timed:
                from sensor_io.clock import HostRateClock
                link.host_clock = HostRateClock(link.rate_hz)
        links = list(session.links.values())
        merged = sorted(((t, i, uuid, data) for i, items in enumerate(streams)
                         for uuid, t, data in items), key=lambda x: (x[0], x[1]))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for t, i, uuid, data in merged:
            session._process(links[i], uuid, t, data)
        rec.close()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        samples = sum(st.samples for st in session.status.values())
        size = (Path(tmp) / "bench.sdj").stat().st_size
    print(f"decode+clock+journal: {samples} samples from {len(merged)} notifications "
          f"({seconds:.0f} s of 6 sensors) in {wall:.2f} s")
    print(f"  throughput {samples / wall:,.0f} samples/s; "
          f"CPU share for real time {100 * cpu / seconds:.1f} % of one core; "
          f"journal {size / seconds / 1e3:.0f} kB/s")


async def _live(seconds: float) -> tuple[int, float, float]:
    world = EmulatedWorld(speed=1.0)
    specs = []
    for k, (placement, prof, rate) in enumerate(SENSORS):
        addr = f"EE:00:00:00:02:{k:02X}"
        world.add(EmulatedPeripheral(addr, prof, gravity_signal(),
                                     variant=VERITY_SDK_MODE if prof is polar.PROFILE
                                     else None))
        specs.append(SensorSpec(placement, addr, rate))
    sb, cb = world.backends()
    with tempfile.TemporaryDirectory() as tmp:
        rec = Recorder(Path(tmp) / "live.sdj", test_leg="left")
        session = StreamingSession(specs, rec, scanner_backend=sb, client_backend=cb,
                                   clock=world.now)
        await session.connect_all()
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(seconds, stop.set)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await session.run(stop)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        rec.close()
    return sum(st.samples for st in session.status.values()), cpu, wall


def _latency() -> None:
    from analysis.pipeline import analyze
    from simulator.single_test import SimConfig, simulate

    sim = simulate(SimConfig(seed=0, test_leg="left", sensors=("pelvis", "thigh")))
    with tempfile.TemporaryDirectory() as tmp:
        rec = Recorder(Path(tmp) / "lat.sdj", test_leg="left")
        for name, s in sim.recording.streams.items():
            for i in range(0, len(s), 20):  # arrives in packets, as live
                rec.add_samples(name, s.t[i:i + 20], s.acc[i:i + 20], s.gyr[i:i + 20])
        works = []
        for _ in range(5):
            t0 = time.perf_counter()
            analyze(rec.recording()).to_json()
            works.append(time.perf_counter() - t0)
        rec.close()
    work = float(np.median(works))
    print(f"rep score latency (30 s, 2 sensors): analysis of the recording so far "
          f"{1000 * work:.0f} ms; on screen after the rep's last sample: "
          f"mean {1000 * (POLL_S / 2 + work):.0f} ms, worst {1000 * (POLL_S + max(works)):.0f} ms "
          f"(target <= 200 ms)")


def _session_of(minutes: float, tmp: Path) -> tuple[Recorder, float, list[float]]:
    """A recorder holding a simulated 2-sensor test whose movement (after its standing
    start) is repeated to ``minutes``; returns it, the end of the standing (s) and the
    start of every rep (s)."""
    from simulator.single_test import SimConfig, simulate

    sim = simulate(SimConfig(seed=0, test_leg="left", sensors=("pelvis", "thigh")))
    stand = float(sim.scenario.standing_s)
    rep_starts = [float(r["start_s"]) for r in sim.truth["reps"]]
    span = sim.recording.duration_s - stand
    copies = int(np.ceil((minutes * 60 - stand) / span))
    rec = Recorder(tmp / f"long{minutes:g}.sdj", test_leg="left", keep_raw=False)
    for name, s in sim.recording.streams.items():
        moving = s.t > stand
        for c in range(copies + 1):
            sel = ~moving if c == 0 else moving
            shift = 0.0 if c == 0 else (c - 1) * span
            for i in range(0, int(sel.sum()), 200):  # in packets, as live
                t = s.t[sel][i:i + 200] + shift
                rec.add_samples(name, t, s.acc[sel][i:i + 200], s.gyr[sel][i:i + 200])
    starts = [r + c * span for c in range(copies) for r in rep_starts]
    return rec, stand, starts


def _per_rep_cost() -> None:
    from analysis.pipeline import analyze
    from analysis.rep_end import mid_dip, rep_may_have_ended
    from stepdown.live.window import live_window

    with tempfile.TemporaryDirectory() as tmp:
        for minutes in (1, 10, 30):
            rec, stand, starts = _session_of(minutes, Path(tmp))
            now = rec.stream("pelvis").t[-1]
            prev = [t for t in starts if t < now - 8.0][-1]  # the rep before the last
            windowed, whole = [], []
            for _ in range(3):
                t0 = time.perf_counter()
                window, _ = live_window(rec, stand, prev, now)
                analyze(window).to_json()
                windowed.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            analyze(rec.recording()).to_json()
            whole.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for _ in range(20):
                thigh = rec.stream("thigh_left")
                rep_may_have_ended(thigh, now - 30.0)
                mid_dip(thigh)
            trigger = (time.perf_counter() - t0) / 20
            print(f"live score of one rep {rec.recording().duration_s / 60:4.1f} min in: window "
                  f"({window.duration_s:.0f} s of data) {1000 * np.median(windowed):.0f} ms; "
                  f"whole recording so far ({rec.recording().duration_s:.0f} s) "
                  f"{1000 * whole[0]:.0f} ms; rep-end trigger per turn {1000 * trigger:.2f} ms")
            rec.close()


def run() -> None:
    _throughput()
    samples, cpu, wall = asyncio.run(_live(5.0))
    print(f"live, 6 emulated sensors via bleak for {wall:.1f} s: {samples / wall:,.0f} samples/s, "
          f"process CPU {100 * cpu / wall:.1f} % of one core (emulator included)")
    try:
        _latency()
        _per_rep_cost()
        _trace_cost()
    except ImportError:
        print("rep score latency: analysis.pipeline not available")


def _trace_cost() -> None:
    """Cost per rep of tracing the rep in progress (the live page's knee and pelvis
    curves, an analysis every TRACE_EVERY_S while the thigh is in a rep) and how far the
    trace's peak is from the rep's own result when that is first shown, on a simulated
    test with the knee bends (seed 3, pelvis + thigh + shank) fed to a recorder as it
    would stream: as before (each update found its own frames in the window) and as now
    (the frames carried from the reps so far, as the rep's scoring uses).  The trace is
    compared with the rep's result at the moment the analysis first finds the rep."""
    from analysis.pipeline import analyze
    from stepdown.athlete.scoring import live_tracer
    from stepdown.live.emulation import Prompts, simulated_test
    from stepdown.live.live_rep import LiveRep
    from stepdown.live.loop import TRACE_EVERY_S
    from stepdown.live.reps import RepTracker
    from stepdown.live.scoring import analysis_scorer
    from stepdown.live.window import find_frames

    every = round(TRACE_EVERY_S / POLL_S)  # loop turns between two trace updates
    prompts = Prompts(3.0, 10.0)
    sim = simulated_test(["pelvis", "thigh", "shank"], "left", 3, prompts)
    final = [LiveRep(r) for r in analyze(sim.recording).result().reps]
    tracer, scorer = live_tracer(), analysis_scorer()
    cost: dict[str, list[float]] = {"before": [], "now": []}
    off: dict[str, list[float]] = {"before": [], "now": []}
    updates = []
    with tempfile.TemporaryDirectory() as tmp:
        rec = Recorder(Path(tmp) / "trace.sdj", test_leg="left", keep_raw=False)
        rec.set_calibration_movement(prompts.standing_s, sum((prompts.standing_s, prompts.bends_s)))
        reps = RepTracker(rec)
        reps.start(prompts.standing_s + prompts.bends_s)
        fed = 0.0

        def feed(until: float) -> None:
            nonlocal fed
            for name, s in sim.recording.streams.items():
                m = (s.t > fed) & (s.t <= until)
                rec.add_samples(name, s.t[m], s.acc[m], s.gyr[m])
            fed = until

        for i, rep in enumerate(final[1:], 1):  # the first rep has no frames to carry yet
            reps.shown = final[:i]
            feed(final[i - 1].end_s + 0.3)
            frames = find_frames(rec.recording(), i).calibration
            per, found, n = {"before": 0.0, "now": 0.0}, None, 0
            for t in np.arange(rep.start_s + 0.2, rep.end_s + 1.0, POLL_S):
                feed(t)
                if t > rep.bottom_s:  # the rep's first result: once the analysis finds it
                    window, shift = reps.window(t)
                    found = next((r for r in scorer(window, frames)
                                  if abs(r.bottom_s + shift - rep.bottom_s) < 0.5), None)
                if found is None and round((t - rep.start_s) / POLL_S) % every:
                    continue  # a trace every TRACE_EVERY_S, and one at the first result
                traces, n = {}, n + 1
                for how, carried in (("before", None), ("now", frames)):
                    t0 = time.perf_counter()
                    window, shift = reps.window(t, "trace")
                    traces[how] = tracer(window, final[i - 1].end_s - shift, carried)
                    per[how] += time.perf_counter() - t0
                if found is not None:
                    break
            updates.append(n)
            for how in per:
                cost[how].append(per[how])
                knee = [v for v in (traces[how].values if traces[how] else {}).get("knee_medial_cm", ()) if v is not None]
                off[how].append(abs(max(knee) - found.rep.measures.get("knee_medial_cm"))
                                if knee and found else np.nan)
        rec.close()
    for how in ("before", "now"):
        print(f"live trace of the rep in progress ({how}): {1000 * np.median(cost[how]):.0f} ms "
              f"per rep (median of {len(cost[how])} reps, {np.median(updates):.0f} updates "
              f"each); its peak knee vs "
              f"the rep's first result: median {np.nanmedian(off[how]):.2f} cm, "
              f"max {np.nanmax(off[how]):.2f} cm")
