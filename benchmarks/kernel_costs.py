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
"""Time of single MindSpore kernels on one 4352 x 4352 float32 tensor (19M elements, the 20M MLP's largest weight).

    python benchmarks/kernel_costs.py            # GRAPH mode, 1 kernel thread, median of 7 calls each

Why AdaHessian's in-place update is built as it is (benchmarks/README, "Scale"): the fused ``ops.Adam`` kernel
against ``ops.AdamWeightDecay`` and the elementwise kernels and reductions an update could otherwise use. Each
case is its own compiled Cell; a case that only reads its input returns a scalar or one element, so the time is
the kernel's and not a copy back to the host.
"""
import argparse
import time

import numpy as np
import mindspore as ms
from mindspore import Parameter, Tensor, nn, ops

SHAPE = (4352, 4352)
CASES = ("adam", "adam_weight_decay", "adam_weight_decay_broadcast", "sum", "dot", "isfinite_all", "abs_max",
         "nan_to_num", "broadcast", "switch_then_adam")


class Case(nn.Cell):
    """One kernel (or a short chain) on the tensor ``g``; ``rows`` is a (4352, 1) tensor."""

    def __init__(self, name):
        super().__init__()
        self.name = name
        self.p = Parameter(Tensor(np.ones(SHAPE, np.float32)), name="p")
        self.m = Parameter(Tensor(np.zeros(SHAPE, np.float32)), name="m")
        self.v = Parameter(Tensor(np.ones(SHAPE, np.float32)), name="v")
        self.adam = ops.Adam()
        self.adam_weight_decay = ops.AdamWeightDecay()
        self.one = Tensor(1.0, ms.float32)
        self.beta1 = Tensor(0.9, ms.float32)
        self.eps = Tensor(1e-8, ms.float32)
        self.zero = Tensor(0.0, ms.float32)

    def construct(self, g, rows):
        """Run the case; returns a scalar or one element."""
        name = self.name
        result = rows.sum()
        if name == "adam":
            self.adam(self.p, self.m, self.v, self.zero, self.zero, self.eps, self.beta1, self.one, self.eps, g)
        elif name == "adam_weight_decay":
            self.adam_weight_decay(self.p, self.m, self.v, self.eps, self.beta1, self.one, self.eps, self.zero, g)
        elif name == "adam_weight_decay_broadcast":
            self.adam_weight_decay(self.p, self.m, ops.broadcast_to(rows, SHAPE), self.eps, self.beta1, self.one,
                                   self.eps, self.zero, g)
        elif name == "sum":
            result = g.sum()
        elif name == "dot":
            flat = g.reshape((-1,))
            result = ops.matmul(flat, flat)
        elif name == "isfinite_all":
            result = ops.cast(ops.isfinite(g).all(), ms.float32)
        elif name == "abs_max":
            result = ops.abs(g).max()
        elif name == "nan_to_num":
            result = ops.nan_to_num(g, 0.0, 0.0, 0.0)[0, 0]
        elif name == "broadcast":
            result = ops.broadcast_to(rows / 2.0, SHAPE)[0, 0]
        elif name == "switch_then_adam":
            if ops.isfinite(rows).all():
                safe = g
            else:
                safe = ops.zeros_like(g)
            self.adam(self.p, self.m, self.v, self.zero, self.zero, self.eps, self.beta1, self.one, self.eps, safe)
        return result


def main(argv=None):
    """Time every case and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--threads", type=int, default=1, help="MindSpore CPU kernel threads")
    parser.add_argument("--calls", type=int, default=7, help="timed calls per case (median reported)")
    args = parser.parse_args(argv)
    ms.device_context.cpu.op_tuning.threads_num(args.threads)
    ms.set_context(mode=ms.GRAPH_MODE)
    rng = np.random.default_rng(0)
    g = Tensor(rng.normal(size=SHAPE).astype(np.float32))
    rows = Tensor(np.ones((SHAPE[0], 1), np.float32))
    print(f"| case ({SHAPE[0]} x {SHAPE[1]} float32, {args.threads} thread) | ms |\n| --- | --- |")
    for name in CASES:
        case = Case(name)
        case(g, rows).asnumpy()  # compiles
        seconds = []
        for _ in range(args.calls):
            start = time.perf_counter()
            case(g, rows).asnumpy()
            seconds.append(time.perf_counter() - start)
        print(f"| {name} | {1e3 * float(np.median(seconds)):.1f} |", flush=True)


if __name__ == "__main__":
    main()
