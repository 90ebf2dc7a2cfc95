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
"""The API documents agree with the code, and the bilingual Sphinx site builds without warnings.

The Chinese API pages under ``docs/api_python`` are written by hand in upstream MindFlow's format, so
nothing but these tests keeps them in step with the class: its signature and defaults, its documented
arguments, inputs and exceptions (compared with the English docstring, which autodoc publishes).
"""
import ast
import importlib
import importlib.util
import inspect
import os
import re
import subprocess
import sys

import pytest

from mindflow import cell, core

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
DOCS_DIR = os.path.join(REPO_ROOT, "docs")
CN_API_DIR = os.path.join(DOCS_DIR, "api_python")
CN_CELL_PAGE = os.path.join(CN_API_DIR, "mindflow", "cell", "mindflow.cell.AdaHessian.rst")
CN_CORE_PAGE = os.path.join(CN_API_DIR, "mindflow", "core", "mindflow.core.AdaHessian.rst")
EN_CORE_PAGE = os.path.join(DOCS_DIR, "api_python_en", "mindflow", "core", "mindflow.core.AdaHessian.rst")
# Pages of another name of a documented class: their signature is checked, their sections are the class's page's.
ALIAS_PAGES = {"mindflow.core.AdaHessian": "mindflow.cell.AdaHessian"}
GUIDES = (os.path.join(DOCS_DIR, "guide", "adahessian.md"), os.path.join(DOCS_DIR, "guide", "adahessian_CN.md"))
# Modules documented as a whole (every public function) on one page in each language.
HELPER_MODULES = ("mindflow.cell.optimizers.hutchinson", "mindflow.cell.optimizers.probes")


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _class_directive(text, qualname):
    """Return the argument list written in ``.. py:class:: qualname(...)`` and the class body lines."""
    match = re.search(r"^\.\. py:class:: " + re.escape(qualname) + r"\((.*)\)\s*$", text, re.MULTILINE)
    assert match, f"no '.. py:class:: {qualname}(...)' directive found"
    body = text[match.end():].splitlines()
    return match.group(1), body


def _parse_signature(arguments):
    """Parse an rst signature's argument list into ``[(kind, name, default source or None)]``."""
    tree = ast.parse(f"def _f({arguments}):\n    pass\n")
    args = tree.body[0].args
    result = []
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for arg, default in zip(positional, defaults):
        result.append(("POSITIONAL_OR_KEYWORD", arg.arg, None if default is None else ast.unparse(default)))
    if args.vararg:
        result.append(("VAR_POSITIONAL", args.vararg.arg, None))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        result.append(("KEYWORD_ONLY", arg.arg, None if default is None else ast.unparse(default)))
    if args.kwarg:
        result.append(("VAR_KEYWORD", args.kwarg.arg, None))
    return result


def _same_default(source, value):
    """Whether a default written in a page (``source``) denotes the real default ``value``."""
    if source is None:
        return value is inspect.Parameter.empty
    if value is inspect.Parameter.empty:
        return False
    try:
        literal = ast.literal_eval(source)
    except ValueError:
        # a name such as rademacher_probe or mstype.float32
        last = source.rsplit(".", 1)[-1]
        return getattr(value, "__name__", None) == last or str(value).lower() == last.lower()
    return type(literal) is type(value) and literal == value


def _signature_mismatches(documented, obj):
    """Differences between a parsed page signature and the real one, as readable strings."""
    real = list(inspect.signature(obj).parameters.values())
    if [name for _, name, _ in documented] != [param.name for param in real]:
        return [f"names {[name for _, name, _ in documented]} != {[param.name for param in real]}"]
    problems = []
    for (kind, name, source), param in zip(documented, real):
        if kind != param.kind.name:
            problems.append(f"{name}: kind {kind} != {param.kind.name}")
        if not _same_default(source, param.default):
            problems.append(f"{name}: default {source} != {param.default!r}")
    return problems


def _resolve(qualname):
    """Import the object named by a dotted path."""
    parts = qualname.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(qualname)


