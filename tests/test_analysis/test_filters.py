"""The signal functions an analysis uses without importing scipy.signal (issue 22) give
scipy.signal's numbers: cross-checked here against scipy.signal itself."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.signal as ss

from analysis.peaks import find_peaks, savgol_coeffs
from calibration.filters import butter2_sos, sosfiltfilt


@pytest.mark.parametrize("cutoff, btype, fs", [
    (4.0, "lowpass", 100.0), (4.0, "highpass", 100.0), (3.0, "lowpass", 52.0),
    ((0.2, 3.0), "bandpass", 100.0), ((0.2, 3.0), "bandpass", 208.333), (10.0, "lowpass", 200.0),
])
def test_zero_phase_butterworth_gives_scipys_numbers(cutoff, btype, fs):
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.standard_normal((3000, 3)), axis=0) + 5.0
    want = ss.sosfiltfilt(ss.butter(2, cutoff, btype, fs=fs, output="sos"), x, axis=0)
    got = sosfiltfilt(butter2_sos(cutoff, btype, fs), x)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-11 * np.abs(want).max())
    one = sosfiltfilt(butter2_sos(cutoff, btype, fs), x[:, 1])
    assert one.shape == (3000,)
    np.testing.assert_allclose(one, want[:, 1], rtol=0, atol=1e-11 * np.abs(want).max())


def test_low_and_high_pass_sections_are_scipys():
    for btype in ("lowpass", "highpass"):
        np.testing.assert_allclose(butter2_sos(4.0, btype, 100.0),
                                   ss.butter(2, 4.0, btype, fs=100.0, output="sos"), atol=1e-15)


def test_a_series_no_longer_than_the_padding_is_refused_as_scipy_does():
    sos = butter2_sos(4.0, "lowpass", 100.0)
    with pytest.raises(ValueError, match="greater than padlen, which is 9"):
        sosfiltfilt(sos, np.zeros(9))
    with pytest.raises(ValueError, match="greater than padlen"):
        ss.sosfiltfilt(ss.butter(2, 4.0, fs=100.0, output="sos"), np.zeros(9))
    assert sosfiltfilt(sos, np.ones(10)) == pytest.approx(np.ones(10))


@pytest.mark.parametrize("bad", [(0.0, "lowpass"), (50.0, "lowpass"), ((3.0,), "bandpass"),
                                 (4.0, "notch")])
def test_impossible_designs_are_refused(bad):
    with pytest.raises(ValueError):
        butter2_sos(bad[0], bad[1], 100.0)


def test_peaks_are_scipys_on_random_signals_with_flat_tops():
    rng = np.random.default_rng(1)
    for trial in range(200):
        x = np.cumsum(rng.standard_normal(int(rng.integers(20, 2000)))) * rng.uniform(0.1, 3.0)
        if trial % 3 == 0:
            x = np.round(x)  # flat tops and ties between peaks
        height, prominence, distance = rng.uniform(-5, 5), rng.uniform(0, 5), rng.uniform(1, 80)
        want, _ = ss.find_peaks(x, height=height, prominence=prominence, distance=distance)
        np.testing.assert_array_equal(find_peaks(x, height, prominence, distance), want)


@pytest.mark.parametrize("window, order", [(5, 2), (15, 2), (31, 3)])
def test_savgol_weights_are_scipys(window, order):
    np.testing.assert_allclose(savgol_coeffs(window, order), ss.savgol_coeffs(window, order),
                               atol=1e-14)
    for k in range(window // 2):
        np.testing.assert_allclose(savgol_coeffs(window, order, pos=k, use="dot"),
                                   ss.savgol_coeffs(window, order, pos=k, use="dot"), atol=1e-14)


def test_an_analysis_imports_no_scipy_signal_ndimage_spatial_or_pandas():
    code = ("import sys; import analysis.pipeline, sensor_io.recording_io, stepdown.commands.analyze; "
            "print(sorted(m for m in ('scipy.signal', 'scipy.ndimage', 'scipy.spatial', 'pandas', 'sklearn') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("n", [4, 5, 25, 26])
def test_moving_spread_is_scipy_ndimages_window(n):
    from scipy.ndimage import uniform_filter1d

    from calibration.standing import _moving_mean, _moving_std

    rng = np.random.default_rng(n)
    x = rng.standard_normal((3, 2000)) * 0.05 + np.array([[9.81], [0.2], [-1.0]])
    np.testing.assert_allclose(_moving_mean(x, n), uniform_filter1d(x, n, axis=-1, mode="nearest"),
                               rtol=0, atol=1e-11)  # the same window; sums to rounding
    m = uniform_filter1d(x, n, axis=-1, mode="nearest")
    m2 = uniform_filter1d(x * x, n, axis=-1, mode="nearest")
    want = np.sqrt(np.maximum(m2 - m * m, 0.0)).max(axis=0)
    np.testing.assert_allclose(_moving_std(list(x), n), want, rtol=0, atol=1e-9)


def test_savgol_smoothing_is_savgol_filters():
    from analysis.rep_segmentation import savgol_smooth

    x = np.cumsum(np.random.default_rng(2).standard_normal(700))
    np.testing.assert_allclose(savgol_smooth(x, 15, 2), ss.savgol_filter(x, 15, 2), atol=1e-10)
