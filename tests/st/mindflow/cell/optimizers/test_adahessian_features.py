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
"""AdaHessian features: spatial averaging, default probes and seeds, skipped steps, the upstream
gen_rand_vecs idiom and the gradient-curvature fallback, each checked against the NumPy reference."""
import warnings

import numpy as np
import pytest
import mindspore as ms
from mindspore import Parameter, Tensor, ops
from device_tolerance import tolerance as device_tolerance
from numpy_reference import (AdaHessianReference, QuarticLoss, block_mean, finite_difference_error_bound,
                             hutchinson_estimate)

from mindflow import AdaHessian
from mindflow.cell.optimizers import rademacher_probe


def _f32(value):
    return np.asarray(value, np.float32)


def _quartic_problem(shapes, seed, pairs=()):
    """Parameters, a MindSpore loss x * scale-free quartic and its NumPy twin (see numpy_reference.QuarticLoss)."""
    rng = np.random.default_rng(seed)
    a = [_f32(rng.uniform(1.0, 2.0, size=s)) for s in shapes]
    b = [_f32(rng.uniform(-1.0, 1.0, size=s)) for s in shapes]
    c = [_f32(rng.uniform(0.5, 1.0, size=s)) for s in shapes]
    init = [_f32(rng.normal(size=s)) for s in shapes]
    kappa = 0.05
    params = [Parameter(Tensor(v.copy()), name=f"p{i}") for i, v in enumerate(init)]
    a_t, b_t, c_t = [Tensor(v) for v in a], [Tensor(v) for v in b], [Tensor(v) for v in c]

    def loss_fn(x):
        total = x * 0.0
        for i, j in pairs:
            total = total + kappa * x * ops.sum(params[i]) * ops.sum(params[j])
        for w, a_i, b_i, c_i in zip(params, a_t, b_t, c_t):
            total = total + ops.sum(a_i * w * w) / 2 + ops.sum(c_i * w ** 4) / 4 + x * ops.sum(b_i * w)
        return total

    return params, init, loss_fn, QuarticLoss(a, b, c, pairs, kappa)


def _ones_probe(shape, _seed, _counter, _stream):
    return ops.ones(shape, ms.float32)


def _state(optimizer):
    return ([p.asnumpy().copy() for p in optimizer.parameters], [m.asnumpy().copy() for m in optimizer.moment1],
            [v.asnumpy().copy() for v in optimizer.moment2], int(optimizer.global_step.asnumpy()[0]),
            int(optimizer.hessian_step.asnumpy()[0]))


