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
"""Learning-rate sweep of Adam and AdaHessian on the Burgers PINN, with one selection rule for both.

Every run of the sweep uses the same network initialisation, the same collocation points, the same seed and
the same step budget; only the optimizer and its learning rate change. Each optimizer's learning rate is taken
from the same grid by the same rule (lowest final relative L2 error, ties broken by the lower final loss).
Results, including every run's error and loss history, go to a JSON file, so the README numbers can be
traced back to it.

It trains the application in ``applications/physics_driven/burgers_adahessian`` (its config, model and loss).
Example (from the repository root)::

    python benchmarks/burgers/compare.py --lr_grid 0.001,0.003,0.01,0.03,0.1,0.3 --output sweep_cpu.json
    python benchmarks/burgers/compare.py --set optimizers.adahessian.hessian_power=0.5 --optimizers adahessian
    python benchmarks/burgers/compare.py --merge outputs/sweeps/a.json outputs/sweeps/b.json --output merged.json
"""
import argparse
import json
import os
import sys
import time

# benchmarks/burgers -> the repository root is two levels up; the application's modules are imported from it.
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir))
APP_DIR = os.path.join(REPO_ROOT, "applications", "physics_driven", "burgers_adahessian")
if APP_DIR not in sys.path:
    sys.path.insert(0, APP_DIR)

# pylint: disable=wrong-import-position,import-error  # src is the application's, found through APP_DIR
from src.config import apply_override, load_config, resolve_path  # noqa: E402
from src.trainer import compare_runs, prepare_experiment, run_optimizer, set_up_context  # noqa: E402


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description="Learning-rate sweep: Adam vs. AdaHessian on Burgers")
    parser.add_argument("--config_file_path", default=os.path.join(APP_DIR, "configs", "burgers.yaml"))
    parser.add_argument("--profile", default=None)
    parser.add_argument("--optimizers", default="adam,adahessian", help="comma-separated optimizers to sweep")
    parser.add_argument("--lr_grid", default="0.001,0.003,0.01,0.03,0.1,0.3",
                        help="comma-separated learning rates, the same grid for every optimizer")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config entry, e.g. optimizers.adahessian.hessian_power=0.5 (repeatable)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--eval_interval", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--mode", default="GRAPH", choices=["GRAPH", "PYNATIVE"])
    parser.add_argument("--device_target", default="CPU", choices=["CPU", "GPU", "Ascend"])
    parser.add_argument("--device_id", type=int, default=0)
    parser.add_argument("--output", default="./outputs/sweep.json", help="JSON file of the results")
    parser.add_argument("--keep_history", action="store_true", help="also store every run's per-step loss")
    parser.add_argument("--merge", nargs="+", default=None, metavar="JSON",
                        help="instead of training, merge earlier sweep files of one experiment into --output")
    return parser.parse_args(argv)


def select(runs, name):
    """The run of optimizer ``name`` with the lowest final error (then lowest loss); diverged runs lose."""
    candidates = [r for r in runs if r["optimizer"] == name and r["final_rel_l2_error"] is not None]
    if not candidates:
        return None
    return min(candidates, key=lambda r: (r["final_rel_l2_error"], r["final_loss"]["total"] or float("inf")))


def finalize(report, names):
    """Add the selected learning rate of each optimizer, their comparison and a compact table to ``report``."""
    runs = report["runs"]
    selected = {name: select(runs, name) for name in names}
    report["selected"] = {name: (run["learning_rate"] if run else None) for name, run in selected.items()}
    report["comparison"] = compare_runs({name: run for name, run in selected.items() if run})
    report["summary"] = [{key: run[key] for key in ("optimizer", "learning_rate", "final_rel_l2_error",
                                                    "best_rel_l2_error", "steps_to_target", "seconds_per_step",
                                                    "wall_time_s", "diverged")}
                         | {"final_loss": run["final_loss"]["total"]} for run in runs]


