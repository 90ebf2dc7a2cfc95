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
"""Side-by-side step times and peak memory of Adam and AdaHessian (this repository's, upstream MindFlow 0.3.0's).

    python benchmarks/bench_optimizers.py --out benchmarks/results.json

Each (framework, workload, mode, MS_DEV_HOST_BLOCKING_RUN) runs in worker processes that time the variants
round-robin, so that load from other processes hits them alike. Method and numbers: benchmarks/README.md.
"""
import argparse
import datetime
import hashlib
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
UPSTREAM_SPEC = "mindflow-ascend==0.3.0"
RESULT_TAG = "BENCH_RESULT "
MODES = ("graph", "jit", "pynative")
FRAMEWORKS = ("mindspore", "upstream")
WORKLOADS = ("pinn_small", "pinn_large", "pinn_app", "cnn")
MS_VARIANTS = ("adam", "ah_1", "ah_10", "ah_1_fd", "ah_10_fd")
# AdaHessian variant -> (update_interval, hvp_method); "_fd": H z by a forward difference of two gradients
ADAHESSIAN = {"ah_1": (1, "autodiff"), "ah_10": (10, "autodiff"), "ah_1_fd": (1, "finite_difference"),
              "ah_10_fd": (10, "finite_difference"), "upstream_ah": (1, None)}
TARGETS = {"ah_1": 2.0, "ah_10": 1.25, "ah_1_fd": 2.0, "ah_10_fd": 1.25}
LEARNING_RATE = 1e-3
TIMEOUT_S = 1800


# ---------------------------------------------------------------------------------------------- worker side
def rss_mb():
    """Resident set size of this process now."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def peak_rss_mb():
    """Peak resident set size of this process."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def summary(times, interval, first_index):
    """Statistics of step times; ``first_index`` is the optimizer step number of ``times[0]``.

    With ``interval`` > 1 the amortized cost is (median refresh step + (interval - 1) median lazy steps) / interval.
    """
    result = {"median_s": statistics.median(times), "mean_s": statistics.fmean(times), "min_s": min(times),
              "max_s": max(times), "steps": len(times), "times_s": times, "amortized_s": statistics.median(times)}
    refresh = [t for i, t in enumerate(times) if (first_index + i) % interval == 0]
    lazy = [t for i, t in enumerate(times) if (first_index + i) % interval != 0]
    if interval > 1 and refresh and lazy:
        result.update(refresh_median_s=statistics.median(refresh), lazy_median_s=statistics.median(lazy))
        result["amortized_s"] = (result["refresh_median_s"] + (interval - 1) * result["lazy_median_s"]) / interval
    return result


