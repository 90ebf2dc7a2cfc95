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
"""Tests of the sweep-comparison figure (``src.plotting``; the script that draws sweep files is
``benchmarks/burgers/plot_sweeps.py``, tested in tests/st/mindflow/benchmarks)."""
import pytest

from src import plotting


def _report(seed, runs):
    return {"seed": seed, "runs": [
        {"optimizer": name, "learning_rate": lr, "settings": dict(settings, learning_rate=lr),
         "history": {"step": [0, 50, 100], "rel_l2_error": [0.9, 0.5 - 0.1 * seed, None]}}
        for name, lr, settings in runs]}


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_labels_name_what_differs():
    """
    Feature: legend labels of the sweep-comparison figure.
    Description: runs of two optimizers over two seeds, AdaHessian also with two eps values; then one seed
        with two AdaHessian learning rates.
    Expectation: each label names the optimizer and only the settings (and seed) that differ between its runs.
    """
    reports = [_report(0, [("adam", 0.01, {"lr_schedule": "cosine"}), ("adahessian", 0.5, {"eps": 1e-4})]),
               _report(1, [("adam", 0.01, {"lr_schedule": "cosine"}), ("adahessian", 0.5, {"eps": 1e-3})])]
    runs = [dict(run, seed=report["seed"]) for report in reports for run in report["runs"]]
    assert plotting._run_labels(runs) == [  # pylint: disable=protected-access
        "Adam (seed 0)", "AdaHessian (eps 0.0001, seed 0)", "Adam (seed 1)", "AdaHessian (eps 0.001, seed 1)"]
    rates = _report(0, [("adahessian", 0.3, {}), ("adahessian", 0.5, {}), ("adam", 0.01, {})])
    runs = [dict(run, seed=0) for run in rates["runs"]]
    assert plotting._run_labels(runs) == [  # pylint: disable=protected-access
        "AdaHessian (lr 0.3)", "AdaHessian (lr 0.5)", "Adam"]
