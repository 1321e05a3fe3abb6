"""Sensor orientation from gyroscope + accelerometer (+ optional magnetometer) with VQF.

A small API over the ``vqf`` package (Laidig & Seel 2023): we never hand-roll a filter.

- :func:`resample_uniform` puts a jittery stream with dropped samples onto the
  constant sample time vqf needs, and says which grid samples lie in gaps.
- :func:`estimate_orientation` runs the filter on a whole series, either
  ``"offline"`` (vqf's acausal ``offlineVQF``: forward-backward, best for files)
  or ``"causal"`` (``VQF.updateBatch``: exactly what a live stream gives).
- :class:`OrientationStream` is the causal filter for live use, fed chunk by
  chunk; it returns the same numbers as ``mode="causal"`` on the whole series.

Frames and units: inputs are in the sensor frame, gyr in rad/s, acc in m/s²
(specific force, gravity included), mag in µT (any consistent unit works).
Quaternions follow :mod:`analysis.quat` ([w x y z]): ``quat`` is
``q_global_sensor``, the sensor's orientation in a global frame with z up.
Without a magnetometer (6D) the heading of that global frame is arbitrary (it
is whatever the filter started with) and drifts slowly; only inclination is
absolute. With ``mag`` (9D) x points to magnetic north-ish (ENU-like).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from vqf import VQF, offlineVQF

from analysis import quat as quat_ops
from analysis.config import MAX_BRIDGE_S  # the default of AnalysisConfig.max_bridge_s
from analysis.quat import interpolate as interpolate_quat
from sensor_io.errors import InputError

__all__ = [
    "GAP_FACTOR", "MAX_BRIDGE_S", "Orientation", "OrientationStream", "PiecewiseOrientation",
    "estimate_orientation", "levelled_device", "pieces", "piecewise_orientation",
    "resample_rows", "resample_uniform", "vqf_param_names",
]

FloatArray = NDArray[np.float64]

GAP_FACTOR = 2.5
"""An interval between samples longer than GAP_FACTOR × the median is a gap."""


@dataclass(frozen=True)
class Orientation:
    """Filter output for N samples."""

    quat: FloatArray
    """(N, 4) [w x y z] q_global_sensor (z up; heading arbitrary in 6D)."""
    rest: NDArray[np.bool_]
    """(N,) bool, vqf's rest detection (sensor still)."""
    bias: FloatArray
    """(N, 3) rad/s, the filter's gyroscope bias estimate, sensor frame."""

    def __len__(self) -> int:
        return len(self.quat)


def vqf_param_names() -> tuple[str, ...]:
    """The tuning parameters vqf accepts.

    Returns
    -------
    tuple of str
        Their names (tauAcc, restBiasEstEnabled, ...).
    """
    return tuple(VQF(0.01).params.keys())


