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
"""AdaHessian's update rule as a pure function of joined float32 vectors (all parameters end to end)."""
import mindspore as ms
from mindspore import ops

__all__ = ["adahessian_update"]


def adahessian_update(params, moment1, moment2, grads, curvature, refresh, step, refreshes, hyper, lr,
                      weight_decay=None, expand_index=None):
    r"""One AdaHessian update of joined vectors, and whether the gradient and the curvature are finite.

    Args:
        params (Tensor): The parameters before the step, joined into one float32 vector.
        moment1 (Tensor): First moment, laid out as `params`.
        moment2 (Tensor): Second moment, one value per averaging block.
        grads (Tensor): Unscaled gradient, laid out as `params`.
        curvature (Tensor): Unscaled, averaged :math:`|D|`, laid out as `moment2`; ``None`` on a step that does
            not refresh (`moment2` is then kept as it is).
        refresh (Union[bool, Tensor]): Whether the step refreshes the estimate: ``True`` when known at compile
            time, or a bool scalar Tensor decided in the graph.
        step (Tensor): float32 scalar :math:`t \ge 1`, the number of this step.
        refreshes (Tensor): float32 scalar, the refreshes before this step.
        hyper (tuple): ``(beta1, beta2, 1 - beta1, 1 - beta2, log(beta1), log(beta2), eps, half_power)``;
            ``half_power`` is :math:`k / 2`, a float, or a Tensor laid out as `moment2` when it differs by parameter.
        lr (Tensor): Learning rate, a scalar or laid out as `params`.
        weight_decay (Tensor): Decoupled weight decay, a scalar or laid out as `params`; ``None`` for none.
        expand_index (Tensor): int32 index of each element's block in `moment2`; ``None`` when every block
            is one element.

    Returns:
        tuple ``(params, moment1, moment2, finite)``: the new values, and the bool scalar ``finite``; the caller
        keeps the old values when ``finite`` is False (a branch around the writes costs far less memory than a
        select of every vector on MindSpore's CPU runtime).
    """
    beta1, beta2, one_minus_beta1, one_minus_beta2, log_beta1, log_beta2, eps, half_power = hyper
    finite = ops.isfinite(grads).all()
    new_moment2 = moment2
    count = refreshes
    if curvature is not None:
        finite = ops.logical_and(finite, ops.isfinite(curvature).all())
        new_moment2 = beta2 * moment2 + one_minus_beta2 * curvature * curvature
        if isinstance(refresh, bool):
            count = refreshes + 1.0
        else:
            new_moment2 = ops.select(refresh, new_moment2, moment2)
            count = refreshes + ops.cast(refresh, ms.float32)
    # 1 - beta**t as -expm1(t log beta): exact for beta close to 1
    bias1 = -ops.expm1(step * log_beta1)
    bias2 = -ops.expm1(ops.maximum(count, 1.0) * log_beta2)
    if isinstance(half_power, float) and half_power == 0.5:
        denominator = ops.sqrt(new_moment2 / bias2) + eps
    else:
        denominator = ops.pow(new_moment2 / bias2, half_power) + eps
    if expand_index is not None:
        denominator = ops.gather(denominator, expand_index, 0)
    new_moment1 = beta1 * moment1 + one_minus_beta1 * grads
    delta = (new_moment1 / bias1) / denominator
    if weight_decay is not None:
        delta = delta + weight_decay * params
    return params - lr * delta, new_moment1, new_moment2, finite
