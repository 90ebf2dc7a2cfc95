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
r"""A differentiable 2-D acoustic solver: :math:`u_{tt} + \sigma u_t = c^2 \Delta u + s(t)\,\delta(x - x_s)`.

Second order in time (leapfrog), fourth order in space, a damping layer (sponge) of ``sponge_cells`` cells on the
absorbing sides (the top can instead be a free surface, u = 0), shots as a batch dimension, sources and receivers
anywhere (bilinear interpolation onto the grid). The time loop is a graph-mode ``while`` loop over blocks of
``block`` unrolled steps, so a graph compiles in seconds whatever the number of steps and MindSpore's automatic
differentiation runs backwards through it: the gradient is the exact gradient of the discrete misfit. ``block >= nt``
unrolls the whole loop (compile time grows with the number of steps; see benchmarks/fwi).
"""
import math

import numpy as np
import mindspore as ms
from mindspore import Tensor, nn, ops

# Fourth-order central second derivative: (-1/12, 4/3, -5/2, 4/3, -1/12) / h^2.
STENCIL = (-1.0 / 12.0, 4.0 / 3.0, -5.0 / 2.0, 4.0 / 3.0, -1.0 / 12.0)
HALO = 2
# Leapfrog with this stencil in 2-D is stable for c dt / h <= 2 / sqrt(2 * 16 / 3) = 0.612.
CFL_LIMIT = 2.0 / math.sqrt(2.0 * 16.0 / 3.0)


def ricker(freq, nt, dt, delay=None):
    """Ricker wavelet of peak frequency ``freq`` (Hz) at times ``n * dt``, centred on ``delay`` (default 1.2 / freq)."""
    delay = 1.2 / freq if delay is None else delay
    arg = (np.pi * freq * (np.arange(nt) * dt - delay)) ** 2
    return ((1.0 - 2.0 * arg) * np.exp(-arg)).astype(np.float64)


