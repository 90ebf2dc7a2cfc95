#!/usr/bin/env bash
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
# The runs behind benchmarks/README.md, in the order they were made (about 90 minutes on a loaded
# 2-core machine): every framework with MS_DEV_HOST_BLOCKING_RUN=1, MindSpore again with it unset,
# then the memory processes, merged into benchmarks/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=benchmarks/runs
mkdir -p "$OUT"
$PY benchmarks/bench_optimizers.py --out "$OUT/blocking1.json" --blocking 1 --memory-modes "" --time-budget 120
$PY benchmarks/bench_optimizers.py --out "$OUT/unset.json" --blocking unset --frameworks mindspore \
    --modes jit,pynative --workloads pinn_small,cnn --memory-modes "" --time-budget 120
$PY benchmarks/bench_optimizers.py --out "$OUT/memory.json" --skip-timing --blocking 1 --memory-modes jit \
    --memory-steps 3 --workloads pinn_small,cnn --frameworks mindspore,upstream
$PY benchmarks/bench_optimizers.py --merge "$OUT/blocking1.json" "$OUT/unset.json" "$OUT/memory.json" \
    --out benchmarks/results.json
