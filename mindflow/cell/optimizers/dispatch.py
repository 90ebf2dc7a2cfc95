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
"""Checks of AdaHessian's arguments and calls; how a plain call ``optimizer(grad_fn, *inputs)`` runs: compiled steps,
cached per ``grad_fn`` and phase, and host copies of the step counters, so choosing the phase reads nothing back."""
import math
import numbers
import warnings
import weakref
from collections.abc import Iterable

import numpy as np
import mindspore as ms
from mindspore import Parameter, Tensor, amp
from mindspore.nn import Cell
from mindspore.nn.learning_rate_schedule import LearningRateSchedule

from .diagnostics import raise_second_order_error, warn_zero_curvature
from .probes import PROBES, host_stream_keys

NAME = "AdaHessian"
CURVATURES = ("hutchinson", "gradient")
# Group keys handled by AdaHessian itself; nn.Optimizer parses the rest.
GROUP_KEYS = ("hessian_power", "spatial_average", "curvature")
# Step phases: a refresh step, a lazy step, or (inside a user's compiled code) decided in the graph.
DECIDE_IN_GRAPH, REFRESH, LAZY = 0, 1, 2
# Consecutive calls with a grad_fn never seen before after which the user is told to make it once.
NEW_GRAD_FN_WARNING = 3
# Skipped calls in a row after which the run is reported as stuck rather than as having met a bad batch.
STUCK_STREAK = 3
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
    if isinstance(value, (bool, str)) or not isinstance(value, (numbers.Real, Tensor, Iterable, LearningRateSchedule)):
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
    """``(params for nn.Optimizer, {id(parameter): its AdaHessian group keys})``: AdaHessian's own keys taken out of
    the group dicts, as nn.Optimizer rejects unknown keys."""
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
        settings.update({id(param): own for param in group.get("params", ())})
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
        return isinstance(value, (Tensor, numbers.Number)) or (isinstance(value, (tuple, list))
                                                               and all(valid(item) for item in value))

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
        got = type(grad_fn).__name__
        if isinstance(grad_fn, (tuple, list)):
            kinds = ", ".join(sorted({type(item).__name__ for item in grad_fn})) or "nothing"
            got = f"a {got} of {len(grad_fn)} ({kinds})"
        raise TypeError(err(f"the first input must be the gradient function 'grad_fn', but got {got}. "
                            + CALL_ADVICE))
    inputs = tuple(args[1:])
    check_inputs(inputs)
    hessian_inputs = kwargs.get("hessian_inputs")
    if hessian_inputs is not None:
        if not isinstance(hessian_inputs, (tuple, list)):
            raise TypeError(err(f"the 'hessian_inputs' must be a tuple or list of the inputs of 'grad_fn', "
                                f"but got {type(hessian_inputs).__name__}."))
        check_inputs(hessian_inputs, "the elements of 'hessian_inputs'")
    return grad_fn, inputs, None if hessian_inputs is None else tuple(hessian_inputs)


