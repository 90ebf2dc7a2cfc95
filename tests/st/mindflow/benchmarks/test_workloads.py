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
"""The workloads of benchmarks/workloads.py: the sizes benchmarks/README.md quotes, and finite losses."""
import math

import pytest

from script_loader import load_script


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_workloads_have_the_documented_sizes_and_finite_losses():
    """
    Feature: the benchmark workloads.
    Description: build every workload from seed 0 (twice for pinn_small) and evaluate its loss once.
    Expectation: pinn_small has 921 weights, pinn_large 21,057 and the CNN 25,578, as benchmarks/README.md says;
        the PINN inputs hold 512 + 128 + 128 points with t = 0 on the initial and x = +-1 on the boundary points;
        every loss is finite and positive, and the same seed gives the same loss.
    """
    workloads = load_script("benchmarks/workloads.py", "bench_workloads")
    sizes = {"pinn_small": 921, "pinn_large": 21057, "pinn_app": None, "cnn": 25578}
    losses = {}
    for name, size in sizes.items():
        workload = workloads.build_workload(name)
        if size is not None:
            assert sum(p.size for p in workload.net.trainable_params()) == size, name
        losses[name] = float(workload.loss_fn(*workload.inputs).asnumpy())
        assert math.isfinite(losses[name]) and losses[name] > 0, (name, losses[name])
    points = workloads.build_workload("pinn_small").inputs[0].asnumpy()
    assert points.shape == (768, 2)
    assert (points[512:640, 1] == 0).all() and set(abs(points[640:, 0])) == {1.0}
    again = workloads.build_workload("pinn_small")
    assert float(again.loss_fn(*again.inputs).asnumpy()) == losses["pinn_small"]
