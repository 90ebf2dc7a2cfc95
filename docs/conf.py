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
"""Sphinx configuration of the MindFlow AdaHessian documentation.

One source folder builds two sites, as upstream MindFlow publishes its documents:

* English (default): ``sphinx-build -W -b html docs docs/_build/html/en``. The API pages under
  ``api_python_en/`` are generated from the docstrings by autodoc.
* Chinese: ``sphinx-build -W -b html -t zh_cn docs docs/_build/html/zh_cn``. The API pages under
  ``api_python/`` are written by hand in upstream's format.

Each language leaves out the other language's API pages, so an object is described once per site
(both sites carry both user guides, which link to each other). Math is rendered by MathJax served
from the built site itself (``sphinx-mathjax-offline``), so the pages need no network; without that
package the standard MathJax extension is used, whose pages load MathJax from its CDN when they are
viewed (the build itself never needs the network).
References to MindSpore's own API (``mindspore.nn.Adam``) become links to its pages on mindspore.cn,
since intersphinx would need to download MindSpore's inventory.
"""
# Sphinx reads its settings from lower-case module globals.
# pylint: disable=invalid-name
import ast
import importlib.util
import inspect
import os
import re
import sys
import textwrap

from docutils import nodes
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

DOCS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(DOCS_DIR)
# Document the source tree next to this file, not whatever mindflow happens to be installed.
sys.path.insert(0, REPO_ROOT)

# Keep MindSpore's logging quiet while autodoc imports mindflow.
os.environ.setdefault("GLOG_v", "3")

# `tags` is injected into this namespace by sphinx-build (`-t zh_cn`).
CHINESE = "zh_cn" in tags  # pylint: disable=undefined-variable  # noqa: F821

project = "MindFlow AdaHessian"
author = "The MindSpore Authors"
copyright = "2026, Huawei Technologies Co., Ltd"  # pylint: disable=redefined-builtin


def _read_version():
    scope = {}
    with open(os.path.join(REPO_ROOT, "mindflow", "version.py"), encoding="utf-8") as handle:
        exec(handle.read(), scope)  # pylint: disable=exec-used
    return scope["__version__"]


release = _read_version()
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "myst_parser",
]
if importlib.util.find_spec("sphinx-mathjax-offline") is not None:
    # Copies MathJax 3 into _static/ and points mathjax_path at it: math renders offline.
    extensions += ["sphinx.ext.mathjax", "sphinx-mathjax-offline"]
else:
    extensions += ["sphinx.ext.mathjax"]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
html_static_path = ["_static"]  # custom.css, which alabaster links on every page

# Each site holds the pages of its language; every page links to the same page of the other site
# (_language_switch below), which the Makefile builds next to it (_build/html/en and _build/html/zh_cn).
_ENGLISH_ONLY = ["index.rst", "api_python_en/**", "guide/adahessian.md"]
_CHINESE_ONLY = ["index_CN.rst", "api_python/**", "guide/adahessian_CN.md"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "Makefile", "conf.py"]
if CHINESE:
    language = "zh_CN"
    root_doc = "index_CN"
    exclude_patterns += _ENGLISH_ONLY
else:
    language = "en"
    root_doc = "index"
    exclude_patterns += _CHINESE_ONLY

# -- autodoc / napoleon (Google-style docstrings, as in MindSpore and MindFlow) ------------
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_preserve_defaults = True  # show probe_fn=rademacher_probe, not a function repr
autodoc_default_options = {"show-inheritance": False}
autosummary_generate = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_custom_sections = ["Inputs", "Outputs", "Supported Platforms"]


def _source_signature(function, drop_first):
    """The signature of ``function`` with its defaults written as in the source (``1e-3``, not ``0.001``)."""
    source = textwrap.dedent(inspect.getsource(function))
    args = ast.parse(source).body[0].args

    def text(node):
        return ast.get_source_segment(source, node)

    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = list(zip(positional, defaults))[1 if drop_first else 0:]
    parts = [arg.arg if default is None else f"{arg.arg}={text(default)}" for arg, default in pairs]
    if args.vararg:
        parts.append("*" + args.vararg.arg)
    elif args.kwonlyargs:
        parts.append("*")
    parts += [arg.arg if default is None else f"{arg.arg}={text(default)}"
              for arg, default in zip(args.kwonlyargs, args.kw_defaults)]
    if args.kwarg:
        parts.append("**" + args.kwarg.arg)
    return "(" + ", ".join(parts) + ")"


def _real_class_signature(app, what, name, obj, options, signature, return_annotation):
    """Give classes their __init__ signature where autodoc only finds ``(*args, **kwargs)``.

    MindSpore's Cell is created through a metaclass ``__call__`` that takes ``*args, **kwargs``;
    autodoc reports that generic signature, while the class is constructed by ``__init__``.
    """
    del app, name, options
    if what == "class" and signature in ("(*args, **kwargs)", "(*args: Any, **kwargs: Any)"):
        try:
            return _source_signature(obj.__init__, drop_first=True), return_annotation
        except (OSError, TypeError, SyntaxError, IndexError, AttributeError):
            return str(inspect.signature(obj)), return_annotation
    return None


