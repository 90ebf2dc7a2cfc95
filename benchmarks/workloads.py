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
"""The benchmark workloads in MindSpore: Burgers PINN losses and a small CNN classifier.

Every workload is built from NumPy arrays drawn from a fixed seed, so the MindSpore and PyTorch
versions (see ``torch_workloads.py``) start from the same weights and see the same data.

A workload is a :class:`Workload`: a network, a scalar ``loss_fn(*inputs)`` and its ``inputs``.
"""
import importlib
import math
import os
import sys

import numpy as np
import mindspore as ms
from mindspore import Tensor, nn, ops

NU = 0.01 / math.pi
N_PDE, N_IC, N_BC = 512, 128, 128
CNN_BATCH, CNN_CLASSES = 64, 10

_REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
_APP_DIR = os.path.join(_REPO_ROOT, "applications", "physics_driven", "burgers_adahessian")

# name -> (description, builder key, MLP hidden layers, MLP width)
WORKLOADS = {
    "pinn_small": "Burgers PINN, 2-20-20-20-1 tanh MLP, 512+128+128 points",
    "pinn_large": "Burgers PINN, 2-[64]x6-1 tanh MLP, 512+128+128 points",
    "pinn_app": "Burgers PINN, the application's default network (4x32 tanh), 512+128+128 points",
    "cnn": "CNN, two 3x3 stride-2 convs (3-16-32) + dense head, 32x32x3 inputs, batch 64, cross entropy",
}
MLP_SIZES = {"pinn_small": (3, 20), "pinn_large": (6, 64)}


def pinn_points(seed=0):
    """Collocation points (N_PDE + N_IC + N_BC, 2) of (x, t) in [-1, 1] x [0, 1], stacked PDE, IC, BC."""
    rng = np.random.default_rng(seed)
    pde = np.stack([rng.uniform(-1.0, 1.0, N_PDE), rng.uniform(0.0, 1.0, N_PDE)], axis=1)
    ic = np.stack([rng.uniform(-1.0, 1.0, N_IC), np.zeros(N_IC)], axis=1)
    bc_x = np.where(np.arange(N_BC) % 2 == 0, -1.0, 1.0)
    bc = np.stack([bc_x, rng.uniform(0.0, 1.0, N_BC)], axis=1)
    return np.concatenate([pde, ic, bc]).astype(np.float32)


def mlp_arrays(hidden_layers, width, seed=0):
    """Glorot-normal weights and zero biases of a 2-[width]xL-1 MLP, as (weight (out, in), bias) pairs."""
    rng = np.random.default_rng(seed)
    sizes = [2] + [width] * hidden_layers + [1]
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        std = math.sqrt(2.0 / (fan_in + fan_out))
        layers.append((rng.normal(0.0, std, (fan_out, fan_in)).astype(np.float32),
                       np.zeros(fan_out, np.float32)))
    return layers


def cnn_arrays(seed=0):
    """Weights of the CNN (conv1, conv2, dense as (weight, bias) pairs), its inputs and labels."""
    rng = np.random.default_rng(seed)

    def he(shape, fan_in):
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), shape).astype(np.float32)

    layers = [(he((16, 3, 3, 3), 27), np.zeros(16, np.float32)),
              (he((32, 16, 3, 3), 144), np.zeros(32, np.float32)),
              (he((CNN_CLASSES, 32 * 8 * 8), 2048) * 0.5, np.zeros(CNN_CLASSES, np.float32))]
    images = rng.normal(0.0, 1.0, (CNN_BATCH, 3, 32, 32)).astype(np.float32)
    labels = rng.integers(0, CNN_CLASSES, CNN_BATCH).astype(np.int32)
    return layers, images, labels


class MLP(nn.Cell):
    """tanh MLP (N, 2) -> (N, 1) with given (weight, bias) arrays."""

    def __init__(self, arrays):
        super().__init__()
        cells = []
        for i, (weight, bias) in enumerate(arrays):
            last = i == len(arrays) - 1
            dense = nn.Dense(weight.shape[1], weight.shape[0], activation=None if last else "tanh")
            dense.weight.set_data(Tensor(weight))
            dense.bias.set_data(Tensor(bias))
            cells.append(dense)
        self.layers = nn.SequentialCell(cells)

    def construct(self, points):
        """u at ``points``."""
        return self.layers(points)


def _application_module(name):
    """A module of the Burgers application's ``src`` package (the benchmark times the application's loss)."""
    if _APP_DIR not in sys.path:
        sys.path.insert(0, _APP_DIR)
    return importlib.import_module(f"src.{name}")


def application_network(seed=0):
    """The Burgers application's default network, or None where the application is not importable."""
    config_path = os.path.join(_APP_DIR, "configs", "burgers.yaml")
    if not os.path.isfile(config_path):
        return None, "application config not found"
    try:
        config, model = _application_module("config"), _application_module("model")
    except ImportError as error:
        return None, f"application not importable: {error}"
    model_config = config.load_config(config_path)["model"]
    net = model.build_model(model_config)
    model.glorot_initialize(net, seed)
    return net, f"applications/physics_driven/burgers_adahessian build_model({model_config})"


