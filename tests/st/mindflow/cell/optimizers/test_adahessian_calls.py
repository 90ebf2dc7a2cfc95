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
"""How AdaHessian is called: wrong conventions, training with mindspore.train.Model, a grad_fn made anew on every
call, attributes that must not shadow nn.Cell's, and a steady-state plain call that reads nothing back."""
import os
import sys
import warnings

import numpy as np
import pytest
import mindspore as ms
from mindspore import Parameter, Tensor, nn, ops
from mindspore.dataset import NumpySlicesDataset
from mindspore.train import LossMonitor, Model

from mindflow import AdaHessian
from mindflow.cell.optimizers import dispatch


def _problem():
    net = nn.SequentialCell(nn.Dense(3, 8, activation="tanh"), nn.Dense(8, 1))
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(16, 3)).astype(np.float32))
    y = Tensor(np.sin(x.asnumpy().sum(axis=1, keepdims=True)))
    return net, x, y


def _loss(net):
    def loss_fn(x, y):
        return ops.mean((net(x) - y) ** 2)
    return loss_fn


def _assert_trains(optimizer, grad_fn, x, y):
    """Six plain calls lower the loss."""
    losses = [float(optimizer(grad_fn, x, y).asnumpy()) for _ in range(6)]
    assert losses[-1] < losses[0], losses


class TrainStep(nn.Cell):
    """A train-step Cell for AdaHessian: it holds grad_fn and returns the loss of one optimizer step."""

    def __init__(self, loss_fn, optimizer):
        super().__init__(auto_prefix=False)
        self.optimizer = optimizer
        self.grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)

    def construct(self, x, y):
        return self.optimizer(self.grad_fn, x, y)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("call", ["gradients", "nothing", "keyword"])
def test_wrong_plain_call_says_how_to_call(call):
    """
    Feature: clear errors for the wrong call conventions of the plain call.
    Description: opt(grads) as nn.Adam is called, opt() and opt(grad_fn, x, y, unknown=1); then a correct call.
    Expectation: TypeError "For 'AdaHessian', ..." that says to call optimizer(grad_fn, *inputs); the optimizer
        then trains normally.
    """
    net, x, y = _problem()
    optimizer = AdaHessian(net.trainable_params(), learning_rate=0.05, eps=1e-4)
    grad_fn = ms.value_and_grad(_loss(net), None, optimizer.parameters)
    grads = ms.grad(_loss(net), None, optimizer.parameters)(x, y)
    wrong = {"gradients": ((grads,), {}), "nothing": ((), {}), "keyword": ((grad_fn, x, y), {"unknown": 1})}[call]
    with pytest.raises(TypeError, match=r"^For 'AdaHessian', .*optimizer\(grad_fn, \*inputs\)"):
        optimizer(*wrong[0], **wrong[1])
    _assert_trains(optimizer, grad_fn, x, y)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("mode", [ms.PYNATIVE_MODE, ms.GRAPH_MODE], ids=["pynative", "graph"])
