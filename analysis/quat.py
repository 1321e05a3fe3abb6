"""Quaternions: the one convention of the project, as thin wrappers over scipy.

Convention (used everywhere in stepdown):

- A quaternion is a float array ``[w, x, y, z]`` (scalar first), unit norm.
  scipy's :class:`~scipy.spatial.transform.Rotation` stores ``[x, y, z, w]``;
  we convert only at this boundary (:func:`to_scipy`, :func:`from_scipy`).
- ``q_A_B`` is the orientation of frame B in frame A: it rotates
  B-coordinates into A-coordinates, ``v_A = qrotate(q_A_B, v_B)``.
  Example: ``q_global_sensor`` (what the orientation filter returns) maps a
  vector measured in the sensor frame into the global frame (z up).
- Composition chains frames: ``q_A_C = qmul(q_A_B, q_B_C)`` (Hamilton product).
- The relative orientation of ``q`` with respect to a reference pose is
  ``qrel(q_ref, q) = q_ref⁻¹ ⊗ q``: with ``q_ref = q_G_R`` and ``q = q_G_S``
  it is ``q_R_S``, the frame S seen from the reference frame R.
- Angles are in radians.

Every function takes one quaternion ``(4,)`` or a series ``(N, 4)`` and returns
the matching shape (``(N, 4)`` in, ``(N, 4)`` out; ``(4,)`` in, ``(4,)`` out;
scalars become ``()`` / ``(N,)``). A single quaternion combined with a series
broadcasts over the series. ``q`` and ``-q`` are the same rotation; results
are not sign-canonicalised unless said.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.transform import Rotation

__all__ = [
    "about_z", "angle", "axis_component", "axis_heading", "axis_of", "from_matrix", "from_rotvec",
    "from_scipy", "heading", "inclination", "interpolate",
    "normalise", "qconj", "qinv", "qmul", "qrel", "qrotate", "rotate_about_z", "to_matrix",
    "to_rotvec", "to_scipy", "turn_about_z",
]

FloatArray = NDArray[np.float64]


def _quat(q: ArrayLike) -> FloatArray:
    arr = np.asarray(q, dtype=np.float64)
    if arr.ndim not in (1, 2) or arr.shape[-1] != 4:
        raise ValueError(f"quaternion must have shape (4,) or (N, 4), got {arr.shape}")
    return arr


def to_scipy(q: ArrayLike) -> Rotation:
    """Quaternion(s) as a scipy Rotation, converted at this boundary only.

    Parameters
    ----------
    q : array_like
        (4,) or (N, 4) quaternion(s) ``[w, x, y, z]``.

    Returns
    -------
    scipy.spatial.transform.Rotation
        The rotation(s), normalised.
    """
    return Rotation.from_quat(_quat(q), scalar_first=True)


def from_scipy(rot: Rotation) -> FloatArray:
    """A scipy Rotation as quaternion(s).

    Parameters
    ----------
    rot : scipy.spatial.transform.Rotation
        One rotation or several.

    Returns
    -------
    numpy.ndarray
        ``[w, x, y, z]``, (4,) for a single rotation else (N, 4).
    """
    return np.asarray(rot.as_quat(scalar_first=True), dtype=np.float64)


def normalise(q: ArrayLike) -> FloatArray:
    """Unit quaternion(s).

    Parameters
    ----------
    q : array_like
        (4,) or (N, 4) quaternion(s) ``[w, x, y, z]``.

    Returns
    -------
    numpy.ndarray
        The same shape, unit norm; ValueError for a zero-norm quaternion.
    """
    arr = _quat(q)
    norm = np.sqrt(np.einsum("...i,...i->...", arr, arr))[..., None]  # 2x np.linalg.norm
    if not norm.all():
        raise ValueError("cannot normalise a zero quaternion")
    return arr / norm


def qmul(q1: ArrayLike, q2: ArrayLike) -> FloatArray:
    """Hamilton product ``q1 ⊗ q2``: ``qmul(q_A_B, q_B_C) = q_A_C``.

    Written out in numpy (not via scipy's Rotation, which was the analysis' hot spot; nor as
    a matrix product, whose multi-threaded BLAS call slowed everything after it on 2 cores).

    Parameters
    ----------
    q1 : array_like
        (4,) or (N, 4), ``[w, x, y, z]``.
    q2 : array_like
        (4,) or (N, 4); shapes broadcast.

    Returns
    -------
    numpy.ndarray
        The product, (4,) or (N, 4).
    """
    a, b = _quat(q1), _quat(q2)
    w1, x1, y1, z1 = np.moveaxis(a, -1, 0)
    w2, x2, y2, z2 = np.moveaxis(b, -1, 0)
    return np.stack([w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
                     w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                     w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
                     w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2], axis=-1)


def about_z(angle: ArrayLike) -> FloatArray:
    """Rotation about the z axis, ``from_rotvec([0, 0, angle])`` in closed form.

    Parameters
    ----------
    angle : array_like
        () or (N,) angle, rad.

    Returns
    -------
    numpy.ndarray
        (4,) for a scalar, (N, 4) for (N,).
    """
    half = 0.5 * np.asarray(angle, dtype=np.float64)
    zero = np.zeros_like(half)
    return np.stack([np.cos(half), zero, zero, np.sin(half)], axis=-1)


def turn_about_z(angle: ArrayLike, q: ArrayLike) -> FloatArray:
    """``qmul(about_z(angle), q)`` in closed form (half the products of a full qmul).

    Parameters
    ----------
    angle : array_like
        () or (N,) turn, rad.
    q : array_like
        (4,) or (N, 4) ``q_A_B``.

    Returns
    -------
    numpy.ndarray
        The frame B turned by ``angle`` about A's z axis (e.g. a heading change in a z-up
        global frame), (4,) or (N, 4).
    """
    half = 0.5 * np.asarray(angle, dtype=np.float64)
    c, s = np.cos(half), np.sin(half)
    w, x, y, z = np.moveaxis(_quat(q), -1, 0)
    return np.stack([c * w - s * z, c * x - s * y, c * y + s * x, c * z + s * w], axis=-1)


def rotate_about_z(angle: ArrayLike, v: ArrayLike) -> FloatArray:
    """``qrotate(about_z(angle), v)`` in closed form.

    Parameters
    ----------
    angle : array_like
        () or (N,) turn, rad.
    v : array_like
        (3,) or (N, 3) vectors, any unit.

    Returns
    -------
    numpy.ndarray
        The vectors turned about the z axis of the frame they are expressed in, same unit.
    """
    a = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    x, y, z = np.moveaxis(np.asarray(v, dtype=np.float64), -1, 0)
    return np.stack(np.broadcast_arrays(c * x - s * y, s * x + c * y, z), axis=-1)


def qconj(q: ArrayLike) -> FloatArray:
    """The conjugate; for unit quaternions the inverse.

    Parameters
    ----------
    q : array_like
        (4,) or (N, 4) quaternion(s) ``[w, x, y, z]``.

    Returns
    -------
    numpy.ndarray
        ``[w, -x, -y, -z]``: q_A_B -> q_B_A.
    """
    return _quat(q) * np.array([1.0, -1.0, -1.0, -1.0])


def qinv(q: ArrayLike) -> FloatArray:
    """The inverse rotation.

    Parameters
    ----------
    q : array_like
        (4,) or (N, 4) quaternion(s) ``[w, x, y, z]``.

    Returns
    -------
    numpy.ndarray
        The normalised conjugate: q_A_B -> q_B_A.
    """
    return qconj(normalise(q))


def qrotate(q: ArrayLike, v: ArrayLike) -> FloatArray:
    """Rotate vector(s): ``v_A = qrotate(q_A_B, v_B)``.

    Parameters
    ----------
    q : array_like
        (4,) or (N, 4) ``q_A_B``.
    v : array_like
        (3,) or (N, 3) vectors in B, any unit (kept).

    Returns
    -------
    numpy.ndarray
        The vectors in A: (3,) when both are single, else (N, 3).
    """
    # v + 2w (u × v) + u × (2 u × v), u the vector part, written out per component
    # (np.cross's generic-axis overhead dominated on the analysis' short series)
    w, x, y, z = np.moveaxis(normalise(q), -1, 0)
    vx, vy, vz = np.moveaxis(np.asarray(v, dtype=np.float64), -1, 0)
    tx, ty, tz = 2.0 * (y * vz - z * vy), 2.0 * (z * vx - x * vz), 2.0 * (x * vy - y * vx)
    return np.stack([vx + w * tx + (y * tz - z * ty),
                     vy + w * ty + (z * tx - x * tz),
                     vz + w * tz + (x * ty - y * tx)], axis=-1)


def axis_of(q: ArrayLike, k: int) -> FloatArray:
    """Frame B's k-th unit axis in A coordinates: ``qrotate(q_A_B, e_k)``.

    The k-th column of the rotation matrix in closed form.

    Parameters
    ----------
    q : array_like
        (4,) or (N, 4) ``q_A_B``.
    k : int
        0 for x, 1 for y, 2 for z.

    Returns
    -------
    numpy.ndarray
        (3,) or (N, 3) unit vectors.
    """
    _check_axis(k)
    wxyz = np.moveaxis(normalise(q), -1, 0)
    return np.stack([_MATRIX[i][k](*wxyz) for i in range(3)], axis=-1)


def axis_component(q: ArrayLike, k: int, i: int) -> FloatArray:
    """One coordinate of :func:`axis_of`, ``axis_of(q, k)[..., i]`` (the same numbers),
    without the other two.

    Parameters
    ----------
    q : array_like
        (4,) or (N, 4) ``q_A_B``.
    k : int
        Frame B's axis: 0 for x, 1 for y, 2 for z.
    i : int
        Its coordinate in A: 0 for x, 1 for y, 2 for z.

    Returns
    -------
    numpy.ndarray
        () or (N,), in [-1, 1].
    """
    _check_axis(k)
    _check_axis(i)
    return _MATRIX[i][k](*np.moveaxis(normalise(q), -1, 0))


def axis_heading(q: ArrayLike, k: int) -> FloatArray:
    """Heading of frame B's k-th axis in A's horizontal plane:
    ``arctan2(axis_of(q, k)[..., 1], axis_of(q, k)[..., 0])``, the same numbers.

    Parameters
    ----------
    q : array_like
        (4,) or (N, 4) ``q_A_B``, A with z up.
    k : int
        Frame B's axis: 0 for x, 1 for y, 2 for z.

    Returns
    -------
    numpy.ndarray
        () or (N,) rad in [-π, π], from A's x towards its y.
    """
    _check_axis(k)
    wxyz = np.moveaxis(normalise(q), -1, 0)
    return np.arctan2(_MATRIX[1][k](*wxyz), _MATRIX[0][k](*wxyz))


def _check_axis(k: int) -> None:
    if k not in (0, 1, 2):
        raise IndexError(f"axis index must be 0, 1 or 2, got {k}")


# The rotation matrix of a unit quaternion, entry by entry: _MATRIX[i][k](w, x, y, z) is row i,
# column k (column k is frame B's k-th axis in A coordinates).
_MATRIX = (
    (lambda w, x, y, z: 1 - 2 * (y * y + z * z), lambda w, x, y, z: 2 * (x * y - w * z),
     lambda w, x, y, z: 2 * (x * z + w * y)),
    (lambda w, x, y, z: 2 * (x * y + w * z), lambda w, x, y, z: 1 - 2 * (x * x + z * z),
     lambda w, x, y, z: 2 * (y * z - w * x)),
    (lambda w, x, y, z: 2 * (x * z - w * y), lambda w, x, y, z: 2 * (y * z + w * x),
     lambda w, x, y, z: 1 - 2 * (x * x + y * y)),
)


def qrel(q_ref: ArrayLike, q: ArrayLike) -> FloatArray:
    """Orientation relative to a reference: ``q_ref⁻¹ ⊗ q``.

    Parameters
    ----------
    q_ref : array_like
        (4,) or (N, 4) ``q_G_R``.
    q : array_like
        (4,) or (N, 4) ``q_G_S``.

    Returns
    -------
    numpy.ndarray
        ``q_R_S``.
    """
    return qmul(qinv(q_ref), q)


def angle(q: ArrayLike) -> FloatArray:
    """The rotation angle.

    Parameters
    ----------
    q : array_like
        (4,) or (N, 4) quaternion(s) ``[w, x, y, z]``.

    Returns
    -------
    numpy.ndarray
        Rad in [0, π]: () for (4,), (N,) for (N, 4).
    """
    return np.asarray(to_scipy(q).magnitude(), dtype=np.float64)


def from_matrix(mat: ArrayLike) -> FloatArray:
    """A rotation matrix as a quaternion.

    Parameters
    ----------
    mat : array_like
        (3, 3) or (N, 3, 3) ``R_A_B`` (``v_A = R_A_B @ v_B``).

    Returns
    -------
    numpy.ndarray
        ``q_A_B``, (4,) or (N, 4).
    """
    return from_scipy(Rotation.from_matrix(np.asarray(mat, dtype=np.float64)))


def to_matrix(q: ArrayLike) -> FloatArray:
    """A quaternion as a rotation matrix.

    Parameters
    ----------
    q : array_like
        (4,) or (N, 4) ``q_A_B``.

    Returns
    -------
    numpy.ndarray
        ``R_A_B``, (3, 3) or (N, 3, 3).
    """
    return np.asarray(to_scipy(q).as_matrix(), dtype=np.float64)


def from_rotvec(rotvec: ArrayLike) -> FloatArray:
    """A rotation vector as a quaternion.

    Parameters
    ----------
    rotvec : array_like
        (3,) or (N, 3) axis × angle, rad.

    Returns
    -------
    numpy.ndarray
        (4,) or (N, 4) ``[w, x, y, z]``.
    """
    return from_scipy(Rotation.from_rotvec(np.asarray(rotvec, dtype=np.float64)))


def to_rotvec(q: ArrayLike) -> FloatArray:
    """A quaternion as a rotation vector.

    Parameters
    ----------
    q : array_like
        (4,) or (N, 4) quaternion(s) ``[w, x, y, z]``.

    Returns
    -------
    numpy.ndarray
        (3,) or (N, 3) axis × angle, rad.
    """
    return np.asarray(to_scipy(q).as_rotvec(), dtype=np.float64)


def interpolate(t_new: ArrayLike, t: ArrayLike, q: ArrayLike) -> FloatArray:
    """Resample an orientation series.

    Normalised linear interpolation after making the signs continuous: between
    samples a few ms apart it equals slerp to well below 0.01°, at a fraction of
    the cost. Times outside [t[0], t[-1]] take the end values.

    Parameters
    ----------
    t_new : array_like
        (M,) times wanted, s.
    t : array_like
        (N,) times of the series, s, ascending.
    q : array_like
        (N, 4) the series, ``[w, x, y, z]``.

    Returns
    -------
    numpy.ndarray
        (M, 4) unit quaternions.
    """
    qs = _quat(q)
    w, x, y, z = qs[1:].T
    pw, px, py, pz = qs[:-1].T
    turned = w * pw + x * px + y * py + z * pz < 0
    if turned.any():  # a filter's output rarely needs it: no running count, no copy then
        qs = qs.copy()
        qs[1:][np.cumsum(turned) % 2 == 1] *= -1.0
    cols = [np.interp(t_new, t, qs[:, i]) for i in range(4)]
    # the norm as np.linalg.norm(axis=1) computes it, summed column by column (faster)
    norm = np.sqrt(cols[0] * cols[0] + cols[1] * cols[1] + cols[2] * cols[2] + cols[3] * cols[3])
    return np.stack([c / norm for c in cols], axis=-1)


def inclination(q: ArrayLike) -> FloatArray:
    """Tilt of a rotation away from the global vertical (z) axis.

    ``2·acos√(w² + z²)`` after normalising: the angle between the rotated and the
    original z axis. Unchanged by any heading (rotation about global z) applied
    on the left, so it is the meaningful part of an error without magnetometer.

    Parameters
    ----------
    q : array_like
        (4,) or (N, 4) quaternion(s) ``[w, x, y, z]``.

    Returns
    -------
    numpy.ndarray
        Rad in [0, π], () or (N,).
    """
    qn = normalise(q)
    wz = np.sqrt(qn[..., 0] ** 2 + qn[..., 3] ** 2)
    return 2.0 * np.arccos(np.clip(wz, 0.0, 1.0))


def heading(q: ArrayLike) -> FloatArray:
    """Heading part of a rotation, ``2·atan|z/w|``.

    Parameters
    ----------
    q : array_like
        (4,) or (N, 4) quaternion(s) ``[w, x, y, z]``.

    Returns
    -------
    numpy.ndarray
        Rad in [0, π], () or (N,).
    """
    qn = normalise(q)
    return 2.0 * np.arctan2(np.abs(qn[..., 3]), np.abs(qn[..., 0]))
