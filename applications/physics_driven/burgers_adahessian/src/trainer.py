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
"""Optimizers, train steps and the training loop shared by ``train.py``, ``eval.py`` and the sweep script.

Adam and AdaHessian are driven through one interface: :func:`make_train_step` returns a function of the four
point tensors that performs one optimisation step and returns the loss. For Adam this is the usual
``value_and_grad`` + ``optimizer(grads)`` step; AdaHessian needs the gradient *function* (it differentiates it
again for Hessian-vector products), so it receives ``grad_fn`` and the inputs.
"""
import importlib
import math
import os
import sys
import time

import numpy as np
import mindspore as ms
from mindspore import nn
from tqdm import tqdm

from .data_parallel import gradient_mean, rank_divergence
from .dataset import evaluation_grid, sample_collocation_points
from .hessian_subset import HessianSubset, check_fraction
from .lbfgs import lbfgs_finish
from .losses import BurgersLossTerms, BurgersPINNLoss
from .model import build_model, glorot_initialize, load_numpy_parameters, parameters_to_numpy, save_network

# Keys of an optimizer section that shape the learning-rate schedule rather than go to the constructor.
SCHEDULE_KEYS = ("lr_schedule", "lr_final_ratio", "warmup_steps")
# Keys of the adahessian section that shape the train step rather than go to the constructor.
STEP_KEYS = ("hessian_fraction",)
ADAM_KEYS = ("beta1", "beta2", "eps", "weight_decay")


def learning_rate_schedule(base_lr, steps, schedule="constant", final_ratio=0.01, warmup_steps=0):
    """Per-step learning rates, or the float itself for a constant rate.

    Args:
        base_lr (float): Peak learning rate.
        steps (int): Number of optimisation steps the list must cover.
        schedule (str): ``constant``, ``cosine`` (half cosine from ``base_lr`` to ``base_lr * final_ratio``) or
            ``exponential`` (geometric decay to ``base_lr * final_ratio``).
        final_ratio (float): Ratio of the last to the peak learning rate of the decaying schedules.
        warmup_steps (int): Steps of linear warm-up from ``base_lr / warmup_steps`` to ``base_lr``.

    Returns:
        float or list[float] of length ``steps`` (the list form that ``nn.Adam`` takes as a dynamic rate).

    Raises:
        ValueError: For an unknown schedule.
    """
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


def import_mindflow():
    """Return the ``mindflow`` package, falling back to the repository checkout when it is not installed."""
    try:
        return importlib.import_module("mindflow")
    except ImportError:
        here = os.path.dirname(os.path.abspath(__file__))
        root = os.path.abspath(os.path.join(here, *([os.pardir] * 4)))
        if not os.path.isfile(os.path.join(root, "mindflow", "__init__.py")):
            raise
        sys.path.insert(0, root)
        return importlib.import_module("mindflow")


def import_adahessian():
    """Return ``mindflow.AdaHessian`` (see :func:`import_mindflow`)."""
    module = import_mindflow()
    if not hasattr(module, "AdaHessian"):
        raise ImportError("this mindflow has no AdaHessian optimizer; update the mindflow package")
    return module.AdaHessian


def build_optimizer(name, params, optimizer_config, steps, seed):
    """Build ``nn.Adam`` or ``mindflow.AdaHessian`` from one optimizer section of the configuration.

    Args:
        name (str): ``adam`` or ``adahessian``.
        params (list[Parameter]): Parameters to train.
        optimizer_config (dict): ``learning_rate``, optional schedule keys and constructor keyword arguments.
        steps (int): Planned number of steps, the length of a scheduled learning rate.
        seed (int): Seed of AdaHessian's random probe vectors, unless the section sets one.

    Returns:
        mindspore.nn.Optimizer.
    """
    cfg = dict(optimizer_config)
    lr = learning_rate_schedule(cfg.pop("learning_rate"), steps, cfg.get("lr_schedule", "constant"),
                                float(cfg.get("lr_final_ratio", 0.01)), int(cfg.get("warmup_steps", 0)))
    kwargs = {key: value for key, value in cfg.items() if key not in SCHEDULE_KEYS + STEP_KEYS}
    if name == "adam":
        unknown = (set(kwargs) - set(ADAM_KEYS)) | (set(cfg) & set(STEP_KEYS))
        if unknown:
            raise ValueError(f"unsupported Adam settings: {sorted(unknown)}")
        return nn.Adam(params, learning_rate=lr, **kwargs)
    if name == "adahessian":
        kwargs.setdefault("seed", int(seed))
        return import_adahessian()(params, learning_rate=lr, **kwargs)
    raise ValueError(f"unknown optimizer {name!r}")


