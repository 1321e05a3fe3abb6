"""Forward kinematics of a lateral step-down, foot fixed on the step.

Frames (DESIGN.md): global x forward (the athlete's facing direction), y left,
z up.  Segment frames follow ISB: x anterior, y superior, z right.  The chain is
built for a *right* test leg and mirrored for a left one (reflection of the
global y axis; segment z flipped so it keeps pointing right).

The chain: ankle fixed on the step -> shank (forward tilt = ankle dorsiflexion,
medial tilt = knee medial collapse) -> thigh (knee flexion; frontal tilt that
keeps the hip over the foot plus a lateral hip drift; axial = femoral rotation)
-> pelvis (anterior tilt, obliquity = drop of the swing side, small rotation)
-> trunk (flexion, lateral lean) -> optional wrist on the test side (hand on the
waist, abducting when the hand leaves it).

Whole-body physics (the simulator's default world, docs/simulator.md; every
part is off in a bare :class:`Scenario`, the idealised model unit tests use):

- lateral balance (``Scenario.balance_gain``): a trunk lean or an abducted arm
  moves the centre of mass sideways, and the athlete undoes a share of that by
  shifting the hip over the foot the other way (the rest by moving the centre of
  pressure within the foot, which no IMU sees);
- the trunk sits on the pelvis: a share of the pelvic obliquity tilts it too;
- postural sway: the whole body tilts about the ankle (front-back and sideways)
  and the pelvis, trunk and hip rotation sway on top, at a few tenths of a degree
  and 1-3 °/s in single-leg stance (less on both feet), with occasional
  corrections;
- valgus timing that does not follow depth: early, late, nearly constant through
  the rep, or growing with depth;
- the resting hand sits on the waist: it rides on the pelvis and follows only a
  share of the trunk's turn on it; an arm leaving the waist abducts from there.

All segment orientations are ``R_global_seg`` (3x3, segment coords -> global);
positions in m.  Times in s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.optimize import brentq
from scipy.spatial.transform import Rotation

from sensor_io.anthropometry import Body
from simulator.scenario import RepParams, Scenario

FINE_RATE_HZ = 1000.0
ANKLE_HEIGHT_M = 0.08
# Neutral standing: ISB segment axes expressed in the global frame.
N0 = np.array([[1.0, 0.0, 0.0],
               [0.0, 0.0, -1.0],
               [0.0, 1.0, 0.0]])
MIRROR_GLOBAL = np.diag([1.0, -1.0, 1.0])
MIRROR_SEGMENT = np.diag([1.0, 1.0, -1.0])
SEGMENTS = ("shank", "thigh", "pelvis", "trunk", "wrist")


def rot_x(a: np.ndarray) -> np.ndarray:
    """(N,3,3) rotations about x by angles a (rad).

    Parameters
    ----------
    a : numpy.ndarray
        (N,) angles, rad, right-handed about the x axis.

    Returns
    -------
    numpy.ndarray
        (N, 3, 3) rotation matrices (a scalar angle gives one (3, 3) matrix).
    """
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1),
                     np.stack([z, s, c], -1)], -2)


def rot_y(a: np.ndarray) -> np.ndarray:
    """(N,3,3) rotations about y by angles a (rad).

    Parameters
    ----------
    a : numpy.ndarray
        (N,) angles, rad, right-handed about the y axis.

    Returns
    -------
    numpy.ndarray
        (N, 3, 3) rotation matrices (a scalar angle gives one (3, 3) matrix).
    """
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1),
                     np.stack([-s, z, c], -1)], -2)


def rot_z(a: np.ndarray) -> np.ndarray:
    """(N,3,3) rotations about z by angles a (rad).

    Parameters
    ----------
    a : numpy.ndarray
        (N,) angles, rad, right-handed about the z axis.

    Returns
    -------
    numpy.ndarray
        (N, 3, 3) rotation matrices (a scalar angle gives one (3, 3) matrix).
    """
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1),
                     np.stack([z, z, o], -1)], -2)


@dataclass
class RepTiming:
    """Where a rep sits on the fine time grid (s)."""

    start_s: float
    """Where the depth first reaches 5 % of the rep's peak, s."""
    bottom_s: float
    """Middle of the rep's bottom plateau, s."""
    end_s: float
    """Where the depth last reaches 5 % of the rep's peak, s."""
    params: RepParams
    """The rep as drawn (timings s, depth, faults rad and m)."""


