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
"""Tests of several applications in one pytest process.

Each application imports its own top-level ``src`` package and ``train``/``eval`` scripts, as upstream MindFlow's
applications do, so one application's modules must leave ``sys.modules`` while another's tests import or run. A
test folder's conftest calls :func:`use_application` with its application's folder.
"""
import os
import sys

import pytest

_NAMES = ("src", "train", "eval")
_PARKED = {}  # application folder -> its modules, while another application's tests run


def _application_of(name, module):
    """The application folder a module was loaded from (``None``: not an application's)."""
    path = getattr(module, "__file__", None)
    if not path:
        return None
    path = os.path.abspath(path)
    if name == "src" or name.startswith("src."):
        return path[:path.rfind(os.sep + "src" + os.sep)]
    return os.path.dirname(path)


def activate(app_dir):
    """Make ``import src`` (``train``, ``eval``) find ``app_dir``'s modules, parking any other application's."""
    for name in [n for n in sys.modules if n in _NAMES or n.startswith("src.")]:
        module = sys.modules.pop(name)
        owner = _application_of(name, module)
        if owner and owner != app_dir:
            _PARKED.setdefault(owner, {})[name] = module
        elif owner:
            _PARKED.setdefault(app_dir, {}).setdefault(name, module)
    sys.modules.update(_PARKED.pop(app_dir, {}))
    if app_dir in sys.path:
        sys.path.remove(app_dir)
    sys.path.insert(0, app_dir)


def use_application(app_dir):
    """The two hooks of a test folder's conftest: its modules are imported, and its tests run, with ``app_dir``'s
    modules active. Use as ``pytest_make_collect_report, application = use_application(APP_DIR)``."""
    @pytest.hookimpl(hookwrapper=True)
    def pytest_make_collect_report(collector):
        if isinstance(collector, pytest.Module):
            activate(app_dir)
        yield

    @pytest.fixture(autouse=True)
    def application():
        activate(app_dir)

    return pytest_make_collect_report, application
