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
"""Cost of the parts of an AdaHessian step other than the derivatives: probe draws and the update.

Probes (one Rademacher probe per parameter of the workload):

* ``hash_per_param``: ``draw_probes`` of ``mindflow.cell.optimizers`` as AdaHessian calls it (int64 hash,
  one key chain per parameter, seed and counter read from Parameters).
* ``hash_flat``: one hashed probe over all parameters' elements, split and reshaped.
* ``uniform_per_param`` / ``uniform_flat``: ``ops.uniform`` draws mapped to +-1 (stateful, not counter-based).
* ``randint_per_param``: upstream MindFlow 0.3.0's ``2 * ops.randint(0, 2, shape) - 1``.

Update (moments and parameters from given gradients and curvatures):

* ``update_loop``: ``AdaHessian._apply`` as it is (a Python loop over parameters, about 25 operators each).
* ``update_hypermap``: the same per-parameter math through ``ops.HyperMap``.
* ``update_flat``: the elementwise math once on the concatenation of all parameters (moments kept flat).

Usage: python benchmarks/experiments/exp_probes_update.py --workload pinn_large --mode graph [--steps 30]
"""
import argparse

import numpy as np

import common  # pylint: disable=unused-import
import mindspore as ms
from mindspore import Parameter, ParameterTuple, Tensor, nn, ops

import workloads
from mindflow.cell.optimizers import AdaHessian
from mindflow.cell.optimizers.hutchinson import draw_probes
from mindflow.cell.optimizers.probes import rademacher_probe


def _split(flat, shapes):
    out, offset = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(flat[offset:offset + size].reshape(shape))
        offset += size
    return tuple(out)


class Probes(nn.Cell):
    """One probe set by the chosen method."""

    def __init__(self, shapes, method):
        super().__init__()
        self.shapes = tuple(tuple(s) for s in shapes)
        self.total = int(sum(np.prod(s) for s in shapes))
        self.method = method
        self.seed = Parameter(Tensor(0, ms.int64), name="seed", requires_grad=False)
        self.counter = Parameter(Tensor([0], ms.int32), name="counter", requires_grad=False)
        self.low, self.high = Tensor(0.0, ms.float32), Tensor(1.0, ms.float32)

    def construct(self):
        """The probes (the counter advances, as an optimizer's would)."""
        ops.assign_add(self.counter, Tensor([1], ms.int32))
        if self.method == "hash_per_param":
            return draw_probes(self.shapes, self.seed, self.counter, 1, rademacher_probe, 0)[0]
        if self.method == "hash_flat":
            return _split(rademacher_probe((self.total,), self.seed, self.counter, 0), self.shapes)
        if self.method == "uniform_per_param":
            return tuple(ops.sign(ops.uniform(s, self.low, self.high) - 0.5) for s in self.shapes)
        if self.method == "uniform_flat":
            return _split(ops.sign(ops.uniform((self.total,), self.low, self.high) - 0.5), self.shapes)
        return tuple((2 * ops.randint(0, 2, s) - 1).astype(ms.float32) for s in self.shapes)


class UpdateLoop(nn.Cell):
    """AdaHessian._apply as it is."""

    def __init__(self, params):
        super().__init__()
        self.opt = AdaHessian(params, learning_rate=1e-3)

    def construct(self, grads, curvatures):
        """One update."""
        return self.opt._apply(grads, curvatures, Tensor(True))  # pylint: disable=protected-access,no-value-for-parameter  # _apply as at ff956b3


_UPDATE = ops.MultitypeFuncGraph("adahessian_update")


@_UPDATE.register("Tensor", "Tensor", "Tensor", "Tensor", "Tensor", "Tensor", "Tensor", "Tensor", "Tensor",
                  "Tensor", "Tensor")
def _update_one(beta1, beta2, eps, lr, bias1, bias2, param, moment1, moment2, grad, curvature):
    """Adam-style update of one parameter with the curvature as second-moment input."""
    m_new = beta1 * moment1 + (1.0 - beta1) * grad
    v_new = beta2 * moment2 + (1.0 - beta2) * curvature * curvature
    denom = ops.sqrt(v_new / bias2) + eps
    ops.assign(param, param - lr * (m_new / bias1) / denom)
    ops.assign(moment1, m_new)
    ops.assign(moment2, v_new)
    return ops.isfinite(grad).all()


