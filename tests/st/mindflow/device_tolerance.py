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
"""Tolerances of the comparisons with NumPy references, per device.

Each test writes down its own tolerance, the one it needs on CPU in float32. On another device
``tolerance`` loosens it to that device's floor, never tightens it:

========  ========  ========  ==========================================================================
device    rtol      atol      why
========  ========  ========  ==========================================================================
CPU       test's    test's    float32 kernels; the values each test asserts
GPU       test's    test's    float32 kernels as on CPU (not run yet: no GPU was available)
Ascend    1e-2      1e-3      on Atlas training devices MindSpore 2.5-2.7 computes float32 matrix
                              operators in float16 by default (precision_mode ``allow_fp32_to_fp16``,
                              see ``mindspore.device_context.ascend.op_precision.precision_mode``):
                              float16's unit roundoff is 4.9e-4, and 20 steps of AdaHessian divide by
                              a square root of the curvature estimate (not run yet: no Ascend device)
========  ========  ========  ==========================================================================

With ``precision_mode("must_keep_origin_dtype")`` set on Ascend the CPU values should hold there too.
"""
import mindspore as ms

# device -> (rtol floor, atol floor); 0.0 keeps the test's own value.
FLOORS = {
    "CPU": (0.0, 0.0),
    "GPU": (0.0, 0.0),
    "Ascend": (1e-2, 1e-3),
}


def current_device():
    """The device MindSpore runs on in this process (set once per session by tests/st/mindflow/conftest.py)."""
    return ms.get_context("device_target")


def tolerance(rtol, atol=0.0, device=None):
    """Keyword arguments ``rtol``/``atol`` for ``numpy.testing.assert_allclose`` on ``device``.

    Args:
        rtol (float): The test's relative tolerance on CPU.
        atol (float): The test's absolute tolerance on CPU. Default: 0.0.
        device (str): ``"CPU"``, ``"GPU"`` or ``"Ascend"``. Default: None, the current device.

    Returns:
        dict: ``{"rtol": ..., "atol": ...}``, the test's values raised to the device's floors
        (on CPU and GPU exactly the test's values).
    """
    rtol_floor, atol_floor = FLOORS[device or current_device()]
    return {"rtol": max(rtol, rtol_floor), "atol": max(atol, atol_floor)}
