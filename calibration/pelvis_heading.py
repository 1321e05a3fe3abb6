"""The pelvis frame's heading from the guided knee bends, fused with the sacral skin normal.

The pelvis (sacral) sensor's frame is gravity plus the sensor's skin normal made
horizontal (:func:`calibration.segment_frames.frame_from_normal`). A strap tilted
sideways on the sacrum turns that frame's anterior axis about the vertical by psi, and
in every rep the pelvis's anterior tilt then leaks into its obliquity as
``-side * sin(psi) * tilt`` (docs/accuracy.md).

In the guided knee bends on both feet the pelvis tilts forward and back about its own
mediolateral axis while staying level, and the sacral sensor reads that tilt (more of it:
its soft tissue adds to it, about the same axis; :mod:`analysis.soft_tissue`). Seen in
the sensor's coordinates the world vertical then moves backwards along the pelvis's
sagittal plane, so the direction it moves in, made horizontal, is the pelvis's
anterior axis, independent of how the strap sits. Postural sway moves it sideways too
(about 0.2-0.8° of obliquity and whole-body lean): per bend that is an error of about
sway / tilt, which the sideways scatter of the vertical over the bends measures.

Each bend's deepest stretch gives one estimate of the heading; they are pooled by least
squares and their uncertainty taken from the sideways scatter (:func:`heading_from_bends`).
That estimate and the skin normal's (:data:`SKIN_NORMAL_HEADING_SD_DEG`) are combined by
inverse variance (:func:`fuse_heading`): a test whose bends sway much falls back to the
skin normal by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensor_io.vectors import row_dots

SKIN_NORMAL_HEADING_SD_DEG = 2.9
"""Standard uncertainty (deg) of the heading the sacral skin normal gives: the strap tilted
sideways on the sacrum by up to ±5° (uniform: sd 5/√3 = 2.9°; the simulator's
``MIDLINE_TRANSVERSE_TILT_DEG``, docs/simulator.md). An assumption about strapping, not a
measurement on people (docs/accuracy.md)."""
MIN_BEND_TILT_DEG = 2.0
"""A bend whose sensor tilts less than this (deg) at its deepest says nothing of the axis."""
DEEP_SHARE = 0.5
"""A bend's deepest stretch: its samples tilted more than this share of its largest tilt."""
MIN_RUN_SAMPLES = 5
"""Fewer consecutive deep samples are not a bend (a sway peak)."""


@dataclass(frozen=True)
class BendsHeading:
    """The pelvis's anterior axis from the guided bends, as a turn of the skin-normal frame."""

    psi_rad: float
    """Turn about the standing vertical (rad) from the skin-normal frame's anterior (x)
    toward its right (z) axis that puts x on the bends' tilt direction."""
    sd_rad: float
    """Its standard uncertainty (rad), from the sideways scatter of the vertical."""
    bends: int
    """Number of bends used."""
    tilt_deg: float
    """RMS of the bends' deepest tilts, deg (the sensor's, soft tissue included)."""


