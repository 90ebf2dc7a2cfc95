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
"""Shared helpers of the experiment scripts: imports from the repository, interleaved timing."""
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH_DIR = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(BENCH_DIR)
# BENCH_MINDFLOW_ROOT: import mindflow from there (e.g. benchmarks/.cache/head/<commit>, which
# `bench_optimizers.py --mindflow head` exports) instead of the working tree
for _path in (BENCH_DIR, os.environ.get("BENCH_MINDFLOW_ROOT", REPO_ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, os.path.abspath(_path))


def _set_threads():
    """CPU kernel threads from BENCH_THREADS (default 1, as bench_optimizers.py; 0 keeps MindSpore's 25)."""
    # pylint: disable=import-outside-toplevel
    import mindspore as ms
    threads = int(os.environ.get("BENCH_THREADS", "1"))
    if threads:
        ms.device_context.cpu.op_tuning.threads_num(threads)


_set_threads()


def sync(output):
    """Copy every Tensor of ``output`` to the host (ends the step)."""
    # pylint: disable=import-outside-toplevel
    import mindspore as ms
    if isinstance(output, (tuple, list)):
        for item in output:
            sync(item)
    elif isinstance(output, ms.Tensor):
        output.asnumpy()
    return output


def adam_step(workload, learning_rate=1e-3):
    """The baseline step ``step(*inputs) -> loss``: ``mindspore.value_and_grad`` and ``nn.Adam`` on ``workload``."""
    # pylint: disable=import-outside-toplevel
    import mindspore as ms
    adam = ms.nn.Adam(workload.params(), learning_rate=learning_rate)
    grad_fn = ms.value_and_grad(workload.loss_fn, None, adam.parameters)

    def step(*inputs):
        loss, grads = grad_fn(*inputs)
        adam(grads)
        return loss
    return step


def first_calls(functions, args):
    """Seconds of the first call of every function (compilation included), in order."""
    result = {}
    for name, function in functions.items():
        start = time.perf_counter()
        sync(function(*args))
        result[name] = time.perf_counter() - start
    return result


def interleaved(functions, args, steps, warmup=1):
    """Median, min and max seconds per call, calling the functions round-robin ``steps`` times."""
    for _ in range(warmup):
        for function in functions.values():
            sync(function(*args))
    times = {name: [] for name in functions}
    for _ in range(steps):
        for name, function in functions.items():
            start = time.perf_counter()
            sync(function(*args))
            times[name].append(time.perf_counter() - start)
    return {name: {"median_ms": statistics.median(values) * 1e3, "min_ms": min(values) * 1e3,
                   "max_ms": max(values) * 1e3} for name, values in times.items()}


def worker_times(command):
    """Run a worker process and return the times of its last ``RESULT name=ms ...`` line as ``{name: ms}``."""
    # pylint: disable=import-outside-toplevel
    import subprocess
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = [item for item in done.stdout.splitlines() if item.startswith("RESULT ")][-1]
    return {key: float(value) for key, value in (item.split("=") for item in line.split()[1:])}


def report(title, results, path=None):
    """Print ``results`` as a small table and optionally dump them to JSON."""
    print(f"== {title}")
    for name, data in results.items():
        if isinstance(data, dict) and "median_ms" in data:
            print(f"  {name:40s} median {data['median_ms']:9.2f} ms  (min {data['min_ms']:.2f}, "
                  f"max {data['max_ms']:.2f})")
        else:
            print(f"  {name:40s} {data}")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1)
