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
"""AdaHessian against the independent NumPy reference, step by step, in PYNATIVE and GRAPH mode.

Every MindSpore run is made once per (configuration, mode) and cached, so that the comparisons with
NumPy, between modes, with a user's ``mindspore.jit`` step and the compile-once check share the
few GRAPH compilations.
"""
import functools
import math
import time

import numpy as np
import pytest
import mindspore as ms
from mindspore import Parameter, Tensor, ops
from device_tolerance import tolerance
from numpy_reference import AdaHessianReference, QuarticLoss, hutchinson_estimate

from mindflow import AdaHessian
from mindflow.cell.optimizers.update import adahessian_update

STEPS = 20
RTOL = 1e-5
ATOL = 1e-6
SHAPES = ((), (3,), (2, 3), (2, 2, 3), (2, 1, 2, 3), (1, 2, 2, 1, 2))
# 'gamma' in a name turns non-group weight decay off for that parameter (as in nn.Adam).
NAMES = ("w0", "w1", "w2", "norm.gamma", "w4", "w5")
PAIRS = ((0, 4), (1, 2), (3, 5))
KAPPA = 0.05
X_INPUT = 0.5
MODES = {"pynative": ms.PYNATIVE_MODE, "graph": ms.GRAPH_MODE}


def _f32(value):
    return np.asarray(value, np.float32)


def _problem():
    """Coefficients, initial values and probe tables, all float32-representable."""
    rng = np.random.default_rng(2026)
    a = [_f32(rng.uniform(1.0, 2.0, size=s)) for s in SHAPES]
    b = [_f32(rng.uniform(-1.0, 1.0, size=s)) for s in SHAPES]
    c = [_f32(rng.uniform(0.5, 1.0, size=s)) for s in SHAPES]
    init = [_f32(rng.normal(size=s)) for s in SHAPES]
    # tables[i][s] holds the probes of parameter i, sample s, for refreshes 0 .. STEPS-1
    tables = [[_f32(rng.choice([-1.0, 1.0], size=(STEPS,) + s)) for _ in range(2)] for s in SHAPES]
    return a, b, c, init, tables


A_COEF, B_COEF, C_COEF, INIT, TABLES = _problem()
NP_LOSS = QuarticLoss(A_COEF, B_COEF, C_COEF, PAIRS, KAPPA)
LR_LIST = [0.08 * 0.97 ** step for step in range(STEPS)]

# Each configuration: optimizer keyword arguments, groups (lists of parameter indices and settings,
# None for a flat parameter list), the loss scale and whether probes are looked up by parameter
# index (stream) or by shape.
CONFIGS = {
    "flat": {
        "kwargs": {"learning_rate": LR_LIST, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6, "weight_decay": 0.05,
                   "hessian_power": 0.5, "update_interval": 3, "num_samples": 2, "loss_scale": 8.0,
                   "step_clip": None},
        "groups": None, "loss_scale": 8.0, "by_shape": False,
    },
    "groups_every_step": {
        "kwargs": {"learning_rate": 0.05, "update_interval": 1, "step_clip": None},
        "groups": [({"hessian_power": 0.5}, [0]),
                   ({"hessian_power": 0.5, "weight_decay": 0.04, "lr": 0.03}, [1, 2]),
                   ({"weight_decay": 0.02, "spatial_average": "none"}, [3]),
                   ({"hessian_power": 1.0, "lr": 0.07}, [4, 5])],
        "loss_scale": 1.0, "by_shape": False,
    },
    # as "flat", with H z by a forward difference of two gradients: the reference keeps the exact H z,
    # so the tolerance allows for the difference's error (about h * (third derivative), h ~ 1e-3)
    "flat_finite_difference": {
        "kwargs": {"learning_rate": LR_LIST, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6, "weight_decay": 0.05,
                   "hessian_power": 0.5, "update_interval": 3, "num_samples": 2, "loss_scale": 8.0,
                   "hvp_method": "finite_difference", "step_clip": None},
        "groups": None, "loss_scale": 8.0, "by_shape": False, "rtol": 5e-3, "atol": 1e-4,
    },
    "groups_lazy": {
        "kwargs": {"learning_rate": 0.06, "beta2": 0.9, "update_interval": 3, "hessian_power": 0.5,
                   "step_clip": None},
        "groups": [({"weight_decay": 0.03}, [0, 1]),
                   ({"hessian_power": 1.0}, [2]),
                   ({"hessian_power": 1.0, "weight_decay": 0.05, "spatial_average": (0, -1)}, [3]),
                   ({}, [4]),
                   ({"curvature": "gradient", "hessian_power": 1.0}, [5])],
        "loss_scale": 1.0, "by_shape": True,
    },
    # the safe step: a rate large enough that the clip bounds some steps (the test checks that it does), a
    # refresh every other step so that parameters updated in place take the floor of their last refresh between
    "groups_step_clip": {
        "kwargs": {"learning_rate": 0.4, "beta2": 0.9, "eps": 1e-6, "update_interval": 2, "step_clip": 0.5,
                   "loss_scale": 4.0},
        "groups": [({"hessian_power": 0.5}, [0, 1]), ({"weight_decay": 0.02}, [2, 3]), ({"lr": 0.2}, [4, 5])],
        "loss_scale": 4.0, "by_shape": False,
    },
}


