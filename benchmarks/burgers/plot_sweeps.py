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
"""Plot the error curves of every run in one or more sweep files of ``compare.py`` on one chart.

Sweep files of different seeds cannot be merged into one report, but they can be drawn together, which is how
the seed comparison of benchmarks/burgers/README.md was made (from the folder ``benchmarks/burgers``)::

    python plot_sweeps.py results/seeds/seed*_adam_cosine.json results/seeds/seed?_adahessian.json \\
        --only adam=0.01 --only adahessian=0.3 --only adahessian=0.5 --output images/seed_curves.png

The ``metrics.json`` that the application's ``train.py`` writes is read as a report of its optimizers' runs, so
single trainings can be drawn as well (``images/finite_difference_curves.png``).
"""
import argparse
import json
import os
import sys

# benchmarks/burgers -> the repository root is two levels up; the application's modules are imported from it.
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir))
APP_DIR = os.path.join(REPO_ROOT, "applications", "physics_driven", "burgers_adahessian")
if APP_DIR not in sys.path:
    sys.path.insert(0, APP_DIR)

# pylint: disable=wrong-import-position,import-error  # src is the application's, found through APP_DIR
from src.plotting import plot_sweep_errors  # noqa: E402


def as_sweep_report(data):
    """A sweep report as it is, or the ``metrics.json`` of ``train.py`` turned into one (a run per optimizer)."""
    if "runs" in data or not isinstance(data.get("optimizers"), dict):
        return data
    runs = [dict(record, optimizer=name, learning_rate=record["settings"]["learning_rate"])
            for name, record in data["optimizers"].items()]
    return dict(data, runs=runs)


def main(argv=None):
    """Read the sweep files and write the PNG; returns its path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", metavar="JSON",
                        help="sweep files written by compare.py, or metrics.json files of train.py")
    parser.add_argument("--output", required=True, help="PNG to write")
    parser.add_argument("--optimizers", default=None, help="comma-separated optimizers to draw (default: all)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME=LR",
                        help="draw only this optimizer's runs at this learning rate (repeatable), e.g. adam=0.01")
    parser.add_argument("--target", type=float, default=None, help="error level drawn as a dashed line")
    args = parser.parse_args(argv)
    only = {}
    for item in args.only:
        name, sep, rate = item.partition("=")
        try:
            only.setdefault(name, set()).add(float(rate))
        except ValueError:
            sep = ""
        if not sep:
            parser.error(f"--only expects NAME=LR, e.g. adam=0.01, but got {item!r}")
    reports = []
    for path in args.sweeps:
        with open(path, "r", encoding="utf-8") as handle:
            report = as_sweep_report(json.load(handle))
        if args.optimizers:
            wanted = set(args.optimizers.split(","))
            report = dict(report, runs=[r for r in report.get("runs", []) if r["optimizer"] in wanted])
        if only:
            report = dict(report, runs=[r for r in report.get("runs", [])
                                        if r["learning_rate"] in only.get(r["optimizer"], ())])
        reports.append(report)
    written = plot_sweep_errors(reports, args.output, target=args.target)
    print(written)
    return written


if __name__ == "__main__":
    main()
