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
"""Test-session set-up shared by every test.

Tests for a device carry upstream MindFlow's platform markers; where that device is absent
they are skipped, so the suite runs unchanged on a CPU-only machine and on GPU/Ascend hosts.
"""
import functools

import pytest

# A test carrying any of these markers (and not platform_x86_cpu) needs that device.
_DEVICE_OF_MARKER = {
    "platform_x86_gpu_training": "GPU",
    "platform_arm_ascend_training": "Ascend",
    "platform_arm_ascend910b_training": "Ascend",
}


@functools.lru_cache(maxsize=None)
def _device_available(device):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    try:
        return bool(ms.hal.is_available(device))
    except (RuntimeError, ValueError):
        return False


def pytest_collection_modifyitems(config, items):
    """Skip device-only tests where that device is not present."""
    del config
    for item in items:
        names = {mark.name for mark in item.iter_markers()}
        if "platform_x86_cpu" in names:
            continue
        devices = {_DEVICE_OF_MARKER[name] for name in names if name in _DEVICE_OF_MARKER}
        if devices and not any(_device_available(device) for device in devices):
            item.add_marker(pytest.mark.skip(reason=f"needs a {'/'.join(sorted(devices))} device"))


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
