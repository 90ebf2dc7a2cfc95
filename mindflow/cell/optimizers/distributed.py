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
"""Averaging across data-parallel ranks: each rank sees its own shard, so the gradient and the Hessian-diagonal
estimate are averaged over the ranks (a mean, whatever ``gradients_mean`` says) before they enter the moments, and
every rank applies the same update. See the guide for switching data parallelism on.
"""
import mindspore as ms
from mindspore import log as logger
from mindspore import nn, ops
from mindspore.communication import GlobalComm, get_group_size, get_rank
from mindspore.context import ParallelMode

from .probes import flat_piece, numel
from .update import join

__all__ = ["RankMean", "data_parallel_info"]


def data_parallel_info():
    """``(group size, rank)`` of the data-parallel group (``init()`` called and the parallel mode ``DATA_PARALLEL``
    or ``HYBRID_PARALLEL``), else ``(1, 0)``; RuntimeError if that mode is set without communication."""
    mode = ms.get_auto_parallel_context("parallel_mode")
    if mode not in (ParallelMode.DATA_PARALLEL, ParallelMode.HYBRID_PARALLEL):
        if GlobalComm.INITED and get_group_size() > 1:
            logger.warning(f"Communication is initialized with {get_group_size()} processes but the parallel mode "
                           f"is '{mode}': the optimizer does not average gradients or curvature across them. "
                           f"Call mindspore.set_auto_parallel_context(parallel_mode=ParallelMode.DATA_PARALLEL) "
                           f"before creating the optimizer to train data parallel.")
        return 1, 0
    if not GlobalComm.INITED:
        raise RuntimeError(f"The parallel mode is '{mode}' but communication is not initialized: call "
                           f"mindspore.communication.init() first (and launch the processes with msrun).")
    return get_group_size(), get_rank()


class RankMean(nn.Cell):
    """Mean all-reduce of a tuple of tensors over the data-parallel group (identity in one process), in PYNATIVE and
    GRAPH mode. The tensors travel as one float32 buffer, so a call costs one all-reduce whatever their number (the
    CPU backend reduces float32 only), and come back in their dtypes and shapes."""

    def __init__(self):
        super().__init__()
        self.group_size, self.rank = data_parallel_info()
        self.allreduce = ops.AllReduce(ops.ReduceOp.SUM) if self.group_size > 1 else None

    def construct(self, tensors):
        if self.allreduce is None or not tensors:
            return tensors
        total = self.allreduce(join(tensors)) / self.group_size
        result, start = (), 0
        for t in tensors:
            result += (ops.cast(flat_piece(total, start, start + numel(t.shape)).reshape(t.shape), t.dtype),)
            start = start + numel(t.shape)
        return result
