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
"""Hessian-vector products and Hutchinson's estimate of the Hessian diagonal.

For a symmetric matrix H and probes z with E[z z^T] = I (Rademacher or Gaussian),
``E[z * (H z)] = diag(H)``. Here H is the Hessian of a loss with respect to weights; no Hessian is
ever formed. ``H z`` comes by one of two methods:

* ``"autodiff"``: differentiate ``<grad_fn(*inputs), z>`` once more with respect to the weights
  (reverse over reverse). Exact; costs a backward pass through the gradient graph.
* ``"finite_difference"``: ``(grad_fn at w + h z  -  grad_fn at w) / h``, the weights moved in place
  and put back. One more gradient, no second derivative needed; its error is of the order of
  ``sqrt(machine epsilon)`` relative to the gradient's scale.

Called from Python (in PYNATIVE or GRAPH mode), :func:`hessian_vector_product` and
:func:`hutchinson_diagonal` compile their work first: MindSpore 2.10's eager (PYNATIVE) second-order
differentiation drops the curvature that flows through reductions (the Hessian of ``sum(w)**2`` comes out
as zero), while compiled graphs get it right. Inside compiled code (``mindspore.jit``, a Cell's
``construct`` in GRAPH mode) call them with ``jit=False``: a graph cannot compile another one.
"""
import mindspore as ms
from mindspore import Tensor, ops

from .probes import rademacher_probe

__all__ = ["HVP_METHODS", "draw_probes", "hessian_vector_product", "hutchinson_diagonal", "split_grad_output"]

AUTODIFF, FINITE_DIFFERENCE = "autodiff", "finite_difference"
# Ways of computing H z, selectable by name.
HVP_METHODS = (AUTODIFF, FINITE_DIFFERENCE)
# Forward-difference step relative to the weights' scale: sqrt of the machine epsilon balances the
# truncation error (~h) against the rounding error of the difference (~eps / h).
_FD_SCALE_FLOAT32 = float(2.0 ** -23) ** 0.5
_FD_SCALE_HALF = float(2.0 ** -10) ** 0.5


def split_grad_output(output):
    """Split what a gradient function returned into ``(loss, grads)``.

    ``mindspore.grad(fn, None, weights)`` returns the gradients (a tuple of Tensors);
    ``mindspore.value_and_grad(fn, None, weights)`` returns ``(loss, gradients)``. For the former
    the first element returned is the gradient tuple itself, so callers can always return it.

    Args:
        output (Union[Tensor, tuple]): The output of a gradient function.

    Returns:
        tuple ``(loss_or_grads, grads)``: ``loss_or_grads`` is the loss when there is one,
        otherwise the gradient tuple; ``grads`` is always a tuple of Tensors.
    """
    if isinstance(output, tuple) and len(output) == 2 and isinstance(output[1], (tuple, list)):
        return output[0], tuple(output[1])
    if isinstance(output, Tensor):
        return (output,), (output,)
    return tuple(output), tuple(output)


def _inner_product(tensors, vectors):
    total = ops.sum(tensors[0] * ops.cast(vectors[0], tensors[0].dtype), dtype=ms.float32)
    for tensor, vector in zip(tensors[1:], vectors[1:]):
        total = total + ops.sum(tensor * ops.cast(vector, tensor.dtype), dtype=ms.float32)
    return total


def check_hvp_method(method, caller, name="hvp_method"):
    """Return ``method`` if it names a way of computing ``H z``, else raise ValueError in ``caller``'s words."""
    if not isinstance(method, str) or method not in HVP_METHODS:
        raise ValueError(f"For '{caller}', the '{name}' must be one of {list(HVP_METHODS)}, but got {method!r}.")
    return method


def _compiled(core, grad_fn, weights, method):
    """``core(grad_fn, weights, inputs, extra, method)`` as a freshly compiled function of ``(inputs, extra)``."""
    def run(inputs, extra):
        return core(grad_fn, weights, inputs, extra, method)
    return ms.jit(run)