def _cn_directives():
    """Every top-level ``py:class``/``py:function`` of the Chinese pages: (page, kind, name, arguments, body)."""
    found = []
    for root, _, files in os.walk(CN_API_DIR):
        for file_name in sorted(files):
            if not file_name.endswith(".rst"):
                continue
            page = os.path.join(root, file_name)
            lines = _read(page).splitlines()
            for index, line in enumerate(lines):
                match = re.match(r"^\.\. py:(class|function):: ([\w.]+)\((.*)\)\s*$", line)
                if not match:
                    continue
                end = index + 1
                while end < len(lines) and (not lines[end] or lines[end].startswith(" ")):
                    end += 1
                found.append((os.path.relpath(page, DOCS_DIR), match.group(1), match.group(2), match.group(3),
                              lines[index + 1:end]))
    return found


def _cn_section_names(body, title, indent=4):
    """Names in the ``- **name** (type) - ...`` items of a Chinese section such as ``参数：``.

    Only sections of the object itself count (``indent`` spaces deep), not those of nested methods.
    """
    names, inside = [], False
    for line in body:
        depth = len(line) - len(line.lstrip(" "))
        stripped = line.strip()
        if depth == indent and re.fullmatch(r"(\S+)：", stripped):
            inside = stripped[:-1] == title
            continue
        if depth <= indent and stripped:
            inside = False
        item = re.match(r"^- \*\*(.+?)\*\* ", stripped) if inside and depth == indent + 4 else None
        if item:
            names.append(item.group(1).replace("\\", "").lstrip("*"))
    return names


def _cn_description(body):
    """The first paragraph of the class description (before any section or directive)."""
    lines = []
    for line in body:
        stripped = line.strip()
        if not stripped:
            if lines:
                break
            continue
        lines.append(stripped)
    return "".join(lines)


def _cn_section_lines(body, title, indent=4):
    """Lines of a Chinese section such as ``样例：`` of the object itself, de-indented, without trailing blanks."""
    start = body.index(" " * indent + title + "：") + 1
    section = []
    for line in body[start:]:
        if line.strip() and len(line) - len(line.lstrip(" ")) <= indent:
            break
        section.append(line[indent + 4:] if line.strip() else "")
    while section and not section[-1]:
        section.pop()
    return section


def _en_section(doc, title):
    """Lines of a Google-style docstring section, de-indented."""
    lines = inspect.cleandoc(doc).splitlines()
    start = lines.index(title + ":") + 1
    section = []
    for line in lines[start:]:
        if line and not line.startswith(" "):
            break
        section.append(line)
    while section and not section[-1].strip():
        section.pop()
    indents = [len(line) - len(line.lstrip()) for line in section if line.strip()]
    return [line[min(indents):] if line.strip() else "" for line in section]


def _en_args(doc):
    names = []
    for line in _en_section(doc, "Args"):
        match = re.match(r"^(\*{0,2}\w+)( \(.*?\))?:", line)
        if match:
            names.append(match.group(1).lstrip("*"))
    return names


def _en_inputs(doc):
    return [re.match(r"^- \*\*(.+?)\*\*", line).group(1).replace("\\", "").lstrip("*")
            for line in _en_section(doc, "Inputs") if line.startswith("- **")]


