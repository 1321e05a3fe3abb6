"""Simulated lateral step-down tests with ground truth: our test bench.

>>> sim = simulate(SimConfig(seed=1, test_leg="left", sensors=("pelvis", "thigh")))
>>> sim.recording.placements
['pelvis', 'thigh_left']

What is modelled: a foot-fixed kinematic chain (shank, thigh, pelvis, trunk,
wrist) scaled from height, min-jerk reps with their own depth, speed, pauses
and fault sizes (knee medial collapse, pelvic drop, hip drift and rotation,
trunk lean, hand off the waist, uncontrolled descent with heel impact), a
fidget between reps and a partial rep; IMUs derived from that motion (gyro =
angular velocity, accelerometer = specific force at the sensor's position),
mounted at any rotation about the skin normal and tilted up to 15°, with
bias, bias drift, white noise, scale error, 52-200 Hz rates, clock offset,
drift and jitter, dropped samples, short gaps and thigh soft-tissue motion.

Truth (per full rep: start/bottom/end and every measure) is returned beside the
recording, never inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from sensor_io.anthropometry import SHANK_RATIO, THIGH_RATIO, Body
from sensor_io.recording import (
    CALIBRATION_MOVEMENT_KEY,
    KNEE_BENDS,
    Athlete,
    Recording,
    SensorStream,
)
from simulator.forward_kinematics import VALGUS_TIMINGS, Kinematics, simulate_kinematics
from simulator.scenario import PROFILES, Scenario, draw_scenario
from simulator.truth import rep_truth
from simulator.virtual_imu import (
    SACRAL_EXCESS_DEG,
    SensorErrors,
    VirtualSensor,
    draw_errors,
    redraw_recording_errors,
    sample_sensor,
)

SEGMENT_CHOICES = ("pelvis", "thigh", "shank", "trunk", "wrist")
# Share of a centre-of-mass shift an athlete undoes with the hip when balance is on;
# the rest is the centre of pressure moving within the foot (a chosen range).
BALANCE_GAIN_RANGE = (0.5, 1.0)
PHYSICS = ("whole-body", "ideal")
# Whole-body ranges per athlete (docs/simulator.md gives their sources).
SWAY_DEG = (0.2, 0.5)              # rms segment sway, single-leg stance
SWAY_RATE_DPS = (1.0, 3.0)         # rms angular rate of that sway ...
SWAY_FREQ_HZ = (0.5, 1.0)          # ... from its amplitude and a characteristic frequency
DOUBLE_LEG_SWAY_SHARE = (0.2, 0.4)  # standing on both feet sways less
CORRECTIONS_PER_S = (0.05, 0.25)
HAND_ON_TRUNK = (0.2, 0.5)
TRUNK_FOLLOWS_PELVIS = (0.2, 0.6)

# Guided calibration movement, per athlete (docs/simulator.md): how the prompted bends
# are done, and how the prompt's time span written to the metadata frames them.
GUIDED_BENDS = (2, 3)
GUIDED_BEND_S = (2.0, 3.5)
GUIDED_DEPTH = (0.35, 0.6)           # share of the step-down's knee flexion
GUIDED_SETTLE_S = (1.5, 3.0)
GUIDED_VALGUS_DEG = (-2.0, 4.0)      # the leg turning in (or out) as the knees bend
GUIDED_SHIFT_CM = (-1.0, 1.0)        # weight drifting to one foot (an assumption, docs/simulator.md)
GUIDED_TRUNK_FLEX_DEG = (5.0, 20.0)
PROMPT_LEAD_S = (0.0, 0.5)           # the prompt comes before the first bend starts ...
PROMPT_TAIL_S = (0.3, 1.0)           # ... and ends after the last one


@dataclass(frozen=True)
class SimConfig:
    """What to simulate.

    Sensors are segment names; leg segments and the wrist are placed on the test side.
    """

    seed: int = 0
    """Seeds every random draw: the same config gives the same test."""
    test_leg: str = "left"
    """``left`` or ``right``: the leg on the step."""
    sensors: tuple[str, ...] = ("pelvis", "thigh")
    """Segments carrying a sensor (:data:`SEGMENT_CHOICES`)."""
    profile: str = "medium"
    """Fault profile: ``good``, ``medium`` or ``poor``."""
    n_reps: int | None = 5
    """Number of full reps; None draws 3-8."""
    height_m: float | None = None
    """Body height, m; None draws 1.55-1.95 m."""
    step_height_m: float | None = None
    """Step height, m; None draws 0.15-0.25 m."""
    ideal_sensors: bool = False
    """No noise, bias, gaps, jitter, soft tissue."""
    partial_rep: bool | None = False
    """Insert a partial rep; None: drawn."""
    fidget: bool | None = False
    """A fidget between reps; None: drawn."""
    athlete_id: str | None = None
    """The recording's athlete id; None gives ``sim-<seed>``."""
    rates_hz: dict[str, float] = field(default_factory=dict)
    """Sampling rate per segment, Hz, replacing the drawn one."""
    balance: tuple[float, float] | None = BALANCE_GAIN_RANGE
    """Lateral balance coupling: each athlete's share of a centre-of-mass shift undone by the
    hip is drawn from this range; None = no coupling."""
    physics: str = "whole-body"
    """``"whole-body"``: sway, valgus timing, hand on the waist, trunk on the pelvis (see
    simulator.forward_kinematics); ``"ideal"``: none of them and no balance (closed forms)."""
    sway_scale: float = 1.0
    """>1: a shifted world with more sway (coverage tests)."""
    limb_scale: tuple[float, float] = (1.0, 1.0)
    """Thigh, shank lengths vs the standard ratios."""
    calibration_movement: bool = False
    """The guided calibration movement (knee bends on both feet after the standing window),
    prompted and its time span written in the recording's metadata."""
    guided_bends: int | None = None
    """Number of guided bends a protocol asks for; None: the athlete's 2-3
    (:data:`GUIDED_BENDS`). Drawn either way, so the test's other draws stay the same."""
    guided_depth: tuple[float, float] = GUIDED_DEPTH
    """Range of the guided bends' depth, share of the step-down's knee flexion (at most 1:
    the simulator's bends are no deeper than its reps)."""
    sacral_excess_deg: float = SACRAL_EXCESS_DEG
    """The pelvis sensor's excess anterior tilt over the bone, deg (virtual_imu.sacral_tissue;
    default the one measured on a real body, which the analysis takes out): another value
    is an athlete whose soft tissue the analysis's model does not match (bench_sacral)."""
    movement_seed: int | None = None
    """A retest of the athlete ``seed`` in the same session; None: the first test.

    Kept from ``seed`` (the athlete and the straps, not re-strapped): the body, the step
    height (the first test's when it had the same ``profile`` and ``n_reps``; else give
    ``step_height_m``), the whole-body physics (balance, sway, valgus timing), and per sensor the
    device (rate, gyro and accelerometer bias, scale, clock rate), the mounting rotation,
    the thigh's soft-tissue size and its slow rotation's axis. Drawn from ``movement_seed``
    (per recording): the test's reps and standing window (a new standing calibration), the
    guided bends, the kinematics, the sensors' noise, bias walk, dropped samples, gaps,
    clock offset and soft-tissue wobble. ``profile`` and ``n_reps`` may differ from the
    first test's (the practice changes the movement); the sensors must be the same. Use a
    value other than ``seed``, and another per retest."""