def sync(output):
    """Copy a step's loss to the host and wait for the device: every timed step ends so."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    output = output.asnumpy() if isinstance(output, ms.Tensor) else output
    ms.runtime.synchronize()
    return output


def make_step(variant, workload, mode, framework):
    """``(step(*inputs) -> loss, the call it stands for)`` of one variant."""
    # pylint: disable=import-outside-toplevel,import-error
    import mindspore as ms
    from mindspore import nn
    params, loss_fn = workload.net.trainable_params(), workload.loss_fn
    if variant == "adam":
        opt = nn.Adam(params, learning_rate=LEARNING_RATE)
        grad_fn = ms.value_and_grad(loss_fn, None, opt.parameters)

        def step(*inputs):
            loss, grads = grad_fn(*inputs)
            opt(grads)
            return loss
        call = "loss, grads = grad_fn(*inputs); opt(grads)"
    elif framework == "upstream":
        from mindflow.core.optimizers import AdaHessian
        opt = AdaHessian(params, learning_rate=LEARNING_RATE)

        def packed(batch):  # upstream's construct(grad_fn, inputs) passes one input: a Tensor or a tuple
            return loss_fn(batch[0], batch[1])
        grad_fn = ms.grad(loss_fn if len(workload.inputs) == 1 else packed, None, opt.parameters)

        def step(*inputs):
            return opt(grad_fn, inputs[0] if len(inputs) == 1 else inputs)
        call = "opt(grad_fn, inputs) with grad_fn = mindspore.grad(loss, None, weights)"
    else:
        from mindflow.cell.optimizers import AdaHessian
        interval, method = ADAHESSIAN[variant]
        opt = AdaHessian(params, learning_rate=LEARNING_RATE, update_interval=interval, hvp_method=method)
        grad_fn = ms.value_and_grad(loss_fn, None, opt.parameters)

        def step(*inputs):
            return opt(grad_fn, *inputs)
        call = "loss = opt(grad_fn, *inputs)"
    if mode == "jit":
        return ms.jit(step), "mindspore.jit(step): " + call
    return step, call


def worker(spec):
    """Time the variants of one worker in this process; prints one tagged JSON line."""
    # upstream's mindflow, or this repository's from BENCH_MINDFLOW_ROOT (a HEAD export with --mindflow head)
    sys.path.insert(0, spec["upstream_dir"] if spec["framework"] == "upstream"
                    else os.environ.get("BENCH_MINDFLOW_ROOT", REPO_ROOT))
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from workloads import build_workload  # pylint: disable=import-outside-toplevel
    if spec["threads"]:
        ms.device_context.cpu.op_tuning.threads_num(spec["threads"])
    ms.set_context(mode=ms.PYNATIVE_MODE if spec["mode"] == "pynative" else ms.GRAPH_MODE)
    variants = spec["variants"]
    work = {v: build_workload(spec["workload"]) for v in variants}
    steps = {v: make_step(v, work[v], spec["mode"], spec["framework"]) for v in variants}
    baseline, losses, times = rss_mb(), {}, {v: [] for v in variants}

    def timed(variant):
        start = time.perf_counter()
        losses[variant] = sync(steps[variant][0](*work[variant].inputs))
        return time.perf_counter() - start
    # the first step compiles
    results = {v: {"first_step_s": timed(v), "call": steps[v][1], "first_loss": str(losses[v])} for v in variants}
    for _ in range(spec["warmup"] - 1):
        list(map(timed, variants))
    deadline = time.perf_counter() + spec["time_budget_s"]
    for _ in range(spec["steps"]):
        for variant in variants:
            times[variant].append(timed(variant))
        if time.perf_counter() > deadline:
            break
    for variant in variants:
        results[variant].update(summary(times[variant], ADAHESSIAN.get(variant, (1,))[0], spec["warmup"]),
                                last_loss=str(losses[variant]))
    memory = {"baseline_rss_mb": baseline, "end_rss_mb": rss_mb(), "peak_rss_mb": peak_rss_mb()}
    print(RESULT_TAG + json.dumps({"variants": results, "memory": memory}), flush=True)


# ---------------------------------------------------------------------------------------------- driver side
def ensure_upstream(folder):
    """mindflow-ascend 0.3.0 unpacked into ``folder`` by ``pip install --no-deps --target`` (not into the venv)."""
    if not os.path.isfile(os.path.join(folder, "mindflow", "core", "optimizers.py")):
        subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", folder,
                        UPSTREAM_SPEC], check=True)
    return folder


def git(*args):
    """Output of a git command in the repository."""
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False).stdout.strip()


def git_state():
    """HEAD commit of the repository and whether mindflow/ differs from it."""
    return {"head": git("rev-parse", "HEAD"), "mindflow_dirty": bool(git("status", "--porcelain", "mindflow"))}


def mindflow_version(root):
    """Where AdaHessian is imported from, and the SHA-1 of its adahessian.py (to tell versions apart)."""
    with open(os.path.join(root, "mindflow", "cell", "optimizers", "adahessian.py"), "rb") as handle:
        digest = hashlib.sha1(handle.read()).hexdigest()
    return {"mindflow_root": os.path.relpath(root, REPO_ROOT), "adahessian_py_sha1": digest}


def export_head():
    """mindflow/ as committed at HEAD, exported to benchmarks/.cache/head/ (so edits in progress are not timed)."""
    target = os.path.join(HERE, ".cache", "head", git("rev-parse", "HEAD")[:12])
    if not os.path.isdir(os.path.join(target, "mindflow")):
        os.makedirs(target, exist_ok=True)
        archive = subprocess.run(["git", "archive", "HEAD", "mindflow"], cwd=REPO_ROOT, capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", target], input=archive, check=True)
    return target


def run_worker(spec, blocking, mindflow_root=REPO_ROOT, script=None, timeout=TIMEOUT_S):
    """Run one worker process of ``script`` (default: this file); returns its result dict or ``{"error": ...}``."""
    env = {k: v for k, v in os.environ.items() if k not in ("MS_DEV_HOST_BLOCKING_RUN", "PYTHONPATH")}
    env.update(BENCH_MINDFLOW_ROOT=mindflow_root, GLOG_v=env.get("GLOG_v", "3"),
               **({"MS_DEV_HOST_BLOCKING_RUN": "1"} if blocking else {}))
    command = [sys.executable, os.path.abspath(script or __file__), "--worker", json.dumps(spec)]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return dict(json.loads(line[len(RESULT_TAG):]), process_wall_s=time.perf_counter() - start)
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
    return {"error": f"worker exited with {done.returncode}: {tail}"}


def log(message):
    """Progress, on stderr."""
    print("[bench]", message, file=sys.stderr, flush=True)


def worker_variants(framework, args):
    """The variant lists of one configuration's workers, each in the order its worker compiles them.

    ``--layout shared``: one worker with every variant, Adam compiled first (which favours Adam). ``--layout pairs``:
    two workers per AdaHessian variant, ``[adam, variant]`` and ``[variant, adam]``, so that each optimizer is
    compiled first once, as in a user's training process.
    """
    variants = ["adam", "upstream_ah"] if framework == "upstream" else list(args.variants)
    if args.layout == "shared" or "adam" not in variants or len(variants) < 2:
        return [variants]
    return [order for variant in variants if variant != "adam" for order in (["adam", variant], [variant, "adam"])]


def worker_spec(args, framework, workload, mode, variants, steps, warmup):
    """What a worker process runs."""
    return {"framework": framework, "workload": workload, "mode": mode, "variants": variants, "steps": steps,
            "warmup": warmup, "threads": args.threads, "upstream_dir": args.upstream_dir,
            "time_budget_s": args.time_budget or 1e9}


def run_timings(args):
    """Every timing worker, ``--repeats`` times in turn; returns their records."""
    records = []
    for repeat, workload, mode, blocking, framework in itertools.product(
            range(args.repeats), args.workloads, args.modes, args.blocking, args.frameworks):
        for variants in worker_variants(framework, args):
            upstream_graph = framework == "upstream" and mode == "graph"  # it compiles on every step: 3 steps
            spec = worker_spec(args, framework, workload, mode, variants, 3 if upstream_graph else args.steps,
                               1 if upstream_graph else args.warmup)
            log(f"{framework} {workload} {mode} blocking={blocking} (run {repeat + 1} of {args.repeats}), "
                f"compiled in the order {', '.join(variants)} ...")
            record = {"framework": framework, "workload": workload, "mode": mode, "host_blocking_run": blocking,
                      "threads": args.threads, "repeat": repeat, "layout": args.layout, "compile_order": variants,
                      **(mindflow_version(args.mindflow_root) if framework == "mindspore" else {}),
                      **run_worker(spec, blocking, args.mindflow_root)}
            if "variants" in record:
                adam = record["variants"].get("adam", {}).get("median_s")
                record["ratios"] = {name: data["amortized_s"] / adam for name, data in record["variants"].items()
                                    if adam and name != "adam"}
            log(f"  {record.get('error') or record['ratios']}")
            records.append(record)
    return records


def run_memory(args):
    """One process per (workload, mode, variant): peak RSS and its increase over the RSS after set-up."""
    records = []
    for workload, mode, framework in itertools.product(args.workloads, args.memory_modes, args.frameworks):
        if framework == "upstream" and mode == "graph":
            continue  # it compiles on every step
        for variant in ["upstream_ah"] if framework == "upstream" else args.variants:
            log(f"memory {framework} {workload} {mode} {variant} ...")
            result = run_worker(worker_spec(args, framework, workload, mode, [variant], args.memory_steps, 1),
                                args.blocking[-1], args.mindflow_root)
            record = {"framework": framework, "workload": workload, "mode": mode, "variant": variant,
                      "host_blocking_run": args.blocking[-1], **result.get("memory", {"error": result.get("error")})}
            if "peak_rss_mb" in record:
                record["increase_mb"] = record["peak_rss_mb"] - record["baseline_rss_mb"]
            records.append(record)
    return records


def version_label(record):
    """Which AdaHessian a row timed: upstream's, a HEAD export's commit, or the working tree's."""
    root = {"upstream": "0.3.0", "mindspore": record.get("mindflow_root") or "."}.get(record["framework"], "-")
    return "worktree" if root == "." else os.path.basename(root)[:7]