@dataclass
class Kinematics:
    """Segment trajectories on the fine grid (canonical or mirrored).

    Orientations are ``R_global_seg`` (segment coords -> global frame: x forward, y left,
    z up); positions in m, global frame.
    """

    t: np.ndarray
    """(N,) fine time grid, s."""
    R: dict[str, np.ndarray]
    """Per segment (shank, thigh, pelvis, trunk, wrist): (N,3,3) R_global_seg."""
    p: dict[str, np.ndarray]
    """Per segment: (N,3) m, global frame, segment origin (shank: ankle, thigh: hip centre,
    pelvis: mid-hips, trunk: L5, wrist: wrist)."""
    depth: np.ndarray
    """(N,) the rep depth variable s (0 standing, ~1 at the floor)."""
    knee_medial_m: np.ndarray
    """(N,) true knee displacement medial to the foot (m)."""
    arm_rad: np.ndarray
    """(N,) arm abduction, rad (0 while the hand is on the waist)."""
    reps: list[RepTiming]
    """Where each rep sits on the grid (s)."""
    impacts_s: list[float]
    """Times (s) when an uncontrolled descent hits the floor."""
    test_leg: str
    """``left`` or ``right``: the leg on the step."""


def knee_flexion_for_drop(drop_m: float, body: Body, shank_ratio: float) -> float:
    """Knee flexion (rad) that lowers the hip by ``drop_m`` with the given ankle share.

    Parameters
    ----------
    drop_m : float
        Drop of the hip centre, m.
    body : Body
        Segment lengths (shank, thigh), m.
    shank_ratio : float
        Share (0..1) of the knee flexion taken by the shank's forward tilt (ankle
        dorsiflexion); the thigh tilts back by the rest.

    Returns
    -------
    float
        Knee flexion, rad (solved in 0..2.5 rad).
    """
    def f(theta: float) -> float:
        a, phi = shank_ratio * theta, (1 - shank_ratio) * theta
        return body.shank_m * (1 - np.cos(a)) + body.thigh_m * (1 - np.cos(phi)) - drop_m
    return float(brentq(f, 0.0, 2.5))


def _min_jerk(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10 - 15 * u + 6 * u**2)


def smooth_onset(tau: np.ndarray, rise_s: float = 0.012) -> np.ndarray:
    """0 -> 1 with zero slope at tau = 0: ringing starts without a velocity step.

    Parameters
    ----------
    tau : numpy.ndarray
        Time since the onset, s (>= 0).
    rise_s : float
        Rise time constant, s.

    Returns
    -------
    numpy.ndarray
        ``(1 - exp(-tau / rise_s))**2``, the shape of ``tau``, 0..1.
    """
    return (1.0 - np.exp(-tau / rise_s)) ** 2


def _smooth_noise(rng: np.random.Generator, n: int, sigma_samples: float, amp: float) -> np.ndarray:
    x = gaussian_filter1d(rng.standard_normal(n), sigma_samples)
    return amp * x / (np.std(x) + 1e-12)


def _descent(u: np.ndarray, uncontrolled: bool, rng: np.random.Generator) -> np.ndarray:
    """Depth fraction 0..1 over the descent phase u in [0, 1]."""
    if not uncontrolled:
        return _min_jerk(u)
    # Controlled to a break point, then a fast, nearly linear drop to the floor
    # that ends abruptly (the heel hits the floor).
    u_b, s_b = rng.uniform(0.55, 0.7), rng.uniform(0.45, 0.6)
    out = s_b * _min_jerk(u / u_b)
    late = u > u_b
    v = (u[late] - u_b) / (1 - u_b)
    out[late] = s_b + (1 - s_b) * (0.35 * v + 0.65 * v**1.6)
    return out


