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
"""How a plain call ``optimizer(grad_fn, *inputs)`` runs: compiled steps, cached per ``grad_fn`` and phase, and the
step counters kept on the host so that choosing the phase reads nothing back from the device."""
import warnings
import weakref

import numpy as np
import mindspore as ms
from mindspore import Tensor
from mindspore.nn import Cell

from .diagnostics import raise_second_order_error, warn_zero_curvature
from .probes import host_stream_keys
from .validation import NAME, check_call

# Step phases: a refresh step, a lazy step, or (inside a user's compiled code) decided in the graph.
DECIDE_IN_GRAPH, REFRESH, LAZY = 0, 1, 2
# Consecutive calls with a grad_fn never seen before after which the user is told to make it once.
NEW_GRAD_FN_WARNING = 3


class PlainCallMixin:
    """AdaHessian's plain call ``optimizer(grad_fn, *inputs, hessian_inputs=None)``: checks the call, picks the
    phase from the host's counters, runs the compiled step and reports what it must (mixed into AdaHessian)."""

    def _init_plain_call(self, check_interval=100):
        self._step_cache = StepCache()
        self._host_counters = HostCounters(self, check_interval)

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
        # The step always runs as a graph compiled once per grad_fn and phase. PYNATIVE (eager) second-order
        # differentiation in MindSpore 2.10 drops the curvature that flows through reductions, while compiled
        # graphs get it right; the mode is switched to GRAPH for the call, since a jit-decorated Cell runs the
        # same step more slowly from PYNATIVE.
        step, refreshes, seed = self._host_counters.known()
        refresh = self.update_interval == 1 or step % self.update_interval == 0
        phase = REFRESH if refresh else LAZY
        step_inputs = tuple(inputs)
        split = None
        if refresh and hessian_inputs is not None:
            split = len(step_inputs)
            step_inputs += hessian_inputs
        if refresh and self.packed_probes:
            step_inputs = (self._host_stream_keys(seed, refreshes),) + step_inputs
        cell, new = self._step_cache.get(self, grad_fn, phase, refresh and self.packed_probes, split)
        lazy = None
        if new and refresh and self.update_interval > 1:
            # The lazy graph is compiled first: MindSpore's CPU runtime runs a graph compiled after a larger
            # one more slowly, and most steps are lazy.
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
        self._host_counters.advance(refresh)
        return result

    def _host_stream_keys(self, seed, refreshes):
        """Stream keys of this refresh's probes, one row per sample (in the graph they would take dozens of kernels)."""
        count = len(self.hutchinson_index)
        return Tensor(np.stack([host_stream_keys(seed, refreshes, count, sample, self.probe_stream)
                                for sample in range(self.num_samples)]))

    def _warn_skipped(self):
        count, last = self._host_counters.check()
        if not count:
            return
        if count == 1:
            what = f"step {last} was skipped" if last is not None else "a step was skipped since the last check"
        else:
            what = f"{count} steps were skipped since the last check"
        warnings.warn(f"For '{NAME}', {what}: the gradient or the Hessian estimate holds NaN or Inf (parameters and "
                      f"state are unchanged).", RuntimeWarning, stacklevel=3)


class CompiledStep(Cell):
    """One AdaHessian step for a fixed ``grad_fn`` and phase, as a Cell so that GRAPH mode compiles it once.

    A Cell rather than a jitted closure: a Cell's graph reads its Parameters when it runs, so ``set_data`` and
    ``load_param_into_net`` are seen, whereas a closure keeps the values it was compiled with.
    """

    def __init__(self, optimizer, grad_fn, phase, keys_first, split=None):
        super().__init__(auto_prefix=False)
        self.optimizer = optimizer
        self.grad_fn = grad_fn
        self.step_phase = phase
        self.keys_first = keys_first  # the first input holds the probes' stream keys
        self.split = split  # the number of grad_fn inputs when hessian_inputs follow them

    def construct(self, *inputs):
        # pylint: disable=protected-access
        keys = None
        if self.keys_first:
            keys = inputs[0]
            inputs = inputs[1:]
        if self.split is None:
            return self.optimizer._step(self.grad_fn, inputs, self.step_phase, keys)
        return self.optimizer._step(self.grad_fn, inputs[:self.split], self.step_phase, keys, inputs[self.split:])


class StepCache:
    """The compiled steps of recent ``grad_fn``s (at most ``capacity`` entries, oldest dropped first)."""

    def __init__(self, capacity=16):
        self.capacity = capacity
        self.entries = {}
        self.succeeded = weakref.WeakSet()  # grad_fns whose first step ran
        self.new_in_a_row = 0
        self.warned = False

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
    """Host copies of the step, refresh and seed counters, so a steady-state plain call reads nothing back.

    Each call advances them as if the step succeeded. They are read from the device again when they cannot be
    known: before the first call, after ``set_data`` on the counters (which ``load_param_into_net`` uses), and when
    a check finds skipped steps. Skipped steps are counted on the device and read every ``check_interval`` calls.
    """

    def __init__(self, optimizer, check_interval):
        self._optimizer = weakref.ref(optimizer)
        self.check_interval = check_interval
        self.step = self.refreshes = self.seed = None
        self.skipped = None  # skipped steps already reported
        self.calls_since_check = 0
        for param in (optimizer.global_step, optimizer.hessian_step, optimizer.probe_seed):
            _on_set_data(param, self.forget)

    def forget(self):
        self.step = None

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

    def advance(self, refreshed):
        self.step += 1
        self.refreshes += int(refreshed)
        self.calls_since_check += 1

    def check_due(self):
        return self.calls_since_check >= self.check_interval

    def check(self):
        """Read the skipped-step count; if it grew, read the counters again. Returns the new skips, ``(count, last)``
        with ``last`` the number of the last step when that step was skipped, else ``None``."""
        optimizer = self._optimizer()
        before = self.skipped
        self.calls_since_check = 0
        self.skipped = int(optimizer.skipped_steps.asnumpy()[0])
        if self.skipped == before:
            return 0, None
        self.read()
        last = self.step + 1 if bool(optimizer.skipped.asnumpy()) else None
        return self.skipped - before, last


def _on_set_data(param, callback):
    """Call ``callback`` before every ``param.set_data`` (``load_param_into_net`` writes through it)."""
    original = param.set_data

    def set_data(data, slice_shape=False):
        callback()
        return original(data, slice_shape)
    param.set_data = set_data
