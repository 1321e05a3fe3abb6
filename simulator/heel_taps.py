"""Simulated heel-tap sets with ground truth, on the step-down body model.

Heel taps are the article's progression: step-downs from a step of a chosen height
with a light touch of the heel, one after the other at the athlete's tempo, with an
added load and with or without a band. The movement and its faults (knee, pelvis,
trunk, arm, an uncontrolled descent) are the test's, drawn from the same profiles
(:func:`simulator.scenario.draw_scenario`); a heel-tap set changes

- the tempo: one descent / ascent time per set (``tempo_s``: a whole rep, s), a short
  touch at the bottom and short pauses between taps;
- the depth: a share of the full depth to the floor per tap (``depth``);
- the knee: ``knee_scale`` multiplies every tap's knee medial displacement (a band
  that the athlete pushes against, or a set done with better control).

Another set of the same athlete in the same session, same straps, is ``movement_seed``
(as :mod:`simulator.retest`); :func:`band_pair` draws a band set and a no-band set of one
athlete, whose truths give a band comparison's true change.

Truth: the test's per-rep truth (:func:`simulator.truth.rep_truth`) with, per rep,
``depth_deg`` (peak thigh inclination from standing, deg) and ``duration_s``, and for
the set the tap count and the cadence (taps per minute, start to start).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from simulator.forward_kinematics import Kinematics
from simulator.retest import MOVEMENT_SEED_OFFSET
from simulator.scenario import PROFILES, Scenario
from simulator.single_test import SimConfig, Simulation, simulate


@dataclass(frozen=True)
class HeelTapConfig:
    """What to simulate (times in s, heights in m, load in kg)."""

    seed: int = 0
    """Seeds every random draw: the same config gives the same set."""
    test_leg: str = "left"
    """``left`` or ``right``: the leg on the step."""
    sensors: tuple[str, ...] = ("pelvis", "thigh")
    """Segments carrying a sensor (:data:`simulator.single_test.SEGMENT_CHOICES`)."""
    profile: str = "medium"
    """Fault profile the taps are drawn from: ``good``, ``medium`` or ``poor``."""
    reps: int = 10
    """Number of taps."""
    step_height_m: float | None = None
    """Step height, m; None draws it (0.15-0.25 m)."""
    tempo_s: tuple[float, float] = (1.6, 3.0)
    """Range of the set's whole-rep time (descent + ascent), s."""
    depth: tuple[float, float] = (0.85, 1.05)
    """Range of each tap's depth, a share of the full depth to the floor."""
    knee_scale: float = 1.0
    """Multiplies every tap's knee medial displacement (a band pushed against, or better
    control)."""
    band: bool = False
    """A band is worn (metadata and truth only)."""
    load_kg: float = 0.0
    """Added load, kg (metadata and truth only)."""
    ideal_sensors: bool = False
    """No noise, bias, gaps, jitter or soft tissue on the sensors."""
    athlete_id: str | None = None
    """The recording's athlete id; None gives ``sim-<seed>``."""
    calibration_movement: bool = True
    """The guided knee bends after the standing, as `stepdown record` asks for them before
    a set (:attr:`simulator.single_test.SimConfig.calibration_movement`)."""
    movement_seed: int | None = None
    """Another set of the athlete ``seed`` in the same session, same straps
    (:attr:`simulator.single_test.SimConfig.movement_seed`; the set's tempo and depths are
    drawn from it too); None: the athlete's first set."""


def _tap_scenario(scn: Scenario, cfg: HeelTapConfig) -> Scenario:
    """The drawn test's reps re-timed as a heel-tap set (see module docstring)."""
    rng = np.random.default_rng([cfg.seed if cfg.movement_seed is None else cfg.movement_seed,
                                 51])
    tempo = float(rng.uniform(*cfg.tempo_s))
    reps = tuple(replace(
        r, descent_s=tempo * 0.5 * float(rng.uniform(0.9, 1.1)),
        bottom_s=float(rng.uniform(0.0, 0.15)),
        ascent_s=tempo * 0.5 * float(rng.uniform(0.9, 1.1)),
        rest_s=float(rng.uniform(0.3, 0.9)), depth=float(rng.uniform(*cfg.depth)),
        knee_medial_m=r.knee_medial_m * cfg.knee_scale) for r in scn.reps if not r.partial)
    return replace(scn, reps=reps, fidget_after=(), pain_nrs=tuple(0.0 for _ in reps))


def thigh_inclination_deg(kin: Kinematics, standing_s: float) -> np.ndarray:
    """(N,) true thigh inclination from vertical relative to standing, deg.

    Parameters
    ----------
    kin : Kinematics
        The simulated segment trajectories (R_global_thigh on the fine grid).
    standing_s : float
        End of the quiet standing window, s: the mean from 0.3 s to 0.2 s before it is the
        reference.

    Returns
    -------
    numpy.ndarray
        (N,) deg, on ``kin.t``.
    """
    incl = np.degrees(np.arccos(np.clip(kin.R["thigh"][:, 2, 1], -1.0, 1.0)))
    stand = (kin.t >= 0.3) & (kin.t < standing_s - 0.2)
    return incl - incl[stand].mean()


