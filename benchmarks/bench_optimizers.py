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
"""Side-by-side step times of Adam and AdaHessian (MindSpore, upstream MindFlow 0.3.0, PyTorch).

One command runs everything and writes a JSON file and a table::

    python benchmarks/bench_optimizers.py --out benchmarks/results.json

Method. Each (framework, workload, mode, MS_DEV_HOST_BLOCKING_RUN setting) runs in worker processes. A
worker builds one network copy per optimizer variant from the same seed, times the first step of every
variant (compilation included) and then times ``--steps`` steps per variant in round-robin order (Adam,
AdaHessian, Adam, ...) so that load from other processes on the machine affects all variants alike. Every
step ends with the loss copied to the host. MindSpore's CPU runtime runs a graph compiled after others more
slowly, so by default (``--layout pairs``) every AdaHessian variant gets two workers of its own with Adam,
one compiling Adam first and one compiling AdaHessian first; ``--layout shared`` puts all variants in one
worker, Adam compiled first. Reported are
the median, mean, minimum and maximum; for ``update_interval=10`` the amortized step cost
``(median refresh step + 9 * median lazy step) / 10``. The ratio to Adam still varies from one worker
process to the next (here by 0.1 to 0.2), so ``--repeats N`` runs every configuration N times, in turn,
and adds a table of the median ratio over the runs with its range; the targets are checked on that median.
Peak memory is measured in separate processes that run one variant each (``--memory-modes``): the peak
resident set size (``ru_maxrss``) and its increase over the RSS after imports and data set-up.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
UPSTREAM_SPEC = "mindflow-ascend==0.3.0"
DEFAULT_UPSTREAM_DIR = os.path.join(HERE, ".cache", "mindflow_ascend-0.3.0")
RESULT_TAG = "BENCH_RESULT "
MODES = ("graph", "jit", "pynative")
FRAMEWORKS = ("mindspore", "torch", "upstream")
DEFAULT_WORKLOADS = ("pinn_small", "pinn_large", "cnn")
MS_VARIANTS = ("adam", "ah_1", "ah_10", "ah_1_fd", "ah_10_fd")
# PyTorch's AdaHessian twin has the exact Hessian-vector product only
TORCH_VARIANTS = ("adam", "ah_1", "ah_10")
UPSTREAM_VARIANTS = ("adam", "upstream_ah")
INTERVALS = {"ah_1": 1, "ah_10": 10, "ah_1_fd": 1, "ah_10_fd": 10}
# the variants ending in _fd compute H z by a forward difference of two gradients
HVP_METHODS = {"ah_1_fd": "finite_difference", "ah_10_fd": "finite_difference"}
LEARNING_RATE = 1e-3


# ---------------------------------------------------------------------------------------------- worker side
def _rss_mb():
    with open("/proc/self/statm", encoding="ascii") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _summary(times, interval, first_index):
    """Statistics of step times; ``first_index`` is the optimizer step number of ``times[0]``."""
    result = {"median_s": statistics.median(times), "mean_s": statistics.fmean(times), "min_s": min(times),
              "max_s": max(times), "steps": len(times), "times_s": times}
    result["amortized_s"] = result["median_s"]
    if interval > 1:
        refresh = [t for i, t in enumerate(times) if (first_index + i) % interval == 0]
        lazy = [t for i, t in enumerate(times) if (first_index + i) % interval != 0]
        if refresh and lazy:
            result["refresh_median_s"] = statistics.median(refresh)
            result["lazy_median_s"] = statistics.median(lazy)
            result["amortized_s"] = (result["refresh_median_s"] + (interval - 1) * result["lazy_median_s"]) / interval
    return result


def _ms_sync(output):
    # pylint: disable=import-outside-toplevel
    import mindspore as ms
    if isinstance(output, ms.Tensor):
        output = output.asnumpy()
    ms.runtime.synchronize()
    return output


def _ms_step(variant, workload, mode, adahessian_cls):
    """A step function ``step(*inputs) -> loss`` for one variant, and the call it stands for."""
    # pylint: disable=import-outside-toplevel
    import mindspore as ms
    from mindspore import nn
    params = workload.params()
    if variant == "adam":
        adam = nn.Adam(params, learning_rate=LEARNING_RATE)
        adam_grad_fn = ms.value_and_grad(workload.loss_fn, None, adam.parameters)

        def adam_step(*inputs):
            loss, grads = adam_grad_fn(*inputs)
            adam(grads)
            return loss
        step, call = adam_step, "loss, grads = grad_fn(*inputs); opt(grads)"
    elif variant == "upstream_ah":
        optimizer = adahessian_cls(params, learning_rate=LEARNING_RATE)
        grad_fn = ms.grad(_packed_loss(workload), None, optimizer.parameters)

        def upstream_step(*inputs):
            return optimizer(grad_fn, inputs[0] if len(inputs) == 1 else inputs)
        step, call = upstream_step, "opt(grad_fn, inputs) with grad_fn = mindspore.grad(loss, None, weights)"
    else:
        extra = {"hvp_method": HVP_METHODS[variant]} if variant in HVP_METHODS else {}
        optimizer = adahessian_cls(params, learning_rate=LEARNING_RATE, update_interval=INTERVALS[variant], **extra)
        grad_fn = ms.value_and_grad(workload.loss_fn, None, optimizer.parameters)

        def adahessian_step(*inputs):
            return optimizer(grad_fn, *inputs)
        step, call = adahessian_step, "loss = opt(grad_fn, *inputs)"
    if mode == "jit":
        return ms.jit(step), "mindspore.jit(step): " + call
    return step, call


def _packed_loss(workload):
    """Upstream's construct(grad_fn, inputs) passes one input: a Tensor, or the tuple of several."""
    if len(workload.inputs) == 1:
        return workload.loss_fn
    loss_fn = workload.loss_fn

    def packed(batch):
        return loss_fn(batch[0], batch[1])
    return packed