def _assert_state_matches(optimizer, reference, rtol=1e-5, atol=1e-6):
    allowed = device_tolerance(rtol, atol)  # the values given, on CPU
    params, moment1, moment2, global_step, hessian_step = _state(optimizer)
    assert global_step == reference.t and hessian_step == reference.n
    for got, want in zip(params, reference.params):
        np.testing.assert_allclose(got, want, **allowed)
    for got, want in zip(moment1, reference.m):
        np.testing.assert_allclose(got, want, **allowed)
    for got, want in zip(moment2, reference.v):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, **allowed)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_spatial_average_shapes_flat():
    """
    Feature: spatial_average for a flat parameter list.
    Description: parameters of 0-D to 5-D with spatial_average "auto", "none", (0,) and (-1, 1).
    Expectation: "auto" stores moment2 of shape () / (n,) / (out, 1) / (out, in, 1) / (out, in, 1, 1) /
        (a, b, 1, 1, 1); "none" keeps every full shape; a tuple averages exactly those axes (negative axes
        allowed); moment1 always has the full shape.
    """
    shapes = [(), (5,), (4, 3), (4, 3, 2), (4, 3, 2, 2), (2, 3, 2, 2, 2)]
    params = [Parameter(Tensor(np.ones(s, np.float32)), name=f"p{i}") for i, s in enumerate(shapes)]
    auto = AdaHessian(params)
    assert [m.shape for m in auto.moment2] == [(), (5,), (4, 1), (4, 3, 1), (4, 3, 1, 1), (2, 3, 1, 1, 1)]
    assert [m.shape for m in auto.moment1] == shapes
    assert [m.shape for m in AdaHessian(params, spatial_average="none").moment2] == shapes
    high = params[2:]
    first_axis = AdaHessian(high, spatial_average=(0,))
    assert [m.shape for m in first_axis.moment2] == [(1, 3), (1, 3, 2), (1, 3, 2, 2), (1, 3, 2, 2, 2)]
    last_and_second = AdaHessian(high, spatial_average=(-1, 1))
    assert [m.shape for m in last_and_second.moment2] == [(4, 1), (4, 1, 1), (4, 1, 2, 1), (2, 1, 2, 2, 1)]


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_group_overrides_and_skipped_step():
    """
    Feature: per-group spatial_average and hessian_power, and the skipping of non-finite steps.
    Description: a 4-D conv-like kernel (default: moment2 (out, in, 1, 1)), a 4-D kernel with group
        spatial_average "none", a 3-D parameter with group axes (0, 2) and hessian_power 0.5, and a 2-D one;
        probes all ones through a probe_fn. Step 1 gets x = inf (non-finite gradient), then two finite steps.
    Expectation: the moment2 shapes follow the groups; the non-finite step changes nothing (parameters,
        moments, counters) and sets step_skipped with a RuntimeWarning; the two finite steps then match the
        NumPy reference with the same group settings (rtol 1e-5) and step_skipped reads False.
    """
    shapes = [(3, 2, 2, 2), (2, 2, 3, 1), (2, 3, 4), (3, 4)]
    params, init, loss_fn, np_loss = _quartic_problem(shapes, 11, pairs=((0, 2),))
    groups = [{"params": [params[0]]},
              {"params": [params[1]], "spatial_average": "none"},
              {"params": [params[2]], "spatial_average": (0, 2), "hessian_power": 0.5},
              {"params": [params[3]], "weight_decay": 0.01}]
    optimizer = AdaHessian(groups, learning_rate=0.05, probe=_ones_probe)
    assert [m.shape for m in optimizer.moment2] == [(3, 2, 1, 1), (2, 2, 3, 1), (1, 3, 1), (3, 1)]
    grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)
    before = _state(optimizer)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        optimizer(grad_fn, Tensor(float("inf"), ms.float32))
    assert optimizer.step_skipped
    after = _state(optimizer)
    assert after[3:] == before[3:] == (0, 0)
    for got, want in zip(after[0] + after[1] + after[2], before[0] + before[1] + before[2]):
        np.testing.assert_array_equal(got, want)

    reference = AdaHessianReference(init, lr=0.05, per_param={
        "axes": [(2, 3), (), (0, 2), (1,)], "hessian_power": [1.0, 1.0, 0.5, 1.0],
        "weight_decay": [0.0, 0.0, 0.0, 0.01]})
    x = 0.75
    ones = [[np.ones(s) for s in shapes]]

    def estimate(_counter):
        return hutchinson_estimate(lambda p, z: np_loss.hvp(p, x, z), reference.params, ones)

    for _ in range(2):
        optimizer(grad_fn, Tensor(x, ms.float32))
        assert not optimizer.step_skipped
        reference.step(np_loss.grad(reference.params, x), estimate)
    _assert_state_matches(optimizer, reference)


class _SeededRun:
    """An optimizer with default probes (seed 5, two probes per refresh, update_interval 2) on a coupled loss,
    which can be restarted from the initial state with any probe seed, and its NumPy twin."""

    shapes = ((3,), (2, 3), (2, 2, 2))
    x = 0.5

    def __init__(self):
        self.params, self.init, loss_fn, self.np_loss = _quartic_problem(self.shapes, 12, pairs=((0, 1), (1, 2)))
        self.optimizer = AdaHessian(self.params, learning_rate=0.05, seed=5, num_samples=2, update_interval=2)
        self.grad_fn = ms.value_and_grad(loss_fn, None, self.optimizer.parameters)
        self.results = {}

    def restart(self, seed):
        """Parameters, moments, counters and the probe seed set as a checkpoint restore would."""
        optimizer = self.optimizer
        for param, value in zip(optimizer.parameters, self.init):
            param.set_data(Tensor(value.copy()))
        for moment in tuple(optimizer.moment1) + tuple(optimizer.moment2):
            moment.set_data(Tensor(np.zeros(moment.shape, np.float32)))
        optimizer.global_step.set_data(Tensor([0], ms.int32))
        optimizer.hessian_step.set_data(Tensor([0], ms.int32))
        optimizer.probe_seed.set_data(Tensor(seed, optimizer.probe_seed.dtype))

    def run(self, seed, steps=4):
        """`steps` steps of the optimizer and of NumPy fed rademacher_probe(shape, seed, counter, (i, k, 0))."""
        reference = AdaHessianReference(self.init, lr=0.05, update_interval=2)

        def estimate(counter):
            probes = [[rademacher_probe(s, seed, counter, (i, k, 0)).asnumpy() for i, s in enumerate(self.shapes)]
                      for k in range(2)]
            return hutchinson_estimate(lambda p, z: self.np_loss.hvp(p, self.x, z), reference.params, probes)

        for _ in range(steps):
            self.optimizer(self.grad_fn, Tensor(self.x, ms.float32))
            reference.step(self.np_loss.grad(reference.params, self.x), estimate)
        self.results.setdefault(seed, _state(self.optimizer))
        return _state(self.optimizer), reference


