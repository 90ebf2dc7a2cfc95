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
"""AdaHessian's update of one large parameter in place, by MindSpore's fused Adam kernel.

A value written with ``ops.assign`` stays allocated until the step ends on MindSpore's CPU runtime, so the
joined update (see ``update.py``) holds several weight-sized buffers per parameter; MindSpore's elementwise
kernels and reductions are also several times slower per element than the fused Adam kernel. Here the fused
kernel writes the parameter and its first moment in place. Its second-moment input is the Hessian term
:math:`\\hat{v}^k` at the parameter's shape, kept as state and rewritten only when the estimate is refreshed; the
kernel is handed ``beta2 = 1``, which leaves that input as it is, and the bias correction of the first moment
goes into the rate.
"""
from mindspore import ops

__all__ = ["IN_PLACE_MIN_SIZE", "check_in_place", "hessian_term", "write_in_place"]

# Parameters with at least this many float32 elements are updated in place. Smaller ones stay on the joined
# update, which runs a fixed number of kernels whatever the number of parameters (what small PINNs need).
IN_PLACE_MIN_SIZE = 1 << 16


def _squared_norm(values):
    flat = values.reshape((-1,))
    return ops.matmul(flat, flat)


def check_in_place(grad, curvature):
    """``(finite, zero_curvature)`` of one parameter from squared norms, one dot product each (faster than
    ``isfinite(.).all()`` on CPU). A gradient whose squared norm overflows float32 counts as not finite: the
    kernel's second-moment arithmetic squares it too. ``curvature`` is ``None`` on a step that does not refresh.
    """
    grad_norm = _squared_norm(grad)
    finite = ops.isfinite(grad_norm)
    if curvature is None:
        return finite, None
    curvature_norm = _squared_norm(curvature)
    return ops.logical_and(finite, ops.isfinite(curvature_norm)), ops.logical_and(curvature_norm == 0,
                                                                                   grad_norm > 0)


def hessian_term(moment2, curvature, refresh, finite, refreshes, scalars, shape):
    r"""The new second moment and the Hessian term :math:`\hat{v}^k` at the parameter's shape.

    Args:
        moment2 (Parameter): Second moment of the parameter, at the averaged shape.
        curvature (Tensor): Unscaled, averaged :math:`|D|` at the shape of `moment2`.
        refresh (Union[bool, Tensor]): As in ``adahessian_update``.
        finite (Tensor): bool scalar, whether the step is finite; if not, the moment stays as it is.
        refreshes (Tensor): float32 scalar, the refreshes before this step.
        scalars (tuple): ``(beta2, 1 - beta2, log(beta2), hessian_power)``.
        shape (tuple[int]): Shape of the parameter.
    """
    beta2, one_minus_beta2, log_beta2, power = scalars
    refreshed = finite if isinstance(refresh, bool) else ops.logical_and(refresh, finite)
    # the same expression as the joined update, so both round alike
    new_moment2 = ops.select(refreshed, beta2 * moment2 + one_minus_beta2 * curvature * curvature, moment2)
    count = refreshes + ops.cast(refreshed, refreshes.dtype)
    # 1 - beta2**n as -expm1(n log beta2), as in adahessian_update
    term = new_moment2 / -ops.expm1(ops.maximum(count, 1.0) * log_beta2)
    if power != 1.0:
        term = ops.pow(term, power)
    return new_moment2, ops.broadcast_to(term, shape)


def write_in_place(kernels, param, moment1, term, grad, finite, rate, weight_decay, scalars):
    """Update one parameter and its first moment with the fused kernel.

    Args:
        kernels (tuple): ``(ops.Adam(), ops.AdamWeightDecay())`` instances.
        param (Parameter): The parameter.
        moment1 (Parameter): Its first moment.
        term (Parameter): Its Hessian term, from :func:`hessian_term`.
        grad (Tensor): Unscaled float32 gradient.
        finite (Tensor): bool scalar, whether the step is finite.
        rate (Tensor): float32 scalar, the learning rate over :math:`1 - \\beta_1^t`.
        weight_decay (Tensor): float32 scalar decoupled weight decay times :math:`1 - \\beta_1^t`, or ``None``.
        scalars (tuple): float32 scalar Tensors ``(beta1, eps, zero, one)``.

    The kernel is not inside a branch on ``finite``: a fused kernel in a control-flow branch keeps writing to the
    buffers the parameters had when the graph was compiled, so a later ``set_data`` (a checkpoint restore) would be
    lost. A step that is not finite runs it with a zero gradient, ``beta1 = 1`` and rate 0 instead, which leaves
    the parameter and its first moment exactly as they are.
    """
    adam, adam_decay = kernels
    beta1, eps, zero, one = scalars
    if finite:
        safe_grad = grad
    else:
        safe_grad = ops.zeros_like(grad)
    beta1 = ops.select(finite, beta1, one)
    rate = ops.select(finite, rate, zero)
    if weight_decay is None:
        # beta1_power = beta2_power = 0: the kernel's own bias correction is 1, and rate carries the first moment's
        adam(param, moment1, term, zero, zero, rate, beta1, one, eps, safe_grad)
    else:
        adam_decay(param, moment1, term, rate, beta1, one, eps, weight_decay, safe_grad)