def markdown(header, rows):
    """A Markdown table."""
    return "\n".join("| " + " | ".join(map(str, row)) + " |" for row in [header, ["---"] * len(header)] + rows)


RATIO_VARIANTS = ("ah_1", "ah_10", "ah_1_fd", "ah_10_fd", "upstream_ah")


def table(records):
    """Markdown table of the timing records: Adam's median step, each variant's (amortized) ratio to it, first steps."""
    rows = []
    for record in records:
        variants, ratios = record.get("variants", {}), record.get("ratios", {})
        adam = (f"{variants['adam']['median_s'] * 1e3:.1f}" if "adam" in variants
                else repr(record.get("error", "-")[:60]).replace("\\n", " "))
        rows.append([record["workload"], record["mode"], record["framework"],
                     record["host_blocking_run"] or "unset", record.get("threads", 1) or "default", adam]
                    + [f"{ratios[v]:.2f}" if v in ratios else "-" for v in RATIO_VARIANTS]
                    + [", ".join(f"{name} {data['first_step_s']:.1f}" for name, data in variants.items()),
                       min((data["steps"] for data in variants.values()), default=0), version_label(record)])
    return markdown(["workload", "mode", "framework", "MS_DEV_HOST_BLOCKING_RUN", "threads", "Adam ms"]
                    + [f"{v} / Adam" for v in RATIO_VARIANTS] + ["first step s", "steps", "mindflow"], rows)


