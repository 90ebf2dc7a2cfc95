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
"""The change, exported into real upstream MindFlow, works there.

Upstream's own pure-Python release, the ``mindflow-ascend==0.3.0`` wheel, is downloaded with pip (into
a cache, never installed), unpacked into a temporary folder and patched with this project's package
mapping (``tools/export_upstream.py --package-only``). Subprocesses whose PYTHONPATH puts that folder
first then check that (a) ``mindflow.AdaHessian`` is this project's class and ``mindflow.core`` keeps
the same name for it, (b) every public name and module of upstream 0.3.0 still imports, (c) upstream's
own AdaHessian test idiom (probes injected through ``gen_rand_vecs``, ``optimizer(grad_fn, inputs)``)
runs and converges in PYNATIVE and GRAPH mode, and (d) a representative part of this project's optimizer test
suite passes against the patched upstream package (``MINDFLOW_UPSTREAM_SUITE=all``: the whole of it, about 20
minutes here; the project's own run covers every test on this package, the export changes only where it lives).

Upstream 0.3.0 needs ``sympy`` and ``easydict``, which this project does not: pinned versions are
installed with pip into the same cache folder and put on the subprocesses' PYTHONPATH after the
package. The tests are skipped, with the reason, only when pip cannot reach the package index.
Set ``MINDFLOW_UPSTREAM_CACHE`` to choose the cache folder.
"""
import hashlib
import importlib.util
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

import pytest

import upstream_probe

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, *([os.pardir] * 4)))
EXPORT_SCRIPT = os.path.join(REPO_ROOT, "tools", "export_upstream.py")
SUITE = os.path.join("tests", "st", "mindflow", "cell", "optimizers")
# The part of SUITE run by (d): arguments, the public API, one exact-numerics configuration per update path and mode
# (the safe step's, with groups, loss scale and lazy refresh), the finite difference, and a convergence check.
SUITE_SUBSET = ("test_adahessian_args.py", "test_adahessian_api.py",
                "test_adahessian_numerics.py::test_matches_numpy_reference[groups_step_clip-graph-joined]",
                "test_adahessian_numerics.py::test_matches_numpy_reference[groups_step_clip-pynative-in_place]",
                "test_adahessian_numerics.py::test_matches_numpy_reference[flat_finite_difference-graph-joined]",
                "test_adahessian_convergence.py::test_rosenbrock")
# Files of tests/st/mindflow that the suite needs: the session set-up (device, mode) and the tolerances.
MINDFLOW_TEST_HELPERS = ("conftest.py", "device_tolerance.py")

WHEEL_SPEC = "mindflow-ascend==0.3.0"
WHEEL_NAME = "mindflow_ascend-0.3.0-py3-none-any.whl"
# sha256 of the wheel on PyPI: a different file under the same name fails the test.
WHEEL_SHA256 = "57e98e4d7635eb5f0a392735b3ccd1f93e49ad36de08853d250f0af6d2a54c75"
# Upstream's requirements this project does not have, pinned (import name -> pip requirements).
DEPENDENCY_PINS = {"sympy": ("sympy==1.14.0", "mpmath==1.3.0"), "easydict": ("easydict==1.13",)}
CACHE_DIR = os.environ.get("MINDFLOW_UPSTREAM_CACHE") or os.path.join(tempfile.gettempdir(),
                                                                      "mindflow-upstream-cache")
PIP_TIMEOUT = 300
SUITE_TIMEOUT = int(os.environ.get("MINDFLOW_UPSTREAM_SUITE_TIMEOUT", "1800"))
# Extra pytest arguments for the suite run of (d), e.g. "-k graph" to shorten it by hand.
SUITE_ARGS = tuple(os.environ.get("MINDFLOW_UPSTREAM_SUITE_ARGS", "").split())
NETWORK_ERRORS = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution",
                  "Name or service not known", "Network is unreachable", "ConnectTimeoutError", "ReadTimeoutError",
                  "Connection refused", "No route to host", "ProxyError", "ConnectionError", "timed out")
# Upstream 0.3.0 modules that fail to import on this MindSpore (CPU 2.10) for reasons of their own,
# excluded from check (b). None do; upstream_probe.NOT_IMPORTED lists the module that is never imported.
KNOWN_UPSTREAM_IMPORT_FAILURES = {}
IDIOM_MIN_DECREASE = 0.6