@dataclass
class Simulation:
    """A simulated test: the recording, its truth, and what produced them."""

    recording: Recording
    """The simulated recording, as a recorder would write it."""
    truth: dict
    """The ground truth (format ``stepdown-truth``): per-rep times (s), measures (deg, cm),
    sensor errors."""
    kinematics: Kinematics
    """Segment trajectories on the fine grid (global frame, m)."""
    sensors: dict[str, VirtualSensor]
    """Virtual sensors by placement."""
    scenario: Scenario
    """The drawn test."""
    body: Body
    """Segment dimensions, m."""


WHOLE_BODY_FIELDS = ("balance_gain", "sway_deg", "sway_rate_dps", "standing_sway_share",
                     "corrections_per_s", "valgus_timing", "hand_on_trunk", "trunk_follows_pelvis")


def whole_body(scn: Scenario, rng: np.random.Generator, balance: tuple[float, float] | None,
               sway_scale: float = 1.0) -> Scenario:
    """The scenario with one athlete's whole-body physics drawn from the ranges above.

    Balance share, sway and its rate scaled by ``sway_scale``, calibration standing on one
    or both feet, corrections, valgus timing, hand and trunk coupling.

    Parameters
    ----------
    scn : Scenario
        The drawn test.
    rng : numpy.random.Generator
        The physics' own random stream.
    balance : tuple of float or None
        Range of the balance share (0..1); None: no balance coupling (the share is drawn
        anyway so that the other draws stay the same).
    sway_scale : float
        Multiplies the sway (deg) and its rate (deg/s).

    Returns
    -------
    Scenario
        ``scn`` with :data:`WHOLE_BODY_FIELDS` set.
    """
    gain = float(rng.uniform(*(balance or (0.0, 0.0))))  # drawn always: the rest stays the same
    single_leg = rng.random() < 0.5
    sway = float(rng.uniform(*SWAY_DEG))
    # postural sway lives below ~1 Hz: the rate follows from the amplitude and a frequency
    rate = float(np.clip(2 * np.pi * rng.uniform(*SWAY_FREQ_HZ) * sway, *SWAY_RATE_DPS))
    return replace(
        scn, balance_gain=gain, sway_deg=sway * sway_scale, sway_rate_dps=rate * sway_scale,
        standing_sway_share=1.0 if single_leg else float(rng.uniform(*DOUBLE_LEG_SWAY_SHARE)),
        corrections_per_s=float(rng.uniform(*CORRECTIONS_PER_S)),
        valgus_timing=str(rng.choice(VALGUS_TIMINGS)),
        hand_on_trunk=float(rng.uniform(*HAND_ON_TRUNK)),
        trunk_follows_pelvis=float(rng.uniform(*TRUNK_FOLLOWS_PELVIS)))


