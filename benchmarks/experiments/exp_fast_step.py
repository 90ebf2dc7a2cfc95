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
"""A whole AdaHessian step with the two changes recommended for adahessian.py, against the step as it is.

``FastAdaHessian`` subclasses ``mindflow.cell.optimizers.AdaHessian`` and changes only

* ``_probes``: one counter-based Rademacher draw over all Hutchinson parameters' elements per sample
  (``probe_fn((total,), seed, counter, (sample, stream))``), split and reshaped, instead of one hash chain
  per parameter;
* ``_apply``: the moments live in two flat Parameters and the elementwise update runs once on the
  concatenation of all parameters (one finiteness test, one set of kernels), then is split back.

It covers the benchmark's configuration only (one learning rate and weight decay for all parameters, one
hessian_power, float32 parameters). ``LazyOnlyAdaHessian`` (``fast_lazy_only``) makes every step a lazy
one with no refresh branch in the graph: the floor of a lazy step. Adam, AdaHessian and FastAdaHessian
steps (k=1 and k=10) are timed round-robin in one process, the user's step wrapped in ``mindspore.jit``
as in bench_optimizers.py.

Usage: python benchmarks/experiments/exp_fast_step.py --workload cnn [--steps 30]
"""
import argparse
import statistics
import time

import numpy as np

import common
import mindspore as ms
from mindspore import Parameter, Tensor, nn, ops

import workloads
from mindflow.cell.optimizers import AdaHessian


class FastAdaHessian(AdaHessian):
    """AdaHessian with flat probe draws and a flat update (experiment)."""

    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)
        self.shapes = tuple(tuple(p.shape) for p in self._parameters)
        self.reduced_shapes = tuple(tuple(m.shape) for m in self.moment2)
        self.sizes = tuple(int(np.prod(s)) for s in self.shapes)
        self.reduced_sizes = tuple(int(np.prod(s)) for s in self.reduced_shapes)
        self.flat_m = Parameter(Tensor(np.zeros(sum(self.sizes), np.float32)), name="flat_moment1",
                                requires_grad=False)
        self.flat_v = Parameter(Tensor(np.zeros(sum(self.reduced_sizes), np.float32)), name="flat_moment2",
                                requires_grad=False)
        self.probe_shapes = tuple(tuple(p.shape) for p in self.hutchinson_params)
        self.probe_total = int(sum(np.prod(s) for s in self.probe_shapes))

    def _probes(self):
        samples = ()
        for sample in range(self.num_samples):
            flat = self._probe_fn((self.probe_total,), self.probe_seed, self.hessian_step,
                                  (sample, self.probe_stream))
            samples += (_split(flat, self.probe_shapes),)
        return samples

    def _apply(self, grads, curvatures, refresh):
        inv_scale = self._scale_factor()
        grad = ops.concat([g.reshape(-1) for g in grads]) * inv_scale
        curvature = ops.concat([c.reshape(-1) for c in curvatures]) * inv_scale
        finite = ops.logical_and(ops.isfinite(grad).all(), ops.isfinite(curvature).all())
        refresh_t = ops.cast(refresh, ms.float32)
        step = ops.cast(self.global_step + 1, ms.float32).reshape(())
        count = ops.cast(self.hessian_step, ms.float32).reshape(()) + refresh_t
        bias1 = 1.0 - ops.pow(self.beta1, step)
        bias2 = 1.0 - ops.pow(self.beta2, ops.maximum(count, 1.0))
        v_refreshed = self.beta2 * self.flat_v + (1.0 - self.beta2) * curvature * curvature
        v_new = ops.select(ops.logical_and(refresh, finite), v_refreshed, self.flat_v)
        if self.hessian_powers[0] == 1.0:
            denom_reduced = ops.sqrt(v_new / bias2) + self.eps
        else:
            denom_reduced = ops.pow(v_new / bias2, self.hessian_powers[0] / 2.0) + self.eps
        denom = ops.concat([ops.broadcast_to(d, s).reshape(-1) for d, s in
                            zip(_split(denom_reduced, self.reduced_shapes), self.shapes)])
        m_new = self.beta1 * self.flat_m + (1.0 - self.beta1) * grad
        param = ops.concat([p.reshape(-1) for p in self._parameters])
        delta = (m_new / bias1) / denom
        if self.decay_flags[0]:
            delta = delta + self.get_weight_decay() * param
        p_new = ops.select(finite, param - self.get_lr() * delta, param)
        for target, value in zip(self._parameters, _split(p_new, self.shapes)):
            ops.assign(target, value)
        ops.assign(self.flat_m, ops.select(finite, m_new, self.flat_m))
        ops.assign(self.flat_v, v_new)
        self._record_flat_curvature(grads, curvatures, refresh)
        finite_i = ops.cast(finite, ms.int32)
        ops.assign_add(self.global_step, finite_i.reshape((1,)))
        ops.assign_add(self.hessian_step, (finite_i * ops.cast(refresh, ms.int32)).reshape((1,)))
        ops.assign(self.skipped, ops.logical_not(finite))
        return finite


