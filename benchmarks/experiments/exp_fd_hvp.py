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
"""A finite-difference Hessian-vector product against reverse over reverse: cost and accuracy.

``H z ~ (g(theta + h z) - g(theta)) / h`` costs one more gradient (the step needs ``g(theta)`` anyway),
where reverse over reverse differentiates the gradient graph once more. Timed as compiled Cells in GRAPH
mode, round-robin: ``grad`` (one gradient), ``exact`` (gradient and ``H z`` by
``hessian_vector_product``'s ``"autodiff"``), ``fd`` (its ``"finite_difference"``: two gradients, the
weights moved in place and put back), and, on their own copies of the network, whole steps: ``adam`` (gradient
and ``nn.Adam``), ``ah_1`` and ``ah_1_fd`` (AdaHessian's plain call, ``update_interval=1``, both methods). What a
step costs beyond its products (probes, curvature, update) is the difference of the two. Accuracy: the relative
error of the Hutchinson product ``z * H z`` of ``fd`` against ``exact``, per parameter and over all, for several
``h``.

Usage: python benchmarks/experiments/exp_fd_hvp.py --workload pinn_small [--steps 20]
"""
import argparse
import functools

import numpy as np

import common
import mindspore as ms
from mindspore import Tensor, nn, ops

import workloads
from mindflow.cell.optimizers import AdaHessian
from mindflow.cell.optimizers.hutchinson import _hessian_vector_product, split_grad_output

EPS32 = float(np.finfo(np.float32).eps)


class Grad(nn.Cell):
    """One gradient."""

    def __init__(self, grad_fn):
        super().__init__()
        self.grad_fn = grad_fn

    def construct(self, *inputs):
        return self.grad_fn(*inputs)


class AdamStep(nn.Cell):
    """A gradient and an nn.Adam update, as bench_optimizers.py's Adam step (compiled as a Cell)."""

    def __init__(self, loss_fn, params):
        super().__init__()
        self.adam = nn.Adam(params, learning_rate=1e-3)
        self.grad_fn = ms.value_and_grad(loss_fn, None, self.adam.parameters)

    def construct(self, *inputs):
        loss, grads = self.grad_fn(*inputs)
        self.adam(grads)
        return loss


class Library(nn.Cell):
    """Gradient and H z as mindflow's hessian_vector_product computes them, by ``method``."""

    def __init__(self, grad_fn, weights, method):
        super().__init__()
        self.grad_fn = grad_fn
        self.weights = weights
        self.method = method

    def construct(self, probes, *inputs):
        output, hv = _hessian_vector_product(self.grad_fn, self.weights, inputs, probes, self.method)
        return output, hv


class FiniteDifference(Library):
    """Gradient and H z by a forward difference of two gradients, with the step ``scale * (1 + max|w|)``."""

    def __init__(self, grad_fn, weights, scale):
        super().__init__(grad_fn, weights, "finite_difference")
        self.scale = scale

    def construct(self, probes, *inputs):
        output = self.grad_fn(*inputs)
        saved = ()
        largest = ()
        for weight in self.weights:
            value = weight + 0.0
            saved += (value,)
            largest += (ops.abs(value).max().reshape((1,)),)
        step = self.scale * (1.0 + ops.concat(largest).max())
        for weight, value, probe in zip(self.weights, saved, probes):
            ops.assign(weight, value + step * probe)
        moved = self.grad_fn(*inputs)
        for weight, value in zip(self.weights, saved):
            ops.assign(weight, value)
        grads = split_grad_output(output)[1]
        moved_grads = split_grad_output(moved)[1]
        hv = ()
        for grad, moved_grad in zip(grads, moved_grads):
            hv += ((moved_grad - grad) / step,)
        return output, hv


def main():
    """Accuracy for several steps, then interleaved timing of the library's two methods."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="pinn_small")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    ms.set_context(mode=ms.GRAPH_MODE)
    work = workloads.build_workload(args.workload)
    weights = ms.ParameterTuple(work.params())
    grad_fn = ms.value_and_grad(work.loss_fn, None, weights)
    rng = np.random.default_rng(0)
    probes = tuple(Tensor(rng.choice([-1.0, 1.0], size=p.shape).astype(np.float32)) for p in weights)
    before = [p.asnumpy().copy() for p in weights]

    exact = Library(grad_fn, weights, "autodiff")
    _, hv_exact = exact(probes, *work.inputs)
    d_exact = [z.asnumpy() * h.asnumpy() for z, h in zip(probes, hv_exact)]
    print(f"== {args.workload}: accuracy of z * H z by forward difference against reverse over reverse")
    for scale_name, scale in (("eps32", EPS32), ("sqrt(eps32)", EPS32 ** 0.5), ("eps32^(1/3)", EPS32 ** (1 / 3)),
                              ("1e-2", 1e-2)):
        fd = FiniteDifference(grad_fn, weights, scale)
        _, hv_fd = fd(probes, *work.inputs)
        d_fd = [z.asnumpy() * h.asnumpy() for z, h in zip(probes, hv_fd)]
        per = [float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30)) for a, b in zip(d_fd, d_exact)]
        whole = float(np.linalg.norm(np.concatenate([(a - b).ravel() for a, b in zip(d_fd, d_exact)]))
                      / np.linalg.norm(np.concatenate([b.ravel() for b in d_exact])))
        abs_err = float(np.linalg.norm(np.concatenate([(np.abs(a) - np.abs(b)).ravel()
                                                        for a, b in zip(d_fd, d_exact)]))
                        / np.linalg.norm(np.concatenate([b.ravel() for b in d_exact])))
        restored = max(float(np.abs(p.asnumpy() - b).max()) for p, b in zip(weights, before))
        print(f"  h = {scale_name:12s} x (1 + max|w|): relative error all {whole:.2e} (of |.| {abs_err:.2e}), "
              f"per parameter {' '.join(f'{e:.1e}' for e in per)}; weights restored to {restored:.1e}")

    fd = Library(grad_fn, weights, "finite_difference")
    grad_cell = Grad(grad_fn)
    functions = {"grad": lambda: grad_cell(*work.inputs),
                 "exact": lambda: exact(probes, *work.inputs),
                 "fd": lambda: fd(probes, *work.inputs)}
    adam_work = workloads.build_workload(args.workload)
    adam_step = AdamStep(adam_work.loss_fn, adam_work.params())
    functions["adam"] = lambda: adam_step(*adam_work.inputs)
    for name, method in (("ah_1", "autodiff"), ("ah_1_fd", "finite_difference")):
        copy = workloads.build_workload(args.workload)
        optimizer = AdaHessian(copy.params(), learning_rate=1e-3, hvp_method=method)
        step_grad_fn = ms.value_and_grad(copy.loss_fn, None, optimizer.parameters)
        functions[name] = functools.partial(optimizer, step_grad_fn, *copy.inputs)
    first = common.first_calls(functions, ())
    timing = common.interleaved(functions, (), args.steps)
    common.report(f"{args.workload}: first call s {first}", timing)
    median = {name: data["median_ms"] for name, data in timing.items()}
    print(f"  per gradient: autodiff {median['exact'] / median['grad']:.2f}, fd {median['fd'] / median['grad']:.2f}; "
          f"an Adam step {median['adam'] / median['grad']:.2f}")
    print(f"  per Adam step: ah_1 {median['ah_1'] / median['adam']:.2f} (products "
          f"{median['exact'] / median['adam']:.2f}), ah_1_fd {median['ah_1_fd'] / median['adam']:.2f} (products "
          f"{median['fd'] / median['adam']:.2f})")


if __name__ == "__main__":
    main()
