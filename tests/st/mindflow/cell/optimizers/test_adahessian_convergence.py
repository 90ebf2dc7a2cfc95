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
"""AdaHessian converges: an ill-conditioned quadratic, the Rosenbrock function and a small conv + MLP model.

The runs use the default counter-based Rademacher probes (seed 0), so they are deterministic; the
settings were chosen, with the NumPy reference and ten independent probe streams each, so that the
assertions hold with a wide margin for any probe stream, not just this one.
"""
import numpy as np
import pytest
import mindspore as ms
from mindspore import Parameter, Tensor, nn, ops
from device_tolerance import tolerance

from mindflow import AdaHessian


@pytest.fixture(autouse=True)
def pynative_afterwards():
    """Every test leaves the context in PYNATIVE mode."""
    yield
    ms.set_context(mode=ms.PYNATIVE_MODE)


def _loop(optimizer, grad_fn):
    """A user's jit-compiled training loop: `count` AdaHessian steps on one input per call."""
    @ms.jit
    def train(count, x):
        step = Tensor(0, ms.int32)
        loss = ops.zeros((), ms.float32)
        while step < count:
            loss = optimizer(grad_fn, x)
            step = step + 1
        return loss

    return train


QUADRATIC_CURVATURE = np.logspace(-2, 2, 8).astype(np.float32)
# every coordinate starts with the same share of the loss: the starting point is badly scaled as well
QUADRATIC_START = (1.0 / np.sqrt(QUADRATIC_CURVATURE)).astype(np.float32)


