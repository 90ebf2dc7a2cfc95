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
"""Reliability of AdaHessian: non-finite steps, loss scaling, mixed precision, checkpoints,
operators without second derivatives, learning-rate schedules and parameter groups."""
import os
import re
import warnings

import numpy as np
import pytest
import mindspore as ms
from mindspore import Parameter, Tensor, amp, nn, ops

from mindflow import AdaHessian
from mindflow.cell.optimizers.diagnostics import SecondOrderError

MODES = [ms.PYNATIVE_MODE, ms.GRAPH_MODE]
MODE_IDS = ["pynative", "graph"]


@pytest.fixture(name="mode", params=MODES, ids=MODE_IDS)
def fixture_mode(request):
    """Run a test in one execution mode and restore PYNATIVE afterwards."""
    ms.set_context(mode=request.param)
    yield request.param
    ms.set_context(mode=ms.PYNATIVE_MODE)


def _data(seed=0, rows=32):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (rows, 3)).astype(np.float32)
    y = (np.sin(2.0 * x[:, :1]) + x[:, 1:2] * x[:, 2:]).astype(np.float32)
    return Tensor(x), Tensor(y)


def _mlp(seed=0):
    """A small tanh MLP with deterministic weights."""
    rng = np.random.default_rng(seed)
    net = nn.SequentialCell(nn.Dense(3, 8, activation="tanh"), nn.Dense(8, 1))
    for param in net.trainable_params():
        param.set_data(Tensor(rng.normal(0.0, 0.5, param.shape).astype(np.float32)))
    return net


def _regression_loss(net, scale=1.0):
    def loss_fn(x, y):
        return ops.mean((net(x) - y) ** 2) * scale
    return loss_fn


def _snapshot(optimizer):
    return {p.name: p.asnumpy().copy() for p in optimizer.parameters} | {
        m.name: m.asnumpy().copy() for m in list(optimizer.moment1) + list(optimizer.moment2)} | {
            "global_step": optimizer.global_step.asnumpy().copy(),
            "hessian_step": optimizer.hessian_step.asnumpy().copy()}


