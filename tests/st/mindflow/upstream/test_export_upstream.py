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
"""tools/export_upstream.py and its edits, on small synthetic mindscience checkouts (no MindSpore needed)."""
import ast
import hashlib
import os
import subprocess
import sys
import textwrap

import pytest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *([os.pardir] * 4)))
TOOLS = os.path.join(REPO_ROOT, "tools")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

# pylint: disable=wrong-import-position
import export_upstream  # noqa: E402
from upstream_edits import (EditError, add_to_all, merge_index, prepend_release, register,  # noqa: E402
                            relink_markdown, replace_class_with_alias)

HEADER = "# Copyright 2026 Huawei Technologies Co., Ltd\n"
ALIAS = HEADER + textwrap.dedent('''\
    """Upstream-compatible location."""
    from ..cell.optimizers.adahessian import AdaHessian

    __all__ = ["AdaHessian"]
    ''')
OLD_CLASS = textwrap.dedent('''\
    class AdaHessian(nn.Adam):
        """Old."""
        def gen_rand_vecs(self, grads):
            return [(2 * ops.randint(0, 2, p.shape) - 1).astype(ms.float32) for p in grads]
    ''')

pytestmark = [pytest.mark.level0, pytest.mark.platform_x86_cpu, pytest.mark.env_onecard]