def test_train_one_step_cell_fails_clearly_and_leaves_the_optimizer_usable(mode):
    """
    Feature: nn.TrainOneStepCell(nn.WithLossCell(net, loss), AdaHessian) passes gradients, which AdaHessian cannot use.
    Description: one call of that cell in PYNATIVE and in GRAPH mode, then plain calls optimizer(grad_fn, x, y).
    Expectation: a TypeError whose first line starts "For 'AdaHessian', the first input must be the gradient
        function" (in GRAPH mode MindSpore's compiler appends its trace); afterwards the optimizer trains
        (before, MindSpore's compile had overwritten an attribute of the optimizer and every call failed).
    """
    ms.set_context(mode=mode)
    net, x, y = _problem()
    optimizer = AdaHessian(net.trainable_params(), learning_rate=0.05, eps=1e-4)
    train_cell = nn.TrainOneStepCell(nn.WithLossCell(net, nn.MSELoss()), optimizer)
    with pytest.raises(TypeError) as info:
        train_cell(x, y)
    # in GRAPH mode the compiler quotes the message and appends its trace
    assert str(info.value).strip().splitlines()[0].lstrip("'").startswith(
        "For 'AdaHessian', the first input must be the gradient function 'grad_fn'"), str(info.value)[:300]
    _assert_trains(optimizer, ms.value_and_grad(_loss(net), None, optimizer.parameters), x, y)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_no_attribute_shadows_cell_or_optimizer(monkeypatch):
    """
    Feature: AdaHessian's own attributes, and those of its compiled step Cell, do not reuse names of nn.Cell or
        nn.Optimizer (MindSpore writes some of them, e.g. _compiled when it compiles a cell).
    Description: record every attribute that code in mindflow/cell/optimizers sets on a Cell while an AdaHessian and
        a dispatch.CompiledStep are built, and the names their classes define; compare with dir(nn.Optimizer) and
        the instance attributes of an nn.Optimizer and of a Cell that MindSpore has compiled and run.
    Expectation: only the intended overrides (__init__, __call__, construct) are shared.
    """
    ms.set_context(mode=ms.GRAPH_MODE)
    net, x, _ = _problem()
    base = nn.Optimizer(0.1, net.trainable_params())
    compiled_cell = nn.Dense(3, 2)
    compiled_cell(x)
    reserved = set(dir(nn.Optimizer)) | set(vars(base)) | set(vars(compiled_cell))
    reserved |= set(base._params) | set(base._cells)  # pylint: disable=protected-access
    package = os.path.dirname(dispatch.__file__)
    recorded = set()
    original = nn.Cell.__setattr__

    def recording_setattr(cell, name, value):
        if os.path.dirname(sys._getframe(1).f_code.co_filename) == package:  # pylint: disable=protected-access
            recorded.add(name)
        original(cell, name, value)
    monkeypatch.setattr(nn.Cell, "__setattr__", recording_setattr)
    optimizer = AdaHessian(net.trainable_params(), update_interval=2)
    dispatch.CompiledStep(optimizer, ms.grad(_loss(net), None, optimizer.parameters), dispatch.LAZY, False)
    monkeypatch.undo()
    assert {"moment1", "moment2", "step_phase", "hessian_step"} <= recorded  # the recording sees both classes
    intended = {"__init__", "__call__", "construct", "__doc__", "__module__", "__qualname__"}
    defined = recorded | set(vars(AdaHessian)) | set(vars(dispatch.CompiledStep))
    assert defined & reserved <= intended, sorted(defined & reserved - intended)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("mode", [ms.PYNATIVE_MODE, ms.GRAPH_MODE], ids=["pynative", "graph"])
