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
"""The safe step (``step_clip``, default 10): with default settings no weight moves by more than ten times the
learning rate, where the curvature estimate is tiny, zero or noisy; and a run whose steps are all skipped is reported
at once."""
import warnings

import numpy as np
import pytest
import mindspore as ms
from mindspore import Parameter, Tensor, nn, ops

from mindflow import AdaHessian

RATES = (0.01, 0.1, 1.0)
BOUND = 10.0 * (1 + 1e-5)  # the default step_clip, in learning rates, and float32 rounding


def _train(params, loss_fn, steps, **kwargs):
    """``steps`` plain calls; returns the losses before each step and the largest move of any weight per step."""
    optimizer = AdaHessian(params, **kwargs)
    grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)
    losses, moves = [], []
    for _ in range(steps):
        before = [p.asnumpy().copy() for p in params]
        losses.append(float(optimizer(grad_fn).asnumpy()))
        moves.append(max(float(np.abs(p.asnumpy() - b).max()) for p, b in zip(params, before)))
    losses.append(float(loss_fn().asnumpy()))
    return np.array(losses), np.array(moves)


def _wide_quadratic():
    """0.5 sum(a w^2) + sum(b w) with a from 1e-6 to 1e3 and eight coordinates of exactly zero curvature."""
    rng = np.random.default_rng(7)
    curvature = np.concatenate([np.logspace(-6, 3, 56), np.zeros(8)]).astype(np.float32)
    slope = rng.choice([-1.0, 1.0], 64).astype(np.float32) * rng.uniform(0.1, 1.0, 64).astype(np.float32)
    start = rng.normal(size=64).astype(np.float32)
    return Tensor(curvature), Tensor(slope), start


def _quadratic(weights, curvature, slope):
    def loss_fn():
        return 0.5 * ops.sum(curvature * weights * weights) + ops.sum(slope * weights)
    return loss_fn


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("in_place", [False, True], ids=["joined", "in_place"])
def test_curvature_over_nine_orders_and_zero(in_place, monkeypatch):
    """
    Feature: the safe step on a quadratic whose curvature spans nine orders of magnitude (1e-6 to 1e3), with eight
        coordinates of exactly zero curvature and a non-zero gradient.
    Description: only the learning rate chosen (0.01, 0.1, 1), 15 steps each, every parameter on the joined update or
        on the in-place one; then the paper's update (step_clip=None) at rate 0.1.
    Expectation: with the default every step stays finite, no weight moves by more than ten learning rates (plus
        float32 rounding), and the loss falls; the paper's update moves some weight by more than 1e4 in its first
        step, which is what the default prevents.
    """
    curvature, slope, start = _wide_quadratic()
    if in_place:
        monkeypatch.setattr(AdaHessian, "_in_place_min_size", 1)
    for rate in RATES:
        weights = Parameter(Tensor(start), name="w")
        losses, moves = _train([weights], _quadratic(weights, curvature, slope), 15, learning_rate=rate)
        assert np.isfinite(losses).all(), (rate, losses)
        assert moves.max() <= rate * BOUND, (rate, moves)
        assert losses[-1] < losses[0] - 0.1, (rate, losses)
    weights = Parameter(Tensor(start), name="w")
    _, moves = _train([weights], _quadratic(weights, curvature, slope), 1, learning_rate=0.1, step_clip=None)
    assert moves[0] > 1e4


class ReluNet(nn.Cell):
    """A small ReLU regression network: some units are dead for every input, their weights' curvature is zero."""

    def __init__(self):
        super().__init__()
        self.body = nn.SequentialCell(nn.Dense(4, 32), nn.ReLU(), nn.Dense(32, 32), nn.ReLU(), nn.Dense(32, 1))

    def construct(self, x):
        return self.body(x)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_relu_network_with_default_settings():
    """
    Feature: the safe step on a ReLU network (piecewise-linear: the exact Hessian diagonal of its first layers is
        zero or tiny for many weights, while their gradients are not).
    Description: 4-32-32-1 ReLU network, 64 samples of a smooth target, only the learning rate chosen (0.01, 0.1,
        1), 25 steps each from the same initial weights.
    Expectation: every run stays finite with every move within ten learning rates; the best rate lowers the loss
        below half of its start.
    """
    rng = np.random.default_rng(3)
    x = Tensor(rng.uniform(-1, 1, (64, 4)).astype(np.float32))
    y = ops.sin(x.sum(axis=1, keepdims=True))
    ms.set_seed(11)
    net = ReluNet()
    start = {p.name: p.asnumpy().copy() for p in net.trainable_params()}

    def loss_fn():
        return ops.mean((net(x) - y) ** 2)
    finals = []
    for rate in RATES:
        for param in net.trainable_params():
            param.set_data(Tensor(start[param.name]))
        losses, moves = _train(net.trainable_params(), loss_fn, 25, learning_rate=rate)
        assert np.isfinite(losses).all(), (rate, losses)
        assert moves.max() <= rate * BOUND, (rate, moves)
        finals.append(losses[-1] / losses[0])
    assert min(finals) < 0.5, finals