def _run(command, timeout, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)


def _pip(args, what):
    """Run pip; skip the tests when it cannot reach the index, fail on any other error."""
    try:
        result = _run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], PIP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.skip(f"pip timed out after {PIP_TIMEOUT}s fetching {what}: no network access to the package index")
    if result.returncode:
        output = result.stdout + result.stderr
        if any(marker in output for marker in NETWORK_ERRORS):
            pytest.skip(f"cannot download {what} (no network access to the package index): {output.strip()[-300:]}")
        pytest.fail(f"pip could not fetch {what}:\n{output[-3000:]}")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _wheel():
    """The upstream wheel, downloaded once into the cache."""
    cached = os.path.join(CACHE_DIR, WHEEL_NAME)
    if not os.path.isfile(cached):
        os.makedirs(CACHE_DIR, exist_ok=True)
        download = tempfile.mkdtemp(dir=CACHE_DIR, prefix="download-")
        try:
            _pip(["download", "--no-deps", "--only-binary", ":all:", "-d", download, WHEEL_SPEC], WHEEL_SPEC)
            os.replace(os.path.join(download, WHEEL_NAME), cached)
        finally:
            shutil.rmtree(download, ignore_errors=True)
    assert _sha256(cached) == WHEEL_SHA256, f"{cached} is not the published {WHEEL_SPEC} (sha256 differs)"
    return cached


def _requirements(wheel):
    """Import names of the wheel's Requires-Dist."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read("mindflow_ascend-0.3.0.dist-info/METADATA").decode("utf-8")
    return [re.split(r"[<>=!~ ;\[]", line.split(":", 1)[1].strip())[0].lower()
            for line in metadata.splitlines() if line.startswith("Requires-Dist:")]


def _dependencies(wheel):
    """A folder with upstream's requirements that this interpreter lacks (None if it lacks none)."""
    missing = [name for name in _requirements(wheel) if importlib.util.find_spec(name) is None]
    unknown = [name for name in missing if name not in DEPENDENCY_PINS]
    assert not unknown, f"upstream needs {unknown}, which this environment lacks and DEPENDENCY_PINS does not pin"
    if not missing:
        return None
    pins = sorted(pin for name in missing for pin in DEPENDENCY_PINS[name])
    folder = os.path.join(CACHE_DIR, "deps-" + hashlib.sha256(" ".join(pins).encode()).hexdigest()[:12])
    if not os.path.isfile(os.path.join(folder, ".complete")):
        staging = tempfile.mkdtemp(dir=CACHE_DIR, prefix="deps-staging-")
        try:
            _pip(["install", "--no-deps", "--no-compile", "--only-binary", ":all:", "--target", staging, *pins],
                 " ".join(pins))
            with open(os.path.join(staging, ".complete"), "w", encoding="utf-8") as handle:
                handle.write("\n".join(pins) + "\n")
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def _unpack(wheel, folder):
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(folder, [n for n in archive.namelist() if n.startswith("mindflow/")])
    return folder


def _env(package_dir, deps, *extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "UPSTREAM_GUARD_"))}
    env["PYTHONPATH"] = os.pathsep.join([package_dir, *extra] + ([deps] if deps else []))
    env["PYTHONNOUSERSITE"] = "1"
    env.pop("ME_PACKAGE_NAME", None)
    return env


def _probe(args, package_dir, deps, cwd, timeout=600):
    out = os.path.join(cwd, f"probe-{args[0]}.json")
    result = _run([sys.executable, os.path.join(HERE, "upstream_probe.py"), args[0], package_dir, *args[1:], out],
                  timeout, cwd=cwd, env=_env(package_dir, deps))
    assert result.returncode == 0 and os.path.isfile(out), \
        f"upstream_probe {args[0]} failed:\n{(result.stdout + result.stderr)[-4000:]}"
    with open(out, encoding="utf-8") as handle:
        return json.load(handle)


def _export(target, check=False):
    command = [sys.executable, EXPORT_SCRIPT, "--package-only", target] + (["--check"] if check else [])
    return _run(command, 120, cwd=target)


