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
"""Exact solution of the viscous Burgers equation used as the PINN reference.

The problem is

    u_t + u u_x = nu u_xx,  x in [-1, 1], t in [0, 1],
    u(x, 0) = -sin(pi x),  u(-1, t) = u(1, t) = 0,  nu = 0.01 / pi.

The Cole-Hopf transform u = -2 nu phi_x / phi turns it into the heat equation phi_t = nu phi_xx with
phi(x, 0) = f(x) = exp(-cos(pi x) / (2 pi nu)) (up to a constant factor, which cancels). Convolving with the heat
kernel and using f'(y) = f(y) sin(pi y) / (2 nu) gives (Basdevant et al., Computers & Fluids 14, 1986)

    u(x, t) = - int sin(pi (x - eta)) f(x - eta) exp(-eta^2 / (4 nu t)) d eta
                / int f(x - eta) exp(-eta^2 / (4 nu t)) d eta.

With eta = sqrt(4 nu t) s both integrals become Gauss-Hermite integrals in s. Because f is 2-periodic and even,
the integrand of the numerator is odd in eta at x = +-1, so the boundary conditions hold by symmetry.

The solution is computed here rather than downloaded, so the reference is reproducible from the source alone.
"""
import functools
import os
import tempfile
import zipfile

import numpy as np

DEFAULT_NU = 0.01 / np.pi
# 100 nodes already agree with adaptive quadrature to ~1e-15 for nu = 0.01/pi on t in [0, 1]; 200 leaves margin.
DEFAULT_QUAD_POINTS = 200
# Points evaluated per vectorised block, so memory stays at a few tens of MB whatever the grid size.
_CHUNK = 8192


@functools.lru_cache(maxsize=8)
def _hermite_rule(quad_points):
    """Gauss-Hermite nodes and log-weights, cached because building the rule costs O(n^2)."""
    if int(quad_points) != quad_points or quad_points < 2:
        raise ValueError(f"quad_points must be an integer >= 2, got {quad_points!r}")
    with np.errstate(all="ignore"):
        nodes, weights = np.polynomial.hermite.hermgauss(int(quad_points))
    # numpy's rule overflows beyond roughly 360 nodes; refuse rather than return NaN.
    if not (np.all(np.isfinite(weights)) and np.all(weights > 0)):
        raise ValueError(f"Gauss-Hermite rule with {quad_points} nodes is numerically unusable; use fewer nodes")
    log_weights = np.log(weights)
    nodes.setflags(write=False)
    log_weights.setflags(write=False)
    return nodes, log_weights


def _cole_hopf_block(x, t, nu, nodes, log_weights):
    """Evaluate the Cole-Hopf quotient for 1-D arrays x, t (all t > 0)."""
    y = x[:, None] - np.sqrt(4.0 * nu * t)[:, None] * nodes[None, :]
    # log of w_i * f(y_i); f reaches exp(1/(2 pi nu)), so shift by the row maximum before exponentiating.
    log_terms = log_weights[None, :] - np.cos(np.pi * y) / (2.0 * np.pi * nu)
    log_terms -= log_terms.max(axis=1, keepdims=True)
    terms = np.exp(log_terms)
    return -np.sum(np.sin(np.pi * y) * terms, axis=1) / np.sum(terms, axis=1)


