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
"""Step time and peak memory of Adam and AdaHessian on models of 1M to 20M weights, a fresh process per variant.

    python benchmarks/bench_scale.py --archs mlp,cnn --sizes 1M,5M,20M --out benchmarks/runs/scale.json

Adam runs as a Cell with the gradient and ``nn.Adam``, as ``nn.TrainOneStepCell`` does (as a ``mindspore.jit``
function it is up to 1.9x slower at 20M weights, which would flatter AdaHessian). ``hvp_autodiff`` and ``hvp_fd``
are no optimizer: the gradient and one Hessian-vector product, what a refresh cannot go below. Method and numbers:
benchmarks/README.md, "Scale".
"""
import argparse
import json
import os
import sys
import time

import bench_optimizers as bench

STEP_CLIP = {}  # AdaHessian's default safe step, or {"step_clip": value} from --step_clip
VARIANTS = ("adam", "k1_autodiff", "k1_fd", "k10_autodiff", "k10_fd", "hvp_autodiff", "hvp_fd")
# MLP hidden width W (256-W-W-10) and CNN base width C per size; no parameter has 2**24 or 2**25 elements
MLP_WIDTHS = {"smoke": 1024, "1M": 896, "5M": 2048, "20M": 4352}
CNN_WIDTHS = {"smoke": 8, "1M": 48, "5M": 104, "20M": 208}
BATCH = {"mlp": 64, "cnn": 32}
MINDFLOW_ROOT = os.path.abspath(os.environ.get("BENCH_MINDFLOW_ROOT", bench.REPO_ROOT))


def build(arch, size, seed=0):
    """Network, loss Cell and random (inputs, labels) of an architecture at a size."""
    # pylint: disable=import-outside-toplevel
    import numpy as np
    import mindspore as ms
    from mindspore import Tensor, nn, ops
    from workloads import CLASSES, CrossEntropyLoss, conv, mlp
    ms.set_seed(seed)
    rng = np.random.default_rng(seed)
    width = MLP_WIDTHS[size] if arch == "mlp" else CNN_WIDTHS[size]

    class Block(nn.Cell):
        """relu(x + conv(relu(conv(x))))."""

        def __init__(self, channels):
            super().__init__()
            self.conv1, self.conv2 = conv(channels, channels), conv(channels, channels)

        def construct(self, x):
            return ops.relu(x + self.conv2(ops.relu(self.conv1(x))))

    class ResNet(nn.Cell):
        """Stride-2 convolutions 32 -> 16 -> 8 -> 4, each followed by a block (widths C, 2C, 4C), spatial mean,
        dense. No pooling: MindSpore 2.10 on CPU has no second derivative of it."""

        def __init__(self):
            super().__init__()
            self.body = nn.SequentialCell([layer for cin, cout in ((3, width), (width, 2 * width),
                                                                   (2 * width, 4 * width))
                                           for layer in (conv(cin, cout, 2), nn.ReLU(), Block(cout))])
            self.head = nn.Dense(4 * width, CLASSES)

        def construct(self, x):
            return self.head(ops.mean(self.body(x), (2, 3)))

    net = mlp([256, width, width, CLASSES]) if arch == "mlp" else ResNet()
    shape = (BATCH[arch], 256) if arch == "mlp" else (BATCH[arch], 3, 32, 32)
    inputs = Tensor(rng.normal(0.0, 1.0, shape).astype(np.float32))
    labels = Tensor(rng.integers(0, CLASSES, BATCH[arch]).astype(np.int32))
    return net, CrossEntropyLoss(net), (inputs, labels)


def make_step(variant, net, loss_fn):
    """``step(x, y) -> loss`` of one variant."""
    # pylint: disable=import-outside-toplevel,import-error
    import mindspore as ms
    from mindspore import nn, ops
    from mindflow.cell.optimizers import AdaHessian, draw_probes, hutchinson_diagonal
    interval, method = ("adam", None) if variant == "adam" else variant.split("_")
    method = "autodiff" if method == "autodiff" else "finite_difference"
    if interval != "hvp" and variant != "adam":
        opt = AdaHessian(net.trainable_params(), learning_rate=bench.LEARNING_RATE,
                         update_interval=int(interval[1:]), hvp_method=method, **STEP_CLIP)
        grad_fn = ms.value_and_grad(loss_fn, None, opt.parameters)
        return lambda x, y: opt(grad_fn, x, y)
    adam = nn.Adam(net.trainable_params(), learning_rate=bench.LEARNING_RATE) if variant == "adam" else None
    probes = None if adam else draw_probes([p.shape for p in net.trainable_params()], seed=0, counter=0)

    class CellStep(nn.Cell):
        """Gradient and Adam update, or (no optimizer) gradient and one Hessian-vector product; returns the loss."""

        def __init__(self):
            super().__init__()
            self.optimizer = adam
            self.weights = ms.ParameterTuple(loss_fn.trainable_params())
            self.grad_fn = ms.value_and_grad(loss_fn, None, self.weights)

        def construct(self, x, y):
            if self.optimizer is not None:
                loss, grads = self.grad_fn(x, y)
                self.optimizer(grads)
                return loss
            output, diagonal = hutchinson_diagonal(self.grad_fn, self.weights, (x, y), probes, method=method,
                                                   jit=False)
            # the loss, made to depend on every estimate so that none is left out of the graph
            return output[0] + 0.0 * sum(ops.sum(d) for d in diagonal)

    return CellStep()


