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
"""A quasi-Newton finish: SciPy's L-BFGS-B on the full-batch PINN loss, fed by MindSpore gradients.

PINNs reach their lowest errors when a first-order phase (Adam or AdaHessian) is followed by L-BFGS on the
fixed points (Raissi et al., 2019). SciPy's L-BFGS-B keeps its state in float64 on the host; every function
evaluation writes the weights into the network and runs one compiled loss-and-gradient Cell. The weights are
written with ``Parameter.set_data``, which a compiled Cell sees on its next call, whereas a function compiled
with ``mindspore.jit`` that closes over the parameters would keep the values it captured.
"""
import numpy as np
from mindspore import Tensor, nn, value_and_grad
from scipy.optimize import minimize


class LossAndGradient(nn.Cell):
    """Loss and its gradient with respect to ``params``, as one Cell (compiled in GRAPH mode).

    Args:
        loss_cell (nn.Cell): Scalar loss of four point tensors.
        params (list[Parameter]): Parameters to differentiate with respect to.

    Inputs:
        The four point tensors of ``loss_cell``.

    Outputs:
        Tuple ``(loss, grads)``.
    """

    def __init__(self, loss_cell, params):
        super().__init__()
        self.loss_cell = loss_cell
        self.grad_fn = value_and_grad(loss_cell, None, params)

    def construct(self, pde_points, ic_points, ic_values, bc_points):  # pylint: disable=arguments-differ
        """Return the loss and the gradients."""
        return self.grad_fn(pde_points, ic_points, ic_values, bc_points)


class _FlatParameters:
    """Moves the parameters between the network and the one float64 vector that SciPy works on."""

    def __init__(self, params):
        self.params = list(params)
        self.shapes = [tuple(p.shape) for p in self.params]
        self.bounds = np.cumsum([0] + [int(np.prod(shape)) for shape in self.shapes])

    def read(self):
        """The current parameters, concatenated, as float64."""
        return np.concatenate([p.asnumpy().ravel() for p in self.params]).astype(np.float64)

    def write(self, vector):
        """Set every parameter from its piece of ``vector``."""
        for param, shape, start, stop in zip(self.params, self.shapes, self.bounds[:-1], self.bounds[1:]):
            param.set_data(Tensor(vector[start:stop].reshape(shape).astype(np.float32)))

    @staticmethod
    def join(grads):
        """Gradients as one float64 vector."""
        return np.concatenate([g.asnumpy().ravel() for g in grads]).astype(np.float64)


def lbfgs_finish(loss_cell, params, inputs, iterations, history_size=50, callback=None):
    """Minimise ``loss_cell(*inputs)`` over ``params`` with SciPy's L-BFGS-B, starting from their values.

    Args:
        loss_cell (nn.Cell): Scalar loss of the four point tensors.
        params (list[Parameter]): Parameters to optimise; they hold the result afterwards.
        inputs (tuple[Tensor]): The four point tensors (the full batch: L-BFGS needs a fixed loss).
        iterations (int): Most L-BFGS iterations. SciPy may stop earlier when the loss no longer decreases
            (its line search fails in float32 noise); the result says why.
        history_size (int): Correction pairs L-BFGS keeps. Default: ``50``.
        callback (Callable[[int], None]): Called after each iteration with its number (from 1), the network
            holding that iteration's weights; for evaluations and progress output. Default: ``None``.

    Returns:
        dict with ``iterations``, ``evaluations``, ``loss`` and ``message``.

    Raises:
        ValueError: If ``iterations`` is not a positive integer.
    """
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be a positive integer, but got {iterations!r}")
    flat = _FlatParameters(params)
    loss_and_grad = LossAndGradient(loss_cell, flat.params)

    def loss_and_gradient(vector):
        flat.write(vector)
        loss, grads = loss_and_grad(*inputs)
        return float(loss.asnumpy()), flat.join(grads)

    count = [0]

    def after_iteration(vector):
        count[0] += 1
        if callback is not None:
            flat.write(vector)
            callback(count[0])

    # ftol and gtol far below float32 resolution: the iteration budget, or a failed line search, ends the run.
    result = minimize(loss_and_gradient, flat.read(), jac=True, method="L-BFGS-B", callback=after_iteration,
                      options={"maxiter": iterations, "maxfun": 2 * iterations, "maxcor": int(history_size),
                               "ftol": 1e-15, "gtol": 1e-12})
    flat.write(result.x)
    return {"iterations": int(result.nit), "evaluations": int(result.nfev), "loss": float(result.fun),
            "message": str(result.message)}
