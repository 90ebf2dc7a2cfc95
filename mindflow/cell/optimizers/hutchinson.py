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
"""Hessian-vector products and Hutchinson's estimate of the Hessian diagonal: for probes z with E[z z^T] = I
(Rademacher or Gaussian), ``E[z * (H z)] = diag(H)``, and no Hessian is ever formed.

Called from Python (in PYNATIVE or GRAPH mode), :func:`hessian_vector_product` and :func:`hutchinson_diagonal` compile
their work first: MindSpore 2.10's eager (PYNATIVE) second-order differentiation drops the curvature that flows through
reductions (the Hessian of ``sum(w)**2`` comes out as zero), while compiled graphs get it right. Inside compiled code
(``mindspore.jit``, a Cell's ``construct`` in GRAPH mode) call them with ``jit=False``: a graph cannot compile another.
"""
import mindspore as ms
from mindspore import Tensor, ops

from .probes import rademacher_probe

__all__ = ["HVP_METHODS", "draw_probes", "hessian_vector_product", "hutchinson_diagonal", "split_grad_output"]

AUTODIFF, FINITE_DIFFERENCE = HVP_METHODS = ("autodiff", "finite_difference")
# Forward-difference step relative to the weights' scale: sqrt of the machine epsilon balances the
# truncation error (~h) against the rounding error of the difference (~eps / h).
_FD_SCALE_FLOAT32, _FD_SCALE_HALF = float(2.0 ** -23) ** 0.5, float(2.0 ** -10) ** 0.5


def split_grad_output(output):
    """Split what a gradient function returned into ``(loss, grads)``.

    ``mindspore.grad(fn, None, weights)`` returns the gradients, ``mindspore.value_and_grad(fn, None, weights)``
    ``(loss, gradients)``; for the former the first element is the gradient tuple itself, so callers can return it.

    Args:
        output (Union[Tensor, tuple]): The output of a gradient function.

    Returns:
        tuple ``(loss_or_grads, grads)``: the loss (the gradient tuple when there is none), and the gradient tuple.
    """
    if isinstance(output, tuple) and len(output) == 2 and isinstance(output[1], (tuple, list)):
        return output[0], tuple(output[1])
    if isinstance(output, Tensor):
        return (output,), (output,)
    return tuple(output), tuple(output)


def check_hvp_method(method, caller, name="hvp_method"):
    """Return ``method`` if it names a way of computing ``H z``, else raise ValueError in ``caller``'s words."""
    if not isinstance(method, str) or method not in HVP_METHODS:
        raise ValueError(f"For '{caller}', the '{name}' must be one of {list(HVP_METHODS)}, but got {method!r}.")
    return method


def _run(core, caller, grad_fn, weights, inputs, extra, method, jit):
    """``core(grad_fn, weights, inputs, extra, method)``, compiled first when ``jit`` (a call from Python)."""
    check_hvp_method(method, caller, "method")

    def run(inputs, extra):
        return core(grad_fn, weights, inputs, extra, method)
    return ms.jit(run)(tuple(inputs), extra) if jit else run(inputs, extra)


def hessian_vector_product(grad_fn, weights, inputs, vectors, method=AUTODIFF, jit=True):
    r"""Compute the gradient and the Hessian-vector product ``H v`` together.

    With ``method="finite_difference"`` the weights move to ``w + h v`` in place for a second gradient and are put back
    bit for bit, :math:`h = \sqrt{\epsilon}\,(1 + \max|w|) / \max|v|` (:math:`\epsilon`: the machine epsilon of
    float32, or of float16 when a weight is half precision); the loss must then be deterministic (no dropout).

    Args:
        grad_fn (Callable): ``grad_fn(*inputs)`` returns the gradients of a loss w.r.t. ``weights`` (as made by
            ``mindspore.grad(fn, None, weights)``) or ``(loss, gradients)`` (as made by ``mindspore.value_and_grad``).
        weights (Union[list[Parameter], ParameterTuple]): The weights the gradients are taken with.
        inputs (tuple): Positional inputs of ``grad_fn``.
        vectors (tuple[Tensor]): One vector per weight, of the weight's shape.
        method (str): ``"autodiff"`` (exact, reverse over reverse) or ``"finite_difference"`` (one more gradient, no
            second derivative). Default: ``"autodiff"``.
        jit (bool): Compile first, as a call from Python needs; ``False`` inside compiled code. Default: ``True``.

    Returns:
        tuple ``(output, hv)``: what ``grad_fn(*inputs)`` returned (at the unmoved weights), and one ``H v`` per weight.

    Raises:
        ValueError: If `method` is not one of the above.

    Supported Platforms:
        ``Ascend`` ``GPU`` ``CPU``

    Examples:
        >>> import numpy as np
        >>> import mindspore as ms
        >>> from mindspore import Parameter, Tensor, ops
        >>> from mindflow.cell.optimizers import hessian_vector_product
        >>> w = Parameter(Tensor(np.array([1.0, 2.0], np.float32)), name="w")
        >>> def loss(x):
        ...     return ops.sum(x * w ** 3)
        >>> grad_fn = ms.grad(loss, grad_position=None, weights=[w])
        >>> _, hv = hessian_vector_product(grad_fn, [w], (Tensor(np.ones(2, np.float32)),),
        ...                                (Tensor(np.ones(2, np.float32)),))
        >>> print(hv[0])
        [ 6. 12.]
    """
    return _run(_hessian_vector_product, "hessian_vector_product", grad_fn, weights, inputs, tuple(vectors), method,
                jit)


