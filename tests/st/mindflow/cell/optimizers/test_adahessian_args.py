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
"""Argument checking of AdaHessian: constructor arguments, group dicts, grad_fn outputs and inputs."""
import re

import numpy as np
import pytest
import mindspore as ms
from mindspore import Parameter, Tensor, ops

from mindflow import AdaHessian

PREFIX = "For 'AdaHessian',"
NAN = float("nan")
INF = float("inf")


def _weight(name="w", shape=(3,), requires_grad=True):
    return Parameter(Tensor(np.ones(shape, np.float32)), name=name, requires_grad=requires_grad)


def _group(**settings):
    return [dict(settings, params=[_weight()])]


# (id, params (a callable giving them, or None for [w]), keyword arguments, exception, message pattern)
INVALID = [
    ("params-empty", list, {}, ValueError, "'params' must not be empty"),
    ("params-none", lambda: None, {}, TypeError, "'params' must be a list"),
    ("params-parameter", _weight, {}, TypeError, "'params' must be a list"),
    ("params-dict", lambda: {"params": [_weight()]}, {}, TypeError, "'params' must be a list"),
    ("params-str", lambda: "w", {}, TypeError, "'params' must be a list"),
    ("params-int", lambda: 5, {}, TypeError, "params"),
    ("params-floats", lambda: [1.0, 2.0], {}, TypeError, "Parameter"),
    ("params-frozen", lambda: [_weight(requires_grad=False)], {}, ValueError, "must require gradients"),
    ("learning_rate-str", None, {"learning_rate": "0.1"}, TypeError, "learning"),
    ("learning_rate-negative", None, {"learning_rate": -0.1}, ValueError, "'learning_rate' must be >= 0"),
    ("weight_decay-negative", None, {"weight_decay": -0.1}, ValueError, "'weight_decay'"),
    ("weight_decay-str", None, {"weight_decay": "0.1"}, TypeError, "eight_decay"),
    ("beta1-zero", None, {"beta1": 0.0}, ValueError, r"'beta1' must be in \(0.0, 1.0\)"),
    ("beta1-one", None, {"beta1": 1.0}, ValueError, r"'beta1' must be in \(0.0, 1.0\)"),
    ("beta1-negative", None, {"beta1": -0.1}, ValueError, "'beta1' must be in"),
    ("beta1-nan", None, {"beta1": NAN}, ValueError, "'beta1' must be in"),
    ("beta1-str", None, {"beta1": "0.9"}, TypeError, "'beta1' must be float"),
    ("beta1-bool", None, {"beta1": True}, TypeError, "'beta1' must be float"),
    ("beta2-zero", None, {"beta2": 0.0}, ValueError, r"'beta2' must be in \(0.0, 1.0\)"),
    ("beta2-above", None, {"beta2": 1.5}, ValueError, "'beta2' must be in"),
    ("beta2-none", None, {"beta2": None}, TypeError, "'beta2' must be float"),
    ("eps-zero", None, {"eps": 0.0}, ValueError, "'eps' must be in"),
    ("eps-negative", None, {"eps": -1e-8}, ValueError, "'eps' must be in"),
    ("eps-inf", None, {"eps": INF}, ValueError, "'eps' must be in"),
    ("eps-str", None, {"eps": "1e-8"}, TypeError, "'eps' must be float"),
    ("hessian_power-zero", None, {"hessian_power": 0}, ValueError, r"'hessian_power' must be in \(0.0, 1.0\]"),
    ("hessian_power-negative", None, {"hessian_power": -0.5}, ValueError, "'hessian_power' must be in"),
    ("hessian_power-above", None, {"hessian_power": 1.5}, ValueError, "'hessian_power' must be in"),
    ("hessian_power-nan", None, {"hessian_power": NAN}, ValueError, "'hessian_power' must be in"),
    ("hessian_power-str", None, {"hessian_power": "1"}, TypeError, "'hessian_power' must be float"),
    ("hessian_power-bool", None, {"hessian_power": True}, TypeError, "'hessian_power' must be float"),
    ("update_interval-zero", None, {"update_interval": 0}, ValueError, "'update_interval' must be an integer >= 1"),
    ("update_interval-negative", None, {"update_interval": -3}, ValueError, "'update_interval' must be an integer"),
    ("update_interval-float", None, {"update_interval": 1.5}, TypeError, "'update_interval' must be int"),
    ("update_interval-bool", None, {"update_interval": True}, TypeError, "'update_interval' must be int"),
    ("num_samples-zero", None, {"num_samples": 0}, ValueError, "'num_samples' must be an integer >= 1"),
    ("num_samples-float", None, {"num_samples": 2.0}, TypeError, "'num_samples' must be int"),
    ("num_samples-bool", None, {"num_samples": True}, TypeError, "'num_samples' must be int"),
    ("probe-name", None, {"probe": "uniform"}, ValueError, "'probe' must be one of"),
    ("probe-int", None, {"probe": 3}, ValueError, "'probe' must be one of"),
    ("spatial_average-name", None, {"spatial_average": "mean"}, ValueError, "'spatial_average' must be"),
    ("spatial_average-float", None, {"spatial_average": 1.5}, TypeError, "'spatial_average' must be"),
    ("spatial_average-axis", None, {"spatial_average": (5,)}, ValueError, "axis 5 is out of range"),
    ("curvature-name", None, {"curvature": "exact"}, ValueError, "'curvature' must be one of"),
    ("hvp_method-name", None, {"hvp_method": "exact"}, ValueError,
     r"For 'AdaHessian', the 'hvp_method' must be one of \['autodiff', 'finite_difference'\], but got 'exact'"),
    ("hvp_method-none", None, {"hvp_method": None}, ValueError, "'hvp_method' must be one of"),
    ("use_nesterov-true", None, {"use_nesterov": True}, ValueError, "'use_nesterov' is not supported"),
    ("use_nesterov-int", None, {"use_nesterov": 1}, TypeError, "'use_nesterov' must be bool"),
    ("use_amsgrad-true", None, {"use_amsgrad": True}, ValueError, "'use_amsgrad' is not supported"),
    ("use_lazy-true", None, {"use_lazy": True}, ValueError, "'use_lazy' is not supported"),
    ("use_offload-true", None, {"use_offload": True}, ValueError, "'use_offload' is not supported"),
    ("use_locking-str", None, {"use_locking": "no"}, TypeError, "'use_locking' must be bool"),
    ("per_rank_probes-int", None, {"per_rank_probes": 1}, TypeError, "'per_rank_probes' must be bool"),
    ("kwargs-unknown", None, {"momentum": 0.9}, KeyError, "supported keys of 'kwargs'"),
    ("loss_scale-zero", None, {"loss_scale": 0.0}, ValueError, "'loss_scale' must be a positive"),
    ("loss_scale-negative", None, {"loss_scale": -1.0}, ValueError, "'loss_scale' must be a positive"),
    ("loss_scale-inf", None, {"loss_scale": INF}, ValueError, "'loss_scale' must be a positive"),
    ("loss_scale-str", None, {"loss_scale": "1"}, TypeError, "'loss_scale' must be a positive"),
    ("seed-negative", None, {"seed": -1}, ValueError, "'seed' must be an integer >= 0"),
    ("seed-float", None, {"seed": 1.5}, TypeError, "'seed' must be int"),
    ("group-unknown-key", lambda: _group(momentum=0.9), {}, KeyError, "momentum"),
    ("group-hessian_power-above", lambda: _group(hessian_power=2.0), {}, ValueError, "'hessian_power' must be in"),
    ("group-hessian_power-zero", lambda: _group(hessian_power=0.0), {}, ValueError, "'hessian_power' must be in"),
    ("group-hessian_power-str", lambda: _group(hessian_power="1"), {}, TypeError, "'hessian_power' must be float"),
    ("group-spatial_average", lambda: _group(spatial_average="x"), {}, ValueError, "'spatial_average' must be"),
    ("group-spatial_average-axis", lambda: _group(spatial_average=(1,)), {}, ValueError, "out of range"),
    ("group-curvature", lambda: _group(curvature="x"), {}, ValueError, "'curvature' must be one of"),
    ("group-grad_centralization", lambda: _group(grad_centralization=True), {}, ValueError, "grad_centralization"),
    ("group-weight_decay-negative", lambda: _group(weight_decay=-1.0), {}, ValueError, "'weight_decay'"),
]


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("make_params, kwargs, error, pattern", [case[1:] for case in INVALID],
                         ids=[case[0] for case in INVALID])
