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
"""Scale benchmark: step time and peak memory of Adam and AdaHessian on models of 1M to 20M weights.

    python benchmarks/bench_scale.py --archs mlp,cnn --sizes 1M,5M,20M --out benchmarks/runs/scale.json

Every (architecture, size, variant) runs in a fresh process in GRAPH mode on random data (MLP
256-W-W-10 tanh, batch 64; ResNet-style CNN on 3x32x32, batch 32; cross entropy). The process measures its
RSS after building the model and data (before the optimizer), then compiles and runs ``--warmup`` steps and
``--steps`` timed steps, and reports the peak RSS (``ru_maxrss``) and the median step time (amortized over
refresh and lazy steps for ``update_interval=10``). Adam runs as a Cell with the gradient and ``nn.Adam`` (as
``nn.TrainOneStepCell`` does); AdaHessian as ``opt(grad_fn, x, y)``, which compiles its own step. ``hvp_autodiff``
and ``hvp_fd`` are no optimizer at all: a Cell with ``hutchinson_diagonal`` (the gradient and one Hessian-vector
product), which shows how much of AdaHessian's time and memory the Hessian-vector product itself takes. The table
gives the ratio of each variant's step to Adam's and the extra peak memory over Adam, in MB and in weight-sized
float32 buffers.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# pylint: disable=wrong-import-position
import bench_optimizers
from bench_optimizers import (REPO_ROOT, RESULT_TAG, _ms_sync, _peak_rss_mb, _rss_mb, _summary, git_state,
                              mindflow_version)

VARIANTS = ("adam", "k1_autodiff", "k1_fd", "k10_autodiff", "k10_fd", "hvp_autodiff", "hvp_fd")
# MLP hidden width W (256-W-W-10) and CNN base width C per size; no parameter has 2**24 or 2**25 elements
MLP_WIDTHS = {"smoke": 1024, "1M": 896, "5M": 2048, "20M": 4352}
CNN_WIDTHS = {"smoke": 8, "1M": 48, "5M": 104, "20M": 208}
BATCH = {"mlp": 64, "cnn": 32}
LEARNING_RATE = 1e-3
# as in bench_optimizers.py: import mindflow from BENCH_MINDFLOW_ROOT (e.g. an exported older commit) if set
MINDFLOW_ROOT = os.path.abspath(os.environ.get("BENCH_MINDFLOW_ROOT", REPO_ROOT))


def build(arch, size, seed=0):
    """Network, loss Cell and random (inputs, labels) of an architecture at a size."""
    # pylint: disable=import-outside-toplevel
    import numpy as np
    import mindspore as ms
    from mindspore import Tensor, nn, ops
    from workloads import CNN_CLASSES, CrossEntropyLoss
    ms.set_seed(seed)
    rng = np.random.default_rng(seed)
    if arch == "mlp":
        width = MLP_WIDTHS[size]
        net = nn.SequentialCell([nn.Dense(256, width, activation="tanh"), nn.Dense(width, width, activation="tanh"),
                                 nn.Dense(width, CNN_CLASSES)])
        shape = (BATCH[arch], 256)
    else:
        width = CNN_WIDTHS[size]

        def conv(cin, cout, stride):
            return nn.Conv2d(cin, cout, 3, stride=stride, pad_mode="pad", padding=1, has_bias=True)

        class Block(nn.Cell):
            """relu(x + conv(relu(conv(x))))."""

            def __init__(self, channels):
                super().__init__()
                self.conv1, self.conv2 = conv(channels, channels, 1), conv(channels, channels, 1)

            def construct(self, x):
                return ops.relu(x + self.conv2(ops.relu(self.conv1(x))))

        class ResNet(nn.Cell):
            """Stride-2 stem (32 -> 16), block, stride-2 conv (16 -> 8), block, stride-2 conv (8 -> 4), block,
            spatial mean, dense; widths C, 2C, 4C. No pooling: MindSpore 2.10 CPU lacks its second derivative."""

            def __init__(self):
                super().__init__()
                self.body = nn.SequentialCell([conv(3, width, 2), nn.ReLU(), Block(width), conv(width, 2 * width, 2),
                                               nn.ReLU(), Block(2 * width), conv(2 * width, 4 * width, 2), nn.ReLU(),
                                               Block(4 * width)])
                self.head = nn.Dense(4 * width, CNN_CLASSES)

            def construct(self, x):
                return self.head(ops.mean(self.body(x), (2, 3)))

        net = ResNet()
        shape = (BATCH[arch], 3, 32, 32)
    inputs = Tensor(rng.normal(0.0, 1.0, shape).astype(np.float32))
    labels = Tensor(rng.integers(0, CNN_CLASSES, BATCH[arch]).astype(np.int32))
    return net, CrossEntropyLoss(net), (inputs, labels)


def _cell_step(loss_fn, optimizer, probes=None, method=None):
    """A compiled step as a Cell: gradient and ``nn.Adam``, or (``optimizer=None``) the gradient and one
    Hessian-vector product by ``hutchinson_diagonal`` with fixed ``probes``, and no update."""
    # pylint: disable=import-outside-toplevel
    import mindspore as ms
    from mindspore import nn, ops
    from mindflow.cell.optimizers import hutchinson_diagonal  # pylint: disable=import-error

    class CellStep(nn.Cell):
        """One step; returns the loss."""

        def __init__(self):
            super().__init__()
            self.optimizer = optimizer
            self.weights = ms.ParameterTuple(loss_fn.trainable_params())
            self.grad_fn = ms.value_and_grad(loss_fn, None, self.weights)

        def construct(self, x, y):
            """Gradient and update, or gradient and Hessian-vector product."""
            if self.optimizer is not None:
                loss, grads = self.grad_fn(x, y)
                self.optimizer(grads)
                return loss
            output, diagonal = hutchinson_diagonal(self.grad_fn, self.weights, (x, y), probes, method=method,
                                                   jit=False)
            # the loss, made to depend on every estimate so that none is left out of the graph
            return output[0] + 0.0 * sum(ops.sum(d) for d in diagonal)

    return CellStep()


def make_step(variant, net, loss_fn):
    """``step(x, y) -> loss`` for one variant."""
    # pylint: disable=import-outside-toplevel
    import mindspore as ms
    from mindspore import nn
    if variant == "adam":
        # a Cell, as nn.TrainOneStepCell runs it: the same step as a mindspore.jit function is up to 1.9x slower at
        # 20M weights (benchmarks/README, "Scale")
        return _cell_step(loss_fn, nn.Adam(net.trainable_params(), learning_rate=LEARNING_RATE))
    # pylint: disable=import-error
    from mindflow.cell.optimizers import AdaHessian, draw_probes
    interval, method = variant.split("_")
    method = "autodiff" if method == "autodiff" else "finite_difference"
    if interval == "hvp":
        # no optimizer: the gradient and one Hessian-vector product with Rademacher probes, as a compiled graph
        probes = draw_probes([p.shape for p in net.trainable_params()], seed=0, counter=0)
        return _cell_step(loss_fn, None, probes, method)
    opt = AdaHessian(net.trainable_params(), learning_rate=LEARNING_RATE, update_interval=int(interval[1:]),
                     hvp_method=method)
    grad_fn = ms.value_and_grad(loss_fn, None, opt.parameters)

    def adahessian_step(x, y):
        return opt(grad_fn, x, y)
    return adahessian_step


def worker(spec):
    """One variant in this process: RSS before the optimizer, peak RSS and step times after."""
    # pylint: disable=import-outside-toplevel
    import mindspore as ms
    sys.path.insert(0, spec["mindflow_root"])
    if spec["threads"]:
        ms.device_context.cpu.op_tuning.threads_num(spec["threads"])
    ms.set_context(mode=ms.GRAPH_MODE)
    net, loss_fn, inputs = build(spec["arch"], spec["size"])
    weights = int(sum(p.size for p in net.trainable_params()))
    baseline, baseline_peak = _rss_mb(), _peak_rss_mb()
    step = make_step(spec["variant"], net, loss_fn)
    start = time.perf_counter()
    first_loss = float(_ms_sync(step(*inputs)))
    first_step_s = time.perf_counter() - start
    after_first = _rss_mb()
    for _ in range(spec["warmup"] - 1):
        _ms_sync(step(*inputs))
    times = []
    for _ in range(spec["steps"]):
        start = time.perf_counter()
        loss = _ms_sync(step(*inputs))
        times.append(time.perf_counter() - start)
    interval = 10 if spec["variant"].startswith("k10") else 1
    result = _summary(times, interval, spec["warmup"])
    result.update(weights=weights, first_step_s=first_step_s, first_loss=first_loss, last_loss=float(loss),
                  baseline_rss_mb=baseline, peak_before_optimizer_mb=baseline_peak, rss_after_first_step_mb=after_first,
                  end_rss_mb=_rss_mb(), peak_rss_mb=_peak_rss_mb())
    result["increase_mb"] = result["peak_rss_mb"] - baseline
    print(RESULT_TAG + json.dumps(result), flush=True)


def run_worker(spec, timeout):
    """Run one variant's process (bench_optimizers' launcher, with this file as the worker)."""
    return bench_optimizers.run_worker(spec, os.environ.get("MS_DEV_HOST_BLOCKING_RUN") == "1", timeout,
                                       MINDFLOW_ROOT, script=__file__)


def extras(results):
    """Per variant: step ratio to Adam and extra peak memory over Adam (MB and weight-sized float32 buffers)."""
    adam = results.get("adam", {})
    out = {}
    for name, data in results.items():
        if name == "adam" or "median_s" not in data or "median_s" not in adam:
            continue
        extra = data["increase_mb"] - adam["increase_mb"]
        out[name] = {"ratio": data["amortized_s"] / adam["median_s"], "extra_mb": extra,
                     "extra_buffers": extra * 2 ** 20 / (4.0 * data["weights"])}
    return out


def table(records):
    """Markdown table: one row per (architecture, size)."""
    names = [v for v in VARIANTS if v != "adam"]
    lines = ["| arch | size | weights | Adam ms | Adam increase MB | " + " | ".join(
        f"{v} ratio" for v in names) + " | " + " | ".join(f"{v} extra MB (buffers)" for v in names) + " |",
             "| --- " * (5 + 2 * len(names)) + "|"]
    for record in records:
        adam = record["results"].get("adam", {})
        weights = next((d["weights"] for d in record["results"].values() if "weights" in d), 0)
        row = [record["arch"], record["size"], f"{weights:,}", f"{adam['median_s'] * 1e3:.1f}" if "median_s" in adam
               else "error", f"{adam['increase_mb']:.0f}" if "increase_mb" in adam else "-"]
        ext = record["extras"]
        row += [f"{ext[v]['ratio']:.2f}" if v in ext else "-" for v in names]
        row += [f"{ext[v]['extra_mb']:.0f} ({ext[v]['extra_buffers']:.1f})" if v in ext else "-" for v in names]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--archs", default="mlp,cnn", help="comma-separated: mlp, cnn")
    parser.add_argument("--sizes", default="1M,5M,20M", help=f"comma-separated: {', '.join(MLP_WIDTHS)}")
    parser.add_argument("--smoke", action="store_true", help="the tiny 'smoke' size only, 3 steps")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated: " + ", ".join(VARIANTS))
    parser.add_argument("--steps", type=int, default=10, help="timed steps (k=10 needs 10 for a refresh)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps, the first (compiling) included")
    parser.add_argument("--threads", type=int, default=1, help="MindSpore CPU kernel threads (0: its default)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per process")
    parser.add_argument("--label", default="", help="free text stored in the JSON (e.g. an experiment's name)")
    parser.add_argument("--out", default=os.path.join(HERE, "runs", "scale.json"), help="JSON output file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.archs, args.variants = args.archs.split(","), args.variants.split(",")
    args.sizes = ["smoke"] if args.smoke else args.sizes.split(",")
    if args.smoke:
        args.steps, args.warmup = min(args.steps, 3), 1
    return args


def main(argv=None):
    """Run every (architecture, size, variant) process, print the table and write the JSON."""
    args = parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return 0
    records = []
    for arch in args.archs:
        for size in args.sizes:
            record = {"arch": arch, "size": size, "batch": BATCH[arch], "results": {}}
            for variant in args.variants:
                spec = {"arch": arch, "size": size, "variant": variant, "steps": args.steps, "warmup": args.warmup,
                        "threads": args.threads, "mindflow_root": MINDFLOW_ROOT}
                start = time.perf_counter()
                result = run_worker(spec, args.timeout)
                record["results"][variant] = result
                status = result.get("error") or (f"{result['median_s'] * 1e3:.1f} ms/step, peak "
                                                 f"{result['peak_rss_mb']:.0f} MB (+{result['increase_mb']:.0f} "
                                                 "over set-up)")
                print(f"[scale] {arch} {size} {variant}: {status} ({time.perf_counter() - start:.0f} s)", flush=True)
            record["extras"] = extras(record["results"])
            records.append(record)
    meta = {"command": " ".join([os.path.basename(sys.executable), "benchmarks/bench_scale.py"] + sys.argv[1:]),
            "label": args.label, "steps": args.steps, "warmup": args.warmup, "threads": args.threads,
            **git_state(), **mindflow_version(MINDFLOW_ROOT)}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump({"meta": meta, "records": records}, handle, indent=1)
    print(table(records))
    return 1 if any("error" in r for rec in records for r in rec["results"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