@pytest.fixture(scope="module", name="upstream")
def fixture_upstream(tmp_path_factory):
    """Upstream 0.3.0 unpacked twice (pristine and patched), its names, and the export's output."""
    wheel = _wheel()
    deps = _dependencies(wheel)
    root = str(tmp_path_factory.mktemp("upstream"))
    pristine = _unpack(wheel, os.path.join(root, "pristine"))
    patched = _unpack(wheel, os.path.join(root, "patched"))
    export = _export(patched)
    assert export.returncode == 0, f"export_upstream.py --package-only failed:\n{export.stdout}{export.stderr}"
    names = _probe(["names"], pristine, deps, root)
    names_file = os.path.join(root, "names.json")
    with open(names_file, "w", encoding="utf-8") as handle:
        json.dump(names, handle)
    return {"root": root, "deps": deps, "pristine": pristine, "patched": patched, "export": export.stdout,
            "names": names, "names_file": names_file}


@pytest.fixture(scope="module", name="patched_probe")
def fixture_patched_probe(upstream):
    """The probe's results on the patched package: identity, names, idiom in both modes."""
    return _probe(["check", upstream["names_file"]], upstream["patched"], upstream["deps"], upstream["root"])


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_export_maps_package_onto_upstream(upstream):
    """
    Feature: tools/export_upstream.py --package-only on upstream's released package.
    Description: The export adds the optimizers package, registers AdaHessian in upstream's
        cell/__init__.py, turns core/optimizers.py into the alias and leaves upstream's
        core/__init__.py (which already exports AdaHessian) as it was; a second run changes nothing.
    Expectation: Upstream's other names stay in mindflow.cell.__all__; the re-run reports all unchanged.
    """
    report = upstream["export"]
    for line in ("added        mindflow/cell/optimizers/adahessian.py", "modified     mindflow/cell/__init__.py",
                 "modified     mindflow/core/optimizers.py", "unchanged    mindflow/core/__init__.py"):
        assert line in report, report
    with open(os.path.join(upstream["patched"], "mindflow", "cell", "__init__.py"), encoding="utf-8") as handle:
        assert "from .optimizers import AdaHessian\n" in handle.read()
    again = _export(upstream["patched"], check=True)
    assert again.returncode == 0 and "0 added, 0 modified" in again.stdout, again.stdout


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_adahessian_is_this_projects_class(upstream, patched_probe):
    """
    Feature: AdaHessian exported into upstream MindFlow 0.3.0.
    Description: In a subprocess whose 'import mindflow' is the patched upstream package, inspect
        mindflow.AdaHessian, mindflow.cell.AdaHessian, mindflow.core.AdaHessian and core.optimizers.
    Expectation: One class, this project's (module mindflow.cell.optimizers.adahessian inside the
        temporary folder, with hessian_power), listed in the three __all__ lists.
    """
    assert os.path.commonpath([patched_probe["mindflow_file"], upstream["patched"]]) == upstream["patched"]
    assert "identity_error" not in patched_probe, patched_probe.get("identity_error")
    identity = patched_probe["identity"]
    assert identity["module"] == "mindflow.cell.optimizers.adahessian", identity
    assert identity["source_inside_package"], identity
    assert identity["has_hessian_power"], identity
    for key in ("cell_is_top", "core_is_cell", "core_optimizers_is_cell", "in_cell_all", "in_core_all",
                "in_top_all"):
        assert identity[key], (key, identity)
    assert identity["upstream_only_subpackages"] == ["cfd", "geometry", "pde", "data"], identity


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_upstream_public_names_still_import(upstream, patched_probe):
    """
    Feature: Upstream MindFlow's API is unchanged by the export.
    Description: Every module of upstream 0.3.0's package and every name in each module's __all__,
        collected from the unpatched copy, is imported again from the patched copy.
    Expectation: Nothing is missing (as attribute or from __all__) and no module fails to import.
        Upstream's mindflow/setup.py is never imported (see upstream_probe.NOT_IMPORTED); on
        MindSpore 2.10 CPU no other upstream module fails to import once upstream's own
        requirements (sympy, easydict) are present.
    """
    names = upstream["names"]
    assert names["not_imported"] == upstream_probe.NOT_IMPORTED
    assert set(names["not_imported"]) == {"mindflow.setup"}, names["not_imported"]
    assert names["import_failures"] == KNOWN_UPSTREAM_IMPORT_FAILURES, (
        "upstream 0.3.0 itself (unpatched) now fails to import these modules here; document them in "
        f"KNOWN_UPSTREAM_IMPORT_FAILURES with the reason: {names['import_failures']}")
    assert len(names["modules"]) > 90 and len(names["exported"]["mindflow"]) > 80, names["exported"].keys()
    assert patched_probe["import_failures"] == {}, patched_probe["import_failures"]
    assert patched_probe["missing_names"] == {}, patched_probe["missing_names"]
    assert patched_probe["unlisted_names"] == {}, patched_probe["unlisted_names"]


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
@pytest.mark.parametrize("mode", ["PYNATIVE_MODE", "GRAPH_MODE"])
def test_upstream_idiom_runs_and_converges(patched_probe, mode):
    """
    Feature: Upstream's AdaHessian test idiom on the exported class.
    Description: A subclass overriding gen_rand_vecs(self, grads) with all-ones probes (a list, one per
        parameter) trains nn.Conv2d(2, 4, 3) on forward(a) = ops.mean(net(a)**2)**.5 with
        optimizer(grad_fn, inputs), grad_fn = mindspore.grad(forward, None, net.trainable_params()).
    Expectation: It runs on CPU in the given mode, calls the override, and the loss falls below
        60% of its initial value in 15 steps, every value finite.
    """
    result = patched_probe["idiom"][mode]
    assert "error" not in result, result.get("error")
    losses = result["losses"]
    assert all(math.isfinite(loss) for loss in losses), losses
    assert losses[-1] < IDIOM_MIN_DECREASE * losses[0], losses
    assert sum(b < a for a, b in zip(losses, losses[1:])) >= 0.8 * (len(losses) - 1), losses
    assert result["probe_calls"] >= 1
    assert result["moment2_shapes"] == [[4, 2, 1, 1], [4]], result["moment2_shapes"]