def _assert_same_state(first, second, rtol=0.0, atol=0.0):
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_allclose(first[key], second[key], rtol=rtol, atol=atol, err_msg=key)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("update_interval, hvp_method", [(1, "autodiff"), (2, "autodiff"), (1, "finite_difference")])
def test_nonfinite_step_is_skipped(mode, update_interval, hvp_method):
    """
    Feature: AdaHessian non-finite handling.
    Description: a batch full of NaN makes the gradient and the Hessian estimate NaN; also with the estimate by
        finite difference, which moves the parameters during the step.
    Expectation: the step is skipped (parameters, moments and counters unchanged, bit for bit), step_skipped is
        True, a RuntimeWarning names the step (skip_check_interval 1: checked after every step), and the next
        finite step trains normally.
    """
    del mode
    net = _mlp()
    x, y = _data()
    optimizer = AdaHessian(net.trainable_params(), learning_rate=0.05, eps=1e-4, update_interval=update_interval,
                           hvp_method=hvp_method)
    optimizer.skip_check_interval = 1  # warn at the step itself
    grad_fn = ms.value_and_grad(_regression_loss(net), None, optimizer.parameters)
    optimizer(grad_fn, x, y)
    before = _snapshot(optimizer)
    bad_x = Tensor(np.full(x.shape, np.nan, np.float32))
    with pytest.warns(RuntimeWarning, match=r"step 2 was skipped"):
        loss = optimizer(grad_fn, bad_x, y)
    assert np.isnan(loss.asnumpy())
    assert optimizer.step_skipped
    _assert_same_state(before, _snapshot(optimizer))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        optimizer(grad_fn, x, y)
    assert not optimizer.step_skipped
    assert optimizer.global_step.asnumpy()[0] == 2


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_static_loss_scale_unscales_gradient_and_curvature(mode):
    """
    Feature: AdaHessian loss scaling.
    Description: train once on the plain loss and once on the loss times 1024 with loss_scale=1024.
    Expectation: the same parameters and second moments (both g and Hz are unscaled), unlike a run that
        scales the loss without telling the optimizer.
    """
    del mode
    x, y = _data()
    states = []
    for scale, declared in ((1.0, 1.0), (1024.0, 1024.0), (1024.0, 1.0)):
        net = _mlp()
        optimizer = AdaHessian(net.trainable_params(), learning_rate=0.05, eps=1e-4, loss_scale=declared)
        grad_fn = ms.grad(_regression_loss(net, scale), None, optimizer.parameters)
        for _ in range(5):
            optimizer(grad_fn, x, y)
        states.append(_snapshot(optimizer))
    _assert_same_state(states[0], states[1], rtol=1e-4, atol=1e-6)
    moment2 = [key for key in states[0] if key.startswith("moment2")]
    assert any(not np.allclose(states[0][key], states[2][key], rtol=1e-2) for key in moment2)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_dynamic_loss_scaler(mode):
    """
    Feature: AdaHessian with mindspore.amp.DynamicLossScaler.
    Description: the loss is scaled by the scaler; an overflowing batch is fed once.
    Expectation: the overflow step is skipped and halves the scale; finite steps train (loss falls)
        and the scale grows after scale_window good steps.
    """
    del mode
    net = _mlp()
    x, y = _data()
    scaler = amp.DynamicLossScaler(2.0 ** 12, 2, 20)
    base_loss = _regression_loss(net)

    def scaled_loss(a, b):
        return scaler.scale(base_loss(a, b))

    optimizer = AdaHessian(net.trainable_params(), learning_rate=0.05, eps=1e-4, loss_scale=scaler)
    optimizer.skip_check_interval = 1  # warn at the step itself
    grad_fn = ms.value_and_grad(scaled_loss, None, optimizer.parameters)
    first = float(optimizer(grad_fn, x, y).asnumpy()) / 2.0 ** 12
    with pytest.warns(RuntimeWarning, match="skipped"):
        optimizer(grad_fn, Tensor(np.full(x.shape, np.inf, np.float32)), y)
    assert float(scaler.scale_value.asnumpy()) == 2.0 ** 11
    for _ in range(25):
        loss = optimizer(grad_fn, x, y)
    assert float(scaler.scale_value.asnumpy()) == 2.0 ** 12
    assert float(loss.asnumpy()) / 2.0 ** 12 < 0.5 * first
    assert optimizer.global_step.asnumpy()[0] == 26


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("precision", ["float16_params", "auto_mixed_precision"])
def test_mixed_precision(mode, precision):
    """
    Feature: AdaHessian with float16.
    Description: a network with float16 parameters, and a float32 network under amp O2.
    Expectation: parameter dtypes are preserved, both moments are float32, and the loss falls.
    """
    del mode
    net = _mlp()
    x, y = _data()
    if precision == "float16_params":
        net.to_float(ms.float16)
        for param in net.trainable_params():
            param.set_dtype(ms.float16)
        model = net
        expected = ms.float16
    else:
        model = amp.auto_mixed_precision(net, "O2")
        expected = ms.float32

    def loss_fn(a, b):
        return ops.mean((ops.cast(model(a), ms.float32) - b) ** 2)

    optimizer = AdaHessian(net.trainable_params(), learning_rate=0.05, eps=1e-4)
    grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)
    first = float(optimizer(grad_fn, x, y).asnumpy())
    for _ in range(40):
        loss = float(optimizer(grad_fn, x, y).asnumpy())
    assert all(p.dtype == expected for p in optimizer.parameters)
    assert all(m.dtype == ms.float32 for m in list(optimizer.moment1) + list(optimizer.moment2))
    assert loss < 0.5 * first


def _train(optimizer, grad_fn, x, y, steps):
    for _ in range(steps):
        optimizer(grad_fn, x, y)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("in_place", [False, True], ids=["joined", "in_place"])
