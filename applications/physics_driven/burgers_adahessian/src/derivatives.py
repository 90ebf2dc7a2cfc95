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
"""Input derivatives of pointwise networks by MindSpore automatic differentiation.

The networks here act on each row of their (N, d) input independently, so the gradient of the *sum* of the
outputs with respect to the input batch holds, row by row, the derivative of each output with respect to its
own input. One reverse pass thus gives the derivatives at all N points, and the cells nest, so that
``PartialDerivative(PartialDerivative(net, 0), 0)`` is the second derivative in the first coordinate.
"""
from mindspore import nn, ops


class _SummedOutput(nn.Cell):
    """Scalar sum of the outputs of ``fn``, the function that input gradients differentiate."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def construct(self, points):  # pylint: disable=arguments-differ
        """Return ``sum(fn(points))``."""
        return self.fn(points).sum()


class InputGradient(nn.Cell):
    """Gradient of a pointwise scalar field with respect to its inputs.

    Args:
        fn (nn.Cell): Maps points (N, d) to values (N, 1), each row depending on its own input row only.

    Inputs:
        - **points** (Tensor) - shape (N, d).

    Outputs:
        Tensor of shape (N, d), the partial derivatives of ``fn`` at every point.
    """

    def __init__(self, fn):
        super().__init__()
        self.summed = _SummedOutput(fn)
        self.grad = ops.GradOperation()

    def construct(self, points):  # pylint: disable=arguments-differ
        """Return d fn / d points at every point."""
        return self.grad(self.summed)(points)


class PartialDerivative(nn.Cell):
    """One partial derivative of a pointwise scalar field, itself a pointwise field so that it nests.

    Args:
        fn (nn.Cell): Maps points (N, d) to values (N, 1), row by row.
        index (int): Input coordinate to differentiate with respect to.

    Inputs:
        - **points** (Tensor) - shape (N, d).

    Outputs:
        Tensor of shape (N, 1).
    """

    def __init__(self, fn, index):
        super().__init__()
        self.gradient = InputGradient(fn)
        self.start = int(index)
        self.stop = int(index) + 1

    def construct(self, points):  # pylint: disable=arguments-differ
        """Return d fn / d points[:, index] at every point."""
        return self.gradient(points)[:, self.start:self.stop]