def test_invalid_arguments(make_params, kwargs, error, pattern):
    """
    Feature: AdaHessian constructor argument checking.
    Description: one invalid constructor argument or group setting at a time.
    Expectation: the listed exception type, a message starting with "For 'AdaHessian'," and naming the problem.
    """
    params = [_weight()] if make_params is None else make_params()
    with pytest.raises(error) as info:
        AdaHessian(params, **kwargs)
    message = str(info.value.args[0]) if info.value.args else ""
    assert message.startswith(PREFIX), message
    assert re.search(pattern, message), message


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_valid_boundary_arguments():
    """
    Feature: AdaHessian constructor accepts the edges of its ranges.
    Description: hessian_power 1 (int) and 1e-6, update_interval and num_samples as numpy integers, seed 0,
        use_lazy/use_offload False, a tuple of parameters, an int loss scale, group settings of every kind.
    Expectation: construction succeeds and stores the settings per parameter.
    """
    w, u = _weight("w"), _weight("u", (2, 3))
    optimizer = AdaHessian((w, u), hessian_power=1, update_interval=np.int64(2), num_samples=np.int32(3), seed=0,
                           use_lazy=False, use_offload=False, loss_scale=2)
    assert optimizer.hessian_powers == (1.0, 1.0)
    assert optimizer.update_interval == 2 and optimizer.num_samples == 3
    optimizer = AdaHessian([{"params": [w], "hessian_power": 1e-6, "curvature": "gradient"},
                            {"params": [u], "spatial_average": "none", "lr": 0.5}], hessian_power=0.5)
    assert optimizer.hessian_powers == (1e-6, 0.5)
    assert optimizer.curvatures == ("gradient", "hutchinson")
    assert optimizer.moment2[1].shape == (2, 3)


