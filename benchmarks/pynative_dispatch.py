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
"""PYNATIVE plain calls two ways: the optimizer's switch to GRAPH mode for the call, against a step Cell whose
construct is decorated with mindspore.jit (the public way to compile from PYNATIVE without switching modes).

Usage: python benchmarks/pynative_dispatch.py [--steps 200]. Each way runs in its own process; prints ms per step
for update_interval 1 and 10 on a 2-20-20-20-1 tanh MLP fitted on 512 points.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def worker(way, steps):
    """ms per plain call in PYNATIVE mode, after 20 warm-up calls, for update_interval 1 and 10."""
    # pylint: disable=import-outside-toplevel
    import numpy as np
    import mindspore as ms
    from mindspore import Tensor, nn, ops
    sys.path.insert(0, os.path.dirname(HERE))
    from mindflow import AdaHessian
    from mindflow.cell.optimizers import dispatch
    if way == "jit_cell":
        dispatch.CompiledStep.construct = ms.jit(dispatch.CompiledStep.construct)
        ms.set_context(mode=ms.PYNATIVE_MODE)
        real_set_context = ms.set_context

        def no_mode_switch(**kwargs):
            kwargs.pop("mode", None)
            if kwargs:
                real_set_context(**kwargs)
        ms.set_context = no_mode_switch
    ms.set_seed(0)
    net = nn.SequentialCell(nn.Dense(2, 20, activation="tanh"), nn.Dense(20, 20, activation="tanh"),
                            nn.Dense(20, 20, activation="tanh"), nn.Dense(20, 1))
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(512, 2)).astype(np.float32))
    y = Tensor(rng.normal(size=(512, 1)).astype(np.float32))

    def loss_fn(a, b):
        return ops.mean((net(a) - b) ** 2)
    result = {}
    for interval in (1, 10):
        optimizer = AdaHessian(net.trainable_params(), learning_rate=1e-3, update_interval=interval)
        grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)
        for _ in range(20):
            optimizer(grad_fn, x, y)
        start = time.perf_counter()
        for _ in range(steps):
            loss = optimizer(grad_fn, x, y)
        loss.asnumpy()
        result[f"k{interval}_ms"] = (time.perf_counter() - start) / steps * 1e3
    return result


def main():
    """Run each way in its own process and print the times and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--worker", choices=("mode_switch", "jit_cell"))
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.steps)))
        return
    results = {}
    for way in ("mode_switch", "jit_cell"):
        done = subprocess.run([sys.executable, __file__, "--worker", way, "--steps", str(args.steps)],
                              capture_output=True, text=True, check=True)
        results[way] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{way}: " + ", ".join(f"{key} {value:.1f}" for key, value in results[way].items()), flush=True)
    for key in ("k1_ms", "k10_ms"):
        print(f"jit_cell / mode_switch, {key[:-3]}: {results['jit_cell'][key] / results['mode_switch'][key]:.2f}")


if __name__ == "__main__":
    main()
