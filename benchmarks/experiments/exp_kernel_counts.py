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
"""Where a step's time goes in kernels, and two rewrites that cut kernels: are they worth it?

1. ``--part kernels``: MindSpore's profiler counts the CPU kernels one step launches and their compute time:
   an Adam step (gradient graph and ``nn.Adam``), an AdaHessian lazy graph, and refresh graphs with the exact
   and the finite-difference ``H z`` (and ``FlatFiniteDifference``'s, see 2). Compute time against wall time
   shows how much is launch overhead.
2. ``--part flat_fd``: ``FlatFiniteDifference`` computes the finite-difference refresh on flat vectors (one
   step ``h`` from the flat weights and probes, one move, one difference) instead of per parameter. Checks
   that the parameters stay bit for bit those of ``AdaHessian(hvp_method="finite_difference")`` and times
   both steps against Adam, interleaved.
3. ``--part fused_lazy``: ``FusedLazyAdaHessian`` runs a lazy step through MindSpore's fused ``Adam`` kernel,
   one per parameter: ``beta2 = 1`` keeps its ``v`` fixed, and ``v`` holds the refreshed denominator
   ``(v / bias2) ** k`` (here computed once on the host, from the same state). Checks it against the lazy
   step as implemented over several steps and times both lazy graphs against Adam, interleaved.

Usage: python benchmarks/experiments/exp_kernel_counts.py --workload pinn_small --part kernels
"""
import argparse
import csv
import glob
import os
import shutil
import tempfile

import numpy as np

import common
import mindspore as ms
from mindspore import Parameter, ParameterTuple, Tensor, ops

import workloads
from mindflow.cell.optimizers import AdaHessian
from mindflow.cell.optimizers import adahessian as adahessian_module
from mindflow.cell.optimizers.hutchinson import _FD_SCALE_FLOAT32, split_grad_output
from mindflow.cell.optimizers.spatial_average import spatial_mean

# pylint: disable=protected-access


class FlatFiniteDifference(AdaHessian):
    """The finite-difference refresh on flat vectors (float32 parameters, built-in probes, one sample)."""

    def _refresh_step(self, grad_fn, inputs, probe_key, probe_keys=None):
        output = grad_fn(*inputs)
        grads = split_grad_output(output)[1]
        self._check_grads(grads)
        g_flat = self._flatten(grads)
        p_flat = self._flatten(self._parameters)
        z = self._flatten(self._probes(probe_key, probe_keys)[0])
        z_max = ops.abs(z).max()
        z_max = ops.select(z_max > 0, z_max, ops.ones_like(z_max))
        h = _FD_SCALE_FLOAT32 * (1.0 + ops.abs(p_flat).max()) / z_max
        moved = p_flat + h * z
        offsets = self.flat_offsets
        for i, param in enumerate(self._parameters):
            ops.assign(param, moved[offsets[i]:offsets[i + 1]].reshape(self.param_shapes[i]))
        moved_grads = self._flatten(split_grad_output(grad_fn(*inputs))[1])
        estimate = ops.abs(z * ((moved_grads - g_flat) / h))
        curvatures = ()
        for i, shape in enumerate(self.param_shapes):
            piece = estimate[offsets[i]:offsets[i + 1]].reshape(shape)
            curvatures += (spatial_mean(piece, self.average_axes[i]),)
        return output, self._prepare_grads(output), curvatures


