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
"""Counter-based random probes for Hutchinson's estimator.

Each probe element is a pure function of ``(seed, counter, stream, element index)``: a 32-bit
integer hash evaluated with int64 tensor arithmetic. Nothing is stateful, so the same probes come
out in PYNATIVE and GRAPH mode, on every backend, and after a checkpoint is restored: the only
state to save is the counter the optimizer already keeps.
"""
import math
from types import SimpleNamespace

import numpy as np
import mindspore as ms
from mindspore import Tensor, ops

__all__ = ["gaussian_probe", "rademacher_probe", "PROBES"]

_MASK32 = 0xFFFFFFFF
# Odd multipliers below 2**31, so that a 32-bit value times a multiplier stays inside int64.
_MUL_A = 0x7FEB352D
_MUL_B = 0x2C1B3C6D
_SECOND_STREAM = 0x5BD1E995
# NumPy under the names of the mindspore.ops bit operations, for the host twin of the key chain
_NUMPY_BITS = SimpleNamespace(bitwise_xor=np.bitwise_xor, bitwise_right_shift=np.right_shift,
                              bitwise_and=np.bitwise_and)


def _mix32(x, bits=ops):
    """Avalanche int64 values holding 32-bit integers (xorshift-multiply rounds); ``bits=_NUMPY_BITS`` on arrays."""
    x = bits.bitwise_xor(x, bits.bitwise_right_shift(x, 16))
    x = bits.bitwise_and(x * _MUL_A, _MASK32)
    x = bits.bitwise_xor(x, bits.bitwise_right_shift(x, 15))
    x = bits.bitwise_and(x * _MUL_B, _MASK32)
    return bits.bitwise_xor(x, bits.bitwise_right_shift(x, 16))


def _as_int64(value):
    if isinstance(value, Tensor):
        return ops.bitwise_and(ops.cast(value.reshape(()), ms.int64), _MASK32)
    return Tensor(int(value) & _MASK32, ms.int64)


def _stream_key(seed, counter, stream):
    """One 32-bit key per (seed, counter, stream); ``stream`` is an int or a tuple of ints."""
    key = _mix32(_as_int64(seed))
    key = _mix32(ops.bitwise_xor(key, _as_int64(counter)))
    if not isinstance(stream, tuple):
        stream = (stream,)
    return _extend_key(key, stream)


def _extend_key(key, parts):
    """Mix each part into the key; a part is an int, or an int64 Tensor of 32-bit values (one key per value)."""
    for part in parts:
        if not isinstance(part, Tensor):
            part = int(part) & _MASK32
        key = _mix32(ops.bitwise_xor(key, part))
    return key


def _hash_index(index, key):
    """32 random bits per element index, a bijection of the index for a fixed key (``key`` broadcasts)."""
    return _mix32(ops.bitwise_xor(_mix32(ops.bitwise_xor(index, key)), key))


def _element_bits(shape, key):
    """32 random bits per element of ``shape``, a bijection of the flat index for a fixed key."""
    return _hash_index(ops.arange(0, _size(shape), dtype=ms.int64).reshape(shape), key)


def rademacher_probe(shape, seed, counter, stream=0, dtype=ms.float32):
    r"""Draw a Rademacher probe: every element is exactly ``+1`` or ``-1`` with probability 1/2.

    Args:
        shape (tuple[int]): Shape of the probe (the shape of the parameter it multiplies).
        seed (Union[int, Tensor]): Seed of the generator.
        counter (Union[int, Tensor]): Draw counter (AdaHessian uses its Hessian refresh count).
        stream (Union[int, tuple[int]]): Independent sub-stream, e.g. ``(parameter index, sample index, rank)``.
            Default: ``0``.
        dtype (mindspore.dtype): Data type of the result. Default: ``mindspore.float32``.

    Returns:
        Tensor of ``shape`` and ``dtype``; the same arguments always give the same tensor.

    Supported Platforms:
        ``Ascend`` ``GPU`` ``CPU``

    Examples:
        >>> from mindflow.cell.optimizers import rademacher_probe
        >>> z = rademacher_probe((2, 3), seed=0, counter=0)
        >>> print(sorted(set(z.asnumpy().ravel().tolist())) in ([-1.0, 1.0], [-1.0], [1.0]))
        True
    """
    return _rademacher_from_bits(_element_bits(tuple(shape), _stream_key(seed, counter, stream)), dtype)


def _rademacher_from_bits(bits, dtype=ms.float32):
    sign_bit = ops.bitwise_right_shift(bits, 31)
    return ops.cast(1 - 2 * sign_bit, dtype)


def gaussian_probe(shape, seed, counter, stream=0, dtype=ms.float32):
    r"""Draw a standard normal probe (Box-Muller transform of two hashed uniforms).

    Args:
        shape (tuple[int]): Shape of the probe.
        seed (Union[int, Tensor]): Seed of the generator.
        counter (Union[int, Tensor]): Draw counter.
        stream (Union[int, tuple[int]]): Independent sub-stream. Default: ``0``.
        dtype (mindspore.dtype): Data type of the result. Default: ``mindspore.float32``.

    Returns:
        Tensor of ``shape`` and ``dtype`` with independent N(0, 1) entries.

    Supported Platforms:
        ``Ascend`` ``GPU`` ``CPU``

    Examples:
        >>> from mindflow.cell.optimizers import gaussian_probe
        >>> z = gaussian_probe((1000,), seed=1, counter=0)
        >>> print(abs(float(z.mean())) < 0.2)
        True
    """
    return _gaussian_from_bits(_element_bits(tuple(shape), _stream_key(seed, counter, stream)), dtype)


