"""Simulated isometric holds with ground truth, on the step-down body model.

The hold: standing on the test leg, knee bent and pushed out (glute external
rotation), held still, then back to standing; a rest; again. It is the step-down's
chain (:mod:`simulator.forward_kinematics`) with each "rep" a short descent, a long
plateau (the hold) and a short ascent, plus what a hold adds:

- postural sway (the whole-body model's, set per athlete from ``sway_deg``);
- tremor: a narrow-band 8-12 Hz wobble of the thigh and shank about their
  anterior axes, whose angular rate grows through each hold (fatigue);
- a hold that never steadies (``steadies=False``): the athlete keeps rocking
  forwards and back about the ankle (4-8°, 0.5-0.9 Hz) for the whole hold.

Truth per hold (:func:`hold_truth`): the plateau's start and end (s), time under
tension (s), the thigh's inclination from standing (deg), the pelvis sway (rms of
the pelvic obliquity about its mean over the hold, deg) and the tremor (rms of the
thigh's true angular rate in the 6-14 Hz band, deg/s).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy.signal import butter, sosfiltfilt

from sensor_io.recording import CALIBRATION_MOVEMENT_KEY
from simulator.forward_kinematics import Kinematics, rot_x, rot_y
from simulator.scenario import RepParams, Scenario
from simulator.single_test import SimConfig, Simulation, simulate
from simulator.truth import truth_series

TREMOR_BAND_HZ = (6.0, 14.0)
"""Physiological and fatigue tremor of the leg in a held contraction lives here."""


@dataclass(frozen=True)
class HoldConfig:
    """What to simulate.

    ``holds`` holds of a duration drawn from ``hold_s`` (s) with rests from ``rest_s`` (s);
    the hold depth as a share of a step-down's bottom (``depth``); the athlete's sway (rms,
    deg) and tremor (rms rate in the tremor band at the end of a hold, deg/s) drawn from
    their ranges.
    """

    seed: int = 0
    """Seeds every random draw: the same config gives the same holds."""
    test_leg: str = "left"
    """``left`` or ``right``: the standing leg."""
    sensors: tuple[str, ...] = ("pelvis", "thigh")
    """Segments carrying a sensor (:data:`simulator.single_test.SEGMENT_CHOICES`)."""
    holds: int = 3
    """Number of holds."""
    hold_s: tuple[float, float] = (15.0, 25.0)
    """Range of a hold's duration (its plateau), s."""
    rest_s: tuple[float, float] = (4.0, 8.0)
    """Range of the rest after a hold, s."""
    depth: tuple[float, float] = (0.45, 0.7)
    """Range of the hold's depth, a share of a step-down's bottom."""
    sway_deg: tuple[float, float] = (0.2, 1.2)
    """Range of the athlete's rms postural sway, deg."""
    tremor_dps: tuple[float, float] = (0.5, 6.0)
    """Range of the rms thigh rate in the tremor band at the end of a hold, deg/s."""
    steadies: bool = True
    """False: the athlete keeps rocking forwards and back through every hold."""
    step_height_m: float = 0.20
    """Step height, m."""
    ideal_sensors: bool = False
    """No noise, bias, gaps, jitter or soft tissue on the sensors."""
    athlete_id: str | None = None
    """The recording's athlete id; None gives ``sim-<seed>``."""
    calibration_movement: bool = True
    """The guided knee bends after the standing, as `stepdown record` asks for them before
    a set (:attr:`simulator.single_test.SimConfig.calibration_movement`)."""


@dataclass(frozen=True)
class HoldDraw:
    """The athlete's drawn hold parameters (kept for the truth)."""

    reps: tuple[RepParams, ...]
    """Each hold as a rep (descent, plateau, ascent, rest in s; faults in rad, m)."""
    sway_deg: float
    """The athlete's rms postural sway, deg."""
    tremor_dps: tuple[float, ...]
    """Per hold, the mean rms thigh rate in the tremor band, deg/s."""
    tremor_hz: tuple[float, ...]
    """Per hold, the tremor's centre frequency, Hz (8-12)."""
    rock_deg: float
    """Amplitude of the forward-back rocking about the ankle, deg (0: steadies)."""
    rock_hz: float
    """Frequency of that rocking, Hz."""


