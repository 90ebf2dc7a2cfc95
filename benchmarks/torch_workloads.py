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
"""PyTorch twins of the benchmark workloads, and AdaHessian written the usual PyTorch way.

The networks take their weights from the MindSpore workloads (``workloads.workload_arrays``), so both
frameworks time the same model on the same data. :class:`TorchAdaHessian` follows the update of
``mindflow.cell.optimizers.AdaHessian`` (decoupled weight decay left out, as the benchmark uses none):
the gradient comes from ``torch.autograd.grad(loss, params, create_graph=True)`` on refresh steps and
the Hessian-vector product from a second ``torch.autograd.grad`` with Rademacher probes.
"""
import math

import torch
from torch import nn
from torch.nn import functional as F

from workloads import CNN_CLASSES, N_IC, N_PDE, NU


class TorchMLP(nn.Module):
    """tanh MLP with the given (weight, bias) arrays."""

    def __init__(self, arrays):
        super().__init__()
        self.layers = nn.ModuleList()
        for weight, bias in arrays:
            layer = nn.Linear(weight.shape[1], weight.shape[0])
            with torch.no_grad():
                layer.weight.copy_(torch.from_numpy(weight))
                layer.bias.copy_(torch.from_numpy(bias))
            self.layers.append(layer)

    def forward(self, points):
        """u at ``points``."""
        hidden = points
        for layer in self.layers[:-1]:
            hidden = torch.tanh(layer(hidden))
        return self.layers[-1](hidden)


class TorchCNN(nn.Module):
    """conv3x3/2 (3->16) relu, conv3x3/2 (16->32) relu, dense 2048 -> 10."""

    def __init__(self, arrays):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.dense = nn.Linear(2048, CNN_CLASSES)
        with torch.no_grad():
            for layer, (weight, bias) in zip((self.conv1, self.conv2, self.dense), arrays):
                layer.weight.copy_(torch.from_numpy(weight))
                layer.bias.copy_(torch.from_numpy(bias))

    def forward(self, images):
        """Logits of ``images``."""
        hidden = F.relu(self.conv1(images))
        hidden = F.relu(self.conv2(hidden))
        return self.dense(hidden.flatten(1))


def burgers_loss(net, points):
    """The Burgers PINN loss of ``workloads.BurgersLoss`` with torch.autograd input derivatives."""
    pde = points[:N_PDE].detach().requires_grad_(True)
    u = net(pde)
    du = torch.autograd.grad(u.sum(), pde, create_graph=True)[0]
    u_x, u_t = du[:, 0:1], du[:, 1:2]
    u_xx = torch.autograd.grad(u_x.sum(), pde, create_graph=True)[0][:, 0:1]
    residual = u_t + u * u_x - NU * u_xx
    ic = points[N_PDE:N_PDE + N_IC]
    ic_error = net(ic) + torch.sin(math.pi * ic[:, 0:1])
    bc_error = net(points[N_PDE + N_IC:])
    return (residual * residual).mean() + (ic_error * ic_error).mean() + (bc_error * bc_error).mean()


def build_torch_workload(workload, param_arrays, input_arrays):
    """``(module, closure)`` for a MindSpore workload: ``closure()`` returns the loss of the current weights."""
    if workload.name == "cnn":
        arrays = list(zip(param_arrays[0::2], param_arrays[1::2]))
        net = TorchCNN(arrays)
        images = torch.from_numpy(input_arrays[0])
        labels = torch.from_numpy(input_arrays[1]).long()

        def closure():
            return F.cross_entropy(net(images), labels)
        return net, closure
    arrays = list(zip(param_arrays[0::2], param_arrays[1::2]))
    net = TorchMLP(arrays)
    points = torch.from_numpy(input_arrays[0])

    def pinn_closure():
        return burgers_loss(net, points)
    return net, pinn_closure


def _average_axes(ndim):
    """AdaHessian's default spatial averaging: none for 0-D/1-D, axis 1 for 2-D, axes 2.. for 3-D and up."""
    if ndim <= 1:
        return ()
    if ndim == 2:
        return (1,)
    return tuple(range(2, ndim))


class TorchAdaHessian(torch.optim.Optimizer):
    """AdaHessian as usually written for PyTorch; ``step(closure)`` evaluates the loss and its derivatives.

    Args:
        params (Iterable[torch.Tensor]): Parameters.
        lr (float): Learning rate.
        betas (tuple[float, float]): Moment decays.
        eps (float): Denominator term.
        update_interval (int): Steps between Hessian-diagonal refreshes.
        seed (int): Seed of the probe generator.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, update_interval=1, seed=0):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})
        self.update_interval = update_interval
        self.generator = torch.Generator().manual_seed(seed)
        self.step_count = 0
        self.refresh_count = 0

    def _params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def _hessian_diagonal(self, loss, params):
        """Gradient and spatially averaged |z * Hz| (one Rademacher probe)."""
        grads = torch.autograd.grad(loss, params, create_graph=True)
        probes = [torch.randint(0, 2, p.shape, generator=self.generator, dtype=p.dtype) * 2 - 1 for p in params]
        hvs = torch.autograd.grad(grads, params, grad_outputs=probes)
        curvatures = []
        for probe, hv in zip(probes, hvs):
            raw = (probe * hv).abs()
            axes = _average_axes(raw.ndim)
            curvatures.append(raw.mean(dim=axes, keepdim=True) if axes else raw)
        return [g.detach() for g in grads], curvatures

    def step(self, closure):  # pylint: disable=arguments-differ,signature-differs
        """One step: returns the loss that ``closure()`` computed."""
        params = self._params()
        with torch.enable_grad():
            loss = closure()
        refresh = self.step_count % self.update_interval == 0
        if refresh:
            grads, curvatures = self._hessian_diagonal(loss, params)
            self.refresh_count += 1
        else:
            grads, curvatures = torch.autograd.grad(loss, params), None
        self.step_count += 1
        group = self.param_groups[0]
        beta1, beta2 = group["betas"]
        bias1 = 1.0 - beta1 ** self.step_count
        bias2 = 1.0 - beta2 ** max(self.refresh_count, 1)
        with torch.no_grad():
            for i, (param, grad) in enumerate(zip(params, grads)):
                state = self.state[param]
                if not state:
                    axes = _average_axes(param.ndim)
                    shape = [1 if d in axes else s for d, s in enumerate(param.shape)]
                    state["m"] = torch.zeros_like(param)
                    state["v"] = torch.zeros(shape, dtype=param.dtype)
                state["m"].mul_(beta1).add_(grad, alpha=1.0 - beta1)
                if curvatures is not None:
                    state["v"].mul_(beta2).addcmul_(curvatures[i], curvatures[i], value=1.0 - beta2)
                denom = (state["v"] / bias2).sqrt_().add_(group["eps"])
                param.addcdiv_(state["m"], denom, value=-group["lr"] / bias1)
        return loss.detach()


def torch_adam_step(net, closure, optimizer):
    """One plain Adam step: backward and ``optimizer.step()``; returns the loss."""
    del net
    optimizer.zero_grad(set_to_none=True)
    loss = closure()
    loss.backward()
    optimizer.step()
    return loss.detach()
