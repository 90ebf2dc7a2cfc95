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
"""Tests of the FWI configuration (profiles, overrides, validation) and of train.py's smoke profile."""
import copy
import json
import os

import pytest

from src.config import apply_override, load_config, selected_optimizers, validate_config

APP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), *([os.pardir] * 5), "applications", "cfd",
                       "acoustic_fwi")

CONFIG = os.path.join(APP_DIR, "configs", "fwi.yaml")


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_profiles_are_valid():
    """
    Feature: the profiles of configs/fwi.yaml.
    Description: load and validate every profile; select optimizers by name, list and 'all'.
    Expectation: no error; the smoke profile is small; unknown optimizer names raise ValueError.
    """
    for profile in ("default", "marmousi", "smoke"):
        validate_config(load_config(CONFIG, profile))
    assert load_config(CONFIG, "smoke")["grid"]["nz"] < load_config(CONFIG)["grid"]["nz"]
    assert selected_optimizers("all") == ("adam", "adahessian", "lbfgs")
    assert selected_optimizers("adam,lbfgs") == ("adam", "lbfgs")
    with pytest.raises(ValueError, match="unknown optimizer"):
        selected_optimizers("sgd")
    with pytest.raises(KeyError):
        load_config(CONFIG, "no_such_profile")


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
@pytest.mark.parametrize("assignment, message", [
    ("time.dt=0.005", "unstable"),
    ("grid.nz=0", "grid.nz must be > 0"),
    ("grid.spacing=ten", "grid.spacing must be a number"),
    ("survey.source_depth=1000.0", "survey.source_depth must lie inside"),
    ("model.kind=salt", "model.kind must be one of"),
    ("inversion.vmin=5.0", "must be below"),
    ("inversion.fixed_rows=40", "fixed_rows"),
    ("optimizers.sgd={learning_rate: 0.1}", "unknown optimizer section"),
    ("optimizers.adam.learning_rate=-1", "learning_rate must be > 0"),
    ("optimizers.adam.lr_schedule=step", "lr_schedule must be one of"),
    ("train.iterations=2.5", "train.iterations must be an integer"),
])
def test_validation_errors(assignment, message):
    """
    Feature: validate_config, run by train.py before anything is compiled.
    Description: override one entry of the default profile with a bad value.
    Expectation: ValueError naming the entry.
    """
    config = copy.deepcopy(load_config(CONFIG))
    apply_override(config, assignment)
    with pytest.raises(ValueError, match=message):
        validate_config(config)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_smoke_profile_lowers_misfit(tmp_path):
    """
    Feature: train.py end to end (problem set-up, Adam and L-BFGS runs sharing one compiled gradient, JSON history,
        figures).
    Description: the smoke profile with 4 iterations of Adam and of L-BFGS.
    Expectation: both lower the misfit; metrics.json holds a history with misfit, model error, time and gradient
        counts for each; models.npz and the figures exist.
    """
    import train  # pylint: disable=import-outside-toplevel
    report = train.main(["--profile", "smoke", "--optimizer", "adam,lbfgs", "--iterations", "4",
                         "--output_dir", str(tmp_path), "--no_progress"])
    for name in ("adam", "lbfgs"):
        run = report["optimizers"][name]
        assert run["final_misfit"] < run["start_misfit"]
        history = run["history"]
        assert len(history["misfit"]) == len(history["time_s"]) == len(history["gradient_evaluations"]) >= 4
    with open(tmp_path / "metrics.json", encoding="utf-8") as handle:
        assert set(json.load(handle)["optimizers"]) == {"adam", "lbfgs"}
    for name in ("models.npz", "models.png", "curves.png"):
        assert (tmp_path / name).is_file()


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_adahessian_safe_step_lowers_model_error(tmp_path):
    """
    Feature: AdaHessian's safe step (default step_clip) on full-waveform inversion, where cells that the wave barely
        reaches have a tiny curvature estimate but not a tiny gradient.
    Description: the smoke profile, 10 iterations at a constant rate 0.01 km/s, eps 1e-8 (nn.Adam's): with the
        default settings, and with the paper's update (step_clip None).
    Expectation: the default lowers the misfit and the RMS model error; the paper's update lowers the misfit but
        throws the model away (its error rises above the start's).
    """
    import train  # pylint: disable=import-outside-toplevel
    runs = {}
    for clip in ("10.0", "null"):
        report = train.main(["--profile", "smoke", "--optimizer", "adahessian", "--iterations", "10",
                             "--set", "optimizers.adahessian.lr_schedule=constant", "--set",
                             f"optimizers.adahessian.step_clip={clip}", "--output_dir", str(tmp_path / clip),
                             "--no_progress"])
        runs[clip] = report["optimizers"]["adahessian"]
    for run in runs.values():
        assert run["final_misfit"] < run["start_misfit"]
    assert runs["10.0"]["final_model_rmse"] < runs["10.0"]["start_model_rmse"], runs["10.0"]
    assert runs["null"]["final_model_rmse"] > runs["null"]["start_model_rmse"], runs["null"]
