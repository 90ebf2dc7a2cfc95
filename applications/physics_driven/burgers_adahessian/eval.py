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
"""Evaluate a trained Burgers PINN checkpoint against the exact solution.

Example::

    python eval.py --checkpoint_path outputs/checkpoints/burgers_adahessian.ckpt --plot

Prints the relative L2 error on the 256 x 101 grid and the loss terms on the profile's training points;
``--plot`` writes solution, error and slice figures into ``--output_dir``.
"""
import argparse
import json
import os

import numpy as np
import mindspore as ms

from src.config import load_config, resolve_path
from src.dataset import evaluation_grid, sample_collocation_points
from src.losses import BurgersLossTerms
from src.model import build_model
from src.plotting import plot_error_maps, plot_solution_maps, plot_time_slices
from src.trainer import predict, set_up_context

APP_DIR = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description="Evaluate a Burgers PINN checkpoint")
    parser.add_argument("--checkpoint_path", required=True)
    parser.add_argument("--config_file_path", default=os.path.join(APP_DIR, "configs", "burgers.yaml"))
    parser.add_argument("--profile", default=None, help="profile whose network shape the checkpoint has")
    parser.add_argument("--mode", default="GRAPH", choices=["GRAPH", "PYNATIVE"])
    parser.add_argument("--device_target", default="CPU", choices=["CPU", "GPU", "Ascend"])
    parser.add_argument("--device_id", type=int, default=0)
    parser.add_argument("--seed", type=int, default=None, help="seed of the training points the losses use")
    parser.add_argument("--output_dir", default="./outputs/eval")
    parser.add_argument("--reference_cache_dir", default=None)
    parser.add_argument("--label", default=None, help="name of the prediction in plots (default: file name)")
    parser.add_argument("--plot", action="store_true", help="write PNG figures")
    return parser.parse_args(argv)


def main(argv=None):
    """Load the checkpoint, evaluate it, and write ``eval_metrics.json`` (and plots)."""
    args = parse_args(argv)
    set_up_context(args.mode, args.device_target, args.device_id)
    config = load_config(args.config_file_path, args.profile)
    seed = int(args.seed if args.seed is not None else config["train"].get("seed", 0))

    net = build_model(config["model"])
    not_loaded, _ = ms.load_param_into_net(net, ms.load_checkpoint(args.checkpoint_path), strict_load=True)
    if not_loaded:
        raise ValueError(f"checkpoint {args.checkpoint_path} lacks parameters {not_loaded}; check --profile")
    cache_dir = args.reference_cache_dir or resolve_path(config["reference"]["cache_dir"], APP_DIR)
    grid = evaluation_grid(cache_dir, int(config["reference"]["nx"]), int(config["reference"]["nt"]))
    u_pred = predict(net, grid)
    error = grid.relative_l2_error(u_pred)

    # The same generator and seed as train.py, so these are the losses on the training points.
    points = sample_collocation_points(config["data"], config["geometry"], seed + 1)
    terms = BurgersLossTerms(net, config["pde"]["viscosity"])(*points.as_tensors())
    losses = dict(zip(("pde", "ic", "bc"), (float(v.asnumpy()) for v in terms)))
    label = args.label or os.path.splitext(os.path.basename(args.checkpoint_path))[0]
    result = {"checkpoint": os.path.abspath(args.checkpoint_path), "profile": config["profile"],
              "rel_l2_error": error, "max_abs_error": float(np.max(np.abs(u_pred - grid.u_exact))),
              "loss_terms": losses}
    print(json.dumps(result, indent=1))

    os.makedirs(args.output_dir, exist_ok=True)
    with open(os.path.join(args.output_dir, "eval_metrics.json"), "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
    if args.plot:
        predictions = {label: u_pred}
        plot_solution_maps(grid.x, grid.t, grid.u_exact, predictions,
                           os.path.join(args.output_dir, f"{label}_solution.png"))
        plot_error_maps(grid.x, grid.t, grid.u_exact, predictions, os.path.join(args.output_dir, f"{label}_error.png"))
        plot_time_slices(grid.x, grid.t, grid.u_exact, predictions,
                         os.path.join(args.output_dir, f"{label}_slices.png"))
    return result


if __name__ == "__main__":
    main()
