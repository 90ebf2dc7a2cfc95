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
"""PNG figures of the Burgers comparison: training curves, solution and error maps, time slices."""
import os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position

LABELS = {"adam": "Adam", "adahessian": "AdaHessian"}
COLORS = {"adam": "tab:blue", "adahessian": "tab:red"}
COLOR_MAPS = {"adam": "Blues", "adahessian": "Reds"}
SETTING_NAMES = {"learning_rate": "lr", "lr_schedule": "schedule", "hessian_fraction": "Hessian share"}
SLICE_TIMES = (0.25, 0.5, 0.75)


def _label(name):
    return LABELS.get(name, name)


def _save(fig, path, dpi):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_training_curves(metrics, path, target=None, dpi=120):
    """Loss and relative L2 error of every optimizer against step and against training time, on log axes.

    Training time is the time spent in steps (compilation included, evaluations left out), the yardstick at
    which optimizers are compared; metrics written before it was recorded fall back to wall time.

    Args:
        metrics (dict): ``{optimizer: run metrics}`` as written to ``metrics.json``.
        path (str): Output PNG.
        target (float): Error level drawn as a dashed line, e.g. upstream's 4.3e-3.
        dpi (int): Resolution.

    Returns:
        str, the path written.
    """
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for name, run in metrics.items():
        hist = run["history"]
        color = COLORS.get(name)
        loss = np.array([np.nan if v is None else v for v in run["train_loss"]], dtype=float)
        axes[0].plot(np.arange(1, len(loss) + 1), loss, color=color, lw=1.0, label=_label(name))
        errors = [np.nan if v is None else v for v in hist["rel_l2_error"]]
        axes[1].plot(hist["step"], errors, "o-", ms=3, color=color, label=_label(name))
        times = hist.get("train_time_s", hist["wall_time_s"])
        axes[2].plot(times, errors, "o-", ms=3, color=color, label=_label(name))
    axes[0].set(title="PINN training loss", xlabel="step", ylabel="loss",
                yscale="log")
    axes[1].set(title="Relative L2 error vs. step", xlabel="step", ylabel="relative L2 error", yscale="log")
    axes[2].set(title="Relative L2 error vs. training time", xlabel="seconds", ylabel="relative L2 error",
                yscale="log")
    for axis in axes[1:]:
        if target:
            axis.axhline(target, color="gray", ls="--", lw=1, label=f"target {target:g}")
    for axis in axes:
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path, dpi)


def _run_labels(runs):
    """Short labels: optimizer, plus each setting (or seed) whose value differs between runs of that optimizer."""
    labels = []
    for run in runs:
        peers = [r for r in runs if r["optimizer"] == run["optimizer"]]
        keys = sorted({key for r in peers for key in r["settings"]
                       if len({repr(p["settings"].get(key)) for p in peers}) > 1})
        # a setting a run did not record had its default value
        parts = [f"{SETTING_NAMES.get(key, key)} {run['settings'].get(key, 'default')}" for key in keys]
        if len({p["seed"] for p in peers}) > 1:
            parts.append(f"seed {run['seed']}")
        labels.append(_label(run["optimizer"]) + (f" ({', '.join(parts)})" if parts else ""))
    return labels


def plot_sweep_errors(reports, path, target=None, dpi=120):
    """Relative L2 error against step of every run in one or more sweep reports.

    Args:
        reports (list[dict]): Sweep reports (``{"seed", "runs": [...]}``, benchmarks/burgers/results/); runs of several
            seeds and settings may be mixed. Each optimizer has its own colour family (one shade per setting)
            and each seed its own line style; the legend names what differs between runs.
        path (str): Output PNG.
        target (float): Error level drawn as a dashed line.
        dpi (int): Resolution.

    Returns:
        str, the path written.

    Raises:
        ValueError: If the reports hold no run with an error history.
    """
    runs = [dict(run, seed=report.get("seed")) for report in reports for run in report.get("runs", [])
            if run.get("history", {}).get("rel_l2_error")]
    if not runs:
        raise ValueError("the sweep reports hold no run with an error history")
    # One colour family per optimizer, one shade per distinct setting, one line style per seed.
    seeds = sorted({run["seed"] for run in runs}, key=repr)
    styles = ("-", "--", ":", "-.")
    settings = {}
    for run in runs:
        family = settings.setdefault(run["optimizer"], [])
        if run["settings"] not in family:
            family.append(run["settings"])
    fig, axis = plt.subplots(figsize=(7.5, 4.6))
    for run, label in zip(runs, _run_labels(runs)):
        family = settings[run["optimizer"]]
        shade = family.index(run["settings"])
        color = COLORS.get(run["optimizer"])
        if len(family) > 1:
            color = plt.get_cmap(COLOR_MAPS.get(run["optimizer"], "Greys"))(0.45 + 0.5 * shade / (len(family) - 1))
        errors = [np.nan if v is None else v for v in run["history"]["rel_l2_error"]]
        axis.plot(run["history"]["step"], errors, styles[seeds.index(run["seed"]) % len(styles)], lw=1.4,
                  color=color, label=label)
    if target:
        axis.axhline(target, color="gray", ls="--", lw=1, label=f"target {target:g}")
    axis.set(title="Relative L2 error vs. step", xlabel="step", ylabel="relative L2 error", yscale="log")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path, dpi)


