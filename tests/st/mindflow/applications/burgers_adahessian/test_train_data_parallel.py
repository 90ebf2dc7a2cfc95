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
"""The Burgers application trained data parallel: ``msrun`` with two workers against one process."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import mindspore as ms

from msrun_launch import clean_environment, msrun_command, msrun_logs, stop, wait
# conftest.py in this folder puts the application folder on sys.path.
from src.data_parallel import shard_points
from src.dataset import sample_collocation_points

_APP_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), *([os.pardir] * 5), "applications",
                                        "physics_driven", "burgers_adahessian"))
_RANKS = 2
_TIMEOUT_S = 240
_OPTIMIZERS = ("adam", "adahessian")


@pytest.fixture(scope="module", name="runs")
def fixture_runs(tmp_path_factory):
    """``train.py --data_parallel`` under msrun and the same training in one process, side by side.

    Returns the two output folders, or the reason a launch failed.
    """
    tmp_path = tmp_path_factory.mktemp("burgers_data_parallel")
    env = clean_environment(tmp_path)
    env["MS_DEV_HOST_BLOCKING_RUN"] = "1"
    parallel_dir, single_dir, log_dir = tmp_path / "parallel", tmp_path / "single", tmp_path / "log"
    common = [os.path.join(_APP_DIR, "train.py"), "--optimizer", "both", "--profile", "smoke", "--no_plots",
              "--no_progress", "--reference_cache_dir", str(tmp_path / "reference")]
    parallel = msrun_command(_RANKS, log_dir, common + ["--data_parallel", "--output_dir", str(parallel_dir)])
    single = [sys.executable] + common + ["--output_dir", str(single_dir)]
    with open(tmp_path / "msrun.log", "w", encoding="utf-8") as msrun_out, \
            open(tmp_path / "single.log", "w", encoding="utf-8") as single_out, \
            subprocess.Popen(parallel, env=env, cwd=str(tmp_path), stdout=msrun_out, stderr=subprocess.STDOUT,
                             start_new_session=True) as cluster, \
            subprocess.Popen(single, env=env, cwd=str(tmp_path), stdout=single_out, stderr=subprocess.STDOUT,
                             start_new_session=True) as reference:
        deadline = time.monotonic() + _TIMEOUT_S
        try:
            failure = wait(cluster, "msrun train.py --data_parallel",
                           [str(tmp_path / "msrun.log")] + msrun_logs(log_dir, _RANKS), deadline)
            failure = failure or wait(reference, "train.py", [str(tmp_path / "single.log")], deadline)
        finally:
            stop(cluster)
            stop(reference)
    return parallel_dir, single_dir, failure


def _parameters(path):
    return {name: param.asnumpy() for name, param in ms.load_checkpoint(str(path)).items()}


def _metrics(folder):
    with open(folder / "metrics.json", encoding="utf-8") as handle:
        return json.load(handle)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_cards
def test_data_parallel_training_equals_one_process(runs):
    """
    Feature: Burgers application, train.py --data_parallel launched by msrun.
    Description: Two workers train Adam and AdaHessian on half of the smoke profile's points each; one plain
        process trains on all of them with the same seed.
    Expectation: Both ranks end with identical parameters (rank_divergence 0 in metrics.json), equal within
        1e-5 to the single process, with the same per-step full-batch losses; rank 0 wrote the reports.
    """
    parallel_dir, single_dir, failure = runs
    if failure:
        pytest.fail(failure)
    parallel, single = _metrics(parallel_dir), _metrics(single_dir)
    assert parallel["data_parallel"] == {"group_size": _RANKS, "points_per_rank": {"pde": 128, "ic": 32, "bc": 32}}
    assert single["data_parallel"] is None
    assert (parallel_dir / "predictions.npz").is_file()
    assert not (parallel_dir / "rank_1" / "metrics.json").exists()
    for name in _OPTIMIZERS:
        run, reference = parallel["optimizers"][name], single["optimizers"][name]
        assert run["rank_divergence"] == 0.0
        np.testing.assert_allclose(run["train_loss"], reference["train_loss"], rtol=1e-5, err_msg=name)
        assert run["final_rel_l2_error"] == pytest.approx(reference["final_rel_l2_error"], rel=1e-4)
        rank0 = _parameters(parallel_dir / "checkpoints" / f"burgers_{name}.ckpt")
        rank1 = _parameters(parallel_dir / "rank_1" / "checkpoints" / f"burgers_{name}.ckpt")
        alone = _parameters(single_dir / "checkpoints" / f"burgers_{name}.ckpt")
        assert sorted(rank0) == sorted(rank1) == sorted(alone)
        for key, value in rank0.items():
            np.testing.assert_array_equal(rank1[key], value, err_msg=f"{name} {key}: rank 1 != rank 0")
            np.testing.assert_allclose(value, alone[key], rtol=0.0, atol=1e-5, err_msg=f"{name} {key}")


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_shards_partition_the_points():
    """
    Feature: Splitting the training points between data-parallel ranks.
    Description: Shard 64/32/16 points over 4 ranks; then 30 PDE points over 4 ranks.
    Expectation: The shards are disjoint, equal in size and together hold every point; a count that the
        ranks cannot share equally raises ValueError naming the setting to change.
    """
    geometry = {"x_min": -1.0, "x_max": 1.0, "t_min": 0.0, "t_max": 1.0}
    points = sample_collocation_points({"n_pde": 64, "n_ic": 32, "n_bc": 16}, geometry, seed=3)
    shards = [shard_points(points, 4, rank) for rank in range(4)]
    for field in ("pde_points", "ic_points", "ic_values", "bc_points"):
        full = getattr(points, field)
        parts = [getattr(shard, field) for shard in shards]
        assert {len(part) for part in parts} == {len(full) // 4}
        joined = np.concatenate(parts)
        order = np.lexsort(joined.T[::-1])
        np.testing.assert_array_equal(joined[order], full[np.lexsort(full.T[::-1])])
    uneven = sample_collocation_points({"n_pde": 30, "n_ic": 32, "n_bc": 16}, geometry, seed=3)
    with pytest.raises(ValueError, match=r"divisible by 4.*'pde': 30.*n_pde"):
        shard_points(uneven, 4, 0)