def _adahessian_class(framework):
    # pylint: disable=import-outside-toplevel
    if framework == "upstream":
        from mindflow.core.optimizers import AdaHessian as UpstreamAdaHessian  # pylint: disable=import-error
        return UpstreamAdaHessian
    root = os.environ.get("BENCH_MINDFLOW_ROOT", REPO_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)
    from mindflow.cell.optimizers import AdaHessian  # pylint: disable=import-error
    return AdaHessian


def _ms_worker(spec):
    """Time the MindSpore variants of one (framework, workload, mode) in this process."""
    # pylint: disable=import-outside-toplevel
    import mindspore as ms
    if spec["threads"]:
        ms.device_context.cpu.op_tuning.threads_num(spec["threads"])
    ms.set_context(mode=ms.PYNATIVE_MODE if spec["mode"] == "pynative" else ms.GRAPH_MODE)
    ms.set_seed(0)
    from workloads import build_workload
    adahessian_cls = _adahessian_class(spec["framework"])
    baseline = _rss_mb()
    steps, calls, workloads, counts, results = {}, {}, {}, {}, {}
    for variant in spec["variants"]:
        workloads[variant] = build_workload(spec["workload"])
        steps[variant], calls[variant] = _ms_step(variant, workloads[variant], spec["mode"], adahessian_cls)
        counts[variant] = 0
    if spec.get("memory"):
        baseline = _rss_mb()
    for variant in spec["variants"]:
        before = _rss_mb()
        start = time.perf_counter()
        loss = _ms_sync(steps[variant](*workloads[variant].inputs))
        results[variant] = {"first_step_s": time.perf_counter() - start, "call": calls[variant],
                            "first_loss": _as_float(loss), "rss_increase_first_step_mb": _rss_mb() - before}
        counts[variant] += 1
    for _ in range(spec["warmup"] - 1):
        for variant in spec["variants"]:
            _ms_sync(steps[variant](*workloads[variant].inputs))
            counts[variant] += 1
    return _timed_loop(spec, steps, workloads, counts, results, baseline, _ms_sync)


def _timed_loop(spec, steps, workloads, counts, results, baseline, sync):
    """Round-robin timing of every variant; fills ``results``."""
    times = {variant: [] for variant in spec["variants"]}
    first_index = dict(counts)
    deadline = time.perf_counter() + spec.get("time_budget_s", 1e9)
    loss = {}
    for _ in range(spec["steps"]):
        for variant in spec["variants"]:
            start = time.perf_counter()
            loss[variant] = sync(steps[variant](*workloads[variant].inputs))
            times[variant].append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    for variant in spec["variants"]:
        results[variant].update(_summary(times[variant], INTERVALS.get(variant, 1), first_index[variant]))
        results[variant]["last_loss"] = _as_float(loss.get(variant))
    memory = {"baseline_rss_mb": baseline, "end_rss_mb": _rss_mb(), "peak_rss_mb": _peak_rss_mb()}
    return {"variants": results, "memory": memory}


