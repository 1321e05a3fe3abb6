"""Emulated sensors driven by the simulator: `stepdown record --emulate` (a demo, and the
end-to-end tests through bleak).

Each simulated sensor becomes an emulated BLE peripheral of a real vendor
(:data:`EMULATED_VENDOR`) that replays the simulated stream on the emulated world's
clock.  Until the athlete is asked to stand still the sensors replay the first standing
sample; from then on the simulated test (or, for `record --exercise hold|heel_taps`, a
simulated set of that kind: :func:`simulated_set`), all sensors on the simulation's common
clock.
The simulated athlete stands on the step only as long as the simulation lasts, so the
recording ends with it (:func:`until_test_ends`): a sensor replaying one frozen sample
for seconds is no body standing still (a real gyro's noise never stops), and the
offline orientation filter takes such a stretch for rest and its gyro reading for the
bias of the whole recording (pelvic drop +0.9° on every rep of seed 26, from 4 s of it).
Times in s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from sensor_io.ble_emulation import EmulatedWorld
    from sensor_io.json_doc import JSONDoc
    from simulator.scenario import Scenario
    from simulator.single_test import Simulation
    from stepdown.live.loop import LiveRun

EMULATED_VENDOR = {"pelvis": "movesense", "thigh": "polar", "shank": "witmotion",
                   "trunk": "movesense", "wrist": "polar"}
REACTION_S = (0.2, 0.6)  # s from a prompt to the athlete moving
BENDS_TAIL_S = 0.3       # s the last bend ends before the bends' time is up, at least
SET_REPS = {"hold": 3, "heel_taps": 5}  # a set's holds / taps when record prescribes none
SET_HOLD_S = 20.0        # s, about, a hold lasts when record prescribes none


@dataclass(frozen=True)
class Prompts:
    """What `stepdown record` asks of the athlete, in s from the "stand still" prompt.

    ``standing_s`` of quiet standing, then ``bends_s`` of guided knee bends (0: not
    asked), then "go".
    """

    standing_s: float
    """Quiet standing asked for, s."""
    bends_s: float = 0.0
    """Guided knee bends asked for after it, s (0: not asked)."""


def following(prompts: Prompts, rng: np.random.Generator, does_bends: bool = True
              ) -> Callable[[Scenario], Scenario]:
    """A scenario change that has the simulated athlete follow ``prompts``.

    Quiet standing until a reaction time after the bends prompt, the drawn bends (slowed or
    fewer to fit the time given), then standing on the test leg until a reaction time after
    "go" (or longer, as drawn) before the first rep.  Time 0: the "stand still" prompt.

    Parameters
    ----------
    prompts : Prompts
        What the athlete is asked, s.
    rng : numpy.random.Generator
        Draws the reaction times (:data:`REACTION_S`).
    does_bends : bool
        False: an athlete who stands through the bends' time instead.

    Returns
    -------
    callable
        Scenario -> the scenario re-timed (times in s), for
        :func:`simulator.single_test.simulate`'s ``scenario_fn``.
    """
    react_bends, react_go = (float(rng.uniform(*REACTION_S)) for _ in range(2))

    def shape(scn: Scenario) -> Scenario:
        if not does_bends:
            return replace(scn, standing_s=prompts.standing_s + prompts.bends_s + react_go)
        standing = prompts.standing_s + react_bends
        room = prompts.bends_s - react_bends - BENDS_TAIL_S
        bends = min(scn.guided_bends, max(1, int(room // 2.0)))
        bend_s = min(scn.guided_bend_s, room / bends)
        go = prompts.standing_s + prompts.bends_s
        settle = max(scn.guided_settle_s, go + react_go - standing - bends * bend_s)
        return replace(scn, standing_s=standing, guided_bends=bends, guided_bend_s=bend_s,
                       guided_settle_s=settle)

    return shape


def simulated_test(segments: list[str], leg: str, seed: int, prompts: Prompts | None = None,
                   does_bends: bool = True) -> Simulation:
    """The simulated test an emulated world plays.

    The simulator's own for ``seed``, or, when ``prompts`` ask for the guided knee bends,
    one whose athlete does them when asked (or, ``does_bends`` False, stands through them:
    :func:`following`).

    Parameters
    ----------
    segments : list of str
        Segments wearing a sensor (``pelvis``, ``thigh``, ...).
    leg : str
        ``left`` or ``right``: the test leg.
    seed : int
        The simulator seed.
    prompts : Prompts or None
        What `record` asks, s; None: the simulator's own timing.
    does_bends : bool
        Whether the athlete does the bends asked for.

    Returns
    -------
    Simulation
        The recording (with the bends' window asked, s, in its metadata when asked) and its
        truth.
    """
    import numpy as np

    from simulator.single_test import SimConfig, simulate

    cfg = SimConfig(seed=seed, test_leg=leg, sensors=tuple(segments))
    if prompts is None or prompts.bends_s <= 0:
        return simulate(cfg)
    sim = simulate(replace(cfg, calibration_movement=does_bends),
                   scenario_fn=following(prompts, np.random.default_rng([seed, 5]), does_bends))
    return _asked(sim, prompts)


def _asked(sim: Simulation, prompts: Prompts) -> Simulation:
    """``sim`` whose metadata (and truth) say the bends' window `record` asked for, s."""
    from sensor_io.recording import CALIBRATION_MOVEMENT_KEY, KNEE_BENDS

    # the bends asked for when `record` asks (its metadata, on the simulation's clock)
    asked = [prompts.standing_s, prompts.standing_s + prompts.bends_s]
    sim.recording.extra[CALIBRATION_MOVEMENT_KEY] = {"kind": KNEE_BENDS, "window_s": asked}
    if "calibration_movement" in sim.truth:
        sim.truth["calibration_movement"]["prompt_s"] = asked
    return sim


def simulated_set(exercise: JSONDoc, segments: list[str], leg: str, seed: int,
                  prompts: Prompts | None = None, does_bends: bool = True,
                  step_height_m: float | None = None) -> Simulation:
    """The simulated programme set an emulated world plays for `record --exercise hold|heel_taps`.

    The programme simulator's set (:func:`stepdown.programme.simulated.simulate_exercise`)
    of the recorded set's kind and prescription (holds or taps, about how long a hold
    lasts: the middle of its ``hold_s``; :data:`SET_REPS` and :data:`SET_HOLD_S` when none
    is given), band and load (heel taps), with the athlete following ``prompts`` exactly as
    a test's does (:func:`following`); without the bends asked, the simulator's own timing
    and no bends.

    Parameters
    ----------
    exercise : dict
        The recording's ``exercise`` metadata object (kind ``hold`` or ``heel_taps``).
    segments : list of str
        Segments wearing a sensor.
    leg : str
        ``left`` or ``right``: the test leg.
    seed : int
        The simulator seed.
    prompts : Prompts or None
        What `record` asks, s; None: the simulator's own timing.
    does_bends : bool
        Whether the athlete does the bends asked for.
    step_height_m : float or None
        Step height, m (None: the simulator's).

    Returns
    -------
    Simulation
        The recording (with the bends' window asked, s, in its metadata when asked) and its
        truth (the set's: ``holds`` or ``reps``, s).
    """
    import numpy as np

    from stepdown.programme.simulated import simulate_exercise

    kind = exercise["kind"]
    rx = exercise.get("prescription") or {}
    asks = prompts is not None and prompts.bends_s > 0
    taps = kind == "heel_taps"
    sim, _ = simulate_exercise(
        kind, seed=seed, leg=leg, sensors=tuple(segments), profile="medium",
        reps=int(rx.get("reps" if taps else "holds", SET_REPS[kind])),
        step_height_m=step_height_m, ideal=False, band=taps and bool(exercise.get("band")),
        load_kg=float(exercise.get("load_kg", 0.0)) if taps else 0.0,
        hold_s=float(np.mean(rx["hold_s"])) if "hold_s" in rx else SET_HOLD_S, unsteady=False,
        calibration_movement=asks and does_bends,
        retime=following(prompts, np.random.default_rng([seed, 5]), does_bends)
        if asks and prompts is not None else None)
    return _asked(sim, prompts) if asks and prompts is not None else sim


def simulated_span(sim: Simulation) -> tuple[float, float]:
    """(first, last) sample time (s) over all the simulation's streams: its common clock's span.

    Parameters
    ----------
    sim : Simulation
        The simulated test.

    Returns
    -------
    tuple of float
        (first, last), s.
    """
    streams = sim.recording.streams.values()
    return min(float(s.t[0]) for s in streams), max(float(s.t[-1]) for s in streams)


def emulated_world(segments: list[str], leg: str, seed: int, speed: float,
                   prompts: Prompts | None = None, does_bends: bool = True,
                   exercise: JSONDoc | None = None, step_height_m: float | None = None,
                   ) -> tuple[EmulatedWorld, dict[str, str], Simulation, Callable[[], None]]:
    """A world streaming a simulated test (:func:`simulated_test`) or set (:func:`simulated_set`).

    ``start()`` makes the simulated athlete begin the test now, at the "stand still" prompt
    (until then the sensors replay the first, standing sample).

    Parameters
    ----------
    segments : list of str
        Segments wearing a sensor, each emulated as a peripheral of
        :data:`EMULATED_VENDOR`.
    leg : str
        ``left`` or ``right``: the test leg.
    seed : int
        The simulator seed.
    speed : float
        The emulated world's clock speed (1: real time).
    prompts : Prompts or None
        What `record` asks, s.
    does_bends : bool
        Whether the athlete does the bends asked for.
    exercise : dict or None
        The recording's ``exercise`` metadata object: a hold or heel-tap set plays that set;
        None or a test, the step-down test.
    step_height_m : float or None
        A set's step height, m (None: the simulator's); a test plays the simulator's.

    Returns
    -------
    world : EmulatedWorld
        The emulated BLE world.
    addresses : dict of str to str
        Segment -> the peripheral's address.
    sim : Simulation
        The simulated test or set it plays.
    start : callable
        Begins the test (or set) now.
    """
    from sensor_io.ble_emulation import EmulatedPeripheral, EmulatedWorld, stream_signal
    from sensor_io.vendors import VENDORS
    from simulator.single_test import placement_name

    if exercise is not None and exercise.get("kind", "test") != "test":
        sim = simulated_set(exercise, segments, leg, seed, prompts, does_bends, step_height_m)
    else:
        sim = simulated_test(segments, leg, seed, prompts, does_bends)
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
    """``start`` (of :func:`emulated_world`) that also has ``run`` stop recording at the test's end.

    ``run`` stops when the simulated test has been played to its end.

    Parameters
    ----------
    run : LiveRun
        The live recording; its ``duration_s`` is set when the test begins.
    start : callable
        The world's ``start``.
    sim : Simulation
        The simulated test played.

    Returns
    -------
    callable
        Begins the test and sets the recording's end, s on the session clock.
    """
    first, last = simulated_span(sim)

    def begin() -> None:
        start()
        run.duration_s = run.session.now() + (last - first)

    return begin