def _make_probe_fn(by_shape):
    """A graph-compilable probe_fn reading the fixed tables at the refresh counter."""
    tables = [[Tensor(t) for t in per_sample] for per_sample in TABLES]
    index_of_shape = {shape: i for i, shape in enumerate(SHAPES)}

    def probe_fn(shape, _seed, counter, stream):
        index = index_of_shape[tuple(shape)] if by_shape else stream[0]
        return ops.gather(tables[index][stream[1]], counter.reshape(()), 0)

    return probe_fn


def _make_loss_fn(params, scale):
    """The MindSpore twin of NP_LOSS, multiplied by the loss scale."""
    a = [Tensor(v) for v in A_COEF]
    b = [Tensor(v) for v in B_COEF]
    c = [Tensor(v) for v in C_COEF]

    def loss_fn(x):
        total = KAPPA * x * ops.sum(params[PAIRS[0][0]]) * ops.sum(params[PAIRS[0][1]])
        for i, j in PAIRS[1:]:
            total = total + KAPPA * x * ops.sum(params[i]) * ops.sum(params[j])
        for w, a_i, b_i, c_i in zip(params, a, b, c):
            total = total + ops.sum(a_i * w * w) / 2 + ops.sum(c_i * w ** 4) / 4 + x * ops.sum(b_i * w)
        return total * scale

    return loss_fn


def _build(name):
    """Fresh parameters, optimizer and value_and_grad function of a configuration."""
    config = CONFIGS[name]
    params = [Parameter(Tensor(v.copy()), name=n) for v, n in zip(INIT, NAMES)]
    if config["groups"] is None:
        arg = params
    else:
        arg = [dict(settings, params=[params[i] for i in indices]) for settings, indices in config["groups"]]
    optimizer = AdaHessian(arg, probe=_make_probe_fn(config["by_shape"]), **config["kwargs"])
    grad_fn = ms.value_and_grad(_make_loss_fn(params, config["loss_scale"]), None, optimizer.parameters)
    return params, optimizer, grad_fn


def _snapshot(optimizer):
    return {"params": [p.asnumpy().astype(np.float64) for p in optimizer.parameters],
            "moment1": [m.asnumpy().astype(np.float64) for m in optimizer.moment1],
            "moment2": [v.asnumpy().astype(np.float64) for v in optimizer.moment2],
            "global_step": int(optimizer.global_step.asnumpy()[0]),
            "hessian_step": int(optimizer.hessian_step.asnumpy()[0])}


def _check_counters(optimizer):
    for counter in (optimizer.global_step, optimizer.hessian_step):
        assert counter.dtype == ms.int32
        assert counter.shape == (1,)


