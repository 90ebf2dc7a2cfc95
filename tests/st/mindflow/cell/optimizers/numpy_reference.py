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
"""Independent float64 NumPy reference of AdaHessian, written from the specification only.

Nothing here imports MindSpore. The rule, at step t = 1, 2, ...:

    m <- b1 m + (1 - b1) g
    on refresh steps ((t - 1) % update_interval == 0), n <- n + 1 and
        D = block_mean(|mean over probes of z * (H z)|),  v <- b2 v + (1 - b2) D^2
    p <- p - lr * (m_hat / (max(v_hat^(k/2), |m_hat| / c) + eps) + weight_decay * p)

with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^n), g and H z divided by the loss scale, and c the step clip
(no floor when it is None: the paper's update). A parameter updated in place takes |m_hat| of its last refresh
step for the floor on the steps in between. ``QuarticLoss`` supplies exact gradients and
Hessian-vector products for parameters of any rank.
"""
import numpy as np

__all__ = ["AdaHessianReference", "QuarticLoss", "block_mean", "default_average_axes",
           "finite_difference_error_bound", "hutchinson_estimate", "reduced_shape"]

# Unit roundoff of float32, and the forward-difference step the optimizer uses: h = FD_SCALE (1 + max|w|) / max|z|.
UNIT_ROUNDOFF_32 = 2.0 ** -24
FD_SCALE_32 = float(2.0 ** -23) ** 0.5


def default_average_axes(ndim):
    """Axes of the default block mean: none for 0-D/1-D, axis 1 for 2-D, axes 2..ndim-1 for 3-D and higher."""
    if ndim < 2:
        return ()
    if ndim == 2:
        return (1,)
    return tuple(range(2, ndim))


def reduced_shape(shape, axes):
    """Shape of a block mean over ``axes`` with the dimensions kept."""
    return tuple(1 if axis in axes else size for axis, size in enumerate(shape))


def block_mean(value, axes):
    """Mean of ``value`` over ``axes`` (keepdims); the identity for no axes."""
    value = np.asarray(value, dtype=np.float64)
    if not axes:
        return value.copy()
    return value.mean(axis=tuple(axes), keepdims=True)


def hutchinson_estimate(hvp, params, probe_sets):
    """Signed Hutchinson estimate: mean over the probe sets of z * (H z), one array per parameter.

    Args:
        hvp (Callable): ``hvp(params, probes)`` returns the exact Hessian-vector products.
        params (list[numpy.ndarray]): Where the Hessian is taken.
        probe_sets (list[list[numpy.ndarray]]): One list of probes (one per parameter) per sample.
    """
    total = [np.zeros(np.shape(p)) for p in params]
    for probes in probe_sets:
        products = hvp(params, probes)
        total = [acc + np.asarray(z, np.float64) * hz for acc, z, hz in zip(total, probes, products)]
    return [acc / len(probe_sets) for acc in total]


def finite_difference_error_bound(gradient_scale, weight_max, probe_max, terms, hessian_row_abs=0.0,
                                  third_derivative=0.0):
    r"""Bound on ``|fd(H z) - H z|`` per element for the float32 forward difference ``(g(w + h z) - g(w)) / h``.

    Rounding: each float32 gradient element is a sum of at most ``terms`` products, so it is off by at most
    ``gamma * gradient_scale`` with ``gamma = terms * u / (1 - terms * u)`` (Higham's bound for a sum,
    ``gradient_scale`` the sum of the absolute values of its terms); two gradients are differenced and divided
    by ``h``. The moved weights ``w + h z`` are rounded too, by at most ``u (|w| + h |z|)``, which moves the second
    gradient by at most that times ``hessian_row_abs`` (per element, the sum of ``|H_ij|`` over ``j``), again divided
    by ``h``. Truncation: ``h / 2`` times ``third_derivative``, a bound on ``|d^3 L[z, z]|`` per element (zero
    for a quadratic loss, whose forward difference is exact in exact arithmetic).

    Args:
        gradient_scale (numpy.ndarray): Per element, the sum of the absolute values of the gradient's terms.
        weight_max (float): ``max|w|`` over the weights moved by the difference.
        probe_max (float): ``max|z|``.
        terms (int): The largest number of terms summed into one gradient element.
        hessian_row_abs (Union[float, numpy.ndarray]): Per element, ``sum_j |H_ij|``. Default: ``0.0``.
        third_derivative (Union[float, numpy.ndarray]): Bound on the third-derivative term. Default: ``0.0``.
    """
    step = FD_SCALE_32 * (1.0 + weight_max) / probe_max
    gamma = terms * UNIT_ROUNDOFF_32 / (1.0 - terms * UNIT_ROUNDOFF_32)
    rounding = 2.0 * gamma * np.asarray(gradient_scale, np.float64) / step
    moved = UNIT_ROUNDOFF_32 * (weight_max + step * probe_max) * np.asarray(hessian_row_abs, np.float64) / step
    return rounding + moved + 0.5 * step * np.asarray(third_derivative, np.float64)


