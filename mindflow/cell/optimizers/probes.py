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

Each probe element is a pure function of ``(seed, counter, stream, element index)``: a 32-bit integer hash evaluated
with int64 tensor arithmetic. Nothing is stateful, so the same probes come out in PYNATIVE and GRAPH mode, on every
backend, and after a checkpoint is restored: the only state to save is the counter the optimizer already keeps.

A Rademacher sign needs one bit, so element ``i`` takes bit ``i % 32`` of the hash of word ``i // 32``: the integer
hash, whose bit operations are the slow kernels on CPU, runs over 32 times fewer values. A Gaussian element takes a hash
of its own."""
import math
from types import SimpleNamespace

import numpy as np
import mindspore as ms
from mindspore import Tensor, ops

__all__ = ["gaussian_probe", "rademacher_probe", "PROBES"]

_MASK32 = 0xFFFFFFFF
# Odd multipliers below 2**31, so that a 32-bit value times a multiplier stays inside int64.
_MUL_A, _MUL_B = 0x7FEB352D, 0x2C1B3C6D
_SECOND_STREAM = 0x5BD1E995
# NumPy under the names of the mindspore.ops bit operations, for host_stream_keys
_NUMPY_BITS = SimpleNamespace(bitwise_xor=np.bitwise_xor, bitwise_right_shift=np.right_shift,
                              bitwise_and=np.bitwise_and)
SIGNS_PER_WORD = 32
# Row b: the signs 1 - 2 * (bit j of b), j = 0..7. A word is unpacked a byte at a time by a lookup in this
# table: one gather instead of 32 shift-and-mask kernels per element.
_BYTE_SIGNS = Tensor(np.array([[1.0 - 2.0 * ((byte >> bit) & 1) for bit in range(8)] for byte in range(256)],
                              np.float32))
_BYTE_SHIFTS = Tensor(np.array([[0, 8, 16, 24]], np.int64))


def flat_piece(values, start, stop):
    """``values[start:stop]`` of a flat vector, without a slice when that is all of it: on MindSpore's CPU backend
    a slice spanning the whole vector is far slower than a shorter one."""
    return values if start == 0 and stop == values.shape[0] else values[start:stop]


def numel(shape):
    """The number of elements of ``shape`` (also inside graphs)."""
    count = 1
    for dim in shape:
        count *= dim
    return count



def _mix32(x, bits=ops):
    """Avalanche int64 values holding 32-bit integers (xorshift-multiply rounds); ``bits=_NUMPY_BITS`` on arrays."""
    x = bits.bitwise_xor(x, bits.bitwise_right_shift(x, 16))
    x = bits.bitwise_and(x * _MUL_A, _MASK32)
    x = bits.bitwise_xor(x, bits.bitwise_right_shift(x, 15))
    x = bits.bitwise_and(x * _MUL_B, _MASK32)
    return bits.bitwise_xor(x, bits.bitwise_right_shift(x, 16))


def _as_int64(value):  # the low 32 bits, as an int64 scalar Tensor
    if isinstance(value, Tensor):
        return ops.bitwise_and(ops.cast(value.reshape(()), ms.int64), _MASK32)
    return Tensor(int(value) & _MASK32, ms.int64)


def _stream_key(seed, counter, stream):
    """One 32-bit key per (seed, counter, stream); ``stream``: an int, or a tuple of ints and of int64 Tensors of
    32-bit values (one key per value)."""
    key = _mix32(ops.bitwise_xor(_mix32(_as_int64(seed)), _as_int64(counter)))
    for part in stream if isinstance(stream, tuple) else (stream,):
        if not isinstance(part, Tensor):
            part = int(part) & _MASK32
        key = _mix32(ops.bitwise_xor(key, part))
    return key


def _hash_index(index, key):
    """32 random bits per element index, a bijection of the index for a fixed key (``key`` broadcasts)."""
    return _mix32(ops.bitwise_xor(_mix32(ops.bitwise_xor(index, key)), key))


def _word_count(size, per_word):
    """Words that hold ``size`` values, ``per_word`` (1 or 32) to a word. A shift rather than ``//``: MindSpore's
    graph compiler divides Python ints through float32, which is inexact above 2**24."""
    shift = 5 if per_word == SIGNS_PER_WORD else 0
    return (size + per_word - 1) >> shift


def rademacher_probe(shape, seed, counter, stream=0, dtype=ms.float32):
    r"""Draw a Rademacher probe: every element is exactly ``+1`` or ``-1`` with probability 1/2.

    Args:
        shape (tuple[int]): Shape of the probe (the shape of the parameter it multiplies).
        seed (Union[int, Tensor]): Seed of the generator.
        counter (Union[int, Tensor]): Draw counter (AdaHessian uses its Hessian refresh count).
        stream (Union[int, tuple[int]]): Independent sub-stream, e.g. ``(parameter, sample, rank)``. Default: ``0``.
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
    shape = tuple(shape)
    size = numel(shape)
    if size == 0:
        return ops.zeros(shape, dtype)
    words = ops.arange(0, _word_count(size, SIGNS_PER_WORD), dtype=ms.int64)
    signs = _rademacher_from_bits(_hash_index(words, _stream_key(seed, counter, stream)))
    return ops.cast(flat_piece(signs, 0, size).reshape(shape), dtype)