def plot_solution_maps(x, t, u_exact, predictions, path, dpi=120):
    """Exact solution and each prediction as u(t, x) colour maps on one shared colour scale."""
    panels = [("Exact", u_exact)] + [(_label(name), u) for name, u in predictions.items()]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.8), squeeze=False)
    extent = (t[0], t[-1], x[0], x[-1])
    for axis, (title, u) in zip(axes[0], panels):
        image = axis.imshow(np.asarray(u).T, origin="lower", aspect="auto", extent=extent, cmap="RdBu_r",
                            vmin=-1.0, vmax=1.0)
        axis.set(title=f"{title} u(x, t)", xlabel="t", ylabel="x")
        fig.colorbar(image, ax=axis, fraction=0.046)
    fig.tight_layout()
    return _save(fig, path, dpi)


def plot_error_maps(x, t, u_exact, predictions, path, dpi=120):
    """Absolute error |u_pred - u_exact| of each prediction, on a shared logarithmic colour scale."""
    errors = {name: np.abs(np.asarray(u) - u_exact) for name, u in predictions.items()}
    vmax = max(float(np.nanmax(e)) for e in errors.values())
    vmin = max(vmax * 1e-4, 1e-7)
    norm = matplotlib.colors.LogNorm(vmin=vmin, vmax=max(vmax, vmin * 10))
    fig, axes = plt.subplots(1, len(errors), figsize=(5.0 * len(errors), 3.8), squeeze=False)
    extent = (t[0], t[-1], x[0], x[-1])
    for axis, (name, err) in zip(axes[0], errors.items()):
        image = axis.imshow(np.clip(err, vmin, None).T, origin="lower", aspect="auto", extent=extent,
                            cmap="magma", norm=norm)
        axis.set(title=f"{_label(name)} |u - u_exact| (max {np.nanmax(err):.2e})", xlabel="t", ylabel="x")
        fig.colorbar(image, ax=axis, fraction=0.046)
    fig.tight_layout()
    return _save(fig, path, dpi)


def plot_time_slices(x, t, u_exact, predictions, path, times=SLICE_TIMES, dpi=120):
    """u(x) at fixed times: exact solution against every prediction."""
    fig, axes = plt.subplots(1, len(times), figsize=(4.6 * len(times), 3.6), squeeze=False)
    for axis, time_value in zip(axes[0], times):
        index = int(np.argmin(np.abs(t - time_value)))
        axis.plot(x, u_exact[index], "k-", lw=2.5, alpha=0.6, label="Exact")
        for name, u in predictions.items():
            axis.plot(x, np.asarray(u)[index], "--", lw=1.5, color=COLORS.get(name), label=_label(name))
        axis.set(title=f"t = {t[index]:.2f}", xlabel="x", ylabel="u", ylim=(-1.15, 1.15))
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path, dpi)


def plot_all(output_dir, x, t, u_exact, predictions, metrics=None, target=None, dpi=120):
    """Write every figure into ``output_dir`` and return their paths."""
    paths = []
    if metrics:
        paths.append(plot_training_curves(metrics, os.path.join(output_dir, "loss_error_curves.png"), target, dpi))
    paths.append(plot_solution_maps(x, t, u_exact, predictions, os.path.join(output_dir, "solution_maps.png"), dpi))
    paths.append(plot_error_maps(x, t, u_exact, predictions, os.path.join(output_dir, "error_maps.png"), dpi))
    paths.append(plot_time_slices(x, t, u_exact, predictions, os.path.join(output_dir, "time_slices.png"),
                                  dpi=dpi))
    return paths
