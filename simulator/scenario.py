"""What a simulated test contains: per-rep movement and fault parameters.

A scenario is drawn from a profile (``good``, ``medium``, ``poor``) with a seeded
random generator; reps differ from each other (depth, speed, pauses, fault size).
Angles are in rad, distances in m, times in s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PROFILES = ("good", "medium", "poor")


@dataclass(frozen=True)
class RepParams:
    """One rep. Fault magnitudes are the values reached at the bottom of the rep."""

    descent_s: float
    """Time from standing to the bottom, s."""
    bottom_s: float
    """Time held at the bottom, s."""
    ascent_s: float
    """Time from the bottom back to standing, s."""
    rest_s: float
    """Standing after the rep, s."""
    depth: float = 1.0
    """Fraction of the depth that reaches the floor."""
    knee_medial_m: float = 0.0
    """Knee medial displacement from the foot, m (the shank's tilt)."""
    pelvic_drop_rad: float = 0.0
    """Pelvic drop, rad: swing side lower."""
    hip_shift_m: float = 0.0
    """Lateral hip drift over the foot, m (adds adduction)."""
    trunk_lean_rad: float = 0.0
    """Lateral trunk inclination toward the stance side, rad."""
    trunk_flex_rad: float = 0.30
    """Trunk flexion, rad."""
    pelvic_tilt_rad: float = 0.10
    """Anterior pelvic tilt, rad."""
    arm_rad: float = 0.0
    """Arm abduction when the hand leaves the waist, rad."""
    uncontrolled: bool = False
    """Sudden drop late in the descent + heel impact."""
    shape: float = 1.0
    """Fault timing exponent (fault = s ** shape)."""
    partial: bool = False
    """An attempt that never reaches the floor."""


@dataclass(frozen=True)
class Scenario:
    """A whole test: quiet standing, then reps (and optional fidgets)."""

    reps: tuple[RepParams, ...]
    """The reps in order (partial ones included)."""
    standing_s: float = 3.0
    """Quiet standing before the first rep (the calibration window), s."""
    end_standing_s: float = 1.5
    """Standing after the last rep, s."""
    fidget_after: tuple[int, ...] = ()
    """Fidget (weight shift, not a rep) after these reps (0-based indices)."""
    shank_ratio: float = 0.45
    """Ankle dorsiflexion share of knee flexion."""
    step_height_m: float = 0.20
    """Step height, m."""
    pain_nrs: tuple[float, ...] = field(default=())
    """Pain per full rep, NRS 0-10."""
    balance_gain: float = 0.0
    """Share (0..1) of a centre-of-mass shift (trunk lean, arm) that the athlete undoes by
    shifting the hip over the foot; 0 = no balance coupling (see kinematics)."""
    # Whole-body physics (docs/simulator.md; all 0 / "depth" / 1 = the idealised model):
    sway_deg: float = 0.0
    """rms segment sway in single-leg stance (deg)."""
    sway_rate_dps: float = 0.0
    """rms angular rate of that sway (deg/s)."""
    standing_sway_share: float = 1.0
    """Calibration standing: 1 single-leg, ~0.3 both feet."""
    corrections_per_s: float = 0.0
    """Occasional balance corrections (a 0.5-1 deg bump), per s."""
    valgus_timing: str = "depth"
    """``"depth"`` | ``"early"`` | ``"late"`` | ``"constant"``."""
    hand_on_trunk: float = 1.0
    """Share of the trunk's turn on the pelvis a resting hand follows."""
    trunk_follows_pelvis: float = 0.0
    """Share of the pelvic obliquity carried into the trunk."""
    # Guided calibration movement (docs/simulator.md): after the standing window, slow
    # knee bends on both feet on the step, then standing again before the first rep.
    guided_bends: int = 0
    """Number of guided bends; 0 = none."""
    guided_bend_s: float = 2.5
    """One bend, down and up (s)."""
    guided_depth: float = 0.5
    """Share of the step-down's knee flexion reached."""
    guided_settle_s: float = 1.5
    """Standing after the bends, before the first rep (s)."""
    guided_valgus_rad: float = 0.0
    """The leg turning in about the hip-ankle line at the bottom (rad)."""
    guided_trunk_flex_rad: float = 0.0
    """Trunk flexion at the bottom of a bend (rad)."""
    guided_shift_m: float = 0.0
    """Sideways hip drift at the bottom (weight to one foot), m."""

    @property
    def guided_s(self) -> float:
        """Time (s) from the end of the standing window to the first rep's start."""
        if self.guided_bends <= 0:
            return 0.0
        return self.guided_bends * self.guided_bend_s + self.guided_settle_s


# Fault distributions per profile: probability the fault is present in a rep and
# the range of its size when present / absent.  Units: m and deg.
_FAULTS = {
    #            knee_cm (p, hi, lo), pelvis_deg, trunk_deg, arm p, uncontrolled p
    "good":   dict(knee=(0.10, (1.3, 2.5), (-0.5, 0.7)), pelvis=(0.10, (5.8, 8.0), (0.5, 4.0)),
                   trunk=(0.05, (11.0, 15.0), (1.0, 6.0)), arm=0.05, unc=0.05),
    "medium": dict(knee=(0.55, (1.4, 4.5), (-0.3, 0.7)), pelvis=(0.45, (5.8, 9.0), (1.0, 4.2)),
                   trunk=(0.20, (11.0, 16.0), (2.0, 7.0)), arm=0.20, unc=0.15),
    "poor":   dict(knee=(0.90, (2.0, 7.0), (0.0, 0.7)), pelvis=(0.80, (6.0, 11.0), (1.5, 4.2)),
                   trunk=(0.55, (11.0, 20.0), (3.0, 8.0)), arm=0.55, unc=0.45),
}


def _per_test_then_rep(rng: np.random.Generator, p: float, n: int) -> np.ndarray:
    """Fault presence per rep: an athlete tends to repeat a fault (test-level habit)."""
    habit = rng.random() < p
    p_rep = 0.85 if habit else 0.12 * p
    return rng.random(n) < p_rep


def draw_scenario(
    rng: np.random.Generator, profile: str = "medium", n_reps: int | None = None, *,
    step_height_m: float | None = None, partial_rep: bool | None = None,
    fidget: bool | None = None,
) -> Scenario:
    """Draw a scenario for one test from a profile, with reps that differ.

    Parameters
    ----------
    rng : numpy.random.Generator
        The random stream every draw comes from.
    profile : str
        ``good``, ``medium`` or ``poor``: how often and how large the faults are.
    n_reps : int or None
        Number of full reps; None draws 3-8.
    step_height_m : float or None
        Step height, m; None draws it (0.15-0.25 m).
    partial_rep : bool or None
        Insert one partial rep (never reaching the floor); None: with probability 0.2.
    fidget : bool or None
        A fidget (weight shift, not a rep) after one rep; None: with probability 0.3.

    Returns
    -------
    Scenario
        The test: reps (times s, angles rad, distances m), standing windows (s), pain
        per full rep (NRS 0-10), no whole-body physics.

    Raises
    ------
    ValueError
        An unknown profile.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    f = _FAULTS[profile]
    n = int(n_reps if n_reps is not None else rng.integers(3, 9))
    knee_on = _per_test_then_rep(rng, f["knee"][0], n)
    pel_on = _per_test_then_rep(rng, f["pelvis"][0], n)
    trunk_on = _per_test_then_rep(rng, f["trunk"][0], n)
    arm_on = _per_test_then_rep(rng, f["arm"], n)
    unc_on = _per_test_then_rep(rng, f["unc"], n)
    speed = rng.uniform(0.75, 1.35)  # athlete's own tempo
    reps = []
    for i in range(n):
        def size(on: bool, spec: tuple) -> float:
            lo, hi = spec[1] if on else spec[2]
            return float(rng.uniform(lo, hi))
        reps.append(RepParams(
            descent_s=float(rng.uniform(1.1, 2.1) * speed),
            bottom_s=float(rng.uniform(0.0, 0.5)),
            ascent_s=float(rng.uniform(0.9, 1.7) * speed),
            rest_s=float(rng.uniform(0.8, 2.5)),
            depth=float(rng.uniform(0.9, 1.08)),
            knee_medial_m=size(knee_on[i], f["knee"]) / 100.0,
            pelvic_drop_rad=np.deg2rad(size(pel_on[i], f["pelvis"])),
            hip_shift_m=float(rng.normal(0.0, 0.005)),
            trunk_lean_rad=np.deg2rad(size(trunk_on[i], f["trunk"])),
            trunk_flex_rad=np.deg2rad(float(rng.uniform(10.0, 30.0))),
            pelvic_tilt_rad=np.deg2rad(float(rng.uniform(3.0, 12.0))),
            arm_rad=np.deg2rad(float(rng.uniform(35.0, 70.0))) if arm_on[i] else 0.0,
            uncontrolled=bool(unc_on[i]),
            shape=float(rng.uniform(0.8, 1.5)),
        ))
    if partial_rep if partial_rep is not None else rng.random() < 0.2:
        k = int(rng.integers(0, n))
        p = reps[k]
        reps.insert(k, RepParams(descent_s=p.descent_s * 0.5, bottom_s=0.1,
                                 ascent_s=p.ascent_s * 0.5, rest_s=1.2,
                                 depth=float(rng.uniform(0.2, 0.35)), partial=True,
                                 trunk_flex_rad=p.trunk_flex_rad, pelvic_tilt_rad=p.pelvic_tilt_rad))
    n_all = len(reps)
    fid = ()
    if fidget if fidget is not None else rng.random() < 0.3:
        fid = (int(rng.integers(0, max(1, n_all - 1))),)
    pain_level = {"good": 0.05, "medium": 0.2, "poor": 0.4}[profile]
    pain = tuple(float(rng.integers(1, 5)) if rng.random() < pain_level else 0.0
                 for r in reps if not r.partial)
    return Scenario(
        reps=tuple(reps),
        standing_s=float(rng.uniform(2.5, 4.0)),
        end_standing_s=float(rng.uniform(1.0, 2.0)),
        fidget_after=fid,
        shank_ratio=float(rng.uniform(0.38, 0.5)),
        step_height_m=float(step_height_m if step_height_m is not None
                            else rng.uniform(0.15, 0.25)),
        pain_nrs=pain,
    )
