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
"""The FWI problem of a configuration: models, acquisition, solver, observed data and the misfit Cell."""
from dataclasses import dataclass

import numpy as np
import mindspore as ms
from mindspore import Parameter, Tensor, nn, ops

from .models import smooth, smoothing_length, true_model
from .solver import AcousticSolver, ricker


def acquisition(shape, spacing, survey):
    """Source (S, 2) and receiver (R, 2) positions in metres: shots spread evenly along the surface at depth
    ``source_depth``, a receiver on every ``receiver_every``-th cell at depth ``receiver_depth``."""
    nx = shape[1]
    width = (nx - 1) * spacing
    shots = int(survey["shots"])
    margin = float(survey.get("shot_margin", 0.1)) * width
    xs = np.linspace(margin, width - margin, shots) if shots > 1 else np.array([width / 2])
    sources = np.stack([np.full(shots, float(survey["source_depth"])), xs], axis=1)
    xr = np.arange(0, nx, int(survey.get("receiver_every", 1))) * spacing
    receivers = np.stack([np.full(xr.size, float(survey["receiver_depth"])), xr], axis=1)
    return sources, receivers


class VelocityModel(nn.Cell):
    """The unknown of the inversion: the velocity grid (km/s), the only Parameter."""

    def __init__(self, initial):
        super().__init__()
        self.velocity = Parameter(Tensor(np.asarray(initial, np.float32)), name="velocity")

    def construct(self):
        """The velocity grid."""
        return self.velocity


class Misfit(nn.Cell):
    r"""Normalised least-squares misfit :math:`\tfrac12 \|d(v) - d_{obs}\|^2 / \|d_{obs}\|^2` of ``model``.

    Rows above ``fixed_rows`` keep the start model (the sources and receivers sit there and the gradient is
    singular at them), and the velocity is clipped to ``[vmin, vmax]`` so that the solver stays stable.

    Inputs:
        - **observed** (Tensor) - Records (nt, S, R).

    Outputs:
        Tensor, scalar.
    """

    def __init__(self, model, solver, start, fixed_rows, vmin, vmax, norm):
        super().__init__()
        self.model = model
        self.solver = solver
        mask = np.ones(start.shape, np.float32)
        mask[:fixed_rows] = 0.0
        self.mask = Tensor(mask)
        self.fixed = Tensor((1.0 - mask) * start)
        self.vmin = float(vmin)
        self.vmax = float(vmax)
        self.inv_norm = float(0.5 / norm)

    def construct(self, observed):
        """The misfit of the current model."""
        velocity = ops.clamp(self.model.velocity * self.mask + self.fixed, self.vmin, self.vmax)
        return self.solver.misfit(velocity * 1000.0, observed) * self.inv_norm


@dataclass
class Problem:
    """Everything an inversion run needs; arrays in km/s."""
    true: np.ndarray
    start: np.ndarray
    observed: np.ndarray
    solver: AcousticSolver
    sources: np.ndarray
    receivers: np.ndarray
    smoothing_length: float
    norm: float
    cells: tuple = None  # (model, misfit, gradient Cell), made once by the inversion runs

    def misfit_cell(self, model, config):
        """A :class:`Misfit` of ``model`` (a :class:`VelocityModel`) under ``config['inversion']``."""
        inv = config["inversion"]
        return Misfit(model, self.solver, self.start, int(inv["fixed_rows"]), inv["vmin"], inv["vmax"], self.norm)

    def model_error(self, velocity):
        """RMS difference (km/s) of ``velocity`` to the true model."""
        return float(np.sqrt(np.mean((np.asarray(velocity, np.float64) - self.true) ** 2)))


def build_solver(config, block=None):
    """The :class:`AcousticSolver` of ``config`` (grid, time and survey sections); ``block`` overrides
    ``time.block``."""
    grid, time, survey = config["grid"], config["time"], config["survey"]
    shape = (int(grid["nz"]), int(grid["nx"]))
    spacing = float(grid["spacing"])
    sources, receivers = acquisition(shape, spacing, survey)
    nt, dt = int(time["steps"]), float(time["dt"])
    block = int(time.get("block", 10)) if block is None else int(block)
    wavelet = ricker(float(survey["peak_frequency"]), nt, dt)
    solver = AcousticSolver(shape, spacing, dt, nt, wavelet, sources, receivers,
                            sponge_cells=int(grid["sponge_cells"]), free_surface=bool(grid["free_surface"]),
                            vmax=1000.0 * float(config["inversion"]["vmax"]), block=block)
    return solver, sources, receivers


def build_problem(config, seed, block=None):
    """True and start models, the solver and the observed records (with optional seeded noise).

    The model of ``config['model']`` is drawn with ``seed`` (Marmousi-like), and so are the smoothing length
    (when the config gives a range) and the noise.
    """
    grid, model_cfg = config["grid"], config["model"]
    shape = (int(grid["nz"]), int(grid["nx"]))
    spacing = float(grid["spacing"])
    true = true_model(model_cfg["kind"], shape, spacing, dict(model_cfg.get("options") or {}), seed)
    length = smoothing_length(model_cfg["smoothing_length"], seed)
    start = smooth(true, length, spacing)
    solver, sources, receivers = build_solver(config, block)
    observed = solver(Tensor(true * 1000.0)).asnumpy().astype(np.float64)
    noise = float(config["survey"].get("noise", 0.0))
    if noise > 0:
        rng = np.random.default_rng(seed + 1)
        observed = observed + noise * np.sqrt(np.mean(observed ** 2)) * rng.standard_normal(observed.shape)
    return Problem(true=true.astype(np.float64), start=start, observed=observed.astype(np.float32), solver=solver,
                   sources=sources, receivers=receivers, smoothing_length=length,
                   norm=float(np.sum(observed.astype(np.float64) ** 2)))


def observed_tensor(problem):
    """The observed records as a float32 Tensor, the input of the misfit Cell."""
    return Tensor(problem.observed, ms.float32)
