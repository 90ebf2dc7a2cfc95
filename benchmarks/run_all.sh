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
# The runs behind the table of benchmarks/README.md, most important first, each into its own JSON file,
# merged into benchmarks/results.json at the end. On a 2-core machine shared with other trainings this
# took about an hour; `python benchmarks/bench_optimizers.py` alone runs the whole matrix (longer).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=benchmarks/runs
mkdir -p "$OUT"
bench() {
    local name=$1
    shift
    # --layout shared: the layout these runs were made with (Adam compiled first); the last run overrides it
    $PY benchmarks/bench_optimizers.py --mindflow head --out "$OUT/$name.json" --memory-modes "" --time-budget 120 \
        --layout shared "$@"
}
bench ms_cnn --frameworks mindspore --workloads cnn --blocking 1
bench ms_pinn_small --frameworks mindspore --workloads pinn_small --blocking 1
[ -f "$OUT/torch.json" ] || bench torch --frameworks torch
[ -f "$OUT/upstream_cnn.json" ] || bench upstream_cnn --frameworks upstream --workloads cnn --blocking 1
bench ms_unset_jit --frameworks mindspore --workloads cnn,pinn_small --modes jit --blocking unset
bench ms_pinn_large --frameworks mindspore --workloads pinn_large --modes jit --blocking 1
bench ms_threads_default --frameworks mindspore --workloads cnn --modes jit --blocking both --threads 0
bench upstream_pinn_small --frameworks upstream --workloads pinn_small --modes jit --blocking 1
$PY benchmarks/bench_optimizers.py --mindflow head --out "$OUT/memory.json" --skip-timing --blocking 1 \
    --memory-modes jit --memory-steps 3 --workloads cnn --frameworks mindspore,upstream --variants adam,ah_1
bench ms_unset_pynative --frameworks mindspore --workloads cnn --modes pynative --blocking unset
# exact and finite-difference H z (the default variants), graph mode, after the host-side probe keys
bench ms_after_fd --frameworks mindspore --workloads pinn_small,cnn,pinn_large --modes graph --blocking 1
$PY benchmarks/bench_optimizers.py --mindflow head --out "$OUT/memory_after_fd.json" --skip-timing --blocking 1 \
    --memory-modes jit --memory-steps 3 --workloads cnn --frameworks mindspore
# the same three runs over: the median ratio of three worker processes and its range
bench ms_repeats3 --frameworks mindspore --workloads pinn_small,cnn,pinn_large --modes graph --blocking 1 \
    --repeats 3 --time-budget 150
# each AdaHessian variant in workers of its own with Adam, both compile orders, after the lazy-graph-first change
bench ms_pairs3 --frameworks mindspore --workloads pinn_small,cnn,pinn_large --modes graph --blocking 1 \
    --repeats 3 --time-budget 150 --layout pairs
# final: peak memory of every variant on every workload (graph mode), and PYNATIVE in paired workers
$PY benchmarks/bench_optimizers.py --mindflow head --out "$OUT/memory_final.json" --skip-timing --blocking 1 \
    --memory-modes graph --memory-steps 3 --workloads pinn_small,cnn,pinn_large --frameworks mindspore \
    --variants adam,ah_1,ah_10,ah_1_fd,ah_10_fd
bench ms_pairs_pynative --frameworks mindspore --workloads pinn_small,cnn,pinn_large --modes pynative --blocking 1 \
    --layout pairs
# after the packed Rademacher probes (59a0432): the pairs again; the "before" file came from a worktree of 9e74771
# running this same command there
bench ms_pairs3_packed_probes --frameworks mindspore --workloads pinn_small,cnn,pinn_large --modes graph --blocking 1 \
    --repeats 3 --time-budget 150 --layout pairs
$PY benchmarks/bench_optimizers.py --mindflow head --out "$OUT/memory_packed_probes.json" --skip-timing --blocking 1 \
    --memory-modes graph --memory-steps 3 --workloads pinn_small,cnn,pinn_large --frameworks mindspore \
    --variants adam,ah_1,ah_10,ah_1_fd,ah_10_fd
$PY benchmarks/bench_optimizers.py --merge "$OUT"/*.json --out benchmarks/results.json
