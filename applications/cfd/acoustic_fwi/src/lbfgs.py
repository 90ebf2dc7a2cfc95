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
"""SciPy's L-BFGS-B on the FWI misfit, fed by a compiled misfit-and-gradient Cell (as the Burgers application's
``src/lbfgs.py``, adapted: one Parameter, box bounds on the velocity).

SciPy keeps its state in float64 on the host; each evaluation writes the model with ``Parameter.set_data``, which a
compiled Cell sees on its next call.
"""
import numpy as np
from scipy.optimize import minimize


def lbfgs_minimize(loss_and_gradient, x0, iterations, bounds=None, history_size=10, callback=None):
    """Minimise ``loss_and_gradient(x) -> (float, ndarray)`` from ``x0`` with L-BFGS-B.

    Args:
        loss_and_gradient (Callable): The misfit and its gradient (float64 vector) at a float64 vector.
        x0 (numpy.ndarray): Start, float64.
        iterations (int): Most iterations (positive); SciPy may stop earlier, the result says why.
        bounds (tuple[float]): ``(low, high)`` for every entry, or ``None``.
        history_size (int): Correction pairs kept. Default: ``10``.
        callback (Callable[[int, numpy.ndarray], None]): Called after each iteration with its number (from 1)
            and the iterate.

    Returns:
        dict with ``x``, ``iterations``, ``evaluations``, ``loss`` and ``message``.

    Raises:
        ValueError: If ``iterations`` is not a positive integer.
    """
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be a positive integer, but got {iterations!r}")
    count = [0]

    def after_iteration(vector):
        count[0] += 1
        if callback is not None:
            callback(count[0], vector)

    box = None if bounds is None else [tuple(bounds)] * int(np.size(x0))
    # ftol and gtol far below float32 resolution: the iteration budget, or a failed line search, ends the run.
    result = minimize(loss_and_gradient, np.asarray(x0, np.float64), jac=True, method="L-BFGS-B", bounds=box,
                      callback=after_iteration,
                      options={"maxiter": iterations, "maxfun": 2 * iterations, "maxcor": int(history_size),
                               "ftol": 1e-15, "gtol": 1e-12})
    return {"x": result.x, "iterations": int(result.nit), "evaluations": int(result.nfev), "loss": float(result.fun),
            "message": str(result.message)}
