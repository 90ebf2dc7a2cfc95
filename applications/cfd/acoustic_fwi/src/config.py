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
"""Profile-aware loading of the YAML configuration of the acoustic FWI application.

The file has a ``common`` section shared by every profile and a ``profiles`` mapping; the selected
profile is merged recursively over ``common``, so a profile only states what it changes.
"""
import copy
import re

import yaml



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
        raise ValueError(f"override {assignment!r} is not KEY=VALUE, e.g. optimizers.adam.learning_rate=0.01")
    node = config
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = parse_yaml(text)


OPTIMIZER_NAMES = ("adam", "adahessian", "lbfgs")
MODEL_KINDS = ("layered", "marmousi_like")
SCHEDULES = ("constant", "cosine", "exponential")


def selected_optimizers(choice):
    """Map the ``--optimizer`` value (a name, a comma-separated list or ``all``) to a tuple of names."""
    names = OPTIMIZER_NAMES if choice == "all" else tuple(part.strip() for part in choice.split(","))
    unknown = [name for name in names if name not in OPTIMIZER_NAMES]
    if unknown or not names:
        raise ValueError(f"unknown optimizer {choice!r}; choose from {OPTIMIZER_NAMES + ('all',)} or a list")
    return names


def _positive(config, section, key, kind=float):
    """``config[section][key]`` as a positive ``kind``; ValueError naming the entry otherwise."""
    try:
        value = config[section][key]
    except KeyError:
        raise ValueError(f"config entry {section}.{key} is missing") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
        what = "an integer" if kind is int else "a number"
        raise ValueError(f"config entry {section}.{key} must be {what}, but got {value!r}")
    if value <= 0:
        raise ValueError(f"config entry {section}.{key} must be > 0, but got {value!r}")
    return kind(value)


def validate_config(config):
    """Check the entries an inversion needs before anything is compiled.

    Raises:
        ValueError: naming the first entry that is missing, of the wrong type or out of range: sizes, time step
            (stability: ``vmax * dt / spacing`` <= 0.6), survey inside the model, model kind, velocity bounds,
            optimizer sections and their learning-rate schedules.
    """
    for section in ("grid", "time", "survey", "model", "inversion", "train", "optimizers"):
        if not isinstance(config.get(section), dict):
            raise ValueError(f"config section {section!r} is missing or not a mapping")
    nz, nx = _positive(config, "grid", "nz", int), _positive(config, "grid", "nx", int)
    spacing = _positive(config, "grid", "spacing")
    if int(config["grid"].get("sponge_cells", 0)) < 0:
        raise ValueError("config entry grid.sponge_cells must be >= 0")
    _positive(config, "time", "steps", int)
    dt = _positive(config, "time", "dt")
    vmin, vmax = _positive(config, "inversion", "vmin"), _positive(config, "inversion", "vmax")
    if vmin >= vmax:
        raise ValueError(f"inversion.vmin ({vmin}) must be below inversion.vmax ({vmax})")
    courant = 1000.0 * vmax * dt / spacing
    if courant > 0.6:
        raise ValueError(f"time.dt = {dt} is unstable for inversion.vmax = {vmax} km/s: vmax * dt / spacing = "
                         f"{courant:.3f} > 0.6")
    _positive(config, "survey", "shots", int)
    _positive(config, "survey", "peak_frequency")
    for key in ("source_depth", "receiver_depth"):
        depth = config["survey"].get(key)
        if not isinstance(depth, (int, float)) or not 0 <= depth <= (nz - 1) * spacing:
            raise ValueError(f"survey.{key} must lie inside the model, 0 to {(nz - 1) * spacing} m, but got {depth!r}")
    if nx < 2 or nz < 2:
        raise ValueError("the grid needs at least 2 x 2 cells")
    if config["model"].get("kind") not in MODEL_KINDS:
        raise ValueError(f"model.kind must be one of {MODEL_KINDS}, but got {config['model'].get('kind')!r}")
    if not 0 <= int(config["inversion"].get("fixed_rows", 0)) < nz:
        raise ValueError("inversion.fixed_rows must be in [0, grid.nz)")
    _positive(config, "train", "iterations", int)
    for name, section in config["optimizers"].items():
        if name not in OPTIMIZER_NAMES:
            raise ValueError(f"unknown optimizer section optimizers.{name}; known: {OPTIMIZER_NAMES}")
        if not isinstance(section, dict):
            raise ValueError(f"optimizers.{name} must be a mapping of settings")
        if name != "lbfgs":
            _positive(config["optimizers"], name, "learning_rate")
            if section.get("lr_schedule", "constant") not in SCHEDULES:
                raise ValueError(f"optimizers.{name}.lr_schedule must be one of {SCHEDULES}")
    return config
