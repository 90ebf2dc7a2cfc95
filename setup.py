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
"""Install the ``mindflow`` package.

As in upstream MindFlow, the distribution name comes from the ``ME_PACKAGE_NAME``
environment variable (``mindflow_cpu`` by default), so one source tree can be
published as ``mindflow_gpu``/``mindflow_ascend`` builds as well.
"""
import os

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def _read_version():
    scope = {}
    with open(os.path.join(HERE, "mindflow", "version.py"), encoding="utf-8") as handle:
        exec(handle.read(), scope)  # pylint: disable=exec-used
    return scope["__version__"]


def _read_readme():
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as handle:
        return handle.read()


def _read_requirements():
    with open(os.path.join(HERE, "requirements.txt"), encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith("#")]


setup(
    name=os.getenv("ME_PACKAGE_NAME", "mindflow_cpu"),
    version=_read_version(),
    author="The MindSpore Authors",
    url="https://gitee.com/mindspore/mindscience/tree/master/MindFlow/",
    description="MindFlow: physics-AI suite of MindSpore, with the AdaHessian second-order optimizer",
    long_description=_read_readme(),
    long_description_content_type="text/markdown",
    license="Apache 2.0",
    packages=find_packages(include=["mindflow", "mindflow.*"]),
    python_requires=">=3.9",
    install_requires=_read_requirements(),
    extras_require={
        "app": ["PyYAML>=6", "tqdm>=4.60", "matplotlib>=3.7", "scipy>=1.10"],
        # the test suite also builds the documentation site and executes the application's notebooks
        "test": ["pytest>=7", "pytest-xdist>=3", "scipy>=1.10", "PyYAML>=6", "tqdm>=4.60", "matplotlib>=3.7",
                 "sphinx>=7", "myst-parser>=2", "sphinx-mathjax-offline>=0.0.2",
                 "nbformat>=5.9", "nbclient>=0.10", "ipykernel>=6.29"],
        "docs": ["sphinx>=7", "myst-parser>=2", "sphinx-mathjax-offline>=0.0.2"],
        "lint": ["pylint==4.1.4", "pymarkdownlnt==0.9.41"],  # pinned: lint results must not drift
    },
    classifiers=[
        "License :: OSI Approved :: Apache Software License",
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Physics",
    ],
)
