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
"""One inversion run per optimizer (Adam, AdaHessian, L-BFGS) from the same start, with a history of misfit and
model error against wall time and gradient evaluations."""
import importlib
import math
import os
import sys
import time

import numpy as np
import mindspore as ms
from mindspore import nn
from tqdm import tqdm

from .lbfgs import lbfgs_minimize
from .problem import VelocityModel, observed_tensor

# Keys of an optimizer section that shape the learning-rate schedule rather than go to the constructor.
SCHEDULE_KEYS = ("learning_rate", "lr_schedule", "lr_final_ratio", "warmup_steps")


def learning_rate_schedule(base_lr, steps, schedule="constant", final_ratio=0.1, warmup_steps=0):
    """The float itself for a constant rate, else per-step rates (cosine or exponential decay to
    ``base_lr * final_ratio``, after ``warmup_steps`` of linear warm-up)."""
    base_lr = float(base_lr)
    if schedule == "constant" and not warmup_steps:
        return base_lr
    steps = max(int(steps), 1)
    warmup_steps = min(int(warmup_steps), steps - 1)
    decay_steps = max(steps - warmup_steps, 1)
    progress = np.arange(decay_steps) / max(decay_steps - 1, 1)
    if schedule == "constant":
        decay = np.ones(decay_steps)
    elif schedule == "cosine":
        decay = final_ratio + (1.0 - final_ratio) * 0.5 * (1.0 + np.cos(np.pi * progress))
    elif schedule == "exponential":
        decay = float(final_ratio) ** progress
    else:
        raise ValueError(f"unknown lr_schedule {schedule!r}; use constant, cosine or exponential")
    warmup = np.arange(1, warmup_steps + 1) / max(warmup_steps, 1)
    return [float(v) for v in base_lr * np.concatenate([warmup, decay])]


def import_adahessian():
    """``mindflow.AdaHessian``, from the installed package or else from the repository checkout."""
    try:
        module = importlib.import_module("mindflow")
    except ImportError:
        root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), *([os.pardir] * 4)))
        sys.path.insert(0, root)
        module = importlib.import_module("mindflow")
    return module.AdaHessian


def build_optimizer(name, params, section, steps, seed):
    """``nn.Adam`` or ``mindflow.AdaHessian`` from an optimizer section: the schedule keys make the learning rate,
    every other key is passed to the constructor as a keyword argument."""
    cfg = dict(section)
    lr = learning_rate_schedule(cfg["learning_rate"], steps, cfg.get("lr_schedule", "constant"),
                                float(cfg.get("lr_final_ratio", 0.1)), int(cfg.get("warmup_steps", 0)))
    kwargs = {key: value for key, value in cfg.items() if key not in SCHEDULE_KEYS}
    if name == "adam":
        return nn.Adam(params, learning_rate=lr, **kwargs)
    if name == "adahessian":
        kwargs.setdefault("seed", int(seed))
        return import_adahessian()(params, learning_rate=lr, **kwargs)
    raise ValueError(f"unknown optimizer {name!r}")


class History:
    """Misfit and model error of the iterates, against wall time (evaluations left out) and gradient count."""

    KEYS = ("iteration", "time_s", "gradient_evaluations", "misfit", "model_rmse")

    def __init__(self):
        self.records = {key: [] for key in self.KEYS}

    def add(self, iteration, time_s, gradients, misfit, rmse):
        """Append one record; non-finite numbers become ``None`` (JSON)."""
        for key, value in zip(self.KEYS, (iteration, time_s, gradients, misfit, rmse)):
            value = float(value)
            self.records[key].append(value if math.isfinite(value) else None)


class GradientCell(nn.Cell):
    """Misfit and gradient as one compiled Cell (it sees the Parameter's later ``set_data``)."""

    def __init__(self, misfit, params):
        super().__init__()
        self.grad_fn = ms.value_and_grad(misfit, None, params)

    def construct(self, observed):
        """Loss and gradients."""
        return self.grad_fn(observed)


def _hvp_cost(name, section):
    """Gradient evaluations of one step: Adam 1, AdaHessian 2 (finite difference: one more gradient; autodiff:
    the Hessian-vector product, counted as one)."""
    return 1 if name == "adam" else 1 + int(section.get("num_samples", 1))


