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
"""AdaHessian's update of one large parameter in place, by MindSpore's fused AdamWeightDecay kernel.

A value written with ``ops.assign`` stays allocated until the step ends on MindSpore's CPU runtime, so the
joined update (see ``update.py``) holds several weight-sized buffers per parameter. The fused kernel writes the
parameter and the first moment in place; it is handed ``beta2 = 1``, which leaves its second-moment input as it
is, and that input is AdaHessian's bias-corrected denominator term instead of a squared gradient.
"""
from mindspore import ops

__all__ = ["IN_PLACE_MIN_SIZE", "in_place_terms", "write_in_place"]

# Parameters with at least this many float32 elements are updated in place. Smaller ones stay on the joined
# update, which runs a fixed number of kernels whatever the number of parameters (what small PINNs need).
IN_PLACE_MIN_SIZE = 1 << 16


def in_place_terms(moment2, curvature, refresh, finite, scalars, shape, lr, weight_decay):
    r"""What the fused kernel needs for one parameter.

    Args:
        moment2 (Parameter): Second moment of the parameter, at the averaged shape.
        curvature (Tensor): Unscaled, averaged :math:`|D|` at the shape of `moment2`; ``None`` on a step that
            does not refresh.
        refresh (Union[bool, Tensor]): As in ``adahessian_update``.
        finite (Tensor): bool scalar, whether the step's gradients and curvatures are all finite; if not, the
            terms leave everything as it is.
        scalars (tuple): ``(beta2, 1 - beta2, hessian_power, bias1, bias2)``, with the bias corrections
            :math:`1 - \beta_1^t` and :math:`1 - \beta_2^n` as float32 scalar Tensors.
        shape (tuple[int]): Shape of the parameter.
        lr (Tensor): float32 scalar learning rate.
        weight_decay (Tensor): float32 scalar decoupled weight decay, or ``None``.

    Returns:
        tuple ``(moment2, square, rate, decay)``: the new second moment, and the kernel's second-moment input,
        learning rate and weight decay.
    """
    beta2, one_minus_beta2, power, bias1, bias2 = scalars
    new_moment2 = moment2
    if curvature is not None:
        # the same expression as the joined update, so both round alike
        new_moment2 = beta2 * moment2 + one_minus_beta2 * curvature * curvature
        keep_new = finite if isinstance(refresh, bool) else ops.logical_and(refresh, finite)
        new_moment2 = ops.select(keep_new, new_moment2, moment2)
    # the kernel divides by sqrt(square) + eps: square = v_hat ** k gives v_hat ** (k / 2) + eps
    square = new_moment2 / bias2
    if power != 1.0:
        square = ops.pow(square, power)
    square = ops.broadcast_to(square, shape)
    # the kernel has no bias correction of m: it goes into the rate, and out of the decay it multiplies
    rate = (lr / bias1).reshape(())
    rate = ops.select(finite, rate, ops.zeros_like(rate))
    decay = (weight_decay * bias1).reshape(()) if weight_decay is not None else ops.zeros_like(rate)
    return new_moment2, square, rate, decay


def write_in_place(fused, param, moment1, moment2, terms, grad, finite, beta1, one, eps):
    """Write one parameter and its moments: ``terms`` from :func:`in_place_terms`, ``fused`` an
    ``ops.AdamWeightDecay``, ``one`` a float32 Tensor 1 (``beta2 = 1`` leaves the kernel's second moment
    as it is); ``moment2`` is ``None`` when the step does not change it.

    Not inside a branch on ``finite``: a fused kernel in a control-flow branch keeps writing to the buffers the
    parameters had when the graph was compiled, so a later ``set_data`` (a checkpoint restore) would be lost.
    A step that is not finite runs the kernel with rate 0, ``beta1 = 1`` and the gradient's non-finite values
    zeroed, which leaves the parameter and its first moment exactly as they are.
    """
    new_moment2, square, rate, decay = terms
    if moment2 is not None:
        ops.assign(moment2, new_moment2)
    beta1 = ops.select(finite, beta1, one)
    grad = ops.nan_to_num(grad, 0.0, 0.0, 0.0)
    fused(param, moment1, square, rate, beta1, one, eps, decay, grad)
