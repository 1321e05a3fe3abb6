"""Journal: write and recover throughput, and what damage costs.

1. A 30-minute, 3-sensor session at 100 Hz (a raw notification and a 4-sample block per
   packet, as the live loop writes them): append rate, bytes per sample, and the time
   `recover` takes to rebuild the recording from it.
2. Damage to a 60 s journal of the same kind, each case on a fresh copy: a flipped bit
   in the magic, the first 4 kB zeroed, 1 kB of garbage in the middle, a torn tail, 20
   random 1-byte hits: samples recovered, samples reported lost (exact, per sensor) and
   whether the two add up to what was written.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from sensor_io.recorder import Recorder, recording_from_journal

SENSORS = ("pelvis", "thigh_left", "shank_left")


def _write(path: Path, seconds: float) -> tuple[Recorder, float]:
    rec = Recorder(path, test_leg="left")
    acc, gyr, raw = np.zeros((4, 3)), np.zeros((4, 3)), bytes(range(60))
    t0 = time.perf_counter()
    for i in range(int(seconds * 100 / 4)):
        t = i * 0.04 + np.arange(4) * 0.01
        for s in SENSORS:
            rec.add_raw(s, "uuid", float(t[-1]), raw)
            rec.add_samples(s, t, acc + i % 7, gyr)
    rec.close()
    return rec, time.perf_counter() - t0


def _damage_cases(data: bytes) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    mid = len(data) // 2
    hits = bytearray(data)
    for at in rng.integers(8, len(data) - 200, 20):
        hits[at] ^= 0x10
    return {
        "flipped bit in the magic": bytes([data[0] ^ 1]) + data[1:],
        "first 4 kB zeroed": bytes(4096) + data[4096:],
        "1 kB garbage mid-file": data[:mid] + rng.integers(0, 256, 1024, dtype=np.uint8).tobytes()
        + data[mid + 1024:],
        "torn tail (last 700 B)": data[:-700],
        "20 random bit flips": bytes(hits),
    }


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "30min.sdj"
        _, write_s = _write(big, 1800.0)
        samples = 1800 * 100 * len(SENSORS)
        t0 = time.perf_counter()
        rec, _ = recording_from_journal(big)
        read_s = time.perf_counter() - t0
        size = big.stat().st_size
        print(f"30 min, 3 sensors at 100 Hz: written in {write_s:.1f} s "
              f"({samples / write_s:,.0f} samples/s), {size / 1e6:.0f} MB "
              f"({size / samples:.0f} B per sample); recover reads it in {read_s:.1f} s "
              f"({sum(len(s) for s in rec.streams.values()):,} samples)")
        small = Path(tmp) / "60s.sdj"
        written, _ = _write(small, 60.0)
        data = small.read_bytes()
        for name, damaged in _damage_cases(data).items():
            path = Path(tmp) / "damaged.sdj"
            path.write_bytes(damaged)
            rec, report = recording_from_journal(path)
            kept = {s: len(rec.streams.get(s, ())) for s in SENSORS}
            lost = {s: sum(sp.samples for sp in report.lost if sp.sensor == s) for s in SENSORS}
            adds_up = all(kept[s] + lost[s] == written.kept[s] for s in SENSORS)
            print(f"{name:26s}: kept {sum(kept.values()):5d}, reported lost "
                  f"{sum(lost.values()):4d} of {sum(written.kept.values())} samples; "
                  f"kept + lost = written: {'yes' if adds_up else 'no (the tail: unknown)'}"
                  f"{'' if report.closed else '; not closed cleanly'}")
