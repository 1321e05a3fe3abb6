"""Per-sensor clock models: put every sample on the host's common clock (s).

Two cases, as the protocols differ:

- :class:`DeviceClock` for protocols with device timestamps (Movesense, Polar): host time
  = device time + offset.  The offset follows the *least-latency* packet (arrival minus
  device time of its last sample: latency only ever adds), relaxes upward by at most
  ``drift_ppm`` so a slow device clock is followed, and moves down by slewing (at most
  ``slew`` s per s) so that mapped times never run backwards.
- :class:`HostRateClock` for protocols without timestamps (WitMotion): samples are
  counted and spaced 1/rate apart from an anchor set by the least-latency arrival; the
  rate is fitted to the arrivals (within ±2 % of nominal) and re-anchored on each change
  so times stay monotonic.  An arrival later than predicted by more than ``gap_s`` starts
  a new segment and reports the gap explicitly (never interpolated).  A single dropped
  notification inside BLE jitter cannot be seen without timestamps: it shifts later
  samples by one period until the rate fit absorbs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Gap:
    """Samples missing between start_s and end_s (host clock, s)."""

    start_s: float
    """Host time of the last sample before the gap, s."""
    end_s: float
    """Host time of the first sample after the gap, s."""


class DeviceClock:
    """Maps device timestamps (s) to host time (s).

    Parameters
    ----------
    drift_ppm : float
        The clock drift allowed for: how fast the offset may rise, ppm of device time.
    slew : float
        The fastest the offset moves down, s per s of device time.
    """

    def __init__(self, drift_ppm: float = 200.0, slew: float = 0.05) -> None:
        self.drift = drift_ppm * 1e-6
        self.slew = slew
        self.offset: float | None = None  # current host - device, s
        self._target = 0.0
        self._last_dev = 0.0

    def to_host(self, t_device: np.ndarray, arrival_s: float) -> np.ndarray:
        """Host times (N,) s of samples with device times t_device (N,) s that arrived
        (in one packet) at host time arrival_s.

        Parameters
        ----------
        t_device : numpy.ndarray
            Device times of the packet's samples, shape (N,), s.
        arrival_s : float
            Host time the packet arrived, s.

        Returns
        -------
        numpy.ndarray
            Host times, shape (N,), s.
        """
        t_device = np.asarray(t_device, dtype=float)
        if not len(t_device):
            return t_device
        cand = arrival_s - t_device[-1]
        if self.offset is None:
            self.offset = self._target = cand
            self._last_dev = t_device[0]
        dt = max(0.0, t_device[-1] - self._last_dev)
        self._target = min(self._target + self.drift * dt, cand)
        if self._target >= self.offset:
            offsets = np.full(len(t_device), self._target)
        else:  # slew down: never faster than `slew` s per s of device time
            elapsed = np.maximum(t_device - self._last_dev, 0.0)
            offsets = np.maximum(self._target, self.offset - self.slew * elapsed)
        self.offset = float(offsets[-1])
        self._last_dev = float(t_device[-1])
        return t_device + offsets


class HostRateClock:
    """Times untimed samples from their arrival times and a fitted rate.

    Parameters
    ----------
    rate_hz : float
        The nominal sample rate, Hz.
    gap_s : float, optional
        An arrival later than predicted by more than this (s) starts a new segment
        (default: 5 sample periods, at least 0.15 s).
    """

    def __init__(self, rate_hz: float, gap_s: float | None = None) -> None:
        self.nominal = rate_hz
        self.rate = rate_hz
        self.rate_frozen = False  # set by freeze_rate(): the count no longer measures the rate
        self.gap_s = gap_s if gap_s is not None else max(5.0 / rate_hz, 0.15)
        self.last_t: float | None = None  # time of the last sample, kept across restarts
        self.restart()

    def restart(self) -> None:
        """Forget the segment (after a reconnect): the next arrival anchors anew."""
        self._anchor_t: float | None = None
        self._anchor_k = 0
        self._k = 0  # samples in this segment
        self._first_arrival = 0.0
        self._first_idx = 0

    def ahead_s(self, n: int, arrival_s: float) -> float:
        """How far (s) past ``arrival_s`` the last of ``n`` samples arriving then would be
        timed.  Latency only delays samples, so a value well above 0 means the segment holds
        more samples than its rate has produced by then.  -inf when the arrival would start
        a new segment (none yet, or after a gap).

        Parameters
        ----------
        n : int
            The number of samples arriving.
        arrival_s : float
            Their host arrival time, s.

        Returns
        -------
        float
            Predicted time of the last sample minus ``arrival_s``, s; -inf for a new segment.
        """
        if self._anchor_t is None or n == 0:
            return -np.inf
        predicted_last = self._anchor_t + (self._k + n - 1 - self._anchor_k) / self.rate
        if arrival_s - predicted_last > self.gap_s:
            return -np.inf
        return predicted_last - arrival_s

    def to_host(self, n: int, arrival_s: float) -> tuple[np.ndarray, Gap | None]:
        """Host times (n,) s for n samples that arrived at arrival_s, and the gap that
        precedes them if one was detected.

        Parameters
        ----------
        n : int
            The number of samples that arrived.
        arrival_s : float
            Their host arrival time, s.

        Returns
        -------
        t : numpy.ndarray
            Host times, shape (n,), s.
        gap : Gap or None
            The gap before them (host clock, s), None when none was detected.
        """
        gap = None
        if n == 0:
            return np.zeros(0), None
        if self._anchor_t is not None:
            predicted_last = self._anchor_t + (self._k + n - 1 - self._anchor_k) / self.rate
            if arrival_s - predicted_last > self.gap_s:
                self.restart()
        if self._anchor_t is None:
            start = arrival_s - (n - 1) / self.rate
            if self.last_t is not None:
                start = max(start, self.last_t + 1.0 / self.rate)
                gap = Gap(self.last_t, start)
            self._anchor_t, self._anchor_k, self._first_arrival = start, 0, arrival_s
            self._first_idx = n - 1
        else:
            self._refit(n, arrival_s)
        idx = self._k + np.arange(n)
        t = self._anchor_t + (idx - self._anchor_k) / self.rate
        self._k += n
        self.last_t = float(t[-1])
        return t, gap

    def freeze_rate(self) -> None:
        """Keep the current rate from now on: the stream was caught delivering notifications
        twice, so its sample count over time would fit a rate up to 2 % too high."""
        self.rate_frozen = True

    def _refit(self, n: int, arrival_s: float) -> None:
        span = arrival_s - self._first_arrival
        if span < 2.0 or self.rate_frozen:
            return
        # samples first_idx..k+n-1 arrived over `span`; fit, bounded to ±2 % of nominal
        fitted = (self._k + n - 1 - self._first_idx) / span
        rate = float(np.clip(fitted, 0.98 * self.nominal, 1.02 * self.nominal))
        if abs(rate - self.rate) > 1e-4 * self.nominal:  # re-anchor: times stay monotonic
            last = self._anchor_t + (self._k - 1 - self._anchor_k) / self.rate
            self.rate = rate
            self._anchor_t, self._anchor_k = last, self._k - 1
