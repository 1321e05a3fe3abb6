"""Simulated test-retest pairs: one athlete tested, practising, and tested again in the
same session (:attr:`simulator.single_test.SimConfig.movement_seed`).

>>> first, retest = retest_pair(8500, ("pelvis", "thigh"))
>>> first.body == retest.body
True

The pair's truths give the true change of every measure (relative to each test's own
standing pose, as the analysis measures it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from sensor_io.recording import Recording
from simulator.scenario import PROFILES
from simulator.single_test import SEGMENT_CHOICES, SimConfig, Simulation, placement_name, simulate

RETEST_SENSORS = ("pelvis", "thigh", "shank", "trunk")
"""Every pair is simulated with these; :func:`with_sensors` gives a smaller set's recording."""
MOVEMENT_SEED_OFFSET = 1_000_000
"""The retest's ``movement_seed`` is the athlete's seed plus this."""


def retest_pair(seed: int, sensors: tuple[str, ...] = RETEST_SENSORS, **overrides
                ) -> tuple[Simulation, Simulation]:
    """A first test and its retest in the same session.

    Drawn from ``seed``: the test leg, the first test's profile, the retest's (the same, or
    one better after the practice, half of the time each), and each test's 3-8 reps with a
    partial rep and a fidget drawn; the retest is on the first test's step.

    Parameters
    ----------
    seed : int
        The athlete's seed (:attr:`SimConfig.seed`); the retest's movement seed is
        ``seed + MOVEMENT_SEED_OFFSET``.
    sensors : tuple of str
        Segments carrying a sensor, the same in both tests.
    **overrides
        SimConfig fields for both tests (e.g. ``calibration_movement=True``).

    Returns
    -------
    first, retest : Simulation
        The two simulated tests with their truths.
    """
    rng = np.random.default_rng([seed, 9])
    leg = str(rng.choice(["left", "right"]))
    k = int(rng.integers(0, len(PROFILES)))
    # PROFILES runs good, medium, poor: one better is one step towards good
    k_retest = max(k - 1, 0) if rng.random() < 0.5 else k
    reps = rng.integers(3, 9, 2)
    base = dict(seed=seed, test_leg=leg, sensors=sensors, partial_rep=None, fidget=None)
    first = simulate(SimConfig(**(base | {"profile": PROFILES[k], "n_reps": int(reps[0])}
                                  | overrides)))
    retest = simulate(SimConfig(**(base | {
        "profile": PROFILES[k_retest], "n_reps": int(reps[1]),
        "movement_seed": seed + MOVEMENT_SEED_OFFSET,
        "step_height_m": first.scenario.step_height_m} | overrides)))
    return first, retest


def with_sensors(rec: Recording, segments: tuple[str, ...]) -> Recording:
    """The recording with only the sensors on ``segments`` (the test leg's side).

    Parameters
    ----------
    rec : Recording
        A simulated recording.
    segments : tuple of str
        Segments kept (:data:`simulator.single_test.SEGMENT_CHOICES`).

    Returns
    -------
    Recording
        The same recording with fewer streams and their metadata.
    """
    keep = {placement_name(s, rec.test_leg) for s in segments if s in SEGMENT_CHOICES}
    return replace(rec, streams={n: s for n, s in rec.streams.items() if n in keep},
                   sensors_meta={n: m for n, m in rec.sensors_meta.items() if n in keep})


def retest_pairs(seeds: range, **overrides) -> Iterator[tuple[int, Simulation, Simulation]]:
    """:func:`retest_pair` for every seed in turn.

    Parameters
    ----------
    seeds : range
        The athletes' seeds.
    **overrides
        SimConfig fields for every test.

    Yields
    ------
    seed, first, retest
        The athlete's seed and the pair.
    """
    for seed in seeds:
        yield (seed, *retest_pair(seed, **overrides))
