# Copyright 2026 Huawei Technologies Co., Ltd
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
# http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
# ============================================================================
"""Tests of the exact Cole-Hopf solution used as the Burgers PINN reference."""
import os

import numpy as np
import pytest
from scipy import integrate, optimize

from src.exact_solution import (DEFAULT_NU, burgers_exact, load_or_compute_reference, reference_cache_path,
                                reference_grid)

# Scattered points: early times, smooth regions, and the steep front around x = 0 for t in [0.3, 1].
SCATTERED_POINTS = [
    (-0.75, 0.05), (0.2, 0.05), (-0.02, 0.05), (0.5, 0.045), (-0.4, 0.001),
    (0.05, 0.15), (-0.95, 0.2), (0.001, 0.3), (-0.003, 0.35), (-0.6, 0.45),
    (0.0005, 0.5), (-0.0012, 0.51), (0.33, 0.6), (0.002, 0.75), (0.9, 0.8),
    (-0.01, 0.9), (-0.0001, 1.0), (0.004, 1.0), (0.7, 0.999), (0.0, 0.7),
]


def _cole_hopf_by_adaptive_quadrature(x, t, nu=DEFAULT_NU):
    """Cole-Hopf quotient in the original variable eta, integrated by QUADPACK instead of Gauss-Hermite."""
    inv_two_pi_nu = 1.0 / (2.0 * np.pi * nu)
    kernel_var = 4.0 * nu * t

    def exponent(eta):
        return -inv_two_pi_nu * np.cos(np.pi * (x - eta)) - eta ** 2 / kernel_var

    # exponent - max <= 2/(2 pi nu) - eta^2/(4 nu t), so beyond this half-width the integrands are below e^-60.
    half_width = np.sqrt(kernel_var * (2.0 * inv_two_pi_nu + 60.0))
    grid = np.linspace(-half_width, half_width, 20001)
    values = exponent(grid)
    shift = values.max()
    # Tell QUADPACK where the (possibly two) sharp peaks are.
    interior = values[1:-1]
    peaks = grid[1:-1][(interior >= values[:-2]) & (interior >= values[2:])]

    def integral(weight, epsabs):
        return integrate.quad(lambda eta: weight(eta) * np.exp(exponent(eta) - shift), -half_width, half_width,
                              points=peaks, limit=400, epsabs=epsabs, epsrel=1e-12)[0]

    denominator = integral(lambda eta: 1.0, 0.0)
    # The numerator vanishes where u does, so ask for absolute accuracy relative to the denominator instead.
    numerator = integral(lambda eta: np.sin(np.pi * (x - eta)), 1e-13 * denominator)
    return -numerator / denominator


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_matches_adaptive_quadrature():
    """
    Feature: exact Burgers solution by Gauss-Hermite quadrature of the Cole-Hopf integrals.
    Description: compare burgers_exact at 20 scattered points, including the steep front near x = 0, with an
        independent scipy.integrate.quad evaluation of the same integrals in the original variable.
    Expectation: agreement to 1e-9 absolute (measured ~1e-15).
    """
    x = np.array([p[0] for p in SCATTERED_POINTS])
    t = np.array([p[1] for p in SCATTERED_POINTS])
    expected = np.array([_cole_hopf_by_adaptive_quadrature(xi, ti) for xi, ti in SCATTERED_POINTS])
    actual = burgers_exact(x, t)
    assert actual.dtype == np.float64
    np.testing.assert_allclose(actual, expected, rtol=0.0, atol=1e-9)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_quadrature_converged():
    """
    Feature: convergence of the Gauss-Hermite rule.
    Description: evaluate the reference grid with the default 200 nodes and with 120 nodes.
    Expectation: both agree to 1e-12, so the default rule is converged on the whole domain.
    """
    x = np.linspace(-1.0, 1.0, 129)
    t = np.linspace(0.0, 1.0, 21)
    fine = burgers_exact(x[None, :], t[:, None])
    coarse = burgers_exact(x[None, :], t[:, None], quad_points=120)
    np.testing.assert_allclose(coarse, fine, rtol=0.0, atol=1e-12)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_initial_and_boundary_conditions():
    """
    Feature: initial and boundary conditions of the exact solution.
    Description: evaluate at t = 0, at t -> 0+, and at x = -1, 1 for times in (0, 1].
    Expectation: u(x, 0) = -sin(pi x) exactly, u(x, 1e-10) matches it to 1e-8, u(+-1, t) = 0 to 1e-12.
    """
    x = np.linspace(-1.0, 1.0, 201)
    np.testing.assert_array_equal(burgers_exact(x, 0.0), -np.sin(np.pi * x))
    np.testing.assert_allclose(burgers_exact(x, 1e-10), -np.sin(np.pi * x), rtol=0.0, atol=1e-8)
    t = np.linspace(1e-3, 1.0, 50)
    for edge in (-1.0, 1.0):
        np.testing.assert_allclose(burgers_exact(edge, t), 0.0, rtol=0.0, atol=1e-12)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_broadcasting_and_grid():
    """
    Feature: shapes and symmetry of burgers_exact and reference_grid.
    Description: broadcast a column of times against a row of positions and build a small reference grid.
    Expectation: float64 outputs of the broadcast shape, the grid matches burgers_exact, and u is odd in x.
    """
    x = np.linspace(-1.0, 1.0, 7)
    t = np.array([[0.0], [0.25], [1.0]])
    u = burgers_exact(x, t)
    assert u.shape == (3, 7) and u.dtype == np.float64
    assert np.ndim(burgers_exact(0.3, 0.4)) == 0
    grid_x, grid_t, grid_u = reference_grid(nx=33, nt=11)
    assert grid_x.shape == (33,) and grid_t.shape == (11,) and grid_u.shape == (11, 33)
    np.testing.assert_array_equal(grid_u, burgers_exact(grid_x[None, :], grid_t[:, None]))
    np.testing.assert_allclose(grid_u, -grid_u[:, ::-1], rtol=0.0, atol=1e-12)
    with pytest.raises(ValueError):
        burgers_exact(0.0, -0.1)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_steepest_gradient_value():
    """
    Feature: the classical benchmark value of the Burgers shock.
    Description: minimise du/dx(0, t) over t, with du/dx from a central difference of burgers_exact.
    Expectation: the steepest slope is -152.00516 at t = 1.6037/pi (Basdevant et al. 1986).
    """
    step = 1e-6

    def slope_at_origin(t):
        return (burgers_exact(step, t) - burgers_exact(-step, t)) / (2.0 * step)

    result = optimize.minimize_scalar(slope_at_origin, bounds=(0.4, 0.6), method="bounded",
                                      options={"xatol": 1e-9})
    assert result.fun == pytest.approx(-152.00516, abs=2e-5)
    assert result.x * np.pi == pytest.approx(1.6037, abs=2e-4)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_cache_round_trip_and_recovery(tmp_path):
    """
    Feature: on-disk cache of the reference grid.
    Description: compute into an empty directory, load it again, then corrupt the file (garbage bytes, then a
        valid archive with wrong contents) and load once more.
    Expectation: the cached arrays equal a fresh computation bit for bit, and corrupt files are recomputed and
        rewritten.
    """
    nx, nt = 33, 11
    cache_dir = tmp_path / "cache"
    fresh = reference_grid(nx, nt)
    path = reference_cache_path(cache_dir, nx, nt)
    assert str(nx) in path and str(nt) in path

    first = load_or_compute_reference(cache_dir, nx, nt)
    assert os.path.isfile(path)
    second = load_or_compute_reference(cache_dir, nx, nt)
    for expected, got_first, got_second in zip(fresh, first, second):
        np.testing.assert_array_equal(got_first, expected)
        np.testing.assert_array_equal(got_second, expected)

    with open(path, "wb") as handle:
        handle.write(b"not an npz archive")
    for expected, got in zip(fresh, load_or_compute_reference(cache_dir, nx, nt)):
        np.testing.assert_array_equal(got, expected)

    np.savez(path, x=np.zeros(nx), t=np.zeros(nt), u=np.zeros((nt, nx)))
    for expected, got in zip(fresh, load_or_compute_reference(cache_dir, nx, nt)):
        np.testing.assert_array_equal(got, expected)
    with np.load(path) as data:
        np.testing.assert_array_equal(data["u"], fresh[2])
