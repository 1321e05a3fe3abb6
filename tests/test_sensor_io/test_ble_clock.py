"""Clock models: device timestamps and counted samples onto the host clock."""

import numpy as np
import pytest

from sensor_io.clock import DeviceClock, HostRateClock


def test_device_clock_follows_least_latency_and_never_runs_backwards():
    rng = np.random.default_rng(1)
    clock = DeviceClock()
    offset = 50.0  # host - device, s
    out = []
    for k in range(400):  # 10 samples per packet at 100 Hz, 4 s
        t_dev = 1000.0 + (k * 10 + np.arange(10)) / 100.0
        latency = 0.005 + rng.exponential(0.02) + (0.08 if k == 0 else 0)  # slow first packet
        out.append(clock.to_host(t_dev, t_dev[-1] + offset + latency))
    t = np.concatenate(out)
    assert np.all(np.diff(t) > 0)
    truth = 1000.0 + np.arange(len(t)) / 100.0 + offset
    assert abs(t[0] - truth[0]) > 0.05  # the first packet's latency is seen at first...
    # ...and slewed away: what stays is the link's least latency (5 ms), which no host
    # can see; it is common to all sensors on the same radio
    assert np.max(np.abs(t[-100:] - truth[-100:] - 0.005)) < 0.0015


def test_device_clock_tracks_a_slow_device_clock():
    clock = DeviceClock(drift_ppm=200)
    drift = 100e-6  # the device clock runs slow by 100 ppm
    t_last = None
    for k in range(3000):  # 300 s, packets of 10 at 100 Hz
        t_host_true = (k * 10 + np.arange(10)) / 100.0
        t_dev = t_host_true * (1 - drift)
        t_last = clock.to_host(t_dev, t_host_true[-1] + 0.004)
    assert t_last[-1] == pytest.approx(t_host_true[-1], abs=0.005)


def test_host_rate_clock_spaces_samples_and_marks_gaps():
    clock = HostRateClock(rate_hz=100.0)
    times, gaps = [], []
    for k in range(300):  # one sample per notification, a 1 s hole at k = 150
        arrival = k / 100.0 + (1.0 if k >= 150 else 0.0) + 0.003
        t, gap = clock.to_host(1, arrival)
        times.append(t[0])
        if gap:
            gaps.append(gap)
    times = np.asarray(times)
    assert np.all(np.diff(times) > 0)
    assert len(gaps) == 1 and gaps[0].end_s - gaps[0].start_s == pytest.approx(1.0, abs=0.02)
    np.testing.assert_allclose(np.diff(times[:150]), 0.01, atol=1e-9)


def test_host_rate_clock_fits_a_fast_device_rate():
    clock = HostRateClock(rate_hz=100.0)
    true_rate = 101.0  # the device's crystal runs 1 % fast
    for k in range(0, 800, 4):
        t, _ = clock.to_host(4, (k + 3) / true_rate + 0.002)
    assert clock.rate == pytest.approx(true_rate, rel=2e-3)
    assert t[-1] == pytest.approx(803 / true_rate - 0.0, abs=0.02)