def _quadratic_run(make_optimizer, steps):
    """Loss and w / w0 after `steps` steps on 0.5 sum(d w^2), condition number 1e4, in GRAPH mode."""
    ms.set_context(mode=ms.GRAPH_MODE)
    w = Parameter(Tensor(QUADRATIC_START.copy()), name="w")
    d = Tensor(QUADRATIC_CURVATURE)

    def loss_fn(scale):
        return scale * 0.5 * ops.sum(d * w * w)

    optimizer = make_optimizer(w)
    grad_fn = ms.value_and_grad(loss_fn, None, [w])
    scale = Tensor(1.0, ms.float32)
    first = float(loss_fn(scale).asnumpy())
    for _ in range(steps):
        if isinstance(optimizer, AdaHessian):
            optimizer(grad_fn, scale)
        else:
            optimizer(grad_fn(scale)[1])
    last = float(loss_fn(scale).asnumpy())
    return first, last, w.asnumpy().astype(np.float64) / QUADRATIC_START, optimizer


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_ill_conditioned_quadratic():
    """
    Feature: AdaHessian on an ill-conditioned quadratic.
    Description: L = 0.5 sum(d_i w_i^2) with d from 1e-2 to 1e2 (condition number 1e4) and w0_i = d_i^-1/2;
        100 GRAPH-mode steps of AdaHessian (lr 0.2) and of nn.Adam (lr 0.1, its best order of magnitude here).
        Every Rademacher probe gives the exact diagonal of a separable Hessian.
    Expectation: AdaHessian's loss falls by more than 1e4; its second moment is exact (sqrt of the
        bias-corrected moment2 equals d); its steps are invariant to the scale of each coordinate, so
        w_i / w0_i is the same for every i (rtol 1e-3), unlike Adam's, whose ratios spread over more than a
        factor of 10; and its final loss is below a tenth of Adam's.
    """
    steps = 100
    first, last, ratios, optimizer = _quadratic_run(lambda w: AdaHessian([w], learning_rate=0.2), steps)
    assert last < 1e-4 * first
    np.testing.assert_allclose(ratios, np.full_like(ratios, ratios[0]), **tolerance(1e-3, 1e-7))
    count = int(optimizer.hessian_step.asnumpy()[0])
    assert count == steps
    v_hat = optimizer.moment2[0].asnumpy().astype(np.float64) / (1 - 0.999 ** count)
    np.testing.assert_allclose(np.sqrt(v_hat), QUADRATIC_CURVATURE, **tolerance(1e-5))

    adam_first, adam_last, adam_ratios, _ = _quadratic_run(lambda w: nn.Adam([w], learning_rate=0.1), steps)
    assert adam_first == pytest.approx(first)
    assert np.max(np.abs(adam_ratios)) > 10 * np.min(np.abs(adam_ratios))
    assert last < 0.1 * adam_last


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_rosenbrock():
    """
    Feature: AdaHessian on the Rosenbrock function.
    Description: f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 as one (2,) parameter from the classic start (-1.2, 1);
        AdaHessian with learning_rate 0.1, hessian_power 0.5, eps 1e-4 (other arguments default), 1500 steps
        run by a user's jit-compiled while loop.
    Expectation: the parameter ends within 0.06 of the minimum (1, 1) (the NumPy reference with ten probe
        streams ends within 0.035) and f falls from 24.2 below 1e-3; global_step counts all 1500 steps.
    """
    xy = Parameter(Tensor(np.array([-1.2, 1.0], np.float32)), name="xy")

    def rosenbrock(scale):
        return scale * ((1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2)

    optimizer = AdaHessian([xy], learning_rate=0.1, hessian_power=0.5, eps=1e-4)
    train = _loop(optimizer, ms.value_and_grad(rosenbrock, None, optimizer.parameters))
    scale = Tensor(1.0, ms.float32)
    first = float(rosenbrock(scale).asnumpy())
    train(Tensor(1500, ms.int32), scale)
    assert first == pytest.approx(24.2)
    assert np.linalg.norm(xy.asnumpy() - 1.0) < 0.06
    assert float(rosenbrock(scale).asnumpy()) < 1e-3
    assert int(optimizer.global_step.asnumpy()[0]) == 1500


class _ConvNet(nn.Cell):
    """Conv1d (a 4-D kernel in MindSpore) + two Dense layers: parameters of 1, 2 and 4 dimensions."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 3, pad_mode="valid", has_bias=True)
        self.hidden = nn.Dense(4 * 14, 16)
        self.out = nn.Dense(16, 1)
        self.act = nn.Tanh()

    def construct(self, x):
        h = self.act(self.conv(x))
        h = h.reshape(h.shape[0], -1)
        return self.out(self.act(self.hidden(h)))


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_conv_mlp_model():
    """
    Feature: AdaHessian on a model with parameters of mixed shapes.
    Description: a Conv1d + Dense + Dense network fitted to a smooth target of 64 inputs of length 16 (mean
        squared error); AdaHessian learning_rate 0.3, eps 1e-4, 150 steps run by a jit-compiled loop.
    Expectation: moment2 has the spatially averaged shapes (conv kernel (4, 1, 1, 1), dense kernels
        (out, 1), biases full); the loss falls by more than a factor of 20 (about 150 measured).
    """
    ms.set_seed(1)
    net = _ConvNet()
    rng = np.random.default_rng(0)
    x_np = rng.uniform(-1.0, 1.0, size=(64, 1, 16)).astype(np.float32)
    y_np = np.sin(3 * x_np[:, 0, :]).mean(axis=1, keepdims=True) + x_np[:, 0, :4].prod(axis=1, keepdims=True)
    x, y = Tensor(x_np), Tensor(y_np.astype(np.float32))

    def loss_fn(inputs, targets):
        return ops.mean((net(inputs) - targets) ** 2)

    optimizer = AdaHessian(net.trainable_params(), learning_rate=0.3, eps=1e-4)
    shapes = {p.name: (tuple(p.shape), tuple(m.shape)) for p, m in zip(optimizer.parameters, optimizer.moment2)}
    assert shapes["conv.weight"] == ((4, 1, 1, 3), (4, 1, 1, 1))
    assert shapes["hidden.weight"] == ((16, 56), (16, 1))
    assert shapes["hidden.bias"] == ((16,), (16,))
    assert shapes["out.weight"] == ((1, 16), (1, 1))
    grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)

    @ms.jit
    def train(count, inputs, targets):
        step = Tensor(0, ms.int32)
        loss = ops.zeros((), ms.float32)
        while step < count:
            loss = optimizer(grad_fn, inputs, targets)
            step = step + 1
        return loss

    first = float(loss_fn(x, y).asnumpy())
    train(Tensor(150, ms.int32), x, y)
    last = float(loss_fn(x, y).asnumpy())
    assert last < first / 20
    assert int(optimizer.global_step.asnumpy()[0]) == 150