class FusedLazyAdaHessian(AdaHessian):
    """Lazy steps through the fused ``Adam`` kernel (float32 parameters, no weight decay, static loss scale)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.denominator = ParameterTuple(
            [Parameter(Tensor(np.ones(shape, np.float32)), name="denominator." + name, requires_grad=False)
             for name, shape in zip(self.param_names, self.param_shapes)])
        self.adam_kernel = ops.Adam()

    def load_denominator(self):
        """``(v / bias2) ** k`` at every element, from ``moment2`` and the refresh count as they are now."""
        count = max(int(self.hessian_step.asnumpy()[0]), 1)
        bias2 = -np.expm1(count * float(self.log_beta2.asnumpy()))
        for target, v, shape, power in zip(self.denominator, self.moment2, self.param_shapes, self.hessian_powers):
            target.set_data(Tensor(np.broadcast_to((v.asnumpy() / bias2) ** power, shape).astype(np.float32)))

    def _apply(self, grads, curvatures, p_old, refresh, static_refresh):
        if static_refresh is not False:
            return super()._apply(grads, curvatures, p_old, refresh, static_refresh)
        finite = ops.isfinite(self._flatten(grads)).all()
        step = ops.cast(self.global_step + 1, ms.float32).reshape(())
        bias1 = -ops.expm1(step * self.log_beta1)
        zero = ops.zeros_like(bias1)
        one = ops.ones_like(bias1)
        # a skipped step: learning rate 0 and beta1 1 leave the parameter and m as they are
        lr = ops.select(finite, self.get_lr() / bias1, zero)
        beta1 = ops.select(finite, self.beta1, one)
        for i, param in enumerate(self._parameters):
            grad = ops.select(finite, grads[i], ops.zeros_like(grads[i]))
            self.adam_kernel(param, self.moment1[i], self.denominator[i], zero, zero, lr, beta1, one, self.eps, grad)
        ops.assign_add(self.global_step, ops.cast(finite, ms.int32).reshape((1,)))
        ops.assign(self.skipped, ops.logical_not(finite))
        return finite


def _optimizer(cls, workload, **kwargs):
    optimizer = cls(workload.params(), learning_rate=1e-3, **kwargs)
    return optimizer, ms.value_and_grad(workload.loss_fn, None, optimizer.parameters)


def _graph(optimizer, grad_fn, phase):
    """The optimizer's compiled step for one phase, called as the plain call calls it."""
    if phase == adahessian_module._LAZY:
        return adahessian_module._CompiledStep(optimizer, grad_fn, phase, False)
    cell = adahessian_module._CompiledStep(optimizer, grad_fn, phase, True)

    def refresh(*inputs):
        return cell(optimizer._host_probe_keys(), *inputs)
    return refresh


