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
"""Training points of the Burgers PINN and the evaluation grid of the exact solution.

The points are drawn from a seeded NumPy generator, once for the whole run (full-batch training) or anew at every
step (``data.resample``), so both optimizers see exactly the same data.
"""
from dataclasses import dataclass

import numpy as np
from mindspore import Tensor

from .exact_solution import load_or_compute_reference


@dataclass
class CollocationPoints:
    """Fixed training points as float32 arrays.

    Attributes:
        pde_points (numpy.ndarray): (N_pde, 2) interior points (x, t).
        ic_points (numpy.ndarray): (N_ic, 2) points (x, 0).
        ic_values (numpy.ndarray): (N_ic, 1) values -sin(pi x).
        bc_points (numpy.ndarray): (N_bc, 2) points (+-1, t).
    """

    pde_points: np.ndarray
    ic_points: np.ndarray
    ic_values: np.ndarray
    bc_points: np.ndarray

    def as_tensors(self):
        """The four arrays as MindSpore tensors, in the argument order of the loss cells."""
        return tuple(Tensor(array) for array in (self.pde_points, self.ic_points, self.ic_values, self.bc_points))

    def sizes(self):
        """Number of points per term, as a dict for reports."""
        return {"pde": len(self.pde_points), "ic": len(self.ic_points), "bc": len(self.bc_points)}


def sample_collocation_points(data_config, geometry, seed):
    """Draw the PDE, initial and boundary points uniformly at random.

    Args:
        data_config (dict): ``n_pde``, ``n_ic``, ``n_bc`` point counts.
        geometry (dict): ``x_min``, ``x_max``, ``t_min``, ``t_max``.
        seed (Union[int, numpy.random.Generator]): Seed of a new NumPy generator, or a generator to draw from.

    Returns:
        CollocationPoints.
    """
    rng = np.random.default_rng(seed)
    x_min, x_max = float(geometry["x_min"]), float(geometry["x_max"])
    t_min, t_max = float(geometry["t_min"]), float(geometry["t_max"])
    n_pde, n_ic, n_bc = int(data_config["n_pde"]), int(data_config["n_ic"]), int(data_config["n_bc"])

    pde = np.stack([rng.uniform(x_min, x_max, n_pde), rng.uniform(t_min, t_max, n_pde)], axis=1)
    ic_x = rng.uniform(x_min, x_max, n_ic)
    ic = np.stack([ic_x, np.full(n_ic, t_min)], axis=1)
    ic_values = -np.sin(np.pi * ic_x)[:, None]
    # Alternate the two walls so that both get the same number of points.
    walls = np.where(np.arange(n_bc) % 2 == 0, x_min, x_max)
    bc = np.stack([walls, rng.uniform(t_min, t_max, n_bc)], axis=1)
    return CollocationPoints(pde.astype(np.float32), ic.astype(np.float32),
                             ic_values.astype(np.float32), bc.astype(np.float32))


@dataclass
class EvaluationGrid:
    """Exact solution on the evaluation grid and the flattened points at which the network is evaluated.

    Attributes:
        x (numpy.ndarray): (nx,) coordinates.
        t (numpy.ndarray): (nt,) times.
        u_exact (numpy.ndarray): (nt, nx) exact solution.
        points (numpy.ndarray): (nt * nx, 2) float32 points, t-major, matching ``u_exact.ravel()``.
    """

    x: np.ndarray
    t: np.ndarray
    u_exact: np.ndarray
    points: np.ndarray

    def relative_l2_error(self, u_pred):
        """``||u_pred - u_exact||_2 / ||u_exact||_2`` over the whole grid."""
        u_pred = np.asarray(u_pred, dtype=np.float64).reshape(self.u_exact.shape)
        return float(np.linalg.norm(u_pred - self.u_exact) / np.linalg.norm(self.u_exact))


def evaluation_grid(cache_dir, nx=256, nt=101):
    """Load (or compute and cache) the exact solution on the ``nx`` x ``nt`` grid.

    Args:
        cache_dir (str): Folder of the cached reference ``.npz``.
        nx (int): Points in x. Default: 256.
        nt (int): Points in t. Default: 101.

    Returns:
        EvaluationGrid.
    """
    x, t, u_exact = load_or_compute_reference(cache_dir, nx=nx, nt=nt)
    grid_x, grid_t = np.meshgrid(x, t)
    points = np.stack([grid_x.ravel(), grid_t.ravel()], axis=1).astype(np.float32)
    return EvaluationGrid(x=x, t=t, u_exact=u_exact, points=points)
