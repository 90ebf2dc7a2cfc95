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
"""Hessian-vector products and Hutchinson's diagonal estimate against exact dense Hessians."""
import numpy as np
import pytest
import mindspore as ms
from mindspore import Parameter, Tensor, ops

from device_tolerance import tolerance

from mindflow.cell.optimizers import (draw_probes, gaussian_probe, hessian_vector_product, hutchinson_diagonal,
                                      rademacher_probe, split_grad_output)

# "pynative": called directly; "jit": the same call inside mindspore.jit (GRAPH compilation), with jit=False.
WAYS = ("pynative", "jit")
# Tolerance of H v per method: the forward difference of two float32 gradients is exact for a quadratic
# up to rounding, about eps32 |g| / h with h = sqrt(eps32) (1 + max|w|).
TOLERANCE = {"autodiff": {"rtol": 1e-5, "atol": 1e-6}, "finite_difference": {"rtol": 2e-3, "atol": 2e-3}}


def _f32(value):
    return np.asarray(value, np.float32)


def _symmetric(size, seed):
    """A float32-representable symmetric matrix with non-zero off-diagonal entries and a dominant diagonal."""
    rng = np.random.default_rng(seed)
    half = rng.uniform(-1.0, 1.0, size=(size, size))
    matrix = _f32((half + half.T) / 2 + np.diag(rng.uniform(2.0, 4.0, size=size)))
    assert np.all(matrix[~np.eye(size, dtype=bool)] != 0)
    return matrix


