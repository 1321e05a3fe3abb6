"""Shared fixtures: the seeded batch of simulated tests the accuracy tests use."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from analysis.pipeline import Analysis, analyze
from sensor_io.simulator import Simulation, simulate_batch

ACCURACY_BATCH_SIZE = 64
ACCURACY_SEED = 2026   # not the seed of any training set


@dataclass
class Evaluated:
    sim: Simulation
    analysis: Analysis


@pytest.fixture(scope="session")
def accuracy_batch() -> list[Evaluated]:
    """64 simulated tests across legs, sensor sets, profiles, rates, noise, gaps and
    fault patterns (partial reps, fidgets), each analysed once."""
    return [Evaluated(sim, analyze(sim.recording))
            for sim in simulate_batch(ACCURACY_BATCH_SIZE, seed=ACCURACY_SEED)]
