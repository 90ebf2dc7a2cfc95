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
"""Test-session set-up of the MindFlow tests: the device they run on, and the execution mode.

It sits in ``tests/st/mindflow`` (not the repository root) so that the tests keep it when they are
copied into upstream mindscience's tree. See ``tests/README.md``.

The device is chosen once per session by the environment variable ``MINDFLOW_TEST_DEVICE``
(``CPU``, ``GPU`` or ``Ascend``; by default the first available of Ascend, GPU, CPU) and set with
``mindspore.set_device`` before any test module is imported. Tests below this folder whose platform
markers do not name that device are skipped; tests with no platform marker run anywhere.
"""
import functools
import os
import sys

import pytest

DEVICE_ENV = "MINDFLOW_TEST_DEVICE"
DEVICES = ("Ascend", "GPU", "CPU")  # the default is the first available, in this order
# Upstream MindFlow's platform markers of each device.
PLATFORM_MARKERS = {
    "CPU": ("platform_x86_cpu",),
    "GPU": ("platform_x86_gpu_training",),
    "Ascend": ("platform_arm_ascend_training", "platform_arm_ascend910b_training"),
}
_ALL_PLATFORM_MARKERS = frozenset(name for names in PLATFORM_MARKERS.values() for name in names)
_HERE = os.path.dirname(os.path.abspath(__file__))
_DEVICE_KEY = pytest.StashKey[str]()
# Tests import this folder's helpers (device_tolerance) whatever pytest's import mode.
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@functools.lru_cache(maxsize=None)
def _device_available(device):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    try:
        return bool(ms.hal.is_available(device))
    except (RuntimeError, ValueError):
        return False


@functools.lru_cache(maxsize=None)
def session_device():
    """The device of this session: ``MINDFLOW_TEST_DEVICE``, else the first available of ``DEVICES``."""
    wanted = os.environ.get(DEVICE_ENV, "").strip()
    if wanted:
        device = {name.lower(): name for name in DEVICES}.get(wanted.lower())
        if device is None:
            raise pytest.UsageError(f"{DEVICE_ENV}={wanted!r}: expected one of {', '.join(DEVICES)}")
        if not _device_available(device):
            raise pytest.UsageError(f"{DEVICE_ENV}={device}, but MindSpore has no {device} backend here")
        return device
    return next((name for name in DEVICES if _device_available(name)), "CPU")


def pytest_configure(config):
    """Set the session's device before any test module (or kernel) runs."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    device = session_device()
    ms.set_device(device)
    config.stash[_DEVICE_KEY] = device


def pytest_report_header(config):
    return f"mindflow test device: {config.stash.get(_DEVICE_KEY, '?')} (set {DEVICE_ENV} to choose)"


def pytest_collection_modifyitems(config, items):
    """Skip the tests of this folder whose platform markers do not name the session's device."""
    device = config.stash.get(_DEVICE_KEY, None) or session_device()
    wanted = set(PLATFORM_MARKERS[device])
    for item in items:
        # Only this folder's tests: a session may also collect other projects' tests (tests/st/...).
        if os.path.commonpath([str(item.path), _HERE]) != _HERE:
            continue
        platforms = {mark.name for mark in item.iter_markers()} & _ALL_PLATFORM_MARKERS
        if platforms and not platforms & wanted:
            item.add_marker(pytest.mark.skip(
                reason=f"for {', '.join(sorted(platforms))}; this session's device is {device} ({DEVICE_ENV})"))


@pytest.fixture(autouse=True)
def _restore_execution_mode():
    """Give every test the execution mode it started with.

    Applications and examples call ``mindspore.set_context(mode=GRAPH_MODE)``; without this a
    test that expects the default PYNATIVE mode would depend on which tests ran before it.
    """
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    mode = ms.get_context("mode")
    yield
    ms.set_context(mode=mode)