# MindSpore's objects inventory cannot be fetched offline (no intersphinx): references such as
# :class:`mindspore.nn.Adam` become plain links to MindSpore's API pages instead.
MINDSPORE_API = "https://www.mindspore.cn/docs/{lang}/master/api_python/{folder}/{name}.html"


def _mindspore_link(app, env, node, contnode):
    """Resolve a Python reference to a ``mindspore.*`` object as a link to its page on mindspore.cn."""
    del env
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("mindspore."):
        return None
    parts = target.split(".")
    if len(parts) > 3:  # an implementation path (mindspore.nn.optim.optimizer.Optimizer): use the public name
        parts = parts[:2] + parts[-1:]
        target = ".".join(parts)
    folder = parts[1] if len(parts) > 2 else "mindspore"
    lang = "zh-CN" if app.config.language == "zh_CN" else "en"
    reference = nodes.reference("", "", internal=False, refuri=MINDSPORE_API.format(lang=lang, folder=folder,
                                                                                        name=target))
    reference += contnode
    return reference


# The guides show figures that the applications write when they are run. A figure that has not been
# produced (or committed) yet is left out of the page with a note in the build log, so that the site,
# and the test that builds it with -W, do not depend on having run an application first.
_APPLICATION_FIGURE = re.compile(r"^!\[[^\]]*\]\((?P<path>(?:\.\./)+applications/[^)\s]+)\)[ \t]*$", re.MULTILINE)


def _drop_missing_figures(app, docname, source):
    """Remove Markdown image lines that point to application figures which do not exist."""
    folder = os.path.dirname(app.env.doc2path(docname))

    def keep_if_present(match):
        if os.path.isfile(os.path.join(folder, match.group("path"))):
            return match.group(0)
        LOGGER.info("%s: figure %s not found (run the application to produce it); left out",
                    docname, match.group("path"))
        return ""

    source[0] = _APPLICATION_FIGURE.sub(keep_if_present, source[0])


# The Markdown guides start with a link to the other language's file, for readers on Gitee; the site has its
# own switch on every page, so the line is left out there.
_GUIDE_LANGUAGE_LINK = re.compile(r"^\[(?:中文|English)\]\(\./adahessian(?:_CN)?\.md\)[ \t]*\n", re.MULTILINE)


def _drop_guide_language_link(app, docname, source):
    del app
    if docname.startswith("guide/"):
        source[0] = _GUIDE_LANGUAGE_LINK.sub("", source[0], count=1)


# Pages of one site and their counterparts in the other: (English page, Chinese page) name prefixes.
_PAGE_PAIRS = (("index", "index_CN"), ("guide/adahessian", "guide/adahessian_CN"),
               ("api_python_en/", "api_python/"), ("genindex", "genindex"), ("search", "search"))


def other_language_page(pagename, chinese):
    """The name of ``pagename``'s counterpart in the other language's site (its root page if it has none)."""
    for english, chinese_name in _PAGE_PAIRS:
        here, there = (chinese_name, english) if chinese else (english, chinese_name)
        if here.endswith("/") and pagename.startswith(here):
            return there + pagename[len(here):]
        if pagename == here:
            return there
    return "index" if chinese else "index_CN"


def _language_switch(app, pagename, templatename, context, doctree):
    """Give the page template the link to the same page in the other language (``other_language``)."""
    del app, templatename, doctree
    chinese = CHINESE
    up = "../" * (pagename.count("/") + 1)  # from this page to the folder above this site
    folder = "en" if chinese else "zh_cn"
    context["other_language"] = {"url": f"{up}{folder}/{other_language_page(pagename, chinese)}.html",
                                 "label": "English" if chinese else "中文", "lang": "en" if chinese else "zh-CN"}


def setup(app):
    """Sphinx extension hook of this project."""
    app.connect("autodoc-process-signature", _real_class_signature)
    app.connect("missing-reference", _mindspore_link)
    app.connect("source-read", _drop_missing_figures)
    app.connect("source-read", _drop_guide_language_link)
    app.connect("html-page-context", _language_switch)

# -- MyST (the user guides are Markdown, readable on Gitee as they are) -------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# -- HTML -----------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = "MindFlow AdaHessian " + release
html_show_sourcelink = False
html_theme_options = {"description": "二阶优化器 AdaHessian" if CHINESE else "The AdaHessian second-order optimizer",
                      # wide enough for code lines of 88 characters, the examples' limit
                      "page_width": "1180px", "sidebar_width": "230px"}
