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

Data parallelism is switched on the way MindSpore's own training wrappers expect it, before the
optimizer is created::

    from mindspore.communication import init
    init()
    ms.set_auto_parallel_context(parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True)

``init()`` alone leaves the parallel mode at ``"stand_alone"``, in which nothing is averaged (a
warning says so when more than one process is running). The average is always a mean, whatever
``gradients_mean`` says, and it runs over the world group on every backend (``mccl`` on CPU,
``nccl`` on GPU, ``hccl`` on Ascend).
"""
import mindspore as ms
from mindspore import log as logger
from mindspore import nn, ops
from mindspore.communication import GlobalComm, get_group_size, get_rank
from mindspore.context import ParallelMode

from .joined import flat_piece

__all__ = ["RankMean", "data_parallel_info"]

_AVERAGED_MODES = (ParallelMode.DATA_PARALLEL, ParallelMode.HYBRID_PARALLEL)


def _communication_initialized():
    return bool(GlobalComm.INITED)


def data_parallel_info():
    """``(group size, rank)`` of the data-parallel group, ``(1, 0)`` when not running data parallel.

    Data parallel means: ``mindspore.communication.init()`` was called and the auto-parallel context's
    ``parallel_mode`` is ``DATA_PARALLEL`` (or ``HYBRID_PARALLEL``).

    Raises:
        RuntimeError: If the parallel mode is data parallel but communication is not initialized.
    """
    mode = ms.get_auto_parallel_context("parallel_mode")
    if mode not in _AVERAGED_MODES:
        if _communication_initialized() and get_group_size() > 1:
            logger.warning(f"Communication is initialized with {get_group_size()} processes but the parallel mode "
                           f"is '{mode}': the optimizer does not average gradients or curvature across them. "
                           f"Call mindspore.set_auto_parallel_context(parallel_mode=ParallelMode.DATA_PARALLEL) "
                           f"before creating the optimizer to train data parallel.")
        return 1, 0
    if not _communication_initialized():
        raise RuntimeError(f"The parallel mode is '{mode}' but communication is not initialized: call "
                           f"mindspore.communication.init() first (and launch the processes with msrun).")
    return get_group_size(), get_rank()


class RankMean(nn.Cell):
    """Mean all-reduce of a tuple of tensors over the data-parallel group (identity in one process).

    The tensors are packed into one float32 buffer, so a call costs a single all-reduce whatever the
    number of tensors (the CPU backend reduces float32 only); the results come back in the input
    dtypes and shapes. The group size and rank are read from the context when the Cell is created.
    Works in PYNATIVE mode and in GRAPH mode / inside ``mindspore.jit``.

    Inputs:
        - **tensors** (tuple[Tensor]) - The tensors to average, equal in shape across the ranks.

    Outputs:
        tuple[Tensor], the averages, one per input.
    """

    def __init__(self):
        super().__init__()
        self.group_size, self.rank = data_parallel_info()
        self.allreduce = ops.AllReduce(ops.ReduceOp.SUM) if self.group_size > 1 else None

    def construct(self, tensors):  # pylint: disable=arguments-differ
        if self.allreduce is None or not tensors:
            return tensors
        flat = ops.concat(tuple(ops.cast(t, ms.float32).reshape((-1,)) for t in tensors))
        total = self.allreduce(flat) / self.group_size
        result = ()
        start = 0
        for t in tensors:
            size = 1
            for dim in t.shape:
                size = size * dim
            result += (ops.cast(flat_piece(total, start, start + size).reshape(t.shape), t.dtype),)
            start = start + size
        return result
