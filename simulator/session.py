"""Simulated training sessions of any length: sets of step-downs, rests, walking between sets.

>>> sim = simulate_session(SessionConfig(seed=1, sets=2, rest_s=10.0, walk_s=10.0))
>>> [round(s["start_s"]) for s in sim.truth["sets"]], [round(b - a, 3) for a, b in sim.truth["walks"]]
([0, 40], [10.0])

A session is a sequence of blocks on one clock: set 1 (quiet standing, then the reps),
then for every further set a walk (step off, turn, walk away, turn, walk back, step on)
and the set, whose quiet standing is the rest. Each set is one single test of the
simulator (:func:`simulator.scenario.draw_scenario` and
:func:`simulator.forward_kinematics.simulate_kinematics`, its own draw of reps and faults);
this module adds the walking and samples every block with the *same* sensors: one
mounting, one rate and clock, one set of biases and scale errors per sensor for the whole
session, the bias walk carried on from block to block, as strapped sensors would be.

The kinematics are made and sampled one block at a time (the 1 kHz trajectories of a
whole hour would need gigabytes), so memory follows the longest block, not the session.

Truth: every set's reps (times on the session clock, measures relative to that set's own
standing), ``sets`` (start and end of each set, s) and ``walks`` (start and end, s).
What is not modelled: thigh soft-tissue motion (the single test has it), the non-test
leg, and walking's foot contacts beyond a vertical bob (impacts show only in the sets).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.signal import butter, sosfiltfilt

from sensor_io.anthropometry import Body
from sensor_io.json_doc import JSONDoc
from sensor_io.recording import Athlete, Recording, SensorStream
from simulator.forward_kinematics import (
    ANKLE_HEIGHT_M,
    FINE_RATE_HZ,
    MIRROR_SEGMENT,
    N0,
    Kinematics,
    mirror,
    rot_x,
    rot_y,
    rot_z,
    simulate_kinematics,
)
from simulator.scenario import draw_scenario
from simulator.single_test import SEGMENT_CHOICES, check_choices, placement_name
from simulator.truth import rep_truth
from simulator.virtual_imu import (
    SensorErrors,
    add_sensor_errors,
    draw_errors,
    ideal_imu,
    mounts,
    random_mounting,
    sacral_tissue,
)

MIN_WALK_S = 8.0
WALK_SPEED_MPS = 1.2
STRIDE_HZ = 0.9          # strides per second (1.8 steps/s)
TURN_S = 2.0             # each 180° turn, stepping on the spot


@dataclass(frozen=True)
class SessionConfig:
    """What session to simulate.

    ``minutes``, when given, sets the number of sets: as many as start before that time (at
    least one); otherwise ``sets``. Times in s.
    """

    seed: int = 0
    """Seeds every random draw: the same config gives the same session."""
    test_leg: str = "left"
    """``left`` or ``right``: the leg on the step."""
    sensors: tuple[str, ...] = ("pelvis", "thigh")
    """Segments carrying a sensor (:data:`simulator.single_test.SEGMENT_CHOICES`)."""
    profile: str = "medium"
    """Fault profile of every set: ``good``, ``medium`` or ``poor``."""
    reps_per_set: int = 5
    """Full reps in each set."""
    sets: int = 3
    """Number of sets (when ``minutes`` is None)."""
    minutes: float | None = None
    """Session length, min: as many sets as start before it; None: ``sets``."""
    rest_s: float = 60.0
    """Quiet standing before each set after the first, s (at least 2)."""
    walk_s: float = 20.0
    """Walk between sets, s (at least :data:`MIN_WALK_S`)."""
    height_m: float | None = None
    """Body height, m; None draws 1.55-1.95 m."""
    step_height_m: float | None = None
    """Step height, m; None draws 0.15-0.25 m."""
    ideal_sensors: bool = False
    """No noise, bias, gaps, jitter on the sensors."""
    rates_hz: dict[str, float] = field(default_factory=dict)
    """Sampling rate per segment, Hz, replacing the drawn one."""


@dataclass
class SessionSimulation:
    """A simulated session: the recording and its truth (no fine-grid trajectories kept)."""

    recording: Recording
    """The simulated recording, one clock for the whole session."""
    truth: JSONDoc
    """The ground truth (format ``stepdown-truth``): reps, ``sets`` and ``walks`` (s on the
    session clock), measures (deg, cm), sensor errors."""
    body: Body
    """Segment dimensions, m."""


@dataclass
class _Block:
    kin: Kinematics
    start_s: float         # on the session clock
    kind: str              # "set" or "walk"
    standing_s: float = 0.0
    pain_nrs: tuple[float, ...] = ()


@dataclass
class _SensorState:
    """One strapped sensor across the session: mounting, errors, clock, samples so far."""

    placement: str
    R_seg_sensor: np.ndarray
    pos_m: np.ndarray
    errors: SensorErrors
    rng: np.random.Generator
    next_true_s: float
    bias_walk: np.ndarray = field(default_factory=lambda: np.zeros(3))
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)


def simulate_session(cfg: SessionConfig) -> SessionSimulation:
    """Simulate one session (deterministic for a given config).

    Parameters
    ----------
    cfg : SessionConfig
        What to simulate.

    Returns
    -------
    SessionSimulation
        The recording (one clock, s) and its truth (reps, ``sets`` and ``walks`` in s on the
        session clock).

    Raises
    ------
    ValueError
        An unknown leg, sensor or profile, a walk shorter than :data:`MIN_WALK_S` or a rest
        shorter than 2 s.
    """
    _check(cfg)
    rng = np.random.default_rng([cfg.seed, 7])
    height = cfg.height_m if cfg.height_m is not None else float(rng.uniform(1.55, 1.95))
    body = Body.from_height(height)
    step_h = (cfg.step_height_m if cfg.step_height_m is not None
              else float(rng.uniform(0.15, 0.25)))
    sensors: dict[str, _SensorState] = {}
    t_end = 0.0
    truth_reps: list[dict] = []
    partial: list[dict] = []
    sets: list[dict] = []
    walks: list[list[float]] = []
    pain: list[float] = []
    for block in _blocks(cfg, body, step_h, rng):
        block.start_s = t_end
        if not sensors:
            sensors = _strap_sensors(cfg, body, block.standing_s, _planned_s(cfg, block))
        for state in sensors.values():
            _sample_block(state, block, cfg.ideal_sensors)
        t_end = block.start_s + float(block.kin.t[-1]) + 1.0 / FINE_RATE_HZ
        if block.kind == "walk":
            walks.append([block.start_s, t_end])
            continue
        reps = rep_truth(block.kin, block.standing_s)
        for r in reps:
            for key in ("start_s", "bottom_s", "end_s"):
                r[key] += block.start_s
            r["set"] = len(sets) + 1
        truth_reps += [r for r in reps if not r["partial"]]
        partial += [r for r in reps if r["partial"]]
        pain += list(block.pain_nrs)
        sets.append({"index": len(sets) + 1, "start_s": block.start_s, "end_s": t_end,
                     "standing_s": [block.start_s, block.start_s + block.standing_s]})
    for i, r in enumerate(truth_reps, 1):
        r["index"] = i
    streams = {}
    for name, state in sensors.items():
        t, gyr, acc = (np.concatenate([p[k] for p in state.parts]) for k in range(3))
        streams[name] = SensorStream(t, acc, gyr)
        state.parts.clear()
    rec = Recording(
        streams=streams, test_leg=cfg.test_leg, step_height_m=round(step_h, 3),
        athlete=Athlete(id=f"sim-session-{cfg.seed}", height_m=round(height, 3)),
        sensors_meta={n: {"model": "stepdown-simulator", "rate_hz": s.errors.rate_hz}
                      for n, s in sensors.items()},
        pain_nrs=pain if any(pain) else 0, started_at="2026-11-24T17:03:00Z",
        extra={"simulated": {"seed": cfg.seed, "profile": cfg.profile, "session": True}},
    )
    truth = {
        "format": "stepdown-truth", "version": 1, "test_leg": cfg.test_leg, "seed": cfg.seed,
        "profile": cfg.profile, "step_height_m": step_h, "body": body.__dict__.copy(),
        "standing_s": sets[0]["standing_s"], "reps": truth_reps, "partial_reps": partial,
        "pain_nrs": pain, "sets": sets, "walks": walks,
        "sensors": {n: {"rate_hz": s.errors.rate_hz, "clock_offset_s": s.errors.clock_offset_s,
                        "gaps_s": [list(g) for g in s.errors.gaps_s],
                        "R_seg_sensor": s.R_seg_sensor.tolist()} for n, s in sensors.items()},
    }
    return SessionSimulation(rec, truth, body)


def _check(cfg: SessionConfig) -> None:
    check_choices(cfg.test_leg, cfg.sensors, cfg.profile)
    if cfg.walk_s < MIN_WALK_S:
        raise ValueError(f"walk_s must be at least {MIN_WALK_S:g} s (two turns and a few steps)")
    if cfg.rest_s < 2.0:
        raise ValueError("rest_s must be at least 2 s (each set starts from quiet standing)")


def _planned_s(cfg: SessionConfig, first: _Block) -> float:
    """Rough session length (s), for placing the sensors' data gaps over the whole session."""
    one_set = float(first.kin.t[-1])
    if cfg.minutes is not None:
        return max(one_set, 60.0 * cfg.minutes)
    return one_set + (cfg.sets - 1) * (cfg.walk_s + cfg.rest_s + one_set - first.standing_s)