def test_model_train_with_a_train_step_cell(mode):
    """
    Feature: training with mindspore.train.Model and its callbacks, as the guide shows.
    Description: Model(TrainStep(loss_fn, AdaHessian)) with a NumpySlicesDataset of 64 samples in batches of 16,
        3 epochs, LossMonitor and a callback recording the loss of every step; PYNATIVE and GRAPH mode.
    Expectation: 12 steps run (the optimizer's global_step), and the mean loss of the last epoch is below that of
        the first.
    """
    ms.set_context(mode=mode)
    net = nn.SequentialCell(nn.Dense(3, 8, activation="tanh"), nn.Dense(8, 1))
    rng = np.random.default_rng(1)
    features = rng.normal(size=(64, 3)).astype(np.float32)
    targets = np.sin(features.sum(axis=1, keepdims=True)).astype(np.float32)
    dataset = NumpySlicesDataset({"x": features, "y": targets}, shuffle=False).batch(16)
    optimizer = AdaHessian(net.trainable_params(), learning_rate=0.05, eps=1e-4, update_interval=2)
    losses = []

    class Record(ms.train.Callback):
        def step_end(self, run_context):
            losses.append(float(run_context.original_args().net_outputs.asnumpy()))

    model = Model(TrainStep(_loss(net), optimizer))
    model.train(3, dataset, callbacks=[LossMonitor(4), Record()], dataset_sink_mode=False)
    assert int(optimizer.global_step.asnumpy()[0]) == 12 and len(losses) == 12
    assert np.mean(losses[-4:]) < np.mean(losses[:4])


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_new_grad_fn_on_every_call_warns_once():
    """
    Feature: a grad_fn made anew inside the training loop compiles a new step on every call.
    Description: 4 calls, each with a new grad_fn; then 4 calls of a new optimizer with one grad_fn made once.
    Expectation: one RuntimeWarning, at the third call, that says to make grad_fn once before the loop; none at
        all for the grad_fn made once.
    """
    net, x, y = _problem()
    optimizer = AdaHessian(net.trainable_params(), learning_rate=0.05, eps=1e-4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(4):
            optimizer(ms.value_and_grad(_loss(net), None, optimizer.parameters), x, y)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1 and "Make grad_fn once, before the training loop" in messages[0], messages
    optimizer = AdaHessian(net.trainable_params(), learning_rate=0.05, eps=1e-4)
    grad_fn = ms.value_and_grad(_loss(net), None, optimizer.parameters)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for _ in range(4):
            optimizer(grad_fn, x, y)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("update_interval", [1, 3])
def test_steady_state_plain_call_reads_nothing_back(update_interval, monkeypatch):
    """
    Feature: no device-to-host read in a steady-state plain call (a read stalls an accelerator's launch queue).
    Description: count Tensor.asnumpy calls made by the optimizer during calls 17 to 28 of a small MLP (after the
        early checks of calls 1, 2, 4, 8 and 16), with the default skip_check_interval (100) and with 4.
    Expectation: no read at all with the default; with 4, one read of the skipped-step count per 4 calls (3); the
        counters end where the device's are (28 steps; refreshes every update_interval steps).
    """
    net, x, y = _problem()
    for interval, expected_reads in ((None, 0), (4, 3)):
        optimizer = AdaHessian(net.trainable_params(), learning_rate=0.05, eps=1e-4, update_interval=update_interval)
        if interval is not None:
            optimizer.skip_check_interval = interval
        grad_fn = ms.value_and_grad(_loss(net), None, optimizer.parameters)
        for _ in range(16):
            optimizer(grad_fn, x, y)
        reads = []
        original = Tensor.asnumpy

        def counting_asnumpy(tensor, record=reads.append, read=original):
            record(getattr(tensor, "name", None))
            return read(tensor)
        monkeypatch.setattr(Tensor, "asnumpy", counting_asnumpy)
        for _ in range(12):
            optimizer(grad_fn, x, y)
        monkeypatch.undo()
        assert len(reads) == expected_reads, reads
        assert int(optimizer.global_step.asnumpy()[0]) == 28
        assert int(optimizer.hessian_step.asnumpy()[0]) == len(range(0, 28, update_interval))


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_skipped_step_is_reported_at_the_next_check():
    """
    Feature: skipped steps are counted on the device and reported every skip_check_interval calls.
    Description: skip_check_interval 3, update_interval 2; call 3 gets a NaN batch; calls 1, 2 and 4 to 6 are
        finite (the early checks are calls 1 and 2, the powers of two up to the interval).
    Expectation: no warning at the skipped call; step_skipped reads True right after it (a read on request); the
        warning "a step was skipped since the last check" comes at call 5 (the third call since the check at
        call 2); the counters then follow the device (5 successful steps, refreshes at steps 1, 3 and 5, one
        skipped step), and the refresh schedule goes on from the device's step count.
    """
    net, x, y = _problem()
    optimizer = AdaHessian(net.trainable_params(), learning_rate=0.05, eps=1e-4, update_interval=2)
    optimizer.skip_check_interval = 3
    grad_fn = ms.value_and_grad(_loss(net), None, optimizer.parameters)
    optimizer(grad_fn, x, y)
    optimizer(grad_fn, x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        optimizer(grad_fn, Tensor(np.full(x.shape, np.nan, np.float32)), y)
    assert optimizer.step_skipped
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        optimizer(grad_fn, x, y)
    with pytest.warns(RuntimeWarning, match="a step was skipped since the last check"):
        optimizer(grad_fn, x, y)
    optimizer(grad_fn, x, y)
    assert int(optimizer.global_step.asnumpy()[0]) == 5
    assert int(optimizer.hessian_step.asnumpy()[0]) == 3
    assert int(optimizer.skipped_steps.asnumpy()[0]) == 1


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_set_data_on_the_step_counter_is_followed():
    """
    Feature: the host copies of the counters follow set_data (load_param_into_net writes through it).
    Description: update_interval 3; after two compiled steps, global_step is set to 5 by set_data, then 2 steps.
    Expectation: the next step is step 6, lazy ((6 - 1) % 3 != 0), and step 7 refreshes: the refresh count grows
        by one, at the second of the two steps, and global_step ends at 7.
    """
    weights = Parameter(Tensor(np.array([1.0, -2.0], np.float32)), name="w")
    optimizer = AdaHessian([weights], learning_rate=0.1, update_interval=3)

    def loss_fn(x):
        return (weights * weights * x).sum()
    grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)
    x = Tensor(np.array([3.0, 0.5], np.float32))
    optimizer(grad_fn, x)
    optimizer(grad_fn, x)
    assert int(optimizer.hessian_step.asnumpy()[0]) == 1
    optimizer.global_step.set_data(Tensor([5], ms.int32))
    optimizer(grad_fn, x)
    assert int(optimizer.hessian_step.asnumpy()[0]) == 1
    optimizer(grad_fn, x)
    assert int(optimizer.hessian_step.asnumpy()[0]) == 2
    assert int(optimizer.global_step.asnumpy()[0]) == 7
