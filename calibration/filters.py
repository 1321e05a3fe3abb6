"""Zero-phase second-order Butterworth filters, without importing scipy.signal.

Calibration and analysis need two functions of scipy.signal, ``butter(2, ...,
output="sos")`` and ``sosfiltfilt``; importing scipy.signal brings scipy.stats,
interpolate, optimize and its windows with it (0.6 s of CPU, more than the whole analysis
of a 30 s test in a fresh process, issue 22). These give scipy's numbers to rounding
(tests/test_analysis/test_filters.py compares them): the same design (analogue prototype, frequency
pre-warping, bilinear transform), the same odd extension of 3 × (2 × sections + 1) samples
at both ends and the same steady-state initial conditions. Each section's recursion
``y[n] = r[n] - a1 y[n-1] - a2 y[n-2]`` runs in LAPACK as the forward substitution of a
banded lower-triangular system (``scipy.linalg.lapack.dtbtrs``; scipy.linalg is loaded
anyway, for scipy.spatial.transform).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.linalg.lapack import dtbtrs


@lru_cache(maxsize=32)
def butter2_sos(cutoff_hz: float | tuple[float, float], btype: str, fs_hz: float) -> np.ndarray:
    """``scipy.signal.butter(2, cutoff_hz, btype, fs=fs_hz, output="sos")``: (S, 6) sections
    [b0 b1 b2 1 a1 a2], designed once per arguments. btype: "lowpass", "highpass" (cutoff
    in Hz) or "bandpass" (cutoff (low, high) Hz); each below fs_hz / 2."""
    nyquist = fs_hz / 2.0
    wn = np.atleast_1d(np.asarray(cutoff_hz, dtype=float)) / nyquist
    if np.any(wn <= 0) or np.any(wn >= 1) or len(wn) != (2 if btype == "bandpass" else 1):
        raise ValueError(f"Butterworth {btype}: cutoff {cutoff_hz} Hz must lie in (0, {nyquist:g}) "
                         "Hz (two of them for a band-pass)")
    fs2 = 4.0  # scipy designs at fs = 2 and applies the bilinear transform with 2 fs
    warped = 4.0 * np.tan(np.pi * wn / 2.0)
    proto = -np.exp(1j * np.pi * np.array([-1.0, 1.0]) / 4.0)  # analogue poles, |p| = 1
    if btype == "lowpass":
        z, p, k = np.zeros(0), proto * warped[0], warped[0] ** 2
    elif btype == "highpass":
        z, p, k = np.zeros(2), warped[0] / proto, 1.0 / np.prod(-proto).real
    elif btype == "bandpass":
        bw, w0 = warped[1] - warped[0], np.sqrt(warped[0] * warped[1])
        half = proto * bw / 2.0
        root = np.sqrt(half ** 2 - w0 ** 2)
        z, p, k = np.zeros(2), np.concatenate([half + root, half - root]), bw ** 2
    else:
        raise ValueError(f"unknown filter type {btype!r}")
    zd = np.concatenate([(fs2 + z) / (fs2 - z), -np.ones(len(p) - len(z))]).real
    pd = (fs2 + p) / (fs2 - p)
    kd = k * np.real(np.prod(fs2 - z) / np.prod(fs2 - p))
    return _sections(np.sort(zd), pd, kd)


def _sections(zeros: np.ndarray, poles: np.ndarray, gain: float) -> np.ndarray:
    """Second-order sections from conjugate pole pairs (those nearest the unit circle last,
    as scipy orders them) and real zeros (the i-th smallest with the i-th largest); the
    gain in the first section."""
    upper = poles[poles.imag > 0]
    if 2 * len(upper) != len(poles):
        raise ValueError("Butterworth design: expected complex-conjugate poles only")
    upper = upper[np.argsort(np.abs(upper))]
    sos = np.zeros((len(upper), 6))
    for i, pk in enumerate(upper):
        z0, z1 = zeros[i], zeros[len(zeros) - 1 - i]
        sos[i, :3] = [1.0, -(z0 + z1), z0 * z1]
        sos[i, 3:] = [1.0, -2.0 * pk.real, abs(pk) ** 2]
    sos[0, :3] *= gain
    return sos


def sosfiltfilt(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``scipy.signal.sosfiltfilt(sos, x, axis=0)`` (default odd padding) for x (N,) or
    (N, K); N must exceed the padding, 3 × (2 × sections + 1) samples (ValueError)."""
    x = np.asarray(x, dtype=np.float64)
    column = x.ndim == 1
    x2 = x[:, None] if column else x
    ntaps = 2 * len(sos) + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    edge = 3 * ntaps
    if len(x2) <= edge:
        raise ValueError(f"The length of the input vector x must be greater than padlen, "
                         f"which is {edge}.")
    ext = np.concatenate([2 * x2[0] - x2[edge:0:-1], x2, 2 * x2[-1] - x2[-2:-(edge + 2):-1]]).T
    zi = _sosfilt_zi(sos)  # ext (K, M): each series contiguous, as LAPACK takes it
    y = _sosfilt(sos, np.ascontiguousarray(ext), zi, ext[:, 0])
    y = _sosfilt(sos, np.ascontiguousarray(y[:, ::-1]), zi, y[:, -1].copy())[:, ::-1]
    y = y[:, edge:-edge].T
    return np.ascontiguousarray(y[:, 0] if column else y)


def _sosfilt_zi(sos: np.ndarray) -> np.ndarray:
    """(S, 2) steady-state initial conditions of the cascade for a unit step input
    (scipy.signal.sosfilt_zi): each section's lfilter_zi scaled by the DC gain before it."""
    zi = np.empty((len(sos), 2))
    scale = 1.0
    for s, (b0, b1, b2, _, a1, a2) in enumerate(sos):
        zi0 = ((b1 - a1 * b0) + (b2 - a2 * b0)) / (1.0 + a1 + a2)
        zi[s] = scale * zi0, scale * ((b2 - a2 * b0) - a2 * zi0)
        scale *= (b0 + b1 + b2) / (1.0 + a1 + a2)
    return zi


def _sosfilt(sos: np.ndarray, x: np.ndarray, zi: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """The cascade over x (K, M) (K series of M samples, C order), starting each section
    from the state zi × x0 (x0: (K,)); (K, M) out."""
    y = x
    band = np.empty((3, x.shape[1]), order="F")  # LAPACK band storage, no copy
    band[0] = 1.0
    for (b0, b1, b2, _, a1, a2), (z1, z2) in zip(sos, zi, strict=True):
        r = b0 * y
        r[:, 1:] += b1 * y[:, :-1]
        r[:, 2:] += b2 * y[:, :-2]
        r[:, 0] += z1 * x0
        r[:, 1] += z2 * x0
        band[1], band[2] = a1, a2
        out, info = dtbtrs(band, r.T, uplo="L", diag="U", overwrite_b=1)  # r.T: Fortran order
        if info != 0:
            raise FloatingPointError(f"banded solve failed (LAPACK info {info})")
        y = out.T
    return y