def _blocks(cfg: SessionConfig, body: Body, step_h: float, rng: np.random.Generator):
    """The session's blocks in order, made one at a time (set, walk, set, ...)."""
    t = 0.0
    k = 0
    while True:
        scn = draw_scenario(np.random.default_rng([cfg.seed, 8, k]), cfg.profile,
                            cfg.reps_per_set, step_height_m=step_h)
        if k > 0:
            scn = replace(scn, standing_s=cfg.rest_s)
        kin = simulate_kinematics(scn, body, cfg.test_leg, np.random.default_rng([cfg.seed, 9, k]))
        yield _Block(kin, t, "set", scn.standing_s, tuple(scn.pain_nrs))
        t += float(kin.t[-1])
        k += 1
        more = (t + cfg.walk_s < 60.0 * cfg.minutes if cfg.minutes is not None
                else k < cfg.sets)
        if not more:
            return
        walk = walking_kinematics(cfg.walk_s, body, cfg.test_leg, rng)
        yield _Block(walk, t, "walk")
        t += float(walk.t[-1])


def _strap_sensors(cfg: SessionConfig, body: Body, standing_s: float,
                   duration_s: float) -> dict[str, _SensorState]:
    """Mount every sensor once: mounting, error model and clock for the whole session."""
    out = {}
    for i, seg in enumerate(s for s in SEGMENT_CHOICES if s in cfg.sensors):
        srng = np.random.default_rng([cfg.seed, 10, i])
        err = SensorErrors() if cfg.ideal_sensors else draw_errors(srng, seg, standing_s,
                                                                    duration_s)
        if seg in cfg.rates_hz:
            err = replace(err, rate_hz=cfg.rates_hz[seg])
        mount = mounts(body)[seg]
        flip = MIRROR_SEGMENT if cfg.test_leg == "left" else np.eye(3)
        R_seg_sensor = random_mounting(srng, flip @ mount.normal,
                                       midline=seg in ("pelvis", "trunk"))
        name = placement_name(seg, cfg.test_leg)
        out[name] = _SensorState(name, R_seg_sensor, flip @ mount.pos_m, err, srng,
                                 next_true_s=float(srng.uniform(0, 1 / err.rate_hz)))
    return out


