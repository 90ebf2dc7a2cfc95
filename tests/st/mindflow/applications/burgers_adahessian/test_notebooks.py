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
"""The application's notebooks execute from top to bottom (on the smoke profile they select)."""
import os

import nbformat
import pytest
from nbclient import NotebookClient

_REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *([os.pardir] * 5)))
_APP_DIR = os.path.join(_REPO_ROOT, "applications", "physics_driven", "burgers_adahessian")
NOTEBOOKS = ("burgers_adahessian.ipynb", "burgers_adahessian_CN.ipynb")


def _outputs_text(cell):
    return "".join(output.get("text", "") for output in cell.get("outputs", ()))


@pytest.mark.level1
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes(name, monkeypatch):
    """
    Feature: the Burgers application's English and Chinese notebooks.
    Description: execute every cell in a fresh Python kernel from the application folder, with this checkout's
        mindflow first on the kernel's path; the notebooks select the smoke profile themselves.
    Expectation: no cell raises; the committed notebook holds no outputs; the training cell reports both
        optimizers with a finite final error, the exact solution is shown and the last cell shows the four
        figures.
    """
    with open(os.path.join(_APP_DIR, name), encoding="utf-8") as handle:
        notebook = nbformat.read(handle, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code), \
        f"{name}: commit the notebook without outputs"
    assert 'PROFILE = "smoke"' in code[0].source

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [_REPO_ROOT, os.environ.get("PYTHONPATH")])))
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": _APP_DIR}}).execute()

    training = _outputs_text(next(cell for cell in code if "run_optimizer(" in cell.source))
    for optimizer in ("adam", "adahessian"):
        line = next(line for line in training.splitlines() if line.startswith(optimizer + ":"))
        error = float(line.split("final relative L2 error ")[1].split(",")[0])
        assert 0.0 < error < 10.0, line
    def images(cell):
        return [output for output in cell.outputs if "image/png" in output.get("data", {})]
    assert len(images(next(cell for cell in code if "u_exact" in cell.source))) == 1
    assert len(images(code[-1])) == 4
