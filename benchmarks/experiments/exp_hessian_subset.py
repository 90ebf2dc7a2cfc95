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
"""What does a refresh cost when its Hessian-vector product sees only a subset of the points?

AdaHessian's ``hessian_inputs`` let the Hessian-vector product of a refresh run on other inputs than the
gradient, e.g. a random fraction of the collocation points (a sub-sampled Hessian). This times, side by side in
each worker process and in Adam steps, on the Burgers PINN loss with its three point sets passed separately:

- ``adam``: a gradient and ``nn.Adam``, called plainly in GRAPH mode (as ``bench_optimizers.py``'s graph rows);
- ``gradient_<f>``: one gradient on the fraction ``f`` of the points (what a smaller batch costs at all);
- ``ah_<method>_<f>``: AdaHessian's plain call, ``update_interval=1``, ``hvp_method`` ``autodiff`` or
  ``finite_difference``, with ``hessian_inputs`` a fresh random fraction ``f`` of every point set each step
  (drawn on the host, included in the time); ``f = 1`` passes no ``hessian_inputs``.

Graphs compiled later run slower on MindSpore's CPU runtime, so the worker processes alternate two compile
orders (the order above, Adam first, and its reverse); the medians are taken over all of them.

Usage: python benchmarks/experiments/exp_hessian_subset.py --workload pinn_app --points 8192 [--steps 30]
"""
import argparse
import os
import statistics
import sys

import numpy as np

import common
import mindspore as ms
from mindspore import Tensor, nn

import workloads
from exp_fd_hvp import Grad
from mindflow.cell.optimizers import AdaHessian

METHODS = ("autodiff", "finite_difference")


class SplitBurgersLoss(workloads.BurgersLoss):
    """The benchmark's Burgers PINN loss with the three point sets as three inputs."""

    def construct(self, pde, ic, bc):  # pylint: disable=arguments-differ
        """Mean squared residual, initial-condition and boundary errors, summed."""
        return self.split_loss(pde, ic, bc)