def _sample_block(state: _SensorState, block: _Block, ideal: bool) -> None:
    """Derive one sensor's signals over a block and sample them on its running clock."""
    seg = state.placement.split("_")[0]
    kin = block.kin
    R_seg = kin.R[seg]
    R_sensor = R_seg @ state.R_seg_sensor
    if seg == "pelvis":  # the sacral skin's tilt excess (virtual_imu.sacral_tissue)
        R_sensor = R_seg @ sacral_tissue(R_seg, R_thigh=kin.R["thigh"]) @ state.R_seg_sensor
    dt = float(kin.t[1] - kin.t[0])
    gyr_f, acc_f = ideal_imu(R_sensor, kin.p[seg] + R_seg @ state.pos_m, dt)
    err = state.errors
    sos = butter(4, 0.4 * err.rate_hz, fs=1.0 / dt, output="sos")  # the sensor's own low-pass
    gyr_f, acc_f = sosfiltfilt(sos, gyr_f, axis=0), sosfiltfilt(sos, acc_f, axis=0)
    rate = err.rate_hz * (1 + err.clock_ppm * 1e-6)
    t_true = np.arange(state.next_true_s, block.start_s + kin.t[-1] - 2 * dt, 1 / rate)
    if len(t_true) == 0:
        return
    state.next_true_s = float(t_true[-1] + 1 / rate)
    local = t_true - block.start_s
    gyr = np.column_stack([np.interp(local, kin.t, gyr_f[:, i]) for i in range(3)])
    acc = np.column_stack([np.interp(local, kin.t, acc_f[:, i]) for i in range(3)])
    t_rec = t_true
    if not ideal:
        _, t_rec, gyr, acc, state.bias_walk = add_sensor_errors(
            t_true, gyr, acc, err, rate, state.rng, walk0=state.bias_walk)
    state.parts.append((t_rec, gyr, acc))


