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
"""Pieces of the flat vectors the optimizer works on (all parameters, or all probes, end to end)."""


def flat_piece(values, start, stop):
    """``values[start:stop]`` of a flat vector, without a slice when that is all of it.

    On MindSpore's CPU backend a slice spanning the whole vector is far slower than a shorter one (1e6 float32:
    48 ms against 2.5 ms one element shorter, ``benchmarks/experiments/exp_probe_packing.py --part slice``), so a
    single-parameter model would pay that on every step.
    """
    if start == 0 and stop == values.shape[0]:
        return values
    return values[start:stop]
