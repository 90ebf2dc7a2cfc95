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
"""Profile-aware loading of the YAML configuration of the Burgers application.

The file has a ``common`` section shared by every profile and a ``profiles`` mapping; the selected
profile is merged recursively over ``common``, so a profile only states what it changes.
"""
import copy
import os
import re

import yaml

OPTIMIZER_NAMES = ("adam", "adahessian")


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader that also reads ``1e-6`` as a float.

    PyYAML follows YAML 1.1, where a float needs a dot, so ``eps: 1e-6`` would arrive as the string
    ``'1e-6'``; YAML 1.2 (and every user) reads it as a number.
    """


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def parse_yaml(text):
    """Parse YAML ``text`` (a string or an open file) safely, with ``1e-6``-style numbers as floats."""
    return yaml.load(text, Loader=_Loader)  # nosec B506: _Loader is a SafeLoader


def deep_merge(base, override):
    """Return a copy of mapping ``base`` with ``override`` merged into it recursively."""
    merged = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_config(path, profile=None):
    """Load ``path`` and resolve one profile.

    Args:
        path (str): YAML file with ``common``, ``profiles`` and optionally ``default_profile``.
        profile (str): Profile name; ``None`` selects ``default_profile``.

    Returns:
        dict, the merged configuration, with the chosen name stored under ``profile``.

    Raises:
        KeyError: If the profile does not exist.
    """
    with open(path, "r", encoding="utf-8") as handle:
        raw = parse_yaml(handle)
    profiles = raw.get("profiles", {})
    name = profile or raw.get("default_profile")
    if name not in profiles:
        raise KeyError(f"profile {name!r} not in {path}; available: {sorted(profiles)}")
    config = deep_merge(raw.get("common", {}), profiles[name] or {})
    config["profile"] = name
    return config


def apply_override(config, assignment):
    """Set ``config[a][b][c] = value`` from ``'a.b.c=value'`` (a ``--set`` option); the value is read as YAML.

    Raises:
        ValueError: If ``assignment`` has no ``=`` or an empty key.
    """
    key, sep, text = assignment.partition("=")
    parts = key.strip().split(".")
    if not sep or not all(parts):
        raise ValueError(f"override {assignment!r} is not KEY=VALUE, e.g. optimizers.adahessian.learning_rate=0.3")
    node = config
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = parse_yaml(text)


def selected_optimizers(choice):
    """Map the ``--optimizer`` value (``adam``, ``adahessian`` or ``both``) to a tuple of names."""
    if choice == "both":
        return OPTIMIZER_NAMES
    if choice not in OPTIMIZER_NAMES:
        raise ValueError(f"unknown optimizer {choice!r}; choose from {OPTIMIZER_NAMES + ('both',)}")
    return (choice,)


def resolve_path(path, base_dir):
    """Return ``path`` unchanged when absolute, else joined to ``base_dir``."""
    return path if os.path.isabs(path) else os.path.join(base_dir, path)
