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
"""The Burgers application's sub-sampled Hessian: optimizers.adahessian.hessian_fraction."""
import numpy as np
import pytest

import train as burgers_train
from src.hessian_subset import HessianSubset, check_fraction
from src.trainer import build_optimizer


def _arrays():
    rng = np.random.default_rng(0)
    pde = rng.uniform(size=(40, 2)).astype(np.float32)
    ic_points = np.stack([np.arange(10), np.zeros(10)], axis=1).astype(np.float32)
    ic_values = -ic_points[:, :1] * 2.0  # a function of the row, so shared rows can be checked
    bc = rng.uniform(size=(7, 2)).astype(np.float32)
    return pde, ic_points, ic_values, bc


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_subset_draws_rows_of_every_set():
    """
    Feature: HessianSubset, the points of AdaHessian's Hessian-vector products.
    Description: 40 PDE, 10 initial and 7 boundary points, fraction 0.25, three draws; the same seed again.
    Expectation: ceil(0.25 n) distinct rows of each set (10, 3, 2); initial points and values keep their pairing;
        draws differ from one another; the same seed repeats them.
    """
    arrays = _arrays()
    subset = HessianSubset(arrays, 0.25, seed=3)
    draws = [tuple(t.asnumpy() for t in subset()) for _ in range(3)]
    for pde, ic_points, ic_values, bc in draws:
        assert [len(pde), len(ic_points), len(ic_values), len(bc)] == [10, 3, 3, 2]
        for drawn, full in ((pde, arrays[0]), (ic_points, arrays[1]), (bc, arrays[3])):
            rows = {tuple(row) for row in drawn}
            assert len(rows) == len(drawn) and rows <= {tuple(row) for row in full}
        np.testing.assert_array_equal(ic_values, -ic_points[:, :1] * 2.0)
    assert not np.array_equal(draws[0][0], draws[1][0]) or not np.array_equal(draws[1][0], draws[2][0])
    again = HessianSubset(arrays, 0.25, seed=3)
    for want in draws:
        for got, expected in zip(again(), want):
            np.testing.assert_array_equal(got.asnumpy(), expected)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
@pytest.mark.parametrize("fraction", [0, -0.5, 1.5, "0.5", True, None])
def test_invalid_fraction(fraction):
    """
    Feature: hessian_fraction is checked.
    Description: 0, a negative number, a number above 1, a string, a bool and None.
    Expectation: ValueError naming the configuration key and the value.
    """
    with pytest.raises(ValueError, match=r"optimizers.adahessian.hessian_fraction must be a number in \(0, 1\]"):
        check_fraction(fraction)
    assert check_fraction(1) == 1.0


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_fraction_is_no_constructor_argument_and_not_for_adam():
    """
    Feature: hessian_fraction shapes AdaHessian's train step, not its constructor, and Adam has none.
    Description: build_optimizer with hessian_fraction 0.5 for AdaHessian and for Adam.
    Expectation: AdaHessian is built; Adam raises ValueError naming the key.
    """
    from mindspore import Parameter, Tensor  # pylint: disable=import-outside-toplevel
    params = [Parameter(Tensor(np.ones(2, np.float32)), name="w")]
    optimizer = build_optimizer("adahessian", params, {"learning_rate": 0.1, "hessian_fraction": 0.5}, 10, 0)
    assert type(optimizer).__name__ == "AdaHessian"
    with pytest.raises(ValueError, match="hessian_fraction"):
        build_optimizer("adam", params, {"learning_rate": 0.1, "hessian_fraction": 0.5}, 10, 0)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_train_with_hessian_fraction(tmp_path):
    """
    Feature: train.py with a sub-sampled Hessian.
    Description: AdaHessian on the smoke profile in GRAPH mode with --set optimizers.adahessian.hessian_fraction=0.25
        (both hvp methods), learning rate 0.1.
    Expectation: the setting is recorded, nothing diverges and the total loss falls below 0.9 of its start.
    """
    for method in ("autodiff", "finite_difference"):
        report = burgers_train.main(["--optimizer", "adahessian", "--profile", "smoke", "--mode", "GRAPH",
                                     "--output_dir", str(tmp_path / method), "--no_progress", "--no_plots",
                                     "--set", "optimizers.adahessian.learning_rate=0.1",
                                     "--set", "optimizers.adahessian.hessian_fraction=0.25",
                                     "--set", f"optimizers.adahessian.hvp_method={method}",
                                     "--reference_cache_dir", str(tmp_path / "reference")])
        run = report["optimizers"]["adahessian"]
        assert run["settings"]["hessian_fraction"] == 0.25
        assert not run["diverged"]
        assert run["final_loss"]["total"] < 0.9 * run["history"]["loss_total"][0]
