"""open_examples.science: the Mathieu sweep against exact results, directly and through a worker."""

from __future__ import annotations

import math

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("scipy")

from open_examples import science  # noqa: E402

C = 0.1
TWO_PI = 2 * math.pi


def _exact_radius_without_pumping(delta: float, damping: float = C) -> float:
    """epsilon = 0: x'' + c x' + delta x = 0 has exponents the roots of l^2 + c l + delta."""
    disc = damping * damping / 4 - delta
    growth = -damping / 2 + (math.sqrt(disc) if disc > 0 else 0.0)
    return math.exp(TWO_PI * growth)



def test_without_pumping_the_radius_is_exact():
    delta = np.array([-0.3, -0.02, 0.001, 0.04, 1.0, 2.2])
    out = science.mathieu_batch(delta, np.zeros_like(delta), C)
    assert out.shape == (6, 5) and out.dtype == np.float64 and out.flags.c_contiguous
    assert out[:, 0].tolist() == delta.tolist() and out[:, 1].tolist() == [0.0] * 6
    expected = [_exact_radius_without_pumping(d) for d in delta]
    assert np.allclose(out[:, 2], expected, rtol=1e-7, atol=0)
    assert (out[:2, 2] > 1).all() and (out[2:, 2] < 1).all()   # only delta < 0 is unstable


def test_liouville_the_monodromy_determinant_is_exp_minus_c_t():
    rng = np.random.default_rng(7)
    delta = rng.uniform(-0.5, 2.5, 8)
    epsilon = rng.uniform(0.0, 2.0, 8)
    states = science._integrate(delta, epsilon, C, 1, 50, 1e-10, 1e-12)
    end = states[:, :, -1]
    det = end[0] * end[3] - end[2] * end[1]
    assert np.allclose(det, math.exp(-C * TWO_PI), rtol=1e-7)


def test_the_tongues_are_where_theory_puts_them():
    delta = np.array([0.25, 1.0, 1.5, -0.2, 0.6])
    epsilon = np.array([0.5, 1.2, 0.2, 0.0, 0.0])
    radius = science.mathieu_batch(delta, epsilon)[:, 2]
    # first and second tongues (delta = 1/4, 1) unstable; between them and without pumping stable
    assert radius[0] > 1 and radius[1] > 1
    assert radius[2] < 1 and radius[4] < 1
    assert radius[3] > 1


def test_a_batch_gives_what_each_set_gives_alone():
    rng = np.random.default_rng(3)
    delta = rng.uniform(-0.5, 2.5, 5)
    epsilon = rng.uniform(0.0, 2.0, 5)
    together = science.mathieu_batch(delta, epsilon)
    for i in range(5):
        alone = science.mathieu_batch(delta[i:i + 1], epsilon[i:i + 1])[0]
        scale = max(1.0, alone[3])
        assert together[i, 2] == pytest.approx(alone[2], rel=1e-6)
        assert together[i, 3] == pytest.approx(alone[3], rel=1e-6)
        assert abs(together[i, 4] - alone[4]) <= 1e-6 * scale


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="1-d arrays"):
        science.mathieu_batch([0.1, 0.2], [0.0])
    with pytest.raises(ValueError, match="1-d arrays"):
        science.mathieu_batch([], [])
    with pytest.raises(ValueError, match="finite"):
        science.mathieu_batch([math.nan], [0.0])
    with pytest.raises(ValueError, match="periods"):
        science.mathieu_batch([0.1], [0.0], periods=0)


def test_through_a_worker(start_worker):
    worker = start_worker(allow=["open_examples.*"])
    delta = np.linspace(-0.5, 2.44, 50)
    epsilon = np.full(50, 0.5)
    out = worker.run("open_examples.science:mathieu_batch", delta, epsilon, C, 4, 100)
    assert out.shape == (50, 5)
    assert np.allclose(out, science.mathieu_batch(delta, epsilon, C, 4, 100), rtol=1e-12)
