"""Row-wise arithmetic on (N, 3) series of vectors, written out per component.

``np.linalg.norm(v, axis=1)`` reduces over a length-3 axis and ``v @ u`` goes through a
BLAS call (threaded, and slow to start on a busy 2-core machine): on an hour's series both
cost 10-40x the same sums written out, which give the same numbers bit for bit (the same
products added in the same order).
"""

from __future__ import annotations

import numpy as np


def row_norms(v: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row: the numbers ``np.linalg.norm(v, axis=1)`` gives.

    Parameters
    ----------
    v : numpy.ndarray
        (N, 3) vectors, any unit.

    Returns
    -------
    numpy.ndarray
        (N,) norms, in the vectors' unit and dtype.
    """
    return np.sqrt(v[:, 0] * v[:, 0] + v[:, 1] * v[:, 1] + v[:, 2] * v[:, 2])


def row_dots(v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Dot product of each row with one vector: the numbers ``v @ u`` gives.

    Parameters
    ----------
    v : numpy.ndarray
        (N, 3) vectors.
    u : numpy.ndarray
        (3,) vector.

    Returns
    -------
    numpy.ndarray
        (N,) dot products, in the product of their units.
    """
    return v[:, 0] * u[0] + v[:, 1] * u[1] + v[:, 2] * u[2]