class _Problem:
    """A two-parameter optimizer with a matching loss for call-time checks."""

    def __init__(self):
        self.w = _weight("w", (3,))
        self.u = _weight("u", (2, 2))
        self.optimizer = AdaHessian([self.w, self.u], learning_rate=0.1)

    def loss(self, x):
        return ops.sum(x * self.w ** 2) + ops.sum(self.u ** 2)


def _wrong_count_grad_fn(problem):
    return ms.grad(problem.loss, None, [problem.w])


def _wrong_shape_grad_fn(problem):
    grad_fn = ms.grad(problem.loss, None, [problem.w, problem.u])

    def wrong_shape(x):
        grads = grad_fn(x)
        return grads[0], grads[1].reshape(4)

    return wrong_shape


def _transposed_grad_fn(problem):
    grad_fn = ms.value_and_grad(problem.loss, None, [problem.w, problem.u])

    def transposed(x):
        loss, grads = grad_fn(x)
        return loss, (grads[0].reshape(3, 1), grads[1])

    return transposed


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("make_grad_fn, pattern", [
    (_wrong_count_grad_fn, "one gradient per parameter"),
    (_wrong_shape_grad_fn, "must have shape"),
    (_transposed_grad_fn, "must have shape"),
], ids=["count", "shape", "value_and_grad-shape"])
def test_wrong_grad_fn_outputs(make_grad_fn, pattern):
    """
    Feature: AdaHessian checks what grad_fn returns (PYNATIVE).
    Description: grad_fn returning gradients for one of two parameters, or a gradient of the wrong shape
        (from grad and from value_and_grad).
    Expectation: ValueError with an AdaHessian message; parameters, moments and counters are unchanged.
    """
    problem = _Problem()
    with pytest.raises(ValueError, match=pattern) as info:
        problem.optimizer(make_grad_fn(problem), Tensor(np.ones(3, np.float32)))
    assert str(info.value).startswith(PREFIX)
    np.testing.assert_array_equal(problem.w.asnumpy(), np.ones(3))
    np.testing.assert_array_equal(problem.optimizer.moment1[0].asnumpy(), np.zeros(3))
    assert int(problem.optimizer.global_step.asnumpy()[0]) == 0
    assert int(problem.optimizer.hessian_step.asnumpy()[0]) == 0


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_wrong_grad_fn_outputs_graph():
    """
    Feature: AdaHessian checks what grad_fn returns (GRAPH mode).
    Description: a grad_fn returning gradients for one of two parameters, called in GRAPH mode.
    Expectation: ValueError naming the gradient count; the optimizer's state is unchanged.
    """
    problem = _Problem()
    ms.set_context(mode=ms.GRAPH_MODE)
    try:
        with pytest.raises(ValueError, match="one gradient per parameter"):
            problem.optimizer(_wrong_count_grad_fn(problem), Tensor(np.ones(3, np.float32)))
    finally:
        ms.set_context(mode=ms.PYNATIVE_MODE)
    assert int(problem.optimizer.global_step.asnumpy()[0]) == 0
    np.testing.assert_array_equal(problem.w.asnumpy(), np.ones(3))


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("bad_input", [np.ones(3, np.float32), "x", None, [Tensor(np.ones(3, np.float32)), "x"],
                                       {"x": 1}], ids=["ndarray", "str", "none", "list-with-str", "dict"])
