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
"""The benchmark's report over repeated runs (``--repeats``): grouping, medians, ranges and the targets."""

import pytest

from script_loader import load_script



def _bench():
    return load_script("benchmarks/bench_optimizers.py", "bench_optimizers")


def _record(workload, repeat, ratios, sha="abc"):
    return {"framework": "mindspore", "workload": workload, "mode": "graph", "host_blocking_run": "1",
            "threads": 1, "repeat": repeat, "mindflow_root": "benchmarks/.cache/head/0123456789ab",
            "adahessian_py_sha1": sha, "ratios": ratios}


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_ratio_groups_median_range_and_goals():
    """
    Feature: the benchmark's summary of repeated runs.
    Description: three runs of one configuration (k=1 ratios 2.6, 2.2, 2.4; k=10 ratios 1.3, 1.2, 1.5), one run
        of another workload, one run of the first configuration with another adahessian.py, and a failed run.
    Expectation: one group per configuration and version; the median, minimum and maximum of each variant's
        ratios over its runs; the failed run is left out; the targets are judged on the medians (k=10's 1.3
        misses 1.25, the other workload's 1.2 meets it); the table prints "median (min-max)".
    """
    bench = _bench()
    records = [_record("pinn_small", 0, {"ah_1": 2.6, "ah_10": 1.3}),
               _record("cnn", 0, {"ah_1": 2.1, "ah_10": 1.2}),
               _record("pinn_small", 1, {"ah_1": 2.2, "ah_10": 1.2}),
               _record("pinn_small", 2, {"ah_1": 2.4, "ah_10": 1.5}),
               _record("pinn_small", 0, {"ah_1": 3.4}, sha="older"),
               {"framework": "mindspore", "workload": "pinn_small", "mode": "graph", "host_blocking_run": "1",
                "error": "worker exited with 1"}]
    groups = bench.ratio_groups(records)
    assert [(g["workload"], g["runs"]) for g in groups] == [("pinn_small", 3), ("cnn", 1), ("pinn_small", 1)]
    small = groups[0]["ratios"]
    # records without a compile order come from shared workers, which compile Adam first
    assert small["ah_1"] == {"median": 2.4, "min": 2.2, "max": 2.6, "runs": 3, "adam_first": 2.4,
                             "adahessian_first": None}
    assert small["ah_10"] == {"median": 1.3, "min": 1.2, "max": 1.5, "runs": 3, "adam_first": 1.3,
                              "adahessian_first": None}
    assert groups[0]["version"] == "0123456"

    checks = {(c["workload"], c["what"], c["value"]): c for c in bench.goals(records, [])}
    assert len(checks) == 5
    assert not checks[("pinn_small", "ah_10/adam time", 1.3)]["met"]
    assert checks[("pinn_small", "ah_10/adam time", 1.3)]["runs"] == 3
    assert checks[("cnn", "ah_10/adam time", 1.2)]["met"]
    assert not checks[("pinn_small", "ah_1/adam time", 2.4)]["met"]

    text = bench.ratio_table(groups)
    assert "| pinn_small | graph | mindspore | 1 | shared | 3 | 2.40 (2.20-2.60) | 1.30 (1.20-1.50) | - |" in text
    assert "| cnn | graph | mindspore | 1 | shared | 1 | 2.10 (2.10-2.10) |" in text


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_pairs_layout_counterbalances_the_compile_order():
    """
    Feature: the benchmark's --layout pairs (the default): each AdaHessian variant in its own workers with Adam.
    Description: the worker variant lists of each layout and framework; then four paired records of one
        configuration: ah_1 compiled after Adam (ratios 2.3, 2.1) and before it (1.9, 1.7), ah_10 after Adam only.
    Expectation: pairs gives [adam, v] and [v, adam] per AdaHessian variant, in the table's order; shared and a
        selection without Adam give one worker with every variant. The summary counts the runs per
        variant (4 for ah_1), its median over both orders (2.0) and the median of each order (A 2.2, H 1.8); the
        table shows both orders only where both were run.
    """
    bench = _bench()
    args = bench.parse_args(["--frameworks", "mindspore", "--variants", "adam,ah_1,ah_10_fd"])
    assert args.layout == "pairs"
    assert bench.worker_variants("mindspore", args) == [["adam", "ah_1"], ["ah_1", "adam"],
                                                        ["adam", "ah_10_fd"], ["ah_10_fd", "adam"]]
    assert bench.worker_variants("upstream", args) == [["adam", "upstream_ah"], ["upstream_ah", "adam"]]
    shared = bench.parse_args(["--frameworks", "mindspore", "--variants", "adam,ah_1,ah_10_fd", "--layout", "shared"])
    assert bench.worker_variants("mindspore", shared) == [["adam", "ah_1", "ah_10_fd"]]
    alone = bench.parse_args(["--frameworks", "mindspore", "--variants", "ah_1,ah_10"])
    assert bench.worker_variants("mindspore", alone) == [["ah_1", "ah_10"]]

    def paired(repeat, order, ratios):
        return dict(_record("pinn_small", repeat, ratios), layout="pairs", compile_order=order)
    records = [paired(0, ["adam", "ah_1"], {"ah_1": 2.3}), paired(0, ["ah_1", "adam"], {"ah_1": 1.9}),
               paired(0, ["adam", "ah_10"], {"ah_10": 1.3}),
               paired(1, ["adam", "ah_1"], {"ah_1": 2.1}), paired(1, ["ah_1", "adam"], {"ah_1": 1.7})]
    groups = bench.ratio_groups(records)
    assert len(groups) == 1 and groups[0]["layout"] == "pairs" and groups[0]["runs"] == 4
    assert groups[0]["ratios"]["ah_1"] == pytest.approx({"median": 2.0, "min": 1.7, "max": 2.3, "runs": 4,
                                                         "adam_first": 2.2, "adahessian_first": 1.8})
    assert groups[0]["ratios"]["ah_10"]["adahessian_first"] is None
    text = bench.ratio_table(groups)
    assert "| pinn_small | graph | mindspore | 1 | pairs | 4 | 2.00 (1.70-2.30); A 2.20, H 1.80 | 1.30 (1.30-1.30) |" \
        in text


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_repeats_must_be_positive(capsys):
    """
    Feature: the benchmark's --repeats option.
    Description: parse --repeats 0 and --repeats 3.
    Expectation: 0 is refused with a message naming the option and the value; 3 is kept.
    """
    bench = _bench()
    with pytest.raises(SystemExit):
        bench.parse_args(["--repeats", "0", "--frameworks", "mindspore"])
    assert "--repeats must be at least 1, but got 0" in capsys.readouterr().err
    assert bench.parse_args(["--repeats", "3", "--frameworks", "mindspore"]).repeats == 3
