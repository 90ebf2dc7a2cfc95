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
"""Checks of AdaHessian's arguments and of how it is called, with MindSpore-style messages."""
import math
import numbers
from collections.abc import Iterable

from mindspore import Parameter, Tensor, amp
from mindspore.nn import Cell
from mindspore.nn.learning_rate_schedule import LearningRateSchedule

from .probes import PROBES

NAME = "AdaHessian"
CURVATURES = ("hutchinson", "gradient")
# Group keys handled by AdaHessian itself; nn.Optimizer parses the rest.
GROUP_KEYS = ("hessian_power", "spatial_average", "curvature")

# How to call the optimizer, for the errors of the wrong conventions.
CALL_ADVICE = ("AdaHessian needs Hessian-vector products, so it takes the gradient function, not gradients: call "
               "optimizer(grad_fn, *inputs) with grad_fn = mindspore.value_and_grad(loss_fn, None, "
               "optimizer.parameters) made once. nn.TrainOneStepCell passes gradients and cannot drive it; "
               "use a train-step Cell whose construct returns optimizer(self.grad_fn, *inputs), which "
               "mindspore.train.Model can also train.")


def err(message):
    return f"For '{NAME}', {message}"


def check_bool(name, value):
    if not isinstance(value, bool):
        raise TypeError(err(f"the '{name}' must be bool, but got {type(value).__name__}."))
    return value


def check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(err(f"the '{name}' must be int, but got {type(value).__name__}."))
    if value < minimum:
        raise ValueError(err(f"the '{name}' must be an integer >= {minimum}, but got {value}."))
    return int(value)


def check_float(name, value, low, high, low_open=True, high_open=True):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(err(f"the '{name}' must be float, but got {type(value).__name__}."))
    value = float(value)
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if below or above or math.isnan(value):
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(err(f"the '{name}' must be in {interval}, but got {value}."))
    return value


def check_hessian_power(value):
    return check_float("hessian_power", value, 0.0, 1.0, low_open=True, high_open=False)


def check_curvature(value):
    if value not in CURVATURES:
        raise ValueError(err(f"the 'curvature' must be one of {list(CURVATURES)}, but got {value!r}."))
    return value


def check_probe(value):
    """The probe function named or given by ``value``."""
    if callable(value):
        return value
    if isinstance(value, str) and value in PROBES:
        return PROBES[value]
    raise ValueError(err(f"the 'probe' must be one of {sorted(PROBES)} or a callable "
                         f"probe_fn(shape, seed, counter, stream), but got {value!r}."))


def check_learning_rate(value):
    if isinstance(value, (bool, str)) or not isinstance(value, (numbers.Real, Tensor, Iterable,
                                                                  LearningRateSchedule)):
        raise TypeError(err(f"the 'learning_rate' must be float, int, Tensor, Iterable or LearningRateSchedule, "
                            f"but got {type(value).__name__}."))
    if isinstance(value, numbers.Real) and (value < 0 or math.isnan(value)):
        raise ValueError(err(f"the 'learning_rate' must be >= 0, but got {value}."))


def check_weight_decay(value):
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, Cell)):
        raise TypeError(err(f"the 'weight_decay' must be float, int or Cell, but got {type(value).__name__}."))
    if isinstance(value, numbers.Real) and not value >= 0:
        raise ValueError(err(f"the 'weight_decay' must be >= 0, but got {value}."))


def check_loss_scale(value):
    """Return (scale as float or None, scaler object or None)."""
    if isinstance(value, amp.LossScaler):
        if not hasattr(value, "scale_value"):
            raise TypeError(err("the 'loss_scale' LossScaler must have a 'scale_value' Parameter."))
        return None, value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(err(f"the 'loss_scale' must be a positive float or a mindspore.amp.LossScaler, "
                            f"but got {type(value).__name__}."))
    if not value > 0 or math.isinf(value):
        raise ValueError(err(f"the 'loss_scale' must be a positive finite float, but got {value}."))
    return float(value), None


def check_unsupported_flags(kwargs, **flags):
    """nn.Adam's flags that AdaHessian accepts only as False (``kwargs``: ``use_lazy``, ``use_offload``)."""
    unknown = set(kwargs) - {"use_lazy", "use_offload"}
    if unknown:
        raise KeyError(err(f"the supported keys of 'kwargs' are 'use_lazy' and 'use_offload', "
                           f"but got {sorted(unknown)}."))
    flags.update({name: kwargs.get(name, False) for name in ("use_lazy", "use_offload")})
    for name, value in flags.items():
        if check_bool(name, value):
            raise ValueError(err(f"the '{name}' is not supported, it must be False, but got True."))