def draw_hold(cfg: HoldConfig) -> HoldDraw:
    """The holds of ``cfg`` drawn from its ranges (deterministic per seed).

    Parameters
    ----------
    cfg : HoldConfig
        The ranges to draw from.

    Returns
    -------
    HoldDraw
        Per hold its rep parameters (s, rad, m), tremor rate (deg/s) and frequency (Hz);
        the athlete's sway (deg) and rocking (deg, Hz; 0 deg when the hold steadies).
    """
    rng = np.random.default_rng([cfg.seed, 41])
    reps = tuple(RepParams(
        descent_s=float(rng.uniform(1.0, 1.6)), bottom_s=float(rng.uniform(*cfg.hold_s)),
        ascent_s=float(rng.uniform(0.9, 1.4)), rest_s=float(rng.uniform(*cfg.rest_s)),
        depth=float(rng.uniform(*cfg.depth)),
        knee_medial_m=float(rng.uniform(-0.01, 0.015)),
        pelvic_drop_rad=float(np.deg2rad(rng.uniform(-1.0, 4.0))),
        trunk_lean_rad=float(np.deg2rad(rng.uniform(0.0, 4.0))),
        trunk_flex_rad=float(np.deg2rad(rng.uniform(10.0, 25.0))),
        pelvic_tilt_rad=float(np.deg2rad(rng.uniform(3.0, 10.0))),
        shape=1.0) for _ in range(cfg.holds))
    return HoldDraw(reps=reps, sway_deg=float(rng.uniform(*cfg.sway_deg)),
                    tremor_dps=tuple(float(x) for x in rng.uniform(*cfg.tremor_dps, cfg.holds)),
                    tremor_hz=tuple(float(x) for x in rng.uniform(8.0, 12.0, cfg.holds)),
                    rock_deg=0.0 if cfg.steadies else float(rng.uniform(4.0, 8.0)),
                    rock_hz=float(rng.uniform(0.5, 0.9)))


def plateaus(scn: Scenario) -> list[tuple[float, float]]:
    """(start_s, end_s) of each rep's bottom plateau: the hold, as the scenario times it.

    The same sums as :func:`simulator.forward_kinematics.build_depth` (after the guided
    bends, if any); no fidgets.

    Parameters
    ----------
    scn : Scenario
        The holds as reps (durations in s).

    Returns
    -------
    list of tuple of float
        Per hold, its plateau's start and end, s.
    """
    out, t0 = [], scn.standing_s + scn.guided_s
    for r in scn.reps:
        start = t0 + r.descent_s
        out.append((start, start + r.bottom_s))
        t0 = start + r.bottom_s + r.ascent_s + r.rest_s
    return out


def _band_noise(rng: np.random.Generator, t: np.ndarray, f_hz: float) -> np.ndarray:
    """Unit-rms narrow-band noise around f_hz (±1.5 Hz) on the grid t (s)."""
    fs = 1.0 / (t[1] - t[0])
    sos = butter(2, (f_hz - 1.5, f_hz + 1.5), "bandpass", fs=fs, output="sos")
    x = sosfiltfilt(sos, rng.standard_normal(len(t)))
    return x / (np.std(x) + 1e-12)