def _en_raises(doc):
    return [line.split(":")[0] for line in _en_section(doc, "Raises") if re.match(r"^\w+Error:", line)]


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_cn_page_signature_matches_class():
    """
    Feature: Chinese API page of mindflow.cell.AdaHessian.
    Description: Parse the signature written in the page's py:class directive and compare it with
        inspect.signature of the real class.
    Expectation: Same parameter names, order, kinds and default values.
    """
    arguments, _ = _class_directive(_read(CN_CELL_PAGE), "mindflow.cell.AdaHessian")
    documented = _parse_signature(arguments)
    assert documented[0][1] == "params"
    assert not _signature_mismatches(documented, cell.AdaHessian)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_cn_page_arguments_match_docstring_and_signature():
    """
    Feature: Chinese API page of mindflow.cell.AdaHessian.
    Description: Collect the parameters listed under 参数 in the page, the Args of the English
        docstring and the names of the signature.
    Expectation: The three sets are equal, and each page lists every parameter once.
    """
    _, body = _class_directive(_read(CN_CELL_PAGE), "mindflow.cell.AdaHessian")
    cn_args = _cn_section_names(body, "参数")
    en_args = _en_args(cell.AdaHessian.__doc__)
    signature = list(inspect.signature(cell.AdaHessian).parameters)
    assert len(cn_args) == len(set(cn_args)), cn_args
    assert len(en_args) == len(set(en_args)), en_args
    assert set(cn_args) == set(signature), set(cn_args) ^ set(signature)
    assert set(en_args) == set(signature), set(en_args) ^ set(signature)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_cn_page_format_and_sections():
    """
    Feature: Chinese API page of mindflow.cell.AdaHessian in upstream's format.
    Description: Check the title, that the description's first sentence ends with a Chinese full stop,
        that the update rule is given in a math directive, that the input and exception sections name
        the same inputs and exception types as the English docstring, that the supported platforms and the
        example are the docstring's, and that the public methods and properties of the class are described.
    Expectation: All format rules hold and the sections agree with the docstring.
    """
    text = _read(CN_CELL_PAGE)
    lines = text.splitlines()
    assert lines[0] == "mindflow.cell.AdaHessian"
    assert set(lines[1]) == {"="} and len(lines[1]) >= len(lines[0])
    _, body = _class_directive(text, "mindflow.cell.AdaHessian")
    description = _cn_description(body)
    assert description.endswith("。"), description
    assert "    .. math::" in body
    for title in ("参数", "输入", "输出", "异常", "支持平台", "样例"):
        assert f"    {title}：" in body, f"section {title} missing"
    doc = cell.AdaHessian.__doc__
    assert _cn_section_lines(body, "支持平台") == _en_section(doc, "Supported Platforms")
    assert _cn_section_lines(body, "样例") == _en_section(doc, "Examples")
    assert _cn_section_names(body, "输入") == _en_inputs(doc)
    assert set(_cn_section_names(body, "异常")) == set(_en_raises(doc))
    # public methods and properties (autodoc lists them on the English page; construct is the step itself)
    public = {name for name, value in vars(cell.AdaHessian).items()
              if not name.startswith("_") and name != "construct" and (callable(value) or isinstance(value, property))}
    members = {match.group(1) for match in re.finditer(r"^    \.\. py:(?:method|property):: (\w+)", text, re.MULTILINE)}
    assert members == public, members ^ public


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_core_alias_page():
    """
    Feature: mindflow.core.AdaHessian, the upstream-compatible name.
    Description: The English and Chinese alias pages declare mindflow.core.AdaHessian with the class's
        signature and refer to the cell class.
    Expectation: The alias is the same class object; each page shows its real signature (not the
        metaclass' ``*args, **kwargs``) and links to mindflow.cell.AdaHessian.
    """
    assert core.AdaHessian is cell.AdaHessian
    for page in (CN_CORE_PAGE, EN_CORE_PAGE):
        arguments, body = _class_directive(_read(page), "mindflow.core.AdaHessian")
        assert not _signature_mismatches(_parse_signature(arguments), core.AdaHessian), page
        assert ":class:`mindflow.cell.AdaHessian`" in "\n".join(body)
    assert _cn_description(_class_directive(_read(CN_CORE_PAGE), "mindflow.core.AdaHessian")[1]).endswith("。")


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_every_cn_page_matches_its_object():
    """
    Feature: All hand-written Chinese API pages under docs/api_python.
    Description: For every top-level py:class and py:function directive, import the object it names and
        compare the written signature with inspect.signature, and the parameters listed under 参数 with the
        signature and with the Args of the English docstring.
    Expectation: Every page names an existing object with the same signature, defaults and parameters.
    """
    directives = _cn_directives()
    assert {"mindflow.cell.AdaHessian", "mindflow.core.AdaHessian"} <= {entry[2] for entry in directives}
    for page, _, qualname, arguments, body in directives:
        obj = _resolve(qualname)
        mismatches = _signature_mismatches(_parse_signature(arguments), obj)
        assert not mismatches, f"{page}: {qualname}: {mismatches}"
        if qualname in ALIAS_PAGES:
            assert obj is _resolve(ALIAS_PAGES[qualname]), qualname
            continue  # its sections are on the class's own page (test_core_alias_page)
        signature = set(inspect.signature(obj).parameters)
        cn_args = _cn_section_names(body, "参数")
        assert len(cn_args) == len(set(cn_args)), f"{page}: {qualname}: {cn_args}"
        assert set(cn_args) == signature, f"{page}: {qualname}: {set(cn_args) ^ signature}"
        assert set(_en_args(obj.__doc__)) == signature, f"{qualname}: English Args differ from the signature"
        assert _cn_description(body).endswith("。"), f"{page}: {qualname}: first sentence must end with 。"


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_helper_module_pages_are_complete():
    """
    Feature: Chinese pages of the Hutchinson helper modules.
    Description: Compare the functions documented on each module's Chinese page with the functions the
        module exports in __all__ (which autodoc publishes on the English page).
    Expectation: Each public function of the module has exactly one Chinese description.
    """
    documented = [qualname for _, kind, qualname, _, _ in _cn_directives() if kind == "function"]
    for module_name in HELPER_MODULES:
        module = importlib.import_module(module_name)
        public = {f"{module_name}.{name}" for name in module.__all__ if inspect.isfunction(getattr(module, name))}
        on_page = [qualname for qualname in documented if qualname.rsplit(".", 1)[0] == module_name]
        assert sorted(on_page) == sorted(public), module_name