def _hvp(way, grad_fn, weights, inputs, vectors, method="autodiff"):
    if way == "pynative":
        return hessian_vector_product(grad_fn, weights, inputs, vectors, method)

    @ms.jit
    def jitted(inputs, vectors):
        return hessian_vector_product(grad_fn, weights, inputs, vectors, method, jit=False)

    return jitted(tuple(inputs), tuple(vectors))


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("method", sorted(TOLERANCE))
def test_hvp_equals_dense_matrix_vector_product(way, method):
    """
    Feature: hessian_vector_product, by reverse over reverse and by finite difference.
    Description: loss 0.5 v^T A v + b^T v with v the concatenation of a (4,) and a (2, 3) weight and A a dense
        symmetric 10x10 matrix; grad_fn made by value_and_grad; called directly and inside mindspore.jit.
    Expectation: the output is grad_fn's (loss, gradients) at the current weights, and H v equals A v split
        back into the weights' shapes (rtol 1e-5 of float64 NumPy for autodiff, 2e-3 for the finite
        difference); the finite difference puts the weights back bit for bit.
    """
    rng = np.random.default_rng(1)
    matrix = _symmetric(10, 2)
    linear = _f32(rng.normal(size=10))
    w_value, u_value = _f32(rng.normal(size=(4,))), _f32(rng.normal(size=(2, 3)))
    w = Parameter(Tensor(w_value), name="w")
    u = Parameter(Tensor(u_value), name="u")
    a_tensor, b_tensor = Tensor(matrix), Tensor(linear)

    def loss_fn(scale):
        flat = ops.concat((w.reshape(-1), u.reshape(-1)))
        return scale * (0.5 * ops.sum(flat * ops.matmul(a_tensor, flat)) + ops.sum(b_tensor * flat))

    grad_fn = ms.value_and_grad(loss_fn, None, [w, u])
    vector = _f32(rng.normal(size=10))
    vectors = (Tensor(vector[:4]), Tensor(vector[4:].reshape(2, 3)))
    (loss, grads), hv = _hvp(way, grad_fn, [w, u], (Tensor(1.0, ms.float32),), vectors, method)
    np.testing.assert_array_equal(w.asnumpy(), w_value)
    np.testing.assert_array_equal(u.asnumpy(), u_value)
    flat = np.concatenate([w_value.ravel(), u_value.ravel()]).astype(np.float64)
    a64 = matrix.astype(np.float64)
    np.testing.assert_allclose(float(loss.asnumpy()), 0.5 * flat @ a64 @ flat + linear @ flat, **tolerance(1e-5))
    gradient = a64 @ flat + linear
    np.testing.assert_allclose(grads[0].asnumpy(), gradient[:4], **tolerance(1e-5, 1e-6))
    np.testing.assert_allclose(grads[1].asnumpy(), gradient[4:].reshape(2, 3), **tolerance(1e-5, 1e-6))
    expected = a64 @ vector.astype(np.float64)
    assert hv[0].shape == (4,) and hv[1].shape == (2, 3)
    np.testing.assert_allclose(hv[0].asnumpy(), expected[:4], **tolerance(**TOLERANCE[method]))
    np.testing.assert_allclose(hv[1].asnumpy(), expected[4:].reshape(2, 3), **tolerance(**TOLERANCE[method]))


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("method", sorted(TOLERANCE))
def test_hvp_through_reductions_of_weights(way, method):
    """
    Feature: hessian_vector_product when the gradient reaches a weight through a reduction.
    Description: L = x (sum(w)^2 / 2 + sum(w) sum(u)) with w of shape (3,), u of shape (2, 2) and x = 1.5, so
        H = x [[1 1^T, 1 1^T], [1 1^T, 0]]; mindspore.grad as grad_fn; called directly and inside mindspore.jit;
        both methods.
    Expectation: (H z)_w = x (sum(z_w) + sum(z_u)) in every element and (H z)_u = x sum(z_w), exactly for
        autodiff (to 2e-3 for the finite difference); the Hutchinson estimate is z * (H z).
    """
    w = Parameter(Tensor(_f32([0.5, -1.0, 2.0])), name="w")
    u = Parameter(Tensor(_f32([[1.0, 0.25], [-0.5, 3.0]])), name="u")

    def loss_fn(x):
        return x * (ops.sum(w) ** 2 / 2 + ops.sum(w) * ops.sum(u))

    grad_fn = ms.grad(loss_fn, None, [w, u])
    z_w, z_u = _f32([1.0, 1.0, 1.0]), _f32([[1.0, -1.0], [1.0, 1.0]])
    x = 1.5
    _, hv = _hvp(way, grad_fn, [w, u], (Tensor(x, ms.float32),), (Tensor(z_w), Tensor(z_u)), method)
    expected_w = np.full(3, x * (z_w.sum() + z_u.sum()))
    expected_u = np.full((2, 2), x * z_w.sum())
    allowed = tolerance(1e-6) if method == "autodiff" else tolerance(**TOLERANCE[method])
    np.testing.assert_allclose(hv[0].asnumpy(), expected_w, **allowed)
    np.testing.assert_allclose(hv[1].asnumpy(), expected_u, **allowed)
    if way == "pynative":
        _, diagonal = hutchinson_diagonal(grad_fn, [w, u], (Tensor(x, ms.float32),), [(Tensor(z_w), Tensor(z_u))],
                                          method)
        np.testing.assert_allclose(diagonal[0].asnumpy(), z_w * expected_w, **allowed)
        np.testing.assert_allclose(diagonal[1].asnumpy(), z_u * expected_u, **allowed)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_finite_difference_on_a_nonlinear_loss():
    """
    Feature: hessian_vector_product(method="finite_difference") where the gradient is not linear.
    Description: L = sum(x * w**3) + sum(tanh(u)) * sum(w); w (2,), u (3,), x = (1, -2), a Rademacher vector v;
        float64 NumPy gives the exact H v.
    Expectation: the finite difference agrees with the exact product to 1e-2 relative (its error is of the
        order of h = sqrt(eps32) (1 + max|w|) times the third derivative), and autodiff to 1e-5.
    """
    w_value, u_value, x_value = _f32([1.0, -2.0]), _f32([0.3, -0.7, 1.2]), _f32([1.0, -2.0])
    w = Parameter(Tensor(w_value), name="w")
    u = Parameter(Tensor(u_value), name="u")

    def loss_fn(x):
        return ops.sum(x * w ** 3) + ops.sum(ops.tanh(u)) * ops.sum(w)

    grad_fn = ms.grad(loss_fn, None, [w, u])
    v_w, v_u = _f32([1.0, 1.0]), _f32([-1.0, 1.0, 1.0])
    w64, u64, x64 = (a.astype(np.float64) for a in (w_value, u_value, x_value))
    sech2 = 1.0 / np.cosh(u64) ** 2
    # H = [[diag(6 x w), 1 sech2^T], [sech2 1^T, diag(-2 tanh sech2) sum(w)]]
    expected_w = 6 * x64 * w64 * v_w + np.sum(sech2 * v_u)
    expected_u = sech2 * np.sum(v_w) - 2 * np.tanh(u64) * sech2 * np.sum(w64) * v_u
    for method, rtol in (("autodiff", 1e-5), ("finite_difference", 1e-2)):
        _, hv = hessian_vector_product(grad_fn, [w, u], (Tensor(x_value),), (Tensor(v_w), Tensor(v_u)), method)
        error = np.linalg.norm(np.concatenate([hv[0].asnumpy() - expected_w, hv[1].asnumpy() - expected_u]))
        bound = tolerance(rtol)["rtol"] * np.linalg.norm(np.concatenate([expected_w, expected_u]))
        assert error <= bound, (method, error)
    np.testing.assert_array_equal(w.asnumpy(), w_value)
    np.testing.assert_array_equal(u.asnumpy(), u_value)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("method", ["exact", "fd", None, 1])
