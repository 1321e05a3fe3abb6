"""Raw vqf throughput: the yardstick for the whole analysis (issue 3, Speed).

Samples per second are counted per sensor sample: a 2-sensor signal of n
samples each is 2·n samples. The lead's whole-analysis benchmark divides its
own samples/s by :func:`vqf_throughput` in the same run for the ≥ 25 % ratio.
"""

from __future__ import annotations

import numpy as np
from vqf import VQF, offlineVQF

from analysis.orientation import estimate_orientation
from benchmarks.timing import best_of

RATE_HZ = 100.0
N_SENSORS = 2


def synthetic_imu(n_samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A moving, noisy sensor: gyr (n, 3) rad/s, acc (n, 3) m/s² (gravity + motion)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples) / RATE_HZ
    gyr = np.column_stack([np.sin(2 * np.pi * 0.4 * t), 0.5 * np.cos(2 * np.pi * 0.3 * t),
                           0.2 * np.sin(2 * np.pi * 0.1 * t)])
    acc = np.tile([0.0, 0.0, 9.81], (n_samples, 1)) + 0.5 * np.sin(t)[:, None]
    return gyr + rng.normal(0, 0.01, gyr.shape), acc + rng.normal(0, 0.05, acc.shape)


def _raw_vqf(gyr: np.ndarray, acc: np.ndarray, mode: str) -> None:
    if mode == "offline":
        offlineVQF(gyr, acc, None, 1.0 / RATE_HZ)
    else:
        VQF(1.0 / RATE_HZ).updateBatch(gyr, acc)


def vqf_throughput(
    n_samples: int, mode: str = "offline", repeats: int = 3, wrapper: bool = False,
) -> float:
    """The raw vqf filter on a synthetic 2-sensor signal, samples/s.

    n_samples: per sensor (at 100 Hz); mode "offline" (offlineVQF, what file
    analysis uses) or "causal" (VQF.updateBatch); best of ``repeats`` runs.
    wrapper=True goes through :func:`estimate_orientation` instead (input
    checks included). Returns N_SENSORS·n_samples / seconds.
    """
    sensors = [synthetic_imu(n_samples, seed) for seed in range(N_SENSORS)]

    def once() -> None:
        for gyr, acc in sensors:
            if wrapper:
                estimate_orientation(gyr, acc, RATE_HZ, mode=mode)
            else:
                _raw_vqf(gyr, acc, mode)
    return N_SENSORS * n_samples / best_of(once, repeats)[0]


def run() -> None:
    n = 360_000  # 1 h at 100 Hz per sensor
    print(f"vqf batch throughput, {N_SENSORS} sensors x {n} samples at {RATE_HZ:.0f} Hz (6D)")
    for mode in ("offline", "causal"):
        raw = vqf_throughput(n, mode)
        ours = vqf_throughput(n, mode, wrapper=True)
        print(f"  {mode:8s} raw vqf {raw / 1e6:5.2f} M samples/s, through analysis.orientation "
              f"{ours / 1e6:5.2f} M samples/s ({ours / raw:.0%})")


if __name__ == "__main__":
    run()