def make_train_step(name, loss_cell, optimizer, graph_mode, group_size=1, hessian_subset=None):
    """Return ``step(pde_points, ic_points, ic_values, bc_points) -> loss`` performing one update.

    Args:
        name (str): ``adam`` or ``adahessian``.
        loss_cell (nn.Cell): Scalar loss of the four point tensors.
        optimizer (nn.Optimizer): Built by :func:`build_optimizer`.
        graph_mode (bool): Compile Adam's step with ``mindspore.jit``; AdaHessian compiles its own step.
        group_size (int): Data-parallel ranks. Adam's gradients are averaged over them here, as in any
            MindSpore data-parallel loop; AdaHessian averages its gradients and curvature itself.
        hessian_subset (HessianSubset): AdaHessian only: draws the points of its Hessian-vector products at
            every step (``hessian_inputs``); ``None`` uses all points.
    """
    grad_fn = ms.value_and_grad(loss_cell, None, optimizer.parameters)
    if name == "adahessian":
        def adahessian_step(pde_points, ic_points, ic_values, bc_points):
            extra = {} if hessian_subset is None else {"hessian_inputs": hessian_subset()}
            return optimizer(grad_fn, pde_points, ic_points, ic_values, bc_points, **extra)
        return adahessian_step

    reducer = gradient_mean(optimizer.parameters, group_size)

    def adam_step(pde_points, ic_points, ic_values, bc_points):
        loss, grads = grad_fn(pde_points, ic_points, ic_values, bc_points)
        if reducer is not None:
            grads = reducer(grads)
        optimizer(grads)
        return loss
    return ms.jit(adam_step) if graph_mode else adam_step


def set_up_context(mode, device_target, device_id=None):
    """Set MindSpore's execution mode (``GRAPH`` or ``PYNATIVE``) and device.

    ``device_id=None`` leaves the choice to MindSpore (device 0, or the local rank under ``msrun``).
    """
    if device_target == "CPU":
        # Host-blocking execution makes each small step several times faster on CPU (see README);
        # an explicit MS_DEV_HOST_BLOCKING_RUN in the environment wins.
        os.environ.setdefault("MS_DEV_HOST_BLOCKING_RUN", "1")
    try:
        if device_id is None or device_target == "CPU":
            ms.set_device(device_target)
        else:
            ms.set_device(device_target, device_id)
    except RuntimeError:
        # MindSpore fixes the device once kernels have run in this process (a second run in the same
        # process, e.g. from a notebook or a test): that is fine as long as it is the device asked for.
        if ms.get_context("device_target") != device_target:
            raise
    ms.set_context(mode=ms.GRAPH_MODE if mode == "GRAPH" else ms.PYNATIVE_MODE)