@pytest.mark.parametrize("update_interval", [1, 3])
def test_checkpoint_resume_is_bit_exact(mode, update_interval, in_place, tmp_path, monkeypatch):
    """
    Feature: AdaHessian checkpoints.
    Description: train 10 steps uninterrupted; separately train 4 steps, save the optimizer with
        mindspore.save_checkpoint, build a fresh network and optimizer that runs 2 steps of its own
        (so its step is compiled), load_checkpoint + load_param_into_net into it, and train 6 more steps.
        Once with the joined update, once with every parameter updated in place by the fused kernel (whose
        Hessian term is state of its own, read by the lazy steps after the restore).
    Expectation: parameters, moments and counters are bit-identical; the probe seed and the refresh
        counter are part of the checkpoint.
    """
    del mode
    if in_place:
        monkeypatch.setattr(AdaHessian, "_in_place_min_size", 1)
    x, y = _data()
    settings = {"learning_rate": 0.05, "eps": 1e-4, "update_interval": update_interval, "seed": 7}

    net = _mlp()
    reference = AdaHessian(net.trainable_params(), **settings)
    assert len(reference.in_place_index) == (len(reference.parameters) if in_place else 0)
    _train(reference, ms.value_and_grad(_regression_loss(net), None, reference.parameters), x, y, 10)

    net = _mlp()
    first = AdaHessian(net.trainable_params(), **settings)
    _train(first, ms.value_and_grad(_regression_loss(net), None, first.parameters), x, y, 4)
    path = os.path.join(tmp_path, "adahessian.ckpt")
    ms.save_checkpoint(first, path)

    net = _mlp(seed=1)  # different weights: all must come from the checkpoint
    resumed = AdaHessian(net.trainable_params(), **{**settings, "seed": 0})
    grad_fn = ms.value_and_grad(_regression_loss(net), None, resumed.parameters)
    _train(resumed, grad_fn, x, y, 2)  # a compiled step must see the values loaded afterwards
    params_not_loaded, _ = ms.load_param_into_net(resumed, ms.load_checkpoint(path))
    assert not params_not_loaded
    assert int(resumed.probe_seed.asnumpy()) == 7
    assert resumed.global_step.asnumpy()[0] == 4
    _train(resumed, grad_fn, x, y, 6)
    _assert_same_state(_snapshot(reference), _snapshot(resumed))


def _maxpool_net():
    ms.set_seed(0)
    return nn.SequentialCell(nn.Conv2d(3, 4, 3), nn.MaxPool2d(2, 2), nn.Flatten(), nn.Dense(64, 1))


@pytest.mark.level0
# CPU only: it asserts what MindSpore 2.10's CPU backend cannot differentiate twice.
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_operator_without_second_derivative(mode):
    """
    Feature: AdaHessian error for operators without a second derivative.
    Description: a network with MaxPool2d, whose gradient MindSpore 2.10 cannot differentiate again on CPU.
    Expectation: a SecondOrderError that names the convolution weight and suggests hvp_method='finite_difference'
        and curvature='gradient'; following either advice trains (the finite difference with a non-zero
        curvature estimate for the convolution weight).
    """
    del mode
    x = Tensor(np.random.default_rng(0).uniform(size=(2, 3, 8, 8)).astype(np.float32))
    net = _maxpool_net()

    def loss_fn(a):
        return ops.mean(net(a) ** 2)

    optimizer = AdaHessian(net.trainable_params(), learning_rate=0.05)
    with pytest.raises(SecondOrderError, match=r"hvp_method='finite_difference'.*curvature='gradient'") as info:
        optimizer(ms.value_and_grad(loss_fn, None, optimizer.parameters), x)
    named = re.findall(r"parameters \[(.*?)\]", str(info.value))[0]
    assert "'0.weight'" in named
    names = [name.strip(" '") for name in named.split(",")]
    params = net.trainable_params()
    groups = [{"params": [p for p in params if p.name in names], "curvature": "gradient"},
              {"params": [p for p in params if p.name not in names]}]
    optimizer = AdaHessian(groups, learning_rate=0.05, eps=1e-4)
    grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)
    first = float(optimizer(grad_fn, x).asnumpy())
    for _ in range(20):
        loss = float(optimizer(grad_fn, x).asnumpy())
    assert loss < first

    net = _maxpool_net()
    optimizer = AdaHessian(net.trainable_params(), learning_rate=0.05, eps=1e-4, hvp_method="finite_difference")
    grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)
    first = float(optimizer(grad_fn, x).asnumpy())
    assert float(np.abs(optimizer.moment2[0].asnumpy()).max()) > 0  # the convolution weight's curvature
    for _ in range(20):
        loss = float(optimizer(grad_fn, x).asnumpy())
    assert loss < first


