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
"""Probe an upstream MindFlow package; run by ``test_upstream_compat.py`` in a subprocess.

The subprocess's PYTHONPATH puts the unpacked upstream package first, so ``import mindflow`` here is
upstream's (checked against the expected folder before anything else). Results go to a JSON file:
exceptions are caught and reported there, so the test can show what went wrong.

    python upstream_probe.py names PACKAGE_DIR OUT.json
        every module of upstream's package, its ``__all__`` and the modules that fail to import
    python upstream_probe.py check PACKAGE_DIR NAMES.json OUT.json
        on the patched package: (a) which AdaHessian ``mindflow`` exports, (b) upstream's names and
        modules still import, (c) upstream's own AdaHessian idiom in PYNATIVE and GRAPH mode
"""
import importlib
import inspect
import json
import os
import pkgutil
import sys
import time
import traceback

# Modules of the wheel that are not part of the API and must not be imported: mindflow/setup.py is
# upstream's packaging script, shipped inside the package by mistake; importing it reads the
# ME_PACKAGE_NAME variable (AttributeError when unset) and then runs setuptools.setup().
NOT_IMPORTED = {"mindflow.setup": "upstream's packaging script shipped inside the wheel; importing it reads "
                                  "ME_PACKAGE_NAME and runs setuptools.setup()"}
IDIOM_STEPS = 15


def _error(error):
    return f"{type(error).__name__}: {error}"


