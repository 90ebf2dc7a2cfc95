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
"""Export the AdaHessian change into a mindscience checkout, in upstream MindFlow's layout.

Usage::

    python tools/export_upstream.py [--check] MINDSCIENCE      # the whole change
    python tools/export_upstream.py [--check] --package-only DIR  # DIR holds a bare mindflow/ package

Every file goes where upstream keeps it, as MAPPING below says: the optimizers package under
``MindFlow/mindflow/cell/optimizers``, its registration in upstream's own ``cell/__init__.py`` and
``core/__init__.py`` (import added, name added to ``__all__``, upstream's other names untouched),
upstream's old ``core/optimizers.py`` AdaHessian class replaced by the alias of the new class (other
contents of that module kept), the Chinese API pages and the API index pages under the mindscience
root's ``docs/``, the tests under its ``tests/st/mindflow``, the Burgers application under
``MindFlow/applications``, the user guide under ``MindFlow/docs/adahessian`` and this release's entry
at the top of ``MindFlow/RELEASE*.md``.
``--package-only`` applies the package rules alone (what the upstream compatibility test uses on
the published ``mindflow-ascend`` wheel). ``--check`` reports the same summary and writes nothing.
Running it again on an exported tree changes nothing. Exit status: 0 done, 1 an error (a missing
source file, a target that is not a mindscience checkout, an upstream file of unexpected shape).
"""
import argparse
import fnmatch
import os
import posixpath
import subprocess
import sys
from typing import NamedTuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from upstream_edits import (EditError, apply_rewrites, ensure_import, merge_index,  # noqa: E402
                            prepend_release, register, relink_markdown, replace_class_with_alias)

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# MindFlow's folder inside a mindscience checkout; package rules' targets start with it.
UPSTREAM_PROJECT = "MindFlow"


class Rule(NamedTuple):
    """One line of the mapping: ``action`` takes ``source`` (this project) to ``target`` (mindscience)."""
    action: str
    source: str
    target: str
    options: tuple = ()

    def option(self, key, default=None):
        return dict(self.options).get(key, default)

    @property
    def package(self):
        return self.target.startswith(UPSTREAM_PROJECT + "/mindflow/")