@functools.lru_cache(maxsize=None)
def run_mindspore(name, mode, use_jit=False, in_place=False):
    """Run STEPS steps; returns (snapshots, losses, seconds per call, the optimizer).

    ``in_place``: every float32 parameter takes the in-place update of large parameters, whatever its size.
    """
    ms.set_context(mode=MODES[mode])
    threshold = AdaHessian._in_place_min_size  # pylint: disable=protected-access
    try:
        AdaHessian._in_place_min_size = 1 if in_place else threshold  # pylint: disable=protected-access
        try:
            _, optimizer, grad_fn = _build(name)
        finally:
            AdaHessian._in_place_min_size = threshold  # pylint: disable=protected-access
        expected = tuple(range(len(SHAPES))) if in_place else ()
        assert optimizer.in_place_index == expected

        @ms.jit
        def train_step(x):
            return optimizer(grad_fn, x)

        x = Tensor(X_INPUT, ms.float32)
        snapshots, losses, seconds = [], [], []
        for _ in range(STEPS):
            start = time.perf_counter()
            loss = train_step(x) if use_jit else optimizer(grad_fn, x)
            losses.append(float(loss.asnumpy()))
            seconds.append(time.perf_counter() - start)
            snapshots.append(_snapshot(optimizer))
        _check_counters(optimizer)
        return snapshots, losses, seconds, optimizer
    finally:
        ms.set_context(mode=ms.PYNATIVE_MODE)


def _reference_settings(name):
    """The NumPy reference of a configuration: per-parameter settings as the spec defines them."""
    config = CONFIGS[name]
    kwargs = dict(config["kwargs"])
    count = len(SHAPES)
    lr = kwargs.pop("learning_rate")
    wd = kwargs.pop("weight_decay", 0.0)
    power = kwargs.pop("hessian_power", 1.0)
    kwargs.pop("num_samples", None)
    kwargs.pop("loss_scale", None)
    kwargs.pop("hvp_method", None)
    per_param = {"lr": [lr] * count, "hessian_power": [power] * count, "curvature": ["hutchinson"] * count,
                 "axes": [None] * count}
    if config["groups"] is None:
        per_param["weight_decay"] = [0.0 if ("beta" in n or "gamma" in n) else wd for n in NAMES]
    else:
        per_param["weight_decay"] = [wd] * count
        for settings, indices in config["groups"]:
            for i in indices:
                per_param["lr"][i] = settings.get("lr", lr)
                per_param["weight_decay"][i] = settings.get("weight_decay", wd)
                per_param["hessian_power"][i] = settings.get("hessian_power", power)
                per_param["curvature"][i] = settings.get("curvature", "hutchinson")
                rule = settings.get("spatial_average", "auto")
                if rule == "none":
                    per_param["axes"][i] = ()
                elif rule != "auto":
                    per_param["axes"][i] = tuple(sorted(a % len(SHAPES[i]) for a in rule))
    default = AdaHessianReference(INIT).axes
    per_param["axes"] = [d if a is None else a for a, d in zip(per_param["axes"], default)]
    return kwargs, per_param, config["loss_scale"]


@functools.lru_cache(maxsize=None)
def run_numpy(name, in_place=False):
    """The NumPy reference run of a configuration: the state after every step, the losses and how many elements
    the step clip bounded. ``in_place``: every parameter is updated in place (see ``AdaHessianReference``)."""
    config = CONFIGS[name]
    kwargs, per_param, scale = _reference_settings(name)
    per_param["in_place"] = [in_place] * len(SHAPES)
    samples = config["kwargs"].get("num_samples", 1)
    reference = AdaHessianReference(INIT, loss_scale=scale, per_param=per_param, **kwargs)
    hutchinson = [c == "hutchinson" for c in per_param["curvature"]]

    def estimate_fn(counter):
        params = reference.params
        probe_sets = [[TABLES[i][s][counter] if hutchinson[i] else np.zeros(SHAPES[i]) for i in range(len(SHAPES))]
                      for s in range(samples)]
        return [scale * e for e in hutchinson_estimate(lambda p, z: NP_LOSS.hvp(p, X_INPUT, z), params, probe_sets)]

    snapshots, losses = [], []
    for _ in range(STEPS):
        losses.append(scale * NP_LOSS.value(reference.params, X_INPUT))
        grads = [scale * g for g in NP_LOSS.grad(reference.params, X_INPUT)]
        reference.step(grads, estimate_fn)
        snapshots.append(reference.state())
    return snapshots, losses, reference.clipped