def burgers_exact(x, t, nu=DEFAULT_NU, quad_points=DEFAULT_QUAD_POINTS):
    """Exact solution u(x, t) of the viscous Burgers problem with u(x, 0) = -sin(pi x).

    Args:
        x (array_like): Spatial coordinates; broadcast against ``t``.
        t (array_like): Times, ``t >= 0``; at ``t == 0`` the initial condition is returned exactly.
        nu (float): Viscosity, ``nu > 0``. Default: ``0.01 / pi``.
        quad_points (int): Number of Gauss-Hermite nodes. Smaller ``nu`` or larger ``t`` need more. Default: 200.

    Returns:
        numpy.ndarray, float64 array of the broadcast shape of ``x`` and ``t``.

    Raises:
        ValueError: If ``nu <= 0``, any ``t < 0``, inputs are not finite, or ``quad_points`` is unusable.
    """
    x, t = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(t, dtype=np.float64))
    nu = float(nu)
    if not (np.isfinite(nu) and nu > 0.0):
        raise ValueError(f"nu must be positive and finite, got {nu!r}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t))):
        raise ValueError("x and t must be finite")
    if np.any(t < 0.0):
        raise ValueError("t must be non-negative")
    nodes, log_weights = _hermite_rule(quad_points)

    x_flat = x.ravel()
    t_flat = t.ravel()
    u = -np.sin(np.pi * x_flat)
    active = np.flatnonzero(t_flat > 0.0)
    for start in range(0, active.size, _CHUNK):
        idx = active[start:start + _CHUNK]
        u[idx] = _cole_hopf_block(x_flat[idx], t_flat[idx], nu, nodes, log_weights)
    return u.reshape(x.shape)


def reference_grid(nx=256, nt=101):
    """Exact solution on the uniform grid used to evaluate the PINN.

    Args:
        nx (int): Number of points of ``x = linspace(-1, 1, nx)``, at least 2. Default: 256.
        nt (int): Number of points of ``t = linspace(0, 1, nt)``, at least 2. Default: 101.

    Returns:
        tuple of numpy.ndarray, ``(x [nx], t [nt], u [nt, nx])`` in float64.
    """
    nx, nt = _check_grid_size(nx, nt)
    x = np.linspace(-1.0, 1.0, nx)
    t = np.linspace(0.0, 1.0, nt)
    u = burgers_exact(x[None, :], t[:, None])
    return x, t, u


def reference_cache_path(cache_dir, nx=256, nt=101):
    """Path of the ``.npz`` file caching :func:`reference_grid` for this grid size."""
    nx, nt = _check_grid_size(nx, nt)
    return os.path.join(os.fspath(cache_dir), f"burgers_exact_nx{nx}_nt{nt}.npz")


def load_or_compute_reference(cache_dir, nx=256, nt=101):
    """Load the reference grid from ``cache_dir``, computing and caching it when missing or unreadable.

    A cached file is only trusted if it holds finite arrays of the expected shapes on the expected grid;
    anything else (truncated, corrupted, stale) is recomputed and overwritten.

    Args:
        cache_dir (str or os.PathLike): Directory of the cache file; created if needed.
        nx (int): Number of spatial points. Default: 256.
        nt (int): Number of time points. Default: 101.

    Returns:
        tuple of numpy.ndarray, ``(x [nx], t [nt], u [nt, nx])`` as :func:`reference_grid`.
    """
    path = reference_cache_path(cache_dir, nx, nt)
    cached = _read_cache(path, nx, nt)
    if cached is not None:
        return cached
    x, t, u = reference_grid(nx, nt)
    _write_cache(path, x, t, u)
    return x, t, u


def _check_grid_size(nx, nt):
    """Validate grid sizes and return them as ints."""
    if int(nx) != nx or int(nt) != nt or nx < 2 or nt < 2:
        raise ValueError(f"nx and nt must be integers >= 2, got nx={nx!r}, nt={nt!r}")
    return int(nx), int(nt)


def _read_cache(path, nx, nt):
    """Return the cached triple, or None when the file is absent or not a valid cache for this grid."""
    if not os.path.isfile(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            x, t, u = (np.array(data[key], dtype=np.float64) for key in ("x", "t", "u"))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if x.shape != (nx,) or t.shape != (nt,) or u.shape != (nt, nx) or not np.all(np.isfinite(u)):
        return None
    # The grid is cheap to rebuild, so compare it exactly to reject files written for another grid.
    if not (np.array_equal(x, np.linspace(-1.0, 1.0, nx)) and np.array_equal(t, np.linspace(0.0, 1.0, nt))):
        return None
    return x, t, u


def _write_cache(path, x, t, u):
    """Write the cache atomically, so an interrupted run never leaves a half-written file under the real name."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=".burgers_exact_", suffix=".npz.tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, x=x, t=t, u=u)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise
