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
"""The benchmark workloads: the Burgers application's PINN loss on tanh MLPs, and CNN classifiers.

A workload is a network, a scalar loss Cell ``loss_fn(*inputs)`` and its ``inputs``, built from a fixed seed.
"""
import importlib
import math
import os
import sys
from collections import namedtuple

import numpy as np
import mindspore as ms
from mindspore import Tensor, nn, ops

N_PDE, N_IC, N_BC = 512, 128, 128
CLASSES = 10
APP_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "applications",
                       "physics_driven", "burgers_adahessian")
MLP_SIZES = {"pinn_small": [2, 20, 20, 20, 1], "pinn_large": [2] + [64] * 6 + [1]}
Workload = namedtuple("Workload", "name net loss_fn inputs")


def mlp(sizes):
    """tanh MLP with these layer widths, no activation after the last layer."""
    return nn.SequentialCell([nn.Dense(fan_in, fan_out, activation="tanh" if i < len(sizes) - 2 else None)
                              for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]))])


def conv(cin, cout, stride=1):
    """3x3 convolution with bias, padding 1 (``same`` for stride 1)."""
    return nn.Conv2d(cin, cout, 3, stride=stride, pad_mode="pad", padding=1, has_bias=True)


def app_module(name):
    """A module of the Burgers application's ``src`` package: the benchmark times the application's loss."""
    if APP_DIR not in sys.path:
        sys.path.insert(0, APP_DIR)
    return importlib.import_module(f"src.{name}")


class BurgersLoss(nn.Cell):
    """The application's PINN loss (``src.losses.BurgersLossTerms``, unit weights) on stacked PDE, IC, BC points."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.terms = app_module("losses").BurgersLossTerms(net, 0.01 / math.pi)

    def construct(self, points):
        """u(x, 0) = -sin(pi x) on the initial points, u(+-1, t) = 0 on the boundary points."""
        ic = points[N_PDE:N_PDE + N_IC]
        pde_term, ic_term, bc_term = self.terms(points[:N_PDE], ic, -ops.sin(math.pi * ic[:, 0:1]),
                                                points[N_PDE + N_IC:])
        return pde_term + ic_term + bc_term


class CrossEntropyLoss(nn.Cell):
    """Mean cross entropy of the logits against integer labels, in a form MindSpore 2.10 differentiates twice on CPU.

    ``ops.cross_entropy`` ('Bprop "GatherDGradV2" encounter a problem') and log_softmax ("LogSoftmaxGrad's bprop not
    defined") have no second derivative there, and ``nn.SoftmaxCrossEntropyWithLogits`` gives a zero Hessian-vector
    product; this form uses exp, log, sum and a one-hot product only.
    """

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.on_value, self.off_value = Tensor(1.0, ms.float32), Tensor(0.0, ms.float32)

    def construct(self, images, labels):
        """Mean of logsumexp(logits) - logits[label]."""
        logits = self.net(images)
        shifted = logits - ops.stop_gradient(ops.max(logits, -1, keepdims=True)[0])
        onehot = ops.one_hot(labels, CLASSES, self.on_value, self.off_value)
        return ops.mean(ops.log(ops.sum(ops.exp(shifted), -1)) - ops.sum(shifted * onehot, -1))


def build_workload(name, seed=0):
    """``pinn_small`` (2-20-20-20-1), ``pinn_large`` (2-[64]x6-1), ``pinn_app`` (the application's default network)
    on 512 + 128 + 128 points, or ``cnn``: two stride-2 convolutions (3-16-32, ReLU) and a dense head, batch 64."""
    ms.set_seed(seed)
    rng = np.random.default_rng(seed)
    if name == "cnn":
        net = nn.SequentialCell([conv(3, 16, 2), nn.ReLU(), conv(16, 32, 2), nn.ReLU(), nn.Flatten(),
                                 nn.Dense(32 * 8 * 8, CLASSES)])
        inputs = (Tensor(rng.normal(0.0, 1.0, (64, 3, 32, 32)).astype(np.float32)),
                  Tensor(rng.integers(0, CLASSES, 64).astype(np.int32)))
        return Workload(name, net, CrossEntropyLoss(net), inputs)
    if name == "pinn_app":
        model = app_module("model")
        net = model.build_model(app_module("config").load_config(os.path.join(APP_DIR, "configs", "burgers.yaml"))
                                ["model"])
        model.glorot_initialize(net, seed)
    else:
        net = mlp(MLP_SIZES[name])
    count = N_PDE + N_IC + N_BC
    points = np.stack([rng.uniform(-1.0, 1.0, count), rng.uniform(0.0, 1.0, count)], axis=1)
    points[N_PDE:N_PDE + N_IC, 1] = 0.0  # initial points: t = 0
    points[N_PDE + N_IC:, 0] = np.where(np.arange(N_BC) % 2 == 0, -1.0, 1.0)  # boundary points: x = -1 or 1
    return Workload(name, net, BurgersLoss(net), (Tensor(points.astype(np.float32)),))