def build_depth(scn: Scenario, t: np.ndarray, rng: np.random.Generator):
    """Depth variable s(t) per rep, the rep index at each sample, timings, impacts.

    Parameters
    ----------
    scn : Scenario
        The test's reps (durations in s, depth 0..~1) and its standing and guided windows.
    t : numpy.ndarray
        (N,) fine time grid, s, uniform.
    rng : numpy.random.Generator
        Draws the break point of an uncontrolled descent.

    Returns
    -------
    depth : numpy.ndarray
        (N,) depth variable (0 standing, ~1 at the floor), impact ringing included.
    rep_of : numpy.ndarray
        (N,) int, index of the rep each sample belongs to (its rest included), -1 outside.
    reps : list of RepTiming
        Per rep, start and end where the depth crosses 5 % of its peak, bottom at the middle
        of its plateau (s).
    impacts : list of float
        Times (s) when an uncontrolled descent hits the floor.
    """
    n = len(t)
    depth = np.zeros(n)
    rep_of = np.full(n, -1)
    reps: list[RepTiming] = []
    impacts: list[float] = []
    dt = t[1] - t[0]
    t0 = scn.standing_s + scn.guided_s
    for i, r in enumerate(scn.reps):
        t_bottom0 = t0 + r.descent_s
        t_end = t_bottom0 + r.bottom_s + r.ascent_s
        d = (t >= t0) & (t < t_bottom0)
        depth[d] = r.depth * _descent((t[d] - t0) / r.descent_s, r.uncontrolled, rng)
        b = (t >= t_bottom0) & (t < t_bottom0 + r.bottom_s)
        depth[b] = r.depth
        a = (t >= t_bottom0 + r.bottom_s) & (t < t_end)
        depth[a] = r.depth * (1 - _min_jerk((t[a] - t_bottom0 - r.bottom_s) / r.ascent_s))
        rep_of[(t >= t0) & (t < t_end + r.rest_s)] = i
        if r.uncontrolled:
            impacts.append(t_bottom0)
        reps.append(RepTiming(t0, t_bottom0 + r.bottom_s / 2, t_end, r))
        t0 = t_end + r.rest_s + (1.6 if i in scn.fidget_after else 0.0)
    # An impact is over in ~10 ms: smooth the velocity step, then add the ringing.
    depth = gaussian_filter1d(depth, 0.006 / dt)
    for ti in impacts:
        k = t >= ti
        tau = t[k] - ti
        depth[k] += 0.004 * smooth_onset(tau) * np.exp(-tau / 0.05) * np.sin(2 * np.pi * 13.0 * tau)
    depth[rep_of < 0] = 0.0
    # Timings: 5% of the rep's peak depth marks start and end (documented truth).
    for i, rt in enumerate(reps):
        m = rep_of == i
        s_i, t_i = depth[m], t[m]
        peak = s_i.max()
        above = np.flatnonzero(s_i >= 0.05 * peak)
        rt.start_s = float(t_i[above[0]])
        rt.end_s = float(t_i[above[-1]])
        plateau = np.flatnonzero(s_i >= peak - 0.002 * max(peak, 1e-9))
        rt.bottom_s = float(t_i[plateau].mean()) if len(plateau) else float(t_i[np.argmax(s_i)])
    return depth, rep_of, reps, impacts


def _per_rep(values: list[float], rep_of: np.ndarray) -> np.ndarray:
    arr = np.asarray(values + [0.0])
    return arr[rep_of]  # rep_of == -1 picks the trailing 0


