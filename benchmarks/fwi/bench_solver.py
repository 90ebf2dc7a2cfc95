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
"""How to compile the FWI solver's time loop: compile time and seconds per misfit-and-gradient evaluation.

Run pinned to one core, e.g. ``taskset -c 1 python benchmarks/fwi/bench_solver.py --choices block:10 adahessian_fd:10``.
Choices: ``block:K`` (GRAPH mode, a while loop over blocks of K unrolled time steps; K = 1 is a plain while loop,
K >= steps the whole loop unrolled), ``pynative_jit:K`` (PYNATIVE, the time step compiled with mindspore.jit, the loop
in Python), ``adahessian_fd:K`` / ``adahessian_autodiff:K`` (one AdaHessian step, finite-difference or exact
Hessian-vector product, over the block-K solver). Prints one JSON line per choice.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import mindspore as ms
from mindspore import nn

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
sys.path.insert(0, os.path.join(ROOT, "applications", "cfd", "acoustic_fwi"))
sys.path.insert(0, ROOT)
from src.config import load_config, apply_override  # pylint: disable=wrong-import-position
from src.problem import VelocityModel, build_problem, observed_tensor  # pylint: disable=wrong-import-position


class Gradient(nn.Cell):
    """Misfit and gradient as one compiled Cell."""

    def __init__(self, loss_cell, params):
        super().__init__()
        self.grad_fn = ms.value_and_grad(loss_cell, None, params)

    def construct(self, observed):
        """Loss and gradients."""
        return self.grad_fn(observed)


def timed(fn, repeats):
    """Seconds of the first call (compile + run) and the mean of ``repeats`` later calls; the last output."""
    tic = time.perf_counter()
    out = fn()
    first = time.perf_counter() - tic
    tic = time.perf_counter()
    for _ in range(repeats):
        out = fn()
    return first, (time.perf_counter() - tic) / max(repeats, 1), out


def gradient_choice(config, block, mode, repeats):
    """Compile and run the misfit gradient with blocks of ``block`` steps in ``mode``."""
    ms.set_context(mode=mode)
    problem = build_problem(config, 0, block=block)
    model = VelocityModel(problem.start)
    misfit = problem.misfit_cell(model, config)
    obs = observed_tensor(problem)
    if mode == ms.PYNATIVE_MODE:
        problem.solver.step = ms.jit(problem.solver.step)
        grad_fn = ms.value_and_grad(misfit, None, model.trainable_params())
        first, per, out = timed(lambda: grad_fn(obs), repeats)
    else:
        cell = Gradient(misfit, model.trainable_params())
        first, per, out = timed(lambda: cell(obs), repeats)
    return {"compile_s": first - per, "s_per_eval": per, "loss": float(out[0].asnumpy()),
            "grad_norm": float(np.linalg.norm(out[1][0].asnumpy()))}


def adahessian_choice(config, hvp_method, block, repeats):
    """One AdaHessian step (a gradient and a Hessian-vector product) over the while-loop solver."""
    from mindflow import AdaHessian  # pylint: disable=import-outside-toplevel
    ms.set_context(mode=ms.GRAPH_MODE)
    problem = build_problem(config, 0, block=block)
    model = VelocityModel(problem.start)
    misfit = problem.misfit_cell(model, config)
    obs = observed_tensor(problem)
    optimizer = AdaHessian(model.trainable_params(), learning_rate=0.01, eps=1e-3, spatial_average="none",
                           hvp_method=hvp_method)
    grad_fn = ms.value_and_grad(misfit, None, optimizer.parameters)
    first, per, out = timed(lambda: optimizer(grad_fn, obs).asnumpy(), repeats)
    return {"compile_s": first - per, "s_per_step": per, "loss": float(out)}


def main():
    """Parse the options, run the choices, print JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--choices", nargs="+", default=["block:10", "adahessian_fd:10", "adahessian_autodiff:10"])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=None, help="append the JSON lines to this file")
    args = parser.parse_args()
    os.environ.setdefault("MS_DEV_HOST_BLOCKING_RUN", "1")
    ms.set_device("CPU")
    config = load_config(os.path.join(ROOT, "applications", "cfd", "acoustic_fwi", "configs", "fwi.yaml"),
                         args.profile)
    for assignment in args.overrides:
        apply_override(config, assignment)
    for choice in args.choices:
        kind, _, block = choice.partition(":")
        block = int(block or 10)
        if kind == "block":
            result = gradient_choice(config, block, ms.GRAPH_MODE, args.repeats)
        elif kind == "pynative_jit":
            result = gradient_choice(config, block, ms.PYNATIVE_MODE, args.repeats)
        elif kind in ("adahessian_fd", "adahessian_autodiff"):
            method = "finite_difference" if kind == "adahessian_fd" else "autodiff"
            result = adahessian_choice(config, method, block, args.repeats)
        else:
            raise ValueError(f"unknown choice {choice!r}")
        line = json.dumps({"choice": choice, "profile": args.profile, "overrides": args.overrides,
                           "time_steps": config["time"]["steps"], **result})
        print(line, flush=True)
        if args.output:
            with open(args.output, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")


if __name__ == "__main__":
    main()