def _as_float(value):
    try:
        return float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError, AttributeError):
        return None


def _torch_worker(spec):
    """Time torch.optim.Adam and TorchAdaHessian (eager) on the PyTorch twin of one workload."""
    # pylint: disable=import-outside-toplevel
    import torch
    import mindspore as ms
    from workloads import build_workload, workload_arrays
    from torch_workloads import TorchAdaHessian, build_torch_workload, torch_adam_step
    torch.set_num_threads(spec["threads"] or os.cpu_count())
    ms.set_context(mode=ms.PYNATIVE_MODE)
    arrays = workload_arrays(build_workload(spec["workload"]))
    baseline = _rss_mb()
    steps, workloads, counts, results = {}, {}, {}, {}
    for variant in spec["variants"]:
        net, closure = build_torch_workload(build_workload(spec["workload"]), *arrays)
        if variant == "adam":
            optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
            steps[variant] = _bind(torch_adam_step, net, closure, optimizer)
        else:
            optimizer = TorchAdaHessian(net.parameters(), lr=LEARNING_RATE, update_interval=INTERVALS[variant])
            steps[variant] = _bind(optimizer.step, closure)
        workloads[variant] = _NoInputs()
        counts[variant] = 0
    if spec.get("memory"):
        baseline = _rss_mb()
    for variant in spec["variants"]:
        before = _rss_mb()
        start = time.perf_counter()
        loss = steps[variant]()
        results[variant] = {"first_step_s": time.perf_counter() - start, "first_loss": _as_float(loss),
                            "call": "torch eager", "threads": torch.get_num_threads(),
                            "rss_increase_first_step_mb": _rss_mb() - before}
        counts[variant] += 1
    for _ in range(spec["warmup"] - 1):
        for variant in spec["variants"]:
            steps[variant]()
            counts[variant] += 1
    return _timed_loop(spec, steps, workloads, counts, results, baseline, lambda output: output)


class _NoInputs:
    """Stand-in workload whose step takes no inputs (the PyTorch closures hold theirs)."""

    inputs = ()


def _bind(function, *args):
    def bound():
        return function(*args)
    return bound


def worker_main(spec):
    """Entry point of a worker process: prints one tagged JSON line."""
    sys.path.insert(0, HERE)
    if spec["framework"] == "upstream":
        sys.path.insert(0, spec["upstream_dir"])
    start = time.perf_counter()
    if spec["framework"] == "torch":
        result = _torch_worker(spec)
    else:
        result = _ms_worker(spec)
    result["worker_wall_s"] = time.perf_counter() - start
    print(RESULT_TAG + json.dumps(result), flush=True)


# ---------------------------------------------------------------------------------------------- driver side
def ensure_upstream(folder):
    """Download mindflow-ascend 0.3.0 with ``pip download --no-deps`` and unpack it (never installed)."""
    marker = os.path.join(folder, "mindflow", "core", "optimizers.py")
    if os.path.isfile(marker):
        return folder
    os.makedirs(folder, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", UPSTREAM_SPEC, "-d", folder],
                   check=True)
    wheels = [name for name in os.listdir(folder) if name.endswith(".whl")]
    if not wheels:
        raise RuntimeError(f"pip download {UPSTREAM_SPEC} gave no wheel in {folder}")
    with zipfile.ZipFile(os.path.join(folder, wheels[0])) as archive:
        archive.extractall(folder)
    return folder


def mindflow_version(root):
    """Where AdaHessian is imported from, and the SHA-1 of its adahessian.py (to tell versions apart)."""
    path = os.path.join(root, "mindflow", "cell", "optimizers", "adahessian.py")
    with open(path, "rb") as handle:
        digest = hashlib.sha1(handle.read()).hexdigest()
    return {"mindflow_root": os.path.relpath(root, REPO_ROOT), "adahessian_py_sha1": digest}


def git_state():
    """HEAD commit of the repository and whether mindflow/ differs from it."""
    def git(*args):
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()
    return {"head": git("rev-parse", "HEAD"), "mindflow_dirty": bool(git("status", "--porcelain", "mindflow"))}


