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
"""Averaging across data-parallel ranks.

In data-parallel training every rank sees its own shard, so both the gradient and the
Hessian-diagonal estimate are averaged over the ranks before they enter the moments; every rank
then applies the same update and the parameters stay identical.
"""
from mindspore import nn, ops
from mindspore.context import ParallelMode

__all__ = ["RankMean", "data_parallel_info"]


def data_parallel_info():
    """``(group size, rank)`` when MindSpore runs data parallel across processes, else ``(1, 0)``."""
    # pylint: disable=import-outside-toplevel
    from mindspore.parallel._utils import _get_parallel_mode
    if _get_parallel_mode() not in (ParallelMode.DATA_PARALLEL, ParallelMode.HYBRID_PARALLEL):
        return 1, 0
    from mindspore.communication import get_group_size, get_rank
    return get_group_size(), get_rank()


class RankMean(nn.Cell):
    """Mean all-reduce of a tuple of float32 tensors over the data-parallel group (identity in one process)."""

    def __init__(self):
        super().__init__()
        self.group_size, self.rank = data_parallel_info()
        self.allreduce = ops.AllReduce() if self.group_size > 1 else None

    def construct(self, tensors):
        if self.allreduce is None:
            return tensors
        return tuple(self.allreduce(t) / self.group_size for t in tensors)