def resample_uniform(
    t: ArrayLike, *arrays: ArrayLike, rate_hz: float | None = None,
    offsets: Sequence[ArrayLike | None] | None = None,
) -> tuple[FloatArray, ...]:
    """Interpolate samples onto a uniform time grid.

    Inside a gap the values are the straight line between the samples on both sides: the
    filter keeps integrating a constant-ish rate there, so orientation (and anything
    measured) over masked samples is a guess that callers should not trust or should
    report as missing.

    Parameters
    ----------
    t : array_like
        (N,) s, strictly increasing (jitter and dropped samples allowed).
    *arrays : array_like
        Each (N,) or (N, K), sampled at t (e.g. gyr rad/s, acc m/s²).
    rate_hz : float, optional
        Grid rate, Hz; default the median sample rate, 1 / median(diff(t)).
    offsets : Sequence, optional
        One per array, None or (K,) taken off it (the numbers of resampling
        ``a - offset``, without making that copy of the series); default none.

    Returns
    -------
    tuple
        ``(t_uniform, *arrays_uniform, gap_mask)``: t_uniform (M,) s from t[0] on a
        constant step within [t[0], t[-1]], each array linearly interpolated to (M,) /
        (M, K), and gap_mask (M,) bool, True for grid samples that fall strictly inside a
        gap (an interval longer than GAP_FACTOR × the median interval). InputError (one
        line) for bad times or shapes.
    """
    t_arr = np.asarray(t, dtype=np.float64)
    if t_arr.ndim != 1 or len(t_arr) < 2:
        raise InputError(
            f"time must be a 1-D series of at least 2 samples, got shape {t_arr.shape}")
    if not np.all(np.isfinite(t_arr)):
        first = int(np.argmin(np.isfinite(t_arr)))
        raise InputError(f"time has a non-finite value at sample {first}")
    dt = np.diff(t_arr)
    if np.any(dt <= 0):
        raise InputError(f"time is not strictly increasing at sample {int(np.argmax(dt <= 0)) + 1}")
    data = [_samples(a) for a in arrays]
    for i, a in enumerate(data):
        if a.ndim not in (1, 2) or len(a) != len(t_arr):
            raise InputError(
                f"array {i} has shape {a.shape}; expected ({len(t_arr)},) or ({len(t_arr)}, K)")
    median_dt = float(np.median(dt))
    if rate_hz is None:
        rate_hz = 1.0 / median_dt
    if not rate_hz > 0:
        raise InputError(f"rate_hz must be positive, got {rate_hz}")
    n_grid = int(np.floor((t_arr[-1] - t_arr[0]) * rate_hz + 1e-9)) + 1
    t_u = t_arr[0] + np.arange(n_grid) / rate_hz
    j, w = _interp_weights(t_u, t_arr)  # once for all arrays, and with them:
    j_next, w_k = j + 1, {a.shape[1]: np.repeat(w, a.shape[1]).reshape(len(w), a.shape[1])
                          for a in data if a.ndim == 2}  # w per column of each width
    resampled = [_interp(j, w_k.get(a.shape[1], w) if a.ndim == 2 else w, a, off, j_next)
                 for a, off in zip(data, offsets or [None] * len(data), strict=True)]
    return (t_u, *resampled, _gap_mask(t_u, t_arr, dt > GAP_FACTOR * median_dt))


