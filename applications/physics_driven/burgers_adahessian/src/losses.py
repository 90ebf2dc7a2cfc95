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
"""Physics-informed loss of the viscous Burgers equation u_t + u u_x = nu u_xx.

All three terms are mean squared errors over fixed point sets: the PDE residual at interior collocation
points, the misfit to u(x, 0) = -sin(pi x), and u at the walls x = +-1, where u = 0.
"""
from mindspore import nn

from .derivatives import InputGradient, PartialDerivative


class BurgersResidual(nn.Cell):
    """Residual ``u_t + u u_x - nu u_xx`` of a network ``u(points)`` with points = (x, t).

    Args:
        net (nn.Cell): Pointwise network, (N, 2) -> (N, 1).
        viscosity (float): nu, 0.01 / pi for the standard problem.

    Inputs:
        - **points** (Tensor) - shape (N, 2), columns x and t.

    Outputs:
        Tensor of shape (N, 1).
    """

    def __init__(self, net, viscosity):
        super().__init__()
        self.net = net
        self.gradient = InputGradient(net)
        self.u_xx = PartialDerivative(PartialDerivative(net, 0), 0)
        self.viscosity = float(viscosity)

    def construct(self, points):  # pylint: disable=arguments-differ
        """Return the PDE residual at ``points``."""
        u = self.net(points)
        grad_u = self.gradient(points)
        u_x = grad_u[:, 0:1]
        u_t = grad_u[:, 1:2]
        return u_t + u * u_x - self.viscosity * self.u_xx(points)


class BurgersLossTerms(nn.Cell):
    """The three unweighted loss terms (PDE, initial condition, boundary condition).

    Args:
        net (nn.Cell): Pointwise network, (N, 2) -> (N, 1).
        viscosity (float): nu.

    Inputs:
        - **pde_points** (Tensor) - (N_pde, 2) interior collocation points.
        - **ic_points** (Tensor) - (N_ic, 2) points at t = 0.
        - **ic_values** (Tensor) - (N_ic, 1) initial values -sin(pi x).
        - **bc_points** (Tensor) - (N_bc, 2) points at x = +-1.

    Outputs:
        Tuple of three scalar Tensors ``(pde, ic, bc)``.
    """

    def __init__(self, net, viscosity):
        super().__init__()
        self.net = net
        self.residual = BurgersResidual(net, viscosity)

    def construct(self, pde_points, ic_points, ic_values, bc_points):  # pylint: disable=arguments-differ
        """Return the mean squared PDE, initial and boundary errors."""
        residual = self.residual(pde_points)
        ic_error = self.net(ic_points) - ic_values
        bc_value = self.net(bc_points)
        return (residual * residual).mean(), (ic_error * ic_error).mean(), (bc_value * bc_value).mean()


class BurgersPINNLoss(nn.Cell):
    """Weighted sum of :class:`BurgersLossTerms`, the scalar that both optimizers minimise.

    It takes exactly four tensors (no ``*args``) so that ``mindspore.value_and_grad`` and AdaHessian's
    ``opt(grad_fn, *inputs)`` can pass them positionally in GRAPH mode.

    Args:
        net (nn.Cell): Pointwise network, (N, 2) -> (N, 1).
        viscosity (float): nu.
        weights (tuple[float]): Weights of the PDE, initial and boundary terms. Default: ``(1, 1, 1)``.
    """

    def __init__(self, net, viscosity, weights=(1.0, 1.0, 1.0)):
        super().__init__()
        self.terms = BurgersLossTerms(net, viscosity)
        self.w_pde, self.w_ic, self.w_bc = (float(w) for w in weights)

    def construct(self, pde_points, ic_points, ic_values, bc_points):  # pylint: disable=arguments-differ
        """Return the total loss."""
        pde, ic, bc = self.terms(pde_points, ic_points, ic_values, bc_points)
        return self.w_pde * pde + self.w_ic * ic + self.w_bc * bc