def _rademacher_from_bits(words):
    """32 float32 signs per hashed word, flat: sign ``32 w + j`` is ``1 - 2 * (bit j of word w)``."""
    byte = ops.bitwise_and(ops.bitwise_right_shift(words.reshape(-1, 1), _BYTE_SHIFTS), 255)
    return ops.gather(_BYTE_SIGNS, byte.reshape(-1), 0).reshape(-1)


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
    shape = tuple(shape)
    index = ops.arange(0, numel(shape), dtype=ms.int64).reshape(shape)
    return _gaussian_from_bits(_hash_index(index, _stream_key(seed, counter, stream)), dtype)


def _gaussian_from_bits(bits_a, dtype=ms.float32):
    """One standard normal value per hashed word (``bits_a``, any shape)."""
    bits_b = _mix32(ops.bitwise_xor(bits_a, _SECOND_STREAM))
    scale = 1.0 / (1 << 24)  # 24 high bits give uniforms strictly inside (0, 1): log(u) stays finite
    u_a = (ops.cast(ops.bitwise_right_shift(bits_a, 8), ms.float32) + 0.5) * scale
    u_b = (ops.cast(ops.bitwise_right_shift(bits_b, 8), ms.float32) + 0.5) * scale
    radius = ops.sqrt(-2.0 * ops.log(u_a))
    return ops.cast(radius * ops.cos((2.0 * math.pi) * u_b), dtype)


PROBES = {"rademacher": rademacher_probe, "gaussian": gaussian_probe}


def graph_stream_keys(seed, counter, count, sample, stream):
    """The keys of the streams ``(i, sample, stream)``, ``i < count``, as an int64 Tensor (also inside graphs): with
    :func:`probe_set_from_keys`, the probes of ``probe_fn(shape, seed, counter, (i, sample, stream))`` at once."""
    return _stream_key(seed, counter, (ops.arange(0, count, dtype=ms.int64), sample, stream))


def host_stream_keys(seed, counter, count, sample, stream):
    """The NumPy twin of :func:`graph_stream_keys` (an int64 array), for a caller that knows the counter on the host:
    on the device the keys take dozens of tiny kernels."""
    key = _mix32(np.int64(int(seed) & _MASK32), _NUMPY_BITS)
    for part in (np.int64(int(counter) & _MASK32), np.arange(count, dtype=np.int64), np.int64(int(sample) & _MASK32),
                 np.int64(int(stream) & _MASK32)):
        key = _mix32(np.bitwise_xor(key, part), _NUMPY_BITS)
    return key


def flat_layout(shapes, transform):
    """``(index, segment)`` arrays over the hashed words of ``shapes`` (``transform = bits_transform(probe_fn)``): the
    word inside its shape, and the shape."""
    words = [_word_count(numel(shape), transform[1]) for shape in shapes]
    return (np.concatenate([np.arange(count, dtype=np.int64) for count in words]),
            np.repeat(np.arange(len(words), dtype=np.int32), words))


def probe_set_from_keys(transform, shapes, keys, index, segment):
    """One probe per shape from one stream key per shape and the :func:`flat_layout` as Tensors. Rademacher probes
    equal the per-shape draws bit for bit; Gaussian ones may differ in the last bit (log, cos on a longer vector)."""
    from_bits, per_word = transform
    values = from_bits(_hash_index(index, ops.gather(keys, segment, 0)))
    return tuple(flat_piece(values, start, start + numel(shape)).reshape(tuple(shape))
                 for shape, start in zip(shapes, _piece_starts(shapes, per_word)))


def _piece_starts(shapes, per_word):
    """Where each shape's values start in a flat vector of whole words: ``per_word`` times the words before it."""
    starts, start = (), 0
    for shape in shapes:
        starts += (start,)
        start += _word_count(numel(shape), per_word) * per_word
    return starts


def bits_transform(probe_fn):
    """``(from_bits, values per word)`` of a built-in probe distribution, else ``None``; ``from_bits`` maps hashed
    words to the flat vector of their probe values."""
    if probe_fn is rademacher_probe:
        return _rademacher_from_bits, SIGNS_PER_WORD
    if probe_fn is gaussian_probe:
        return _gaussian_from_bits, 1
    return None
