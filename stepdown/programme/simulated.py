"""`stepdown simulate --exercise hold|heel_taps`: a programme set and its ground truth."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sensor_io.errors import InputError
from sensor_io.exercise import EXERCISES, about_s

if TYPE_CHECKING:
    from analysis.result import JSONDoc
    from simulator.scenario import Scenario

HOLD_RANGE_S = (5.0, 120.0)


def simulate_exercise(kind: str, *, seed: int, leg: str, sensors: tuple[str, ...], profile: str,
                      reps: int, step_height_m: float | None, ideal: bool, band: bool,
                      load_kg: float, hold_s: float, unsteady: bool,
                      calibration_movement: bool | None = None,
                      retime: Callable[[Scenario], Scenario] | None = None
                      ) -> tuple[Any, JSONDoc]:
    """Simulate a hold set or a heel-tap set.

    Parameters
    ----------
    kind : str
        ``hold`` or ``heel_taps``.
    seed : int
        The simulator's random seed.
    leg : str
        The test leg, ``left`` or ``right``.
    sensors : tuple of str
        The placements worn.
    profile : str
        The athlete's movement profile (heel taps).
    reps : int
        Holds, or taps.
    step_height_m : float or None
        Step height, m (None: the simulator's default).
    ideal : bool
        Noise- and bias-free sensors.
    band : bool
        Heel taps with the band.
    load_kg : float
        Added load, kg (heel taps).
    hold_s : float
        About how long each hold lasts, s (holds; 0.9-1.1 times this).
    unsteady : bool
        Holds that never steady.
    calibration_movement : bool or None
        The guided knee bends after the standing, as `record` asks for them before a set;
        None: the simulator's default (with them).
    retime : callable or None
        Scenario -> scenario applied last (times in s): an athlete following `record`'s
        prompts (:func:`stepdown.live.emulation.following`); None: the simulator's timing.

    Returns
    -------
    tuple of (Simulation, dict)
        The simulation and its truth document (JSON); InputError (one line) for an
        exercise or an option the simulator cannot make.
    """
    from stepdown.truth_files import jsonable, truth_document

    bends = {} if calibration_movement is None else {"calibration_movement": calibration_movement}

    if kind == "hold":
        from simulator.hold import HoldConfig, simulate_hold

        lo, hi = HOLD_RANGE_S
        if not lo <= hold_s <= hi:
            raise InputError(f"--hold-s {hold_s:g} must be from {lo:g} to {hi:g} s")
        if band or load_kg:
            raise InputError("--band and --load-kg are for heel taps; a hold is simulated "
                             "without them")
        shortest, longest = about_s(hold_s)
        sim = simulate_hold(HoldConfig(
            seed=seed, test_leg=leg, sensors=sensors, holds=reps, steadies=not unsteady,
            hold_s=(shortest, longest), ideal_sensors=ideal,
            step_height_m=step_height_m or 0.20, **bends), retime)
        return sim, jsonable(sim.truth) | {"simulated": True}
    if kind == "heel_taps":
        from simulator.heel_taps import HeelTapConfig, simulate_heel_taps

        if unsteady:
            raise InputError("--unsteady is for holds")
        cfg = HeelTapConfig(seed=seed, test_leg=leg, sensors=sensors, profile=profile, reps=reps,
                            step_height_m=step_height_m, band=band, load_kg=load_kg,
                            ideal_sensors=ideal, **bends)
        sim = simulate_heel_taps(cfg, retime)
        return sim, truth_document(sim) | {"options": jsonable(cfg.__dict__)}
    raise InputError(f"--exercise: unknown exercise {kind!r} (expected one of {', '.join(EXERCISES)})")


def summary_line(doc: JSONDoc) -> str:
    """What the truth file holds, in one line.

    Parameters
    ----------
    doc : dict
        The truth document (:func:`simulate_exercise`).

    Returns
    -------
    str
        The holds and their time under tension, or the taps, cadence and true items.
    """
    if doc.get("exercise") == "hold":
        holds = doc["holds"]
        tut = ", ".join(f"{h['tut_s']:.0f}" for h in holds)
        steady = "" if doc.get("steadies", True) else "; never steadies"
        return f"{len(holds)} holds; truth: time under tension {tut} s{steady}"
    test = doc["test"]
    cadence = doc["cadence_per_min"]  # None for a single tap
    per_min = "" if cadence is None else f", {cadence:.1f} per min"
    return (f"{len(doc['reps'])} heel taps{per_min}; truth: "
            f"{test['category']}, items " + " ".join(f"{k}={v}" for k, v in test["items"].items()))
