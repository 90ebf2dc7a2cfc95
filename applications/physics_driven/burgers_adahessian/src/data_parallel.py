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
"""Data-parallel training of the Burgers PINN: one process per device, the points split between them.

Launched by MindSpore's ``msrun``, every process builds the same network and draws the same points from the
same seed, then trains on its own equal share of each point set. The mean of the per-rank losses is then the
full-batch loss, so the averaged gradient (and, for AdaHessian, the averaged Hessian-diagonal estimate with
probes shared by the ranks) equals the single-process one and every rank applies the same update.
"""
import numpy as np
import mindspore as ms
from mindspore import nn, ops
from mindspore.communication import get_group_size, get_rank, init

from .dataset import CollocationPoints


def init_data_parallel():
    """Start MindSpore's communication and switch the parallel mode to data parallel.

    Must run after the device is set and before any optimizer is built: AdaHessian reads the parallel
    context when it is created.

    Returns:
        tuple ``(group_size, rank)``.
    """
    init()
    ms.set_auto_parallel_context(parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True)
    return get_group_size(), get_rank()


def shard_points(points, group_size, rank):
    """Rank ``rank``'s share of every point set: every ``group_size``-th point, starting at ``rank``.

    Args:
        points (CollocationPoints): The full point sets, identical on every rank.
        group_size (int): Number of ranks.
        rank (int): This rank.

    Returns:
        CollocationPoints, ``1 / group_size`` of each set.

    Raises:
        ValueError: If a point count is not a multiple of ``group_size`` (unequal shares would weight the
            ranks' losses unequally in the mean).
    """
    sizes = points.sizes()
    uneven = {term: size for term, size in sizes.items() if size % group_size}
    if uneven:
        raise ValueError(f"data-parallel training over {group_size} ranks needs point counts divisible by "
                         f"{group_size}, but got {uneven}; change data.n_pde/n_ic/n_bc in the config")
    return CollocationPoints(*(array[rank::group_size] for array in
                               (points.pde_points, points.ic_points, points.ic_values, points.bc_points)))


def gradient_mean(parameters, group_size):
    """Mean all-reduce of Adam's gradients (AdaHessian averages its own), or ``None`` in one process."""
    if group_size <= 1:
        return None
    return nn.DistributedGradReducer(parameters, mean=True, degree=group_size)


def rank_divergence(parameters, rank_mean):
    """How far the ranks' parameters are apart: zero exactly when every rank holds the same values.

    For each parameter entry, the squared deviations of the ranks from their mean are summed over the ranks;
    the root of the largest sum is returned, an upper bound of every rank's largest deviation. Every rank
    must call it (it all-reduces).

    Args:
        parameters (list[Parameter]): The trained parameters.
        rank_mean (mindflow.cell.optimizers.distributed.RankMean): The mean all-reduce over the ranks.

    Returns:
        float, the same on every rank.
    """
    flat = ops.concat([ops.cast(p, ms.float32).reshape((-1,)) for p in parameters])
    mean = rank_mean((flat,))[0]
    # mccl reduces by sum and mean only: the sum of the squared deviations bounds every rank's deviation.
    spread = rank_mean((ops.square(flat - mean),))[0] * rank_mean.group_size
    return float(np.sqrt(np.max(spread.asnumpy())))