class PlainCallMixin:
    """AdaHessian's plain call ``optimizer(grad_fn, *inputs, hessian_inputs=None)``: checks the call, picks the
    phase from the host's counters, runs the compiled step and reports what it must (mixed into AdaHessian)."""

    def _init_plain_call(self, check_interval=100):
        self._step_cache, self._host_counters = StepCache(), HostCounters(self, check_interval)

    def __call__(self, *args, **kwargs):
        grad_fn, inputs, hessian_inputs = check_call(args, kwargs)
        first_call = self._step_cache.is_new(grad_fn)
        try:
            result = self._run_step(grad_fn, inputs, hessian_inputs)
        except (RuntimeError, ValueError, TypeError) as error:
            message = str(error).strip()
            if message.startswith(f"'For '{NAME}',"):
                # raised while compiling: the graph compiler quotes the message and appends its trace
                raise type(error)(message.splitlines()[0][1:-1]) from None
            if not first_call or message.startswith(f"For '{NAME}',"):
                raise
            raise_second_order_error(self, grad_fn, inputs, error)
        if first_call:
            self._step_cache.succeeded.add(grad_fn)
            warn_zero_curvature(self)
        if first_call or self._host_counters.check_due():
            self._warn_skipped()
        return result

    def _run_step(self, grad_fn, inputs, hessian_inputs=None):
        # Always a graph, compiled once per grad_fn and phase, run in GRAPH mode: eager second-order differentiation
        # drops the curvature that flows through reductions, and a jitted Cell runs more slowly from PYNATIVE.
        step, refreshes, seed = self._host_counters.known()
        refresh = self.update_interval == 1 or step % self.update_interval == 0
        split = len(inputs) if refresh and hessian_inputs is not None else None
        step_inputs = tuple(inputs) + (hessian_inputs if split is not None else ())
        if refresh and self.packed_probes:  # the probes' stream keys: in the graph they would take dozens of kernels
            step_inputs = (Tensor(np.stack([host_stream_keys(seed, refreshes, len(self.hutchinson_index), sample,
                                                             self.probe_stream)
                                            for sample in range(self.num_samples)])),) + step_inputs
        cell, new = self._step_cache.get(self, grad_fn, REFRESH if refresh else LAZY, refresh and self.packed_probes,
                                         split)
        lazy = None
        if new and refresh and self.update_interval > 1:
            # the lazy graph first: the CPU runtime runs a graph compiled after a larger one more slowly
            lazy, lazy_new = self._step_cache.get(self, grad_fn, LAZY, False)
            lazy = lazy if lazy_new else None
        mode = ms.get_context("mode")
        if mode != ms.GRAPH_MODE:
            ms.set_context(mode=ms.GRAPH_MODE)
        try:
            if lazy is not None:
                lazy.compile(*inputs)
            result = cell(*step_inputs)
        finally:
            if mode != ms.GRAPH_MODE:
                ms.set_context(mode=mode)
        counters = self._host_counters  # advanced as if the step succeeded
        counters.step, counters.refreshes = counters.step + 1, counters.refreshes + int(refresh)
        counters.calls_since_check, counters.calls = counters.calls_since_check + 1, counters.calls + 1
        return result

    def _warn_skipped(self):
        """Read the skipped-step count, and warn (after reading the counters again) if it grew; say so once when the
        steps are skipped call after call, which a skip cannot cure (the weights it keeps are where the loss is not
        finite)."""
        counters = self._host_counters
        before, calls, counters.calls_since_check = counters.skipped, counters.calls_since_check, 0
        counters.skipped = int(self.skipped_steps.asnumpy()[0])
        count = counters.skipped - before
        last_skipped = bool(count) and bool(self.skipped.asnumpy())
        counters.watch = last_skipped  # check every call until a step goes through
        if not last_skipped:
            counters.streak = 0
        elif count >= calls:  # every call since the last check was skipped
            counters.streak += calls
        else:
            counters.streak = 1
        if not count:
            return
        counters.read()
        stuck = counters.streak >= STUCK_STREAK and not isinstance(self._loss_scaler, amp.DynamicLossScaler)
        if stuck and counters.streak - calls >= STUCK_STREAK:
            return  # said already
        if stuck:
            warnings.warn(f"For '{NAME}', every step since step {counters.step + 1} has been skipped "
                          f"({counters.streak} calls in a row): the loss, the gradient or the Hessian estimate is "
                          f"NaN or Inf at the current weights, and a skipped step leaves them where they are. The "
                          f"weights have probably left the region where the loss is finite: restore a checkpoint and "
                          f"lower the learning rate, or keep step_clip (the safe step) on.", RuntimeWarning,
                          stacklevel=3)
            return
        what = f"{count} steps were skipped since the last check"
        if count == 1:
            what = "a step was skipped since the last check"
            if last_skipped:
                what = f"step {counters.step + 1} was skipped"
        warnings.warn(f"For '{NAME}', {what}: the loss, the gradient or the Hessian estimate holds NaN or Inf "
                      f"(parameters and state are unchanged).", RuntimeWarning, stacklevel=3)


