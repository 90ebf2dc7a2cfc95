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
"""Acoustic full-waveform inversion with Adam, AdaHessian and L-BFGS from the same start model.

Example::

    python train.py                                   # default profile, all three optimizers, outputs in ./outputs
    python train.py --profile smoke --optimizer adam  # seconds
    python train.py --optimizer adahessian --set optimizers.adahessian.learning_rate=0.05 --seed 1

Writes ``metrics.json`` (settings and, per optimizer, misfit and model error against time and gradient
evaluations), ``models.npz`` (true, start and inverted models) and the figures of eval.py into ``--output_dir``.
"""
import argparse
import json
import os
import platform
import time

import numpy as np
import mindspore as ms

from src.config import apply_override, load_config, selected_optimizers, validate_config
from src.inversion import run_optimizer
from src.plotting import plot_all
from src.problem import build_problem

APP_DIR = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description="Acoustic FWI: Adam vs. AdaHessian vs. L-BFGS")
    parser.add_argument("--optimizer", default="all", help="adam, adahessian, lbfgs, a comma-separated list or all")
    parser.add_argument("--config_file_path", default=os.path.join(APP_DIR, "configs", "fwi.yaml"))
    parser.add_argument("--profile", default=None, help="profile of the config file (default: its default_profile)")
    parser.add_argument("--device_target", default="CPU", choices=["CPU", "GPU", "Ascend"])
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config entry, e.g. optimizers.adam.learning_rate=0.01 (repeatable)")
    parser.add_argument("--iterations", type=int, default=None, help="iterations per optimizer")
    parser.add_argument("--seed", type=int, default=None, help="seed of the model, noise, smoothing and probes")
    parser.add_argument("--output_dir", default="./outputs")
    parser.add_argument("--no_plots", action="store_true", help="skip the PNG figures")
    parser.add_argument("--no_progress", action="store_true", help="hide the progress bars")
    return parser.parse_args(argv)


def set_up_context(device_target):
    """GRAPH mode (the solver's time loop is a compiled while loop) on ``device_target``."""
    if device_target == "CPU":
        # host-blocking execution is faster for the many small kernels of a time step on CPU
        os.environ.setdefault("MS_DEV_HOST_BLOCKING_RUN", "1")
    try:
        ms.set_device(device_target)
    except RuntimeError:
        # the device is fixed once kernels ran in this process (a second run from a test or a notebook)
        if ms.get_context("device_target") != device_target:
            raise
    ms.set_context(mode=ms.GRAPH_MODE)


def main(argv=None):
    """Run the inversions and write every artefact; returns the report."""
    args = parse_args(argv)
    config = load_config(args.config_file_path, args.profile)
    for assignment in args.overrides:
        apply_override(config, assignment)
    if args.iterations is not None:
        config["train"]["iterations"] = args.iterations
    seed = int(args.seed if args.seed is not None else config["train"].get("seed", 0))
    config["train"]["seed"] = seed
    validate_config(config)
    names = selected_optimizers(args.optimizer)
    set_up_context(args.device_target)
    output_dir = os.path.abspath(args.output_dir)
    os.makedirs(output_dir, exist_ok=True)

    tic = time.perf_counter()
    problem = build_problem(config, seed)
    setup_s = time.perf_counter() - tic
    print(f"model {problem.true.shape}, start RMS error {problem.model_error(problem.start):.4f} km/s, "
          f"smoothing length {problem.smoothing_length:.1f} m, records {problem.observed.shape} "
          f"(set-up {setup_s:.1f}s)", flush=True)
    results, finals = {}, {}
    for name in names:
        results[name], finals[name] = run_optimizer(name, config, problem, seed, progress=not args.no_progress)
        run = results[name]
        print(f"[{name}] misfit {run['start_misfit']:.4g} -> {run['final_misfit']:.4g}, model RMS error "
              f"{run['start_model_rmse']:.4f} -> {run['final_model_rmse']:.4f} km/s, "
              f"{run['gradient_evaluations']:.0f} gradients, {run['train_time_s']:.1f}s "
              f"(first step {run['first_step_s']:.1f}s)", flush=True)

    report = {
        "profile": config["profile"],
        "seed": seed,
        "overrides": args.overrides,
        "device_target": args.device_target,
        "mindspore_version": ms.__version__,
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "setup_s": setup_s,
        "smoothing_length_m": problem.smoothing_length,
        "config": config,
        "optimizers": results,
    }
    with open(os.path.join(output_dir, "metrics.json"), "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1)
    np.savez(os.path.join(output_dir, "models.npz"), true=problem.true.astype(np.float32), start=problem.start,
             **{f"inverted_{name}": model for name, model in finals.items()})
    if not args.no_plots:
        plot_all(output_dir, problem.true, problem.start, finals, results, float(config["grid"]["spacing"]))
    print(f"outputs written to {output_dir}", flush=True)
    return report


if __name__ == "__main__":
    main()
