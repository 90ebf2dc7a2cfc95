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
``E[z * (H z)] = diag(H)``. Here H is the Hessian of a loss with respect to weights, and ``H z``
is obtained by differentiating ``<grad_fn(*inputs), z>`` once more with respect to the weights
(reverse over reverse): no Hessian is ever formed.

These functions can be called from Python (in PYNATIVE or GRAPH mode), inside ``mindspore.jit`` and
inside a Cell's ``construct``. Called from Python they compile their work first: MindSpore 2.10's eager
(PYNATIVE) second-order differentiation drops the curvature that flows through reductions (the Hessian
of ``sum(w)**2`` comes out as zero), while compiled graphs get it right.
"""
import mindspore as ms
from mindspore import Tensor, ops
from mindspore.ops.primitive import constexpr

from .probes import batched_probe_set, bits_transform, rademacher_probe


def _marker():
    return 0


@constexpr(check=False)
def _is_none(value):
    return value is None


def _in_graph():
    """True while being compiled into a graph (a function reaches a constexpr as None there), else False."""
    return _is_none(_marker)

__all__ = ["draw_probes", "hessian_vector_product", "hutchinson_diagonal", "split_grad_output"]


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


def _compiled(core, grad_fn, weights):
    """``core(grad_fn, weights, inputs, extra)`` as a freshly compiled function of ``(inputs, extra)``."""
    def run(inputs, extra):
        return core(grad_fn, weights, inputs, extra)
    return ms.jit(run)


def hessian_vector_product(grad_fn, weights, inputs, vectors):
    r"""Compute the gradient and the Hessian-vector product ``H v`` in one pass.

    Args:
        grad_fn (Callable): ``grad_fn(*inputs)`` returns the gradients of a loss w.r.t. ``weights``
            (as made by ``mindspore.grad(fn, None, weights)``) or ``(loss, gradients)`` (as made by
            ``mindspore.value_and_grad``).
        weights (Union[list[Parameter], ParameterTuple]): The weights the gradients are taken with.
        inputs (tuple): Positional inputs of ``grad_fn``.
        vectors (tuple[Tensor]): One vector per weight, of the weight's shape.

    Returns:
        tuple ``(output, hv)``: ``output`` is what ``grad_fn(*inputs)`` returned and ``hv`` the tuple
        of Hessian-vector products, one per weight.

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
    if _in_graph():
        return _hessian_vector_product(grad_fn, weights, inputs, vectors)
    return _compiled(_hessian_vector_product, grad_fn, weights)(tuple(inputs), tuple(vectors))


def _hessian_vector_product(grad_fn, weights, inputs, vectors):
    """Graph-side body of :func:`hessian_vector_product`."""
    def inner(args):
        output = grad_fn(*args)
        _, grads = split_grad_output(output)
        return _inner_product(grads, vectors), output

    (_, output), hv = ms.value_and_grad(inner, None, weights, has_aux=True)(tuple(inputs))
    return output, hv


def draw_probes(shapes, seed=0, counter=0, num_samples=1, probe_fn=rademacher_probe, stream=0):
    """Draw ``num_samples`` sets of probes, one probe per shape.

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
    # Functions cannot be compared inside a compiled graph: there, every shape is drawn on its own.
    from_bits = None if _in_graph() else bits_transform(probe_fn)
    return _draw_probes(shapes, seed, counter, num_samples, probe_fn, stream, from_bits)


def _draw_probes(shapes, seed, counter, num_samples, probe_fn, stream, from_bits):
    """:func:`draw_probes`, batched over the shapes when ``from_bits`` (see ``bits_transform``) is given."""
    samples = ()
    for sample in range(num_samples):
        probes = None
        if from_bits is not None:
            probes = batched_probe_set(from_bits, shapes, seed, counter, sample, stream)
        if probes is None:
            probes = ()
            for index, shape in enumerate(shapes):
                probes += (probe_fn(tuple(shape), seed, counter, (index, sample, stream)),)
        samples += (probes,)
    return samples


def hutchinson_diagonal(grad_fn, weights, inputs, probes):
    r"""Hutchinson's estimate of the Hessian diagonal, averaged over the given probe sets.

    .. math::
        \hat{D} = \frac{1}{S}\sum_{s=1}^{S} z_s \odot (H z_s), \qquad \mathbb{E}[\hat{D}] = \mathrm{diag}(H)

    Args:
        grad_fn (Callable): Gradient function, as in :func:`hessian_vector_product`.
        weights (Union[list[Parameter], ParameterTuple]): The weights.
        inputs (tuple): Positional inputs of ``grad_fn``.
        probes (Sequence[tuple[Tensor]]): ``S >= 1`` probe sets, e.g. from :func:`draw_probes`.

    Returns:
        tuple ``(output, diagonal)``: ``output`` is what ``grad_fn(*inputs)`` returned for the first
        probe set and ``diagonal`` the signed estimate, one Tensor per weight (float32).

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
    if _in_graph():
        return _hutchinson_diagonal(grad_fn, weights, inputs, probes)
    return _compiled(_hutchinson_diagonal, grad_fn, weights)(tuple(inputs), tuple(tuple(p) for p in probes))


def _hutchinson_diagonal(grad_fn, weights, inputs, probes):
    """Graph-side body of :func:`hutchinson_diagonal`."""
    output, hv = _hessian_vector_product(grad_fn, weights, inputs, probes[0])
    diagonal = tuple(ops.cast(z, ms.float32) * ops.cast(h, ms.float32) for z, h in zip(probes[0], hv))
    for sample in probes[1:]:
        _, hv = _hessian_vector_product(grad_fn, weights, inputs, sample)
        diagonal = tuple(d + ops.cast(z, ms.float32) * ops.cast(h, ms.float32)
                         for d, z, h in zip(diagonal, sample, hv))
    if len(probes) > 1:
        diagonal = tuple(d / len(probes) for d in diagonal)
    return output, diagonal