def _write(root, relative, text):
    path = os.path.join(root, *relative.split("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _read(root, relative):
    with open(os.path.join(root, *relative.split("/")), encoding="utf-8") as handle:
        return handle.read()


def _tree_digest(root):
    digest = hashlib.sha256()
    for directory, folders, files in sorted(os.walk(root)):
        folders.sort()
        for name in sorted(files):
            path = os.path.join(directory, name)
            digest.update(os.path.relpath(path, root).encode())
            with open(path, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()


def _project(root):
    """A small stand-in for this project (not a git work tree, so every file counts)."""
    files = {
        "mindflow/cell/optimizers/__init__.py": '"""Optimizers."""\nfrom .adahessian import AdaHessian\n',
        "mindflow/cell/optimizers/adahessian.py": '"""New."""\n\n\nclass AdaHessian:\n    """New."""\n',
        "mindflow/cell/optimizers/notes.txt": "not a module\n",
        "mindflow/cell/__init__.py": '"""Cells."""\nfrom .optimizers import AdaHessian\n\n__all__ = ["AdaHessian"]\n',
        "mindflow/core/__init__.py": '"""Core."""\nfrom .optimizers import AdaHessian\n\n__all__ = ["AdaHessian"]\n',
        "mindflow/core/optimizers.py": ALIAS,
        "docs/api_python/mindflow/cell/mindflow.cell.AdaHessian.rst": "mindflow.cell.AdaHessian\n====\n",
        "docs/api_python/mindflow/core/mindflow.core.AdaHessian.rst": "mindflow.core.AdaHessian\n====\nnew\n",
        "docs/api_python/mindflow/mindflow.cell.rst":
            "mindflow.cell\n=====\n\n.. toctree::\n    :maxdepth: 1\n\n    cell/mindflow.cell.AdaHessian\n",
        "docs/api_python/mindflow/mindflow.core.rst":
            "mindflow.core\n=====\n\n.. toctree::\n    :maxdepth: 1\n\n    core/mindflow.core.AdaHessian\n",
        "docs/api_python_en/mindflow/mindflow.cell.rst":
            "mindflow.cell\n=====\n\n.. autosummary::\n    :toctree: cell\n\n    mindflow.cell.AdaHessian\n"
            "    mindflow.cell.optimizers.probes\n",
        "docs/api_python_en/mindflow/mindflow.core.rst":
            "mindflow.core\n=====\n\n.. autosummary::\n    :toctree: core\n\n    mindflow.core.AdaHessian\n",
        "tests/st/mindflow/conftest.py": '"""Session set-up."""\n',
        "tests/st/mindflow/device_tolerance.py": '"""Tolerances."""\n',
        "tests/st/mindflow/cell/optimizers/test_new.py": "def test_new():\n    pass\n",
        "tests/st/mindflow/cell/reliability/test_reliable.py": "def test_reliable():\n    pass\n",
        "tests/st/mindflow/applications/burgers_adahessian/conftest.py":
            'APP = os.path.join(ROOT, "applications", "physics_driven", "burgers_adahessian")\n',
        "applications/physics_driven/burgers_adahessian/README.md":
            "See [the optimizer](../../../mindflow/cell/optimizers/adahessian.py), "
            "[the API page](../../../docs/api_python/mindflow/cell/mindflow.cell.AdaHessian.rst) "
            "and [contributing](../../../CONTRIBUTING.md).\n",
        "applications/physics_driven/burgers_adahessian/src/__pycache__/x.cpython-311.pyc": "",
        "applications/physics_driven/burgers_adahessian/train.py": "print('train')\n",
        "applications/physics_driven/burgers_adahessian/images/curves.png": "png\n",
        "docs/guide/adahessian.md": "# Guide\n\n![curves](../../applications/physics_driven/burgers_adahessian/images/"
                                    "curves.png)\n",
        "docs/guide/adahessian_CN.md": "# 指南\n",
        "applications/physics_driven/burgers_adahessian/results/seeds/seed0.json": "{}\n",
        "applications/physics_driven/burgers_adahessian/scripts/compare.py": "print('sweep')\n",
        "applications/physics_driven/burgers_adahessian/outputs/metrics.json": "{}\n",
        "tests/st/mindflow/app_modules.py": "def use_application(app_dir):\n    return None, None\n",
        "tests/st/mindflow/applications/acoustic_fwi/conftest.py":
            'APP_DIR = os.path.join(ROOT, "applications", "cfd", "acoustic_fwi")\n',
        "applications/cfd/acoustic_fwi/train.py": "print('invert')\n",
        "applications/cfd/acoustic_fwi/outputs/metrics.json": "{}\n",
        "RELEASE.md": "# MindFlow Release Notes\n\n## MindFlow 0.4.0 Release Notes\n\n- AdaHessian "
                      "([app](applications/physics_driven/burgers_adahessian/README.md)).\n",
        "RELEASE_CN.md": "# MindFlow Release Notes\n\n## MindFlow 0.4.0 Release Notes\n\n- AdaHessian 优化器。\n",
    }
    for relative, text in files.items():
        _write(root, relative, text)
    return root


UPSTREAM_CELL = textwrap.dedent('''\
    """init"""
    from .activation import get_activation
    from .unet2d import UNet2D

    __all__ = ["get_activation", "FNO1D", "UNet2D"]
    __all__.extend(basic_block.__all__)
    ''')
UPSTREAM_CORE = textwrap.dedent('''\
    """init"""
    from .losses import get_loss_metric
    from .optimizers import AdaHessian, GradAccumulator

    __all__ = ["get_loss_metric",
               "AdaHessian",
               "GradAccumulator",
               ]

    __all__.sort()
    ''')
UPSTREAM_OPTIMIZERS = '\'\'\' Define costumized optimizers and gradient accumulators \'\'\'\nimport mindspore as ms\n' \
    'from mindspore import nn, ops\n\n\n' + OLD_CLASS + textwrap.dedent('''\


    class GradAccumulator(nn.Cell):
        """Other contents of upstream's module."""
        def construct(self, grads):
            return ops.stack(grads)
    ''')
UPSTREAM_INDEX = ("mindflow.cell\n==================\n\n.. mscnplatformautosummary::\n    :toctree: cell\n"
                  "    :nosignatures:\n    :template: classtemplate.rst\n\n    mindflow.cell.AttentionBlock\n"
                  "    mindflow.cell.UNet2D\n")


def _mindscience(root):
    """A small stand-in for a mindscience checkout, in upstream's layout."""
    files = {
        "MindFlow/mindflow/__init__.py": '"""init"""\n',
        "MindFlow/mindflow/cell/__init__.py": UPSTREAM_CELL,
        "MindFlow/mindflow/core/__init__.py": UPSTREAM_CORE,
        "MindFlow/mindflow/core/optimizers.py": UPSTREAM_OPTIMIZERS,
        "docs/api_python/mindflow/mindflow.cell.rst": UPSTREAM_INDEX,
        "docs/api_python/mindflow/mindflow.core.rst": UPSTREAM_INDEX.replace("cell", "core"),
        "docs/api_python_en/mindflow/mindflow.cell.rst": UPSTREAM_INDEX.replace("mscn", "ms"),
        "docs/api_python_en/mindflow/mindflow.core.rst": UPSTREAM_INDEX.replace("mscn", "ms").replace("cell", "core"),
        "docs/api_python/mindflow/core/mindflow.core.AdaHessian.rst": "mindflow.core.AdaHessian\n====\nold\n",
        "MindFlow/RELEASE.md": "# MindSpore Flow Release Notes\n\nIntro.\n\n## MindSpore Flow 0.2.0 Release Notes\n\n"
                               "- old\n",
        "MindFlow/RELEASE_CN.md": "# MindSpore Flow Release Notes\n\n## MindSpore Flow 0.2.0 Release Notes\n",
    }
    for relative, text in files.items():
        _write(root, relative, text)
    return root


def _main(*args):
    return subprocess.run([sys.executable, os.path.join(TOOLS, "export_upstream.py"), *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_full_export_places_files_where_upstream_keeps_them(tmp_path):
    """
    Feature: export_upstream.py MINDSCIENCE.
    Description: Export a synthetic project into a synthetic mindscience checkout; run it again.
    Expectation: Files land in upstream's layout, registrations and alias are made in upstream's files
        keeping their other contents, the application's results/, scripts/ and outputs/ stay behind (listed
        as not exported), and the second run reports every file unchanged.
    """
    source, target = _project(str(tmp_path / "project")), _mindscience(str(tmp_path / "mindscience"))
    result = _main("--source", source, target)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MindFlow/mindflow/cell/optimizers/adahessian.py" in result.stdout
    assert not os.path.exists(os.path.join(target, "MindFlow/mindflow/cell/optimizers/notes.txt"))
    assert _read(target, "MindFlow/mindflow/cell/optimizers/adahessian.py").startswith('"""New."""')
    cell = _read(target, "MindFlow/mindflow/cell/__init__.py")
    assert 'from .unet2d import UNet2D\nfrom .optimizers import AdaHessian\n' in cell
    assert '__all__ = ["get_activation", "FNO1D", "UNet2D", "AdaHessian"]\n__all__.extend(basic_block.__all__)' in cell
    assert _read(target, "MindFlow/mindflow/core/__init__.py") == UPSTREAM_CORE
    optimizers = _read(target, "MindFlow/mindflow/core/optimizers.py")
    assert "class AdaHessian" not in optimizers and "class GradAccumulator(nn.Cell)" in optimizers
    assert "from ..cell.optimizers.adahessian import AdaHessian" in optimizers
    assert "import mindspore as ms" not in optimizers and "from mindspore import nn, ops" in optimizers
    ast.parse(optimizers)
    assert _read(target, "docs/api_python/mindflow/core/mindflow.core.AdaHessian.rst").endswith("new\n")
    cn_index = _read(target, "docs/api_python/mindflow/mindflow.cell.rst")
    assert "\n\n    mindflow.cell.AdaHessian\n    mindflow.cell.AttentionBlock\n" in cn_index
    en_index = _read(target, "docs/api_python_en/mindflow/mindflow.cell.rst")
    assert "mindflow.cell.AdaHessian" in en_index and "optimizers.probes" not in en_index
    assert "not listed mindflow.cell.optimizers.probes" in result.stdout
    assert _read(target, "tests/st/mindflow/cell/optimizers/test_new.py")
    assert _read(target, "tests/st/mindflow/cell/reliability/test_reliable.py")
    assert _read(target, "tests/st/mindflow/conftest.py") == '"""Session set-up."""\n'
    assert _read(target, "tests/st/mindflow/device_tolerance.py") == '"""Tolerances."""\n'
    conftest = _read(target, "tests/st/mindflow/applications/burgers_adahessian/conftest.py")
    assert '"MindFlow", "applications", "physics_driven"' in conftest
    readme = _read(target, "MindFlow/applications/physics_driven/burgers_adahessian/README.md")
    assert "(../../../mindflow/cell/optimizers/adahessian.py)" in readme
    assert "(../../../../docs/api_python/mindflow/cell/mindflow.cell.AdaHessian.rst)" in readme
    assert "(../../../CONTRIBUTING.md)" in readme and "CONTRIBUTING.md (not exported)" in result.stdout
    assert not os.path.exists(os.path.join(target, "MindFlow/applications/physics_driven/burgers_adahessian/src"))
    for folder in ("results", "scripts", "outputs"):
        assert not os.path.exists(os.path.join(target, "MindFlow/applications/physics_driven/burgers_adahessian",
                                               folder))
    assert ("applications/physics_driven/burgers_adahessian/results/seeds/seed0.json: run outputs and research "
            "archives stay out of the application upstream") in result.stdout
    guide = _read(target, "MindFlow/docs/adahessian/adahessian.md")
    assert "(../../applications/physics_driven/burgers_adahessian/images/curves.png)" in guide
    assert _read(target, "MindFlow/docs/adahessian/adahessian_CN.md") == "# 指南\n"
    release = _read(target, "MindFlow/RELEASE.md")
    assert release.index("## MindFlow 0.4.0") < release.index("## MindSpore Flow 0.2.0") and "Intro." in release
    assert "(applications/physics_driven/burgers_adahessian/README.md)" in release
    assert "mindflow.cell.AdaHessian (from .optimizers): registered" in result.stdout

    digest = _tree_digest(target)
    again = _main("--source", source, target)
    assert again.returncode == 0 and " 0 added, 0 modified" in again.stdout, again.stdout
    assert _tree_digest(target) == digest


def test_check_writes_nothing(tmp_path):
    """
    Feature: export_upstream.py --check.
    Description: Run the full export and the package-only export with --check.
    Expectation: The summary lists what would change, and no file of the target changes.
    """
    source, target = _project(str(tmp_path / "project")), _mindscience(str(tmp_path / "mindscience"))
    digest = _tree_digest(target)
    result = _main("--check", "--source", source, target)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "would add    MindFlow/mindflow/cell/optimizers/adahessian.py" in result.stdout
    assert "would modify MindFlow/mindflow/core/optimizers.py" in result.stdout
    assert "(check only)" in result.stdout
    package = _main("--check", "--source", source, "--package-only", os.path.join(target, "MindFlow"))
    assert package.returncode == 0 and "would add    mindflow/cell/optimizers/adahessian.py" in package.stdout
    assert "docs/" not in package.stdout
    assert _tree_digest(target) == digest


def test_errors_exit_non_zero(tmp_path):
    """
    Feature: export_upstream.py error handling.
    Description: Target that is no mindscience checkout; source missing a mapped file; no target at all.
    Expectation: Exit status 1 with an 'error:' line (2 for a usage error), and nothing written.
    """
    source = _project(str(tmp_path / "project"))
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _main("--source", source, str(empty))
    assert result.returncode == 1 and "error: not found" in result.stdout
    assert not os.listdir(empty)
    os.remove(os.path.join(source, "RELEASE_CN.md"))
    target = _mindscience(str(tmp_path / "mindscience"))
    result = _main("--source", source, target)
    assert result.returncode == 1 and "error: missing source file: RELEASE_CN.md" in result.stdout
    assert _main("--source", source).returncode == 2


def test_add_to_all_keeps_upstream_style():
    """
    Feature: upstream_edits.add_to_all.
    Description: Sorted, case-insensitively sorted, one-per-line, unsorted, long and empty __all__ lists.
    Expectation: The name goes to its sorted place when the list is sorted, else to the end; lines stay
        within 120 columns; a second call changes nothing.
    """
    text, note = add_to_all('__all__ = ["Attention", "FNO1D", "ViT"]\n', "AdaHessian")
    assert text == '__all__ = ["AdaHessian", "Attention", "FNO1D", "ViT"]\n' and "sorted position 0" in note
    assert add_to_all(text, "AdaHessian") == (text, None)
    text, _ = add_to_all("__all__ = ['alpha', 'Beta', 'gamma']\n", "Delta")
    assert text == "__all__ = ['alpha', 'Beta', 'Delta', 'gamma']\n"
    text, _ = add_to_all('__all__ = ["b",\n           "d",\n           ]\n', "c")
    assert text == '__all__ = ["b",\n           "c",\n           "d",\n           ]\n'
    text, _ = add_to_all('__all__ = ["b",\n           "a"]\n', "c")
    assert text == '__all__ = ["b",\n           "a",\n           "c"]\n'
    long_list = "__all__ = [" + ", ".join(f'"Name{i:03d}x"' for i in (5, 1, 9, 2, 7, 3, 8, 4, 6)) + "]\n"
    text, note = add_to_all(long_list, "AdaHessian")
    assert "not sorted" in note and max(len(line) for line in text.splitlines()) <= 120
    assert text.rstrip().endswith('"AdaHessian"]') and ast.literal_eval(text.split("=", 1)[1].strip())[-1]
    assert add_to_all("__all__ = []\n", "X")[0] == '__all__ = ["X"]\n'


def test_register_and_alias_edits():
    """
    Feature: upstream_edits.register and replace_class_with_alias.
    Description: Register a name in an __init__ without it; replace a module holding only the class;
        replace a module holding other things; an already aliased module; a module without the class.
    Expectation: Import after the last relative import and name in __all__; whole-file replacement only
        when nothing else is there; unused imports of the class dropped, others kept; no-op when done.
    """
    text, notes = register('"""init"""\nfrom .a import b\nimport os\n\n__all__ = ["b"]\n', ".optimizers",
                           ("AdaHessian",))
    assert text == '"""init"""\nfrom .a import b\nfrom .optimizers import AdaHessian\nimport os\n\n' \
                   '__all__ = ["AdaHessian", "b"]\n'
    assert len(notes) == 2 and register(text, ".optimizers", ("AdaHessian",)) == (text, [])
    only_class = '"""Old."""\nimport mindspore as ms\nfrom mindspore import nn, ops\n\n\n' + OLD_CLASS
    assert replace_class_with_alias(only_class, ALIAS, "AdaHessian")[0] == ALIAS
    assert replace_class_with_alias(ALIAS, ALIAS, "AdaHessian") == (ALIAS, None)
    text, note = replace_class_with_alias(UPSTREAM_OPTIMIZERS, ALIAS, "AdaHessian")
    assert "dropped imports only the class used: import mindspore as ms" in note
    assert text.startswith("''' Define costumized optimizers and gradient accumulators '''\n"
                           "from mindspore import nn, ops\nfrom ..cell.optimizers.adahessian import AdaHessian\n")
    assert "\n\n\n\n" not in text and replace_class_with_alias(text, ALIAS, "AdaHessian") == (text, None)
    with pytest.raises(EditError):
        replace_class_with_alias('"""Nothing."""\n', ALIAS, "AdaHessian")


def test_index_release_and_link_edits():
    """
    Feature: upstream_edits.merge_index, prepend_release and relink_markdown.
    Description: Merge toctree entries into an autosummary page without a final newline; prepend a
        release section twice; move a Markdown file with links into and out of the export.
    Expectation: Entries merged once, in alphabetical place, module pages skipped; the release entry
        goes before upstream's first section once; links follow the files that moved.
    """
    upstream = UPSTREAM_INDEX.rstrip("\n")
    text, added, skipped = merge_index(upstream, ".. toctree::\n\n    cell/mindflow.cell.Zeta\n"
                                       "    cell/mindflow.cell.Beta\n    mindflow.cell.optimizers.probes\n",
                                       "mindflow.cell")
    assert added == ["mindflow.cell.Zeta", "mindflow.cell.Beta"] and skipped == ["mindflow.cell.optimizers.probes"]
    assert text.endswith("    mindflow.cell.AttentionBlock\n    mindflow.cell.Beta\n    mindflow.cell.UNet2D\n"
                         "    mindflow.cell.Zeta")
    assert not merge_index(text, ".. toctree::\n\n    cell/mindflow.cell.Zeta\n", "mindflow.cell")[1]
    ours = "# Notes\n\n## 0.4.0\n\n- new\n\n"
    text, heading = prepend_release("# Up\n\nIntro.\n\n## 0.2.0\n\n- old\n", ours)
    assert text == "# Up\n\nIntro.\n\n## 0.4.0\n\n- new\n\n## 0.2.0\n\n- old\n" and heading == "## 0.4.0"
    assert prepend_release(text, ours) == (text, None)
    with pytest.raises(EditError):
        prepend_release(text, "# no sections\n")

    def mapped(path):
        return {"docs/a.rst": "docs/a.rst", "mindflow/x.py": "MindFlow/mindflow/x.py"}.get(path)

    text, missing = relink_markdown("[a](docs/a.rst#top) [x](mindflow/x.py) [w](https://e.org/a) [c](CONTRIB.md)\n"
                                    "[ref]: docs/a.rst\n", "README.md", "MindFlow/README.md", mapped)
    assert text == "[a](../docs/a.rst#top) [x](mindflow/x.py) [w](https://e.org/a) [c](CONTRIB.md)\n" \
                   "[ref]: ../docs/a.rst\n"
    assert missing == ["CONTRIB.md"]


def test_mapping_table_is_consistent():
    """
    Feature: The declarative MAPPING of export_upstream.py.
    Description: Check every rule's action and paths, and that package rules stay under MindFlow/mindflow.
    Expectation: Known actions, relative POSIX paths, and the package rules are those --package-only uses.
    """
    actions = {"tree", "file", "register", "alias", "index", "release"}
    for rule in export_upstream.MAPPING:
        assert rule.action in actions and hasattr(export_upstream.Exporter, "do_" + rule.action), rule
        for path in (rule.source, rule.target):
            assert not path.startswith("/") and "\\" not in path and ".." not in path.split("/"), rule
    package = {rule.target for rule in export_upstream.MAPPING if rule.package}
    assert package == {"MindFlow/mindflow/cell/optimizers", "MindFlow/mindflow/cell/__init__.py",
                       "MindFlow/mindflow/core/optimizers.py", "MindFlow/mindflow/core/__init__.py"}