def hessian_vector_product(grad_fn, weights, inputs, vectors, method=AUTODIFF, jit=True):
    r"""Compute the gradient and the Hessian-vector product ``H v`` together.

    With ``method="finite_difference"`` the weights are moved to ``w + h v`` in place, the gradient is
    taken again and the weights are put back bit for bit, with
    :math:`h = \sqrt{\epsilon}\,(1 + \max|w|) / \max|v|` (:math:`\epsilon` the machine epsilon of
    float32, or of float16 when a weight is half precision). The loss must then be deterministic
    (no dropout), as both gradients must see the same function.

    Args:
        grad_fn (Callable): ``grad_fn(*inputs)`` returns the gradients of a loss w.r.t. ``weights``
            (as made by ``mindspore.grad(fn, None, weights)``) or ``(loss, gradients)`` (as made by
            ``mindspore.value_and_grad``).
        weights (Union[list[Parameter], ParameterTuple]): The weights the gradients are taken with.
        inputs (tuple): Positional inputs of ``grad_fn``.
        vectors (tuple[Tensor]): One vector per weight, of the weight's shape.
        method (str): ``"autodiff"`` (exact, reverse over reverse) or ``"finite_difference"`` (one more
            gradient, no second derivative). Default: ``"autodiff"``.
        jit (bool): Compile the computation before running it, as a call from Python needs; ``False`` inside
            compiled code (``mindspore.jit``, a Cell's ``construct`` in GRAPH mode). Default: ``True``.

    Returns:
        tuple ``(output, hv)``: ``output`` is what ``grad_fn(*inputs)`` returned (at the unmoved
        weights) and ``hv`` the tuple of Hessian-vector products, one per weight.

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
    check_hvp_method(method, "hessian_vector_product", "method")
    if not jit:
        return _hessian_vector_product(grad_fn, weights, inputs, vectors, method)
    return _compiled(_hessian_vector_product, grad_fn, weights, method)(tuple(inputs), tuple(vectors))


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
        _, grads = split_grad_output(output)
        return _inner_product(grads, vectors), output

    (_, output), hv = ms.value_and_grad(inner, None, weights, has_aux=True)(tuple(inputs))
    return output, hv


def _finite_difference_step(weights, vectors, unit_vectors=False):
    """Step ``h`` of the forward difference (a float32 scalar Tensor); see :func:`hessian_vector_product`.

    ``unit_vectors``: the caller knows that the largest ``|v|`` is 1 (Rademacher probes), which saves two passes
    over every vector.
    """
    scale = _FD_SCALE_FLOAT32
    for weight in weights:
        if weight.dtype in (ms.float16, ms.bfloat16):
            scale = _FD_SCALE_HALF
    weight_max = ()
    vector_max = ()
    for weight, vector in zip(weights, vectors):
        weight_max += (ops.cast(ops.abs(weight).max(), ms.float32).reshape((1,)),)
        if not unit_vectors:
            vector_max += (ops.cast(ops.abs(vector).max(), ms.float32).reshape((1,)),)
    if unit_vectors:
        return scale * (1.0 + ops.concat(weight_max).max())
    largest_vector = ops.concat(vector_max).max()
    # a zero vector gives H 0 = 0 whatever h is: keep the step finite
    largest_vector = ops.select(largest_vector > 0, largest_vector, ops.ones_like(largest_vector))
    return scale * (1.0 + ops.concat(weight_max).max()) / largest_vector


def _finite_difference_product(grad_fn, weights, inputs, vectors, grads, restore=True, unit_vectors=False):
    """``H v`` as ``(g(w + h v) - g(w)) / h``; ``grads`` is ``g(w)``, which the caller already has.

    ``restore=False`` leaves the weights at ``w + h v``, for a caller that overwrites them next (AdaHessian
    writes ``w - step`` computed from the ``w`` it read before).
    """
    step = _finite_difference_step(weights, vectors, unit_vectors)
    if restore:
        saved = ()
        for weight in weights:
            saved += (weight + 0,)  # a copy: the weights are put back exactly, not as (w + h v) - h v
        for weight, value, vector in zip(weights, saved, vectors):
            ops.assign(weight, value + ops.cast(step * ops.cast(vector, ms.float32), value.dtype))
        moved = split_grad_output(grad_fn(*inputs))[1]
        for weight, value in zip(weights, saved):
            ops.assign(weight, value)
    else:
        for weight, vector in zip(weights, vectors):
            ops.assign_add(weight, ops.cast(step * ops.cast(vector, ms.float32), weight.dtype))
        moved = split_grad_output(grad_fn(*inputs))[1]
    hv = ()
    for grad, moved_grad in zip(grads, moved):
        hv += (ops.cast(ops.cast(moved_grad, ms.float32) - ops.cast(grad, ms.float32), grad.dtype) / step,)
    return hv


def draw_probes(shapes, seed=0, counter=0, num_samples=1, probe_fn=rademacher_probe, stream=0):
    """Draw ``num_samples`` sets of probes, one probe per shape.

    Works from Python and inside compiled code alike.

    Args:
        shapes (Sequence[tuple[int]]): Shapes of the weights.
        seed (Union[int, Tensor]): Seed. Default: ``0``.
        counter (Union[int, Tensor]): Draw counter; a new counter gives new probes. Default: ``0``.
        num_samples (int): Number of probe sets. Default: ``1``.
        probe_fn (Callable): ``probe_fn(shape, seed, counter, stream)`` returns one probe, e.g.
            :func:`rademacher_probe` (default) or :func:`gaussian_probe`.
        stream (int): Extra stream id (AdaHessian passes the data-parallel rank when probes are
            drawn per rank). Default: ``0``.

    Returns:
        tuple of ``num_samples`` tuples of Tensors; sample ``s`` of weight ``i`` uses the stream
        ``(i, s, stream)``.
    """
    samples = ()
    for sample in range(num_samples):
        probes = ()
        for index, shape in enumerate(shapes):
            probes += (probe_fn(tuple(shape), seed, counter, (index, sample, stream)),)
        samples += (probes,)
    return samples


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
        jit (bool): Compile the computation before running it, as a call from Python needs; ``False`` inside
            compiled code. Default: ``True``.

    Returns:
        tuple ``(output, diagonal)``: ``output`` is what ``grad_fn(*inputs)`` returned for the first
        probe set and ``diagonal`` the signed estimate, one Tensor per weight (float32).

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
    check_hvp_method(method, "hutchinson_diagonal", "method")
    if not jit:
        return _hutchinson_diagonal(grad_fn, weights, inputs, probes, method)
    return _compiled(_hutchinson_diagonal, grad_fn, weights, method)(tuple(inputs), tuple(tuple(p) for p in probes))


def _hutchinson_diagonal(grad_fn, weights, inputs, probes, method=AUTODIFF, grads=None, restore=True,
                         unit_vectors=False):
    """Graph-side body of :func:`hutchinson_diagonal`.

    ``grads``: for ``"finite_difference"``, the gradients at the unmoved weights when the caller has them
    (the output is then ``grads``); otherwise ``grad_fn`` computes them first. ``restore=False``: the last
    finite difference leaves the weights moved (see ``_finite_difference_product``).
    """
    if method == FINITE_DIFFERENCE:
        output = grads
        if grads is None:
            output = grad_fn(*inputs)
            grads = split_grad_output(output)[1]
        hv = _finite_difference_product(grad_fn, weights, inputs, probes[0], grads, restore or len(probes) > 1,
                                        unit_vectors)
    else:
        output, hv = _autodiff_product(grad_fn, weights, inputs, probes[0])
    diagonal = tuple(ops.cast(z, ms.float32) * ops.cast(h, ms.float32) for z, h in zip(probes[0], hv))
    for position, sample in enumerate(probes[1:]):
        if method == FINITE_DIFFERENCE:
            last = position == len(probes) - 2
            hv = _finite_difference_product(grad_fn, weights, inputs, sample, grads, restore or not last,
                                            unit_vectors)
        else:
            _, hv = _autodiff_product(grad_fn, weights, inputs, sample)
        diagonal = tuple(d + ops.cast(z, ms.float32) * ops.cast(h, ms.float32)
                         for d, z, h in zip(diagonal, sample, hv))
    if len(probes) > 1:
        diagonal = tuple(d / len(probes) for d in diagonal)
    return output, diagonal


def estimate_diagonal(grad_fn, weights, index, count, inputs, probes, method=AUTODIFF, hessian_inputs=None,
                      unit_vectors=False):
    """``grad_fn``'s output and the signed estimate for the weights at positions ``index`` of its ``count`` gradients.

    Graph-side, for AdaHessian's step: the weights are left moved by a finite difference, which the update
    overwrites from the values it read first. ``hessian_inputs``: inputs of the Hessian-vector products when
    they differ from ``inputs``, else ``None``.
    """
    if not index:
        return grad_fn(*inputs), ()
    everything = len(index) == count
    if everything and hessian_inputs is None:
        return _hutchinson_diagonal(grad_fn, weights, inputs, probes, method, None, False, unit_vectors)

    def partial_grad_fn(*args):
        grads = split_grad_output(grad_fn(*args))[1]
        return tuple(grads[i] for i in index)

    # the gradient of the update comes first, before a finite difference moves the weights
    output = grad_fn(*inputs)
    start_grads = None
    if hessian_inputs is None:
        # same inputs: the finite difference starts from these gradients rather than taking them again
        grads = split_grad_output(output)[1]
        start_grads = tuple(grads[i] for i in index)
    hvp_inputs = inputs if hessian_inputs is None else hessian_inputs
    _, diagonal = _hutchinson_diagonal(grad_fn if everything else partial_grad_fn, weights, hvp_inputs, probes,
                                       method, start_grads, False, unit_vectors)
    return output, diagonal