@pytest.fixture(scope="module", name="seeded_run")
def fixture_seeded_run():
    """One compiled optimizer shared by the seed tests."""
    return _SeededRun()


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_default_probes_and_restart(seeded_run):
    """
    Feature: default Rademacher probes are a pure function of (seed, refresh count, parameter, sample).
    Description: seed 5, two probes per refresh, update_interval 2, a loss with cross terms, 4 steps; the NumPy
        reference draws its probes with rademacher_probe(shape, seed, counter, (index, sample, 0)). Then the
        parameters, moments and counters are restored to the start and the 4 steps repeated.
    Expectation: the run matches NumPy (rtol 1e-5) and the restored run is bit-identical to the first.
    """
    seeded_run.restart(5)
    first, reference = seeded_run.run(5)
    _assert_state_matches(seeded_run.optimizer, reference)
    seeded_run.restart(5)
    again, _ = seeded_run.run(5)
    for got, want in zip(again[0] + again[1] + again[2], first[0] + first[1] + first[2]):
        np.testing.assert_array_equal(got, want)
    assert again[3:] == first[3:] == (4, 2)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_restored_probe_seed_takes_effect(seeded_run):
    """
    Feature: the probe seed is optimizer state (the probe_seed Parameter, saved in checkpoints).
    Description: after the optimizer built with seed 5 has run (and compiled), its state is restored to the start
        with probe_seed set to 6, as loading a checkpoint of a seed-6 run does; 4 steps with update_interval 2.
    Expectation: the steps use the seed-6 probes: they match NumPy fed rademacher_probe(..., seed 6, ...)
        (rtol 1e-5) and differ from the seed-5 run.
    """
    if 5 not in seeded_run.results:
        seeded_run.restart(5)
        seeded_run.run(5)
    seed5 = seeded_run.results[5]
    seeded_run.restart(6)
    seed6, reference = seeded_run.run(6)
    assert not np.allclose(seed6[2][0], seed5[2][0])
    _assert_state_matches(seeded_run.optimizer, reference)


class OnesProbeAdaHessian(AdaHessian):
    """Upstream MindFlow's idiom: a subclass supplying its own probes through gen_rand_vecs."""

    def gen_rand_vecs(self, grads):
        return [ops.ones(g.shape, ms.float32) for g in grads]


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_upstream_gen_rand_vecs_subclass():
    """
    Feature: upstream compatibility: optimizer(grad_fn, inputs) and a gen_rand_vecs override.
    Description: least squares fit of y = X w* + b* (32 samples, w of shape (3,), b of shape (1,)) with a
        subclass whose gen_rand_vecs returns all-ones probes, two samples per refresh; grad_fn by
        mindspore.grad; the input a single Tensor holding X and y side by side; 40 steps.
    Expectation: parameters and moments match the NumPy reference fed z = 1 for every probe (where the
        Hessian's off-diagonal terms enter D = |H 1|, so default probes would give other numbers); the loss
        falls by more than 100x.
    """
    rng = np.random.default_rng(3)
    features = _f32(rng.normal(size=(32, 3)))
    targets = features @ _f32([1.5, -2.0, 0.5]) + 0.3
    data = Tensor(_f32(np.concatenate([features, targets[:, None]], axis=1)))
    w = Parameter(Tensor(np.zeros(3, np.float32)), name="w")
    b = Parameter(Tensor(np.zeros(1, np.float32)), name="b")

    def loss_fn(batch):
        prediction = ops.matmul(batch[:, :3], w.reshape(3, 1)).reshape(-1) + b
        return ops.mean((prediction - batch[:, 3]) ** 2)

    optimizer = OnesProbeAdaHessian([w, b], learning_rate=0.2, num_samples=2)
    grad_fn = ms.grad(loss_fn, None, optimizer.parameters)

    design = np.concatenate([features, np.ones((32, 1))], axis=1).astype(np.float64)
    hessian = 2.0 / 32 * design.T @ design

    def np_loss(wb):
        return float(np.mean((design @ wb - targets) ** 2))

    reference = AdaHessianReference([np.zeros(3), np.zeros(1)], lr=0.2)

    def estimate(_counter):
        hz = hessian @ np.ones(4)
        return [hz[:3], hz[3:]]

    first = np_loss(np.zeros(4))
    for _ in range(40):
        optimizer(grad_fn, data)
        wb = np.concatenate(reference.params)
        gradient = hessian @ wb - 2.0 / 32 * design.T @ targets
        reference.step([gradient[:3], gradient[3:]], estimate)
    _assert_state_matches(optimizer, reference, rtol=1e-4, atol=1e-5)
    assert np_loss(np.concatenate([w.asnumpy(), b.asnumpy()]).astype(np.float64)) < first / 100
    assert not np.allclose(block_mean(np.abs(estimate(0)[0]), ()), np.diag(hessian)[:3])


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_gradient_curvature_only():
    """
    Feature: curvature='gradient' for every parameter (no Hessian-vector product at all).
    Description: the quartic loss on a (3,) and a (2, 3) parameter, curvature 'gradient', update_interval 2,
        loss scale 4 (the loss multiplied by 4), 6 steps.
    Expectation: matches the NumPy reference where D = block_mean(|g|) with g unscaled (rtol 1e-5);
        hessian_step counts the refreshes (3).
    """
    shapes = [(3,), (2, 3)]
    params, init, loss_fn, np_loss = _quartic_problem(shapes, 13)

    def scaled_loss(x):
        return 4.0 * loss_fn(x)

    optimizer = AdaHessian(params, learning_rate=0.05, curvature="gradient", update_interval=2, loss_scale=4.0)
    grad_fn = ms.value_and_grad(scaled_loss, None, optimizer.parameters)
    reference = AdaHessianReference(init, lr=0.05, update_interval=2, loss_scale=4.0,
                                    per_param={"curvature": ["gradient", "gradient"]})
    x = 0.5
    for _ in range(6):
        loss = optimizer(grad_fn, Tensor(x, ms.float32))
        np.testing.assert_allclose(float(loss.asnumpy()), 4.0 * np_loss.value(reference.params, x),
                                   **device_tolerance(1e-5))
        reference.step([4.0 * g for g in np_loss.grad(reference.params, x)], lambda counter: None)
    _assert_state_matches(optimizer, reference)
    assert int(optimizer.hessian_step.asnumpy()[0]) == 3


