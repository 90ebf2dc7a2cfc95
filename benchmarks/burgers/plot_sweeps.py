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
"""Error curves of every run in sweep files (or ``train.py`` metrics files) on one chart.

Sweeps of different seeds cannot be merged into one report, but they can be drawn together; the seed figure of
benchmarks/burgers/README.md was drawn so, from the folder ``benchmarks/burgers``::

    python plot_sweeps.py results/seeds/seed*_adam_cosine.json results/seeds/seed?_adahessian.json \\
        --only adam=0.01 --only adahessian=0.3 --only adahessian=0.5 --output images/seed_curves.png
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "applications",
                                "physics_driven", "burgers_adahessian"))
from src.plotting import plot_sweep_errors  # noqa: E402  pylint: disable=wrong-import-position,import-error


def as_sweep_report(data):
    """A sweep report as it is, or the ``metrics.json`` of ``train.py`` turned into one (a run per optimizer)."""
    if "runs" in data or not isinstance(data.get("optimizers"), dict):
        return data
    return dict(data, runs=[dict(record, optimizer=name, learning_rate=record["settings"]["learning_rate"])
                            for name, record in data["optimizers"].items()])


def parse_only(text):
    """``NAME=LR`` of ``--only`` as ``(name, rate)``."""
    name, _, rate = text.partition("=")
    try:
        return name, float(rate)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--only expects NAME=LR, e.g. adam=0.01, but got {text!r}") from None


def main(argv=None):
    """Read the sweep files and write the PNG; returns its path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", metavar="JSON", help="sweep files, or metrics.json files of train.py")
    parser.add_argument("--output", required=True, help="PNG to write")
    parser.add_argument("--optimizers", default=None, help="comma-separated optimizers to draw (default: all)")
    parser.add_argument("--only", action="append", default=[], type=parse_only, metavar="NAME=LR",
                        help="draw only this optimizer's runs at this learning rate (repeatable), e.g. adam=0.01")
    parser.add_argument("--target", type=float, default=None, help="error level drawn as a dashed line")
    args = parser.parse_args(argv)
    wanted = set(args.optimizers.split(",")) if args.optimizers else None
    reports = []
    for path in args.sweeps:
        with open(path, "r", encoding="utf-8") as handle:
            report = as_sweep_report(json.load(handle))
        reports.append(dict(report, runs=[run for run in report.get("runs", []) if (
            wanted is None or run["optimizer"] in wanted) and (
                not args.only or (run["optimizer"], run["learning_rate"]) in args.only)]))
    written = plot_sweep_errors(reports, args.output, target=args.target)
    print(written)
    return written


if __name__ == "__main__":
    main()
