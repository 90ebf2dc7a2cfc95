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
"""Smoke test of the Burgers AdaHessian application: both optimizers end to end on the tiny profile."""
import json
import os

import numpy as np
import pytest
import mindspore as ms

# conftest.py in this folder puts the application folder on sys.path.
import eval as burgers_eval  # pylint: disable=redefined-builtin
import train as burgers_train
from src.trainer import set_up_context

ARTIFACTS = ("metrics.json", "predictions.npz", "loss_error_curves.png", "solution_maps.png", "error_maps.png",
             "time_slices.png", os.path.join("checkpoints", "burgers_init.ckpt"),
             os.path.join("checkpoints", "burgers_adam.ckpt"), os.path.join("checkpoints", "burgers_adahessian.ckpt"))


@pytest.fixture(name="smoke_run", scope="module")
def fixture_smoke_run(tmp_path_factory):
    """Train both optimizers once on the smoke profile and share the output folder between the tests."""
    output_dir = tmp_path_factory.mktemp("burgers_smoke")
    report = burgers_train.main(["--optimizer", "both", "--profile", "smoke", "--mode", "GRAPH",
                                 "--output_dir", str(output_dir), "--no_progress",
                                 "--set", "optimizers.adahessian.learning_rate=0.1",
                                 "--reference_cache_dir", str(output_dir / "reference")])
    return output_dir, report


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_train_both_optimizers_writes_all_artifacts(smoke_run):
    """
    Feature: Burgers PINN application, train.py --optimizer both.
    Description: Train Adam and AdaHessian for the smoke profile's few dozen steps in GRAPH mode, AdaHessian's
        learning rate set on the command line (--set).
    Expectation: metrics.json, predictions.npz, the three checkpoints and the four PNG plots exist, and the
        metrics hold per-optimizer steps, errors, losses, timings and histories.
    """
    output_dir, _ = smoke_run
    for name in ARTIFACTS:
        path = output_dir / name
        assert path.is_file() and path.stat().st_size > 0, name
    with open(output_dir / "metrics.json", encoding="utf-8") as handle:
        metrics = json.load(handle)
    assert metrics["profile"] == "smoke" and metrics["mode"] == "GRAPH"
    # --set reached the optimizer (the smoke profile says 0.15) and is recorded
    assert metrics["overrides"] == ["optimizers.adahessian.learning_rate=0.1"]
    assert metrics["optimizers"]["adahessian"]["settings"]["learning_rate"] == 0.1
    for name in ("adam", "adahessian"):
        run = metrics["optimizers"][name]
        assert run["steps"] == metrics["config"]["train"]["steps"]
        assert not run["diverged"]
        assert 0.0 < run["final_rel_l2_error"] < 10.0
        assert set(run["final_loss"]) == {"total", "pde", "ic", "bc"}
        assert run["wall_time_s"] > 0 and run["seconds_per_step"] > 0
        assert len(run["train_loss"]) == run["steps"]
        assert run["history"]["step"][0] == 0 and run["history"]["step"][-1] == run["steps"]
    with np.load(output_dir / "predictions.npz") as data:
        assert data["u_exact"].shape == (101, 256)
        assert data["x"].shape == (256,) and data["t"].shape == (101,)
        for name in ("adam", "adahessian"):
            assert data[f"u_pred_{name}"].shape == (101, 256)
            assert np.all(np.isfinite(data[f"u_pred_{name}"]))


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_same_start_and_losses_fall(smoke_run):
    """
    Feature: Fair comparison of Adam and AdaHessian.
    Description: Compare the evaluation at step 0 of both runs and the loss at the start and the end.
    Expectation: Both optimizers start from identical weights and points (same step-0 loss and error), and
        both lower the total PINN loss.
    """
    _, report = smoke_run
    adam, ada = report["optimizers"]["adam"], report["optimizers"]["adahessian"]
    assert adam["history"]["loss_total"][0] == pytest.approx(ada["history"]["loss_total"][0], rel=1e-6)
    assert adam["history"]["rel_l2_error"][0] == pytest.approx(ada["history"]["rel_l2_error"][0], rel=1e-6)
    for run in (adam, ada):
        assert run["final_loss"]["total"] < 0.9 * run["history"]["loss_total"][0]


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_comparison_summary_agrees_with_histories(smoke_run):
    """
    Feature: The head-to-head summary in metrics.json.
    Description: Recompute the error ratio and, for each optimizer, the first evaluated step at which its error
        is at most the other optimizer's final error, from the two histories.
    Expectation: The summary holds the same numbers; a step it names is the first one meeting the bar.
    """
    _, report = smoke_run
    runs, summary = report["optimizers"], report["comparison"]
    adam_final, ada_final = runs["adam"]["final_rel_l2_error"], runs["adahessian"]["final_rel_l2_error"]
    assert summary["final_error_ratio_adam_over_adahessian"] == pytest.approx(adam_final / ada_final)
    assert summary["adahessian_lower_final_error"] == (ada_final < adam_final)
    for name, threshold in (("adahessian", adam_final), ("adam", ada_final)):
        history = runs[name]["history"]
        meeting = [step for step, error in zip(history["step"], history["rel_l2_error"]) if error <= threshold]
        assert summary["steps_to_reach_final_error_of_other"][name] == (meeting[0] if meeting else None)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_eval_reproduces_training_error(smoke_run):
    """
    Feature: eval.py on a saved checkpoint.
    Description: Evaluate the AdaHessian checkpoint written by the smoke run, with plots.
    Expectation: The relative L2 error matches the one train.py reported, and the plots are written.
    """
    output_dir, report = smoke_run
    eval_dir = output_dir / "eval"
    result = burgers_eval.main(["--checkpoint_path", str(output_dir / "checkpoints" / "burgers_adahessian.ckpt"),
                                "--profile", "smoke", "--output_dir", str(eval_dir), "--plot",
                                "--reference_cache_dir", str(output_dir / "reference")])
    expected = report["optimizers"]["adahessian"]["final_rel_l2_error"]
    assert result["rel_l2_error"] == pytest.approx(expected, rel=1e-4)
    assert (eval_dir / "eval_metrics.json").is_file()
    assert (eval_dir / "burgers_adahessian_error.png").is_file()


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_context_set_up_again_after_kernels_ran(smoke_run):
    """
    Feature: a second run in the same process (notebook, tests) after kernels have run.
    Description: set_up_context for CPU again once the smoke run has executed kernels, then for GPU.
    Expectation: the same device is accepted (GRAPH mode set); another device raises MindSpore's RuntimeError.
    """
    del smoke_run  # only needed for kernels to have run in this process
    set_up_context("PYNATIVE", "CPU")
    assert ms.get_context("mode") == ms.PYNATIVE_MODE
    set_up_context("GRAPH", "CPU")
    assert ms.get_context("mode") == ms.GRAPH_MODE
    with pytest.raises(RuntimeError):
        set_up_context("GRAPH", "GPU")
    assert ms.get_context("device_target") == "CPU"