def _add_hold_motion(kin: Kinematics, scn: Scenario, draw: HoldDraw, seed: int) -> Kinematics:
    """Tremor on the thigh and shank, and the rocking of a hold that never steadies."""
    rng = np.random.default_rng([seed, 42])
    t = kin.t
    trem = np.zeros_like(t)
    for (a, b), rate, f in zip(plateaus(scn), draw.tremor_dps, draw.tremor_hz, strict=True):
        m = (t >= a - 0.5) & (t <= b + 0.5)
        grow = np.clip((t[m] - a) / max(b - a, 1e-6), 0.0, 1.0)
        # a sine's rate is 2 pi f times its angle: angle rms for the wanted rate rms,
        # growing from half to 1.5 x the mean through the hold (fatigue)
        amp = np.deg2rad(rate) / (2 * np.pi * f) * (0.5 + grow)
        trem[m] += amp * _band_noise(rng, t[m], f)
    R = dict(kin.R)
    for seg in ("thigh", "shank"):
        R[seg] = R[seg] @ rot_x(trem)
    p = dict(kin.p)
    if draw.rock_deg:
        rock = np.zeros_like(t)
        for a, b in plateaus(scn):
            m = (t >= a) & (t <= b)
            ramp = np.clip(np.minimum(t[m] - a, b - t[m]) / 0.5, 0.0, 1.0)
            rock[m] = np.deg2rad(draw.rock_deg) * ramp * np.sin(2 * np.pi * draw.rock_hz * (t[m] - a))
        G = rot_y(rock)  # forwards and back about the ankle (global y)
        ankle = kin.p["shank"]
        for seg in R:
            R[seg] = G @ R[seg]
            p[seg] = ankle + np.einsum("nij,nj->ni", G, kin.p[seg] - ankle)
    return replace(kin, R=R, p=p)


def thigh_rate_dps(kin: Kinematics) -> np.ndarray:
    """(N, 3) true angular rate of the thigh in its own frame, deg/s (finite differences).

    Parameters
    ----------
    kin : Kinematics
        Simulated trajectories (R_global_thigh on the uniform fine grid ``kin.t``, s).

    Returns
    -------
    numpy.ndarray
        (N, 3) deg/s, thigh segment frame (ISB: x anterior, y superior, z right); the last
        sample repeats the one before.
    """
    R = kin.R["thigh"]
    dR = np.einsum("nji,njk->nik", R[:-1], R[1:])  # R_k^T R_k+1
    w = 0.5 * np.stack([dR[:, 2, 1] - dR[:, 1, 2], dR[:, 0, 2] - dR[:, 2, 0],
                        dR[:, 1, 0] - dR[:, 0, 1]], axis=1) / (kin.t[1] - kin.t[0])
    return np.degrees(np.vstack([w, w[-1:]]))


def band_rms(x: np.ndarray, fs_hz: float, band_hz: tuple[float, float] = TREMOR_BAND_HZ
             ) -> np.ndarray:
    """(N, K) series x band-passed (zero phase) to ``band_hz``; returns the filtered (N, K).

    Parameters
    ----------
    x : numpy.ndarray
        (N, K) series on a uniform grid, filtered along axis 0.
    fs_hz : float
        Sampling rate, Hz.
    band_hz : tuple of float
        (low, high) pass band, Hz (2nd-order Butterworth, forward and back).

    Returns
    -------
    numpy.ndarray
        (N, K) filtered series in the unit of ``x`` (its rms is taken by the caller).
    """
    sos = butter(2, band_hz, "bandpass", fs=fs_hz, output="sos")
    return sosfiltfilt(sos, x, axis=0)


def hold_truth(kin: Kinematics, scn: Scenario, draw: HoldDraw) -> list[dict]:
    """Per hold: start_s, end_s, tut_s, depth_deg, pelvis_sway_deg, tremor_dps (truth).

    Parameters
    ----------
    kin : Kinematics
        The simulated trajectories (fine grid, s).
    scn : Scenario
        The holds as reps; its ``standing_s`` (s) is the reference standing.
    draw : HoldDraw
        The drawn holds (``rock_deg`` 0: the hold steadies).

    Returns
    -------
    list of dict
        Per hold: ``index`` (from 1), ``start_s``, ``end_s``, ``tut_s`` (s), ``depth_deg``
        (mean thigh inclination from standing), ``pelvis_sway_deg`` (std of the pelvic
        obliquity), ``tremor_dps`` (rms of the thigh's rate in :data:`TREMOR_BAND_HZ`),
        ``pelvic_drop_deg`` (mean from standing) and ``steady``.
    """
    series = truth_series(kin)
    stand = (kin.t >= 0.3) & (kin.t < scn.standing_s - 0.2)
    incl = np.degrees(np.arccos(np.clip(kin.R["thigh"][:, 2, 1], -1.0, 1.0)))
    incl = incl - incl[stand].mean()
    drop = series["pelvic_drop_deg"]
    tremor = band_rms(thigh_rate_dps(kin), 1.0 / (kin.t[1] - kin.t[0]))
    out = []
    for i, (a, b) in enumerate(plateaus(scn), 1):
        m = (kin.t >= a) & (kin.t <= b)
        out.append({
            "index": i, "start_s": a, "end_s": b, "tut_s": b - a,
            "depth_deg": float(incl[m].mean()),
            "pelvis_sway_deg": float(np.std(drop[m])),
            "tremor_dps": float(np.sqrt(np.mean(np.sum(tremor[m] ** 2, axis=1)))),
            "pelvic_drop_deg": float(drop[m].mean() - drop[stand].mean()),
            "steady": draw.rock_deg == 0.0,
        })
    return out


