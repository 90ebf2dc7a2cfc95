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
"""How close is a finite-difference refresh to its floor, in Adam steps?

A refresh with ``hvp_method="finite_difference"`` cannot cost less than its two gradients: ``g(w)`` for the step
and ``g(w + h z)`` for ``H z``. This times, in turn and per worker process:

- ``adam``: a gradient and ``nn.Adam`` (the benchmark's baseline step);
- ``gradient``: one gradient alone (what Adam's step spends outside its update);
- ``floor``: the gradient and ``H z`` as ``hessian_vector_product(..., "finite_difference")`` computes them, on
  fixed probes (two gradients, the step ``h``, the move and the restore of the weights), compiled as one Cell
  (``exp_fd_hvp.Library``), no optimizer;
- ``refresh``: AdaHessian's plain call with ``update_interval=1`` and the finite difference.

``refresh - floor`` is all the optimizer adds to the two gradients (probes, curvature, moments, update, host
part). Graphs compiled later run slower on MindSpore's CPU runtime (``exp_compile_order.py``), so the worker
processes alternate two compile orders, Adam's first and AdaHessian's first, and the medians are taken over all.

Usage: python benchmarks/experiments/exp_refresh_floor.py --workload cnn [--steps 60] [--processes 2]
"""
import argparse
import os
import statistics
import sys

import numpy as np

import common
import mindspore as ms
from mindspore import Tensor

import workloads
from exp_fd_hvp import Grad, Library
from mindflow.cell.optimizers import AdaHessian

_ORDERS = {"adam_first": ("adam", "gradient", "floor", "refresh"),
           "adahessian_first": ("refresh", "floor", "gradient", "adam")}


def _builders(name):
    """Name -> a function that builds that step on its own copy of the workload."""
    def adam():
        return common.adam_step(workloads.build_workload(name))

    def gradient():
        work = workloads.build_workload(name)
        return Grad(ms.value_and_grad(work.loss_fn, None, ms.ParameterTuple(work.params())))

    def floor():
        work = workloads.build_workload(name)
        weights = ms.ParameterTuple(work.params())
        rng = np.random.default_rng(0)
        probes = tuple(Tensor(rng.choice([-1.0, 1.0], size=w.shape).astype(np.float32)) for w in weights)
        product = Library(ms.value_and_grad(work.loss_fn, None, weights), weights, "finite_difference")

        def step(*inputs):
            return product(probes, *inputs)
        return step

    def refresh():
        work = workloads.build_workload(name)
        optimizer = AdaHessian(work.params(), learning_rate=1e-3, update_interval=1, hvp_method="finite_difference")
        grad_fn = ms.value_and_grad(work.loss_fn, None, optimizer.parameters)

        def step(*inputs):
            return optimizer(grad_fn, *inputs)
        return step
    return {"adam": adam, "gradient": gradient, "floor": floor, "refresh": refresh}


def worker(name, steps, order):
    """One process: the four steps built and compiled in ``order``, timed in turn; prints their medians."""
    inputs = workloads.build_workload(name).inputs
    builders = _builders(name)
    functions = {}
    for key in _ORDERS[order]:
        functions[key] = builders[key]()
        common.sync(functions[key](*inputs))  # compiles it, in this order
    results = common.interleaved(functions, inputs, steps, warmup=3)
    print("RESULT " + " ".join(f"{key}={results[key]['median_ms']:.4f}" for key in _ORDERS["adam_first"]),
          flush=True)


def main():
    """Alternating worker processes of both compile orders; medians over all of them, in Adam steps."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--workload", default="pinn_small", choices=sorted(workloads.WORKLOADS))
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--processes", type=int, default=2, help="processes per compile order")
    parser.add_argument("--worker", choices=sorted(_ORDERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_seed(0)
    if args.worker:
        worker(args.workload, args.steps, args.worker)
        return
    rows = []
    for index in range(args.processes):
        for order in _ORDERS:
            command = [sys.executable, os.path.abspath(__file__), "--workload", args.workload, "--steps",
                       str(args.steps), "--worker", order]
            times = common.worker_times(command)
            rows.append(times)
            adam = times["adam"]
            print(f"  process {index + 1} {order:16s} Adam {adam:.2f} ms; in Adam steps: gradient "
                  f"{times['gradient'] / adam:.3f}, floor {times['floor'] / adam:.3f}, refresh "
                  f"{times['refresh'] / adam:.3f}, refresh - floor {(times['refresh'] - times['floor']) / adam:.3f}",
                  flush=True)
    results = {}
    for key in ("gradient", "floor", "refresh"):
        results[f"{key} / adam"] = f"{statistics.median(r[key] / r['adam'] for r in rows):.3f}"
    extra = statistics.median((r["refresh"] - r["floor"]) / r["adam"] for r in rows)
    results["(refresh - floor) / adam"] = f"{extra:.3f}"
    results["floor / gradient"] = f"{statistics.median(r['floor'] / r['gradient'] for r in rows):.3f}"
    common.report(f"{args.workload}: a finite-difference refresh against its floor, median of {len(rows)} "
                  f"processes ({args.steps} steps each, both compile orders)", results)


if __name__ == "__main__":
    main()