def tilt_components(R_sensor_seg: np.ndarray, vertical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How far the segment is tilted forward and sideways, sample by sample.

    Parameters
    ----------
    R_sensor_seg : numpy.ndarray
        (3, 3) a segment frame: columns x anterior, y up, z right, sensor coordinates.
    vertical : numpy.ndarray
        (M, 3) the world vertical in sensor coordinates (unit vectors).

    Returns
    -------
    tuple of numpy.ndarray
        (M,) forward and (M,) rightward components of the tilt (sines of the angles): an
        anterior tilt moves the vertical toward the segment's posterior, so the forward
        part is minus the vertical's x component.
    """
    v = np.asarray(vertical, dtype=np.float64)
    return -row_dots(v, R_sensor_seg[:, 0]), -row_dots(v, R_sensor_seg[:, 2])


def bend_means(forward: np.ndarray, sideways: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each bend's mean forward and sideways tilt over its deepest stretch.

    A bend is a run of at least :data:`MIN_RUN_SAMPLES` consecutive samples tilted forward
    more than :data:`DEEP_SHARE` of the largest forward tilt and more than
    :data:`MIN_BEND_TILT_DEG`.

    Parameters
    ----------
    forward : numpy.ndarray
        (M,) forward tilt (:func:`tilt_components`), in time order.
    sideways : numpy.ndarray
        (M,) sideways tilt.

    Returns
    -------
    tuple of numpy.ndarray
        (K,) forward and (K,) sideways means, one per bend (K may be 0).
    """
    if len(forward) == 0:
        return np.empty(0), np.empty(0)
    min_tilt = np.sin(np.deg2rad(MIN_BEND_TILT_DEG))
    deep = forward > max(min_tilt, DEEP_SHARE * float(forward.max()))
    edges = np.flatnonzero(np.diff(np.concatenate([[0], deep.astype(np.int8), [0]])))
    runs = [slice(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True)
            if b - a >= MIN_RUN_SAMPLES]
    return (np.array([forward[r].mean() for r in runs]),
            np.array([sideways[r].mean() for r in runs]))


def heading_from_bends(R_sensor_seg: np.ndarray, vertical: np.ndarray) -> BendsHeading | None:
    """The pelvis's anterior axis from the vertical's path in the sensor during the bends.

    Parameters
    ----------
    R_sensor_seg : numpy.ndarray
        (3, 3) the skin-normal frame (:func:`calibration.segment_frames.frame_from_normal`):
        columns x anterior, y up (the standing vertical), z right, sensor coordinates.
    vertical : numpy.ndarray
        (M, 3) the world vertical in sensor coordinates (unit vectors, from an orientation
        filter; heading-free) over the guided movement, in time order.

    Returns
    -------
    BendsHeading or None
        The heading and its uncertainty; None when no bend (:func:`bend_means`) tilts the
        sensor forward by :data:`MIN_BEND_TILT_DEG` or more.
    """
    forward, sideways = tilt_components(R_sensor_seg, vertical)
    a, b = bend_means(forward, sideways)
    if len(a) == 0:
        return None
    energy = float(a @ a)
    slope = float(a @ b) / energy
    # the sway's sideways scatter about the tilt line, over the whole movement
    scatter = float(np.std(sideways - slope * forward))
    return BendsHeading(float(np.arctan(slope)), scatter / np.sqrt(energy), len(a),
                        float(np.degrees(np.arcsin(np.sqrt(energy / len(a))))))


@dataclass(frozen=True)
class FusedHeading:
    """The skin normal's heading and the bends' combined by inverse variance."""

    psi_rad: float
    """Turn (rad) to apply to the skin-normal frame (as :attr:`BendsHeading.psi_rad`)."""
    sd_rad: float
    """Its standard uncertainty, rad."""
    weight: float
    """The bends' share of the result (0: the skin normal alone, 1: the bends alone)."""


def fuse_heading(bends: BendsHeading,
                 normal_sd_rad: float = float(np.deg2rad(SKIN_NORMAL_HEADING_SD_DEG))
                 ) -> FusedHeading:
    """Inverse-variance combination of the skin normal's heading (turn 0) and the bends'.

    Parameters
    ----------
    bends : BendsHeading
        The bends' estimate.
    normal_sd_rad : float
        The skin normal's standard uncertainty, rad.

    Returns
    -------
    FusedHeading
        The combined turn and its uncertainty.
    """
    w = normal_sd_rad ** 2 / (normal_sd_rad ** 2 + bends.sd_rad ** 2)
    return FusedHeading(w * bends.psi_rad, float(np.sqrt(w) * bends.sd_rad), float(w))


def turned_about_vertical(R_sensor_seg: np.ndarray, psi_rad: float) -> np.ndarray:
    """A segment frame turned about its y (vertical) axis, x toward z by ``psi_rad``.

    Parameters
    ----------
    R_sensor_seg : numpy.ndarray
        (3, 3) columns x, y, z in sensor coordinates.
    psi_rad : float
        The turn, rad.

    Returns
    -------
    numpy.ndarray
        (3, 3) the turned frame (right-handed, y unchanged).
    """
    x, y, z = R_sensor_seg[:, 0], R_sensor_seg[:, 1], R_sensor_seg[:, 2]
    c, s = np.cos(psi_rad), np.sin(psi_rad)
    return np.column_stack([c * x + s * z, y, c * z - s * x])