class BurgersLoss(nn.Cell):
    """The application's PINN loss (``src.losses.BurgersLossTerms``, unit weights) on stacked points."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.terms = _application_module("losses").BurgersLossTerms(net, NU)

    def construct(self, points):
        """Loss at stacked points: PDE rows first, then IC rows, then BC rows."""
        return self.split_loss(points[:N_PDE], points[N_PDE:N_PDE + N_IC], points[N_PDE + N_IC:])

    def split_loss(self, pde, ic, bc):
        """Loss at the PDE, initial and boundary points given apart (u(x, 0) = -sin(pi x), u(+-1, t) = 0)."""
        pde_term, ic_term, bc_term = self.terms(pde, ic, -ops.sin(math.pi * ic[:, 0:1]), bc)
        return pde_term + ic_term + bc_term


class CNN(nn.Cell):
    """conv3x3/2 (3->16) relu, conv3x3/2 (16->32) relu, dense 2048 -> 10."""

    def __init__(self, arrays):
        super().__init__()
        (w1, b1), (w2, b2), (w3, b3) = arrays
        self.conv1 = nn.Conv2d(3, 16, 3, stride=2, pad_mode="pad", padding=1, has_bias=True)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, pad_mode="pad", padding=1, has_bias=True)
        self.dense = nn.Dense(2048, CNN_CLASSES)
        for cell, (weight, bias) in zip((self.conv1, self.conv2, self.dense), arrays):
            cell.weight.set_data(Tensor(weight))
            cell.bias.set_data(Tensor(bias))
        del w1, b1, w2, b2, w3, b3

    def construct(self, images):
        """Logits of ``images`` (B, 3, 32, 32)."""
        hidden = ops.relu(self.conv1(images))
        hidden = ops.relu(self.conv2(hidden))
        return self.dense(hidden.reshape((hidden.shape[0], -1)))


class CrossEntropyLoss(nn.Cell):
    """Mean cross entropy of the logits against integer labels, twice differentiable on CPU.

    ``ops.cross_entropy`` gives the same value, but MindSpore 2.10 cannot differentiate its gradient
    again on CPU (GRAPH: 'Bprop "GatherDGradV2" encounter a problem: The pointer[value] is null';
    PYNATIVE: 'The pointer[value] is null'), and a log_softmax / one-hot form fails with
    "LogSoftmaxGrad's bprop not defined"; ``nn.SoftmaxCrossEntropyWithLogits`` gives a zero
    Hessian-vector product. This form uses exp, log, sum and a one-hot product only.
    """

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.on_value = Tensor(1.0, ms.float32)
        self.off_value = Tensor(0.0, ms.float32)

    def construct(self, images, labels):
        """Mean of logsumexp(logits) - logits[label]."""
        logits = self.net(images)
        shifted = logits - ops.stop_gradient(ops.max(logits, -1, keepdims=True)[0])
        onehot = ops.one_hot(labels, CNN_CLASSES, self.on_value, self.off_value)
        return ops.mean(ops.log(ops.sum(ops.exp(shifted), -1)) - ops.sum(shifted * onehot, -1))


class Workload:
    """A network, its scalar loss Cell and the loss inputs."""

    def __init__(self, name, net, loss_fn, inputs, source):
        self.name = name
        self.net = net
        self.loss_fn = loss_fn
        self.inputs = inputs
        self.source = source

    def params(self):
        """Trainable parameters of the network."""
        return self.net.trainable_params()

    def num_params(self):
        """Number of trainable scalars."""
        return int(sum(np.prod(p.shape) for p in self.params()))


def build_workload(name, seed=0):
    """Build a workload by name (see ``WORKLOADS``)."""
    if name in MLP_SIZES:
        net = MLP(mlp_arrays(*MLP_SIZES[name], seed=seed))
        source = "benchmarks/workloads.py MLP"
    elif name == "pinn_app":
        net, source = application_network(seed)
        if net is None:
            raise RuntimeError(f"workload 'pinn_app' unavailable: {source}")
    elif name == "cnn":
        arrays, images, labels = cnn_arrays(seed)
        net = CNN(arrays)
        inputs = (Tensor(images), Tensor(labels))
        return Workload(name, net, CrossEntropyLoss(net), inputs, "benchmarks/workloads.py CNN")
    else:
        raise ValueError(f"unknown workload {name!r}; choose from {sorted(WORKLOADS)}")
    return Workload(name, net, BurgersLoss(net), (Tensor(pinn_points(seed)),), source)


def workload_arrays(workload):
    """NumPy copies of the workload's parameters (in order) and inputs, to build the PyTorch twin."""
    return ([p.asnumpy().copy() for p in workload.params()], [x.asnumpy().copy() for x in workload.inputs])
