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
"""Figures of an inversion: the true, start and inverted models, and misfit and model error against time."""
import os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=wrong-import-position

COLORS = {"adam": "tab:blue", "adahessian": "tab:red", "lbfgs": "tab:green"}


def plot_models(path, models, spacing):
    """One panel per model of ``models`` (``{title: array in km/s}``), on one colour scale."""
    titles = list(models)
    low = min(float(m.min()) for m in models.values())
    high = max(float(m.max()) for m in models.values())
    columns = 2 if len(titles) > 1 else 1
    rows = (len(titles) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(6 * columns, 2.8 * rows + 0.6), squeeze=False,
                             layout="constrained")
    image = None
    for axis, title in zip(axes.flat, titles):
        nz, nx = models[title].shape
        image = axis.imshow(models[title], extent=(0, nx * spacing, nz * spacing, 0), vmin=low, vmax=high,
                            cmap="viridis", aspect="auto")
        axis.set_title(title)
        axis.set_xlabel("x (m)")
        axis.set_ylabel("z (m)")
    for axis in list(axes.flat)[len(titles):]:
        axis.axis("off")
    fig.colorbar(image, ax=axes, label="velocity (km/s)")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_curves(path, results):
    """Misfit and model RMS error against training time and against gradient evaluations, per optimizer."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    for name, run in results.items():
        hist = run["history"]
        pairs = list(zip(hist["time_s"], hist["gradient_evaluations"], hist["misfit"], hist["model_rmse"]))
        for col, xkey in enumerate((0, 1)):
            xs = [p[xkey] for p in pairs if p[2] is not None]
            axes[0, col].semilogy(xs, [p[2] for p in pairs if p[2] is not None], label=name, color=COLORS.get(name))
            xs = [p[xkey] for p in pairs if p[3] is not None]
            axes[1, col].plot(xs, [p[3] for p in pairs if p[3] is not None], "o-", ms=3, label=name,
                              color=COLORS.get(name))
    for col, label in enumerate(("training time (s, compilation included)", "gradient evaluations")):
        axes[0, col].set_ylabel("misfit")
        axes[1, col].set_ylabel("model RMS error (km/s)")
        axes[1, col].set_xlabel(label)
        axes[0, col].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_all(output_dir, true, start, finals, results, spacing):
    """``models.png`` and ``curves.png`` in ``output_dir``; returns their paths."""
    models = {"true": true, "start": start}
    models.update({f"{name} (RMS error {results[name]['final_model_rmse']:.3f} km/s)": model
                   for name, model in finals.items()})
    paths = (os.path.join(output_dir, "models.png"), os.path.join(output_dir, "curves.png"))
    plot_models(paths[0], models, spacing)
    plot_curves(paths[1], results)
    return paths