# Actions: "tree" copies the files of a folder (options: include and exclude globs of file names,
# exclude_dirs: names of folders left out wherever they are, rewrites; Markdown links are rewritten
# for the new place); "file" copies one file as it is; "register" imports names in an upstream
# package __init__ and adds them to its __all__; "alias" replaces upstream's class by this project's
# alias module; "index" merges the entries of an API index page into upstream's; "release" puts
# this project's release sections first.
MAPPING = (
    Rule("tree", "mindflow/cell/optimizers", "MindFlow/mindflow/cell/optimizers", (("include", ("*.py",)),)),
    Rule("register", "mindflow/cell/__init__.py", "MindFlow/mindflow/cell/__init__.py",
         (("module", ".optimizers"), ("names", ("AdaHessian",)))),
    Rule("alias", "mindflow/core/optimizers.py", "MindFlow/mindflow/core/optimizers.py",
         (("class", "AdaHessian"),)),
    Rule("register", "mindflow/core/__init__.py", "MindFlow/mindflow/core/__init__.py",
         (("module", ".optimizers"), ("names", ("AdaHessian",)))),
    # Upstream's API index lists objects of mindflow.cell / mindflow.core only: pages of modules
    # (mindflow.cell.optimizers.*) would be in no toctree of upstream's build.
    Rule("tree", "docs/api_python/mindflow/cell", "docs/api_python/mindflow/cell",
         (("include", ("*.rst",)), ("exclude", ("mindflow.cell.optimizers.*",)),
          ("why", "module page; upstream's index lists objects of mindflow.cell only"))),
    Rule("tree", "docs/api_python/mindflow/core", "docs/api_python/mindflow/core",
         (("include", ("*.rst",)), ("exclude", ("mindflow.core.optimizers.*",)),
          ("why", "module page; upstream's index lists objects of mindflow.core only"))),
    Rule("index", "docs/api_python/mindflow/mindflow.cell.rst", "docs/api_python/mindflow/mindflow.cell.rst",
         (("package", "mindflow.cell"),)),
    Rule("index", "docs/api_python/mindflow/mindflow.core.rst", "docs/api_python/mindflow/mindflow.core.rst",
         (("package", "mindflow.core"),)),
    Rule("index", "docs/api_python_en/mindflow/mindflow.cell.rst", "docs/api_python_en/mindflow/mindflow.cell.rst",
         (("package", "mindflow.cell"),)),
    Rule("index", "docs/api_python_en/mindflow/mindflow.core.rst", "docs/api_python_en/mindflow/mindflow.core.rst",
         (("package", "mindflow.core"),)),
    # The session set-up (device switch, execution mode) and the per-device tolerances of every MindFlow
    # test folder exported here: the tests need nothing above tests/ but pytest.ini's markers.
    Rule("file", "tests/st/mindflow/conftest.py", "tests/st/mindflow/conftest.py"),
    Rule("file", "tests/st/mindflow/device_tolerance.py", "tests/st/mindflow/device_tolerance.py"),
    Rule("file", "tests/st/mindflow/app_modules.py", "tests/st/mindflow/app_modules.py"),
    Rule("tree", "tests/st/mindflow/cell/optimizers", "tests/st/mindflow/cell/optimizers"),
    Rule("tree", "tests/st/mindflow/cell/reliability", "tests/st/mindflow/cell/reliability"),
    Rule("tree", "tests/st/mindflow/applications/burgers_adahessian",
         "tests/st/mindflow/applications/burgers_adahessian",
         # The application sits under MindFlow/ upstream; the tests find it from the checkout's root.
         (("rewrites", (("conftest.py", '"applications", "physics_driven"',
                         '"MindFlow", "applications", "physics_driven"'),)),)),
    # Upstream's applications ship no results archives or sweep scripts; this project keeps those in
    # benchmarks/burgers/. The folders below are what a run or an old layout leaves in the application.
    Rule("tree", "applications/physics_driven/burgers_adahessian",
         "MindFlow/applications/physics_driven/burgers_adahessian",
         (("exclude_dirs", ("results", "scripts", "outputs", "checkpoints", ".ipynb_checkpoints")),
          ("why", "run outputs and research archives stay out of the application upstream"))),
    # The seismic full-waveform inversion: a differentiable solver, so beside upstream's other solver applications.
    Rule("tree", "tests/st/mindflow/applications/acoustic_fwi", "tests/st/mindflow/applications/acoustic_fwi",
         (("rewrites", (("conftest.py", '"applications", "cfd"', '"MindFlow", "applications", "cfd"'),)),)),
    Rule("tree", "applications/cfd/acoustic_fwi", "MindFlow/applications/cfd/acoustic_fwi",
         (("exclude_dirs", ("outputs", "checkpoints", ".ipynb_checkpoints")),
          ("why", "run outputs stay out of the application upstream"))),
    # The user guide, which the application's README points to for tuning, next to MindFlow's other docs.
    Rule("tree", "docs/guide", "MindFlow/docs/adahessian", (("include", ("*.md",)),)),
    Rule("release", "RELEASE.md", "MindFlow/RELEASE.md"),
    Rule("release", "RELEASE_CN.md", "MindFlow/RELEASE_CN.md"),
)

# What stays in this project, and why (printed with the summary so a reviewer sees the whole picture).
NOT_EXPORTED = (
    ("mindflow/__init__.py, mindflow/version.py", "upstream keeps its own; its 'from .cell import *' "
     "already re-exports mindflow.cell.AdaHessian"),
    ("docs/api_python_en/mindflow/*/", "upstream builds English pages from docstrings via its index"),
    ("docs/conf.py, docs/index*.rst, docs/_templates, docs/_static, docs/landing.html",
     "this project's own Sphinx site"),
    ("tests/st/mindflow/docs, tests/st/mindflow/upstream", "checks of this project's docs and of this export"),
    ("tests/st/mindflow/benchmarks", "checks of this project's benchmarks"),
    ("tests/README.md", "this project's guide to its tests; the exported conftest.py and device_tolerance.py "
     "document the device switch and the tolerances themselves"),
    ("setup.py, requirements.txt, Makefile, tools/", "this project's packaging and tooling"),
    ("benchmarks/ (benchmarks/burgers/: the Burgers equal-time study, sweep and seed archives, plot_sweeps.py)",
     "this project's measurements; upstream's applications ship no results archives or sweep scripts"),
)