def test_unknown_method(method):
    """
    Feature: method argument of hessian_vector_product and hutchinson_diagonal.
    Description: names that are not "autodiff" or "finite_difference".
    Expectation: ValueError naming the function and the accepted values, before anything is computed.
    """
    w = Parameter(Tensor(_f32([1.0])), name="w")
    grad_fn = ms.grad(lambda x: ops.sum(x * w ** 2), None, [w])
    args = (grad_fn, [w], (Tensor(_f32([1.0])),))
    with pytest.raises(ValueError, match=r"For 'hessian_vector_product', the 'method' must be one of "
                                         r"\['autodiff', 'finite_difference'\], but got"):
        hessian_vector_product(*args, (Tensor(_f32([1.0])),), method)
    with pytest.raises(ValueError, match=r"For 'hutchinson_diagonal', the 'method' must be one of"):
        hutchinson_diagonal(*args, [(Tensor(_f32([1.0])),)], method)


def _batched_quadratic(matrix, rows):
    """A (rows, n) weight with L = 0.5 sum_r W_r^T A W_r: its Hessian is block diagonal with A in every block."""
    size = matrix.shape[0]
    weight = Parameter(Tensor(_f32(np.random.default_rng(5).normal(size=(rows, size)))), name="batched")
    a_tensor = Tensor(matrix)

    def loss_fn(scale):
        return scale * 0.5 * ops.sum(ops.matmul(weight, a_tensor) * weight)

    return weight, ms.grad(loss_fn, None, [weight])


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("probe_fn", [rademacher_probe, gaussian_probe], ids=["rademacher", "gaussian"])
def test_estimator_converges_to_exact_diagonal(probe_fn):
    """
    Feature: Hutchinson's estimator is unbiased.
    Description: a dense symmetric 5x5 A (off-diagonal entries non-zero); 2000 independent copies of the
        quadratic 0.5 w^T A w as the rows of one (2000, 5) weight; hutchinson_diagonal with 2 probe sets per
        call from draw_probes for counters 0..4, i.e. 20000 samples of z * (A z) per coordinate.
    Expectation: the mean equals diag(A) within 5 standard errors, the variance of one sample being
        sum_{j != i} A_ij^2 for Rademacher probes (plus 2 A_ii^2 for Gaussian ones); the empirical variance of
        the 2-probe estimates matches half that within 15%; a single estimate is not exact.
    """
    matrix = _symmetric(5, 7).astype(np.float32)
    a64 = matrix.astype(np.float64)
    rows, counters, samples = 2000, 5, 2
    weight, grad_fn = _batched_quadratic(matrix, rows)
    estimates = []
    for counter in range(counters):
        probes = draw_probes([weight.shape], 3, counter, samples, probe_fn)
        _, diagonal = hutchinson_diagonal(grad_fn, [weight], (Tensor(1.0, ms.float32),), probes)
        estimates.append(diagonal[0].asnumpy().astype(np.float64))
    estimates = np.concatenate(estimates)  # (rows * counters, 5), each the mean of `samples` probes
    off_diagonal = (a64 ** 2).sum(axis=1) - np.diag(a64) ** 2
    variance = off_diagonal if probe_fn is rademacher_probe else off_diagonal + 2 * np.diag(a64) ** 2
    count = rows * counters * samples
    np.testing.assert_array_less(np.abs(estimates.mean(axis=0) - np.diag(a64)), 5 * np.sqrt(variance / count))
    np.testing.assert_allclose(estimates.var(axis=0), variance / samples, rtol=0.15)
    assert np.max(np.abs(estimates - np.diag(a64))) > 0.1


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_separable_quadratic_exact_with_every_probe():
    """
    Feature: Hutchinson's estimate on a separable loss.
    Description: L = sum_i [0.5 sum(d_i w_i^2) + sum(c_i w_i^4) / 4] over weights of 0-D to 3-D, whose Hessian
        is diagonal; Rademacher probes of counters 0, 1 and 7, with 1 or 3 samples per estimate.
    Expectation: every estimate equals the exact diagonal d_i + 3 c_i w_i^2 (rtol 1e-6), whatever the probes.
    """
    rng = np.random.default_rng(4)
    shapes = [(), (4,), (2, 3), (2, 1, 2)]
    values = [_f32(rng.normal(size=s)) for s in shapes]
    d = [_f32(rng.uniform(0.1, 10.0, size=s)) for s in shapes]
    c = [_f32(rng.uniform(0.0, 1.0, size=s)) for s in shapes]
    weights = [Parameter(Tensor(v), name=f"w{i}") for i, v in enumerate(values)]
    d_t, c_t = [Tensor(v) for v in d], [Tensor(v) for v in c]

    def loss_fn(scale):
        total = scale * 0.0
        for w, d_i, c_i in zip(weights, d_t, c_t):
            total = total + 0.5 * ops.sum(d_i * w * w) + ops.sum(c_i * w ** 4) / 4
        return total

    grad_fn = ms.grad(loss_fn, None, weights)
    exact = [d_i.astype(np.float64) + 3 * c_i * v.astype(np.float64) ** 2 for d_i, c_i, v in zip(d, c, values)]
    for counter, samples in ((0, 1), (1, 3), (7, 1)):
        probes = draw_probes(shapes, 0, counter, samples)
        _, diagonal = hutchinson_diagonal(grad_fn, weights, (Tensor(1.0, ms.float32),), probes)
        for estimate, expected in zip(diagonal, exact):
            assert estimate.dtype == ms.float32
            np.testing.assert_allclose(estimate.asnumpy(), expected, **tolerance(1e-6))


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_split_grad_output():
    """
    Feature: split_grad_output.
    Description: the outputs of value_and_grad ((loss, grads)), of grad (a tuple or a list of gradients) and
        a single gradient Tensor.
    Expectation: (loss, grads) for the first; (grads, grads) for a tuple or list; ((t,), (t,)) for one Tensor.
    """
    def same(got, expected):
        return isinstance(got, tuple) and len(got) == len(expected) and all(a is b for a, b in zip(got, expected))

    loss = Tensor(1.0, ms.float32)
    g1, g2 = Tensor(_f32([1.0, 2.0])), Tensor(_f32([[3.0]]))
    first, grads = split_grad_output((loss, (g1, g2)))
    assert first is loss and same(grads, (g1, g2))
    first, grads = split_grad_output((loss, [g1, g2]))
    assert first is loss and same(grads, (g1, g2))
    first, grads = split_grad_output((g1, g2))
    assert same(first, (g1, g2)) and same(grads, (g1, g2))
    first, grads = split_grad_output([g1, g2])
    assert same(first, (g1, g2)) and same(grads, (g1, g2))
    first, grads = split_grad_output(g1)
    assert same(first, (g1,)) and same(grads, (g1,))