def _assert_same_run(actual, expected, rtol=RTOL, atol=ATOL):
    assert len(actual) == len(expected) == STEPS
    for step, (got, want) in enumerate(zip(actual, expected), start=1):
        assert got["global_step"] == want["global_step"] == step
        assert got["hessian_step"] == want["hessian_step"], f"step {step}"
        for key in ("params", "moment1", "moment2"):
            for i, (g, w) in enumerate(zip(got[key], want[key])):
                assert g.shape == w.shape, f"{key}[{i}] at step {step}"
                np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"{key}[{i}] at step {step}")


@pytest.fixture(autouse=True)
def pynative_afterwards():
    """Every test leaves the context in PYNATIVE mode."""
    yield
    ms.set_context(mode=ms.PYNATIVE_MODE)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("in_place", [False, True], ids=["joined", "in_place"])
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_matches_numpy_reference(name, mode, in_place):
    """
    Feature: AdaHessian update rule.
    Description: 20 steps on a quadratic-plus-quartic loss with cross couplings, parameters of 0-D to 5-D,
        fixed probe tables fed through a probe_fn. Configurations cover hessian_power 1 and 0.5,
        update_interval 1 and 3, weight decay on and off (flat and per group, 'gamma' names skipped in the
        flat case), the default betas (0.9, 0.999) and others, two probes per refresh, a learning-rate list,
        loss scale 8, per-group lr, spatial_average and curvature. The independent float64 NumPy reference
        consumes the same probes, with exact Hessian-vector products, also for the configuration whose
        AdaHessian takes them by finite difference (hvp_method="finite_difference").
        Each run twice: with the joined update these small parameters get, and with the size limit of the in-place
        update lowered to 1, so that every parameter goes through the fused Adam kernel (as float32 parameters of
        2**16 elements or more do).
    Expectation: parameters, moment1, moment2 (at its reduced shape), global_step and hessian_step agree at
        every step (rtol 1e-5; 5e-3 with the finite difference, whose largest error seen is 1.4e-3), and the
        returned loss is the loss before the step; the in-place runs update every parameter in place.
    """
    snapshots, losses, _, _ = run_mindspore(name, mode, in_place=in_place)
    expected, expected_losses, clipped = run_numpy(name, in_place)
    assert (clipped > 0) == (CONFIGS[name]["kwargs"]["step_clip"] is not None)
    allowed = tolerance(CONFIGS[name].get("rtol", RTOL), CONFIGS[name].get("atol", ATOL))
    _assert_same_run(snapshots, expected, **allowed)
    np.testing.assert_allclose(losses, expected_losses, **allowed)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_graph_equals_pynative(name):
    """
    Feature: AdaHessian in both execution modes.
    Description: the same configuration, probes and inputs run in PYNATIVE mode and in GRAPH mode.
    Expectation: parameters, moments and counters agree at every step to float32 rounding (rtol 1e-6).
    """
    pynative, pynative_losses, _, _ = run_mindspore(name, "pynative")
    graph, graph_losses, _, _ = run_mindspore(name, "graph")
    _assert_same_run(graph, pynative, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(graph_losses, pynative_losses, rtol=1e-6, atol=1e-7)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_graph_call_compiles_once():
    """
    Feature: AdaHessian plain call in GRAPH mode.
    Description: optimizer(grad_fn, x) called 20 times with the same grad_fn in GRAPH mode.
    Expectation: the optimizer's cache of compiled steps holds exactly one entry, and calls 2 to 6 together
        take less than half the time of the first call (which compiles).
    """
    _, _, seconds, optimizer = run_mindspore("groups_every_step", "graph")
    assert len(optimizer._step_cache.entries) == 1  # pylint: disable=protected-access
    assert sum(seconds[1:6]) < 0.5 * seconds[0], seconds


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_inside_user_jit_step():
    """
    Feature: AdaHessian inside a user's mindspore.jit train step.
    Description: @ms.jit def train_step(x): return optimizer(grad_fn, x), 20 steps of the flat configuration
        (lazy refresh, two probes, lr list, loss scale, weight decay) in PYNATIVE mode.
    Expectation: the same numbers as the plain call (rtol 1e-6) and as NumPy (rtol 1e-5).
    """
    jitted, jitted_losses, _, _ = run_mindspore("flat", "pynative", use_jit=True)
    plain, plain_losses, _, _ = run_mindspore("flat", "pynative")
    _assert_same_run(jitted, plain, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(jitted_losses, plain_losses, rtol=1e-6, atol=1e-7)
    _assert_same_run(jitted, run_numpy("flat")[0])


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("weight_decay, hessian_power, step_clip", [(0.0, 1.0, None), (0.1, 0.5, None),
                                                                    (0.1, 0.5, 0.3)])
def test_update_rule_against_numpy_reference(weight_decay, hessian_power, step_clip):
    """
    Feature: adahessian_update, the update rule alone, as a pure function of joined vectors.
    Description: a (3,) and a (2, 3) parameter joined into 9 elements (the second averaged over axis 1, so 3 + 2
        blocks in moment2 with an expand index); 4 steps with update_interval 2 (refresh, lazy, refresh, lazy),
        fixed gradients and estimates, called eagerly on Tensors; the paper's update, and the safe step with
        step_clip 0.3 (which bounds some of these steps).
    Expectation: parameters and both moments match AdaHessianReference after every step (RTOL; parameters to atol
        1e-5, for float32 steps of order 1), with the refresh count and bias corrections of the reference.
    """
    rng = np.random.default_rng(3)
    init = [rng.normal(size=(3,)), rng.normal(size=(2, 3))]
    reference = AdaHessianReference(init, lr=0.1, weight_decay=weight_decay, hessian_power=hessian_power,
                                    update_interval=2, step_clip=step_clip)
    hyper = tuple(Tensor(v, ms.float32) for v in (0.9, 0.999, 0.1, 1.0 - 0.999, math.log(0.9), math.log(0.999),
                                                      1e-8)) + (hessian_power / 2.0, step_clip)
    expand = Tensor(np.array([0, 1, 2, 3, 3, 3, 4, 4, 4], np.int32))
    params = Tensor(np.concatenate([p.ravel() for p in init]).astype(np.float32))
    moment1 = Tensor(np.zeros(9, np.float32))
    moment2 = Tensor(np.zeros(5, np.float32))
    refreshes = 0
    for step in range(1, 5):
        grads = [rng.normal(size=(3,)), rng.normal(size=(2, 3))]
        estimate = [rng.normal(size=(3,)), rng.normal(size=(2, 3))]
        refresh = reference.is_refresh(step)
        curvature = None
        if refresh:
            blocks = np.concatenate([np.abs(estimate[0]), np.abs(estimate[1]).mean(axis=1)])
            curvature = Tensor(blocks, ms.float32)
        decay = Tensor(weight_decay, ms.float32) if weight_decay else None
        params, moment1, moment2, finite = adahessian_update(
            params, moment1, moment2, Tensor(np.concatenate([g.ravel() for g in grads]), ms.float32), curvature,
            Tensor(refresh), Tensor(float(step), ms.float32), Tensor(float(refreshes), ms.float32), hyper,
            Tensor(0.1, ms.float32), decay, expand)
        refreshes += int(refresh)
        reference.step(grads, lambda _counter, value=estimate: value)
        assert bool(finite.asnumpy())
        state = reference.state()
        # steps of up to lr * |m_hat| / sqrt(v_hat) ~ 1 here, each rounded in float32
        np.testing.assert_allclose(params.asnumpy(), np.concatenate([p.ravel() for p in state["params"]]),
                                   rtol=RTOL, atol=1e-5)
        np.testing.assert_allclose(moment1.asnumpy(), np.concatenate([m.ravel() for m in state["moment1"]]),
                                   rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(moment2.asnumpy(), np.concatenate([v.ravel() for v in state["moment2"]]),
                                   rtol=RTOL, atol=1e-9)
    assert (reference.clipped > 0) == (step_clip is not None)