# A 1-D acoustic inversion: velocity (km/s) in NX cells of DX km, NT steps of DT s, a source and a receiver at the
# surface. The deepest cells are never reached by the wave in that time: their gradient is exactly zero.
NX, NT, DX, DT, SOURCE = 24, 60, 0.01, 0.001, 1


def _ricker(frequency=25.0):
    t = np.arange(NT) * DT - 1.2 / frequency
    arg = (np.pi * frequency * t) ** 2
    return ((1 - 2 * arg) * np.exp(-arg)).astype(np.float32)


WAVELET = Tensor(_ricker())
SOURCE_MASK = Tensor(np.eye(NX, dtype=np.float32)[SOURCE])


def _records(velocity):
    """Second order in time and space, reflecting ends; the pressure recorded at the source cell."""
    courant2 = (velocity * DT / DX) ** 2
    previous = ops.zeros((NX,), ms.float32)
    current = ops.zeros((NX,), ms.float32)
    records = []
    for step in range(NT):
        padded = ops.concat((current[:1], current, current[-1:]))
        laplacian = padded[2:] - 2 * current + padded[:-2]
        previous, current = current, 2 * current - previous + courant2 * laplacian + SOURCE_MASK * WAVELET[step]
        records.append(current[SOURCE])
    return ops.stack(records)


def _misfit(velocity, observed):
    def loss_fn():
        return ops.mean((_records(velocity) - observed) ** 2)
    return loss_fn


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_acoustic_inversion_with_default_settings():
    """
    Feature: the safe step on a small full-waveform inversion (the case that exposed the paper's update: cells
        whose curvature estimate is tiny but whose gradient is not).
    Description: 1-D acoustic wave equation, 32 cells, 80 time steps; true model a gradient with a fast layer,
        start model its moving average; loss the mean squared misfit of the surface record; hvp_method
        "finite_difference" and spatial_average "none" (one velocity per cell). Rates 0.01 and 0.1 km/s with every
        other setting default, 5 steps each.
    Expectation: every run stays finite with every move within ten times its rate, and the misfit falls.
    """
    true_model = np.linspace(1.5, 2.5, NX).astype(np.float32)
    true_model[8:11] += 0.4
    start = np.convolve(np.pad(true_model, 2, mode="edge"), np.ones(5) / 5, mode="valid").astype(np.float32)
    observed = _records(Tensor(true_model))
    settings = {"hvp_method": "finite_difference", "spatial_average": "none"}
    for rate in (0.01, 0.1):
        velocity = Parameter(Tensor(start), name="velocity")
        losses, moves = _train([velocity], _misfit(velocity, observed), 5, learning_rate=rate, **settings)
        assert np.isfinite(losses).all(), (rate, losses)
        assert moves.max() <= rate * BOUND, (rate, moves)
        assert losses[-1] < losses[0], (rate, losses)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_steps_skipped_in_a_row_are_reported_at_once():
    """
    Feature: a loss that stays non-finite step after step (the weights left the region where it is finite, so a
        skipped step cannot help) is reported as such, at once, instead of every skip_check_interval calls.
    Description: log(w) with w moved to negative values by set_data after two good steps; four more calls.
    Expectation: no warning on the good steps or on the first skipped call (no check due: calls 1, 2, 4, 8, ...
        are checked early in a run, then every skip_check_interval calls); call 4 warns that 2 steps were skipped;
        from then on every call is checked, and call 5, the third skipped in a row, warns once that every step
        since step 3 has been skipped and what to do; call 6 repeats nothing.
    """
    weights = Parameter(Tensor(np.array([1.0, 2.0], np.float32)), name="w")
    optimizer = AdaHessian([weights], learning_rate=0.01)

    def loss_fn():
        return ops.sum(ops.log(weights) + 0.5 * weights * weights)
    grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        optimizer(grad_fn)
        optimizer(grad_fn)
        weights.set_data(Tensor(np.array([-1.0, -2.0], np.float32)))
        optimizer(grad_fn)
    with pytest.warns(RuntimeWarning, match="2 steps were skipped since the last check"):
        optimizer(grad_fn)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optimizer(grad_fn)
        optimizer(grad_fn)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    stuck = [m for m in messages if "in a row" in m]
    assert len(stuck) == 1, messages
    assert "since step 3" in stuck[0] and "3 calls in a row" in stuck[0], stuck
    assert "learning rate" in stuck[0] and "step_clip" in stuck[0], stuck
