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
"""Random subsets of the collocation points for AdaHessian's Hessian-vector products (a sub-sampled Hessian).

With ``optimizers.adahessian.hessian_fraction`` below 1, every step passes AdaHessian ``hessian_inputs``: a fresh
random fraction of each point set, drawn without replacement. The gradient of the update still sees every point;
only the curvature estimate, which the second moment averages over many steps anyway, sees fewer.
"""
import math

import numpy as np
from mindspore import Tensor


def check_fraction(fraction):
    """``fraction`` as a float in (0, 1], else ValueError."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise ValueError(f"optimizers.adahessian.hessian_fraction must be a number in (0, 1], but got {fraction!r}")
    return float(fraction)


class HessianSubset:
    """Draws ``(pde_points, ic_points, ic_values, bc_points)`` restricted to a random fraction of each set.

    The initial points and their values share their rows. The number of rows is ``ceil(fraction * n)`` per set.

    Args:
        arrays (tuple[numpy.ndarray]): ``pde_points, ic_points, ic_values, bc_points`` of this process.
        fraction (float): Share of every set, in (0, 1].
        seed (int): Seed of the row draws.
    """

    def __init__(self, arrays, fraction, seed):
        pde, ic_points, ic_values, bc = (np.asarray(a) for a in arrays)
        if len(ic_points) != len(ic_values):
            raise ValueError(f"ic_points and ic_values must have as many rows, but got {len(ic_points)} and "
                             f"{len(ic_values)}")
        self.fraction = check_fraction(fraction)
        self.sets = ((pde,), (ic_points, ic_values), (bc,))
        self.sizes = tuple(max(1, math.ceil(self.fraction * len(group[0]))) for group in self.sets)
        self.rng = np.random.default_rng(seed)

    def __call__(self):
        """One draw, as Tensors in the loss's argument order."""
        drawn = []
        for group, size in zip(self.sets, self.sizes):
            rows = self.rng.choice(len(group[0]), size, replace=False)
            drawn.extend(Tensor(array[rows]) for array in group)
        return tuple(drawn)