def _gap_mask(t_u: FloatArray, t: FloatArray, is_gap: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """(M,) bool: grid times t_u strictly inside an interval (t[i], t[i+1]) with is_gap[i]."""
    gaps = np.flatnonzero(is_gap)
    first = np.searchsorted(t_u, t[gaps], side="right")     # first grid sample after the gap opens
    stop = np.searchsorted(t_u, t[gaps + 1], side="left")   # first one at or after it closes
    mask = np.zeros(len(t_u), dtype=bool)
    for i, j in zip(first, stop, strict=True):
        mask[i:j] = True
    return mask


def _interp_weights(t_new: FloatArray, t: FloatArray) -> tuple[NDArray[np.intp], FloatArray]:
    """Where each new time falls among the samples, for linear interpolation.

    t_new: (M,) s, increasing, within [t[0], t[-1]] (up to rounding); t: (N,) s,
    strictly increasing, N >= 2. Returns j (M,) int and w (M,) in [0, 1] with
    t_new ≈ (1 - w) t[j] + w t[j + 1], so a value sampled at t is at t_new
    ``a[j] + w (a[j + 1] - a[j])`` (np.interp's number, to rounding).
    """
    # np.interp of the sample numbers finds every interval in one pass (it searches
    # from the previous hit; np.searchsorted's binary search per time is ~3x slower)
    pos = np.interp(t_new, t, np.arange(len(t), dtype=np.float64))
    j = np.minimum(pos.astype(np.intp), len(t) - 2)
    t_j = np.take(t, j)
    w = (t_new - t_j) / (np.take(t, j + 1) - t_j)
    return j, np.minimum(w, 1.0, out=w)  # like np.interp, no extrapolation past t[-1]


def resample_rows(t_new: FloatArray, t: FloatArray, arrays: Sequence[ArrayLike],
                  offsets: Sequence[ArrayLike | None]) -> Iterator[FloatArray]:
    """Each ``arrays[k] - offsets[k]`` at the times t_new, from only the samples around them,
    one array at a time (a generator: a caller that drops each holds one at a time).

    Parameters
    ----------
    t_new : numpy.ndarray
        (M,) s ascending, within [t[0], t[-1]].
    t : numpy.ndarray
        (N,) s, strictly increasing.
    arrays : Sequence of array_like
        Each (N,) or (N, K), sampled at t.
    offsets : Sequence
        Each a scalar or (K,), or None (nothing taken off).

    Yields
    ------
    numpy.ndarray
        (M,) or (M, K) each, linearly interpolated: the numbers :func:`resample_uniform`
        gives for ``a - offset`` at the same times, without making ``a - offset`` for the
        whole series.
    """
    j, w = _interp_weights(t_new, t)
    j_next = j + 1
    for a, offset in zip(arrays, offsets, strict=True):
        yield _interp(j, w, _samples(a), offset, j_next)


def _interp(j: NDArray[np.intp], w: FloatArray, a: FloatArray,
            offset: ArrayLike | None = None, j_next: NDArray[np.intp] | None = None
            ) -> FloatArray:
    """(N,) or (N, K) samples a (minus offset (K,)) -> (M,) or (M, K) at the times of
    :func:`_interp_weights`; w may come already repeated per column ((M, K)), and
    ``j_next`` is ``j + 1`` when the caller made it once for several arrays."""
    if a.ndim == 2 and w.ndim == 1:  # w repeated per column: a (M, K) x (M, 1) broadcast
        w = np.repeat(w, a.shape[1]).reshape(len(w), a.shape[1])  # is ~2x slower
    a_j = np.take(a, j, axis=0).astype(np.float64, copy=False)
    out = np.take(a, j + 1 if j_next is None else j_next, axis=0).astype(np.float64, copy=False)
    # a_j + w (a_j+1 - a_j), in place: two (M, K) arrays
    if offset is not None:  # the same numbers as taking from a - offset
        a_j -= offset
        out -= offset
    out -= a_j
    out *= w
    out += a_j
    return out


def _samples(a: ArrayLike) -> NDArray[np.floating]:
    """Samples as a float32 or float64 array, not copied when already one (a compact
    recording's, :func:`sensor_io.recording_io.read_recording`); interpolation works in
    float64 (:func:`_interp`)."""
    arr = np.asarray(a)
    return arr if arr.dtype in (np.float32, np.float64) else arr.astype(np.float64)


def _series3(name: str, a: ArrayLike, n: int | None = None) -> FloatArray:
    arr = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
    if arr.ndim != 2 or arr.shape[1] != 3 or (n is not None and len(arr) != n):
        want = f"({n}, 3)" if n is not None else "(N, 3)"
        raise InputError(f"{name} must have shape {want}, got {arr.shape}")
    if not np.isfinite(arr).all():
        bad = ~np.isfinite(arr).all(axis=1)
        raise InputError(f"{name} has a non-finite value at sample {int(np.argmax(bad))}")
    return arr


def _check_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    params = dict(params or {})
    known = vqf_param_names()
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise InputError(
            f"unknown vqf parameter(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return params


def _check_rate(rate_hz: float) -> float:
    if not (np.isfinite(rate_hz) and rate_hz > 0):
        raise InputError(f"rate_hz must be a positive number, got {rate_hz}")
    return float(rate_hz)


def _from_vqf(out: Mapping[str, np.ndarray], with_mag: bool) -> Orientation:
    quat = np.asarray(out["quat9D" if with_mag else "quat6D"], dtype=np.float64)
    return Orientation(
        quat=quat,
        rest=np.asarray(out["restDetected"], dtype=bool),
        bias=np.asarray(out["bias"], dtype=np.float64),
    )


def estimate_orientation(
    gyr: ArrayLike, acc: ArrayLike, rate_hz: float, mag: ArrayLike | None = None,
    mode: Literal["offline", "causal"] = "offline", params: Mapping[str, Any] | None = None,
) -> Orientation:
    """Orientation of one sensor over a uniformly sampled series.

    Parameters
    ----------
    gyr : array_like
        (N, 3) angular rate, rad/s, sensor frame, sampled at the constant ``rate_hz`` (use
        :func:`resample_uniform` first for real streams).
    acc : array_like
        (N, 3) specific force, m/s², sensor frame.
    rate_hz : float
        The sampling rate, Hz.
    mag : array_like, optional
        (N, 3) magnetic field, µT, sensor frame.
    mode : {"offline", "causal"}
        ``"offline"`` runs vqf's acausal offlineVQF (uses the whole series, so the start is
        as good as the rest); ``"causal"`` runs the real-time filter, identical to
        :class:`OrientationStream`.
    params : Mapping, optional
        vqf tuning by vqf's names (``tauAcc`` s, ``restBiasEstEnabled``, ...;
        :func:`vqf_param_names`); default vqf's own defaults.

    Returns
    -------
    Orientation
        quat (N, 4) q_global_sensor [w x y z], rest and bias; InputError (one line) for
        bad input.
    """
    rate_hz = _check_rate(rate_hz)
    gyr_a = _series3("gyr", gyr)
    acc_a = _series3("acc", acc, len(gyr_a))
    mag_a = None if mag is None else _series3("mag", mag, len(gyr_a))
    if len(gyr_a) == 0:
        raise InputError("no samples to estimate orientation from")
    params = _check_params(params)
    if mode == "offline":
        out = offlineVQF(gyr_a, acc_a, mag_a, 1.0 / rate_hz, params or None)
    elif mode == "causal":
        out = VQF(1.0 / rate_hz, **params).updateBatch(gyr_a, acc_a, mag_a)
    else:
        raise InputError(f"orientation mode must be 'offline' or 'causal', got {mode!r}")
    return _from_vqf(out, mag_a is not None)


class OrientationStream:
    """The causal VQF filter for live use, fed chunk by chunk.

    ``stream = OrientationStream(rate_hz=100.0)``; then for each chunk of new
    samples ``stream.update(gyr, acc)`` returns the :class:`Orientation` of just
    those samples (quat (n, 4) q_global_sensor). The filter state carries over
    between chunks, so the concatenated output equals
    ``estimate_orientation(..., mode="causal")`` on the whole series. Samples
    must be uniformly spaced at rate_hz (resample gaps before feeding).

    Parameters
    ----------
    rate_hz : float
        The sampling rate, Hz.
    use_mag : bool
        Feed the magnetometer too (9D).
    params : Mapping, optional
        vqf tuning by vqf's names (:func:`vqf_param_names`).
    """

    def __init__(
        self, rate_hz: float, use_mag: bool = False, params: Mapping[str, Any] | None = None,
    ) -> None:
        self.rate_hz = _check_rate(rate_hz)
        self.use_mag = use_mag
        self.params = _check_params(params)
        self._vqf = VQF(1.0 / self.rate_hz, **self.params)
        self.n_samples_ = 0

    def update(
        self, gyr: ArrayLike, acc: ArrayLike, mag: ArrayLike | None = None,
    ) -> Orientation:
        """Filter the next chunk.

        Parameters
        ----------
        gyr : array_like
            (n, 3) angular rate, rad/s, sensor frame.
        acc : array_like
            (n, 3) specific force, m/s², sensor frame.
        mag : array_like, optional
            (n, 3) magnetic field, µT; given exactly when ``use_mag``.

        Returns
        -------
        Orientation
            The orientation of just these samples.
        """
        gyr_a = _series3("gyr", gyr)
        acc_a = _series3("acc", acc, len(gyr_a))
        if self.use_mag != (mag is not None):
            need = "needs" if self.use_mag else "was created without"
            raise InputError(f"this orientation stream {need} magnetometer samples")
        mag_a = None if mag is None else _series3("mag", mag, len(gyr_a))
        if len(gyr_a) == 0:
            return Orientation(np.empty((0, 4)), np.empty(0, dtype=bool), np.empty((0, 3)))
        out = self._vqf.updateBatch(gyr_a, acc_a, mag_a)
        self.n_samples_ += len(gyr_a)
        return _from_vqf(out, self.use_mag)

    def reset(self) -> None:
        """Forget the filter state (start over from identity and zero bias)."""
        self._vqf.resetState()
        self.n_samples_ = 0


MIN_PIECE_SAMPLES = 10
"""A piece with fewer samples starts no orientation: it is left out, as a gap."""


def pieces(t: ArrayLike, max_bridge_s: float = MAX_BRIDGE_S) -> list[slice]:
    """The runs of samples with no interval longer than a bridge.

    Parameters
    ----------
    t : array_like
        (N,) sample times, s.
    max_bridge_s : float
        Longest interval inside a run, s.

    Returns
    -------
    list of slice
        The runs, in order.
    """
    t_arr = np.asarray(t, dtype=np.float64)
    cuts = np.flatnonzero(np.diff(t_arr) > max_bridge_s) + 1
    edges = np.concatenate([[0], cuts, [len(t_arr)]])
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)
            if b - a >= MIN_PIECE_SAMPLES]