def _sphinx_build(out_dir, *extra):
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", *extra, DOCS_DIR, out_dir]
    env = dict(os.environ, GLOG_v="3", PYTHONPATH=REPO_ROOT)
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
                          check=False)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
@pytest.mark.skipif(importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("myst_parser") is None,
                    reason="sphinx and myst-parser (the 'docs' extra) are not installed")
def test_sphinx_site_builds_without_warnings(tmp_path):
    """
    Feature: Bilingual documentation site.
    Description: Build the English (autodoc) and the Chinese (hand-written) sites with sphinx-build -W
        into a temporary folder.
    Expectation: Both builds succeed without any warning, the AdaHessian pages carry the signature's
        arguments and the update rule, and every page links to the same page of the other language's site
        (built next to it, as the Makefile does), or to its root where it has no counterpart.
    """
    pages = {
        "en": ("api_python_en/mindflow/cell/mindflow.cell.AdaHessian.html", ()),
        "zh_cn": ("api_python/mindflow/cell/mindflow.cell.AdaHessian.html", ("-t", "zh_cn")),
    }
    for language, (page, extra) in pages.items():
        out_dir = str(tmp_path / language)
        result = _sphinx_build(out_dir, *extra)
        assert result.returncode == 0, f"{language} build failed:\n{result.stdout}\n{result.stderr}"
        html = _read(os.path.join(out_dir, page))
        text = re.sub(r"<[^>]+>", "", html)
        for name in inspect.signature(cell.AdaHessian).parameters:
            assert name in text, f"{name} missing from the {language} page"
        # the signature line shows the real arguments, not the metaclass' (*args, **kwargs)
        assert "AdaHessian(params, learning_rate=" in text, f"wrong signature on the {language} page"
        assert 'class="math' in html, f"no math on the {language} page"
        if importlib.util.find_spec("sphinx-mathjax-offline") is not None:
            assert os.path.isfile(os.path.join(out_dir, "_static", "mathjax", "tex-chtml.js"))
    _check_language_links(str(tmp_path))


_LANGUAGE_LINK = re.compile(r'<a class="language-switch" href="([^"]+)"')
# Pages that have the same content in both languages: each must link to its own counterpart.
_COUNTERPARTS = {"index.html": "index_CN.html", "guide/adahessian.html": "guide/adahessian_CN.html"}