def memory_table(records):
    """Markdown table of the memory records."""
    return markdown(["workload", "mode", "framework", "variant", "peak RSS MB", "increase over set-up MB"],
                    [[r["workload"], r["mode"], r["framework"], r["variant"], f"{r['peak_rss_mb']:.0f}",
                      f"{r['increase_mb']:.0f}"] if "peak_rss_mb" in r else
                     [r["workload"], r["mode"], r["framework"], r["variant"], "error", repr(str(r.get("error"))[:60])]
                     for r in records])


def ratio_groups(records):
    """The AdaHessian/Adam ratios of the runs of each configuration (``--repeats``, or merged files).

    Runs are grouped by framework, workload, mode, blocking setting, threads, layout and the timed adahessian.py;
    per variant: the median ratio over its runs, their minimum, maximum and number, and the median of the runs that
    compiled Adam first (``adam_first``) and of those that compiled the variant first (``adahessian_first``).
    """
    groups = {}
    for record in records:
        if "ratios" not in record:
            continue
        key = (record["framework"], record["workload"], record["mode"], record["host_blocking_run"],
               record.get("threads", 1), record.get("layout", "shared"), record.get("adahessian_py_sha1"))
        group = groups.setdefault(key, {"framework": key[0], "workload": key[1], "mode": key[2],
                                        "host_blocking_run": key[3], "threads": key[4], "layout": key[5],
                                        "version": version_label(record), "values": {}})
        # records without a compile order come from shared workers, which compile Adam first
        adam_first = record.get("compile_order", ["adam"])[0] == "adam"
        for variant, value in record["ratios"].items():
            group["values"].setdefault(variant, []).append((value, adam_first))
    for group in groups.values():
        group["ratios"] = {}
        for variant, pairs in group.pop("values").items():
            ratios = [value for value, _ in pairs]
            data = {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios), "runs": len(ratios)}
            for label, wanted in (("adam_first", True), ("adahessian_first", False)):
                chosen = [value for value, adam_first in pairs if adam_first == wanted]
                data[label] = statistics.median(chosen) if chosen else None
            group["ratios"][variant] = data
        group["runs"] = max((data["runs"] for data in group["ratios"].values()), default=0)
    return list(groups.values())