def _inside(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([path, folder]) == folder


def _import_mindflow(package_dir):
    import mindflow  # pylint: disable=import-outside-toplevel
    if not _inside(mindflow.__file__, package_dir):
        raise RuntimeError(f"'import mindflow' found {mindflow.__file__}, not the package under {package_dir}")
    return mindflow


def _module_names(mindflow):
    failures = {}
    names = ["mindflow"]
    for info in pkgutil.walk_packages(mindflow.__path__, "mindflow.",
                                      onerror=lambda name: failures.setdefault(name, _error(sys.exc_info()[1]))):
        names.append(info.name)
    return sorted(set(names)), failures


def collect_names(package_dir):
    """Upstream's modules, their ``__all__``, and the modules that fail to import (unpatched)."""
    mindflow = _import_mindflow(package_dir)
    modules, failures = _module_names(mindflow)
    exported = {}
    for name in modules:
        if name in NOT_IMPORTED or name in failures:
            continue
        try:
            module = importlib.import_module(name)
        except Exception as error:  # pylint: disable=broad-except
            failures[name] = _error(error)
            continue
        if hasattr(module, "__all__"):
            exported[name] = sorted(set(module.__all__))
    return {"mindflow_file": mindflow.__file__, "modules": modules, "exported": exported,
            "import_failures": failures, "not_imported": NOT_IMPORTED}


def _identity(mindflow, package_dir):
    ada = mindflow.AdaHessian
    source = inspect.getsourcefile(ada)
    return {
        "module": ada.__module__,
        "source": source,
        "source_inside_package": _inside(source, package_dir),
        "has_hessian_power": "hessian_power" in inspect.signature(ada).parameters,
        "cell_is_top": mindflow.cell.AdaHessian is ada,
        "core_is_cell": mindflow.core.AdaHessian is mindflow.cell.AdaHessian,
        "core_optimizers_is_cell": importlib.import_module("mindflow.core.optimizers").AdaHessian is ada,
        "in_cell_all": "AdaHessian" in mindflow.cell.__all__,
        "in_core_all": "AdaHessian" in mindflow.core.__all__,
        "in_top_all": "AdaHessian" in mindflow.__all__,
        "upstream_only_subpackages": [name for name in ("cfd", "geometry", "pde", "data")
                                      if hasattr(mindflow, name)],
    }


def _still_there(names):
    """Upstream's names missing as attributes, missing from ``__all__``, and modules failing to import."""
    missing, unlisted, failures = {}, {}, {}
    for name in names["modules"]:
        if name in names["not_imported"] or name in names["import_failures"]:
            continue
        try:
            module = importlib.import_module(name)
        except Exception as error:  # pylint: disable=broad-except
            failures[name] = _error(error)
            continue
        exported = names["exported"].get(name, ())
        gone = [attr for attr in exported if not hasattr(module, attr)]
        if gone:
            missing[name] = gone
        dropped = sorted(set(exported) - set(getattr(module, "__all__", ())))
        if dropped:
            unlisted[name] = dropped
    return missing, unlisted, failures


def _run_idiom(mode_name):
    """Upstream's test idiom: fixed probes through gen_rand_vecs, optimizer(grad_fn, inputs)."""
    # pylint: disable=import-outside-toplevel
    import numpy as np
    import mindspore as ms
    from mindspore import nn, ops
    from mindflow import AdaHessian

    ms.set_context(mode=getattr(ms, mode_name), device_target="CPU")
    weight = ms.Tensor(0.5 * np.sin(np.arange(72)).reshape(4, 2, 3, 3), dtype=ms.float32)
    bias = ms.Tensor(np.linspace(-0.2, 0.2, 4), dtype=ms.float32)
    net = nn.Conv2d(in_channels=2, out_channels=4, kernel_size=3, has_bias=True, weight_init=weight,
                    bias_init=bias)

    def forward(a):
        return ops.mean(net(a) ** 2) ** .5

    grad_fn = ms.grad(forward, grad_position=None, weights=net.trainable_params())

    class FixedProbes(AdaHessian):
        """Upstream's way to inject probes: override gen_rand_vecs."""
        calls = 0

        def gen_rand_vecs(self, grads):
            FixedProbes.calls += 1
            return [ms.Tensor(np.ones(p.shape), dtype=ms.float32) for p in grads]

    optimizer = FixedProbes(net.trainable_params(), learning_rate=0.05, beta1=0.9, beta2=0.999, eps=1e-8,
                            weight_decay=0.)
    inputs = ms.Tensor(np.sin(np.arange(100)).reshape(2, 2, 5, 5), dtype=ms.float32)
    losses = [float(forward(inputs).asnumpy())]
    start = time.perf_counter()
    for _ in range(IDIOM_STEPS):
        optimizer(grad_fn, inputs)
        losses.append(float(forward(inputs).asnumpy()))
    return {"losses": losses, "seconds": time.perf_counter() - start, "probe_calls": FixedProbes.calls,
            "moment2_shapes": [list(m.shape) for m in optimizer.moment2]}


def pynative_second_order_bug():
    """Whether MindSpore's PYNATIVE reverse-over-reverse drops curvature flowing through a reduction.

    d2/dx2 of ``ops.sum(x) ** 2`` times ones is ``[4, 4]`` for two elements; MindSpore 2.10 CPU returns
    ``[0, 0]`` in PYNATIVE mode (and the right value under ``ms.jit``).
    """
    # pylint: disable=import-outside-toplevel
    import numpy as np
    import mindspore as ms
    from mindspore import ops

    mode = ms.get_context("mode")
    ms.set_context(mode=ms.PYNATIVE_MODE)
    try:
        ones = ms.Tensor(np.ones(2, np.float32))
        grad = ms.grad(lambda a: ops.sum(a) ** 2, 0)
        hessian_times_ones = ms.grad(lambda a: ops.sum(grad(a) * ones), 0)
        value = hessian_times_ones(ms.Tensor(np.array([1.0, 2.0], np.float32))).asnumpy().tolist()
    finally:
        ms.set_context(mode=mode)
    return {"value": value, "expected": [4.0, 4.0], "present": not np.allclose(value, [4.0, 4.0])}


def check_patched(package_dir, names_file):
    """(a) identity, (b) upstream names and modules, (c) the idiom in both modes."""
    with open(names_file, encoding="utf-8") as handle:
        names = json.load(handle)
    mindflow = _import_mindflow(package_dir)
    result = {"mindflow_file": mindflow.__file__}
    try:
        result["identity"] = _identity(mindflow, package_dir)
    except Exception:  # pylint: disable=broad-except
        result["identity_error"] = traceback.format_exc()
    result["missing_names"], result["unlisted_names"], result["import_failures"] = _still_there(names)
    result["idiom"] = {}
    for mode_name in ("PYNATIVE_MODE", "GRAPH_MODE"):
        try:
            result["idiom"][mode_name] = _run_idiom(mode_name)
        except Exception:  # pylint: disable=broad-except
            result["idiom"][mode_name] = {"error": traceback.format_exc()}
    try:
        result["pynative_second_order_bug"] = pynative_second_order_bug()
    except Exception:  # pylint: disable=broad-except
        result["pynative_second_order_bug"] = {"error": traceback.format_exc(), "present": False}
    return result


def main(argv):
    """Entry point: writes the JSON result; exit 0 unless the probe itself could not run."""
    if argv[1] == "names":
        package_dir, out = argv[2], argv[3]
        result = collect_names(package_dir)
    elif argv[1] == "check":
        package_dir, names_file, out = argv[2], argv[3], argv[4]
        result = check_patched(package_dir, names_file)
    else:
        raise SystemExit(f"unknown command {argv[1]!r}")
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