class UpdateHyperMap(nn.Cell):
    """The per-parameter update mapped with ops.HyperMap."""

    def __init__(self, params, reduced_shapes):
        super().__init__()
        self.params = ParameterTuple(params)
        self.moment1 = ParameterTuple([Parameter(Tensor(np.zeros(p.shape, np.float32)), name="hm1." + p.name)
                                       for p in params])
        self.moment2 = ParameterTuple([Parameter(Tensor(np.zeros(s, np.float32)), name="hm2." + p.name)
                                       for p, s in zip(params, reduced_shapes)])
        self.hyper_map = ops.HyperMap()
        self.beta1, self.beta2 = Tensor(0.9, ms.float32), Tensor(0.999, ms.float32)
        self.eps, self.lr = Tensor(1e-8, ms.float32), Tensor(1e-3, ms.float32)
        self.bias1, self.bias2 = Tensor(0.1, ms.float32), Tensor(0.001, ms.float32)

    def construct(self, grads, curvatures):
        """One update."""
        update = ops.partial(_UPDATE, self.beta1, self.beta2, self.eps, self.lr, self.bias1, self.bias2)
        return self.hyper_map(update, self.params, self.moment1, self.moment2, grads, curvatures)


class UpdateFlat(nn.Cell):
    """The update on flat buffers: one set of elementwise kernels for all parameters."""

    def __init__(self, params):
        super().__init__()
        self.params = ParameterTuple(params)
        self.shapes = tuple(tuple(p.shape) for p in params)
        total = int(sum(np.prod(s) for s in self.shapes))
        self.moment1 = Parameter(Tensor(np.zeros(total, np.float32)), name="flat_m1")
        self.moment2 = Parameter(Tensor(np.zeros(total, np.float32)), name="flat_m2")
        self.beta1, self.beta2 = Tensor(0.9, ms.float32), Tensor(0.999, ms.float32)
        self.eps, self.lr = Tensor(1e-8, ms.float32), Tensor(1e-3, ms.float32)
        self.bias1, self.bias2 = Tensor(0.1, ms.float32), Tensor(0.001, ms.float32)

    def construct(self, grads, curvatures):
        """One update."""
        grad = ops.concat([g.reshape(-1) for g in grads])
        curvature = ops.concat([ops.broadcast_to(c, s).reshape(-1) for c, s in zip(curvatures, self.shapes)])
        finite = ops.logical_and(ops.isfinite(grad).all(), ops.isfinite(curvature).all())
        param = ops.concat([p.reshape(-1) for p in self.params])
        m_new = self.beta1 * self.moment1 + (1.0 - self.beta1) * grad
        v_new = self.beta2 * self.moment2 + (1.0 - self.beta2) * curvature * curvature
        p_new = ops.select(finite, param - self.lr * (m_new / self.bias1) / (ops.sqrt(v_new / self.bias2) + self.eps),
                           param)
        ops.assign(self.moment1, ops.select(finite, m_new, self.moment1))
        ops.assign(self.moment2, ops.select(finite, v_new, self.moment2))
        for p, value in zip(self.params, _split(p_new, self.shapes)):
            ops.assign(p, value)
        return finite


def main():
    """Run the comparison."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload", default="pinn_large")
    parser.add_argument("--mode", default="graph", choices=("graph", "pynative"))
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    ms.set_context(mode=ms.GRAPH_MODE if args.mode == "graph" else ms.PYNATIVE_MODE)
    workload = workloads.build_workload(args.workload)
    params = workload.params()
    shapes = [tuple(p.shape) for p in params]
    optimizer = AdaHessian(params)
    reduced = [tuple(m.shape) for m in optimizer.moment2]
    rng = np.random.default_rng(0)
    grads = tuple(Tensor(rng.normal(size=s).astype(np.float32)) for s in shapes)
    curvatures = tuple(Tensor(np.abs(rng.normal(size=s)).astype(np.float32)) for s in reduced)
    probe_cells = {name: Probes(shapes, name) for name in ("hash_per_param", "hash_flat", "uniform_per_param",
                                                           "uniform_flat", "randint_per_param")}
    update_cells = {"update_loop": UpdateLoop(workload.params()),
                    "update_hypermap": UpdateHyperMap(workload.params(), reduced),
                    "update_flat": UpdateFlat(workload.params())}
    probe_fns = {name: (ms.jit(cell.construct) if args.mode == "graph" else cell) for name, cell in probe_cells.items()}
    update_fns = {name: (ms.jit(cell.construct) if args.mode == "graph" else cell)
                  for name, cell in update_cells.items()}
    print(f"{args.workload}: {len(shapes)} parameters, {sum(int(np.prod(s)) for s in shapes)} scalars")
    common.report("probes: first call (s)", common.first_calls(probe_fns, ()))
    common.report(f"probes: interleaved, {args.steps} calls", common.interleaved(probe_fns, (), args.steps))
    common.report("update: first call (s)", common.first_calls(update_fns, (grads, curvatures)))
    common.report(f"update: interleaved, {args.steps} calls",
                  common.interleaved(update_fns, (grads, curvatures), args.steps))


if __name__ == "__main__":
    main()