PYNATIVE_BUG = (
    "MindSpore's PYNATIVE reverse-over-reverse differentiation drops the curvature that flows through a "
    "reduction (d2/dx2 of ops.sum(x)**2 comes out 0; for ops.sqrt(ops.mean(x*x)) it misses the -x x^T/|x|^3 "
    "term), so PYNATIVE Hessian-vector products of upstream's sqrt(mean(out**2)) loss are wrong while GRAPH "
    "mode and ms.jit are right. Computing the product under ms.jit in PYNATIVE mode too would avoid it.")


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_upstream_idiom_modes_agree(patched_probe):
    """
    Feature: Upstream's AdaHessian idiom gives the same result in both modes.
    Description: With the same fixed probes, the loss trajectories of PYNATIVE and GRAPH mode are compared.
    Expectation: They agree to float32 rounding. Where they do not and MindSpore shows its PYNATIVE
        second-order bug (probed on ops.sum(x)**2), the test is an expected failure naming that bug.
    """
    pynative = patched_probe["idiom"]["PYNATIVE_MODE"]["losses"]
    graph = patched_probe["idiom"]["GRAPH_MODE"]["losses"]
    assert len(pynative) == len(graph)
    agree = all(abs(a - b) <= 1e-4 * max(abs(a), abs(b)) for a, b in zip(pynative, graph))
    bug = patched_probe["pynative_second_order_bug"]
    if not agree and bug["present"]:
        pytest.xfail(f"{PYNATIVE_BUG} Probe: {bug}. Losses PYNATIVE {pynative[:3]}..., GRAPH {graph[:3]}...")
    assert agree, (pynative, graph)


