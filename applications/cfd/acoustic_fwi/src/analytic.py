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
r"""Analytic records in a homogeneous, unbounded 2-D medium, the reference of the solver's tests.

For :math:`u_{tt} - c^2 \Delta u = s(t)\,\delta(x - x_s)` the field is :math:`u = G * s` with the 2-D Green's function
:math:`G(r, t) = H(t - r/c) / (2 \pi c^2 \sqrt{t^2 - r^2/c^2})`, evaluated in the frequency domain, where
:math:`\hat u(\omega) = -\tfrac{i}{4 c^2} H_0^{(2)}(\omega r / c)\,\hat s(\omega)` (NumPy's FFT sign convention).
"""
import numpy as np
from scipy.special import hankel2


def greens_records(velocity, wavelet, dt, source, receivers, pad_factor=4):
    """Records (nt, R) at ``receivers`` (R, 2) of a point source at ``source`` (2,) firing ``wavelet``.

    Args:
        velocity (float): Wave speed c (m/s).
        wavelet (numpy.ndarray): Source time function s at times ``n * dt``.
        dt (float): Sampling interval (s).
        source (array-like): (z, x) in metres.
        receivers (array-like): (R, 2) in metres, none at the source.
        pad_factor (int): Zero padding of the FFT against wrap-around. Default: ``4``.

    Returns:
        numpy.ndarray of shape (nt, R), float64.
    """
    nt = len(wavelet)
    n = pad_factor * nt
    spectrum = np.fft.rfft(np.asarray(wavelet, np.float64), n)
    omega = 2.0 * np.pi * np.fft.rfftfreq(n, dt)
    dist = np.linalg.norm(np.asarray(receivers, np.float64) - np.asarray(source, np.float64)[None], axis=1)
    green = np.zeros((omega.size, dist.size), np.complex128)
    green[1:] = -0.25j / velocity ** 2 * hankel2(0, omega[1:, None] * dist[None] / velocity)
    return np.fft.irfft(green * spectrum[:, None], n, axis=0)[:nt]
