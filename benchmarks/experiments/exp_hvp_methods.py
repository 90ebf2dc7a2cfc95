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
"""Cost of one Hessian-vector product by three routes, against one gradient (Adam's cost).

* ``grad``: ``value_and_grad(loss, None, weights)(*inputs)``, what an Adam step differentiates.
* ``rr_aux``: reverse over reverse as ``mindflow.cell.optimizers.hessian_vector_product`` does it,
  ``value_and_grad`` of ``<grad_fn(*inputs), z>`` w.r.t. the weights with ``has_aux`` (gradient included).
* ``vjp``: ``mindspore.vjp(grad_fn, *inputs, weights=weights)`` then ``vjp_fn((0, z))`` (upstream's route;
  it also returns cotangents for the inputs).
* ``flat_grad`` / ``flat_rr`` / ``flat_jvp``: the same network written as a function of one flat weight
  vector ``theta`` (``mindspore.jvp`` takes tangents on positional inputs only, it has no ``weights``):
  the gradient, reverse over reverse, and forward over reverse ``jvp(grad_theta, (theta, x), (z, 0))``.

Usage: python benchmarks/experiments/exp_hvp_methods.py --workload pinn_small --mode graph [--steps 20]
Prints first-call (compile) seconds, interleaved medians and the largest difference of each H z from rr_aux.
"""
import argparse
import math

import numpy as np

import common  # pylint: disable=unused-import
import mindspore as ms
from mindspore import Parameter, Tensor, ops

import workloads
from mindflow.cell.optimizers.hutchinson import hessian_vector_product


def unflatten(theta, shapes):
    """Split a flat vector into tensors of ``shapes``."""
    tensors, offset = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        tensors.append(theta[offset:offset + size].reshape(shape))
        offset += size
    return tensors


def mlp_forward(theta, points, shapes):
    """tanh MLP whose weights are slices of ``theta`` (nn.Dense layout: weight (out, in), bias)."""
    tensors = unflatten(theta, shapes)
    hidden = points
    for i in range(0, len(tensors), 2):
        hidden = ops.matmul(hidden, tensors[i].T) + tensors[i + 1]
        if i + 2 < len(tensors):
            hidden = ops.tanh(hidden)
    return hidden


def flat_pinn_loss(shapes):
    """Burgers PINN loss ``loss(theta, points)`` of the functional MLP."""
    def u_sum(points, theta):
        return mlp_forward(theta, points, shapes).sum()
    du = ms.grad(u_sum, grad_position=0)

    def u_x_sum(points, theta):
        return du(points, theta)[:, 0].sum()
    d2u = ms.grad(u_x_sum, grad_position=0)

    def loss(theta, points):
        pde = points[:workloads.N_PDE]
        first = du(pde, theta)
        u_xx = d2u(pde, theta)[:, 0:1]
        residual = first[:, 1:2] + mlp_forward(theta, pde, shapes) * first[:, 0:1] - workloads.NU * u_xx
        ic = points[workloads.N_PDE:workloads.N_PDE + workloads.N_IC]
        ic_error = mlp_forward(theta, ic, shapes) + ops.sin(math.pi * ic[:, 0:1])
        bc_error = mlp_forward(theta, points[workloads.N_PDE + workloads.N_IC:], shapes)
        return ops.mean(residual * residual) + ops.mean(ic_error * ic_error) + ops.mean(bc_error * bc_error)
    return loss


def flat_cnn_loss(shapes):
    """CNN cross entropy ``loss(theta, images, labels)`` (same form as workloads.CrossEntropyLoss)."""
    on_value, off_value = Tensor(1.0, ms.float32), Tensor(0.0, ms.float32)

    def loss(theta, images, labels):
        w1, b1, w2, b2, w3, b3 = unflatten(theta, shapes)  # pylint: disable=unbalanced-tuple-unpacking
        hidden = ops.relu(ops.conv2d(images, w1, b1, stride=2, pad_mode="pad", padding=1))
        hidden = ops.relu(ops.conv2d(hidden, w2, b2, stride=2, pad_mode="pad", padding=1))
        logits = ops.matmul(hidden.reshape((hidden.shape[0], -1)), w3.T) + b3
        shifted = logits - ops.stop_gradient(ops.max(logits, -1, keepdims=True)[0])
        onehot = ops.one_hot(labels, workloads.CNN_CLASSES, on_value, off_value)
        return ops.mean(ops.log(ops.sum(ops.exp(shifted), -1)) - ops.sum(shifted * onehot, -1))
    return loss


