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
"""Smoke test of benchmarks/bench_optimizers.py: it runs end to end and writes the JSON it documents."""
import json
import os
import subprocess
import sys

import pytest

_REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *([os.pardir] * 4)))
_SCRIPT = os.path.join(_REPO_ROOT, "benchmarks", "bench_optimizers.py")


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_bench_optimizers_smoke(tmp_path):
    """
    Feature: the optimizer benchmark script.
    Description: run it with a tiny configuration (3 steps, 1 warm-up step, the CNN workload, PYNATIVE,
        MindSpore only, Adam and AdaHessian k=1 (each AdaHessian variant compiles its step), the default pairs
        layout, no memory processes) and read the JSON it writes.
    Expectation: exit status 0; the JSON holds meta, results, memory and goals; one worker per compile order
        (Adam first, AdaHessian first); every variant has positive first-step and median times and the ratios
        to Adam are positive; the summary of the two runs gives each order's ratio. No timing is asserted.
    """
    out = tmp_path / "results.json"
    command = [sys.executable, _SCRIPT, "--out", str(out), "--workloads", "cnn", "--modes", "pynative",
               "--frameworks", "mindspore", "--blocking", "1", "--steps", "3", "--warmup", "1",
               "--memory-modes", "", "--variants", "adam,ah_1"]
    done = subprocess.run(command, cwd=_REPO_ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report) >= {"meta", "results", "memory", "goals"}
    assert report["meta"]["steps"] == 3 and report["meta"]["layout"] == "pairs"
    assert [record["compile_order"] for record in report["results"]] == [["adam", "ah_1"], ["ah_1", "adam"]]
    for record in report["results"]:
        assert (record["framework"], record["workload"], record["mode"]) == ("mindspore", "cnn", "pynative")
        assert "error" not in record, record.get("error")
        assert list(record["variants"]) == record["compile_order"]
        for data in record["variants"].values():
            assert data["first_step_s"] > 0
            assert data["steps"] == 3
            assert data["median_s"] > 0 and data["min_s"] <= data["median_s"] <= data["max_s"]
            assert data["amortized_s"] > 0
        assert set(record["ratios"]) == {"ah_1"}
        assert all(value > 0 for value in record["ratios"].values())
    assert [check["what"] for check in report["goals"]] == ["ah_1/adam time"]
    assert report["goals"][0]["runs"] == 2
    assert "; A " in done.stdout and ", H " in done.stdout
    assert "| cnn | pynative | mindspore |" in done.stdout
