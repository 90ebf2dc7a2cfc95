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
"""AdaHessian's in-place update of large parameters next to the joined update of small ones, in one step."""
import warnings

import numpy as np
import pytest
import mindspore as ms
from mindspore import Parameter, Tensor, nn, ops

from mindflow import AdaHessian

# with this size limit the two weights (6 x 16, 16 x 4) and the extra vector are updated in place, the biases
# joined
LIMIT = 40


def _problem():
    """A small network, an extra parameter that enters the loss linearly (its Hessian is exactly zero), data."""
    ms.set_seed(1)
    net = nn.SequentialCell([nn.Dense(6, 16, activation="tanh"), nn.Dense(16, 4)])
    rng = np.random.default_rng(1)
    extra = Parameter(Tensor(rng.normal(size=(48,)).astype(np.float32)), name="extra")
    coefficients = Tensor(rng.normal(size=(48,)).astype(np.float32))
    x = Tensor(rng.normal(size=(32, 6)).astype(np.float32))
    y = Tensor(rng.normal(size=(32, 4)).astype(np.float32))
    params = net.trainable_params()
    params = params[:2] + [extra] + params[2:]

    def loss_fn(inputs, targets):
        return ops.mean((net(inputs) - targets) ** 2) + 1e-3 * ops.sum(coefficients * extra)

    return params, loss_fn, x, y


def _run(limit, steps, inputs_of_step, **kwargs):
    """``steps`` plain calls in GRAPH mode; returns the optimizer and its state (parameters, moments)."""
    threshold = AdaHessian._in_place_min_size  # pylint: disable=protected-access
    AdaHessian._in_place_min_size = limit  # pylint: disable=protected-access
    try:
        params, loss_fn, x, y = _problem()
        optimizer = AdaHessian(params, learning_rate=0.05, eps=1e-4, **kwargs)
    finally:
        AdaHessian._in_place_min_size = threshold  # pylint: disable=protected-access
    grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)
    ms.set_context(mode=ms.GRAPH_MODE)
    try:
        with warnings.catch_warnings():
            # the linear parameter's zero curvature is reported; the tests read the flags themselves
            warnings.simplefilter("ignore", RuntimeWarning)
            for step in range(steps):
                optimizer(grad_fn, inputs_of_step(step, x), y)
    finally:
        ms.set_context(mode=ms.PYNATIVE_MODE)
    state = [t.asnumpy() for t in tuple(optimizer.parameters) + tuple(optimizer.moment1) + tuple(optimizer.moment2)]
    return optimizer, state


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("kwargs", [{"update_interval": 2}, {"hvp_method": "finite_difference", "weight_decay": 0.1},
                                    {"hessian_power": 0.5, "loss_scale": 64.0}])
def test_mixed_paths_match_joined(kwargs):
    """
    Feature: one step that updates large parameters in place and small ones joined.
    Description: a 6-16-4 tanh network and a 48-element parameter that enters the loss linearly, listed between the
        layers; with a size limit of 40 the three larger parameters are updated in place and the biases joined.
        Six steps in GRAPH mode, against the same run with every parameter joined: lazy refresh; finite
        difference with weight decay; hessian_power 0.5 with a loss scale.
    Expectation: the split is as described; parameters and both moments agree with the all-joined run (rtol 1e-5);
        the zero-curvature flags, gathered from both updates, name exactly the linear parameter, in its place.
    """
    def same_inputs(_step, x):
        return x

    mixed, mixed_state = _run(LIMIT, 6, same_inputs, **kwargs)
    joined, joined_state = _run(1 << 30, 6, same_inputs, **kwargs)
    assert mixed.in_place_index == (0, 2, 3) and mixed.joined_index == (1, 4)
    assert not joined.in_place_index
    for got, want in zip(mixed_state, joined_state):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(mixed.zero_curvature.asnumpy(), [False, False, True, False, False])
    np.testing.assert_array_equal(joined.zero_curvature.asnumpy(), mixed.zero_curvature.asnumpy())


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("hvp_method", ["autodiff", "finite_difference"])
def test_non_finite_step_leaves_in_place_parameters_alone(hvp_method):
    """
    Feature: skipping a non-finite step when parameters are updated in place.
    Description: the mixed network of test_mixed_paths_match_joined; two finite steps, then one whose inputs hold
        an infinity. The finite difference moves the weights before it sees the gradient, so they must be put
        back from the copies taken at the start of the step.
    Expectation: the third step is skipped and leaves every parameter and moment bit for bit as after step 2.
    """
    def inf_at_third(step, x):
        return x * float("inf") if step == 2 else x

    def plain(_step, x):
        return x

    optimizer, state = _run(LIMIT, 3, inf_at_third, hvp_method=hvp_method)
    assert optimizer.in_place_index == (0, 2, 3)
    assert optimizer.step_skipped
    _, before = _run(LIMIT, 2, plain, hvp_method=hvp_method)
    for got, want in zip(state, before):
        np.testing.assert_array_equal(got, want)