def merge_reports(paths, output):
    """Combine the runs of several sweep files of the same experiment and apply the selection rule to all.

    Raises:
        ValueError: If the files differ in profile, seed, points, steps or network.
    """
    reports = []
    for path in paths:
        with open(path, "r", encoding="utf-8") as handle:
            reports.append(json.load(handle))

    def experiment(report):
        cfg = report["config"]
        return (report["profile"], report["seed"], json.dumps(report["points"]), cfg["train"]["steps"],
                json.dumps(cfg["model"], sort_keys=True))

    if len({experiment(r) for r in reports}) != 1:
        raise ValueError("the sweep files describe different experiments; refusing to merge")
    merged = dict(reports[0], sources=[os.path.abspath(p) for p in paths],
                  overrides=sorted({o for r in reports for o in r.get("overrides", [])}),
                  runs=[run for r in reports for run in r["runs"]])
    merged["lr_grid"] = sorted({run["learning_rate"] for run in merged["runs"]})
    finalize(merged, sorted({run["optimizer"] for run in merged["runs"]}))
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(merged, handle, indent=1)
    return merged


def main(argv=None):
    """Run the sweep (or merge earlier ones) and write the JSON report."""
    args = parse_args(argv)
    if args.merge:
        report = merge_reports(args.merge, args.output)
        print(json.dumps({"selected": report["selected"], "comparison": report["comparison"],
                          "summary": report["summary"]}, indent=1))
        return report
    set_up_context(args.mode, args.device_target, args.device_id)
    config = load_config(args.config_file_path, args.profile)
    for assignment in args.overrides:
        apply_override(config, assignment)
    if args.steps is not None:
        config["train"]["steps"] = args.steps
    if args.eval_interval is not None:
        config["train"]["eval_interval"] = args.eval_interval
    seed = int(args.seed if args.seed is not None else config["train"].get("seed", 0))
    config["train"]["seed"] = seed
    grid_values = [float(v) for v in args.lr_grid.split(",") if v.strip()]
    names = [n.strip() for n in args.optimizers.split(",") if n.strip()]

    cache_dir = resolve_path(config["reference"]["cache_dir"], APP_DIR)
    grid, points, _, init_params = prepare_experiment(config, seed, cache_dir)
    runs = []
    report = {"profile": config["profile"], "mode": args.mode, "device_target": args.device_target, "seed": seed,
              "ms_dev_host_blocking_run": os.environ.get("MS_DEV_HOST_BLOCKING_RUN"),
              "overrides": args.overrides, "lr_grid": grid_values,
              "rule": "lowest final relative L2 error on the 256x101 grid (ties: lowest final loss)",
              "points": points.sizes(), "config": config, "runs": runs}
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    for name in names:
        for lr in grid_values:
            run_config = json.loads(json.dumps(config))
            run_config["optimizers"][name]["learning_rate"] = lr
            tic = time.perf_counter()
            metrics, _ = run_optimizer(name, run_config, init_params, points, grid, args.mode == "GRAPH", seed,
                                       progress=False)
            if not args.keep_history:
                metrics.pop("train_loss")
            metrics.update(optimizer=name, learning_rate=lr)
            runs.append(metrics)
            print(f"{name:10s} lr={lr:<8g} rel_l2={metrics['final_rel_l2_error']} "
                  f"best={metrics['best_rel_l2_error']} loss={metrics['final_loss']['total']} "
                  f"s/step={metrics['seconds_per_step']} run={time.perf_counter() - tic:.0f}s", flush=True)
            # Rewrite after every run so a long sweep can be inspected (and survives interruption).
            with open(args.output, "w", encoding="utf-8") as handle:
                json.dump(report, handle, indent=1)

    finalize(report, names)
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1)
    print(json.dumps({"selected": report["selected"], "comparison": report["comparison"]}, indent=1))
    return report


if __name__ == "__main__":
    main()