def guided_movement(scn: Scenario, rng: np.random.Generator, bends: int | None = None,
                    depth: tuple[float, float] = GUIDED_DEPTH) -> tuple[Scenario, list[float]]:
    """The scenario with the guided knee bends drawn from the ranges above, and the prompt's span.

    Parameters
    ----------
    scn : Scenario
        The drawn test.
    rng : numpy.random.Generator
        The guided movement's own random stream.
    bends : int or None
        The number of bends asked for; None: drawn from :data:`GUIDED_BENDS`. The draw is
        made either way, so every other draw is the same as without it.
    depth : tuple of float
        Range of the bends' depth, share of the step-down's knee flexion (0-1].

    Returns
    -------
    scenario : Scenario
        ``scn`` with the guided bends set (times s, angles rad, shift m).
    prompt_s : list of float
        The prompt's [t0, t1] (s) that the recorder writes to the metadata.
    """
    if not 0.0 < depth[0] <= depth[1] <= 1.0:
        raise ValueError(f"guided bends' depth range must lie in (0, 1], not {depth}")
    if bends is not None and bends < 1:
        raise ValueError(f"guided bends must be at least 1, not {bends}")
    drawn = int(rng.integers(GUIDED_BENDS[0], GUIDED_BENDS[1] + 1))
    scn = replace(
        scn, guided_bends=drawn if bends is None else bends,
        guided_bend_s=float(rng.uniform(*GUIDED_BEND_S)),
        guided_depth=float(rng.uniform(*depth)),
        guided_settle_s=float(rng.uniform(*GUIDED_SETTLE_S)),
        guided_valgus_rad=float(np.deg2rad(rng.uniform(*GUIDED_VALGUS_DEG))),
        guided_shift_m=float(rng.uniform(*GUIDED_SHIFT_CM)) / 100.0,
        guided_trunk_flex_rad=float(np.deg2rad(rng.uniform(*GUIDED_TRUNK_FLEX_DEG))))
    end = scn.standing_s + scn.guided_bends * scn.guided_bend_s
    return scn, [round(scn.standing_s - float(rng.uniform(*PROMPT_LEAD_S)), 3),
                 round(end + float(rng.uniform(*PROMPT_TAIL_S)), 3)]


def placement_name(segment: str, test_leg: str) -> str:
    """The placement (DESIGN.md) of a segment's sensor.

    ``thigh`` -> ``thigh_left`` on a left test leg; the pelvis and the trunk have one.

    Parameters
    ----------
    segment : str
        One of :data:`SEGMENT_CHOICES`.
    test_leg : str
        ``left`` or ``right``.

    Returns
    -------
    str
        The placement name.
    """
    return f"{segment}_{test_leg}" if segment in ("thigh", "shank", "wrist") else segment