class QuarticLoss:
    r"""L(w; x) = sum_i [sum(a_i w_i^2) / 2 + sum(c_i w_i^4) / 4 + x sum(b_i w_i)] + kappa x sum_(i,j) S_i S_j.

    ``S_i = sum(w_i)``; ``pairs`` lists the coupled (i, j), i != j, each pair once; ``x`` is a scalar input.
    All coefficients are arrays of the parameters' shapes (0-D included).
    """

    def __init__(self, a, b, c, pairs, kappa):
        self.a = [np.asarray(v, np.float64) for v in a]
        self.b = [np.asarray(v, np.float64) for v in b]
        self.c = [np.asarray(v, np.float64) for v in c]
        self.pairs = tuple(pairs)
        self.kappa = float(kappa)

    def value(self, params, x):
        """The loss."""
        total = 0.0
        for w, a, b, c in zip(params, self.a, self.b, self.c):
            total += np.sum(a * w ** 2) / 2 + np.sum(c * w ** 4) / 4 + x * np.sum(b * w)
        for i, j in self.pairs:
            total += self.kappa * x * np.sum(params[i]) * np.sum(params[j])
        return float(total)

    def grad(self, params, x):
        """Exact gradient, one array per parameter."""
        grads = [a * w + c * w ** 3 + x * b for w, a, b, c in zip(params, self.a, self.b, self.c)]
        for i, j in self.pairs:
            grads[i] = grads[i] + self.kappa * x * np.sum(params[j])
            grads[j] = grads[j] + self.kappa * x * np.sum(params[i])
        return grads

    def hvp(self, params, x, vectors):
        """Exact Hessian-vector product H v, one array per parameter."""
        vectors = [np.asarray(v, np.float64) for v in vectors]
        products = [a * v + 3 * c * w ** 2 * v for w, v, a, c in zip(params, vectors, self.a, self.c)]
        for i, j in self.pairs:
            products[i] = products[i] + self.kappa * x * np.sum(vectors[j])
            products[j] = products[j] + self.kappa * x * np.sum(vectors[i])
        return products


class AdaHessianReference:
    """AdaHessian on NumPy float64 arrays.

    Args:
        params (list[numpy.ndarray]): Initial parameters (copied).
        lr (Union[float, Sequence[float], Callable]): Learning rate: a constant, one value per step
            (step t uses ``lr[t - 1]``) or a function ``lr(t)``.
        per_param (dict): Optional per-parameter lists overriding ``lr``, ``weight_decay``, ``hessian_power``,
            and setting ``axes`` (block-mean axes, default: the default rule) and ``curvature``
            ("hutchinson", the default, or "gradient": |g| replaces the estimate) and ``in_place`` (bool, default
            False: the floor of the step clip comes from the first moment of the last refresh).
        step_clip (float): The step clip c, or ``None`` for the paper's update. Default: ``None``.
    """

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, hessian_power=1.0,
                 update_interval=1, loss_scale=1.0, per_param=None, step_clip=None):
        self.params = [np.array(p, dtype=np.float64) for p in params]
        count = len(self.params)
        per_param = dict(per_param or {})
        self.lr = per_param.get("lr", [lr] * count)
        self.weight_decay = per_param.get("weight_decay", [weight_decay] * count)
        self.hessian_power = per_param.get("hessian_power", [hessian_power] * count)
        self.axes = per_param.get("axes", [default_average_axes(p.ndim) for p in self.params])
        self.curvature = per_param.get("curvature", ["hutchinson"] * count)
        self.in_place = per_param.get("in_place", [False] * count)
        self.step_clip = step_clip
        self.floor = [np.zeros(p.shape) for p in self.params]
        self.clipped = 0  # elements whose step the clip bounded, over all steps
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.update_interval = int(update_interval)
        self.loss_scale = float(loss_scale)
        self.m = [np.zeros(p.shape) for p in self.params]
        self.v = [np.zeros(reduced_shape(p.shape, axes)) for p, axes in zip(self.params, self.axes)]
        self.t = 0
        self.n = 0

    @staticmethod
    def _value_at(schedule, t):
        if callable(schedule):
            return float(schedule(t))
        if np.ndim(schedule) == 0:
            return float(schedule)
        return float(schedule[t - 1])

    def is_refresh(self, t=None):
        """Whether step ``t`` (default: the next step) refreshes the Hessian estimate."""
        t = self.t + 1 if t is None else t
        return (t - 1) % self.update_interval == 0

    def step(self, grads, estimate_fn):
        """One step.

        Args:
            grads (list[numpy.ndarray]): The (loss-scaled) gradients at the current parameters.
            estimate_fn (Callable): ``estimate_fn(counter)`` returns the (loss-scaled) signed diagonal
                estimate, mean of z * (H z), for the probes of refresh ``counter`` (0, 1, ...); called on
                refresh steps only.
        """
        self.t += 1
        grads = [np.asarray(g, np.float64) / self.loss_scale for g in grads]
        refresh = self.is_refresh(self.t)
        if refresh:
            estimate = estimate_fn(self.n)
            self.n += 1
        for i, (p, g) in enumerate(zip(self.params, grads)):
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            if refresh:
                if self.curvature[i] == "gradient":
                    raw = np.abs(g)
                else:
                    raw = np.abs(np.asarray(estimate[i], np.float64) / self.loss_scale)
                curvature = block_mean(raw, self.axes[i])
                self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * curvature ** 2
            m_hat = self.m[i] / (1 - self.beta1 ** self.t)
            v_hat = self.v[i] / (1 - self.beta2 ** self.n)
            term = np.sqrt(v_hat) ** self.hessian_power[i]
            if self.step_clip is not None:
                if refresh or not self.in_place[i]:
                    self.floor[i] = np.abs(m_hat) / self.step_clip
                self.clipped += int(np.sum(self.floor[i] > term))
                term = np.maximum(term, self.floor[i])
            denominator = term + self.eps
            lr = self._value_at(self.lr[i], self.t)
            self.params[i] = p - lr * (m_hat / denominator + self.weight_decay[i] * p)

    def state(self):
        """Copies of parameters, first and second moments and counters (t, n)."""
        return {"params": [p.copy() for p in self.params], "moment1": [m.copy() for m in self.m],
                "moment2": [v.copy() for v in self.v], "global_step": self.t, "hessian_step": self.n}