def prepare_experiment(config, seed, cache_dir):
    """Exact solution, training points and initial weights shared by every optimizer of a comparison.

    Weights and points come from their own seeded NumPy generators (``seed`` and ``seed + 1``), so every
    optimizer starts from exactly the same network and sees exactly the same points.

    Args:
        config (dict): Resolved configuration.
        seed (int): Experiment seed.
        cache_dir (str): Folder of the cached exact solution.

    Returns:
        tuple ``(grid, points, init_net, init_params)``: :class:`EvaluationGrid`, :class:`CollocationPoints`,
        the initialised network and its parameters as ``{name: ndarray}``.
    """
    ms.set_seed(seed)
    grid = evaluation_grid(cache_dir, int(config["reference"]["nx"]), int(config["reference"]["nt"]))
    points = sample_collocation_points(config["data"], config["geometry"], seed + 1)
    net = build_model(config["model"])
    glorot_initialize(net, seed)
    return grid, points, net, parameters_to_numpy(net)


def predict(net, grid):
    """Network prediction on the evaluation grid, shaped like ``grid.u_exact``."""
    return net(ms.Tensor(grid.points)).asnumpy().reshape(grid.u_exact.shape)


def _finite_or_none(value):
    """JSON-safe float: non-finite values become ``None``."""
    value = float(value)
    return value if math.isfinite(value) else None


class _History:
    """Evaluation records of one run, kept as parallel lists for JSON and plotting."""

    def __init__(self):
        self.records = {key: [] for key in ("step", "wall_time_s", "train_time_s", "rel_l2_error", "loss_total",
                                            "loss_pde", "loss_ic", "loss_bc")}

    def add(self, step, wall_time, train_time, error, terms, weights):
        """Append one evaluation (``train_time``: seconds spent in steps so far, evaluations left out)."""
        pde, ic, bc = terms
        total = weights[0] * pde + weights[1] * ic + weights[2] * bc
        for key, value in zip(self.records, (step, wall_time, train_time, error, total, pde, ic, bc)):
            self.records[key].append(value if key == "step" else _finite_or_none(value))

    def last(self, key):
        """Most recent value of ``key``."""
        return self.records[key][-1]