def walking_kinematics(duration_s: float, body: Body, test_leg: str,
                       rng: np.random.Generator) -> Kinematics:
    """Walking between sets on the 1 kHz grid.

    Off the step, a 180° turn on the spot, a walk away, a 180° turn, the walk back, onto
    the step, facing as at the start (so the heading the orientation filter carries stays
    true).

    Gait: STRIDE_HZ strides, thigh flexion 12° ± 20°, knee flexion up to 60° in swing,
    pelvic rotation ± 4° and obliquity ± 3°, trunk sway ± 2°, arm swing ± 20°, vertical bob
    2.5 cm per step; WALK_SPEED_MPS on the straight parts, smooth starts and stops.

    Parameters
    ----------
    duration_s : float
        Length of the walk, s (at least :data:`MIN_WALK_S`).
    body : Body
        Segment dimensions, m.
    test_leg : str
        ``left`` or ``right``: the sensors' side.
    rng : numpy.random.Generator
        Draws the gait's phase.

    Returns
    -------
    Kinematics
        Segment trajectories (R_global_seg; positions in m, global frame) with no reps.
    """
    t = np.arange(0.0, max(duration_s, MIN_WALK_S), 1.0 / FINE_RATE_HZ)
    n, dt = len(t), 1.0 / FINE_RATE_HZ
    straight = (t[-1] - 2 * TURN_S) / 2
    edges = np.cumsum([0.0, TURN_S, straight, TURN_S, straight])
    heading = np.pi * (_ramp(t, edges[0], edges[1]) + _ramp(t, edges[2], edges[3]))
    speed = WALK_SPEED_MPS * (_window(t, edges[1], edges[2]) + _window(t, edges[3], edges[4]))
    phase = 2 * np.pi * STRIDE_HZ * t + rng.uniform(0, 2 * np.pi)
    moving = np.clip(_ramp(t, 0.0, 1.0) - _ramp(t, t[-1] - 1.0, t[-1]), 0.0, 1.0)
    thigh = np.radians(12.0 + 20.0 * np.sin(phase)) * moving
    knee = np.radians(30.0 * (1 - np.cos(phase - 1.2)) * (np.sin(phase - 1.2) > 0)) * moving
    face = np.einsum("nij,jk->nik", _about_vertical(heading), N0)
    R_pelvis = face @ rot_y(np.radians(4.0) * np.sin(phase) * moving) @ rot_x(
        np.radians(3.0) * np.sin(2 * phase) * moving)
    R_trunk = face @ rot_x(np.radians(2.0) * np.sin(phase) * moving) @ rot_z(
        np.full(n, -np.radians(5.0)))
    R_thigh = face @ rot_z(thigh)
    R_shank = face @ rot_z(thigh - knee)
    R_arm = R_trunk @ rot_z(-np.radians(20.0) * np.sin(phase) * moving)
    up = lambda L: np.array([0.0, L, 0.0])  # noqa: E731
    xy = np.cumsum(speed[:, None] * np.column_stack([np.cos(heading), np.sin(heading)]), axis=0) * dt
    hip_height = ANKLE_HEIGHT_M + body.shank_m + body.thigh_m
    pelvis = np.column_stack([xy, np.full(n, hip_height) + 0.0125 * np.cos(2 * phase) * moving])
    hip = pelvis + R_pelvis @ np.array([0.0, 0.0, body.hip_width_m / 2])
    knee_p = hip - R_thigh @ up(body.thigh_m)
    ankle = knee_p - R_shank @ up(body.shank_m)
    trunk = pelvis + R_pelvis @ np.array([-0.03, 0.10, 0.0])
    shoulder = trunk + R_trunk @ np.array([0.0, body.trunk_m * 1.45, 0.18])
    R = {"shank": R_shank, "thigh": R_thigh, "pelvis": R_pelvis, "trunk": R_trunk,
         "wrist": R_arm @ rot_y(np.full(n, np.deg2rad(-60.0)))}
    p = {"shank": ankle, "thigh": hip, "pelvis": pelvis, "trunk": trunk,
         "wrist": shoulder + R_arm @ up(-0.6)}
    kin = Kinematics(t, R, p, np.zeros(n), np.zeros(n), np.zeros(n), [], [], "right")
    return mirror(kin) if test_leg == "left" else kin


def _ramp(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """0 before t0, 1 after t1, minimum-jerk in between."""
    u = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
    return u**3 * (10 - 15 * u + 6 * u**2)


def _window(t: np.ndarray, t0: float, t1: float, ramp_s: float = 0.8) -> np.ndarray:
    """1 inside [t0, t1] with smooth ramp_s edges, 0 outside."""
    return _ramp(t, t0, t0 + ramp_s) - _ramp(t, t1 - ramp_s, t1)


def _about_vertical(angle: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations by ``angle`` (rad) about the global z axis."""
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros((len(angle), 3, 3))
    out[:, 0, 0], out[:, 0, 1], out[:, 1, 0], out[:, 1, 1], out[:, 2, 2] = c, -s, s, c, 1.0
    return out
