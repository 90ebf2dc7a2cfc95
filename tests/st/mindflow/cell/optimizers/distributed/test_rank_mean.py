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
"""RankMean and data_parallel_info in one process (the two-process test is test_data_parallel.py)."""
import numpy as np
import pytest
import mindspore as ms
from mindspore import Tensor, nn

from mindflow.cell.optimizers.distributed import RankMean, data_parallel_info


class _TwoEqualRanks(nn.Cell):
    """Stands in for the all-reduce sum of two ranks that hold the same tensor."""

    def construct(self, x):  # pylint: disable=arguments-differ
        return x * 2


def _tensors():
    return (Tensor(np.arange(6).reshape((2, 3)), ms.float32), Tensor(3.5, ms.float32),
            Tensor(np.arange(4), ms.float16), Tensor(np.zeros((0, 2)), ms.float32),
            Tensor(np.linspace(-1.0, 1.0, 24).reshape((2, 3, 4)), ms.float32))


def _assert_same_tensors(results, tensors):
    """Equal count, and each result equal in shape, dtype and values to its tensor."""
    assert len(results) == len(tensors)
    for result, tensor in zip(results, tensors):
        assert result.shape == tensor.shape and result.dtype == tensor.dtype
        np.testing.assert_array_equal(result.asnumpy(), tensor.asnumpy())


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("mode", [ms.PYNATIVE_MODE, ms.GRAPH_MODE], ids=["pynative", "graph"])
def test_single_process_is_identity(mode):
    """
    Feature: RankMean outside data-parallel training.
    Description: No communication is initialized and the parallel mode is stand_alone; the Cell
        runs in PYNATIVE mode and compiled in GRAPH mode.
    Expectation: data_parallel_info() is (1, 0), no all-reduce is built, and RankMean returns its
        input unchanged (the same tuple in PYNATIVE mode; equal values, shapes and dtypes in both).
    """
    ms.set_context(mode=mode)  # tests/st/mindflow/conftest.py restores the mode after the test
    assert data_parallel_info() == (1, 0)
    rank_mean = RankMean()
    assert (rank_mean.group_size, rank_mean.rank, rank_mean.allreduce) == (1, 0, None)
    tensors = _tensors()
    averaged = rank_mean(tensors)
    if mode == ms.PYNATIVE_MODE:
        assert averaged is tensors
    _assert_same_tensors(averaged, tensors)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("mode", [ms.PYNATIVE_MODE, ms.GRAPH_MODE], ids=["pynative", "graph"])
def test_packed_all_reduce_keeps_shapes_and_dtypes(mode):
    """
    Feature: RankMean packs its tensors into one float32 buffer for a single all-reduce.
    Description: The all-reduce is replaced by the sum over two ranks holding equal tensors, with
        tensors of rank 0 to 3, float16 and float32, and an empty one; in PYNATIVE and GRAPH mode.
    Expectation: The mean over the two ranks gives back every tensor, shape and dtype unchanged.
    """
    ms.set_context(mode=mode)  # tests/st/mindflow/conftest.py restores the mode after the test
    rank_mean = RankMean()
    rank_mean.group_size = 2
    rank_mean.allreduce = _TwoEqualRanks()
    tensors = _tensors()
    _assert_same_tensors(rank_mean(tensors), tensors)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_data_parallel_mode_needs_communication():
    """
    Feature: data_parallel_info checks the launch.
    Description: The parallel mode is DATA_PARALLEL but mindspore.communication.init() was not called.
    Expectation: RuntimeError that asks for init().
    """
    ms.set_auto_parallel_context(parallel_mode=ms.ParallelMode.DATA_PARALLEL)
    try:
        with pytest.raises(RuntimeError, match="init"):
            data_parallel_info()
    finally:
        ms.reset_auto_parallel_context()