class LazyOnlyAdaHessian(FastAdaHessian):
    """FastAdaHessian whose every step is a lazy one, without the refresh branch: the floor of a lazy step."""

    def construct(self, grad_fn, *inputs):
        output, grads, curvatures = self._lazy_step(grad_fn, inputs)
        self._apply(grads, curvatures, Tensor(False))
        return output[0] if isinstance(output, tuple) else output


def _split(flat, shapes):
    out, offset = (), 0
    for shape in shapes:
        size = int(np.prod(shape))
        out += (flat[offset:offset + size].reshape(shape),)
        offset += size
    return out


def make_step(kind, workload, interval):
    """A jit-wrapped train step for Adam, AdaHessian or FastAdaHessian."""
    params = workload.params()
    if kind == "adam":
        optimizer = nn.Adam(params, learning_rate=1e-3)
        grad_fn = ms.value_and_grad(workload.loss_fn, None, optimizer.parameters)

        def adam_step(*inputs):
            loss, grads = grad_fn(*inputs)
            optimizer(grads)
            return loss
        return ms.jit(adam_step)
    cls = {"adahessian": AdaHessian, "fast": FastAdaHessian, "lazy_only": LazyOnlyAdaHessian}[kind]
    optimizer = cls(params, learning_rate=1e-3, update_interval=interval)
    grad_fn = ms.value_and_grad(workload.loss_fn, None, optimizer.parameters)

    def adahessian_step(*inputs):
        return optimizer(grad_fn, *inputs)
    return ms.jit(adahessian_step)


def main():
    """Time the variants and print medians, ratios to Adam and first-step times."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload", default="cnn")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--intervals", default="1,10")
    args = parser.parse_args()
    ms.set_context(mode=ms.GRAPH_MODE)
    variants = {"adam": ("adam", 1)}
    for interval in (int(k) for k in args.intervals.split(",")):
        variants[f"adahessian_k{interval}"] = ("adahessian", interval)
        variants[f"fast_k{interval}"] = ("fast", interval)
    variants["fast_lazy_only"] = ("lazy_only", 1)
    built = {name: workloads.build_workload(args.workload) for name in variants}
    steps = {name: make_step(kind, built[name], interval) for name, (kind, interval) in variants.items()}
    firsts, losses = {}, {}
    for name, step in steps.items():
        start = time.perf_counter()
        losses[name] = float(step(*built[name].inputs).asnumpy())
        firsts[name] = time.perf_counter() - start
    times = {name: [] for name in steps}
    for _ in range(args.steps):
        for name, step in steps.items():
            start = time.perf_counter()
            losses[name] = float(step(*built[name].inputs).asnumpy())
            times[name].append(time.perf_counter() - start)
    adam = statistics.median(times["adam"])
    print(f"== {args.workload}, jit-wrapped step, {args.steps} interleaved steps")
    for name, values in times.items():
        mean = statistics.fmean(values)
        print(f"  {name:16s} median {statistics.median(values) * 1e3:8.2f} ms  mean {mean * 1e3:8.2f} ms  "
              f"mean/Adam median {mean / adam:5.2f}  first step {firsts[name]:6.1f} s  last loss {losses[name]:.5f}")
    common.report("done", {})


if __name__ == "__main__":
    main()