def damping_profile(shape, cells, spacing, vmax, free_surface, reflection=1e-3):
    r"""Damping :math:`\sigma` (1/s) of the sponge: quadratic ramp over ``cells`` cells to
    :math:`\sigma_{max} = 3 v_{max} \ln(1/R) / (2 L)` (the PML estimate for a layer of width L)."""
    nz, nx = shape
    if cells == 0:
        return np.zeros(shape)
    width = cells * spacing
    sigma_max = 3.0 * vmax * math.log(1.0 / reflection) / (2.0 * width)

    def ramp(n, low):
        i = np.arange(n, dtype=np.float64)
        dist = np.maximum(np.maximum(cells - i, i - (n - 1 - cells)), 0.0) / cells
        if not low:
            dist[: n // 2] = 0.0
        return sigma_max * dist ** 2

    return np.maximum(ramp(nz, not free_surface)[:, None], ramp(nx, True)[None, :])


def bilinear(points, spacing, offset, shape):
    """Flat indices (P, 4) and weights (P, 4) that interpolate a field of ``shape`` at ``points`` (P, 2), (z, x) in
    metres, the grid node (i, j) lying at ((i - offset[0]) h, (j - offset[1]) h)."""
    pos = np.asarray(points, np.float64) / spacing + np.asarray(offset, np.float64)
    base = np.floor(pos).astype(np.int64)
    base = np.clip(base, 0, np.asarray(shape) - 2)
    frac = pos - base
    corners = ((0, 0), (0, 1), (1, 0), (1, 1))
    index = np.stack([(base[:, 0] + a) * shape[1] + base[:, 1] + b for a, b in corners], axis=1)
    weight = np.stack([(frac[:, 0] if a else 1 - frac[:, 0]) * (frac[:, 1] if b else 1 - frac[:, 1])
                       for a, b in corners], axis=1)
    return index.astype(np.int32), weight.astype(np.float32)


class AcousticSolver(nn.Cell):
    """Shot records of a velocity model, or their squared misfit to observed records (differentiable).

    Args:
        shape (tuple[int]): Model grid ``(nz, nx)``.
        spacing (float): Cell size h (m), the same in z and x.
        dt (float): Time step (s).
        nt (int): Number of time steps; records hold the field at times ``0, dt, ..., (nt - 1) dt``.
        wavelet (numpy.ndarray): Source time function, ``nt`` samples.
        sources (numpy.ndarray): Source positions (S, 2), (z, x) in metres from the model's top-left cell centre.
        receivers (numpy.ndarray): Receiver positions (R, 2), the same receivers for every shot.
        sponge_cells (int): Width of the damping layer added outside the model on each absorbing side.
        free_surface (bool): Top without sponge, u = 0 above the first row (a free surface).
        vmax (float): Largest velocity (m/s) the solver must handle: it sizes the sponge and checks stability.
        block (int): Time steps unrolled per iteration of the graph-mode while loop; ``block >= nt`` unrolls the
            whole time loop. Compile time grows with ``block``, run time falls with it. Default: ``10``.

    Inputs:
        - **velocity** (Tensor) - (nz, nx), in m/s.
        - **observed** (Tensor) - (nt, S, R) records, only in :meth:`misfit`.

    Raises:
        ValueError: If the time step breaks the stability limit for `vmax` or `block` is not a positive integer.
    """

    def __init__(self, shape, spacing, dt, nt, wavelet, sources, receivers, sponge_cells=20, free_surface=True,
                 vmax=4000.0, block=10):
        super().__init__()
        if isinstance(block, bool) or not isinstance(block, int) or block < 1:
            raise ValueError(f"block must be a positive integer, but got {block!r}")
        courant = vmax * dt / spacing
        if courant > CFL_LIMIT:
            raise ValueError(f"unstable: vmax * dt / spacing = {courant:.3f} > {CFL_LIMIT:.3f}; lower dt")
        self.nt = int(nt)
        self.block = min(block, self.nt)
        # steps run by the while loop (whole blocks); the rest are unrolled after it
        self.looped = (self.nt // self.block) * self.block if self.block < self.nt else 0
        nz, nx = shape
        top = 0 if free_surface else sponge_cells
        self.pads = (top, sponge_cells, sponge_cells, sponge_cells)  # top, bottom, left, right
        self.full = (nz + top + sponge_cells, nx + 2 * sponge_cells)
        sigma = damping_profile(self.full, sponge_cells, spacing, vmax, free_surface)
        half = sigma * dt / 2.0
        self.scale = 1.0 / (1.0 + half)
        self.decay = Tensor(((1.0 - half) * self.scale).astype(np.float32))
        self.two = Tensor((2.0 * self.scale).astype(np.float32))
        self.courant2 = Tensor((self.scale * (dt / spacing) ** 2).astype(np.float32))
        # model cell (i, j) -> cell of the padded grid, edge values continued into the sponge
        rows = np.clip(np.arange(self.full[0]) - top, 0, nz - 1)
        cols = np.clip(np.arange(self.full[1]) - sponge_cells, 0, nx - 1)
        self.pad_index = Tensor((rows[:, None] * nx + cols[None, :]).astype(np.int32))
        offset = (top, sponge_cells)
        src_index, src_weight = bilinear(sources, spacing, offset, self.full)
        num_shots = src_index.shape[0]
        injection = np.zeros((num_shots, self.full[0] * self.full[1]), np.float64)
        for shot in range(num_shots):
            np.add.at(injection[shot], src_index[shot], src_weight[shot])
        # a point source of unit strength is 1 / h^2 on its cell; dt^2 from the time step
        injection = injection.reshape((num_shots,) + self.full) * (dt ** 2 / spacing ** 2) * self.scale[None]
        self.injection = Tensor(injection.astype(np.float32))
        self.wavelet = Tensor(np.asarray(wavelet, np.float32))
        rec_index, rec_weight = bilinear(receivers, spacing, offset, self.full)
        self.rec_index = Tensor(rec_index.reshape(-1))
        self.rec_weight = Tensor(rec_weight[None])
        self.num_receivers = rec_index.shape[0]
        self.num_shots = num_shots
        self.cell_count = self.full[0] * self.full[1]

    def coefficients(self, velocity):
        """(c dt / h)^2 on the padded grid, over the sponge's denominator."""
        padded = ops.gather(velocity.reshape(-1), self.pad_index, 0)
        return padded * padded * self.courant2

    def step(self, u_now, u_old, c2, source):
        """One leapfrog step; u has a halo of two zero cells on each side."""
        core = u_now[:, HALO:-HALO, HALO:-HALO]
        lap = (STENCIL[2] * 2.0) * core
        for k in (0, 1, 3, 4):
            lap = lap + STENCIL[k] * (u_now[:, k:k + self.full[0], HALO:-HALO]
                                      + u_now[:, HALO:-HALO, k:k + self.full[1]])
        new = self.two * core - self.decay * u_old[:, HALO:-HALO, HALO:-HALO] + c2 * lap + source
        # zero halo by concatenation: ops.pad inside a while loop hangs MindSpore 2.10's backward pass (CPU)
        rows = ops.zeros((self.num_shots, HALO, self.full[1]), ms.float32)
        cols = ops.zeros((self.num_shots, self.full[0] + 2 * HALO, HALO), ms.float32)
        return ops.concat((cols, ops.concat((rows, new, rows), 1), cols), 2)

    def sample(self, u_now):
        """Receiver values (S, R) of the padded field."""
        flat = u_now[:, HALO:-HALO, HALO:-HALO].reshape((self.num_shots, self.cell_count))
        corners = ops.gather(flat, self.rec_index, 1).reshape((self.num_shots, self.num_receivers, 4))
        return (corners * self.rec_weight).sum(-1)

    def initial(self):
        """Zero fields, with halo."""
        shape = (self.num_shots, self.full[0] + 2 * HALO, self.full[1] + 2 * HALO)
        return ops.zeros(shape, ms.float32), ops.zeros(shape, ms.float32)

    def _advance(self, u_now, u_old, c2, index):
        """Step ``index`` (an int or a scalar Tensor): the receiver values of u_now, then the new fields."""
        values = self.sample(u_now)
        u_new = self.step(u_now, u_old, c2, self.wavelet[index] * self.injection)
        return values, u_new, u_now

    def construct(self, velocity):
        """Records (nt, S, R) of ``velocity`` (forward modelling, e.g. the observed data)."""
        c2 = self.coefficients(velocity)
        u_now, u_old = self.initial()
        records = ops.zeros((self.nt, self.num_shots, self.num_receivers), ms.float32)
        i = Tensor(0, ms.int32)
        while i < self.looped:
            for k in range(self.block):
                values, u_now, u_old = self._advance(u_now, u_old, c2, i + k)
                records[i + k] = values
            i = i + self.block
        for j in range(self.looped, self.nt):
            values, u_now, u_old = self._advance(u_now, u_old, c2, j)
            records[j] = values
        return records

    def misfit(self, velocity, observed):
        """Sum over time, shots and receivers of the squared difference to ``observed``, accumulated in the loop
        (no record buffer in the differentiated graph)."""
        c2 = self.coefficients(velocity)
        u_now, u_old = self.initial()
        total = ops.zeros((), ms.float32)
        i = Tensor(0, ms.int32)
        while i < self.looped:
            for k in range(self.block):
                values, u_now, u_old = self._advance(u_now, u_old, c2, i + k)
                total = total + ops.square(values - observed[i + k]).sum()
            i = i + self.block
        for j in range(self.looped, self.nt):
            values, u_now, u_old = self._advance(u_now, u_old, c2, j)
            total = total + ops.square(values - observed[j]).sum()
        return total
