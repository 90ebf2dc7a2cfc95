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
"""What does a probe set cost, one hash per element against 32 Rademacher signs per hashed word?

1. ``--part kernels``: one CPU kernel over 200,000 elements, per kind: the int64 bit operations the hash is
   made of (xor, right shift, and), int64 and float32 multiplication, a float32 negation. Ten chained kernels per
   compiled Cell, so that the launch cost is spread.
2. ``--part probes``: a Rademacher probe set as the optimizer draws it (``probe_set_from_keys`` with stream keys
   from the host), compiled, for one flat shape of the parameter count of each benchmark workload and of a larger
   network: ``per_element``, the scheme before commit 59a0432 (a 32-bit hash of every element index, its top bit
   gives the sign), against ``packed``, the scheme since (element ``i`` takes bit ``i % 32`` of the hash of word
   ``i // 32``, unpacked through a 256-row table of signs). Both interleaved, in milliseconds per call.
3. ``--part slice``: a slice of a computed 1e6-element float32 vector that spans all of it, against one element
   shorter and against no slice (``flat_piece`` leaves the slice out where it would span the whole vector).

Usage: python benchmarks/experiments/exp_probe_packing.py --part probes --steps 200
"""
import argparse

import numpy as np

import common
import mindspore as ms
from mindspore import Tensor, nn, ops

from mindflow.cell.optimizers.probes import (_hash_index, bits_transform, flat_layout, host_stream_keys,
                                             probe_set_from_keys, rademacher_probe)

# pylint: disable=protected-access
KERNEL_ELEMENTS = 200_000
# pinn_small, pinn_large, cnn (benchmarks/workloads.py), and a network of a million weights
PROBE_SIZES = (921, 21_057, 25_578, 1_000_000)


class Chain(nn.Cell):
    """Ten chained calls of ``kernel``, compiled as one graph."""

    def __init__(self, kernel):
        super().__init__()
        self.kernel = kernel

    def construct(self, x):
        for _ in range(10):
            x = self.kernel(x)
        return x


def _xor(x):
    return ops.bitwise_xor(x, 0x5BD1E995)


def _right_shift(x):
    return ops.bitwise_right_shift(x, 3)


def _and(x):
    return ops.bitwise_and(x, 0xFFFFFFFF)


def _multiply_int(x):
    return x * 3


def _multiply_float(x):
    return x * 1.0001


def _negate(x):
    return -x


def part_kernels(steps):
    """Milliseconds and nanoseconds per element of one kernel, per kind."""
    integers = Tensor(np.arange(KERNEL_ELEMENTS, dtype=np.int64))
    floats = Tensor(np.ones(KERNEL_ELEMENTS, np.float32))
    kinds = {"bitwise_xor int64": (_xor, integers), "bitwise_right_shift int64": (_right_shift, integers),
             "bitwise_and int64": (_and, integers), "mul int64": (_multiply_int, integers),
             "mul float32": (_multiply_float, floats), "neg float32": (_negate, floats)}
    chains = {name: Chain(kernel) for name, (kernel, _) in kinds.items()}
    results = {}
    for name, (_, value) in kinds.items():
        timing = common.interleaved({name: chains[name]}, (value,), steps)[name]
        per_kernel = timing["median_ms"] / 10
        results[name] = f"{per_kernel:.3f} ms per kernel, {per_kernel * 1e6 / KERNEL_ELEMENTS:.1f} ns per element"
    common.report(f"one kernel over {KERNEL_ELEMENTS} elements (median of {steps} calls of 10 chained kernels)",
                  results)


class PerElementProbes(nn.Cell):
    """The scheme before 59a0432: a hash per element index, whose top bit gives the sign."""

    def __init__(self, size):
        super().__init__()
        self.index = Tensor(np.arange(size, dtype=np.int64))
        self.segment = Tensor(np.zeros(size, np.int32))

    def construct(self, keys):
        bits = _hash_index(self.index, ops.gather(keys, self.segment, 0))
        return ops.cast(1 - 2 * ops.bitwise_right_shift(bits, 31), ms.float32)


class PackedProbes(nn.Cell):
    """The scheme since 59a0432, as AdaHessian draws it."""

    def __init__(self, size):
        super().__init__()
        self.shapes = ((size,),)
        self.transform = bits_transform(rademacher_probe)
        index, segment = flat_layout(self.shapes, self.transform)
        self.index, self.segment = Tensor(index), Tensor(segment)

    def construct(self, keys):
        return probe_set_from_keys(self.transform, self.shapes, keys, self.index, self.segment)[0]


def part_probes(steps):
    """Both probe schemes per size, interleaved; the packed probes checked against rademacher_probe."""
    keys = Tensor(host_stream_keys(0, 3, 1, 0, 0))
    for size in PROBE_SIZES:
        cells = {"per_element": PerElementProbes(size), "packed": PackedProbes(size)}
        packed = cells["packed"](keys).asnumpy()
        expected = rademacher_probe((size,), 0, 3, (0, 0, 0)).asnumpy()
        per_element = cells["per_element"](keys).asnumpy()
        timing = common.interleaved(cells, (keys,), steps)
        ratio = timing["per_element"]["median_ms"] / timing["packed"]["median_ms"]
        timing["packed equals rademacher_probe"] = bool(np.array_equal(packed, expected))
        timing["share of +1 (per_element / packed)"] = f"{np.mean(per_element > 0):.4f} / {np.mean(packed > 0):.4f}"
        timing["per_element / packed"] = f"{ratio:.2f}"
        common.report(f"a Rademacher probe set of {size} elements (median of {steps} calls)", timing)


class SliceOf(nn.Cell):
    """``x * 2`` (so that the slice reads a computed vector), then ``[0:stop]``, or no slice for ``stop=None``."""

    def __init__(self, stop):
        super().__init__()
        self.stop = stop

    def construct(self, x):
        doubled = x * 2.0
        if self.stop is None:
            return doubled
        return doubled[0:self.stop]


def part_slice(steps):
    """A whole-vector slice against a shorter one and none."""
    size = 1_000_000
    cells = {"no slice": SliceOf(None), "[0:n]": SliceOf(size), "[0:n-1]": SliceOf(size - 1)}
    timing = common.interleaved(cells, (Tensor(np.ones(size, np.float32)),), steps)
    common.report(f"x * 2 and a slice of the {size}-element result (median of {steps} calls)", timing)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--part", choices=["kernels", "probes", "slice"], required=True)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    ms.set_context(mode=ms.GRAPH_MODE)
    parts = {"kernels": part_kernels, "probes": part_probes, "slice": part_slice}
    parts[args.part](args.steps)


if __name__ == "__main__":
    main()
