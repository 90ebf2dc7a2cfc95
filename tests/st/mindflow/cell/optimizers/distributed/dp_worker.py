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
"""Worker of the data-parallel AdaHessian test: a small MLP regression trained on one data shard.

Under ``msrun`` (``MS_ROLE`` set) the script initializes communication, switches MindSpore to data
parallel and trains on the shard of its rank; started as a plain process it is the single-process
reference and trains on the full batch (both shards). Every run trains, for each requested mode
(the compilation of GRAPH mode is what costs time, the steps of PYNATIVE mode):

- ``shared``: AdaHessian with the same probes on every rank (``per_rank_probes=False``);
- ``no_hessian_mean`` (GRAPH mode, data parallel only): the gradient is averaged but the Hessian
  estimate is not, a negative control that must leave the ranks apart;
- ``per_rank`` (PYNATIVE mode, data parallel only): ``per_rank_probes=True``.

The final parameters go to ``<out>/<mode>_<variant>_rank<rank>.npz`` (``<out>/<mode>_reference.npz`` for
the single-process run).

Usage: ``python dp_worker.py OUT_DIR MODES [DEADLINE_S]`` with MODES ``graph``, ``pynative`` or
``graph,pynative``; after DEADLINE_S seconds (default: none) the process ends itself, so that a hang
cannot outlive the test.
"""
import os
import signal
import sys
import time

import numpy as np
import mindspore as ms
from mindspore import Parameter, Tensor, nn, ops

# mindflow comes from PYTHONPATH, which msrun_launch.clean_environment points at the test's own package.
from mindflow.cell.optimizers import AdaHessian
from mindflow.cell.optimizers.spatial_average import curvature_blocks

SAMPLES = 16  # full batch; each of the two ranks gets half
# mode name: (context mode, steps, variants trained data parallel)
MODES = {"graph": (ms.GRAPH_MODE, 6, ("shared", "no_hessian_mean")),
         "pynative": (ms.PYNATIVE_MODE, 3, ("shared", "per_rank"))}


class MLP(nn.Cell):
    """2 -> 16 -> 1 tanh network with weights drawn from a fixed NumPy generator."""

    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(1)
        self.w0 = Parameter(Tensor(rng.normal(0.0, 0.7, (2, 16)), ms.float32), name="w0")
        self.b0 = Parameter(Tensor(rng.normal(0.0, 0.1, (16,)), ms.float32), name="b0")
        self.w1 = Parameter(Tensor(rng.normal(0.0, 0.25, (16, 1)), ms.float32), name="w1")
        self.b1 = Parameter(Tensor(rng.normal(0.0, 0.1, (1,)), ms.float32), name="b1")

    def construct(self, x):  # pylint: disable=arguments-differ
        h = ops.tanh(ops.matmul(x, self.w0) + self.b0)
        return ops.matmul(h, self.w1) + self.b1


class NoHessianMean(AdaHessian):
    """AdaHessian that averages the gradient across ranks but not the Hessian estimate."""

    def _refresh_step(self, grad_fn, inputs, seed_and_count, stream_keys=None, hessian_inputs=None):
        output, diagonal = self._estimate(grad_fn, inputs, seed_and_count, stream_keys, hessian_inputs)
        grads = self._prepare_grads(output)
        return output, grads, curvature_blocks(grads[0], diagonal, self.curvatures, self.average_axes)


def full_batch():
    """The whole data set: ``SAMPLES`` points of a smooth 2-D function."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.0, 1.0, (SAMPLES, 2)).astype(np.float32)
    y = (np.sin(2.0 * x[:, :1]) + x[:, 1:] ** 2).astype(np.float32)
    return x, y


def make_loss(net):
    """Mean squared error of ``net``."""
    def loss_fn(x, y):
        return ops.mean((net(x) - y) ** 2)
    return loss_fn


def train(variant, steps, x, y):
    """Train a fresh network for ``steps`` steps; return its parameters by name."""
    net = MLP()
    params = net.trainable_params()
    settings = {"learning_rate": 0.05, "eps": 1e-4, "seed": 7, "num_samples": 1}
    if variant == "no_hessian_mean":
        if not hasattr(AdaHessian, "_refresh_step"):
            raise RuntimeError("AdaHessian has no '_refresh_step' any more: update NoHessianMean.")
        optimizer = NoHessianMean(params, **settings)
    else:
        optimizer = AdaHessian(params, per_rank_probes=variant == "per_rank", **settings)
    grad_fn = ms.value_and_grad(make_loss(net), None, optimizer.parameters)
    x, y = Tensor(x), Tensor(y)
    for _ in range(steps):
        optimizer(grad_fn, x, y)
    return {param.name: param.asnumpy() for param in params}


def main():
    """Train every variant of the requested modes and save the parameters."""
    out_dir, modes = sys.argv[1], sys.argv[2].split(",")
    if len(sys.argv) > 3:
        # SIGALRM's default action ends the process, even inside a blocked collective or in init().
        signal.alarm(int(sys.argv[3]))
    distributed = "MS_ROLE" in os.environ
    x, y = full_batch()
    rank = 0
    if distributed:
        # pylint: disable=import-outside-toplevel
        from mindspore.communication import get_group_size, get_rank, init
        init()
        ms.set_auto_parallel_context(parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True)
        rank, size = get_rank(), get_group_size()
        shard = SAMPLES // size
        x, y = x[rank * shard:(rank + 1) * shard], y[rank * shard:(rank + 1) * shard]
    for mode in modes:
        context_mode, steps, variants = MODES[mode]
        ms.set_context(mode=context_mode)
        for variant in variants if distributed else ("shared",):
            start = time.time()
            params = train(variant, steps, x, y)
            name = f"{mode}_{variant}_rank{rank}" if distributed else f"{mode}_reference"
            np.savez(os.path.join(out_dir, name + ".npz"), **params)
            print(f"{name}: trained in {time.time() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