def build(name):
    """Functions to compare, each taking the workload inputs."""
    workload = workloads.build_workload(name)
    weights = workload.params()
    shapes = [tuple(p.shape) for p in weights]
    rng = np.random.default_rng(1)
    probes = tuple(Tensor(rng.choice([-1.0, 1.0], size=s).astype(np.float32)) for s in shapes)
    flat_probe = Tensor(np.concatenate([z.asnumpy().ravel() for z in probes]))
    # a Parameter, not a constant Tensor, so that jit does not fold the flat variants
    theta = Parameter(Tensor(np.concatenate([p.asnumpy().ravel() for p in weights])), name="theta",
                      requires_grad=False)
    grad_fn = ms.value_and_grad(workload.loss_fn, None, weights)
    flat_loss = flat_cnn_loss(shapes) if name == "cnn" else flat_pinn_loss(shapes)
    flat_grad_fn = ms.grad(flat_loss, grad_position=0)

    def grad(*inputs):
        return grad_fn(*inputs)

    def rr_aux(*inputs):
        return hessian_vector_product(grad_fn, weights, inputs, probes)

    def vjp(*inputs):
        (loss, grads), vjp_fn = ms.vjp(grad_fn, *inputs, weights=weights)
        _, hv = vjp_fn((ops.zeros_like(loss), probes))
        return loss, grads, hv

    if name == "cnn":
        def flat_grad(*inputs):
            return flat_grad_fn(theta, *inputs)

        def flat_inner(theta_, *inputs):
            return ops.sum(flat_grad_fn(theta_, *inputs) * flat_probe)
        flat_hvp = ms.grad(flat_inner, grad_position=0)

        def flat_rr(*inputs):
            return flat_grad_fn(theta, *inputs), flat_hvp(theta, *inputs)

        def flat_jvp(images, labels):
            def grad_of(theta_, images_):
                return flat_grad_fn(theta_, images_, labels)
            return ms.jvp(grad_of, (theta, images), (flat_probe, ops.zeros_like(images)))
    else:
        def flat_grad(points):
            return flat_grad_fn(theta, points)

        def flat_inner(theta_, points):
            return ops.sum(flat_grad_fn(theta_, points) * flat_probe)
        flat_hvp = ms.grad(flat_inner, grad_position=0)

        def flat_rr(points):
            return flat_grad_fn(theta, points), flat_hvp(theta, points)

        def flat_jvp(points):
            return ms.jvp(flat_grad_fn, (theta, points), (flat_probe, ops.zeros_like(points)))

    functions = {"grad": grad, "rr_aux": rr_aux, "vjp": vjp, "flat_grad": flat_grad, "flat_rr": flat_rr,
                 "flat_jvp": flat_jvp}
    return workload, functions


def hz_of(name, output):
    """Flat H z of one function's output."""
    if name == "rr_aux":
        return np.concatenate([h.asnumpy().ravel() for h in output[1]])
    if name == "vjp":
        return np.concatenate([h.asnumpy().ravel() for h in output[2]])
    if name in ("flat_rr", "flat_jvp"):
        return output[1].asnumpy().ravel()
    return None


def main():
    """Run the comparison."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload", default="pinn_small")
    parser.add_argument("--mode", default="graph", choices=("graph", "pynative"))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--only", default="", help="comma-separated subset of the functions")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    ms.set_context(mode=ms.GRAPH_MODE if args.mode == "graph" else ms.PYNATIVE_MODE)
    workload, functions = build(args.workload)
    if args.only:
        functions = {k: v for k, v in functions.items() if k in args.only.split(",")}
    if args.mode == "graph":
        functions = {k: ms.jit(v) for k, v in functions.items()}
    firsts, working, reference = {}, {}, None
    for name, function in functions.items():
        try:
            firsts[name] = common.first_calls({name: function}, workload.inputs)[name]
            hz = hz_of(name, function(*workload.inputs))
            if hz is not None:
                reference = hz if reference is None else reference
                firsts[name + " max|Hz - Hz_rr|/max|Hz_rr|"] = float(np.abs(hz - reference).max()
                                                                       / np.abs(reference).max())
            working[name] = function
        except (RuntimeError, TypeError, ValueError) as error:
            firsts[name] = "FAILED: " + str(error).splitlines()[0][:200]
    common.report(f"{args.workload} {args.mode}: first call (s) and agreement", firsts)
    results = common.interleaved(working, workload.inputs, args.steps)
    common.report(f"{args.workload} {args.mode}: interleaved, {args.steps} steps", results,
                  args.json or None)


if __name__ == "__main__":
    main()