def simulate_heel_taps(cfg: HeelTapConfig, retime: Callable[[Scenario], Scenario] | None = None
                       ) -> Simulation:
    """A simulated heel-tap set: recording (metadata ``exercise.kind = heel_taps``) and truth.

    Parameters
    ----------
    cfg : HeelTapConfig
        What to simulate.
    retime : callable or None
        Scenario -> scenario applied last to the set's scenario (times in s): an athlete
        following prompts (:func:`stepdown.live.emulation.following`); the truth follows it.

    Returns
    -------
    Simulation
        The recording and the truth: the test's per-rep truth plus ``depth_deg`` and
        ``duration_s`` per rep, ``taps`` and ``cadence_per_min`` for the set.
    """
    sim = simulate(SimConfig(seed=cfg.seed, test_leg=cfg.test_leg, sensors=cfg.sensors,
                             profile=cfg.profile, n_reps=cfg.reps, step_height_m=cfg.step_height_m,
                             ideal_sensors=cfg.ideal_sensors, athlete_id=cfg.athlete_id,
                             calibration_movement=cfg.calibration_movement,
                             movement_seed=cfg.movement_seed),
                   scenario_fn=lambda scn: (retime or (lambda x: x))(_tap_scenario(scn, cfg)))
    rec = sim.recording
    rec.extra["simulated"] |= {"exercise": "heel_taps"}
    rec.extra["exercise"] = {"kind": "heel_taps", "band": cfg.band, "load_kg": cfg.load_kg,
                             "prescription": {"reps": cfg.reps}}
    incl = thigh_inclination_deg(sim.kinematics, sim.scenario.standing_s)
    reps = sim.truth["reps"]
    for r in reps:
        m = (sim.kinematics.t >= r["start_s"]) & (sim.kinematics.t <= r["end_s"])
        r["depth_deg"] = float(incl[m].max())
        r["duration_s"] = r["end_s"] - r["start_s"]
    starts = [r["start_s"] for r in reps]
    sim.truth |= {"exercise": "heel_taps", "band": cfg.band, "load_kg": cfg.load_kg,
                  "knee_scale": cfg.knee_scale, "taps": len(reps),
                  "cadence_per_min": (60.0 * (len(starts) - 1) / (starts[-1] - starts[0])
                                      if len(starts) > 1 else None)}
    return sim


BAND_SENSORS = ("pelvis", "thigh", "shank")
"""Every band pair is simulated with these; :func:`simulator.retest.with_sensors` gives a
smaller set's recording."""


def band_pair(seed: int, sensors: tuple[str, ...] = BAND_SENSORS, **overrides
              ) -> tuple[Simulation, Simulation]:
    """A heel-tap set with the band and one without it, one athlete in one session.

    Drawn from ``seed``: the test leg, the profile (the same in both sets), each set's 6-12
    taps, and the band's effect, ``knee_scale`` of the band set (1.0, the band changes
    nothing, a third of the time; else 0.3-0.9: the knee moves in less against it). The
    no-band set is the same athlete on the same step with the same straps and sensors
    (``movement_seed`` = ``seed`` + :data:`simulator.retest.MOVEMENT_SEED_OFFSET`): its
    calibration, taps, noise and kinematics are new.

    Parameters
    ----------
    seed : int
        The athlete's seed (:attr:`HeelTapConfig.seed`).
    sensors : tuple of str
        Segments carrying a sensor, the same in both sets.
    **overrides
        HeelTapConfig fields for both sets (e.g. ``calibration_movement=False``).

    Returns
    -------
    band, no_band : Simulation
        The two simulated sets with their truths (``knee_scale`` in each).
    """
    rng = np.random.default_rng([seed, 52])
    leg = str(rng.choice(["left", "right"]))
    profile = PROFILES[int(rng.integers(0, len(PROFILES)))]
    reps = rng.integers(6, 13, 2)
    knee_scale = 1.0 if rng.random() < 1 / 3 else float(rng.uniform(0.3, 0.9))
    base = dict(seed=seed, test_leg=leg, sensors=sensors, profile=profile)
    band = simulate_heel_taps(HeelTapConfig(**(base | {
        "reps": int(reps[0]), "band": True, "knee_scale": knee_scale} | overrides)))
    no_band = simulate_heel_taps(HeelTapConfig(**(base | {
        "reps": int(reps[1]), "movement_seed": seed + MOVEMENT_SEED_OFFSET,
        "step_height_m": band.scenario.step_height_m} | overrides)))
    return band, no_band