def _gaussian_from_bits(bits_a, dtype=ms.float32):
    bits_b = _mix32(ops.bitwise_xor(bits_a, _SECOND_STREAM))
    # 24 high bits give uniforms strictly inside (0, 1): log(u) stays finite.
    scale = 1.0 / (1 << 24)
    u_a = (ops.cast(ops.bitwise_right_shift(bits_a, 8), ms.float32) + 0.5) * scale
    u_b = (ops.cast(ops.bitwise_right_shift(bits_b, 8), ms.float32) + 0.5) * scale
    radius = ops.sqrt(-2.0 * ops.log(u_a))
    return ops.cast(radius * ops.cos((2.0 * math.pi) * u_b), dtype)


# Probe distributions selectable by name in AdaHessian(probe=...).
PROBES = {"rademacher": rademacher_probe, "gaussian": gaussian_probe}


def batched_probe_set(from_bits, shapes, seed, counter, sample, stream):
    """``tuple(probe_fn(shape, seed, counter, (i, sample, stream)) for i, shape in enumerate(shapes))``, drawn at once.

    ``from_bits = bits_transform(probe_fn)`` names the built-in distribution. The keys of all the streams
    and the bits of all the elements are hashed as single vectors, which gives the same bits as one draw per
    shape for a fraction of the kernels (a probe set costs a constant number of kernels, however many
    parameters there are). Rademacher values are identical; Gaussian ones may differ in the last bit, as
    log and cos may round differently over a longer vector. Returns ``None`` for empty shapes; the caller
    then draws per shape.
    """
    # Explicit loops, no generator expressions: this also runs inside compiled graphs.
    sizes = ()
    for shape in shapes:
        sizes += (_size(shape),)
    if not sizes or min(sizes) == 0:
        return None
    # The key of shape i is that of the stream (i, sample, stream), all shapes at once.
    keys = _extend_key(_stream_key(seed, counter, ()), (ops.arange(0, len(sizes), dtype=ms.int64), sample, stream))
    # Per element: its shape's key and its index inside that shape.
    element_keys = ()
    index = ()
    for i, size in enumerate(sizes):
        element_keys += (ops.broadcast_to(keys[i:i + 1], (size,)),)
        index += (ops.arange(0, size, dtype=ms.int64),)
    element_keys = ops.concat(element_keys)
    index = ops.concat(index)
    return _split_flat(from_bits(_hash_index(index, element_keys)), shapes)


def host_stream_keys(seed, counter, count, sample, stream):
    """The keys of the streams ``(i, sample, stream)``, ``i < count``, computed on the host (int64 array).

    These are the keys :func:`batched_probe_set` derives inside the graph from ``seed`` and ``counter``.
    Deriving them costs about sixty tiny kernels on the device, but microseconds in NumPy, so a caller that
    knows the counter on the host passes them to :func:`probe_set_from_keys`, which gives the same probes.
    """
    key = _mix32(np.int64(int(seed) & _MASK32), _NUMPY_BITS)
    key = _mix32(np.bitwise_xor(key, np.int64(int(counter) & _MASK32)), _NUMPY_BITS)
    keys = _mix32(np.bitwise_xor(key, np.arange(count, dtype=np.int64)), _NUMPY_BITS)
    for part in (sample, stream):
        keys = _mix32(np.bitwise_xor(keys, np.int64(int(part) & _MASK32)), _NUMPY_BITS)
    return keys


def flat_layout(shapes):
    """``(index, segment)`` int arrays over all elements of ``shapes``: the index inside its shape, and the shape."""
    sizes = [_size(shape) for shape in shapes]
    index = np.concatenate([np.arange(size, dtype=np.int64) for size in sizes])
    segment = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    return index, segment


def probe_set_from_keys(from_bits, shapes, keys, index, segment):
    """One probe per shape from per-shape stream keys (see :func:`host_stream_keys` and :func:`flat_layout`).

    ``keys``: int64 Tensor, one key per shape; ``index``/``segment``: the layout of :func:`flat_layout` as
    Tensors. Gives exactly the probes of :func:`batched_probe_set` for the same streams.
    """
    return _split_flat(from_bits(_hash_index(index, ops.gather(keys, segment, 0))), shapes)


def _split_flat(values, shapes):
    """The consecutive pieces of the flat vector ``values``, reshaped to ``shapes``."""
    pieces = ()
    start = 0
    for shape in shapes:
        size = _size(shape)
        pieces += (values[start:start + size].reshape(tuple(shape)),)
        start += size
    return pieces


def bits_transform(probe_fn):
    """The function of the hashed bits behind a built-in probe distribution, else ``None`` (Python side only)."""
    if probe_fn is rademacher_probe:
        return _rademacher_from_bits
    if probe_fn is gaussian_probe:
        return _gaussian_from_bits
    return None


def _size(shape):
    size = 1
    for dim in shape:
        size *= dim
    return size
