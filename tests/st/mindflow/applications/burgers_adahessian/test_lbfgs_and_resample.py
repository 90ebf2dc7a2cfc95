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
"""The Burgers application's L-BFGS finish (``train.lbfgs_iterations``) and fresh points (``data.resample``)."""
import numpy as np
import pytest
import mindspore as ms

# conftest.py in this folder puts the application folder on sys.path.
import train as burgers_train
from src.config import load_config
from src.dataset import sample_collocation_points
from src.lbfgs import lbfgs_finish
from src.losses import BurgersPINNLoss
from src.model import build_model, glorot_initialize
from src.trainer import prepare_experiment, run_optimizer, set_up_context

CONFIG = burgers_train.parse_args([]).config_file_path


def _smoke_problem(seed=0):
    config = load_config(CONFIG, "smoke")
    points = sample_collocation_points(config["data"], config["geometry"], seed)
    net = build_model(config["model"])
    glorot_initialize(net, seed)
    return config, net, BurgersPINNLoss(net, config["pde"]["viscosity"]), points.as_tensors()


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_lbfgs_finish_lowers_the_loss_and_leaves_its_result_in_the_network():
    """
    Feature: src/lbfgs.py, SciPy's L-BFGS-B fed by a compiled loss-and-gradient Cell.
    Description: 40 iterations on the smoke problem's loss from its Glorot start, GRAPH mode, counting callbacks.
    Expectation: the loss falls by more than half, the network afterwards holds weights whose loss is the one
        SciPy reports (so the compiled Cell saw every write), and the callback ran once per iteration.
    """
    set_up_context("GRAPH", "CPU")
    _, net, loss_cell, inputs = _smoke_problem()
    start = float(loss_cell(*inputs).asnumpy())
    before = [p.asnumpy().copy() for p in net.trainable_params()]
    seen = []
    result = lbfgs_finish(loss_cell, net.trainable_params(), inputs, 40, callback=seen.append)
    assert 1 <= result["iterations"] <= 40 and result["evaluations"] >= result["iterations"]
    assert seen == list(range(1, result["iterations"] + 1))
    assert result["loss"] < 0.5 * start
    assert float(loss_cell(*inputs).asnumpy()) == pytest.approx(result["loss"], rel=1e-5)
    assert any(not np.array_equal(b, p.asnumpy()) for b, p in zip(before, net.trainable_params()))


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
@pytest.mark.parametrize("iterations", [0, -3, 2.5, True, "10"])
def test_lbfgs_finish_rejects_bad_iteration_counts(iterations):
    """
    Feature: argument checking of lbfgs_finish.
    Description: zero, negative, fractional, boolean and string iteration budgets.
    Expectation: ValueError naming the value, before anything is computed.
    """
    _, net, loss_cell, inputs = _smoke_problem()
    with pytest.raises(ValueError, match=r"iterations must be a positive integer, but got"):
        lbfgs_finish(loss_cell, net.trainable_params(), inputs, iterations)


@pytest.fixture(name="finished_runs", scope="module")
def fixture_finished_runs(tmp_path_factory):
    """train.py on the smoke profile, Adam then L-BFGS and AdaHessian then L-BFGS, new points at every step."""
    output_dir = tmp_path_factory.mktemp("burgers_lbfgs")
    return burgers_train.main(["--optimizer", "both", "--profile", "smoke", "--output_dir", str(output_dir),
                               "--no_progress", "--no_plots", "--set", "train.lbfgs_iterations=25",
                               "--set", "data.resample=true", "--reference_cache_dir", str(output_dir / "ref")])


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_lbfgs_iterations_continue_the_history(finished_runs):
    """
    Feature: train.lbfgs_iterations in train.py.
    Description: the smoke profile's 30 steps of each optimizer, then 25 L-BFGS iterations, evaluated every 10.
    Expectation: the history's steps run past the 30 first-order steps and end at 30 plus the iterations done,
        its training time never decreases and is the run's, and the L-BFGS summary is recorded.
    """
    for name in ("adam", "adahessian"):
        run = finished_runs["optimizers"][name]
        steps, times = run["history"]["step"], run["history"]["train_time_s"]
        assert run["steps"] == 30 and run["lbfgs"]["iterations"] == 25
        assert steps[-1] == 30 + run["lbfgs"]["iterations"] and 40 in steps and 50 in steps
        assert all(later >= earlier for earlier, later in zip(times, times[1:]))
        assert times[-1] == pytest.approx(run["train_time_s"])
        assert run["lbfgs"]["time_s"] == pytest.approx(run["train_time_s"] - run["first_order_time_s"])
        at_30 = run["history"]["loss_total"][steps.index(30)]
        assert run["final_loss"]["total"] < at_30


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_resampled_points_are_reproducible_and_differ_from_fixed_ones(finished_runs, tmp_path):
    """
    Feature: data.resample in train.py.
    Description: Adam's first 30 steps of the fixture run (new points every step) against the same steps with
        resampling again and without it.
    Expectation: the same seed gives the same losses to the last digit; fixed points give other losses.
    """
    config = load_config(CONFIG, "smoke")
    config["data"]["resample"] = True
    grid, points, _, init = prepare_experiment(config, 0, str(tmp_path / "ref"))
    again, _ = run_optimizer("adam", config, init, points, grid, True, 0, progress=False)
    config["data"]["resample"] = False
    fixed, _ = run_optimizer("adam", config, init, points, grid, True, 0, progress=False)
    resampled = finished_runs["optimizers"]["adam"]["train_loss"]
    assert again["train_loss"] == resampled
    assert len(fixed["train_loss"]) == len(resampled) and fixed["train_loss"] != resampled


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
@pytest.mark.parametrize("setting, group_size, message", [
    ({"data": {"resample": True}}, 2, "work in one process only"),
    ({"train": {"lbfgs_iterations": 5}}, 2, "work in one process only"),
    ({"data": {"resample": True}, "optimizers": {"adahessian": {"hessian_fraction": 0.5}}}, 1,
     "cannot be combined with data.resample"),
])
def test_unsupported_combinations_are_refused(tmp_path, setting, group_size, message):
    """
    Feature: checks of run_optimizer.
    Description: resampling or L-BFGS in a data-parallel run, and a Hessian on a share of fixed points with
        resampling.
    Expectation: ValueError with the reason, before any training.
    """
    config = load_config(CONFIG, "smoke")
    for section, values in setting.items():
        for key, value in values.items():
            if isinstance(value, dict):
                config[section][key].update(value)
            else:
                config[section][key] = value
    grid, points, _, init = prepare_experiment(config, 0, str(tmp_path / "ref"))
    with pytest.raises(ValueError, match=message):
        run_optimizer("adahessian", config, init, points, grid, ms.get_context("mode") == ms.GRAPH_MODE, 0,
                      progress=False, group_size=group_size)