def split_group_settings(params):
    """Take AdaHessian's own keys out of group dicts (nn.Optimizer rejects unknown keys).

    Returns ``(params for nn.Optimizer, {id(parameter): its AdaHessian group keys})``.
    """
    if params is None or isinstance(params, (Tensor, dict, str)) or not isinstance(params, Iterable):
        raise TypeError(err(f"the 'params' must be a list of Parameter or of group dicts, "
                            f"but got {type(params).__name__}."))
    params = list(params)
    if not params:
        raise ValueError(err("the 'params' must not be empty, but got an empty list."))
    if not all(isinstance(group, dict) for group in params):
        wrong = [type(p).__name__ for p in params if not isinstance(p, Parameter)]
        if wrong:
            raise TypeError(err(f"the 'params' must be a list of Parameter or of group dicts, "
                                f"but got an element of type {wrong[0]}."))
        return params, {}
    allowed = ("params", "lr", "weight_decay", "order_params", "grad_centralization") + GROUP_KEYS
    groups, settings = [], {}
    for group in params:
        unknown = sorted(set(group) - set(allowed))
        if unknown:
            raise KeyError(err(f"the keys of a parameter group must be in {list(allowed)}, but got {unknown}."))
        group = dict(group)
        own = {key: group.pop(key) for key in GROUP_KEYS if key in group}
        if group.get("grad_centralization"):
            raise ValueError(err("the group key 'grad_centralization' is not supported, but got True."))
        group.pop("grad_centralization", None)
        for param in group.get("params", ()):
            settings[id(param)] = own
        groups.append(group)
    return groups, settings


def check_trainable(params):
    for param in params:
        if not param.requires_grad:
            raise ValueError(err(f"every parameter must require gradients, but '{param.name}' has "
                                 f"requires_grad=False; pass net.trainable_params()."))


def check_grads(grads, names, shapes):
    """Check, at trace time in GRAPH mode, that ``grad_fn`` gives one gradient of the right shape per parameter."""
    if len(grads) != len(shapes):
        raise ValueError(err("'grad_fn' must return one gradient per parameter (" + str(len(shapes))
                             + "), but got " + str(len(grads)) + "."))
    for i, shape in enumerate(shapes):
        if grads[i].shape != shape:
            raise ValueError(err("the gradient of '" + names[i] + "' must have shape " + str(shape)
                                 + ", but got " + str(grads[i].shape) + "."))


def check_inputs(inputs, subject="the inputs of 'grad_fn'"):
    def valid(value):
        if isinstance(value, (tuple, list)):
            return all(valid(item) for item in value)
        return isinstance(value, (Tensor, numbers.Number))

    for position, value in enumerate(inputs):
        if not valid(value):
            raise TypeError(err(f"{subject} must be Tensor, number, or tuple/list of them, "
                                f"but got {type(value).__name__} at position {position}."))


def check_call(args, kwargs):
    """``(grad_fn, inputs, hessian_inputs)`` of a plain call, or a TypeError that says how to call the optimizer."""
    unknown = sorted(set(kwargs) - {"hessian_inputs"})
    if unknown:
        raise TypeError(err(f"the only keyword input is 'hessian_inputs', but got {unknown}. " + CALL_ADVICE))
    if not args:
        raise TypeError(err("the first input must be the gradient function 'grad_fn', but got no input. "
                            + CALL_ADVICE))
    grad_fn = args[0]
    if not callable(grad_fn):
        raise TypeError(err(f"the first input must be the gradient function 'grad_fn', but got "
                            f"{_describe(grad_fn)}. " + CALL_ADVICE))
    inputs = tuple(args[1:])
    check_inputs(inputs)
    hessian_inputs = kwargs.get("hessian_inputs")
    if hessian_inputs is not None:
        if not isinstance(hessian_inputs, (tuple, list)):
            raise TypeError(err(f"the 'hessian_inputs' must be a tuple or list of the inputs of 'grad_fn', "
                                f"but got {type(hessian_inputs).__name__}."))
        check_inputs(hessian_inputs, "the elements of 'hessian_inputs'")
        hessian_inputs = tuple(hessian_inputs)
    return grad_fn, inputs, hessian_inputs


def _describe(value):
    if isinstance(value, (tuple, list)):
        kinds = sorted({type(item).__name__ for item in value})
        return f"a {type(value).__name__} of {len(value)} ({', '.join(kinds) or 'nothing'})"
    return type(value).__name__