def _suite_copy(destination):
    """This project's optimizer tests, with pytest.ini and tests/st/mindflow's conftest.py and helpers, in a folder
    of their own (as upstream's tree would hold them: nothing from above tests/ but pytest.ini)."""
    source = os.path.join(REPO_ROOT, SUITE)
    tests = [name for _, _, files in os.walk(source) for name in files
             if name.startswith("test_") and name.endswith(".py")] if os.path.isdir(source) else []
    if not tests:
        pytest.skip(f"this project's optimizer test suite ({SUITE}) has no tests yet")
    shutil.copytree(source, os.path.join(destination, SUITE), ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(os.path.join(REPO_ROOT, "pytest.ini"), destination)
    for name in MINDFLOW_TEST_HELPERS:
        shutil.copy(os.path.join(REPO_ROOT, "tests", "st", "mindflow", name),
                    os.path.join(destination, "tests", "st", "mindflow"))
    shutil.copy(os.path.join(HERE, "upstream_guard.py"), destination)
    return destination


def _run_suite(suite, package_dir, deps, report, selection):
    """Run (part of) the copied suite with ``package_dir`` first on PYTHONPATH; return (rc, output, failed ids)."""
    env = _env(package_dir, deps, suite)
    env.update(UPSTREAM_GUARD_PACKAGE_DIR=package_dir, UPSTREAM_GUARD_REPORT=report)
    command = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", "-p", "upstream_guard",
               "-c", os.path.join(suite, "pytest.ini"), "--rootdir", suite, *SUITE_ARGS, *selection]
    try:
        result = _run(command, SUITE_TIMEOUT, cwd=suite, env=env)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"the suite ran past {SUITE_TIMEOUT}s (MINDFLOW_UPSTREAM_SUITE_TIMEOUT): "
                    f"{str(error.stdout)[-2000:]}")
    output = result.stdout + result.stderr
    failed = sorted(set(re.findall(r"^(?:FAILED|ERROR) (\S+)", output, re.MULTILINE)))
    return result.returncode, output, failed


def _guard_stages(report, package_dir):
    with open(report, encoding="utf-8") as handle:
        stages = [json.loads(line) for line in handle if line.strip()]
    assert [s["stage"] for s in stages] == ["configure", "finish"], stages
    for stage in stages:
        assert os.path.commonpath([stage["mindflow"], package_dir]) == package_dir, stage
    return stages


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_project_suite_passes_on_patched_upstream(upstream):
    """
    Feature: This project's optimizer test suite against upstream MindFlow with the change exported.
    Description: tests/st/mindflow/cell/optimizers, with pytest.ini and tests/st/mindflow's conftest.py, is
        copied to a temporary folder, and SUITE_SUBSET (or all of it, MINDFLOW_UPSTREAM_SUITE=all) run there by
        pytest in a subprocess (-p no:cacheprovider, --rootdir that folder) whose PYTHONPATH puts the patched upstream
        package first; the upstream_guard plugin stops the run unless mindflow and mindflow.AdaHessian come from it.
    Expectation: pytest exits 0 having passed at least one test, the guard saw the patched package
        before collection and after the tests. Tests that fail are run again on this project's own
        package: if every one fails there too, the suite itself is red (its own run in CI reports it)
        and this test is an expected failure; a test failing only on upstream fails this test.
    """
    suite = _suite_copy(os.path.join(upstream["root"], "suite"))
    report = os.path.join(upstream["root"], "guard-upstream.jsonl")
    selection = [SUITE] if os.environ.get("MINDFLOW_UPSTREAM_SUITE") == "all" else [
        os.path.join(SUITE, test) for test in SUITE_SUBSET]
    code, output, failed = _run_suite(suite, upstream["patched"], upstream["deps"], report, selection)
    stages = _guard_stages(report, upstream["patched"])
    assert all(stage["has_cfd"] for stage in stages), stages
    if code == 0:
        assert re.search(r"\b[1-9]\d* passed\b", output), output[-2000:]
        return
    assert failed, f"suite failed on patched upstream MindFlow without failing tests:\n{output[-6000:]}"
    local_report = os.path.join(upstream["root"], "guard-project.jsonl")
    _, local_output, local_failed = _run_suite(suite, REPO_ROOT, None, local_report, failed)
    _guard_stages(local_report, REPO_ROOT)
    only_upstream = sorted(set(failed) - set(local_failed))
    assert not only_upstream, (f"these tests fail on patched upstream MindFlow but pass on this project's "
                               f"package: {only_upstream}\n{output[-6000:]}")
    pytest.xfail(f"the suite fails on this project's own package too (not an upstream incompatibility): "
                 f"{failed}\n{local_output[-1500:]}")
