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
"""Figures and a summary table of a finished train.py run.

Example::

    python eval.py --output_dir ./outputs     # reads metrics.json and models.npz, writes models.png and curves.png
"""
import argparse
import json
import os

import numpy as np

from src.plotting import plot_all


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description="Figures of an acoustic FWI run")
    parser.add_argument("--output_dir", default="./outputs", help="folder train.py wrote")
    return parser.parse_args(argv)


def main(argv=None):
    """Draw the figures and print, per optimizer, misfit and model error at the start and the end."""
    args = parse_args(argv)
    with open(os.path.join(args.output_dir, "metrics.json"), "r", encoding="utf-8") as handle:
        report = json.load(handle)
    arrays = np.load(os.path.join(args.output_dir, "models.npz"))
    results = report["optimizers"]
    finals = {name: arrays[f"inverted_{name}"] for name in results}
    paths = plot_all(args.output_dir, arrays["true"], arrays["start"], finals, results,
                     float(report["config"]["grid"]["spacing"]))
    print(f"profile {report['profile']}, seed {report['seed']}")
    print(f"{'optimizer':<11}{'misfit start':>14}{'misfit end':>12}{'RMS start':>11}{'RMS end':>9}"
          f"{'gradients':>11}{'time s':>9}")
    for name, run in results.items():
        print(f"{name:<11}{run['start_misfit']:>14.4g}{run['final_misfit']:>12.4g}{run['start_model_rmse']:>11.4f}"
              f"{run['final_model_rmse']:>9.4f}{run['gradient_evaluations']:>11.0f}{run['train_time_s']:>9.1f}")
    print("figures: " + ", ".join(paths))


if __name__ == "__main__":
    main()