def _hessian_vector_product(grad_fn, weights, inputs, vectors, method=AUTODIFF):
    """Graph-side body of :func:`hessian_vector_product`."""
    if method == FINITE_DIFFERENCE:
        output = grad_fn(*inputs)
        return output, _finite_difference_product(grad_fn, weights, inputs, vectors, split_grad_output(output)[1])
    return _autodiff_product(grad_fn, weights, inputs, vectors)


def _autodiff_product(grad_fn, weights, inputs, vectors):
    """``(grad_fn output, H v)`` by reverse over reverse."""
    def inner(args):
        output = grad_fn(*args)
        grads = split_grad_output(output)[1]
        total = ops.sum(grads[0] * ops.cast(vectors[0], grads[0].dtype), dtype=ms.float32)
        for grad, vector in zip(grads[1:], vectors[1:]):
            total = total + ops.sum(grad * ops.cast(vector, grad.dtype), dtype=ms.float32)
        return total, output

    (_, output), hv = ms.value_and_grad(inner, None, weights, has_aux=True)(tuple(inputs))
    return output, hv


def _finite_difference_step(weights, vectors, unit_vectors=False):
    """Step ``h`` of the forward difference (see :func:`hessian_vector_product`); ``unit_vectors``: max ``|v|`` is
    known to be 1 (Rademacher probes), which saves two passes over every vector."""
    scale = _FD_SCALE_FLOAT32
    for weight in weights:
        if weight.dtype in (ms.float16, ms.bfloat16):
            scale = _FD_SCALE_HALF
    largest = ops.concat(tuple(ops.cast(ops.abs(w).max(), ms.float32).reshape((1,)) for w in weights)).max()
    step = scale * (1.0 + largest)
    if unit_vectors:
        return step
    largest = ops.concat(tuple(ops.cast(ops.abs(v).max(), ms.float32).reshape((1,)) for v in vectors)).max()
    # a zero vector gives H 0 = 0 whatever h is: keep the step finite
    return step / ops.select(largest > 0, largest, ops.ones_like(largest))


def _finite_difference_product(grad_fn, weights, inputs, vectors, grads, restore=True, unit_vectors=False):
    """``H v`` as ``(g(w + h v) - g(w)) / h`` from ``grads = g(w)``; ``restore=False`` leaves the weights at ``w + h v``
    for a caller that overwrites them next."""
    step = _finite_difference_step(weights, vectors, unit_vectors)
    saved = tuple(weight + 0 for weight in weights) if restore else None  # put back exactly, not as (w + h v) - h v
    for weight, vector in zip(weights, vectors):
        ops.assign_add(weight, ops.cast(step * ops.cast(vector, ms.float32), weight.dtype))
    moved = split_grad_output(grad_fn(*inputs))[1]
    if restore:
        for weight, value in zip(weights, saved):
            ops.assign(weight, value)
    return tuple(ops.cast(ops.cast(moved_grad, ms.float32) - ops.cast(grad, ms.float32), grad.dtype) / step
                 for grad, moved_grad in zip(grads, moved))


def draw_probes(shapes, seed=0, counter=0, num_samples=1, probe_fn=rademacher_probe, stream=0):
    """Draw ``num_samples`` sets of probes, one probe per shape, from Python or inside compiled code.

    Args:
        shapes (Sequence[tuple[int]]): Shapes of the weights.
        seed (Union[int, Tensor]): Seed. Default: ``0``.
        counter (Union[int, Tensor]): Draw counter; a new counter gives new probes. Default: ``0``.
        num_samples (int): Number of probe sets. Default: ``1``.
        probe_fn (Callable): ``probe_fn(shape, seed, counter, stream)`` returns one probe, e.g. :func:`rademacher_probe`
            (default) or :func:`gaussian_probe`.
        stream (int): Extra stream id (AdaHessian's data-parallel rank, with per-rank probes). Default: ``0``.

    Returns:
        tuple of ``num_samples`` tuples of Tensors; sample ``s`` of weight ``i`` uses the stream ``(i, s, stream)``.
    """
    return tuple(tuple(probe_fn(tuple(shape), seed, counter, (index, sample, stream))
                       for index, shape in enumerate(shapes)) for sample in range(num_samples))


