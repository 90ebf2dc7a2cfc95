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
"""Fully connected tanh network u(x, t) of the Burgers PINN, with reproducible initialisation."""
import numpy as np
from mindspore import Tensor, nn, save_checkpoint


class BurgersMLP(nn.Cell):
    """Multilayer perceptron mapping points ``(x, t)`` of shape (N, 2) to ``u`` of shape (N, 1).

    tanh is smooth, so the network has the non-zero third and fourth derivatives that the PDE residual
    (which holds u_xx) and AdaHessian's Hessian-vector products of it need.

    Args:
        in_channels (int): Input features, 2 for (x, t).
        out_channels (int): Output features, 1 for u.
        hidden_layers (int): Number of hidden layers.
        hidden_width (int): Neurons per hidden layer.
    """

    def __init__(self, in_channels=2, out_channels=1, hidden_layers=4, hidden_width=32):
        super().__init__()
        if hidden_layers < 1 or hidden_width < 1:
            raise ValueError("hidden_layers and hidden_width must be positive")
        layers = [nn.Dense(in_channels, hidden_width, activation="tanh")]
        for _ in range(hidden_layers - 1):
            layers.append(nn.Dense(hidden_width, hidden_width, activation="tanh"))
        layers.append(nn.Dense(hidden_width, out_channels))
        self.layers = nn.SequentialCell(layers)

    def construct(self, points):  # pylint: disable=arguments-differ
        """Evaluate u at ``points`` (N, 2)."""
        return self.layers(points)


def glorot_initialize(net, seed):
    """Give every Dense layer Glorot-normal weights and zero biases drawn from a NumPy generator.

    NumPy, not MindSpore's global generator, draws them, so the same seed gives the same network whatever
    else has consumed random numbers before, and Adam and AdaHessian start from the same weights.

    Args:
        net (nn.Cell): Network whose parameters are overwritten in place.
        seed (int): Seed of the generator.
    """
    rng = np.random.default_rng(seed)
    for param in net.trainable_params():
        shape = tuple(param.shape)
        if len(shape) == 2:
            fan_out, fan_in = shape
            std = np.sqrt(2.0 / (fan_in + fan_out))
            value = rng.normal(0.0, std, size=shape)
        else:
            value = np.zeros(shape)
        param.set_data(Tensor(value.astype(np.float32)))


def parameters_to_numpy(net):
    """Snapshot of the trainable parameters as ``{structural name: ndarray}``.

    Structural names (``layers.0.weight``) come from the cell tree of ``net`` itself; ``Parameter.name`` is not
    used because wrapping the network in loss cells may prefix it.
    """
    return {name: param.asnumpy().copy() for name, param in net.parameters_and_names() if param.requires_grad}


def load_numpy_parameters(net, values):
    """Overwrite the trainable parameters of ``net`` from a snapshot of :func:`parameters_to_numpy`.

    Raises:
        KeyError: If a parameter of ``net`` is missing from ``values``.
    """
    for name, param in net.parameters_and_names():
        if param.requires_grad:
            param.set_data(Tensor(np.asarray(values[name], dtype=np.float32)))


def save_network(net, path):
    """Save ``net`` to a checkpoint under its structural parameter names, loadable into a fresh network."""
    save_checkpoint([{"name": name, "data": param} for name, param in net.parameters_and_names()], path)


def build_model(model_config):
    """Build :class:`BurgersMLP` from the ``model`` section of the configuration."""
    return BurgersMLP(in_channels=2, out_channels=1,
                      hidden_layers=int(model_config["hidden_layers"]),
                      hidden_width=int(model_config["hidden_width"]))
