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
"""Pytest plugin (``-p upstream_guard``) for running this project's tests on patched upstream MindFlow.

Before any test is collected it imports ``mindflow`` and stops the session unless the package comes
from the folder named by ``UPSTREAM_GUARD_PACKAGE_DIR`` (the patched upstream copy, not this project's
checkout). It writes where ``mindflow`` and ``mindflow.AdaHessian`` came from to the file named by
``UPSTREAM_GUARD_REPORT``, and checks again at the end of the session, after the tests ran.
"""
import inspect
import json
import os
import sys

import pytest


def _where():
    import mindflow  # pylint: disable=import-outside-toplevel
    return {"mindflow": mindflow.__file__, "adahessian": inspect.getsourcefile(mindflow.AdaHessian),
            "has_cfd": hasattr(mindflow, "cfd"), "sys_path_head": sys.path[:4]}


def _check(stage):
    folder = os.path.realpath(os.environ["UPSTREAM_GUARD_PACKAGE_DIR"])
    where = _where()
    report = os.environ.get("UPSTREAM_GUARD_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(dict(where, stage=stage)) + "\n")
    for key in ("mindflow", "adahessian"):
        if os.path.commonpath([os.path.realpath(where[key]), folder]) != folder:
            raise pytest.UsageError(f"upstream_guard ({stage}): {key} comes from {where[key]}, not from {folder}")


def pytest_configure(config):
    """Refuse to run unless ``mindflow`` is the patched upstream package."""
    del config
    _check("configure")


def pytest_sessionfinish(session, exitstatus):
    """Check again once the tests ran (a test could have put another ``mindflow`` first)."""
    del session, exitstatus
    _check("finish")
