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
"""Burgers recipes over several seeds, judged at equal training time: run them, then tabulate and plot them.

A recipe (``recipes.yaml``) is an optimizer of the application's ``train.py`` with ``--set`` overrides. ``run``
trains every missing (recipe, seed) pair, each ``train.py`` pinned to its own CPU core, and keeps a compact JSON
per pair. ``report HYPOTHESIS`` prints per recipe the median and worst seed of the error at equal time (the last
evaluation within the reference recipe's median training time), at equal steps and at the end, and draws every
seed's error against steps and time. From this folder::

    python equal_time.py run adam ah ah_fd --seeds 0,1,2
    python equal_time.py report cost --seeds 0,1,2
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from queue import Queue

import numpy as np
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
APP_DIR = os.path.abspath(os.path.join(HERE, os.pardir, os.pardir, "applications", "physics_driven",
                                       "burgers_adahessian"))
RECIPES = os.path.join(HERE, "recipes.yaml")
RESULTS = os.path.join(HERE, "results", "equal_time")
KEPT = ("step", "train_time_s", "rel_l2_error", "loss_total")


def load_recipes(path=RECIPES):
    """The ``recipes`` and ``hypotheses`` of the YAML file, and the name of the reference recipe."""
    with open(path, "r", encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return data["recipes"], data["hypotheses"], data["reference"]


def result_path(results, recipe, seed):
    """Where the compact result of one (recipe, seed) pair lives."""
    return os.path.join(results, recipe, f"seed{seed}.json")


def train_command(recipe, seed, output_dir):
    """The ``train.py`` command line of one pair."""
    return [sys.executable, "train.py", "--optimizer", recipe["optimizer"], "--seed", str(seed), "--output_dir",
            output_dir, "--no_plots", "--no_progress"] + [a for o in recipe.get("overrides", []) for a in ("--set", o)]


def run_pair(name, recipe, seed, core, results):
    """Train one pair pinned to ``core`` and write its compact result; returns a one-line summary."""
    with tempfile.TemporaryDirectory() as output_dir:
        command = ["taskset", "-c", str(core)] + train_command(recipe, seed, output_dir)
        tic = time.time()
        done = subprocess.run(command, cwd=APP_DIR, capture_output=True, text=True, check=False)
        if done.returncode:
            return f"{name} seed {seed}: FAILED ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}"
        with open(os.path.join(output_dir, "metrics.json"), "r", encoding="utf-8") as handle:
            metrics = json.load(handle)
    record = metrics["optimizers"][recipe["optimizer"]]
    compact = {"recipe": name, "seed": seed, "optimizer": recipe["optimizer"], "overrides": recipe.get("overrides", []),
               "core": core, "load_average_after": os.getloadavg()[0], "process_wall_s": time.time() - tic,
               "model": metrics["config"]["model"], "history": {key: record["history"][key] for key in KEPT},
               **{key: metrics[key] for key in ("date", "mindspore_version", "points")},
               **{key: record.get(key) for key in ("settings", "steps", "diverged", "final_rel_l2_error",
                                                   "train_time_s", "first_step_s", "seconds_per_step", "lbfgs")}}
    path = result_path(results, name, seed)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(compact, handle)
    return (f"{name} seed {seed}: error {compact['final_rel_l2_error']:.4g} after {compact['steps']} steps, "
            f"{compact['train_time_s']:.0f} s of training")


def claim_pair(results, name, seed):
    """Mark a pair as taken (``seed<N>.running``, removed by hand after a killed run), so that several ``run``
    commands can share the work; ``None`` if it is taken."""
    path = result_path(results, name, seed)
    if os.path.exists(path):
        return None
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        os.close(os.open(path + ".running", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return None
    return path + ".running"


def run(names, seeds, cores, results):
    """Train every missing pair, one at a time on each of ``cores`` (CPU numbers)."""
    recipes, _, _ = load_recipes()
    unknown = [name for name in names if name not in recipes]
    if unknown:
        raise SystemExit(f"unknown recipes {unknown}; recipes.yaml has {sorted(recipes)}")
    pairs = [(name, seed) for name in names for seed in seeds if not os.path.exists(result_path(results, name, seed))]
    free = Queue()  # the cores not running a pair now
    list(map(free.put, cores))

    def work(pair):
        core = free.get()
        try:
            claim = claim_pair(results, *pair)
            if claim is None:
                return f"{pair[0]} seed {pair[1]}: done or running elsewhere, skipped"
            try:
                return run_pair(pair[0], recipes[pair[0]], pair[1], core, results)
            finally:
                os.remove(claim)
        finally:
            free.put(core)

    print(f"{len(pairs)} runs to do, on cores {cores}", flush=True)
    with ThreadPoolExecutor(max_workers=len(cores)) as pool:
        for number, line in enumerate(pool.map(work, pairs), start=1):
            print(f"[{number}/{len(pairs)}] {line}", flush=True)


def error_at(history, key, limit):
    """Error of the last evaluation with ``history[key] <= limit`` (the initial one if none)."""
    keep = [e for v, e in zip(history[key], history["rel_l2_error"]) if v <= limit and e is not None]
    return keep[-1] if keep else float("nan")


def load_results(names, seeds, results):
    """``{recipe: [result per seed]}`` of the pairs that exist."""
    found = {}
    for path, name in ((result_path(results, name, seed), name) for name in names for seed in seeds):
        if os.path.exists(path):
            with open(path, "r", encoding="utf-8") as handle:
                found.setdefault(name, []).append(json.load(handle))
    return found


def summarize(found, reference):
    """Budget (time and steps of the reference) and, per recipe, median and worst seed at each yardstick."""
    if reference not in found:
        raise SystemExit(f"no results of the reference recipe {reference!r} yet; run it first")
    budget_time = float(np.median([r["train_time_s"] for r in found[reference]]))
    # The last evaluated step: first-order steps plus any L-BFGS iterations.
    budget_steps = int(np.median([r["history"]["step"][-1] for r in found[reference]]))
    rows = {}
    for name, runs in found.items():
        at_time = [error_at(r["history"], "train_time_s", budget_time) for r in runs]
        # Runs that stop before the reference's step count have no error at equal steps.
        at_steps = [error_at(r["history"], "step", budget_steps) if r["history"]["step"][-1] >= budget_steps
                    else float("nan") for r in runs]
        final = [r["final_rel_l2_error"] if r["final_rel_l2_error"] is not None else float("nan") for r in runs]
        rows[name] = {
            "seeds": [r["seed"] for r in runs], "at_time": at_time, "at_steps": at_steps, "final": final,
            "steps_in_budget": [max(s for s, t in zip(r["history"]["step"], r["history"]["train_time_s"])
                                    if t <= budget_time) for r in runs],
            "seconds_per_step": float(np.median([r["seconds_per_step"] or np.nan for r in runs])),
            "train_time_s": float(np.median([r["train_time_s"] for r in runs])),
        }
    return {"budget_time_s": budget_time, "budget_steps": budget_steps, "rows": rows}


def print_table(title, summary, recipes):
    """Markdown table of the summary."""
    print(f"\n{title}\n\nbudget: {summary['budget_time_s']:.0f} s of training on one core "
          f"({summary['budget_steps']} steps of the reference)\n")
    print("| recipe | seeds | s/step | steps in budget | equal time: median (worst) | equal steps: median (worst) "
          "| end of run: median (worst), time |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    def cell(values):
        return "-" if np.all(np.isnan(values)) else f"{np.nanmedian(values):.3g} ({np.nanmax(values):.3g})"
    for name, row in summary["rows"].items():
        print(f"| `{name}`: {recipes[name].get('label', name)} | {len(row['seeds'])} | {row['seconds_per_step']:.3f} "
              f"| {int(np.median(row['steps_in_budget']))} | {cell(row['at_time'])} | {cell(row['at_steps'])} "
              f"| {cell(row['final'])}, {row['train_time_s']:.0f} s |")


def plot(found, summary, recipes, title, path):
    """Error of every seed against steps (left) and training time (right), one colour per recipe."""
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for index, (name, runs) in enumerate(found.items()):
        color = f"C{index % 10}"
        for number, result in enumerate(runs):
            history = result["history"]
            errors = [np.nan if e is None else e for e in history["rel_l2_error"]]
            label = recipes[name].get("label", name) if number == 0 else None
            axes[0].plot(history["step"], errors, color=color, lw=1, alpha=0.8, label=label)
            axes[1].plot(history["train_time_s"], errors, color=color, lw=1, alpha=0.8)
    axes[0].set_ylabel("relative L2 error")
    for axis, budget, xlabel in zip(axes, (summary["budget_steps"], summary["budget_time_s"]),
                                    ("step (L-BFGS iterations continue the count)", "training time on one core [s]")):
        axis.axvline(budget, color="grey", ls=":", lw=1)
        axis.set(xlabel=xlabel, yscale="log")
        axis.grid(True, which="both", alpha=0.3)
    fig.legend(loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle(f"{title} (one line per seed; dotted: the reference's budget)", fontsize=10)
    fig.tight_layout(rect=(0, 0.06 + 0.035 * ((len(found) + 1) // 2), 1, 1))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def report(hypothesis, seeds, results):
    """Table and figure of one hypothesis; returns the summary."""
    recipes, hypotheses, reference = load_recipes()
    if hypothesis not in hypotheses:
        raise SystemExit(f"unknown hypothesis {hypothesis!r}; recipes.yaml has {sorted(hypotheses)}")
    entry = hypotheses[hypothesis]
    names, reference = entry["recipes"], entry.get("reference", reference)
    found = load_results(names if reference in names else [reference] + names, seeds, results)
    summary = summarize(found, reference)
    print_table(entry["title"], summary, recipes)
    figure = plot(found, summary, recipes, entry["title"], os.path.join(HERE, "images", f"equal_time_{hypothesis}.png"))
    print(f"\nfigure: {os.path.relpath(figure, HERE)}")
    return summary


def main(argv=None):
    """Command line: ``run RECIPE...`` or ``report HYPOTHESIS``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["run", "report"])
    parser.add_argument("names", nargs="+", help="recipes to run, or one hypothesis to report")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default: 0,1,2)")
    parser.add_argument("--cores", default="0,1", help="CPU cores to pin the runs to, one run per core (default: 0,1)")
    parser.add_argument("--results", default=RESULTS, help="folder of the per-run results")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if args.action == "run":
        run(args.names, seeds, [int(c) for c in args.cores.split(",")], args.results)
    else:
        for name in args.names:
            report(name, seeds, args.results)


if __name__ == "__main__":
    main()