def check_choices(test_leg: str, sensors: tuple[str, ...], profile: str) -> None:
    """ValueError unless the leg, every sensor and the profile are ones the simulator knows.

    Parameters
    ----------
    test_leg : str
        Must be ``left`` or ``right``.
    sensors : tuple of str
        Each must be one of :data:`SEGMENT_CHOICES`.
    profile : str
        Must be one of :data:`simulator.scenario.PROFILES`.

    Raises
    ------
    ValueError
        Naming the first unknown choice.
    """
    if test_leg not in ("left", "right"):
        raise ValueError(f"test_leg must be 'left' or 'right', not {test_leg!r}")
    unknown = [s for s in sensors if s not in SEGMENT_CHOICES]
    if unknown:
        raise ValueError(f"unknown sensor {unknown[0]!r}; choose from {', '.join(SEGMENT_CHOICES)}")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")


def simulate(cfg: SimConfig, *, scenario_fn: Callable[[Scenario], Scenario] | None = None,
             kinematics_fn: Callable[[Kinematics], Kinematics] | None = None) -> Simulation:
    """Simulate one test (deterministic for a given config).

    Parameters
    ----------
    cfg : SimConfig
        What to simulate.
    scenario_fn : callable or None
        Changes the drawn scenario (after the whole-body physics) before the kinematics:
        other exercises built on the same body model (:mod:`simulator.hold`,
        :mod:`simulator.heel_taps`).
    kinematics_fn : callable or None
        Changes the kinematics before the sensors sample them (same use).

    Returns
    -------
    Simulation
        The recording (sensor frames, m/s² and rad/s as DESIGN.md), its truth (per full
        rep: start/bottom/end in s and every measure; a separate dict, never inside the
        recording), and the kinematics, virtual sensors, scenario and body that made them.

    Raises
    ------
    ValueError
        An unknown leg, sensor, profile or physics.
    """
    check_choices(cfg.test_leg, cfg.sensors, cfg.profile)
    rng = np.random.default_rng(cfg.seed)
    height = cfg.height_m if cfg.height_m is not None else float(rng.uniform(1.55, 1.95))
    body = Body.from_height(height, thigh_m=THIGH_RATIO * height * cfg.limb_scale[0],
                            shank_m=SHANK_RATIO * height * cfg.limb_scale[1])
    scn = draw_scenario(rng, cfg.profile, cfg.n_reps, step_height_m=cfg.step_height_m,
                        partial_rep=cfg.partial_rep, fidget=cfg.fidget)
    move = cfg.seed if cfg.movement_seed is None else cfg.movement_seed
    if cfg.movement_seed is not None:  # a retest on the first test's step
        scn = draw_scenario(np.random.default_rng([move, 5]), cfg.profile, cfg.n_reps,
                            step_height_m=scn.step_height_m, partial_rep=cfg.partial_rep,
                            fidget=cfg.fidget)
    if cfg.physics not in PHYSICS:
        raise ValueError(f"unknown physics {cfg.physics!r}; choose one of {', '.join(PHYSICS)}")
    if cfg.physics == "whole-body":  # its own stream: the rest of the test stays the same
        scn = whole_body(scn, np.random.default_rng([cfg.seed, 3]), cfg.balance, cfg.sway_scale)
    prompt = None
    if cfg.calibration_movement:  # its own stream too
        scn, prompt = guided_movement(scn, np.random.default_rng([move, 4]), cfg.guided_bends,
                                      cfg.guided_depth)
    if scenario_fn is not None:
        scn = scenario_fn(scn)
    # The kinematics draw from their own stream so that the left/right mirror of
    # one seed is exactly the same movement.
    kin = simulate_kinematics(scn, body, cfg.test_leg, np.random.default_rng([move, 1]))
    if kinematics_fn is not None:
        kin = kinematics_fn(kin)
    sensors: dict[str, VirtualSensor] = {}
    for i, seg in enumerate(s for s in SEGMENT_CHOICES if s in cfg.sensors):
        srng = np.random.default_rng([cfg.seed, 2, i])
        err = (SensorErrors() if cfg.ideal_sensors
               else draw_errors(srng, seg, scn.standing_s, kin.t[-1]))
        strap_rng = None
        if cfg.movement_seed is not None:  # srng goes on to the straps; this recording's own
            strap_rng, srng = srng, np.random.default_rng([move, 2, i])
            if not cfg.ideal_sensors:
                err = redraw_recording_errors(err, srng, scn.standing_s, kin.t[-1])
        if seg in cfg.rates_hz:
            err = replace(err, rate_hz=cfg.rates_hz[seg])
        name = placement_name(seg, cfg.test_leg)
        sensors[name] = sample_sensor(name, kin, body, err, srng, ideal=cfg.ideal_sensors,
                                      sacral_excess_deg=cfg.sacral_excess_deg,
                                      strap_rng=strap_rng)

    streams = {n: SensorStream(v.t, v.acc, v.gyr) for n, v in sensors.items()}
    rec = Recording(
        streams=streams,
        test_leg=cfg.test_leg,
        step_height_m=round(scn.step_height_m, 3),
        athlete=Athlete(id=cfg.athlete_id or f"sim-{cfg.seed}", height_m=round(height, 3)),
        sensors_meta={n: {"model": "stepdown-simulator", "rate_hz": v.errors.rate_hz}
                      for n, v in sensors.items()},
        pain_nrs=list(scn.pain_nrs) if any(scn.pain_nrs) else 0,
        started_at="2026-11-24T17:03:00Z",
        extra={"simulated": {"seed": cfg.seed, "profile": cfg.profile,
                             **({"movement_seed": cfg.movement_seed}
                                if cfg.movement_seed is not None else {})},
               **({CALIBRATION_MOVEMENT_KEY: {"kind": KNEE_BENDS, "window_s": prompt}}
                  if prompt else {})},
    )
    reps = rep_truth(kin, scn.standing_s)
    full = [r for r in reps if not r["partial"]]
    for i, r in enumerate(full, 1):
        r["index"] = i
    truth = {
        "format": "stepdown-truth", "version": 1,
        "test_leg": cfg.test_leg, "seed": cfg.seed, "profile": cfg.profile,
        "step_height_m": scn.step_height_m,
        "body": asdict(body),
        "standing_s": [0.0, scn.standing_s],
        "reps": full,
        "partial_reps": [r for r in reps if r["partial"]],
        "fidgets_after_rep": list(scn.fidget_after),
        "pain_nrs": list(scn.pain_nrs),
        "sensors": {n: {"rate_hz": v.errors.rate_hz,
                        "clock_offset_s": v.errors.clock_offset_s,
                        "gaps_s": [list(g) for g in v.errors.gaps_s],
                        "R_seg_sensor": v.R_seg_sensor.tolist()}
                    for n, v in sensors.items()},
    }
    if cfg.movement_seed is not None:
        truth["movement_seed"] = cfg.movement_seed
    if prompt:
        truth["calibration_movement"] = {
            "bends": scn.guided_bends, "prompt_s": prompt,
            "span_s": [scn.standing_s, scn.standing_s + scn.guided_bends * scn.guided_bend_s],
            "depth": scn.guided_depth, "valgus_deg": float(np.rad2deg(scn.guided_valgus_rad)),
            "shift_cm": 100.0 * scn.guided_shift_m}
    if cfg.physics == "whole-body":
        truth["physics"] = {k: getattr(scn, k) for k in WHOLE_BODY_FIELDS}
        if cfg.balance is not None:
            truth["balance_gain"] = scn.balance_gain
    return Simulation(rec, truth, kin, sensors, scn, body)