def _least_squares(rows, seed):
    """Design matrix [X, 1] and targets of y = X w* + b* with ``rows`` samples, and the data as one Tensor."""
    rng = np.random.default_rng(seed)
    features = _f32(rng.normal(size=(rows, 3)))
    targets = _f32(features @ _f32([1.5, -2.0, 0.5]) + 0.3)
    design = np.concatenate([features, np.ones((rows, 1))], axis=1).astype(np.float64)
    return design, targets.astype(np.float64), Tensor(_f32(np.concatenate([features, targets[:, None]], axis=1)))


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("hvp_method, mixed", [("autodiff", False), ("finite_difference", False),
                                               ("autodiff", True), ("finite_difference", True)],
                         ids=["autodiff", "finite-difference", "autodiff-mixed", "finite-difference-mixed"])
def test_hessian_inputs_subset(hvp_method, mixed):
    """
    Feature: hessian_inputs: the Hessian-vector products of a refresh on other inputs than the gradient.
    Description: least squares on 32 samples (w of shape (3,), b of shape (1,)), update_interval 2, all-ones
        probes (gen_rand_vecs override); refresh steps pass hessian_inputs holding the first 8 samples, lazy steps
        pass 8 other samples (which a lazy step must ignore); 6 steps, both Hessian-vector products; "mixed":
        b has curvature 'gradient' (and so no probe).
    Expectation: autodiff: parameters and moments match the NumPy reference whose gradient comes from all 32
        samples and whose estimate D = |H_8 z| from the Hessian of the 8-sample loss, z = 1 (z_b = 0 when mixed)
        (rtol 1e-4). Finite difference: at every refresh the estimate, read back from moment2, is within the
        stated float32 error bound of |H_8 z| at the same weights (numpy_reference.finite_difference_error_bound;
        the bound is checked to be far below |H_8 z - H_32 z| somewhere, so the full batch would fail), and the run
        matches the reference fed with that estimate (rtol 1e-4). The returned loss is the 32-sample loss.
    """
    design, targets, data = _least_squares(32, 3)
    w = Parameter(Tensor(np.zeros(3, np.float32)), name="w")
    b = Parameter(Tensor(np.zeros(1, np.float32)), name="b")

    def loss_fn(batch):
        prediction = ops.matmul(batch[:, :3], w.reshape(3, 1)).reshape(-1) + b
        return ops.mean((prediction - batch[:, 3]) ** 2)

    params = [{"params": [w]}, {"params": [b], "curvature": "gradient"}] if mixed else [w, b]
    optimizer = OnesProbeAdaHessian(params, learning_rate=0.2, update_interval=2, hvp_method=hvp_method,
                                    step_clip=None)
    grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)
    subset = Tensor(data.asnumpy()[:8])
    others = Tensor(data.asnumpy()[8:16])
    hessian_8 = 2.0 / 8 * design[:8].T @ design[:8]
    hessian_32 = 2.0 / 32 * design.T @ design
    curvature = ["hutchinson", "gradient"] if mixed else ["hutchinson", "hutchinson"]
    reference = AdaHessianReference([np.zeros(3), np.zeros(1)], lr=0.2, update_interval=2,
                                    per_param={"curvature": curvature})
    # b carries no probe when its curvature is 'gradient': H z then holds no w-b coupling
    probe = np.array([1.0, 1.0, 1.0, 0.0 if mixed else 1.0])
    moved = 3 if mixed else 4  # the weights a finite difference moves: those with a probe
    exact = np.abs(hessian_8 @ probe)[:moved]

    def finite_difference_bound(wb):
        # the 8-sample gradient 2/8 X^T (X wb - y): each element sums 8 products of residuals of 4 + 1 terms
        scale = 2.0 / 8 * np.abs(design[:8]).T @ (np.abs(design[:8]) @ np.abs(wb) + np.abs(targets[:8]))
        return finite_difference_error_bound(scale[:moved], np.abs(wb[:moved]).max(), 1.0, terms=8 + 5,
                                             hessian_row_abs=np.abs(hessian_8[:moved, :moved]).sum(axis=1))

    def read_moment2():
        return np.concatenate([v.asnumpy().astype(np.float64).ravel() for v in optimizer.moment2])

    for step in range(6):
        wb = np.concatenate(reference.params)
        moment2_before = read_moment2()
        loss = optimizer(grad_fn, data, hessian_inputs=(subset if step % 2 == 0 else others,))
        np.testing.assert_allclose(float(loss.asnumpy()), np.mean((design @ wb - targets) ** 2), rtol=1e-4)
        gradient = 2.0 / 32 * design.T @ (design @ wb - targets)
        estimate = hessian_8 @ probe
        if hvp_method == "finite_difference" and step % 2 == 0:
            # the estimate this refresh used: v = beta2 v_old + (1 - beta2) D^2 solved for D
            used = np.sqrt(np.maximum(read_moment2() - 0.999 * moment2_before, 0.0) / (1.0 - 0.999))[:moved]
            bound = finite_difference_bound(wb) + device_tolerance(1e-5)["rtol"] * exact  # float32 reading of v
            assert np.any(bound < np.abs(np.abs(hessian_32 @ probe)[:moved] - exact) / 3), (bound, step)
            np.testing.assert_array_less(np.abs(used - exact), bound, err_msg=f"step {step}")
            estimate = np.concatenate([used, estimate[moved:]])
        reference.step([gradient[:3], gradient[3:]], lambda _counter, value=estimate: [value[:3], value[3:]])
    _assert_state_matches(optimizer, reference, rtol=1e-4, atol=1e-5)
    assert int(optimizer.hessian_step.asnumpy()[0]) == 3


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("hvp_method", ["autodiff", "finite_difference"])
def test_hessian_inputs_same_as_inputs(hvp_method):
    """
    Feature: hessian_inputs equal to the inputs change nothing.
    Description: two optimizers with default probes (drawn from host keys), seed 4, on the quartic loss of a
        (3,) and a (2, 3) parameter, 4 steps; one called with hessian_inputs=(x,), the other without.
    Expectation: the same parameters, moments and losses (rtol 1e-6); the estimate is not trivial (moment2 > 0).
    """
    shapes = [(3,), (2, 3)]
    runs = []
    for with_hessian_inputs in (False, True):
        params, _, loss_fn, _ = _quartic_problem(shapes, 17, pairs=((0, 1),))
        optimizer = AdaHessian(params, learning_rate=0.05, seed=4, hvp_method=hvp_method)
        grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)
        x = Tensor(0.5, ms.float32)
        extra = {"hessian_inputs": (x,)} if with_hessian_inputs else {}
        losses = [float(optimizer(grad_fn, x, **extra).asnumpy()) for _ in range(4)]
        runs.append((losses, _state(optimizer)))
    losses_a, state_a = runs[0]
    losses_b, state_b = runs[1]
    np.testing.assert_allclose(losses_b, losses_a, rtol=1e-6)
    for got, want in zip(state_b[0] + state_b[1] + state_b[2], state_a[0] + state_a[1] + state_a[2]):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert state_b[3:] == state_a[3:] == (4, 4)
    assert all(np.all(v > 0) for v in state_a[2])