def worker(spec):
    """One variant in this process: RSS before the optimizer, then step times and the peak RSS."""
    sys.path.insert(0, spec["mindflow_root"])
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    if spec["threads"]:
        ms.device_context.cpu.op_tuning.threads_num(spec["threads"])
    ms.set_context(mode=ms.GRAPH_MODE)
    if spec.get("step_clip") is not None:
        STEP_CLIP["step_clip"] = None if spec["step_clip"] == "none" else float(spec["step_clip"])
    net, loss_fn, inputs = build(spec["arch"], spec["size"])
    baseline, baseline_peak = bench.rss_mb(), bench.peak_rss_mb()
    step = make_step(spec["variant"], net, loss_fn)
    start = time.perf_counter()
    first_loss = float(bench.sync(step(*inputs)))
    first_step_s, after_first = time.perf_counter() - start, bench.rss_mb()
    for _ in range(spec["warmup"] - 1):
        bench.sync(step(*inputs))
    times = []
    for _ in range(spec["steps"]):
        start = time.perf_counter()
        loss = bench.sync(step(*inputs))
        times.append(time.perf_counter() - start)
    result = bench.summary(times, 10 if spec["variant"].startswith("k10") else 1, spec["warmup"])
    result.update(weights=int(sum(p.size for p in net.trainable_params())), first_step_s=first_step_s,
                  first_loss=first_loss, last_loss=float(loss), baseline_rss_mb=baseline,
                  peak_before_optimizer_mb=baseline_peak, rss_after_first_step_mb=after_first,
                  end_rss_mb=bench.rss_mb(), peak_rss_mb=bench.peak_rss_mb())
    result["increase_mb"] = result["peak_rss_mb"] - baseline
    print(bench.RESULT_TAG + json.dumps(result), flush=True)


def extras(results):
    """Per variant: step ratio to Adam and extra peak memory over Adam (MB and weight-sized float32 buffers)."""
    adam, out = results.get("adam", {}), {}
    for name, data in results.items():
        if name != "adam" and "median_s" in data and "median_s" in adam:
            extra = data["increase_mb"] - adam["increase_mb"]
            out[name] = {"ratio": data["amortized_s"] / adam["median_s"], "extra_mb": extra,
                         "extra_buffers": extra * 2 ** 20 / (4.0 * data["weights"])}
    return out


def table(records):
    """Markdown table: one row per (architecture, size)."""
    rows = []
    for record in records:
        adam, ext = record["results"].get("adam", {}), record["extras"]
        weights = next((d["weights"] for d in record["results"].values() if "weights" in d), 0)
        rows.append([record["arch"], record["size"], f"{weights:,}", f"{adam.get('median_s', float('nan')) * 1e3:.1f}"]
                    + [f"{ext[v]['ratio']:.2f}" if v in ext else "-" for v in VARIANTS[1:]]
                    + [f"{ext[v]['extra_mb']:.0f} ({ext[v]['extra_buffers']:.1f})" if v in ext else "-"
                       for v in VARIANTS[1:]])
    return bench.markdown(["arch", "size", "weights", "Adam ms"] + [f"{v} ratio" for v in VARIANTS[1:]]
                          + [f"{v} extra MB (buffers)" for v in VARIANTS[1:]], rows)


def main(argv=None):
    """Run every (architecture, size, variant) process, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--archs", default="mlp,cnn", help="comma-separated: mlp, cnn")
    parser.add_argument("--sizes", default="1M,5M,20M", help=f"comma-separated: {', '.join(MLP_WIDTHS)}")
    parser.add_argument("--step_clip", default=None, help="AdaHessian's step_clip: a number, or 'none' for the "
                        "paper's update (default: the optimizer's default)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated: " + ", ".join(VARIANTS))
    parser.add_argument("--steps", type=int, default=10, help="timed steps (k10 needs 10 for a refresh)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps, the first (compiling) included")
    parser.add_argument("--threads", type=int, default=1, help="MindSpore CPU kernel threads (0: its default)")
    parser.add_argument("--out", default=os.path.join(bench.HERE, "runs", "scale.json"), help="JSON output file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return 0
    records = []
    for arch in args.archs.split(","):
        for size in args.sizes.split(","):
            record = {"arch": arch, "size": size, "batch": BATCH[arch], "results": {}}
            for variant in args.variants.split(","):
                spec = {"arch": arch, "size": size, "variant": variant, "steps": args.steps, "warmup": args.warmup,
                        "threads": args.threads, "mindflow_root": MINDFLOW_ROOT, "step_clip": args.step_clip}
                start = time.perf_counter()
                result = record["results"][variant] = bench.run_worker(
                    spec, os.environ.get("MS_DEV_HOST_BLOCKING_RUN") == "1", MINDFLOW_ROOT, script=__file__)
                status = result.get("error") or (f"{result['median_s'] * 1e3:.1f} ms/step, peak "
                                                 f"{result['peak_rss_mb']:.0f} MB (+{result['increase_mb']:.0f})")
                print(f"[scale] {arch} {size} {variant}: {status} ({time.perf_counter() - start:.0f} s)", flush=True)
            record["extras"] = extras(record["results"])
            records.append(record)
    meta = {"command": " ".join([os.path.basename(sys.executable), "benchmarks/bench_scale.py"] + sys.argv[1:]),
            "steps": args.steps, "warmup": args.warmup, "threads": args.threads, **bench.git_state(),
            **bench.mindflow_version(MINDFLOW_ROOT)}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump({"meta": meta, "records": records}, handle, indent=1)
    print(table(records))
    return 1 if any("error" in r for rec in records for r in rec["results"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