BATCH_SENSOR_SETS = (("pelvis", "thigh"), ("pelvis", "thigh", "shank"),
                     ("pelvis", "thigh", "trunk"), ("pelvis", "thigh", "shank", "trunk", "wrist"))


def simulate_batch(n: int, seed: int = 0, sensor_sets: tuple[tuple[str, ...], ...] | None = None,
                   **overrides) -> Iterator[Simulation]:
    """``n`` varied tests: legs, sensor sets, profiles, rep counts, step heights.

    Sensor sets are taken in turn from ``sensor_sets``.

    Parameters
    ----------
    n : int
        Number of tests.
    seed : int
        Seeds the variation; test i gets ``seed * 100000 + i`` as its own seed.
    sensor_sets : tuple of tuple of str or None
        Sensor sets taken in turn; default :data:`BATCH_SENSOR_SETS`.
    **overrides
        Keyword overrides passed to every SimConfig (e.g. ``ideal_sensors=True``).

    Yields
    ------
    Simulation
        One simulated test after the other.
    """
    rng = np.random.default_rng(seed)
    sets = sensor_sets or BATCH_SENSOR_SETS
    for i in range(n):
        cfg = dict(
            seed=int(seed * 100_000 + i), test_leg=str(rng.choice(["left", "right"])),
            sensors=sets[i % len(sets)], profile=PROFILES[int(rng.integers(0, 3))],
            n_reps=int(rng.integers(3, 9)), partial_rep=None, fidget=None,
        )
        cfg.update(overrides)
        yield simulate(SimConfig(**cfg))
