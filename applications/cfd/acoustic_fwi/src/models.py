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
"""Velocity models made by code (no download), in km/s, and the smoothed starting model of the inversion."""
import numpy as np
from scipy.ndimage import gaussian_filter

MODEL_KINDS = ("layered", "marmousi_like")


def layered_model(shape, spacing, v_top=1.5, v_bottom=2.5, layer=(150.0, 60.0, 0.4),
                  anomaly=(250.0, 400.0, 60.0, -0.3)):
    """A velocity gradient from ``v_top`` to ``v_bottom``, a fast layer and a round anomaly.

    Args:
        shape (tuple[int]): (nz, nx) cells.
        spacing (float): Cell size (m).
        v_top, v_bottom (float): Background velocity (km/s) at the top and bottom rows.
        layer (tuple[float]): (top depth m, thickness m, velocity increase km/s) of the fast layer.
        anomaly (tuple[float]): (z m, x m, radius m, velocity change km/s) of the round anomaly.

    Returns:
        numpy.ndarray (nz, nx), float32.
    """
    nz, nx = shape
    z = np.arange(nz)[:, None] * spacing
    x = np.arange(nx)[None, :] * spacing
    model = v_top + (v_bottom - v_top) * z / max((nz - 1) * spacing, spacing) + 0.0 * x
    top, thickness, dv = layer
    model = model + dv * ((z >= top) & (z < top + thickness))
    az, ax, radius, dv = anomaly
    model = model + dv * (((z - az) ** 2 + (x - ax) ** 2) <= radius ** 2)
    return model.astype(np.float32)


def marmousi_like(shape, spacing, seed=0, v_top=1.5, v_bottom=4.0, layers=12, faults=2):
    """Folded, faulted sediment layers like the Marmousi model, drawn from ``seed``.

    Layer interfaces are gently folded sines; each normal fault (a dipping line) throws the layers on its
    hanging wall down; each layer's velocity follows the trend from ``v_top`` to ``v_bottom`` with a random
    contrast, so slow layers can lie below fast ones.

    Returns:
        numpy.ndarray (nz, nx), float32.
    """
    rng = np.random.default_rng(seed)
    nz, nx = shape
    depth = (nz - 1) * spacing
    width = (nx - 1) * spacing
    z = np.arange(nz)[:, None] * spacing + 0.0 * np.arange(nx)[None, :]
    x = 0.0 * np.arange(nz)[:, None] + np.arange(nx)[None, :] * spacing
    # fold: depth shift of every interface as a function of x, growing with depth
    wavelength = width * rng.uniform(0.6, 1.2)
    fold = rng.uniform(0.04, 0.08) * depth * np.sin(2 * np.pi * x / wavelength + rng.uniform(0, 2 * np.pi))
    shifted = z - fold * (z / depth)
    for _ in range(faults):
        x0 = rng.uniform(0.25, 0.75) * width
        dip = np.tan(np.radians(rng.uniform(55.0, 75.0))) * rng.choice([-1.0, 1.0])
        throw = rng.uniform(0.05, 0.12) * depth
        hanging = (x - x0) * dip > z  # one side of the dipping fault line x = x0 + z / dip
        shifted = shifted - throw * hanging * (z > 0.1 * depth)
    bounds = np.sort(rng.uniform(0.05, 1.0, layers - 1)) * depth
    index = np.searchsorted(bounds, shifted)
    trend = np.linspace(v_top, v_bottom, layers)
    values = trend + rng.uniform(-0.15, 0.15, layers) * (v_bottom - v_top) / 2
    values[0] = v_top
    return np.clip(values[index], v_top, v_bottom).astype(np.float32)


def smooth(model, length, spacing):
    """Gaussian smoothing with standard deviation ``length`` metres (edges continued); float32."""
    return gaussian_filter(np.asarray(model, np.float64), length / spacing, mode="nearest").astype(np.float32)


def smoothing_length(choice, seed):
    """The smoothing length (m): ``choice`` itself, or drawn uniformly from ``[low, high]`` with ``seed``."""
    if isinstance(choice, (list, tuple)):
        low, high = float(choice[0]), float(choice[1])
        return float(np.random.default_rng(seed).uniform(low, high))
    return float(choice)


def true_model(kind, shape, spacing, options, seed):
    """The true model of ``kind`` (``layered`` or ``marmousi_like``) with keyword ``options`` from the config."""
    if kind == "layered":
        return layered_model(shape, spacing, **options)
    if kind == "marmousi_like":
        return marmousi_like(shape, spacing, seed=seed, **options)
    raise ValueError(f"unknown model kind {kind!r}; choose from {MODEL_KINDS}")