def _profile(function, inputs, steps):
    """Kernels per step and their compute milliseconds per step, by kernel type, from MindSpore's profiler."""
    for _ in range(3):
        common.sync(function(*inputs))
    folder = tempfile.mkdtemp(prefix="exp_kernels_")
    try:
        profiler = ms.Profiler(output_path=folder)
        for _ in range(steps):
            common.sync(function(*inputs))
        profiler.analyse()
        path = glob.glob(os.path.join(folder, "*", "FRAMEWORK", "cpu_op_type_info_0.csv"))[0]
        with open(path, encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    counts = {row["op_type"]: int(row["execution_frequency(per-step)"]) for row in rows}
    compute_ms = sum(float(row["total_compute_time"]) for row in rows) / steps
    return counts, compute_ms


def part_kernels(name, steps):
    """Kernel counts and compute time of an Adam step and of AdaHessian's graphs, and their wall time."""
    functions = {"adam": common.adam_step(workloads.build_workload(name))}
    inputs = workloads.build_workload(name).inputs
    for method in ("autodiff", "finite_difference"):
        optimizer, grad_fn = _optimizer(AdaHessian, workloads.build_workload(name), hvp_method=method,
                                        update_interval=10)
        if method == "autodiff":
            functions["lazy"] = _graph(optimizer, grad_fn, adahessian_module._LAZY)
        functions["refresh_" + method] = _graph(optimizer, grad_fn, adahessian_module._REFRESH)
    optimizer, grad_fn = _optimizer(FlatFiniteDifference, workloads.build_workload(name),
                                    hvp_method="finite_difference")
    functions["refresh_flat_finite_difference"] = _graph(optimizer, grad_fn, adahessian_module._REFRESH)
    wall = common.interleaved(functions, inputs, steps)
    results = {}
    for label, function in functions.items():
        counts, compute_ms = _profile(function, inputs, steps)
        top = ", ".join(f"{op} {n}" for op, n in sorted(counts.items(), key=lambda item: -item[1])[:8])
        results[label] = (f"{sum(counts.values())} kernels, compute {compute_ms:.2f} ms, wall median "
                          f"{wall[label]['median_ms']:.2f} ms; {top}")
    common.report(f"{name}: kernels per step (1 CPU kernel thread)", results)


def part_flat_fd(name, steps):
    """FlatFiniteDifference against AdaHessian(hvp_method='finite_difference'): same parameters, time."""
    functions = {"adam": common.adam_step(workloads.build_workload(name))}
    optimizers = {}
    for label, cls in (("finite_difference", AdaHessian), ("flat_finite_difference", FlatFiniteDifference)):
        optimizer, grad_fn = _optimizer(cls, workloads.build_workload(name), hvp_method="finite_difference")
        optimizers[label] = optimizer
        functions[label] = _bound(optimizer, grad_fn)
    inputs = workloads.build_workload(name).inputs
    for _ in range(5):
        for label in optimizers:  # pylint: disable=consider-using-dict-items
            common.sync(functions[label](*inputs))
    difference = max(float(np.abs(a.asnumpy() - b.asnumpy()).max())
                     for a, b in zip(*(o._parameters for o in optimizers.values())))
    timing = common.interleaved(functions, inputs, steps)
    timing["largest parameter difference after 5 steps"] = difference
    _ratios(timing)
    common.report(f"{name}: flat finite-difference refresh (plain call, update_interval=1)", timing)


def part_fused_lazy(name, steps):
    """FusedLazyAdaHessian's lazy graph against AdaHessian's, from the same state: parameters and time."""
    optimizers, graphs = {}, {}
    for label, cls in (("lazy", AdaHessian), ("fused_lazy", FusedLazyAdaHessian)):
        optimizer, grad_fn = _optimizer(cls, workloads.build_workload(name), update_interval=10)
        common.sync(optimizer(grad_fn, *workloads.build_workload(name).inputs))  # one refresh step
        optimizers[label] = optimizer
        graphs[label] = adahessian_module._CompiledStep(optimizer, grad_fn, adahessian_module._LAZY, False)
    optimizers["fused_lazy"].load_denominator()
    inputs = workloads.build_workload(name).inputs
    for _ in range(5):
        for graph in graphs.values():
            common.sync(graph(*inputs))
    difference = max(float(np.abs(a.asnumpy() - b.asnumpy()).max() / (np.abs(a.asnumpy()).max() + 1e-30))
                     for a, b in zip(*(o._parameters for o in optimizers.values())))
    functions = {"adam": common.adam_step(workloads.build_workload(name))}
    functions.update(graphs)
    timing = common.interleaved(functions, inputs, steps)
    timing["largest relative parameter difference after 5 lazy steps"] = difference
    _ratios(timing)
    common.report(f"{name}: lazy step through the fused Adam kernel (compiled lazy graphs)", timing)


def _bound(optimizer, grad_fn):
    def step(*inputs):
        return optimizer(grad_fn, *inputs)
    return step


def _ratios(timing):
    adam = timing["adam"]["median_ms"]
    for label, data in list(timing.items()):
        if isinstance(data, dict) and label != "adam":
            timing[label + " / adam"] = round(data["median_ms"] / adam, 3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--workload", default="pinn_small", choices=sorted(workloads.WORKLOADS))
    parser.add_argument("--part", default="kernels", choices=("kernels", "flat_fd", "fused_lazy"))
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_seed(0)
    {"kernels": part_kernels, "flat_fd": part_flat_fd, "fused_lazy": part_fused_lazy}[args.part](
        args.workload, args.steps)


if __name__ == "__main__":
    main()
