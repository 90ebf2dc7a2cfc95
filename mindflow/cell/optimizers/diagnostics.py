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
"""Errors and warnings that name the parameters and the way out when some operator has no second derivative (e.g.
``MaxPool2d``, ``GELU`` or ``LayerNorm`` on CPU in MindSpore 2.10: differentiating the gradient again fails deep in
the compiler) or silently gives a zero one (``nn.SoftmaxCrossEntropyWithLogits`` with dense labels)."""
import warnings

import mindspore as ms
from mindspore import ops

from .hutchinson import _hessian_vector_product as hessian_vector_product  # graph-side body
from .hutchinson import split_grad_output

__all__ = ["SecondOrderError", "find_parameters_without_second_derivative", "raise_second_order_error",
           "second_order_advice", "warn_zero_curvature"]


class SecondOrderError(RuntimeError):
    """Raised when the gradient of ``grad_fn`` cannot be differentiated a second time."""


def _single_parameter_hvp(grad_fn, weight, position):
    """A function of the inputs computing the Hessian-vector product for one parameter alone."""
    def single_grad_fn(*args):
        return (split_grad_output(grad_fn(*args))[1][position],)

    def single_hvp(*args):
        return hessian_vector_product(single_grad_fn, [weight], args, (ops.ones_like(weight),))[1]
    return single_hvp


def find_parameters_without_second_derivative(grad_fn, params, inputs, indices):
    """The names of the parameters (among ``indices``) whose Hessian-vector product fails, each tried alone in a
    compiled graph, as AdaHessian's step is (eager execution can answer differently); for the error path only."""
    failing = []
    for index in indices:
        try:
            ms.jit(_single_parameter_hvp(grad_fn, params[index], index))(*inputs)
        except (RuntimeError, ValueError, TypeError):
            failing.append(params[index].name)
    return failing


def second_order_advice(names):
    """The way out, as text, for parameters whose curvature cannot (or should not) be estimated."""
    shown = ", ".join(repr(name) for name in names[:8]) + (", ..." if len(names) > 8 else "")
    return (f"Pass hvp_method='finite_difference' (H z from two gradients, no second derivative needed), or "
            f"give these parameters their own group with curvature='gradient' (Adam-like scaling by |g|), "
            f"e.g. AdaHessian([{{'params': [p for p in params if p.name in ({shown},)], "
            f"'curvature': 'gradient'}}, {{'params': other_params}}], ...), or replace the operator with one "
            f"that has a second derivative.")


def raise_second_order_error(optimizer, grad_fn, inputs, error):
    """Turn a failure to differentiate twice into an error that names the parameters and the way out."""
    try:
        grad_fn(*inputs)
    except Exception:  # pylint: disable=broad-except
        raise error from None  # grad_fn fails by itself: not a second-order problem
    failing = find_parameters_without_second_derivative(grad_fn, optimizer.parameters, inputs,
                                                        optimizer.hutchinson_index)
    if not failing:
        raise error
    reason = str(error).strip().splitlines()[0]
    raise SecondOrderError(
        f"For 'AdaHessian', MindSpore cannot differentiate the gradient a second time for the parameters "
        f"{failing} ({reason}): an operator behind them has no second derivative. "
        + second_order_advice(failing)) from error


def warn_zero_curvature(optimizer):
    """Warn about parameters whose curvature estimate is all zero although their gradient is not."""
    flags = optimizer.zero_curvature.asnumpy()
    names = [p.name for p, flag in zip(optimizer.parameters, flags) if flag]
    if names:
        warnings.warn(f"For 'AdaHessian', the Hessian estimate of {names} is exactly zero although their gradient "
                      f"is not: an operator in the loss may lack a correct second derivative (for example "
                      f"nn.SoftmaxCrossEntropyWithLogits; use ops.cross_entropy with probability targets or "
                      f"the log-sum-exp form). " + second_order_advice(names), RuntimeWarning, stacklevel=4)
