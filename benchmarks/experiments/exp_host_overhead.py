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
"""How much of a plain call ``opt(grad_fn, *inputs)`` is host work outside the compiled step?

The plain call reads the step counter (``update_interval > 1``), derives the probes' stream keys on the host
(refresh steps), checks the execution mode, calls the compiled step Cell and reads the skipped-step flag. This
script times, per call, the whole plain call, the compiled Cell's call inside it (their difference is the
host part) and the derivation of the probe keys. It does so for ``update_interval`` 1 and 10, with the
execution mode read by ``mindspore.get_context("mode")`` (as before) and by the optimizer's ``_execution_mode``
(as now), all interleaved with an Adam step in one process, so that the machine's changing speed hits every
variant alike.

Usage: python benchmarks/experiments/exp_host_overhead.py --workload pinn_small --steps 100
"""
import argparse
import statistics
import time
import timeit

import mindspore as ms

import common
import workloads
from mindflow.cell.optimizers import AdaHessian
from mindflow.cell.optimizers import adahessian as adahessian_module

# pylint: disable=protected-access
_MODE_GETTERS = {"get_context": lambda: ms.get_context("mode"), "_execution_mode": adahessian_module._execution_mode}


class _Timer:
    """Wraps a method of ``owner`` to record how long its last call took (0 when it was not called)."""

    def __init__(self, owner, name):
        self.last = 0.0
        method = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            result = method(*args, **kwargs)
            self.last = time.perf_counter() - start
            return result
        setattr(owner, name, timed)


def run(name, steps, warmup):
    """Median host part of the plain call per variant, in ms and in Adam steps."""
    cell_timer = _Timer(adahessian_module._CompiledStep, "__call__")
    keys_timer = _Timer(AdaHessian, "_host_probe_keys")
    inputs = workloads.build_workload(name).inputs
    adam = common.adam_step(workloads.build_workload(name))
    variants = {}
    for interval in (1, 10):
        for getter in _MODE_GETTERS:
            workload = workloads.build_workload(name)
            optimizer = AdaHessian(workload.params(), learning_rate=1e-3, update_interval=interval,
                                   hvp_method="finite_difference")
            grad_fn = ms.value_and_grad(workload.loss_fn, None, optimizer.parameters)
            variants[f"k={interval}, {getter}"] = (optimizer, grad_fn, getter)
    adam_times = []
    records = {label: {"total": [], "cell": [], "keys": [], "refresh": []} for label in variants}
    for step in range(warmup + steps):
        start = time.perf_counter()
        common.sync(adam(*inputs))
        if step >= warmup:
            adam_times.append(time.perf_counter() - start)
        for label, (optimizer, grad_fn, getter) in variants.items():
            adahessian_module._execution_mode = _MODE_GETTERS[getter]
            refresh = int(optimizer.global_step.asnumpy()[0]) % optimizer.update_interval == 0
            keys_timer.last = 0.0
            start = time.perf_counter()
            loss = optimizer(grad_fn, *inputs)
            total = time.perf_counter() - start
            common.sync(loss)
            if step >= warmup:
                records[label]["total"].append(total)
                records[label]["cell"].append(cell_timer.last)
                records[label]["keys"].append(keys_timer.last)
                records[label]["refresh"].append(refresh)
    adahessian_module._execution_mode = _MODE_GETTERS["_execution_mode"]
    adam_ms = statistics.median(adam_times) * 1e3
    results = {"adam": f"median {adam_ms:.2f} ms"}
    for label, data in records.items():
        for phase, wanted in (("refresh", True), ("lazy", False)):
            chosen = [i for i, refresh in enumerate(data["refresh"]) if refresh == wanted]
            if not chosen:
                continue
            host = statistics.median(data["total"][i] - data["cell"][i] for i in chosen) * 1e3
            keys = statistics.median(data["keys"][i] for i in chosen) * 1e3
            total = statistics.median(data["total"][i] for i in chosen) * 1e3
            results[f"{label}, {phase} ({len(chosen)} calls)"] = (
                f"host part {host:.3f} ms ({host / adam_ms:.3f} Adam steps; probe keys {keys:.3f} ms); whole call "
                f"{total:.2f} ms ({total / adam_ms:.3f} Adam steps)")
    alone = dict(_MODE_GETTERS)
    alone["probe keys (_host_probe_keys)"] = variants["k=1, _execution_mode"][0]._host_probe_keys
    for label, function in alone.items():
        seconds = timeit.timeit(function, number=2000) / 2000
        results[f"{label}, one call alone"] = f"{seconds * 1e6:.1f} us"
    common.report(f"{name}: host part of the plain call (GRAPH mode, {steps} interleaved steps)", results)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--workload", default="pinn_small", choices=sorted(workloads.WORKLOADS))
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=12)
    args = parser.parse_args()
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_seed(0)
    run(args.workload, args.steps, args.warmup)


if __name__ == "__main__":
    main()
