"""Row-wise norms and dot products written out per component (sensor_io.vectors)."""

import numpy as np

from sensor_io.vectors import row_dots, row_norms


def test_row_norms_are_numpys_norms_bit_for_bit_in_either_precision():
    v = np.random.default_rng(0).normal(0.0, 9.81, (10_000, 3))
    assert np.array_equal(row_norms(v), np.linalg.norm(v, axis=1))
    v32 = v.astype(np.float32)
    assert row_norms(v32).dtype == np.float32
    assert np.array_equal(row_norms(v32), np.linalg.norm(v32, axis=1))


def test_row_dots_are_the_matrix_vector_product():
    rng = np.random.default_rng(1)
    v, u = rng.normal(size=(10_000, 3)), rng.normal(size=3)
    assert np.allclose(row_dots(v, u), v @ u, rtol=1e-14, atol=1e-14)
    assert row_dots(np.eye(3), u).tolist() == u.tolist()
