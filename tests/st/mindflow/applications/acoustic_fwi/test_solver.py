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
"""Tests of the acoustic solver: analytic Green's function records and the gradient of the misfit."""
import numpy as np
import pytest
import mindspore as ms
from mindspore import Tensor

from src.analytic import greens_records
from src.problem import Misfit, VelocityModel
from src.solver import AcousticSolver, ricker
from src.inversion import GradientCell


def _graph():
    ms.set_device("CPU")
    ms.set_context(mode=ms.GRAPH_MODE)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_records_match_green_function():
    """
    Feature: the forward solver (4th order in space, leapfrog, sponge on all four sides, bilinear receivers).
    Description: a 15 Hz Ricker point source in a homogeneous 2 km/s medium (60 x 60 cells of 10 m, 500 steps of
        1 ms); records at 150-250 m offsets, one receiver off the grid nodes, against the analytic 2-D Green's
        function convolved with the wavelet.
    Expectation: relative L2 error of every trace below 5 %.
    """
    _graph()
    spacing, dt, nt, speed = 10.0, 1e-3, 500, 2000.0
    wavelet = ricker(15.0, nt, dt)
    source = np.array([[300.0, 150.0]])
    receivers = np.array([[300.0, 300.0], [300.0, 400.0], [150.0, 400.0], [303.0, 357.0]])
    solver = AcousticSolver((60, 60), spacing, dt, nt, wavelet, source, receivers, sponge_cells=30,
                            free_surface=False, vmax=speed)
    records = solver(Tensor(np.full((60, 60), speed, np.float32))).asnumpy()[:, 0]
    reference = greens_records(speed, wavelet, dt, source[0], receivers)
    errors = np.linalg.norm(records - reference, axis=0) / np.linalg.norm(reference, axis=0)
    assert np.all(errors < 0.05), errors


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_gradient_matches_finite_differences():
    """
    Feature: the exact gradient of the discrete misfit through the compiled while loop (blocks of 3 steps plus an
        unrolled remainder).
    Description: a 12 x 20 layered model with 2 shots and 80 steps; the misfit to records of a perturbed model,
        differentiated with respect to the velocity grid, against central differences of the misfit (float64 host
        sums of float32 records are avoided: the step is 1e-2 km/s along random directions).
    Expectation: directional derivatives agree within 2 % relative error.
    """
    _graph()
    shape, spacing, dt, nt = (12, 20), 10.0, 1e-3, 80
    sources = np.array([[20.0, 50.0], [20.0, 140.0]])
    receivers = np.stack([np.full(20, 10.0), np.arange(20) * spacing], axis=1)
    solver = AcousticSolver(shape, spacing, dt, nt, ricker(25.0, nt, dt), sources, receivers, sponge_cells=8,
                            vmax=3000.0, block=3)
    rng = np.random.default_rng(0)
    true = (2.0 + 0.3 * (np.arange(shape[0])[:, None] > 6) + 0.0 * np.arange(shape[1])).astype(np.float32)
    observed = solver(Tensor(true * 1000.0))
    start = (true + 0.1 * rng.standard_normal(shape)).astype(np.float32)
    model = VelocityModel(start)
    misfit = Misfit(model, solver, start, 0, 1.0, 3.0, float(np.sum(observed.asnumpy() ** 2)))
    gradient = GradientCell(misfit, model.trainable_params())
    grad = gradient(observed)[1][0].asnumpy().astype(np.float64)
    step = 1e-2
    for _ in range(2):
        direction = rng.standard_normal(shape).astype(np.float32)
        values = []
        for sign in (1.0, -1.0):
            model.velocity.set_data(Tensor(start + sign * step * direction))
            values.append(float(gradient(observed)[0].asnumpy()))
        numeric = (values[0] - values[1]) / (2 * step)
        exact = float(np.sum(grad * direction))
        assert abs(numeric - exact) <= 0.02 * abs(exact), (numeric, exact)