def run_optimizer(name, config, problem, seed, progress=True):
    """Invert from ``problem.start`` with optimizer ``name``; returns ``(metrics, final_model)``.

    Steps of Adam and AdaHessian read nothing back from the device: the misfit of each iterate is kept as a Tensor
    and read at the evaluations (every ``train.eval_interval`` steps), which also read the model for its error.
    """
    section = dict(config["optimizers"].get(name) or {})
    iterations = int(config["train"]["iterations"])
    interval = max(int(config["train"].get("eval_interval", 1)), 1)
    ms.set_seed(seed)
    model, misfit, gradient = _shared_cells(problem, config)
    model.velocity.set_data(ms.Tensor(problem.start))
    observed = observed_tensor(problem)
    params = model.trainable_params()
    history = History()
    if name == "lbfgs":
        return _run_lbfgs(problem, model, gradient, observed, config, section, iterations, history, progress)
    optimizer = build_optimizer(name, params, section, iterations, seed)
    if name == "adam":
        def step():
            loss, grads = gradient(observed)
            optimizer(grads)
            return loss
    else:
        grad_fn = ms.value_and_grad(misfit, None, optimizer.parameters)

        def step():
            return optimizer(grad_fn, observed)
    per_step = _hvp_cost(name, section)
    train_time, first_step = 0.0, None
    pending = []  # (iteration, time, loss Tensor, rmse) until the losses are read
    progress_bar = tqdm(range(iterations), desc=name, disable=not progress, dynamic_ncols=True, mininterval=0.5)
    for k in progress_bar:
        rmse = problem.model_error(model.velocity.asnumpy()) if k % interval == 0 else float("nan")
        tic = time.perf_counter()
        loss = step()
        elapsed = time.perf_counter() - tic
        first_step = elapsed if first_step is None else first_step
        pending.append((k, train_time, loss, rmse))
        train_time += elapsed
        if (k + 1) % interval == 0 or k + 1 == iterations:
            for item in pending:
                history.add(item[0], item[1], item[0] * per_step, float(item[2].asnumpy()), item[3])
            pending = []
            progress_bar.set_postfix(misfit=f"{history.records['misfit'][-1]:.3e}", refresh=False)
    progress_bar.close()
    final = model.velocity.asnumpy()
    # the misfit of the last iterate: one more evaluation, outside the timed steps
    history.add(iterations, train_time, iterations * per_step, float(gradient(observed)[0].asnumpy()),
                problem.model_error(final))
    return _metrics(name, section, history, train_time, first_step, iterations), final


def _shared_cells(problem, config):
    """The model, misfit and compiled gradient Cell of ``problem``, made once and shared by the runs (one compile
    for Adam and L-BFGS; every run starts by writing the start model)."""
    if getattr(problem, "cells", None) is None:
        model = VelocityModel(problem.start)
        misfit = problem.misfit_cell(model, config)
        problem.cells = (model, misfit, GradientCell(misfit, model.trainable_params()))
    return problem.cells


def _run_lbfgs(problem, model, gradient, observed, config, section, iterations, history, progress):
    """SciPy L-BFGS-B with the velocity bounds, fed by the compiled misfit-and-gradient Cell."""
    progress_bar = tqdm(total=iterations, desc="lbfgs", disable=not progress, dynamic_ncols=True, mininterval=0.5)
    inv = config["inversion"]
    state = {"evals": 0, "time": 0.0, "first": None}

    def loss_and_gradient(vector):
        tic = time.perf_counter()
        model.velocity.set_data(ms.Tensor(vector.reshape(problem.start.shape).astype(np.float32)))
        loss, grads = gradient(observed)
        out = float(loss.asnumpy()), grads[0].asnumpy().astype(np.float64).ravel()
        elapsed = time.perf_counter() - tic
        state["first"] = elapsed if state["first"] is None else state["first"]
        state["time"] += elapsed
        state["evals"] += 1
        if state["evals"] == 1:
            history.add(0, 0.0, 0, out[0], problem.model_error(vector.reshape(problem.start.shape)))
        state["last"] = out[0]
        return out

    def callback(iteration, vector):
        history.add(iteration, state["time"], state["evals"], state["last"],
                    problem.model_error(vector.reshape(problem.start.shape)))
        progress_bar.update(1)

    summary = lbfgs_minimize(loss_and_gradient, problem.start.astype(np.float64).ravel(), iterations,
                             bounds=(float(inv["vmin"]), float(inv["vmax"])),
                             history_size=int(section.get("history_size", 10)), callback=callback)
    progress_bar.close()
    final = summary.pop("x").reshape(problem.start.shape).astype(np.float32)
    model.velocity.set_data(ms.Tensor(final))
    metrics = _metrics("lbfgs", section, history, state["time"], state["first"], summary["iterations"])
    metrics["lbfgs"] = summary
    return metrics, final


def _metrics(name, section, history, train_time, first_step, iterations):
    """The JSON summary of a run."""
    records = history.records
    return {
        "optimizer": name,
        "settings": section,
        "iterations": iterations,
        "gradient_evaluations": records["gradient_evaluations"][-1],
        "start_misfit": records["misfit"][0],
        "final_misfit": records["misfit"][-1],
        "start_model_rmse": records["model_rmse"][0],
        "final_model_rmse": records["model_rmse"][-1],
        "train_time_s": train_time,
        # the first step (evaluation for L-BFGS) includes graph compilation
        "first_step_s": first_step,
        "history": records,
    }