def levelled_device(q_global_sensor: ArrayLike, acc: ArrayLike) -> FloatArray:
    """A device's own orientation over a stretch, levelled to its accelerometer.

    A device filter's inclination can be off by a different amount in each recording
    (Xsens thighs on CMU-MBL SUB22: -1.1..+5.0° between trials, clustered within one;
    docs/real_data.md "The thigh's standing offset"), which a zero taken from standing
    cannot take out. The stretch is turned about one horizontal axis so that the mean
    specific force it puts in the global frame points straight up: exact where the
    stretch's mean linear acceleration (its change of velocity over its length) is nil.
    The heading is kept.

    Parameters
    ----------
    q_global_sensor : array_like
        (N, 4) the device's q_global_sensor, [w, x, y, z], global z up.
    acc : array_like
        (N, 3) specific force, m/s², sensor frame, at the same samples.

    Returns
    -------
    numpy.ndarray
        (N, 4) q_global_sensor, every sample turned by the same rotation.
    """
    q = np.asarray(q_global_sensor, dtype=np.float64)
    mean_up = quat_ops.qrotate(q, np.asarray(acc, dtype=np.float64)).mean(axis=0)
    mean_up /= np.linalg.norm(mean_up)
    axis = np.cross(mean_up, [0.0, 0.0, 1.0])
    turn = quat_ops.from_rotvec(axis / max(float(np.linalg.norm(axis)), 1e-12)
                                * np.arctan2(np.linalg.norm(axis), mean_up[2]))
    return quat_ops.normalise(quat_ops.qmul(turn, q))


