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
"""Tests of ``benchmarks/burgers/plot_sweeps.py``, the figure of the Burgers sweep and seed archives."""
import importlib
import json

import pytest

from script_loader import load_script



def _plot_sweeps():
    return load_script("benchmarks/burgers/plot_sweeps.py", "burgers_plot_sweeps")


def _report(seed, runs):
    return {"seed": seed, "runs": [
        {"optimizer": name, "learning_rate": lr, "settings": dict(settings, learning_rate=lr),
         "history": {"step": [0, 50, 100], "rel_l2_error": [0.9, 0.5 - 0.1 * seed, None]}}
        for name, lr, settings in runs]}


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_script_writes_png_and_refuses_empty_input(tmp_path):
    """
    Feature: benchmarks/burgers/plot_sweeps.py.
    Description: draw two sweep files (one with a missing error value), filtered to AdaHessian; a file whose
        runs have no history; a --only filter that matches nothing, and one that matches.
    Expectation: a PNG is written; the empty input raises ValueError naming the problem.
    """
    plot_sweeps = _plot_sweeps()
    paths = []
    for seed in (0, 1):
        path = tmp_path / f"sweep_seed{seed}.json"
        path.write_text(json.dumps(_report(seed, [("adam", 0.01, {}), ("adahessian", 0.5, {})])), encoding="utf-8")
        paths.append(str(path))
    output = tmp_path / "figure" / "curves.png"
    written = plot_sweeps.main(paths + ["--output", str(output), "--optimizers", "adahessian", "--target", "0.1"])
    assert written == str(output)
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"seed": 0, "runs": [{"optimizer": "adam", "history": {}}]}), encoding="utf-8")
    with pytest.raises(ValueError, match="no run with an error history"):
        plot_sweeps.main([str(empty), "--output", str(tmp_path / "none.png")])
    # --only keeps the named optimizer at the named rate; here nothing matches.
    with pytest.raises(ValueError, match="no run with an error history"):
        plot_sweeps.main(paths + ["--output", str(tmp_path / "none.png"), "--only", "adam=0.02"])
    plot_sweeps.main(paths + ["--output", str(tmp_path / "adam.png"), "--only", "adam=0.01"])
    assert (tmp_path / "adam.png").stat().st_size > 0


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
@pytest.mark.parametrize("value", ["adam", "adam=fast"])
def test_script_refuses_malformed_only(tmp_path, value, capsys):
    """
    Feature: benchmarks/burgers/plot_sweeps.py argument checking.
    Description: --only without a learning rate, or with one that is not a number.
    Expectation: argparse exits with status 2 and a message that shows the expected form.
    """
    with pytest.raises(SystemExit) as info:
        _plot_sweeps().main(["a.json", "--output", str(tmp_path / "x.png"), "--only", value])
    assert info.value.code == 2
    assert "--only expects NAME=LR" in capsys.readouterr().err


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_script_reads_train_metrics(tmp_path):
    """
    Feature: benchmarks/burgers/plot_sweeps.py on the metrics.json that train.py writes.
    Description: two metrics files of seed 0, AdaHessian with hvp_method autodiff (no such setting recorded) and
        finite_difference; a sweep report passed through as_sweep_report unchanged.
    Expectation: each becomes a report with one run per optimizer (optimizer name and learning rate filled in),
        the labels name the hvp_method that differs ("default" where a run did not record it), and the PNG is
        written.
    """
    plot_sweeps = _plot_sweeps()
    sweep = _report(0, [("adam", 0.01, {})])
    assert plot_sweeps.as_sweep_report(sweep) is sweep
    paths = []
    for method in (None, "finite_difference"):
        settings = {"learning_rate": 0.5} if method is None else {"learning_rate": 0.5, "hvp_method": method}
        record = {"settings": settings, "history": {"step": [0, 50], "rel_l2_error": [0.9, 0.4]}}
        metrics = {"seed": 0, "overrides": [], "optimizers": {"adahessian": record}}
        report = plot_sweeps.as_sweep_report(metrics)
        assert [(r["optimizer"], r["learning_rate"]) for r in report["runs"]] == [("adahessian", 0.5)]
        path = tmp_path / f"metrics_{method}.json"
        path.write_text(json.dumps(metrics), encoding="utf-8")
        paths.append(str(path))
    runs = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            runs += [dict(run, seed=0) for run in plot_sweeps.as_sweep_report(json.load(handle))["runs"]]
    plotting = importlib.import_module("src.plotting")
    assert plotting._run_labels(runs) == [  # pylint: disable=protected-access
        "AdaHessian (hvp_method default)", "AdaHessian (hvp_method finite_difference)"]
    output = tmp_path / "fd.png"
    plot_sweeps.main(paths + ["--output", str(output), "--only", "adahessian=0.5"])
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
