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
"""Train the Burgers PINN with Adam and/or AdaHessian from identical starting points and compare them.

Example::

    python train.py --optimizer both                  # CPU default profile, outputs in ./outputs
    python train.py --optimizer adahessian --profile full --device_target GPU
    msrun --worker_num=2 --local_worker_num=2 --master_addr=127.0.0.1 --join=True --log_dir=logs \
        train.py --data_parallel                      # data parallel: the points split over 2 processes

Writes ``metrics.json``, ``predictions.npz``, checkpoints and PNG plots into ``--output_dir``. In data-parallel
training rank 0 writes them; every other rank writes only its checkpoints, into ``<output_dir>/rank_<r>``.
"""
import argparse
import json
import os
import platform
import time

import numpy as np
import mindspore as ms

from src.config import apply_override, load_config, resolve_path, selected_optimizers
from src.data_parallel import init_data_parallel, shard_points
from src.model import save_network
from src.plotting import plot_all
from src.trainer import compare_runs, prepare_experiment, run_optimizer, set_up_context

APP_DIR = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description="Burgers PINN: Adam vs. AdaHessian")
    parser.add_argument("--optimizer", default="both", choices=["adam", "adahessian", "both"])
    parser.add_argument("--config_file_path", default=os.path.join(APP_DIR, "configs", "burgers.yaml"))
    parser.add_argument("--profile", default=None, help="profile of the config file (default: its default_profile)")
    parser.add_argument("--mode", default="GRAPH", choices=["GRAPH", "PYNATIVE"])
    parser.add_argument("--device_target", default="CPU", choices=["CPU", "GPU", "Ascend"])
    parser.add_argument("--device_id", type=int, default=None,
                        help="device to use (default: 0, or the local rank under msrun)")
    parser.add_argument("--data_parallel", action="store_true",
                        help="train data parallel over the processes msrun starts, the points split between them")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config entry, e.g. optimizers.adahessian.learning_rate=0.3 (repeatable)")
    parser.add_argument("--steps", type=int, default=None, help="steps per optimizer (default: from the profile)")
    parser.add_argument("--eval_interval", type=int, default=None, help="steps between evaluations")
    parser.add_argument("--seed", type=int, default=None, help="seed of weights, points and probes")
    parser.add_argument("--output_dir", default="./outputs")
    parser.add_argument("--reference_cache_dir", default=None,
                        help="folder of the cached exact solution (default: from the config)")
    parser.add_argument("--no_plots", action="store_true", help="skip the PNG figures")
    parser.add_argument("--no_progress", action="store_true", help="hide the progress bars")
    return parser.parse_args(argv)


def main(argv=None):
    """Run the comparison and write every artefact; returns the report (``None`` on ranks other than 0)."""
    args = parse_args(argv)
    set_up_context(args.mode, args.device_target, args.device_id)
    group_size, rank = init_data_parallel() if args.data_parallel else (1, 0)
    config = load_config(args.config_file_path, args.profile)
    for assignment in args.overrides:
        apply_override(config, assignment)
    if args.steps is not None:
        config["train"]["steps"] = args.steps
    if args.eval_interval is not None:
        config["train"]["eval_interval"] = args.eval_interval
    seed = int(args.seed if args.seed is not None else config["train"].get("seed", 0))
    config["train"]["seed"] = seed
    output_dir = os.path.abspath(args.output_dir)
    lead = rank == 0
    rank_dir = output_dir if lead else os.path.join(output_dir, f"rank_{rank}")
    os.makedirs(rank_dir, exist_ok=True)

    # The reference cache is written atomically, so ranks that compute it side by side do not collide.
    cache_dir = args.reference_cache_dir or resolve_path(config["reference"]["cache_dir"], APP_DIR)
    grid, points, net, init_params = prepare_experiment(config, seed, cache_dir)
    # Every rank drew the same points from the same seed; each trains on its own share.
    train_points = shard_points(points, group_size, rank) if group_size > 1 else None
    checkpoint_dir = os.path.join(rank_dir, "checkpoints")
    os.makedirs(checkpoint_dir, exist_ok=True)
    save_network(net, os.path.join(checkpoint_dir, "burgers_init.ckpt"))

    results, predictions = {}, {}
    for name in selected_optimizers(args.optimizer):
        results[name], predictions[name] = run_optimizer(
            name, config, init_params, points, grid, args.mode == "GRAPH", seed,
            checkpoint_dir=checkpoint_dir, progress=lead and not args.no_progress,
            train_points=train_points, group_size=group_size)
        run = results[name]
        if not lead:
            continue
        finish = (f" + L-BFGS {run['lbfgs']['iterations']} iterations ({run['lbfgs']['time_s']:.1f}s)"
                  if run["lbfgs"] else "")
        print(f"[{name}] steps={run['steps']}{finish} rel_l2={run['final_rel_l2_error']} "
              f"loss={run['final_loss']['total']} wall={run['wall_time_s']:.1f}s "
              f"s/step={run['seconds_per_step']}", flush=True)
    if not lead:
        return None

    report = {
        "profile": config["profile"],
        "mode": args.mode,
        "device_target": args.device_target,
        "seed": seed,
        "overrides": args.overrides,
        "ms_dev_host_blocking_run": os.environ.get("MS_DEV_HOST_BLOCKING_RUN"),
        "mindspore_version": ms.__version__,
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "points": points.sizes(),
        "data_parallel": ({"group_size": group_size, "points_per_rank": train_points.sizes()}
                          if group_size > 1 else None),
        "config": config,
        "optimizers": results,
        "comparison": compare_runs(results),
    }
    with open(os.path.join(output_dir, "metrics.json"), "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1)
    arrays = {f"u_pred_{name}": u.astype(np.float32) for name, u in predictions.items()}
    np.savez(os.path.join(output_dir, "predictions.npz"), x=grid.x, t=grid.t, u_exact=grid.u_exact, **arrays)
    if not args.no_plots:
        plot_all(output_dir, grid.x, grid.t, grid.u_exact, predictions, results, config.get("target_rel_l2"))
    print_comparison(report["comparison"], results)
    print(f"outputs written to {output_dir}", flush=True)
    return report


def print_comparison(comparison, results):
    """One line on who ended lower, and when each first reached the other's final error."""
    if not comparison or comparison.get("final_error_ratio_adam_over_adahessian") is None:
        return
    reach = comparison["steps_to_reach_final_error_of_other"]

    def when(name):
        return f"at step {reach[name]}" if reach[name] is not None else "never"

    adam, ada = results["adam"]["final_rel_l2_error"], results["adahessian"]["final_rel_l2_error"]
    print(f"final relative L2 error: AdaHessian {ada:.4g}, Adam {adam:.4g} "
          f"(Adam / AdaHessian = {comparison['final_error_ratio_adam_over_adahessian']:.3g}); "
          f"AdaHessian reached Adam's final error {when('adahessian')}, "
          f"Adam reached AdaHessian's {when('adam')}", flush=True)


if __name__ == "__main__":
    main()