@dataclass(frozen=True)
class PiecewiseOrientation:
    """One sensor's orientation, each piece of it on its own uniform grid."""

    t_u: FloatArray
    """(M,) s: the pieces' grids one after the other (uniform inside a piece, a jump
    between pieces)."""
    quat: FloatArray
    """(M, 4) q_global_sensor, [w, x, y, z]."""
    acc: FloatArray | None
    """(M, 3) specific force, m/s², sensor frame, resampled (None when not kept)."""
    gyr: FloatArray | None
    """(M, 3) angular rate, rad/s, sensor frame, resampled (None when not kept)."""
    gap: NDArray[np.bool_]
    """(M,) bool, short gaps bridged inside a piece."""
    spans: list[tuple[float, float]]
    """Each piece's (t0, t1), s."""
    source: str
    """"device" (the file's own orientation output), "vqf 9D" or "vqf 6D"."""
    heading_shared: bool
    """False when each piece has its own arbitrary heading (6D), so a caller must align
    every piece's heading on its own."""
    runs: list[tuple[slice, slice]]
    """Each piece's rows of ``t_u`` and of the input samples."""


def piecewise_orientation(
    t: ArrayLike, gyr: ArrayLike, acc: ArrayLike, mag: ArrayLike | None = None,
    device_quat: ArrayLike | None = None, mode: Literal["offline", "causal"] = "offline",
    keep_signals: bool = True, gyr_bias: ArrayLike | None = None,
    max_bridge_s: float = MAX_BRIDGE_S, level_device: bool = False,
) -> PiecewiseOrientation:
    """Orientation never bridged across a gap longer than ``max_bridge_s``.

    Each piece (:func:`pieces`) starts its own orientation from what it holds: the
    device's orientation output when given (absolute: one heading for all pieces), else,
    when there is more than one piece, vqf with the magnetometer (9D, one heading), else
    vqf 6D (inclination from the accelerometer, heading arbitrary per piece).

    Parameters
    ----------
    t : array_like
        (N,) sample times, s.
    gyr : array_like
        (N, 3) angular rate, rad/s, sensor frame: bias removed, or minus ``gyr_bias`` when
        given (no bias-free copy of the series is then made).
    acc : array_like
        (N, 3) specific force, m/s², sensor frame.
    mag : array_like, optional
        (N, 3) magnetic field, µT, sensor frame.
    device_quat : array_like, optional
        (N, 4) the device's own q_global_sensor, [w, x, y, z].
    mode : {"offline", "causal"}
        The vqf filter (see :func:`estimate_orientation`).
    keep_signals : bool
        False: acc and gyr resampled are not kept (None; an hour at 200 Hz is 35 MB of
        them), :func:`resample_rows` gives them again where needed.
    gyr_bias : array_like, optional
        (3,) gyro bias, rad/s, sensor frame, taken off ``gyr``.
    max_bridge_s : float
        Longest silence the orientation is carried across, s.
    level_device : bool
        Level each piece of ``device_quat`` to its own accelerometer first
        (:func:`levelled_device`); offline only (it uses the whole piece), and nothing
        without ``device_quat``.

    Returns
    -------
    PiecewiseOrientation
        The pieces; InputError when no piece is long enough.
    """
    t_a = np.asarray(t, dtype=np.float64)
    runs = pieces(t_a, max_bridge_s)
    if not runs:
        raise InputError(f"no stretch of {MIN_PIECE_SAMPLES} samples without a gap longer than "
                         f"{max_bridge_s} s: too short to start an orientation")
    gyr_a, acc_a = _samples(gyr), _samples(acc)
    mag_a = None if mag is None else _samples(mag)
    dq = None if device_quat is None else np.asarray(device_quat, np.float64)
    # the magnetometer only carries the heading across gaps: indoors it is not trusted
    # where one continuous 6D piece does the job (DESIGN.md)
    use_mag = mag_a is not None and len(runs) > 1
    source = "device" if dq is not None else ("vqf 9D" if use_mag else "vqf 6D")
    out: list[tuple[FloatArray, ...]] = []
    rows: list[slice] = []
    for r in runs:
        extra = [mag_a[r]] if use_mag and dq is None else []
        t_u, gyr_u, acc_u, *mag_u, gap_u = resample_uniform(
            t_a[r], gyr_a[r], acc_a[r], *extra, offsets=[gyr_bias, None, *[None] * len(extra)])
        if dq is not None:
            q_dev = (levelled_device(dq[r], acc_a[r]) if level_device and mode == "offline"
                     else dq[r])
            q = interpolate_quat(t_u, t_a[r], q_dev)  # the device's own filter, resampled
        else:
            rate = 1.0 / float(t_u[1] - t_u[0])
            q = estimate_orientation(gyr_u, acc_u, rate, mag=mag_u[0] if mag_u else None,
                                     mode=mode).quat
        start = rows[-1].stop if rows else 0
        rows.append(slice(start, start + len(t_u)))
        out.append((t_u, q, acc_u, gyr_u, gap_u) if keep_signals else (t_u, q, gap_u))
        del acc_u, gyr_u  # not kept: freed before the next piece's are made
    cat = [parts[0] if len(parts) == 1 else np.concatenate(parts)
           for parts in zip(*out, strict=True)]
    if not keep_signals:
        cat = [cat[0], cat[1], None, None, cat[2]]
    spans = [(float(o[0][0]), float(o[0][-1])) for o in out]
    return PiecewiseOrientation(*cat, spans=spans, source=source,
                                heading_shared=source != "vqf 6D",
                                runs=list(zip(rows, runs, strict=True)))