def run_optimizer(name, config, init_params, points, grid, mode_is_graph, seed, checkpoint_dir=None,
                  steps=None, progress=True, train_points=None, group_size=1):
    """Train a freshly built network from ``init_params`` with one optimizer and evaluate it.

    Args:
        name (str): ``adam`` or ``adahessian``.
        config (dict): Resolved configuration (``model``, ``pde``, ``loss``, ``train``, ``optimizers``...).
        init_params (dict): Initial parameters ``{name: ndarray}``, identical for every optimizer.
        points (CollocationPoints): Training points, identical for every optimizer.
        grid (EvaluationGrid): Exact solution on the evaluation grid.
        mode_is_graph (bool): Whether MindSpore runs in GRAPH mode.
        seed (int): Global seed, reset before the run so both optimizers see the same random stream.
        checkpoint_dir (str): Folder for ``burgers_<name>.ckpt``; ``None`` saves nothing.
        steps (int): Overrides ``config['train']['steps']``.
        progress (bool): Show a tqdm progress bar.
        train_points (CollocationPoints): The points this process trains on, ``points`` when ``None``. In
            data-parallel training it is this rank's share; the losses reported are always over ``points``.
        group_size (int): Data-parallel ranks (1 for one process).

    Returns:
        tuple ``(metrics, u_pred)``: a JSON-ready dict and the final prediction on the grid.
    """
    train_cfg = config["train"]
    steps = int(steps if steps is not None else train_cfg["steps"])
    eval_interval = max(int(train_cfg.get("eval_interval", 100)), 1)
    lbfgs_iterations = int(train_cfg.get("lbfgs_iterations", 0))
    resample = bool(config["data"].get("resample", False))
    target = float(config.get("target_rel_l2", 0.0))
    weights = tuple(float(w) for w in config.get("loss", {}).get("weights", (1.0, 1.0, 1.0)))
    if group_size > 1 and (resample or lbfgs_iterations):
        raise ValueError("data.resample and train.lbfgs_iterations work in one process only, but the run is "
                         f"data parallel over {group_size} ranks")

    ms.set_seed(seed)
    net = build_model(config["model"])
    load_numpy_parameters(net, init_params)
    loss_cell = BurgersPINNLoss(net, config["pde"]["viscosity"], weights)
    terms_cell = BurgersLossTerms(net, config["pde"]["viscosity"])
    optimizer = build_optimizer(name, net.trainable_params(), config["optimizers"][name], steps, seed)
    own_points = points if train_points is None else train_points
    fraction = config["optimizers"][name].get("hessian_fraction", 1.0)
    subset = None
    if name == "adahessian" and check_fraction(fraction) < 1:
        if resample:
            raise ValueError("hessian_fraction < 1 takes its share of fixed points; it cannot be combined "
                             "with data.resample")
        subset = HessianSubset((own_points.pde_points, own_points.ic_points, own_points.ic_values,
                                own_points.bc_points), fraction, seed)
    step_fn = make_train_step(name, loss_cell, optimizer, mode_is_graph, group_size, subset)
    inputs = points.as_tensors()
    train_inputs = own_points.as_tensors()
    # Fresh points at every step come from their own generator, so both optimizers see the same sequence.
    point_stream = np.random.default_rng(seed + 2) if resample else None
    # The optimizer's own mean all-reduce over the data-parallel ranks (None in one process).
    rank_mean = import_mindflow().cell.optimizers.distributed.RankMean() if group_size > 1 else None

    history = _History()
    train_loss = []
    step_times = []
    diverged = False
    start = time.perf_counter()

    def evaluate(step):
        terms = [float(v.asnumpy()) for v in terms_cell(*inputs)]
        u_pred = predict(net, grid)
        error = grid.relative_l2_error(u_pred) if np.all(np.isfinite(u_pred)) else float("nan")
        history.add(step, time.perf_counter() - start, float(sum(step_times)), error, terms, weights)
        return u_pred

    u_pred = evaluate(0)
    progress_bar = tqdm(range(1, steps + 1), desc=name, disable=not progress, dynamic_ncols=True, mininterval=0.5)
    step = 0
    for step in progress_bar:
        tic = time.perf_counter()
        if point_stream is not None:
            train_inputs = sample_collocation_points(config["data"], config["geometry"], point_stream).as_tensors()
        # In data-parallel training the mean of the ranks' losses is the full-batch loss, the same on every
        # rank, so every rank takes the same decisions below.
        loss = step_fn(*train_inputs)
        if rank_mean is not None:
            loss = rank_mean((loss,))[0]
        loss = float(loss.asnumpy())
        step_times.append(time.perf_counter() - tic)
        train_loss.append(_finite_or_none(loss))
        if not math.isfinite(loss):
            diverged = True
            break
        if step % eval_interval == 0 or step == steps:
            u_pred = evaluate(step)
        error = history.last("rel_l2_error")
        progress_bar.set_postfix(loss=f"{loss:.3e}", err=f"{error:.3e}" if error is not None else "nan", refresh=False)
    progress_bar.close()
    if diverged:
        u_pred = evaluate(step)
    first_order_steps = len(step_times)
    first_order_time = float(sum(step_times))
    lbfgs = None
    if lbfgs_iterations and not diverged:
        lbfgs, u_pred = _finish_with_lbfgs(loss_cell, net, inputs, lbfgs_iterations, eval_interval, step_times,
                                           evaluate, f"{name}+L-BFGS", progress)
    wall_time = time.perf_counter() - start

    if checkpoint_dir:
        os.makedirs(checkpoint_dir, exist_ok=True)
        save_network(net, os.path.join(checkpoint_dir, f"burgers_{name}.ckpt"))

    divergence = rank_divergence(net.trainable_params(), rank_mean) if rank_mean is not None else None
    errors = history.records["rel_l2_error"]
    reached = [s for s, e in zip(history.records["step"], errors) if e is not None and e <= target]
    finite_errors = [e for e in errors if e is not None]
    metrics = {
        "steps": first_order_steps,
        "planned_steps": steps,
        "diverged": diverged,
        "settings": dict(config["optimizers"][name]),
        "final_rel_l2_error": history.last("rel_l2_error"),
        "best_rel_l2_error": min(finite_errors) if finite_errors else None,
        "final_loss": {key: history.last(f"loss_{key}") for key in ("total", "pde", "ic", "bc")},
        "target_rel_l2": target,
        "steps_to_target": reached[0] if reached else None,
        "wall_time_s": wall_time,
        "train_time_s": float(sum(step_times)),
        "first_step_s": step_times[0] if step_times else None,
        # The first step includes graph compilation, so it is left out of the per-step cost.
        "seconds_per_step": (float(np.mean(step_times[1:first_order_steps])) if first_order_steps > 1 else None),
        "first_order_time_s": first_order_time,
        "lbfgs": lbfgs,
        "rank_divergence": divergence,
        "history": dict(history.records),
        "train_loss": train_loss,
    }
    return metrics, u_pred