def ratio_table(groups):
    """Markdown table of the median ratio over repeated runs, ``median (min-max)``; where both compile orders were
    run (``--layout pairs``) also each order's median: ``A`` Adam compiled first, ``H`` AdaHessian first."""
    rows = []
    for group in groups:
        cells = []
        for data in (group["ratios"].get(variant) for variant in RATIO_VARIANTS):
            cell = "-" if data is None else f"{data['median']:.2f} ({data['min']:.2f}-{data['max']:.2f})"
            if data and data["adam_first"] is not None and data["adahessian_first"] is not None:
                cell += f"; A {data['adam_first']:.2f}, H {data['adahessian_first']:.2f}"
            cells.append(cell)
        rows.append([group["workload"], group["mode"], group["framework"], group["host_blocking_run"] or "unset",
                     group["layout"], group["runs"]] + cells + [group["version"]])
    return markdown(["workload", "mode", "framework", "MS_DEV_HOST_BLOCKING_RUN", "layout", "runs"]
                    + [f"{v} / Adam, median (min-max)" for v in RATIO_VARIANTS] + ["mindflow"], rows)


def goals(records, memory):
    """The targets for MindSpore: the median ratio over a configuration's runs (PYNATIVE: 1.5x the limit), and
    peak memory at most 1.5x Adam's."""
    checks = []
    for group in ratio_groups(records):
        if group["framework"] != "mindspore":
            continue
        factor = 1.5 if group["mode"] == "pynative" else 1.0
        for variant, limit in TARGETS.items():
            data = group["ratios"].get(variant)
            if data is not None:
                checks.append({"workload": group["workload"], "mode": group["mode"],
                               "host_blocking_run": group["host_blocking_run"], "what": f"{variant}/adam time",
                               "value": data["median"], "min": data["min"], "max": data["max"],
                               "runs": data["runs"], "limit": limit * factor, "met": data["median"] <= limit * factor})
    peaks = {(r["workload"], r["mode"], r["variant"]): r for r in memory
             if r["framework"] == "mindspore" and "increase_mb" in r}
    for (workload, mode, variant), record in peaks.items():
        adam = peaks.get((workload, mode, "adam"))
        if variant != "adam" and adam is not None:
            value = record["peak_rss_mb"] / adam["peak_rss_mb"]
            checks.append({"workload": workload, "mode": mode, "what": f"{variant}/adam peak RSS", "value": value,
                           "increase_ratio": record["increase_mb"] / max(adam["increase_mb"], 1.0), "limit": 1.5,
                           "met": value <= 1.5})
    return checks


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    add = parser.add_argument
    add("--out", default=os.path.join(HERE, "results.json"), help="JSON output file")
    add("--workloads", default="pinn_small,pinn_large,cnn", help="comma-separated: " + ", ".join(WORKLOADS))
    add("--modes", default=",".join(MODES), help="comma-separated: " + ", ".join(MODES))
    add("--frameworks", default=",".join(FRAMEWORKS),
        help="comma-separated: mindspore, upstream (pip-downloads mindflow-ascend 0.3.0 into benchmarks/.cache/)")
    add("--blocking", default="both", choices=("both", "unset", "1"), help="MS_DEV_HOST_BLOCKING_RUN settings")
    add("--variants", default=",".join(MS_VARIANTS), help="comma-separated: " + ", ".join(MS_VARIANTS))
    add("--steps", type=int, default=30, help="timed steps per variant")
    add("--warmup", type=int, default=3, help="untimed steps per variant, the first included")
    add("--repeats", type=int, default=1, help="worker processes per configuration, run in turn")
    add("--layout", default="pairs", choices=("pairs", "shared"), help="see worker_variants()")
    add("--threads", type=int, default=1, help="MindSpore CPU kernel threads (0: its default, 25)")
    add("--memory-modes", default="jit", help="modes whose peak memory is measured, one process per variant")
    add("--memory-steps", type=int, default=5, help="steps of each memory process")
    add("--upstream-dir", default=os.path.join(HERE, ".cache", "mindflow_ascend-0.3.0"))
    add("--time-budget", type=float, default=0.0, help="seconds after which a worker stops its timed loop (0: none)")
    add("--merge", nargs="+", help="merge these JSON results into --out and print the tables")
    add("--mindflow", default="worktree", choices=("worktree", "head"),
        help="time AdaHessian from the working tree, or from mindflow/ as committed at HEAD")
    add("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return args
    for name, allowed in (("workloads", WORKLOADS), ("modes", MODES), ("memory_modes", MODES),
                          ("frameworks", FRAMEWORKS), ("variants", MS_VARIANTS)):
        chosen = [item for item in getattr(args, name).split(",") if item]
        if set(chosen) - set(allowed):
            parser.error(f"unknown {name}: {sorted(set(chosen) - set(allowed))}")
        setattr(args, name, [item for item in allowed if item in chosen] if name == "variants" else chosen)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, but got {args.repeats}")
    args.blocking = {"both": [None, "1"], "unset": [None], "1": ["1"]}[args.blocking]
    args.mindflow_root = export_head() if args.mindflow == "head" else REPO_ROOT
    return args


def merge(paths):
    """One report from several result files (their metadata kept as a list)."""
    metas, records, memory = [], [], []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            part = json.load(handle)
        metas.append(part["meta"])
        records += [dict({"threads": part["meta"].get("threads", 1)}, **record) for record in part["results"]]
        memory += part["memory"]
    records.sort(key=lambda r: (WORKLOADS.index(r["workload"]), r["mode"], r["framework"]))
    return {"meta": {"runs": metas}, "results": records, "memory": memory, "goals": goals(records, memory)}


def meta(args):
    """What was run, where and with which versions."""
    versions = {module: __import__(module).__version__ for module in ("mindspore", "numpy")}
    return {"command": " ".join([os.path.relpath(sys.executable, REPO_ROOT)] + sys.argv),
            "date": datetime.datetime.now().isoformat(timespec="seconds"), "host": platform.node(),
            "cpu_count": os.cpu_count(), "load_average_start": os.getloadavg(), "python": platform.python_version(),
            "versions": versions, "learning_rate": LEARNING_RATE, "git": git_state(),
            "adahessian": mindflow_version(args.mindflow_root),
            **{key: getattr(args, key) for key in ("steps", "warmup", "repeats", "threads", "layout", "blocking",
                                                   "workloads", "modes", "frameworks")}}


def main(argv=None):
    """Run the benchmark (or merge earlier results), write the JSON and print the tables."""
    args = parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return
    if args.merge:
        report = merge(args.merge)
    else:
        if "upstream" in args.frameworks:
            try:
                args.upstream_dir = ensure_upstream(args.upstream_dir)
            except (OSError, subprocess.CalledProcessError) as error:
                log(f"upstream MindFlow unavailable ({error}): its rows skipped")
                args.frameworks.remove("upstream")
        report = {"meta": meta(args), "results": run_timings(args),
                  "memory": run_memory(args)}
        report["meta"]["load_average_end"] = os.getloadavg()
        report["goals"] = goals(report["results"], report["memory"])
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1)
    groups = ratio_groups(report["results"])
    print(table(report["results"]))
    if any(group["runs"] > 1 for group in groups):
        print("\n" + ratio_table(groups))
    if report["memory"]:
        print("\n" + memory_table(report["memory"]))
    print(f"\nJSON written to {args.out}")


if __name__ == "__main__":
    main()
