"""A frozen sensor against the frozen-frame guard (sensor_io.frozen_frames).

On simulated tests (pelvis + thigh, seeds 0-7) the pelvis sensor repeats its fastest frame
of rep 3's descent for 4 s, as a hung sensor or BLE stack does. Prints, for the reps off
the frozen stretch, the shift of their pelvic drop against the same test unfrozen: with
the guard off (the repeats analysed as samples: vqf's offline pass takes them for rest)
and on (a gap). Then, guard off, the shift with the frozen frame's rate set to 1-20 °/s
(standing bias taken off): what a frame under the guard's limit still does.
"""

from __future__ import annotations

import numpy as np

from analysis.pipeline import StepDownPipeline
from sensor_io.recording import Recording, SensorStream
from simulator.single_test import SimConfig, Simulation, simulate

FROZEN_S = 4.0
SEEDS = range(8)
RATES_DPS = (1, 2, 3, 5, 10, 20)
GUARDED = StepDownPipeline().clone(classify=False)
UNGUARDED = GUARDED.clone(frozen={"min_s": 1e6})  # no run is that long: as before the guard


def freeze_mid_rep(sim: Simulation, rate_dps: float | None = None
                   ) -> tuple[Recording, int, np.ndarray]:
    """The test with its pelvis frozen for FROZEN_S from its fastest frame of rep 3's descent.

    Parameters
    ----------
    sim : Simulation
        A simulated test with a pelvis sensor and at least 3 reps.
    rate_dps : float, optional
        Set the frozen frame's |angular rate| to this, °/s above the pelvis's mean over the
        first 2 s (its direction kept); default the frame as it is.

    Returns
    -------
    tuple of (Recording, int, numpy.ndarray)
        The recording, the frame's row in the pelvis stream and the (N,) bool mask of
        its repeats.
    """
    p, rep3 = sim.recording.streams["pelvis"], sim.truth["reps"][2]
    descent = np.flatnonzero((p.t > rep3["start_s"]) & (p.t < rep3["bottom_s"]))
    i = int(descent[np.argmax(np.linalg.norm(p.gyr[descent], axis=1))])
    frame = p.gyr[i]
    if rate_dps is not None:
        frame = p.gyr[p.t < p.t[0] + 2.0].mean(axis=0) + p.gyr[i] / np.linalg.norm(
            p.gyr[i]) * np.radians(rate_dps)
    repeats = (p.t > p.t[i]) & (p.t < p.t[i] + FROZEN_S)
    acc, gyr = p.acc.copy(), p.gyr.copy()
    gyr[i] = frame
    acc[repeats], gyr[repeats] = acc[i], frame
    streams = {**sim.recording.streams, "pelvis": SensorStream(p.t, acc, gyr)}
    return Recording(streams, sim.recording.test_leg, athlete=sim.recording.athlete), i, repeats


def shifts_off_the_freeze(clean: dict, frozen: dict, t0: float) -> dict[float, float]:
    """Pelvic drop (°) of each rep off the frozen stretch minus the unfrozen test's.

    Parameters
    ----------
    clean : dict
        The analysis document of the unfrozen test.
    frozen : dict
        That of the frozen one.
    t0 : float
        The frozen frame's time, s (the stretch is FROZEN_S long).

    Returns
    -------
    dict of float to float
        The unfrozen rep's bottom time (s) -> the shift (°), for the reps of the frozen
        test that end before the stretch or start after it (matched within 0.5 s).
    """
    out = {}
    for rep in frozen["reps"]:
        if not (rep["end_s"] < t0 or rep["start_s"] > t0 + FROZEN_S):
            continue
        match = min(clean["reps"], key=lambda r: abs(r["bottom_s"] - rep["bottom_s"]))
        if abs(match["bottom_s"] - rep["bottom_s"]) <= 0.5:
            out[match["bottom_s"]] = (rep["measures"]["pelvic_drop_deg"]
                                      - match["measures"]["pelvic_drop_deg"])
    return out


def _summary(shifts: list[float]) -> str:
    a = np.abs(shifts)
    return (f"{len(a)} reps, |shift| median {np.median(a):.2f}, p90 {np.quantile(a, 0.9):.2f}, "
            f"max {a.max():.2f} deg; {int(np.sum(a > 0.1))} above 0.1")


def run() -> None:
    """Print the shifts with the guard off and on, then against the frozen frame's rate."""
    before, after = [], []
    for seed in SEEDS:
        sim = simulate(SimConfig(seed=seed, sensors=("pelvis", "thigh")))
        clean = GUARDED.analyze(sim.recording).to_json()
        rec, i, _ = freeze_mid_rep(sim)
        t0 = float(rec.streams["pelvis"].t[i])
        off = shifts_off_the_freeze(clean, UNGUARDED.analyze(rec).to_json(), t0)
        on = shifts_off_the_freeze(clean, GUARDED.analyze(rec).to_json(), t0)
        rate = np.degrees(np.linalg.norm(rec.streams["pelvis"].gyr[i]))
        print(f"seed {seed}: frame {rate:.1f} deg/s at {t0:.1f} s; pelvic drop shift off the "
              f"freeze, guard off {np.round(list(off.values()), 2)}, on "
              f"{np.round(list(on.values()), 2)}")
        before += off.values()
        after += on.values()
    print(f"guard off: {_summary(before)}")
    print(f"guard on:  {_summary(after)}")
    for seed in (21, 1, 2):
        sim = simulate(SimConfig(seed=seed, sensors=("pelvis", "thigh")))
        clean = GUARDED.analyze(sim.recording).to_json()
        row = []
        for rate_dps in RATES_DPS:
            rec, i, _ = freeze_mid_rep(sim, rate_dps)
            off = shifts_off_the_freeze(clean, UNGUARDED.analyze(rec).to_json(),
                                        float(rec.streams["pelvis"].t[i]))
            row.append(f"{rate_dps} deg/s: {np.max(np.abs(list(off.values()))):.2f}")
        print(f"seed {seed}, guard off, max |shift| by the frozen frame's rate: {', '.join(row)}")