def _classifier_losses(net, onehot):
    dense_ce = nn.SoftmaxCrossEntropyWithLogits(sparse=False, reduction="mean")

    def silent_zero(a):
        return dense_ce(net(a), onehot)

    def probability_targets(a):
        return ops.cross_entropy(net(a), onehot)

    def logsumexp_form(a):
        logits = net(a)
        return ops.mean(ops.logsumexp(logits, 1) - ops.sum(logits * onehot, 1))

    return {"softmax_ce_with_logits": silent_zero, "cross_entropy": probability_targets,
            "logsumexp": logsumexp_form}


@pytest.mark.level0
# CPU only: the exactly-zero product is what MindSpore 2.10 gives on CPU; unchecked elsewhere.
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
@pytest.mark.parametrize("loss_name", ["softmax_ce_with_logits", "cross_entropy", "logsumexp"])
def test_silently_zero_curvature_is_reported(mode, loss_name):
    """
    Feature: AdaHessian warning for an all-zero Hessian estimate.
    Description: nn.SoftmaxCrossEntropyWithLogits gives a Hessian-vector product of exactly zero in
        MindSpore 2.10; ops.cross_entropy with probability targets and the log-sum-exp form do not.
    Expectation: a one-time RuntimeWarning naming both parameters for the first, no warning and a
        non-zero second moment for the safe alternatives.
    """
    del mode
    rng = np.random.default_rng(0)
    x = Tensor(rng.uniform(size=(8, 6)).astype(np.float32))
    onehot = Tensor(np.eye(4, dtype=np.float32)[rng.integers(0, 4, 8)])
    net = nn.Dense(6, 4)
    loss_fn = _classifier_losses(net, onehot)[loss_name]
    optimizer = AdaHessian(net.trainable_params(), learning_rate=0.05)
    grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optimizer(grad_fn, x)
        optimizer(grad_fn, x)
    messages = [str(w.message) for w in caught if "exactly zero" in str(w.message)]
    if loss_name == "softmax_ce_with_logits":
        assert len(messages) == 1
        assert "'weight'" in messages[0] and "'bias'" in messages[0]
    else:
        assert not messages
        assert all(float(v.asnumpy().max()) > 0.0 for v in optimizer.moment2)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_dynamic_learning_rate_matches_stepwise_constant(mode):
    """
    Feature: AdaHessian learning-rate schedules.
    Description: one run with a list of learning rates and one with a LearningRateSchedule
        (ExponentialDecayLR), each compared with a run whose constant rate is set (set_data) before each step.
    Expectation: identical parameters and state: step t uses the t-th rate, as in nn.Adam.
    """
    del mode
    x, y = _data()
    rates = [0.05, 0.02, 0.08, 0.01, 0.04, 0.03]
    schedule = nn.ExponentialDecayLR(0.05, 0.7, 1)
    scheduled_rates = [float(schedule(Tensor(step, ms.int32)).asnumpy()) for step in range(len(rates))]
    for learning_rate, expected in ((rates, rates), (schedule, scheduled_rates)):
        net = _mlp()
        dynamic = AdaHessian(net.trainable_params(), learning_rate=learning_rate, eps=1e-4)
        _train(dynamic, ms.value_and_grad(_regression_loss(net), None, dynamic.parameters), x, y, len(rates))

        net = _mlp()
        manual = AdaHessian(net.trainable_params(), learning_rate=expected[0], eps=1e-4)
        grad_fn = ms.value_and_grad(_regression_loss(net), None, manual.parameters)
        for rate in expected:
            manual.learning_rate.set_data(Tensor(rate, ms.float32))
            manual(grad_fn, x, y)
        _assert_same_state(_snapshot(dynamic), _snapshot(manual), rtol=1e-6, atol=1e-7)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_parameter_groups_lr_and_weight_decay(mode):
    """
    Feature: AdaHessian parameter groups.
    Description: groups with their own lr and weight_decay, as nn.Adam takes them, plus order_params.
    Expectation: a group with lr=0 stays frozen while the other trains; the decoupled weight decay of a
        group shrinks its parameters by exactly lr*wd*p more than the same step without decay (step 1).
    """
    del mode
    x, y = _data()
    net = _mlp()
    first, second = net.trainable_params()[:2], net.trainable_params()[2:]
    frozen = [p.asnumpy().copy() for p in first]
    optimizer = AdaHessian([{"params": first, "lr": 0.0}, {"params": second, "lr": 0.05},
                            {"order_params": net.trainable_params()}], learning_rate=0.01, eps=1e-4)
    grad_fn = ms.value_and_grad(_regression_loss(net), None, optimizer.parameters)
    moved = [p.asnumpy().copy() for p in second]
    _train(optimizer, grad_fn, x, y, 3)
    assert all(np.array_equal(a, p.asnumpy()) for a, p in zip(frozen, first))
    assert all(not np.array_equal(a, p.asnumpy()) for a, p in zip(moved, second))

    results = []
    for decay in (0.0, 0.1):
        net = _mlp()
        params = net.trainable_params()
        optimizer = AdaHessian([{"params": params[:1], "weight_decay": decay}, {"params": params[1:]}],
                               learning_rate=0.05, eps=1e-4)
        initial = params[0].asnumpy().copy()
        optimizer(ms.value_and_grad(_regression_loss(net), None, optimizer.parameters), x, y)
        results.append((initial, params[0].asnumpy().copy(), params[1].asnumpy().copy()))
    initial, plain, bias_plain = results[0]
    decayed, bias_decayed = results[1][1], results[1][2]
    np.testing.assert_allclose(plain - decayed, 0.05 * 0.1 * initial, rtol=1e-4, atol=1e-7)
    np.testing.assert_array_equal(bias_plain, bias_decayed)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_bad_calls_are_named():
    """
    Feature: AdaHessian call validation.
    Description: a non-trainable parameter, a grad_fn returning too few or wrongly shaped gradients,
        and inputs of the wrong type.
    Expectation: each raises an error naming the argument and what was expected.
    """
    frozen = Parameter(Tensor(np.ones(3, np.float32)), name="frozen", requires_grad=False)
    with pytest.raises(ValueError, match=r"'frozen' has requires_grad=False"):
        AdaHessian([frozen])
    net = nn.Dense(3, 2)
    x = Tensor(np.ones((4, 3), np.float32))

    def loss_fn(a):
        return ops.mean(net(a) ** 2)

    optimizer = AdaHessian(net.trainable_params())
    with pytest.raises(ValueError, match=r"one gradient per parameter \(2\), but got 1"):
        optimizer(ms.grad(loss_fn, None, [net.weight]), x)
    with pytest.raises(ValueError, match=r"gradient of 'weight' must have shape \(2, 3\), but got \(2,\)"):
        optimizer(ms.grad(loss_fn, None, [net.bias, net.weight]), x)
    with pytest.raises(TypeError, match=r"inputs of 'grad_fn' must be Tensor.*ndarray at position 0"):
        optimizer(ms.grad(loss_fn, None, optimizer.parameters), np.ones((4, 3), np.float32))