def test_wrong_input_types(bad_input):
    """
    Feature: AdaHessian checks the inputs passed on to grad_fn.
    Description: a numpy array, a string, None, a list holding a string and a dict as the input.
    Expectation: TypeError with an AdaHessian message naming the position; no step is taken.
    """
    problem = _Problem()
    grad_fn = ms.grad(problem.loss, None, [problem.w, problem.u])
    with pytest.raises(TypeError, match="inputs of 'grad_fn' must be Tensor") as info:
        problem.optimizer(grad_fn, bad_input)
    assert str(info.value).startswith(PREFIX)
    assert "position 0" in str(info.value)
    assert int(problem.optimizer.global_step.asnumpy()[0]) == 0


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("hessian_inputs, pattern", [
    (Tensor(np.ones(3, np.float32)), "the 'hessian_inputs' must be a tuple or list of the inputs of 'grad_fn', "
                                     "but got Tensor"),
    ("x", "the 'hessian_inputs' must be a tuple or list of the inputs of 'grad_fn', but got str"),
    ((np.ones(3, np.float32),), "the elements of 'hessian_inputs' must be Tensor, number, or tuple/list of them, "
                                "but got ndarray at position 0"),
    ((Tensor(np.ones(3, np.float32)), None), "the elements of 'hessian_inputs' must be Tensor, number, or "
                                             "tuple/list of them, but got NoneType at position 1"),
], ids=["tensor", "str", "tuple-with-ndarray", "tuple-with-none"])
def test_wrong_hessian_inputs(hessian_inputs, pattern):
    """
    Feature: AdaHessian checks the inputs of its Hessian-vector products.
    Description: hessian_inputs as a bare Tensor, a string, a tuple holding a numpy array and one holding None.
    Expectation: TypeError with an AdaHessian message saying what was expected and what came; no step is taken.
    """
    problem = _Problem()
    grad_fn = ms.grad(problem.loss, None, [problem.w, problem.u])
    with pytest.raises(TypeError) as info:
        problem.optimizer(grad_fn, Tensor(np.ones(3, np.float32)), hessian_inputs=hessian_inputs)
    assert str(info.value).startswith(PREFIX + " " + pattern)
    assert int(problem.optimizer.global_step.asnumpy()[0]) == 0