def _fidget(scn: Scenario, reps: list[RepTiming], t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weight shift between reps: pelvis rotation (rad) and a small knee bend (depth)."""
    rot = np.zeros_like(t)
    bend = np.zeros_like(t)
    for i in scn.fidget_after:
        if i >= len(reps):
            continue
        tf = reps[i].end_s + reps[i].params.rest_s * 0.5
        u = (t - tf) / 1.4
        m = (u > 0) & (u < 1)
        bump = np.sin(np.pi * u[m]) ** 2
        rot[m] = np.deg2rad(6.0) * bump
        bend[m] = 0.08 * bump
    return rot, bend


def guided_bend(scn: Scenario, t: np.ndarray) -> np.ndarray:
    """(N,) depth of the guided calibration bends.

    0 standing, ``guided_depth`` at the bottom of each: ``guided_bends`` slow min-jerk bends
    down and up, one after the other from the end of the standing window.

    Parameters
    ----------
    scn : Scenario
        Its ``standing_s``, ``guided_bends``, ``guided_bend_s`` (s) and ``guided_depth``.
    t : numpy.ndarray
        (N,) time grid, s.

    Returns
    -------
    numpy.ndarray
        (N,) depth variable of the bends (0 outside them).
    """
    bend = np.zeros_like(t)
    for k in range(scn.guided_bends):
        t0 = scn.standing_s + k * scn.guided_bend_s
        u = (t - t0) / scn.guided_bend_s
        m = (u > 0) & (u < 1)
        bend[m] = scn.guided_depth * _min_jerk(1.0 - np.abs(2.0 * u[m] - 1.0))
    return bend


def _sagittal_leg(theta_k: np.ndarray, shank_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """(R_global_shank, R_global_thigh), each (N,3,3), of a leg flexed in the sagittal plane.

    theta_k: (N,) knee flexion (rad); the shank tilts forward by shank_ratio of it
    (ankle dorsiflexion), the thigh backward by the rest.
    """
    alpha = shank_ratio * theta_k
    return N0 @ rot_z(-alpha), N0 @ rot_z(theta_k - alpha)


def _knee_off_line_m(shank_vec: np.ndarray, thigh_vec: np.ndarray) -> np.ndarray:
    """Distance (m) of the knee from the hip-ankle line, (N,)."""
    h = shank_vec + thigh_vec
    u = h / np.linalg.norm(h, axis=-1)[..., None]
    return np.linalg.norm(shank_vec - np.sum(shank_vec * u, axis=-1)[..., None] * u, axis=-1)


def _leg_rotation(shank_vec: np.ndarray, thigh_vec: np.ndarray, shift: np.ndarray,
                  chi: np.ndarray) -> np.ndarray:
    """(N,3,3) global rotation of the whole leg (shank + thigh) about the ankle.

    The knee is a hinge, so a knee that moves medially does it by the leg plane
    turning inward about the hip-ankle line (femoral internal rotation and
    adduction with the foot fixed), not by bending the knee sideways.
    shank_vec, thigh_vec: (N,3) sagittal ankle->knee and knee->hip vectors (m).
    shift: (N,) lateral drift of the hip over the foot (m, > 0 lateral).
    chi: (N,) inward turn of the leg about the hip-ankle line (rad).
    Canonical right leg: lateral is -y, medial +y.
    """
    h = shank_vec + thigh_vec
    eps = np.arcsin(np.clip(shift / np.linalg.norm(h, axis=1), -1, 1))
    G1 = rot_x(eps)  # about the forward axis through the ankle: hip moves laterally
    u = np.einsum("nij,nj->ni", G1, h)
    u /= np.linalg.norm(u, axis=1)[:, None]
    G2 = Rotation.from_rotvec(u * chi[:, None]).as_matrix()
    return G2 @ G1


# Segment masses as fractions of body mass (Winter, Biomechanics and Motor Control of
# Human Movement, 4th ed., table 4.1): head, arms and trunk (HAT) 0.678, one whole arm
# 0.05 with its centre of mass halfway from shoulder to wrist.  The HAT centre of mass
# sits ~0.12 H above L5, where the lean pivots (a rounded value).  What moves with the
# hip when it shifts over the foot (HAT, swing leg, most of the stance leg) is ~0.93
# of the body mass.
HAT_MASS, HAT_LEVER_PER_HEIGHT = 0.678, 0.12
ARM_MASS = 0.05
SHIFTING_MASS = 0.93
SHOULDER_TO_WRIST_M = np.array([-0.05, -0.42, 0.06])  # hand on the waist, trunk frame


def balance_shift_m(R_trunk: np.ndarray, arm_move_m: np.ndarray, body: Body,
                    gain: float) -> np.ndarray:
    """Lateral hip shift over the foot that takes back a share of the centre-of-mass shift.

    The shift (m, > 0 lateral for the canonical right leg, i.e. -y) takes back ``gain``
    (0..1) of the sideways centre-of-mass shift of the trunk's inclination and the arm's
    movement.

    Parameters
    ----------
    R_trunk : numpy.ndarray
        (N,3,3) R_global_trunk.
    arm_move_m : numpy.ndarray
        (N,3) how far the wrist has moved from the hand-on-waist position (global, m).
    body : Body
        Its height (m) sets the trunk's lever.
    gain : float
        Share (0..1) of the centre-of-mass shift taken back by the hip.

    Returns
    -------
    numpy.ndarray
        (N,) lateral hip shift, m.
    """
    com_y = (HAT_MASS * HAT_LEVER_PER_HEIGHT * body.height_m * R_trunk[:, 1, 1]
             + ARM_MASS * 0.5 * arm_move_m[:, 1])
    return gain * com_y / SHIFTING_MASS


VALGUS_TIMINGS = ("depth", "early", "late", "constant")


def valgus_envelope(frac: np.ndarray, timing: str, shape: np.ndarray | float) -> np.ndarray:
    """Share (0..~1) of a rep's valgus reached at depth fraction ``frac``.

    ``frac`` is 0 standing, 1 at the rep's bottom.  By the athlete's timing: ``depth`` grows
    as frac**shape; ``early`` is all there by 40 % of the depth; ``late`` appears near the
    bottom (frac**4); ``constant`` is there from the first 8 % of the descent to the end.

    Parameters
    ----------
    frac : numpy.ndarray
        (N,) depth fraction of the rep (0..1.2).
    timing : str
        One of :data:`VALGUS_TIMINGS`.
    shape : numpy.ndarray or float
        Exponent of the ``depth`` timing, (N,) or one for all samples.

    Returns
    -------
    numpy.ndarray
        (N,) share of the rep's valgus.

    Raises
    ------
    ValueError
        An unknown ``timing``.
    """
    if timing == "early":
        return _min_jerk(frac / 0.4)
    if timing == "late":
        return np.minimum(frac, 1.0) ** 4
    if timing == "constant":
        return _min_jerk(frac / 0.08)
    if timing == "depth":
        return frac ** shape
    raise ValueError(f"unknown valgus timing {timing!r}; choose from {', '.join(VALGUS_TIMINGS)}")


def resting_hand(R_pelvis: np.ndarray, R_trunk: np.ndarray, on_trunk: float) -> np.ndarray:
    """(N,3,3) orientation of a hand resting on the waist.

    The pelvis turned by the share ``on_trunk`` (0..1) of the trunk's rotation relative to it
    (the forearm runs from the hand on the pelvis to the elbow carried by the trunk).

    Parameters
    ----------
    R_pelvis : numpy.ndarray
        (N,3,3) R_global_pelvis.
    R_trunk : numpy.ndarray
        (N,3,3) R_global_trunk.
    on_trunk : float
        Share (0..1) of the trunk's rotation on the pelvis the hand follows.

    Returns
    -------
    numpy.ndarray
        (N,3,3) R_global_hand.
    """
    if on_trunk == 1.0:
        return R_trunk
    rel = Rotation.from_matrix(np.einsum("nji,njk->nik", R_pelvis, R_trunk)).as_rotvec()
    return R_pelvis @ Rotation.from_rotvec(on_trunk * rel).as_matrix()


def postural_sway(scn: Scenario, t: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Sway angles of the whole body, the pelvis and the trunk.

    Sway angles (rad, (N,) each): ``ml`` and ``ap`` tilt of the whole body about the ankle,
    ``drop`` (pelvic obliquity), ``lean`` (trunk) and ``rot`` (pelvis and trunk about the
    vertical) on top.

    Each is smoothed noise of rms ``sway_deg`` whose rate has rms ``sway_rate_dps`` (a
    Gaussian-smoothed noise of rms A and smoothing sigma s has a rate of rms
    A / (sqrt(2) s)), scaled by ``standing_sway_share`` in the calibration standing;
    corrections add a 0.4-0.8 deg sideways bump of 1-2 s now and then.  With
    ``sway_deg`` 0 the small fixed sway of the idealised model is returned.

    Parameters
    ----------
    scn : Scenario
        Its sway settings (deg, deg/s, corrections per s) and standing windows (s).
    t : numpy.ndarray
        (N,) fine time grid at :data:`FINE_RATE_HZ`, s.
    rng : numpy.random.Generator
        Draws the noise and the corrections.

    Returns
    -------
    dict of str to numpy.ndarray
        ``ml``, ``ap``, ``drop``, ``lean``, ``rot``: (N,) rad each.
    """
    n = len(t)
    if scn.sway_deg <= 0:
        out = {k: _smooth_noise(rng, n, 0.4 * FINE_RATE_HZ, np.deg2rad(a))
               for k, a in (("drop", 0.25), ("lean", 0.3), ("rot", 0.4))}
        return {**out, "ml": np.zeros(n), "ap": np.zeros(n)}
    sigma_s = scn.sway_deg / (np.sqrt(2.0) * max(scn.sway_rate_dps, 1e-6))
    amp = np.deg2rad(scn.sway_deg)
    calm_s = scn.standing_s + scn.guided_bends * scn.guided_bend_s  # the bends: feet as standing
    share = np.interp(t, [0.0, calm_s - 0.3, calm_s + 0.3, t[-1] + 1],
                      [scn.standing_sway_share, scn.standing_sway_share, 1.0, 1.0])
    out = {k: share * _smooth_noise(rng, n, sigma_s * FINE_RATE_HZ, amp * a)
           for k, a in (("ml", 1.0), ("ap", 1.0), ("drop", 0.7), ("lean", 0.7), ("rot", 1.0))}
    n_corr = rng.poisson(scn.corrections_per_s * t[-1])
    for t_c in rng.uniform(0.0, t[-1], n_corr):
        dur = rng.uniform(1.0, 2.0)
        u = (t - t_c) / dur
        m = (u > 0) & (u < 1)
        out["ml"][m] += (rng.choice([-1.0, 1.0]) * np.deg2rad(rng.uniform(0.4, 0.8))
                         * share[m] * np.sin(np.pi * u[m]) ** 2)
    return out


def simulate_kinematics(
    scn: Scenario, body: Body, test_leg: str, rng: np.random.Generator,
) -> Kinematics:
    """Segment trajectories of one test on a 1 kHz grid.

    Parameters
    ----------
    scn : Scenario
        The test: reps, timings (s), faults (rad, m) and whole-body physics.
    body : Body
        Segment dimensions, m.
    test_leg : str
        ``left`` or ``right``: the leg on the step (a left one is the right one mirrored).
    rng : numpy.random.Generator
        Draws sway, noise and uncontrolled descents.

    Returns
    -------
    Kinematics
        Orientations ``R_global_seg`` and positions (m, global frame) of every segment on
        the :data:`FINE_RATE_HZ` grid, with the rep timings (s).
    """
    total = scn.standing_s + scn.guided_s + sum(r.descent_s + r.bottom_s + r.ascent_s + r.rest_s
                                 for r in scn.reps) + 1.6 * len(scn.fidget_after) + scn.end_standing_s
    t = np.arange(0.0, total, 1.0 / FINE_RATE_HZ)
    n = len(t)
    depth, rep_of, reps, impacts = build_depth(scn, t, rng)
    fid_rot, fid_bend = _fidget(scn, reps, t)
    guided = guided_bend(scn, t)
    s = depth + fid_bend + guided
    guided_share = guided / scn.guided_depth if scn.guided_bends else guided

    k_max = knee_flexion_for_drop(scn.step_height_m, body, scn.shank_ratio)
    R_shank0, R_thigh0 = _sagittal_leg(s * k_max, scn.shank_ratio)

    # Fault envelope: 0 standing, 1 at the bottom of a full rep; own timing per rep.
    peak = _per_rep([r.depth for r in scn.reps], rep_of)
    shape = _per_rep([r.shape for r in scn.reps], rep_of)
    with np.errstate(divide="ignore", invalid="ignore"):
        env = np.where(peak > 0, np.clip(depth / np.where(peak > 0, peak, 1.0), 0, 1.2), 0.0) ** shape
    env = env * np.minimum(peak, 1.0)  # partial reps carry proportionally smaller faults

    def param(name: str) -> np.ndarray:
        return _per_rep([float(getattr(r, name)) for r in scn.reps], rep_of) * env

    sway = postural_sway(scn, t, rng)
    d = param("pelvic_drop_rad") + sway["drop"]
    # a guided bend tilts the pelvis forward and flexes the trunk too (both feet down:
    # the pelvis stays level)
    tau = param("pelvic_tilt_rad") + np.deg2rad(6.0) * guided_share
    rho = sway["rot"] + fid_rot + np.deg2rad(3.0) * env
    lam = param("trunk_lean_rad") + sway["lean"] - scn.trunk_follows_pelvis * d
    zeta = param("trunk_flex_rad") + scn.guided_trunk_flex_rad * guided_share
    # the hand leaves the waist early in the descent, smoothly (no kink in the angle)
    arm = _per_rep([r.arm_rad for r in scn.reps], rep_of) * _min_jerk(env * 1.6)

    up = lambda L: np.array([0.0, L, 0.0])  # noqa: E731
    ankle = np.tile([0.0, 0.0, scn.step_height_m + ANKLE_HEIGHT_M], (n, 1))
    # The leg turns in by the angle that puts the knee knee_medial_m inside the
    # foot at the rep's bottom; the angle (not the distance) follows the envelope,
    # so the leg never spins while nearly straight.
    Rs_b, Rt_b = _sagittal_leg(np.array([r.depth * k_max for r in scn.reps]), scn.shank_ratio)
    off = _knee_off_line_m(Rs_b @ up(body.shank_m), Rt_b @ up(body.thigh_m))
    chi_bottom = np.arcsin(np.clip([r.knee_medial_m for r in scn.reps] / off, -0.9, 0.9))
    frac = np.where(peak > 0, np.clip(depth / np.where(peak > 0, peak, 1.0), 0, 1.2), 0.0)
    valgus = valgus_envelope(frac, scn.valgus_timing, shape) * np.minimum(peak, 1.0)
    R_pelvis = N0 @ rot_y(rho) @ rot_x(-d) @ rot_z(-tau)
    R_trunk = N0 @ rot_y(rho) @ rot_x(lam) @ rot_z(-zeta)
    R_rest = resting_hand(R_pelvis, R_trunk, scn.hand_on_trunk)
    R_arm = R_rest @ rot_x(-arm)
    R_leg = _leg_rotation(
        R_shank0 @ up(body.shank_m), R_thigh0 @ up(body.thigh_m),
        shift=(param("hip_shift_m") + _smooth_noise(rng, n, 0.5 * FINE_RATE_HZ, 0.002)
               + scn.guided_shift_m * guided_share
               + balance_shift_m(R_trunk, (R_arm - R_rest) @ SHOULDER_TO_WRIST_M, body,
                                 scn.balance_gain)),
        chi=_per_rep(list(chi_bottom), rep_of) * valgus + scn.guided_valgus_rad * guided_share)
    # sway about the ankle tilts the whole body (global axes: x forward, y left)
    G = rot_x(sway["ml"]) @ rot_y(sway["ap"])
    R = {
        "shank": G @ R_leg @ R_shank0,
        "thigh": G @ R_leg @ R_thigh0,
        "pelvis": G @ R_pelvis,
        "trunk": G @ R_trunk,
        "wrist": G @ R_arm @ rot_y(np.full(n, np.deg2rad(-60.0))),
    }
    R_rest, R_arm = G @ R_rest, G @ R_arm
    knee = ankle + R["shank"] @ up(body.shank_m)
    hip = knee + R["thigh"] @ up(body.thigh_m)
    pelvis = hip - R["pelvis"] @ np.array([0.0, 0.0, body.hip_width_m / 2])
    trunk = pelvis + R["pelvis"] @ np.array([-0.03, 0.10, 0.0])
    shoulder_to_trunk = np.array([0.0, body.trunk_m * 1.45, 0.18])
    shoulder = trunk + R["trunk"] @ shoulder_to_trunk
    # the resting hand: on the trunk's arm (hand_on_trunk 1) or on the waist (0), between
    on_pelvis = pelvis + R["pelvis"] @ (np.array([-0.03, 0.10, 0.0]) + shoulder_to_trunk
                                        + SHOULDER_TO_WRIST_M)
    on_trunk = shoulder + R_rest @ SHOULDER_TO_WRIST_M
    hand = scn.hand_on_trunk * on_trunk + (1 - scn.hand_on_trunk) * on_pelvis
    wrist = hand + (R_arm - R_rest) @ SHOULDER_TO_WRIST_M
    p = {"shank": ankle, "thigh": hip, "pelvis": pelvis, "trunk": trunk, "wrist": wrist}
    # medial = -z for the right leg, i.e. +y global (left)
    knee_medial = (knee[:, 1] - ankle[:, 1])

    kin = Kinematics(t, R, p, s, knee_medial, arm, reps, impacts, "right")
    return mirror(kin) if test_leg == "left" else kin


def mirror(kin: Kinematics) -> Kinematics:
    """Mirror a right-leg test into a left-leg one (global y reflected).

    Parameters
    ----------
    kin : Kinematics
        A canonical right-leg test.

    Returns
    -------
    Kinematics
        The same test on the left leg: global y reflected, segment z flipped so it keeps
        pointing right; depth, knee displacement, arm angle and timings unchanged.
    """
    R = {k: MIRROR_GLOBAL @ v @ MIRROR_SEGMENT for k, v in kin.R.items()}
    p = {k: v @ MIRROR_GLOBAL for k, v in kin.p.items()}
    return Kinematics(kin.t, R, p, kin.depth, kin.knee_medial_m, kin.arm_rad, kin.reps,
                      kin.impacts_s, "left")