def point_sets(n_pde, seed=0):
    """PDE points in [-1, 1] x [0, 1], initial points (t = 0) and boundary points (x = +-1), n_pde / 4 each."""
    rng = np.random.default_rng(seed)
    n_edge = max(1, n_pde // 4)
    pde = np.stack([rng.uniform(-1, 1, n_pde), rng.uniform(0, 1, n_pde)], axis=1)
    ic = np.stack([rng.uniform(-1, 1, n_edge), np.zeros(n_edge)], axis=1)
    bc = np.stack([rng.choice([-1.0, 1.0], n_edge), rng.uniform(0, 1, n_edge)], axis=1)
    return tuple(a.astype(np.float32) for a in (pde, ic, bc))


def build_net(name):
    """A fresh network of workload ``name`` (same seed, same weights every time)."""
    if name == "pinn_app":
        return workloads.application_network(0)[0]
    return workloads.MLP(workloads.mlp_arrays(*workloads.MLP_SIZES[name], seed=0))


class SubsetDrawer:
    """A random fraction of every point set, drawn anew at each call from its own generator."""

    def __init__(self, arrays, fraction, seed=1):
        self.arrays = arrays
        self.sizes = [max(1, int(round(fraction * len(a)))) for a in arrays]
        self.rng = np.random.default_rng(seed)

    def __call__(self):
        return tuple(Tensor(a[self.rng.choice(len(a), size, replace=False)])
                     for a, size in zip(self.arrays, self.sizes))


def _builders(name, arrays, fractions):
    """Name -> a function that builds that step on its own copy of the network."""
    builders = {}

    def adam():
        # the plain GRAPH-mode call, as bench_optimizers.py's "graph" rows and the other experiments
        net = build_net(name)
        optimizer = nn.Adam(net.trainable_params(), learning_rate=1e-3)
        grad_fn = ms.value_and_grad(SplitBurgersLoss(net), None, optimizer.parameters)

        def step(*inputs):
            loss, grads = grad_fn(*inputs)
            optimizer(grads)
            return loss
        return step

    builders["adam"] = adam

    def gradient(fraction):
        def build():
            net = build_net(name)
            grad = Grad(ms.value_and_grad(SplitBurgersLoss(net), None, ms.ParameterTuple(net.trainable_params())))
            subset = tuple(Tensor(a[:size]) for a, size in zip(arrays, SubsetDrawer(arrays, fraction).sizes))

            def step(*_inputs):
                return grad(*subset)
            return step
        return build

    def adahessian(method, fraction):
        def build():
            net = build_net(name)
            optimizer = AdaHessian(net.trainable_params(), learning_rate=1e-3, hvp_method=method)
            grad_fn = ms.value_and_grad(SplitBurgersLoss(net), None, optimizer.parameters)
            if fraction >= 1:
                def step(*inputs):
                    return optimizer(grad_fn, *inputs)
                return step
            draw = SubsetDrawer(arrays, fraction)

            def subset_step(*inputs):
                return optimizer(grad_fn, *inputs, hessian_inputs=draw())
            return subset_step
        return build

    for fraction in fractions:
        if fraction < 1:
            builders[f"gradient_{fraction:g}"] = gradient(fraction)
    for method in METHODS:
        for fraction in (1.0,) + tuple(f for f in fractions if f < 1):
            builders[f"ah_{method}_{fraction:g}"] = adahessian(method, fraction)
    return builders


def worker(args, order):
    """One process: every step built and compiled (Adam first or last), timed in turn; prints their medians."""
    arrays = point_sets(args.points)
    inputs = tuple(Tensor(a) for a in arrays)
    builders = _builders(args.workload, arrays, args.fractions)
    names = list(builders)
    if order == "adahessian_first":
        names.reverse()  # every step changes place, not only Adam's
    functions = {}
    for key in names:
        functions[key] = builders[key]()
        common.sync(functions[key](*inputs))  # compiles it, in this order
    results = common.interleaved(functions, inputs, args.steps, warmup=2)
    print("RESULT " + " ".join(f"{key}={results[key]['median_ms']:.4f}" for key in builders), flush=True)


def main():
    """Alternating worker processes of both compile orders; medians over all of them, in Adam steps."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--workload", default="pinn_app", choices=["pinn_small", "pinn_large", "pinn_app"])
    parser.add_argument("--points", type=int, default=8192, help="PDE points (initial and boundary: a quarter each)")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.125])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--processes", type=int, default=1, help="processes per compile order")
    parser.add_argument("--worker", choices=["adam_first", "adahessian_first"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if any(not 0 < f <= 1 for f in args.fractions):
        parser.error(f"every fraction must be in (0, 1], but got {args.fractions}")
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_seed(0)
    if args.worker:
        worker(args, args.worker)
        return
    rows = []
    for index in range(args.processes):
        for order in ("adam_first", "adahessian_first"):
            command = [sys.executable, os.path.abspath(__file__), "--workload", args.workload, "--points",
                       str(args.points), "--steps", str(args.steps), "--worker", order, "--fractions"]
            command += [str(f) for f in args.fractions]
            times = common.worker_times(command)
            rows.append(times)
            adam = times["adam"]
            print(f"  process {index + 1} {order:16s} Adam {adam:.2f} ms; in Adam steps: "
                  + ", ".join(f"{key} {value / adam:.3f}" for key, value in times.items() if key != "adam"),
                  flush=True)
    results = {"adam ms": f"{statistics.median(r['adam'] for r in rows):.2f}"}
    for key in rows[0]:
        if key != "adam":
            results[f"{key} / adam"] = f"{statistics.median(r[key] / r['adam'] for r in rows):.3f}"
    common.report(f"{args.workload}, {args.points} PDE points: refreshes with a Hessian on a subset, median of "
                  f"{len(rows)} processes ({args.steps} steps each, both compile orders)", results)


if __name__ == "__main__":
    main()