def _finish_with_lbfgs(loss_cell, net, inputs, iterations, eval_interval, step_times, evaluate, desc, progress):
    """L-BFGS after the first-order steps; its evaluations continue the step count of the history.

    The time of each iteration is appended to ``step_times``, so the history's train time covers both phases.
    Returns ``(summary, u_pred)``.
    """
    first = len(step_times)
    progress_bar = tqdm(total=iterations, desc=desc, disable=not progress, dynamic_ncols=True, mininterval=0.5)
    state = {"tic": time.perf_counter(), "u_pred": None, "done": 0}

    def after_iteration(iteration):
        step_times.append(time.perf_counter() - state["tic"])
        state["done"] = iteration
        if iteration % eval_interval == 0:
            state["u_pred"] = evaluate(first + iteration)
        progress_bar.update(1)
        state["tic"] = time.perf_counter()

    summary = lbfgs_finish(loss_cell, net.trainable_params(), inputs, iterations, callback=after_iteration)
    # What SciPy does after the last callback (its last evaluations, the write of the result) is training time too.
    step_times.append(time.perf_counter() - state["tic"])
    progress_bar.close()
    u_pred = evaluate(first + state["done"]) if state["done"] % eval_interval or state["u_pred"] is None \
        else state["u_pred"]
    summary["time_s"] = float(sum(step_times[first:]))
    return summary, u_pred


def compare_runs(results):
    """Head-to-head numbers of ``{optimizer: metrics}`` when both optimizers ran (``None`` otherwise)."""
    if set(results) != {"adam", "adahessian"}:
        return None
    adam, ada = results["adam"], results["adahessian"]
    summary = {"final_error_ratio_adam_over_adahessian": None, "steps_to_target": {
        "adam": adam["steps_to_target"], "adahessian": ada["steps_to_target"]}}
    if adam["final_rel_l2_error"] and ada["final_rel_l2_error"]:
        summary["final_error_ratio_adam_over_adahessian"] = adam["final_rel_l2_error"] / ada["final_rel_l2_error"]
        summary["adahessian_lower_final_error"] = ada["final_rel_l2_error"] < adam["final_rel_l2_error"]
    if ada["steps_to_target"] is not None:
        adam_steps = adam["steps_to_target"]
        summary["adahessian_within_third_of_adam_steps"] = (adam_steps is None
                                                             or 3 * ada["steps_to_target"] <= adam_steps)
    # The target may be out of reach in a short run; the other optimizer's final error is always a reachable bar.
    summary["steps_to_reach_final_error_of_other"] = {
        "adahessian": first_step_at_or_below(ada["history"], adam["final_rel_l2_error"]),
        "adam": first_step_at_or_below(adam["history"], ada["final_rel_l2_error"]),
    }
    return summary


def first_step_at_or_below(history, error):
    """First evaluated step whose relative L2 error is at most ``error`` (``None`` if none, or no bar)."""
    if error is None:
        return None
    for step, value in zip(history["step"], history["rel_l2_error"]):
        if value is not None and value <= error:
            return step
    return None