class CompiledStep(Cell):
    """One AdaHessian step for a fixed ``grad_fn`` and phase, compiled once: a Cell rather than a jitted closure, as
    a Cell's graph reads its Parameters when it runs (``set_data`` is seen), a closure those it was compiled with."""

    def __init__(self, optimizer, grad_fn, phase, keys_first, split=None):
        super().__init__(auto_prefix=False)
        self.optimizer, self.grad_fn, self.step_phase = optimizer, grad_fn, phase
        self.keys_first = keys_first  # the first input holds the probes' stream keys
        self.split = split  # the number of grad_fn inputs when hessian_inputs follow them

    def construct(self, *inputs):
        # pylint: disable=protected-access
        keys, inputs = (inputs[0], inputs[1:]) if self.keys_first else (None, inputs)
        hessian_inputs = None if self.split is None else inputs[self.split:]
        return self.optimizer._step(self.grad_fn, inputs[:self.split], self.step_phase, keys, hessian_inputs)


class StepCache:
    """The compiled steps of recent ``grad_fn``s (at most ``capacity`` entries, oldest dropped first)."""

    def __init__(self, capacity=16):
        self.capacity = capacity
        self.entries = {}
        self.succeeded = weakref.WeakSet()  # grad_fns whose first step ran
        self.new_in_a_row, self.warned = 0, False

    def get(self, optimizer, grad_fn, phase, keys_first, split=None):
        """The step of ``grad_fn`` for ``phase``, and whether it was just made (so not compiled yet)."""
        key = (id(grad_fn), phase, split)
        entry = self.entries.get(key)
        if entry is not None and entry[0] is grad_fn:
            return entry[1], False
        step = CompiledStep(optimizer, grad_fn, phase, keys_first, split)
        if len(self.entries) >= self.capacity:
            self.entries.pop(next(iter(self.entries)))
        self.entries[key] = (grad_fn, step)
        return step, True

    def is_new(self, grad_fn):
        """Whether ``grad_fn`` has not run a step yet; warns once when new ones keep coming."""
        if grad_fn in self.succeeded:
            self.new_in_a_row = 0
            return False
        self.new_in_a_row += 1
        if self.new_in_a_row >= NEW_GRAD_FN_WARNING and not self.warned:
            self.warned = True
            warnings.warn(f"For '{NAME}', each of the last {self.new_in_a_row} calls got a 'grad_fn' it had not "
                          f"seen, and each new grad_fn compiles a new step (seconds each). Make grad_fn once, "
                          f"before the training loop (grad_fn = mindspore.value_and_grad(loss_fn, None, "
                          f"optimizer.parameters)), and pass that same object to every call.",
                          RuntimeWarning, stacklevel=3)
        return True


class HostCounters:
    """Host copies of the step, refresh and seed counters, so that a steady-state plain call reads nothing back.
    Each call advances them as if the step succeeded; they are read from the device again when they cannot be known:
    before the first call, after ``set_data`` on a counter (which ``load_param_into_net`` uses), and when a check
    (every ``check_interval`` calls) finds that the count of skipped steps on the device grew."""

    def __init__(self, optimizer, check_interval):
        self._optimizer = weakref.ref(optimizer)
        self.check_interval = check_interval
        self.step = self.refreshes = self.seed = self.skipped = None  # skipped: the skipped steps already reported
        self.calls_since_check = self.calls = self.streak = 0  # streak: calls skipped in a row, as far as known
        self.watch = False
        for param in (optimizer.global_step, optimizer.hessian_step, optimizer.probe_seed):
            def set_data(data, slice_shape=False, original=param.set_data):
                self.step = None  # read the counters again
                return original(data, slice_shape)
            param.set_data = set_data

    def check_due(self):
        """Whether this call reads the skipped-step count: every ``check_interval`` calls, at calls 1, 2, 4, 8, ... up
        to it (a run that diverges mostly does so early), and at every call while steps are being skipped."""
        calls = self.calls
        return (self.calls_since_check >= self.check_interval or self.watch
                or (calls <= self.check_interval and calls & (calls - 1) == 0))

    def known(self):
        """``(step, refreshes, seed)``, read from the device first if they are not known."""
        if self.step is None:
            self.read()
        return self.step, self.refreshes, self.seed

    def read(self):
        optimizer = self._optimizer()
        self.step = int(optimizer.global_step.asnumpy()[0])
        self.refreshes = int(optimizer.hessian_step.asnumpy()[0])
        self.seed = int(optimizer.probe_seed.asnumpy())
        if self.skipped is None:
            self.skipped = int(optimizer.skipped_steps.asnumpy()[0])
