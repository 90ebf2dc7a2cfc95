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
"""Joined vectors: many tensors end to end in one float32 vector, so that an update runs a fixed number of
kernels whatever the number of parameters."""
import numpy as np
import mindspore as ms
from mindspore import Tensor, ops


def flat_piece(values, start, stop):
    """``values[start:stop]`` of a flat vector, without a slice when that is all of it.

    On MindSpore's CPU backend a slice spanning the whole vector is far slower than a shorter one, so a
    single-parameter model would pay that on every step.
    """
    if start == 0 and stop == values.shape[0]:
        return values
    return values[start:stop]


def join(tensors):
    """The tensors end to end, as one float32 vector."""
    parts = ()
    for tensor in tensors:
        parts += (ops.cast(tensor, ms.float32).reshape((-1,)),)
    return ops.concat(parts) if len(parts) > 1 else parts[0]


def per_element(values, segment_index):
    """One scalar per tensor, repeated for each of its elements (``segment_index``: the tensor of each element)."""
    stacked = ()
    for value in values:
        stacked += (ops.cast(value, ms.float32).reshape((1,)),)
    return ops.gather(ops.concat(stacked), segment_index, 0)


def joined_layout(shapes, reduced_shapes):
    """Where each tensor lies in the joined vector, and the index vectors that move values between layouts.

    ``reduced_shapes``: the shapes of the averaged second moment (size-1 axes where blocks are averaged).
    Returns ``(offsets, reduced_offsets, expand_index, segment_index, reduced_segments)``: the start of each
    tensor (and one past the last) in both layouts; for every element, its block in the reduced layout (``None``
    when every block is one element); and the tensor of every element in both layouts (int32 Tensors).
    """
    sizes = [int(np.prod(shape, dtype=np.int64)) for shape in shapes]
    reduced_sizes = [int(np.prod(shape, dtype=np.int64)) for shape in reduced_shapes]
    offsets = tuple(int(v) for v in np.concatenate([[0], np.cumsum(sizes)]))
    reduced_offsets = tuple(int(v) for v in np.concatenate([[0], np.cumsum(reduced_sizes)]))
    expand_index = None
    if sizes != reduced_sizes:
        expand = [np.broadcast_to(np.arange(size).reshape(shape) + offset, full).ravel()
                  for size, shape, offset, full in zip(reduced_sizes, reduced_shapes, reduced_offsets, shapes)]
        expand_index = Tensor(np.concatenate(expand).astype(np.int32))
    segment_index = Tensor(np.repeat(np.arange(len(sizes)), sizes).astype(np.int32))
    reduced_segments = Tensor(np.repeat(np.arange(len(sizes)), reduced_sizes).astype(np.int32))
    return offsets, reduced_offsets, expand_index, segment_index, reduced_segments
