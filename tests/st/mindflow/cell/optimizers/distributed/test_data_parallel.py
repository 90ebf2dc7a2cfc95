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
"""Data-parallel AdaHessian on two processes (msrun, CPU ``mccl`` backend) against one process."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from msrun_launch import clean_environment, msrun_command, msrun_logs, stop, wait

_HERE = os.path.dirname(os.path.abspath(__file__))
_WORKER = os.path.join(_HERE, "dp_worker.py")
# One launch serves every test here: msrun with two workers, and the single-process reference beside
# it, each training in GRAPH then PYNATIVE mode. It is bounded: the processes end themselves after
# _DEADLINE_S, and the tests stop waiting after _TIMEOUT_S.
_MODES = ("graph", "pynative")
_DEADLINE_S = 150
_TIMEOUT_S = 165
_RANKS = 2
# As in dp_worker.MODES: a GRAPH-mode variant costs a compilation, a PYNATIVE one a few slow steps.
_VARIANTS = {"graph": ("shared", "no_hessian_mean"), "pynative": ("shared", "per_rank")}


@pytest.fixture(scope="module", name="trained")
def fixture_trained(tmp_path_factory):
    """Launch the two data-parallel workers and the single-process reference side by side.

    Returns the folder of the parameters they saved, or the reason the launch failed.
    """
    tmp_path = tmp_path_factory.mktemp("data_parallel")
    env = clean_environment(tmp_path)
    out_dir, log_dir = tmp_path / "out", tmp_path / "log"
    out_dir.mkdir()
    worker_args = [_WORKER, str(out_dir), ",".join(_MODES), str(_DEADLINE_S)]
    reference_log = tmp_path / "reference.log"
    with open(tmp_path / "msrun.log", "w", encoding="utf-8") as msrun_out, \
            open(reference_log, "w", encoding="utf-8") as reference_out, \
            subprocess.Popen(msrun_command(_RANKS, log_dir, worker_args), env=env, cwd=str(tmp_path),
                             stdout=msrun_out, stderr=subprocess.STDOUT, start_new_session=True) as cluster, \
            subprocess.Popen([sys.executable] + worker_args, env=env, cwd=str(tmp_path), stdout=reference_out,
                             stderr=subprocess.STDOUT, start_new_session=True) as reference:
        deadline = time.monotonic() + _TIMEOUT_S
        try:
            logs = [str(tmp_path / "msrun.log")] + msrun_logs(log_dir, _RANKS)
            failure = wait(cluster, "msrun", logs, deadline)
            failure = failure or wait(reference, "the single-process reference", [str(reference_log)], deadline)
        finally:
            stop(cluster)
            stop(reference)
    return out_dir, failure


def _load(path):
    with np.load(path) as data:
        return {name: data[name] for name in data.files}


def _max_difference(first, second):
    assert sorted(first) == sorted(second)
    return max(float(np.max(np.abs(first[name] - second[name]))) for name in first)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_cards
@pytest.mark.parametrize("mode", _MODES)
def test_data_parallel_matches_single_process(mode, trained):
    """
    Feature: AdaHessian data parallel: mean all-reduce of the gradients and the Hessian estimate.
    Description: Two msrun workers train an MLP on half the batch each (same seed, shared probes);
        one plain process trains on the whole batch. GRAPH mode adds a negative control whose
        Hessian estimate is not averaged, PYNATIVE mode a run with per_rank_probes=True.
    Expectation: The ranks hold identical parameters, equal within 1e-5 to the single process;
        without the Hessian average the ranks differ; per-rank probes keep the ranks identical but
        leave the single-process result.
    """
    out_dir, failure = trained
    if failure:
        pytest.fail(failure)
    reference = _load(out_dir / f"{mode}_reference.npz")
    runs = {variant: [_load(out_dir / f"{mode}_{variant}_rank{rank}.npz") for rank in range(_RANKS)]
            for variant in _VARIANTS[mode]}

    shared = runs["shared"]
    for rank in range(1, _RANKS):
        for name, value in shared[0].items():
            np.testing.assert_array_equal(shared[rank][name], value, err_msg=f"{name}: rank {rank} != rank 0")
    for name, value in reference.items():
        np.testing.assert_allclose(shared[0][name], value, rtol=0.0, atol=1e-5,
                                   err_msg=f"{name}: data parallel != single process")

    if "no_hessian_mean" in runs:
        unaveraged = runs["no_hessian_mean"]
        assert _max_difference(unaveraged[0], unaveraged[1]) > 1e-3, "ranks agree without the Hessian average"

    if "per_rank" in runs:
        per_rank = runs["per_rank"]
        assert _max_difference(per_rank[0], per_rank[1]) == 0.0, "per-rank probes: ranks differ"
        assert _max_difference(per_rank[0], reference) > 1e-3, "per-rank probes: equal to shared probes"