def hutchinson_diagonal(grad_fn, weights, inputs, probes, method=AUTODIFF, jit=True):
    r"""Hutchinson's estimate of the Hessian diagonal, averaged over the given probe sets.

    .. math::
        \hat{D} = \frac{1}{S}\sum_{s=1}^{S} z_s \odot (H z_s), \qquad \mathbb{E}[\hat{D}] = \mathrm{diag}(H)

    Args:
        grad_fn (Callable): Gradient function, as in :func:`hessian_vector_product`.
        weights (Union[list[Parameter], ParameterTuple]): The weights.
        inputs (tuple): Positional inputs of ``grad_fn``.
        probes (Sequence[tuple[Tensor]]): ``S >= 1`` probe sets, e.g. from :func:`draw_probes`.
        method (str): How ``H z`` is computed, ``"autodiff"`` or ``"finite_difference"``, see
            :func:`hessian_vector_product`. Default: ``"autodiff"``.
        jit (bool): Compile first, as a call from Python needs; ``False`` inside compiled code. Default: ``True``.

    Returns:
        tuple ``(output, diagonal)``: what ``grad_fn(*inputs)`` returned (first probe set), and one signed float32
        estimate per weight.

    Raises:
        ValueError: If `method` is not one of the above.

    Supported Platforms:
        ``Ascend`` ``GPU`` ``CPU``

    Examples:
        >>> import numpy as np
        >>> import mindspore as ms
        >>> from mindspore import Parameter, Tensor, ops
        >>> from mindflow.cell.optimizers import draw_probes, hutchinson_diagonal
        >>> w = Parameter(Tensor(np.array([1.0, 2.0], np.float32)), name="w")
        >>> def loss(x):
        ...     return ops.sum(x * w ** 3)
        >>> grad_fn = ms.grad(loss, grad_position=None, weights=[w])
        >>> probes = draw_probes([w.shape], seed=0, counter=0)
        >>> _, diag = hutchinson_diagonal(grad_fn, [w], (Tensor(np.ones(2, np.float32)),), probes)
        >>> print(diag[0])
        [ 6. 12.]
    """
    return _run(_hutchinson_diagonal, "hutchinson_diagonal", grad_fn, weights, inputs,
                tuple(tuple(p) for p in probes), method, jit)


def _hutchinson_diagonal(grad_fn, weights, inputs, probes, method=AUTODIFF, grads=None, restore=True,
                         unit_vectors=False):
    """Graph-side body of :func:`hutchinson_diagonal`; ``grads``: the gradients at the unmoved weights when the caller
    has them (the output is then ``grads``); ``restore=False``: the last finite difference leaves the weights moved."""
    output = grads
    if method == FINITE_DIFFERENCE and grads is None:
        output = grad_fn(*inputs)
        grads = split_grad_output(output)[1]
    diagonal = ()
    for position, sample in enumerate(probes):
        if method == FINITE_DIFFERENCE:
            hv = _finite_difference_product(grad_fn, weights, inputs, sample, grads,
                                            restore or position < len(probes) - 1, unit_vectors)
        elif position == 0:
            output, hv = _autodiff_product(grad_fn, weights, inputs, sample)
        else:
            _, hv = _autodiff_product(grad_fn, weights, inputs, sample)
        terms = tuple(ops.cast(z, ms.float32) * ops.cast(h, ms.float32) for z, h in zip(sample, hv))
        diagonal = terms if position == 0 else tuple(d + term for d, term in zip(diagonal, terms))
    if len(probes) > 1:
        diagonal = tuple(d / len(probes) for d in diagonal)
    return output, diagonal


def estimate_diagonal(grad_fn, weights, index, count, inputs, probes, method=AUTODIFF, hessian_inputs=None,
                      unit_vectors=False):
    """``grad_fn``'s output and the signed estimate for the weights at positions ``index`` of its ``count``
    gradients, for AdaHessian's step: the weights are left moved by a finite difference (the update overwrites them);
    ``hessian_inputs``: inputs of the Hessian-vector products when they differ from ``inputs``."""
    if not index:
        return grad_fn(*inputs), ()
    everything = len(index) == count
    if everything and hessian_inputs is None:
        return _hutchinson_diagonal(grad_fn, weights, inputs, probes, method, None, False, unit_vectors)

    def partial_grad_fn(*args):
        grads = split_grad_output(grad_fn(*args))[1]
        return tuple(grads[i] for i in index)

    output = grad_fn(*inputs)  # the gradient of the update, taken before a finite difference moves the weights
    # the finite difference starts from these gradients rather than taking them again
    start_grads = None if hessian_inputs is not None else tuple(split_grad_output(output)[1][i] for i in index)
    _, diagonal = _hutchinson_diagonal(grad_fn if everything else partial_grad_fn, weights,
                                       inputs if hessian_inputs is None else hessian_inputs, probes, method,
                                       start_grads, False, unit_vectors)
    return output, diagonal
