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
"""Spatial averaging of the Hessian-diagonal estimate (AdaHessian's block mean): averaging |z * Hz| over the spatial
axes of a kernel smooths the noisy estimate; the second moment is stored at the averaged shape."""
import mindspore as ms
from mindspore import ops

__all__ = ["curvature_blocks", "resolve_axes"]


def resolve_axes(rule, ndim, owner="AdaHessian", name=None):
    """Turn a spatial-averaging rule into sorted axes for ``ndim``: "auto" (none for 0-D/1-D, axis 1 for 2-D, axes
    2.. for 3-D and up), "none" or a tuple of axes (checked against ``ndim`` only for a parameter ``name``)."""
    where = f" for parameter '{name}'" if name else ""
    if isinstance(rule, str):
        if rule == "auto":
            return tuple(range(1 if ndim == 2 else 2, ndim))
        if rule == "none":
            return ()
        raise ValueError(f"For '{owner}', the 'spatial_average' must be 'auto', 'none' or a tuple of axes, "
                         f"but got {rule!r}{where}.")
    if isinstance(rule, int) and not isinstance(rule, bool):
        rule = (rule,)
    if not isinstance(rule, (tuple, list)) or not all(isinstance(a, int) and not isinstance(a, bool) for a in rule):
        raise TypeError(f"For '{owner}', the 'spatial_average' must be 'auto', 'none' or a tuple of int axes, "
                        f"but got {rule!r}{where}.")
    if name is None:
        return tuple(rule)
    for axis in rule:
        if not -ndim <= axis < ndim:
            raise ValueError(f"For '{owner}', the 'spatial_average' axis {axis} is out of range for the "
                             f"{ndim}-D parameter '{name}'.")
    return tuple(sorted({axis % ndim for axis in rule}))


def curvature_blocks(grads, diagonal, curvatures, axes):
    """Per parameter, the averaged |estimate|, or |g| where its curvature is 'gradient' (``diagonal`` holds the
    estimates of the 'hutchinson' parameters only, in order)."""
    result, position = (), 0
    for grad, curvature, parameter_axes in zip(grads, curvatures, axes):
        if curvature == "hutchinson":
            raw = ops.abs(diagonal[position])
            position += 1
        else:
            raw = ops.abs(ops.cast(grad, ms.float32))
        if parameter_axes:
            raw = ops.mean(raw, axis=parameter_axes, keep_dims=True)
        result += (raw,)
    return result