def simulate_hold(cfg: HoldConfig, retime: Callable[[Scenario], Scenario] | None = None
                  ) -> Simulation:
    """A simulated hold set: recording (metadata ``exercise.kind = hold``) and truth.

    Parameters
    ----------
    cfg : HoldConfig
        What to simulate.
    retime : callable or None
        Scenario -> scenario applied last to the holds' scenario (times in s): an athlete
        following prompts (:func:`stepdown.live.emulation.following`); the truth follows it.

    Returns
    -------
    Simulation
        The recording and its truth (``holds``: :func:`hold_truth`; ``sensors`` as the
        step-down's).
    """
    draw = draw_hold(cfg)
    sway_rate = float(np.clip(2 * np.pi * 0.5 * draw.sway_deg, 1.0, 4.0))

    scn_seen: list[Scenario] = []  # the scenario as drawn, then as held (kinematics step)

    def scenario_fn(scn: Scenario) -> Scenario:
        scn_seen.append(scn)  # as drawn: the guided bends' prompt was timed on its standing
        held = replace(scn, reps=draw.reps, fidget_after=(), sway_deg=draw.sway_deg,
                       sway_rate_dps=sway_rate, standing_s=max(scn.standing_s, 3.0), pain_nrs=())
        scn_seen.append(held if retime is None else retime(held))
        return scn_seen[-1]

    def kinematics_fn(kin: Kinematics) -> Kinematics:
        return _add_hold_motion(kin, scn_seen[-1], draw, cfg.seed)

    sim = simulate(SimConfig(seed=cfg.seed, test_leg=cfg.test_leg, sensors=cfg.sensors,
                             profile="good", n_reps=cfg.holds, step_height_m=cfg.step_height_m,
                             ideal_sensors=cfg.ideal_sensors, athlete_id=cfg.athlete_id,
                             calibration_movement=cfg.calibration_movement),
                   scenario_fn=scenario_fn, kinematics_fn=kinematics_fn)
    rec = sim.recording
    movement = sim.truth.get("calibration_movement")
    if movement is not None:  # the bends follow the standing, which a hold may lengthen
        shift = sim.scenario.standing_s - scn_seen[0].standing_s
        movement["prompt_s"] = [round(x + shift, 3) for x in movement["prompt_s"]]
        rec.extra[CALIBRATION_MOVEMENT_KEY]["window_s"] = movement["prompt_s"]
    rec.pain_nrs = None
    rec.extra["simulated"] = {"seed": cfg.seed, "exercise": "hold"}
    rec.extra["exercise"] = {"kind": "hold", "band": False, "load_kg": 0.0,
                             "prescription": {"holds": cfg.holds,
                                              "hold_s": [float(cfg.hold_s[0]),
                                                         float(cfg.hold_s[1])]}}
    sim.truth = {"format": "stepdown-truth", "version": 1, "exercise": "hold",
                 "test_leg": cfg.test_leg, "seed": cfg.seed,
                 "standing_s": [0.0, sim.scenario.standing_s],
                 "sway_deg_setting": draw.sway_deg, "steadies": cfg.steadies,
                 "holds": hold_truth(sim.kinematics, sim.scenario, draw),
                 "sensors": sim.truth["sensors"],
                 **({"calibration_movement": movement} if movement is not None else {})}
    return sim