def _check_language_links(root):
    """Every page of each site links to a page of the other site that exists: the same page where it has one."""
    sites = {"en": "zh_cn", "zh_cn": "en"}
    for site, other in sites.items():
        pages = []
        for directory, folders, files in os.walk(os.path.join(root, site)):
            folders[:] = [name for name in folders if not name.startswith("_") or name == "_modules"]
            pages += [os.path.join(directory, name) for name in files if name.endswith(".html")]
        assert pages, site
        for page in pages:
            links = _LANGUAGE_LINK.findall(_read(page))
            relative = os.path.relpath(page, os.path.join(root, site)).replace(os.sep, "/")
            assert len(links) == 1, f"{site}/{relative}: {len(links)} language links"
            target = os.path.normpath(os.path.join(os.path.dirname(page), links[0]))
            assert os.path.isfile(target), f"{site}/{relative} links to {links[0]}, which does not exist"
            target_relative = os.path.relpath(target, os.path.join(root, other)).replace(os.sep, "/")
            assert not target_relative.startswith(".."), f"{site}/{relative}: {links[0]} is not in the {other} site"
            english = relative if site == "en" else target_relative
            chinese = target_relative if site == "en" else relative
            if english.startswith("api_python_en/"):
                assert chinese == "api_python/" + english[len("api_python_en/"):], (english, chinese)
            if english in _COUNTERPARTS:
                assert chinese == _COUNTERPARTS[english], (english, chinese)


def _python_blocks(markdown):
    return re.findall(r"^```python\n(.*?)^```", markdown, re.MULTILINE | re.DOTALL)


def _without_comments(code):
    return [re.sub(r"\s*#.*$", "", line) for line in code.splitlines()]


@pytest.mark.level1
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_guide_example_runs(tmp_path):
    """
    Feature: PINN example of the AdaHessian user guide, its training loop with hessian_inputs, and its training
        with mindspore.train.Model.
    Description: Take the three Python blocks from the English guide, check that the Chinese guide shows the same
        code, and run the example, then the example with its loop replaced by the hessian_inputs loop and by the
        Model block, with fewer steps, each in a fresh process.
    Expectation: All run unchanged apart from the step count, and their loss goes down.
    """
    english, chinese = (_python_blocks(_read(path)) for path in GUIDES)
    assert len(english) == len(chinese) == 3
    for english_block, chinese_block in zip(english, chinese):
        assert _without_comments(english_block) == _without_comments(chinese_block)
    example = english[0]
    subset_loop = next(block for block in english if "hessian_inputs=" in block)
    model_block = next(block for block in english if "Model(TrainStep(" in block)
    loop_start = "for step in range(2001):"
    assert loop_start in example and "step % 500 == 0" in example
    assert "steps = 2000" in model_block and "LossMonitor(500)" in model_block
    # the other blocks replace the example's training loop
    head = example[:example.index(loop_start)]
    variants = {"example": example, "hessian_inputs": head + subset_loop, "model": head + model_block}
    for name, code in variants.items():
        code = code.replace("range(2001)", "range(101)").replace("step % 500 == 0", "step % 50 == 0")
        code = code.replace("steps = 2000", "steps = 100").replace("LossMonitor(500)", "LossMonitor(50)")
        script = tmp_path / f"guide_{name}.py"  # MindSpore compiles from source files, not from `python -c`
        script.write_text(code, encoding="utf-8")
        env = dict(os.environ, GLOG_v="3", PYTHONPATH=REPO_ROOT)
        result = subprocess.run([sys.executable, str(script)], cwd=str(tmp_path), env=env, capture_output=True,
                                text=True, timeout=900, check=False)
        assert result.returncode == 0, name + ": " + result.stdout + result.stderr
        pattern = r"loss is (\S+)$" if name == "model" else r"^step \d+: loss (\S+)$"
        losses = [float(value) for value in re.findall(pattern, result.stdout, re.MULTILINE)]
        assert len(losses) == (2 if name == "model" else 3), name + ": " + result.stdout
        assert losses[-1] < losses[0], (name, losses)