def export_head(folder):
    """Copy mindflow/ as committed at HEAD into ``folder`` (so edits in progress are not measured)."""
    head = git_state()["head"]
    target = os.path.join(folder, head[:12])
    if not os.path.isdir(os.path.join(target, "mindflow")):
        os.makedirs(target, exist_ok=True)
        archive = subprocess.run(["git", "archive", "HEAD", "mindflow"], cwd=REPO_ROOT, capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", target], input=archive, check=True)
    return target


def run_worker(spec, blocking, timeout, mindflow_root=REPO_ROOT, script=None):
    """Run one worker process of ``script`` (default: this file); returns its result dict or ``{"error": ...}``."""
    env = dict(os.environ)
    env["BENCH_MINDFLOW_ROOT"] = mindflow_root
    env.pop("MS_DEV_HOST_BLOCKING_RUN", None)
    if blocking:
        env["MS_DEV_HOST_BLOCKING_RUN"] = "1"
    env["GLOG_v"] = env.get("GLOG_v", "3")
    env.pop("PYTHONPATH", None)
    command = [sys.executable, os.path.abspath(script or __file__), "--worker", json.dumps(spec)]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            result = json.loads(line[len(RESULT_TAG):])
            result["process_wall_s"] = time.perf_counter() - start
            return result
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
    return {"error": f"worker exited with {done.returncode}: {tail}"}


def _ratios(variants):
    adam = variants.get("adam", {}).get("median_s")
    ratios = {}
    if not adam:
        return ratios
    for name, data in variants.items():
        if name != "adam" and "median_s" in data:
            ratios[name] = data["amortized_s"] / adam
    return ratios


def _log(message):
    print(message, file=sys.stderr, flush=True)


def timing_runs(args):
    """Every timing worker, blocking settings of one (workload, mode) run back to back."""
    runs = []
    for workload in args.workloads:
        for mode in args.modes:
            for blocking in args.blocking:
                for framework in ("mindspore", "upstream"):
                    if framework in args.frameworks:
                        runs.append((framework, workload, mode, blocking))
        if "torch" in args.frameworks:
            runs.append(("torch", workload, "eager", None))
    return runs


def _chosen_variants(framework, args):
    """The ``--variants`` that ``framework`` (mindspore or torch) has, in the table's order."""
    return [v for v in (TORCH_VARIANTS if framework == "torch" else MS_VARIANTS) if v in args.variants]


def run_timings(args):
    """All timing workers; returns the list of result records."""
    records = []
    for repeat in range(args.repeats):
        for framework, workload, mode, blocking in timing_runs(args):
            for variants in worker_variants(framework, args):
                records.append(_timing_record(args, framework, workload, mode, blocking, repeat, variants))
    return records


def worker_variants(framework, args):
    """The variant lists of one configuration's workers, each in the order its worker compiles and times them.

    ``--layout shared``: one worker with all variants, Adam compiled first. ``--layout pairs`` (MindSpore and
    upstream): two workers per AdaHessian variant, ``[adam, variant]`` and ``[variant, adam]``. MindSpore's CPU
    runtime runs a graph compiled after others more slowly (up to 18 % for a gradient graph compiled after
    AdaHessian's, benchmarks/README.md), so in a shared worker the variants compiled later lose,
    while a user's training process compiles its one optimizer first. Pairs compile each optimizer next to Adam
    only, first in one worker and second in the other.
    """
    variants = list(UPSTREAM_VARIANTS if framework == "upstream" else _chosen_variants(framework, args))
    if args.layout == "shared" or framework == "torch" or "adam" not in variants or len(variants) < 2:
        return [variants]
    return [order for variant in variants if variant != "adam" for order in (["adam", variant], [variant, "adam"])]


def _timing_record(args, framework, workload, mode, blocking, repeat, variants):
    """One timing worker's record; ``repeat`` numbers the runs of one configuration (``--repeats``).

    ``variants``: what the worker times, in the order it compiles them.
    """
    spec = {"framework": framework, "workload": workload, "mode": mode, "variants": list(variants),
            "steps": args.steps, "warmup": args.warmup, "threads": args.threads,
            "upstream_dir": args.upstream_dir, "time_budget_s": args.time_budget or 1e9}
    if framework == "upstream" and mode == "graph":
        # a Cell called with a function argument compiles anew on every call: a few steps only
        spec.update(steps=min(args.steps, args.upstream_graph_steps), warmup=1)
    run = f" (run {repeat + 1} of {args.repeats})" if args.repeats > 1 else ""
    _log(f"[bench] {framework} {workload} {mode} blocking={blocking}{run}, compiled in the order "
         f"{', '.join(variants)} ...")
    record = {"framework": framework, "workload": workload, "mode": mode,
              "host_blocking_run": blocking, "threads": args.threads, "repeat": repeat,
              "layout": args.layout, "compile_order": list(variants)}
    if framework == "mindspore":
        record.update(mindflow_version(args.mindflow_root))
    record.update(run_worker(spec, bool(blocking), args.timeout, args.mindflow_root))
    if "variants" in record:
        record["ratios"] = _ratios(record["variants"])
        _log("[bench]   " + ", ".join(f"{name} {data['median_s'] * 1e3:.1f} ms (first {data['first_step_s']:.1f} s)"
                                     for name, data in record["variants"].items()))
    else:
        _log(f"[bench]   {record['error']}")
    return record


def run_memory(args):
    """One process per (workload, mode, variant): peak RSS and its increase over the post-setup RSS."""
    records = []
    for workload in args.workloads:
        for mode in args.memory_modes:
            frameworks = [f for f in args.frameworks if f != "torch" or mode == "pynative"]
            for framework in frameworks:
                variants = UPSTREAM_VARIANTS[1:] if framework == "upstream" else _chosen_variants(framework, args)
                if framework == "upstream" and mode == "graph":
                    continue
                for variant in variants:
                    spec = {"framework": framework, "workload": workload, "mode": "eager" if framework == "torch"
                            else mode, "variants": [variant], "steps": args.memory_steps, "warmup": 1,
                            "threads": args.threads, "upstream_dir": args.upstream_dir, "memory": True}
                    _log(f"[bench] memory {framework} {workload} {mode} {variant} ...")
                    result = run_worker(spec, bool(args.blocking[-1]), args.timeout, args.mindflow_root)
                    record = {"framework": framework, "workload": workload, "mode": spec["mode"],
                              "variant": variant, "host_blocking_run": args.blocking[-1]}
                    if "memory" in result:
                        memory = result["memory"]
                        record.update(memory, increase_mb=memory["peak_rss_mb"] - memory["baseline_rss_mb"])
                    else:
                        record["error"] = result.get("error")
                    records.append(record)
    return records


def _fmt_ms(data, key="median_s"):
    if not data or key not in data:
        return "-"
    return f"{data[key] * 1e3:.1f}"


def _fmt_ratio(value):
    return "-" if value is None else f"{value:.2f}"


def _blocking_label(setting):
    """How a table shows a MS_DEV_HOST_BLOCKING_RUN setting: "1", "unset", or "-" where it does not apply."""
    if setting is None:
        return "-"
    return "1" if setting else "unset"


def table(records):
    """Markdown table of the timing records."""
    lines = ["| workload | mode | framework | MS_DEV_HOST_BLOCKING_RUN | threads | Adam ms (min-max) | "
             "AdaHessian k=1 ms | AdaHessian k=10 ms (amortized) | k=1 / Adam | k=10 / Adam | "
             "k=1 / Adam, H z by finite difference | k=10 / Adam, finite difference | "
             "first step s (in the compile order) | steps | mindflow | run | compile order |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for record in records:
        blocking = _blocking_label(record["host_blocking_run"])
        threads = record.get("threads", 1) or "25 (default)"
        head = f"| {record['workload']} | {record['mode']} | {record['framework']} | {blocking} | {threads} |"
        if "variants" not in record:
            lines.append(head + f" {record['error'][:60]!r} | | | | | | | | | | | |".replace("\n", " "))
            continue
        variants, ratios = record["variants"], record["ratios"]
        ah_1 = variants.get("ah_1") or variants.get("upstream_ah")
        ah_1_ratio = ratios.get("ah_1", ratios.get("upstream_ah"))
        ah_10 = variants.get("ah_10")
        spread = f"{_fmt_ms(variants.get('adam'), 'min_s')}-{_fmt_ms(variants.get('adam'), 'max_s')}"
        firsts = " / ".join(f"{variants[v]['first_step_s']:.1f}" for v in variants)
        lines.append(head + f" {_fmt_ms(variants.get('adam'))} ({spread}) | {_fmt_ms(ah_1)} | "
                     f"{_fmt_ms(ah_10, 'amortized_s')} | {_fmt_ratio(ah_1_ratio)} | "
                     f"{_fmt_ratio(ratios.get('ah_10'))} | {_fmt_ratio(ratios.get('ah_1_fd'))} | "
                     f"{_fmt_ratio(ratios.get('ah_10_fd'))} | {firsts} | "
                     f"{min(v['steps'] for v in variants.values())} | {_version_label(record)} | "
                     f"{record.get('repeat', 0) + 1} | {', '.join(record.get('compile_order', variants))} |")
    return "\n".join(lines)


def _version_label(record):
    """Which mindflow a MindSpore row timed: a HEAD snapshot's commit, or the working tree."""
    root = record.get("mindflow_root")
    if record["framework"] != "mindspore":
        return "0.3.0" if record["framework"] == "upstream" else "-"
    if not root or root == ".":
        return "worktree"
    return os.path.basename(root)[:7]


def memory_table(records):
    """Markdown table of the memory records."""
    lines = ["| workload | mode | framework | variant | peak RSS MB | increase over set-up MB |",
             "| --- | --- | --- | --- | --- | --- |"]
    for record in records:
        if "peak_rss_mb" in record:
            lines.append(f"| {record['workload']} | {record['mode']} | {record['framework']} | {record['variant']} | "
                         f"{record['peak_rss_mb']:.0f} | {record['increase_mb']:.0f} |")
        else:
            lines.append(f"| {record['workload']} | {record['mode']} | {record['framework']} | {record['variant']} | "
                         f"error | {str(record.get('error'))[:60]!r} |")
    return "\n".join(lines)


def ratio_groups(records):
    """The AdaHessian/Adam ratios of the runs of each configuration (``--repeats``, or merged files).

    Runs are grouped by framework, workload, mode, blocking setting, threads, layout and the timed
    ``adahessian.py``; per variant: the median ratio over its runs, their minimum and maximum, their number,
    and the median of the runs that compiled Adam first and of those that compiled the variant first.
    """
    groups = {}
    for record in records:
        if "ratios" not in record:
            continue
        layout = record.get("layout", "shared")
        key = (record["framework"], record["workload"], record["mode"], record["host_blocking_run"],
               record.get("threads", 1), layout, record.get("adahessian_py_sha1"))
        group = groups.setdefault(key, {"framework": key[0], "workload": key[1], "mode": key[2],
                                        "host_blocking_run": key[3], "threads": key[4], "layout": layout,
                                        "version": _version_label(record), "values": {}})
        adam_first = record.get("compile_order", ["adam"])[0] == "adam"
        for variant, value in record["ratios"].items():
            group["values"].setdefault(variant, []).append((value, adam_first))
    result = []
    for group in groups.values():
        values = group.pop("values")
        group["ratios"] = {variant: _ratio_summary(pairs) for variant, pairs in values.items()}
        group["runs"] = max((data["runs"] for data in group["ratios"].values()), default=0)
        result.append(group)
    return result


def _ratio_summary(pairs):
    """Median, range and count of ``(ratio, adam_compiled_first)`` pairs, and the median of each compile order."""
    ratios = [value for value, _ in pairs]
    summary = {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios), "runs": len(ratios)}
    for label, wanted in (("adam_first", True), ("adahessian_first", False)):
        chosen = [value for value, adam_first in pairs if adam_first == wanted]
        summary[label] = statistics.median(chosen) if chosen else None
    return summary


def ratio_table(groups):
    """Markdown table of the median AdaHessian/Adam ratio over repeated runs, with its range.

    Where runs compiled the variant both after and before Adam (``--layout pairs``), the cell adds the median
    of each order: ``A`` Adam compiled first, ``H`` AdaHessian compiled first.
    """
    variants = ("ah_1", "ah_10", "ah_1_fd", "ah_10_fd", "upstream_ah")
    lines = ["| workload | mode | framework | MS_DEV_HOST_BLOCKING_RUN | layout | runs | " + " | ".join(
        f"{v} / Adam, median (min-max)" for v in variants) + " | mindflow |",
             "| --- | --- | --- | --- | --- | --- | " + " | ".join("---" for _ in variants) + " | --- |"]
    for group in groups:
        blocking = _blocking_label(group["host_blocking_run"])
        cells = []
        for variant in variants:
            data = group["ratios"].get(variant)
            if data is None:
                cells.append("-")
                continue
            cell = f"{data['median']:.2f} ({data['min']:.2f}-{data['max']:.2f})"
            if data["adam_first"] is not None and data["adahessian_first"] is not None:
                cell += f"; A {data['adam_first']:.2f}, H {data['adahessian_first']:.2f}"
            cells.append(cell)
        lines.append(f"| {group['workload']} | {group['mode']} | {group['framework']} | {blocking} | "
                     f"{group['layout']} | {group['runs']} | " + " | ".join(cells)
                     + f" | {group['version']} |")
    return "\n".join(lines)


def goals(records, memory):
    """The issue's targets for MindSpore: the median ratio over a configuration's runs, and memory, against limits."""
    checks = []
    for group in ratio_groups(records):
        if group["framework"] != "mindspore":
            continue
        factor = 1.5 if group["mode"] == "pynative" else 1.0
        for variant, limit in (("ah_1", 2.0), ("ah_10", 1.25), ("ah_1_fd", 2.0), ("ah_10_fd", 1.25)):
            data = group["ratios"].get(variant)
            if data is None:
                continue
            checks.append({"workload": group["workload"], "mode": group["mode"],
                           "host_blocking_run": group["host_blocking_run"], "what": f"{variant}/adam time",
                           "value": data["median"], "min": data["min"], "max": data["max"], "runs": data["runs"],
                           "limit": limit * factor, "met": data["median"] <= limit * factor})
    peaks = {}
    for record in memory:
        if record["framework"] == "mindspore" and "increase_mb" in record:
            peaks[(record["workload"], record["mode"], record["variant"])] = record
    for (workload, mode, variant), record in peaks.items():
        adam = peaks.get((workload, mode, "adam"))
        if variant == "adam" or adam is None:
            continue
        value = record["peak_rss_mb"] / adam["peak_rss_mb"]
        increase = record["increase_mb"] / max(adam["increase_mb"], 1.0)
        checks.append({"workload": workload, "mode": mode, "what": f"{variant}/adam peak RSS", "value": value,
                       "increase_ratio": increase, "limit": 1.5, "met": value <= 1.5})
    return checks


def _meta(args):
    # pylint: disable=import-outside-toplevel
    versions = {}
    for module in ("mindspore", "numpy", "torch"):
        try:
            versions[module] = __import__(module).__version__
        except ImportError:
            versions[module] = None
    return {"command": " ".join([os.path.relpath(sys.executable, REPO_ROOT)] + sys.argv),
            "date": datetime.datetime.now().isoformat(timespec="seconds"), "host": platform.node(),
            "cpu_count": os.cpu_count(), "load_average_start": os.getloadavg(), "python": platform.python_version(),
            "versions": versions, "steps": args.steps, "warmup": args.warmup, "repeats": args.repeats,
            "threads": args.threads, "layout": args.layout, "learning_rate": LEARNING_RATE,
            "blocking_settings": args.blocking, "workloads": args.workloads, "modes": args.modes,
            "frameworks": args.frameworks, "git": git_state(), "adahessian": mindflow_version(args.mindflow_root)}


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--out", default=os.path.join(HERE, "results.json"), help="JSON output file")
    parser.add_argument("--workloads", default=",".join(DEFAULT_WORKLOADS),
                        help="comma-separated: pinn_small, pinn_large, pinn_app, cnn")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated: graph, jit, pynative")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                        help="comma-separated: mindspore, torch (needs torch), upstream (downloads mindflow-ascend)")
    parser.add_argument("--blocking", default="both", choices=("both", "unset", "1"),
                        help="MS_DEV_HOST_BLOCKING_RUN settings to time")
    parser.add_argument("--variants", default=",".join(MS_VARIANTS),
                        help="comma-separated variants: adam, ah_1, ah_10, and for MindSpore ah_1_fd, ah_10_fd "
                             "(H z by finite difference); upstream: always adam and its AdaHessian")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per variant")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per variant, the first included")
    parser.add_argument("--repeats", type=int, default=1,
                        help="worker processes per configuration, run in turn; the tables add the median ratio over "
                             "them and its range (the ratio varies by about 0.1 to 0.2 from run to run here)")
    parser.add_argument("--layout", default="pairs", choices=("pairs", "shared"),
                        help="pairs: one worker per AdaHessian variant and compile order ([adam, variant] and "
                             "[variant, adam]); shared: one worker per configuration with every variant, Adam "
                             "compiled first (graphs compiled later run slower on MindSpore's CPU runtime)")
    parser.add_argument("--threads", type=int, default=1,
                        help="MindSpore CPU kernel threads and torch intra-op threads (0: MindSpore's default of 25, "
                             "torch = cores)")
    parser.add_argument("--memory-modes", default="jit",
                        help="modes whose peak memory is measured, one process per variant ('' for none)")
    parser.add_argument("--memory-steps", type=int, default=5, help="steps of each memory process")
    parser.add_argument("--upstream-dir", default=DEFAULT_UPSTREAM_DIR, help="where mindflow-ascend is unpacked")
    parser.add_argument("--upstream-graph-steps", type=int, default=3,
                        help="timed steps of upstream's plain GRAPH call, which compiles on every call")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per worker process")
    parser.add_argument("--time-budget", type=float, default=0.0,
                        help="stop a worker's timed loop after this many seconds (0: always --steps steps)")
    parser.add_argument("--skip-timing", action="store_true", help="only the memory processes")
    parser.add_argument("--merge", nargs="+", help="merge these JSON results into --out and print the tables")
    parser.add_argument("--mindflow", default="worktree", choices=("worktree", "head"),
                        help="time AdaHessian from the working tree, or from mindflow/ as committed at HEAD "
                             "(exported to benchmarks/.cache/head/, so that edits in progress are not measured)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return args
    args.workloads = [w for w in args.workloads.split(",") if w]
    args.modes = [m for m in args.modes.split(",") if m]
    args.memory_modes = [m for m in args.memory_modes.split(",") if m]
    args.frameworks = [f for f in args.frameworks.split(",") if f]
    args.variants = [v for v in args.variants.split(",") if v]
    for name, values, allowed in (("modes", args.modes + args.memory_modes, MODES),
                                  ("frameworks", args.frameworks, FRAMEWORKS),
                                  ("variants", args.variants, MS_VARIANTS)):
        unknown = sorted(set(values) - set(allowed))
        if unknown:
            parser.error(f"unknown {name}: {unknown}")
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, but got {args.repeats}")
    args.blocking = {"both": [None, "1"], "unset": [None], "1": ["1"]}[args.blocking]
    args.mindflow_root = export_head(os.path.join(HERE, ".cache", "head")) if args.mindflow == "head" else REPO_ROOT
    return args


def merge(paths):
    """One report from several runs (their metadata kept as a list)."""
    metas, records, memory = [], [], []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            part = json.load(handle)
        metas.append(part["meta"])
        for record in part["results"]:
            record.setdefault("threads", part["meta"].get("threads", 1))
        records += part["results"]
        memory += part["memory"]
    order = {name: i for i, name in enumerate(("pinn_small", "pinn_large", "pinn_app", "cnn"))}
    modes = {name: i for i, name in enumerate(MODES + ("eager",))}
    records.sort(key=lambda r: (order.get(r["workload"], 9), modes[r["mode"]], FRAMEWORKS.index(r["framework"]),
                                r["host_blocking_run"] is None, r.get("threads") == 0))
    return {"meta": {"runs": metas}, "results": records, "memory": memory, "goals": goals(records, memory)}


def _drop_unavailable(args):
    if "torch" in args.frameworks:
        try:
            __import__("torch")
        except ImportError:
            _log("[bench] torch is not installed: PyTorch rows skipped")
            args.frameworks.remove("torch")
    if "upstream" in args.frameworks:
        try:
            args.upstream_dir = ensure_upstream(args.upstream_dir)
        except (OSError, RuntimeError, subprocess.CalledProcessError) as error:
            _log(f"[bench] upstream MindFlow unavailable ({error}): its rows skipped")
            args.frameworks.remove("upstream")


def main(argv=None):
    """Run the benchmark and write JSON and tables."""
    args = parse_args(argv)
    if args.worker:
        worker_main(json.loads(args.worker))
        return
    if args.merge:
        report = merge(args.merge)
        records, memory = report["results"], report["memory"]
    else:
        _drop_unavailable(args)
        meta = _meta(args)
        records = [] if args.skip_timing else run_timings(args)
        memory = run_memory(args)
        meta["load_average_end"] = os.getloadavg()
        report = {"meta": meta, "results": records, "memory": memory, "goals": goals(records, memory)}
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1)
    print(table(records))
    groups = ratio_groups(records)
    if any(group["runs"] > 1 for group in groups):
        print()
        print(ratio_table(groups))
    if memory:
        print()
        print(memory_table(memory))
    print(f"\nJSON written to {args.out}")


if __name__ == "__main__":
    main()