SKIP_PARTS = ("__pycache__", ".pytest_cache")
SKIP_SUFFIXES = (".pyc", ".pyo", ".ckpt", ".ir")


class Change(NamedTuple):
    """What happened (or would happen) to one target file."""
    status: str  # added, modified, unchanged
    target: str
    notes: tuple = ()


class Exporter:
    """Applies MAPPING from ``source_root`` to ``target_root``; collects the changes and warnings."""

    def __init__(self, source_root, target_root, package_only=False, check=False):
        self.source_root = os.path.abspath(source_root)
        self.target_root = os.path.abspath(target_root)
        self.package_only = package_only
        self.check = check
        self.rules = [rule for rule in MAPPING if rule.package or not package_only]
        self.changes = []
        self.warnings = []
        self.errors = []
        self.registrations = []
        self.skipped = []

    # ---- paths ---------------------------------------------------------------------------------
    def target_path(self, target):
        if self.package_only:
            target = target[len(UPSTREAM_PROJECT) + 1:]
        return os.path.join(self.target_root, *target.split("/"))

    def display(self, target):
        return target[len(UPSTREAM_PROJECT) + 1:] if self.package_only else target

    @staticmethod
    def map_path(source):
        """Where a file of this project lands upstream (POSIX, from the checkout root), or None."""
        for rule in MAPPING:
            if source == rule.source:
                return rule.target
            if rule.action == "tree" and source.startswith(rule.source + "/"):
                return rule.target + source[len(rule.source):]
        return None

    def source_files(self, folder):
        """Files of this project under ``folder`` (POSIX, relative to the project root), sorted.

        In a git work tree: tracked files and new ones git does not ignore; elsewhere every file
        but caches and build outputs.
        """
        absolute = os.path.join(self.source_root, *folder.split("/"))
        if not os.path.isdir(absolute):
            return None
        try:
            listed = subprocess.run(
                ["git", "-C", self.source_root, "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                 "--", folder], check=True, capture_output=True).stdout.decode("utf-8").split("\0")
            files = {path for path in listed if path and os.path.isfile(os.path.join(self.source_root, path))}
        except (OSError, subprocess.CalledProcessError):
            files = set()
            for directory, _, names in os.walk(absolute):
                for name in names:
                    path = os.path.relpath(os.path.join(directory, name), self.source_root)
                    files.add(path.replace(os.sep, "/"))
        return sorted(path for path in files
                      if not set(path.split("/")) & set(SKIP_PARTS) and not path.endswith(SKIP_SUFFIXES))

    def read_source(self, source):
        path = os.path.join(self.source_root, *source.split("/"))
        if not os.path.isfile(path):
            self.errors.append(f"missing source file: {source}")
            return None
        with open(path, "rb") as handle:
            return handle.read()

    def read_target(self, target):
        path = self.target_path(target)
        if not os.path.isfile(path):
            return None
        with open(path, "rb") as handle:
            return handle.read()

    def write(self, target, data, notes=()):
        """Record (and unless checking, make) the change of one target file."""
        old = self.read_target(target)
        if old == data:
            self.changes.append(Change("unchanged", target, tuple(notes)))
            return
        self.changes.append(Change("added" if old is None else "modified", target, tuple(notes)))
        if not self.check:
            path = self.target_path(target)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(data)

    # ---- actions -------------------------------------------------------------------------------
    def do_tree(self, rule):
        """Copy a folder's files (Markdown links re-pointed, declared rewrites applied)."""
        files = self.source_files(rule.source)
        if not files:
            self.errors.append(f"missing source folder (or empty): {rule.source}/")
            return
        include, exclude = rule.option("include"), rule.option("exclude", ())
        exclude_dirs = set(rule.option("exclude_dirs", ()))
        rewrites = rule.option("rewrites", ())
        matched_rewrites = set()
        for source in files:
            relative = source[len(rule.source) + 1:]
            base = posixpath.basename(relative)
            if include and not any(fnmatch.fnmatch(base, g) for g in include):
                continue
            if any(fnmatch.fnmatch(base, g) for g in exclude) or exclude_dirs & set(relative.split("/")[:-1]):
                self.skipped.append(f"{source}: {rule.option('why', 'excluded by MAPPING')}")
                continue
            target = rule.target + "/" + relative
            data = self.read_source(source)
            notes = []
            if source.endswith(".md") or rewrites:
                text = data.decode("utf-8")
                if source.endswith(".md"):
                    text, missing = relink_markdown(text, source, target, self.map_path)
                    self.warnings.extend(f"{source}: link to {m} (not exported) left as it is" for m in missing)
                if rewrites:
                    text, applied, _ = apply_rewrites(text, relative, rewrites)
                    matched_rewrites.update(applied)
                    notes.extend(f"rewrote {old}" for old in applied)
                data = text.encode("utf-8")
            self.write(target, data, notes)
        for _, old, _ in rewrites:
            if old not in matched_rewrites:
                self.warnings.append(f"{rule.source}: expected text {old} not found; its tests may not find "
                                     "their files upstream")

    def do_file(self, rule):
        """Copy one file as it is."""
        data = self.read_source(rule.source)
        if data is not None:
            self.write(rule.target, data)

    def _edit(self, rule, edit):
        """Run ``edit(upstream_text, our_text) -> (text, notes)`` on an existing upstream file."""
        ours = self.read_source(rule.source)
        upstream = self.read_target(rule.target)
        if ours is None:
            return
        if upstream is None:
            self.errors.append(f"upstream file not found: {self.display(rule.target)}")
            return
        try:
            text, notes = edit(upstream.decode("utf-8"), ours.decode("utf-8"))
        except EditError as error:
            self.errors.append(f"{self.display(rule.target)}: {error}")
            return
        self.write(rule.target, text.encode("utf-8"), notes)

    def do_register(self, rule):
        """Import names in an upstream package ``__init__`` and list them in its ``__all__``."""
        module, names = rule.option("module"), rule.option("names")
        package = posixpath.dirname(rule.target[len(UPSTREAM_PROJECT) + 1:]).replace("/", ".")

        def edit(upstream, ours):
            _, missing_here = ensure_import(ours, module, names)
            if missing_here:
                raise EditError(f"this project's {rule.source} no longer imports {missing_here} from {module}; "
                                "update MAPPING")
            text, notes = register(upstream, module, names)
            for name in names:
                self.registrations.append(f"{package}.{name} (from {module}): "
                                          + ("registered" if notes else "already registered"))
            return text, notes

        self._edit(rule, edit)

    def do_alias(self, rule):
        """Replace upstream's class by this project's alias, keeping the module's other contents."""
        class_name = rule.option("class")

        def edit(upstream, ours):
            text, note = replace_class_with_alias(upstream, ours, class_name)
            package = posixpath.dirname(rule.target[len(UPSTREAM_PROJECT) + 1:]).replace("/", ".")
            self.registrations.append(f"{package}.{class_name}: alias of the new class "
                                      + ("(made now)" if note else "(already)"))
            return text, [note] if note else []

        self._edit(rule, edit)

    def do_index(self, rule):
        """Merge this project's entries of an API index page into upstream's."""
        ours = self.read_source(rule.source)
        if ours is None:
            return
        upstream = self.read_target(rule.target)
        if upstream is None:
            self.write(rule.target, ours, ["upstream had no such index page; this project's copied"])
            return
        try:
            text, added, skipped = merge_index(upstream.decode("utf-8"), ours.decode("utf-8"), rule.option("package"))
        except EditError as error:
            self.errors.append(f"{rule.target}: {error}")
            return
        notes = [f"listed {name}" for name in added]
        notes.extend(f"not listed {name} (upstream's index lists objects of {rule.option('package')} only)"
                     for name in skipped)
        self.write(rule.target, text.encode("utf-8"), notes)

    def do_release(self, rule):
        """Put this project's release sections (links re-pointed) before upstream's."""
        ours = self.read_source(rule.source)
        if ours is None:
            return
        our_text, missing = relink_markdown(ours.decode("utf-8"), rule.source, rule.target, self.map_path)
        self.warnings.extend(f"{rule.source}: link to {m} (not exported) left as it is" for m in missing)
        upstream = self.read_target(rule.target)
        if upstream is None:
            self.write(rule.target, our_text.encode("utf-8"), ["upstream had no release notes; this project's copied"])
            return
        try:
            text, heading = prepend_release(upstream.decode("utf-8"), our_text)
        except EditError as error:
            self.errors.append(f"{rule.source}: {error}")
            return
        self.write(rule.target, text.encode("utf-8"), [f"prepended '{heading}'"] if heading else [])

    # ---- driver --------------------------------------------------------------------------------
    def check_target(self):
        package = self.target_path(UPSTREAM_PROJECT + "/mindflow/__init__.py")
        if not os.path.isfile(package):
            where = "DIR/mindflow/__init__.py" if self.package_only else "MINDSCIENCE/MindFlow/mindflow/__init__.py"
            self.errors.append(f"not found: {package} (expected {where})")
            return False
        return True

    def run(self):
        if self.check_target():
            for rule in self.rules:
                getattr(self, "do_" + rule.action)(rule)
        return not self.errors

    def summary(self):
        """The report, as lines."""
        mode = "package only" if self.package_only else "full change"
        lines = [f"export {self.source_root} -> {self.target_root} ({mode}"
                 + ("; --check: nothing written)" if self.check else ")")]
        verb = {"added": "would add" if self.check else "added",
                "modified": "would modify" if self.check else "modified", "unchanged": "unchanged"}
        for change in self.changes:
            lines.append(f"  {verb[change.status]:<12} {self.display(change.target)}")
            lines.extend(f"{'':<16}- {note}" for note in change.notes)
        if self.registrations:
            lines.append("registrations:")
            lines.extend(f"  {item}" for item in self.registrations)
        if not self.package_only:
            lines.append("not exported:")
            lines.extend(f"  {paths}: {why}" for paths, why in NOT_EXPORTED)
            lines.extend(f"  {item}" for item in self.skipped)
        lines.extend(f"warning: {warning}" for warning in self.warnings)
        lines.extend(f"error: {error}" for error in self.errors)
        counts = {status: sum(c.status == status for c in self.changes) for status in verb}
        lines.append(f"summary: {counts['added']} added, {counts['modified']} modified, {counts['unchanged']} unchanged"
                     f"; {len(self.warnings)} warning(s), {len(self.errors)} error(s)"
                     + (" (check only)" if self.check else ""))
        return lines


def main(argv=None):
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("mindscience", nargs="?", help="path of a mindscience checkout (holding MindFlow/)")
    parser.add_argument("--package-only", metavar="DIR",
                        help="apply only the package mapping to DIR/mindflow (a bare MindFlow package)")
    parser.add_argument("--check", action="store_true", help="report what would change; write nothing")
    parser.add_argument("--source", default=PROJECT_ROOT, help="this project's root (default: %(default)s)")
    args = parser.parse_args(argv)
    if bool(args.mindscience) == bool(args.package_only):
        parser.error("give either MINDSCIENCE or --package-only DIR")
    exporter = Exporter(args.source, args.package_only or args.mindscience,
                        package_only=bool(args.package_only), check=args.check)
    exporter.run()
    print("\n".join(exporter.summary()))
    return 1 if exporter.errors else 0


if __name__ == "__main__":
    sys.exit(main())
