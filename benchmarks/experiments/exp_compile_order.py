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
"""Does the order in which graphs are compiled change how fast they run?

1. ``--part adam``: in one process, an Adam step compiled first, then AdaHessian's graphs (k=1 and k=10, finite
   difference), then a second Adam step on its own copy of the network. Both Adam steps are timed in turn, the
   gradient graph and the ``nn.Adam`` update apart. If compiling later made a graph slower, the second Adam
   step is the slower one, and a benchmark that compiles Adam first in a shared process favours Adam.
2. ``--part lazy``: AdaHessian with ``update_interval=10`` after an Adam step, with the plain call as it is
   (its first call compiles the lazy graph, then the refresh graph) and with the refresh graph compiled first
   (the first call is made with ``update_interval`` set to 1, so only the refresh graph is compiled; the lazy
   graph follows on the second call, as the optimizer did before). One process per order, the orders
   alternating, ``--processes`` of each; per process the median lazy and refresh steps in Adam steps.

Usage: python benchmarks/experiments/exp_compile_order.py --workload pinn_small --part adam
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import common
import mindspore as ms

import workloads
from mindflow.cell.optimizers import AdaHessian

_ORDERS = ("lazy_first", "refresh_first")


def _adahessian(name, interval):
    workload = workloads.build_workload(name)
    optimizer = AdaHessian(workload.params(), learning_rate=1e-3, update_interval=interval,
                           hvp_method="finite_difference")
    return optimizer, ms.value_and_grad(workload.loss_fn, None, optimizer.parameters)


def _adam(name):
    """Adam's gradient graph and update graph as two calls, so that they can be timed apart."""
    workload = workloads.build_workload(name)
    adam = ms.nn.Adam(workload.params(), learning_rate=1e-3)
    grad_fn = ms.value_and_grad(workload.loss_fn, None, adam.parameters)
    state = {}

    def gradient(*inputs):
        state["grads"] = grad_fn(*inputs)[1]
        return state["grads"]

    def update(*_):
        adam(state["grads"])
        return adam.parameters[0]
    return gradient, update


def part_adam(name, steps):
    """Adam compiled first and Adam compiled after AdaHessian's graphs, timed in turn in one process."""
    inputs = workloads.build_workload(name).inputs
    functions = {}
    first_gradient, first_update = _adam(name)
    functions.update({"adam compiled first: gradient": first_gradient, "adam compiled first: update": first_update})
    common.first_calls(functions, inputs)
    for interval in (1, 10):
        optimizer, grad_fn = _adahessian(name, interval)
        for _ in range(2):
            common.sync(optimizer(grad_fn, *inputs))
    last_gradient, last_update = _adam(name)
    later = {"adam compiled last: gradient": last_gradient, "adam compiled last: update": last_update}
    common.first_calls(later, inputs)
    functions.update(later)
    results = common.interleaved(functions, inputs, steps)
    for part in ("gradient", "update"):
        first = results[f"adam compiled first: {part}"]["median_ms"]
        last = results[f"adam compiled last: {part}"]["median_ms"]
        results[f"{part}: compiled last / compiled first"] = f"{last / first:.3f}"
    common.report(f"{name}: Adam compiled before and after AdaHessian's graphs (GRAPH mode, {steps} steps)", results)


def lazy_worker(name, steps, order):
    """One process: Adam, then AdaHessian k=10 compiled in ``order``; prints the median ratios to Adam."""
    inputs = workloads.build_workload(name).inputs
    adam = common.adam_step(workloads.build_workload(name))
    common.sync(adam(*inputs))
    optimizer, grad_fn = _adahessian(name, 10)
    if order == "refresh_first":
        optimizer.update_interval = 1  # this first call compiles the refresh graph only
        common.sync(optimizer(grad_fn, *inputs))
        optimizer.update_interval = 10
    for _ in range(12):
        common.sync(adam(*inputs))
        common.sync(optimizer(grad_fn, *inputs))
    adam_times, lazy, refresh = [], [], []
    for _ in range(steps):
        start = time.perf_counter()
        common.sync(adam(*inputs))
        adam_times.append(time.perf_counter() - start)
        is_refresh = int(optimizer.global_step.asnumpy()[0]) % 10 == 0
        start = time.perf_counter()
        common.sync(optimizer(grad_fn, *inputs))
        (refresh if is_refresh else lazy).append(time.perf_counter() - start)
    adam_s = statistics.median(adam_times)
    lazy_ratio, refresh_ratio = statistics.median(lazy) / adam_s, statistics.median(refresh) / adam_s
    print(f"RESULT {order} {adam_s * 1e3:.2f} {lazy_ratio:.4f} {refresh_ratio:.4f}", flush=True)


def part_lazy(name, steps, processes):
    """Alternating processes of both orders; the median over processes of each order."""
    rows = {order: [] for order in _ORDERS}
    for index in range(processes):
        for order in _ORDERS:
            command = [sys.executable, os.path.abspath(__file__), "--workload", name, "--steps", str(steps),
                       "--lazy-worker", order]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            line = [item for item in done.stdout.splitlines() if item.startswith("RESULT ")][-1].split()
            adam_ms, lazy_ratio, refresh_ratio = float(line[2]), float(line[3]), float(line[4])
            rows[order].append((lazy_ratio, refresh_ratio))
            print(f"  process {index + 1} {order:13s} Adam {adam_ms:.2f} ms, lazy {lazy_ratio:.3f}, refresh "
                  f"{refresh_ratio:.3f}, k=10 amortized {(refresh_ratio + 9 * lazy_ratio) / 10:.3f} Adam steps",
                  flush=True)
    results = {}
    for order, values in rows.items():
        lazy = statistics.median(v[0] for v in values)
        refresh = statistics.median(v[1] for v in values)
        results[order] = (f"median of {len(values)} processes: lazy {lazy:.3f}, refresh {refresh:.3f}, "
                          f"k=10 amortized {(refresh + 9 * lazy) / 10:.3f} Adam steps")
    common.report(f"{name}: AdaHessian k=10 (finite difference), lazy graph compiled first or second", results)


def main():
    """Run one part, or one worker process of ``--part lazy``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--workload", default="pinn_small", choices=sorted(workloads.WORKLOADS))
    parser.add_argument("--part", default="adam", choices=("adam", "lazy"))
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--processes", type=int, default=3, help="processes per compile order (--part lazy)")
    parser.add_argument("--lazy-worker", choices=_ORDERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_seed(0)
    if args.lazy_worker:
        lazy_worker(args.workload, args.steps, args.lazy_worker)
    elif args.part == "adam":
        part_adam(args.workload, args.steps)
    else:
        part_lazy(args.workload, args.steps, args.processes)


if __name__ == "__main__":
    main()
