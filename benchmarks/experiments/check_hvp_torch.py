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
"""Check AdaHessian's Hessian-vector product against PyTorch on the benchmark workloads.

``mindflow.cell.optimizers.hessian_vector_product`` (reverse over reverse) is evaluated with fixed
Rademacher probes in the chosen MindSpore mode; PyTorch computes ``H z`` for the same weights, data and
probes with ``torch.autograd.grad`` twice. Prints the largest relative difference per parameter.

Usage: python benchmarks/experiments/check_hvp_torch.py --workload cnn --mode pynative
"""
import argparse

import numpy as np

import common  # pylint: disable=unused-import
import mindspore as ms
from mindspore import Tensor
import torch

import workloads
import torch_workloads
from mindflow.cell.optimizers.hutchinson import hessian_vector_product


def main():
    """Compare and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload", default="cnn")
    parser.add_argument("--mode", default="pynative", choices=("graph", "pynative"))
    args = parser.parse_args()
    ms.set_context(mode=ms.GRAPH_MODE if args.mode == "graph" else ms.PYNATIVE_MODE)
    workload = workloads.build_workload(args.workload)
    weights = workload.params()
    rng = np.random.default_rng(3)
    probes = [rng.choice([-1.0, 1.0], size=tuple(p.shape)).astype(np.float32) for p in weights]
    grad_fn = ms.value_and_grad(workload.loss_fn, None, weights)
    ms_probes = tuple(Tensor(z) for z in probes)

    def hvp(*inputs):
        return hessian_vector_product(grad_fn, weights, inputs, ms_probes)[1]
    if args.mode == "graph":
        hvp = ms.jit(hvp)
    ms_hv = [h.asnumpy() for h in hvp(*workload.inputs)]
    net, closure = torch_workloads.build_torch_workload(workload, *workloads.workload_arrays(workload))
    params = list(net.parameters())
    grads = torch.autograd.grad(closure(), params, create_graph=True)
    torch_hv = torch.autograd.grad(grads, params, grad_outputs=[torch.from_numpy(z) for z in probes])
    worst = 0.0
    for param, mine, theirs in zip(weights, ms_hv, torch_hv):
        theirs = theirs.numpy()
        error = float(np.abs(mine - theirs).max() / max(np.abs(theirs).max(), 1e-30))
        worst = max(worst, error)
        print(f"  {param.name:28s} max|Hz_ms - Hz_torch| / max|Hz_torch| = {error:.2e}")
    print(f"{args.workload} {args.mode}: worst relative difference {worst:.2e}")


if __name__ == "__main__":
    main()
