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
"""Tests of the Burgers application's configuration loading and command-line overrides."""
import pytest

from src.config import apply_override, load_config, parse_yaml


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
@pytest.mark.parametrize("text, expected", [
    ("1e-6", 1e-6), ("1.0e-4", 1e-4), ("-2E+3", -2000.0), ("5e3", 5000.0), ("0.5", 0.5), ("3", 3),
    ("true", True), ("cosine", "cosine"), ("1e-6x", "1e-6x"), ("[0.1, 1e-2]", [0.1, 0.01]),
])
def test_parse_yaml_reads_exponent_numbers(text, expected):
    """
    Feature: YAML values of the Burgers configuration.
    Description: parse scalars, including exponent numbers without a dot such as 1e-6 (a string in plain
        PyYAML, which follows YAML 1.1), and strings that only look numeric.
    Expectation: numbers come back as int/float of the right value and type; other text is unchanged.
    """
    value = parse_yaml(text)
    assert value == expected
    assert type(value) is type(expected)  # pylint: disable=unidiomatic-typecheck


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_config_file_and_override_give_float_eps(tmp_path):
    """
    Feature: profile loading and the --set KEY=VALUE overrides of train.py.
    Description: load a config file that writes eps as 1e-6, override it with ...eps=1e-7, and pass overrides
        without '=', with an empty key or with an empty part of the key.
    Expectation: both values arrive as floats, so AdaHessian's argument check accepts them; bad overrides
        raise ValueError.
    """
    path = tmp_path / "burgers.yaml"
    path.write_text("common:\n  optimizers:\n    adahessian:\n      eps: 1e-6\n"
                    "profiles:\n  tiny: {}\ndefault_profile: tiny\n", encoding="utf-8")
    config = load_config(str(path))
    assert config["optimizers"]["adahessian"]["eps"] == pytest.approx(1e-6)
    assert isinstance(config["optimizers"]["adahessian"]["eps"], float)

    apply_override(config, "optimizers.adahessian.eps=1e-7")
    apply_override(config, "optimizers.adam.lr_schedule=cosine")
    assert config["optimizers"]["adahessian"]["eps"] == pytest.approx(1e-7)
    assert isinstance(config["optimizers"]["adahessian"]["eps"], float)
    assert config["optimizers"]["adam"]["lr_schedule"] == "cosine"
    for bad in ("optimizers.adahessian.eps", "=1e-7", "optimizers..eps=1e-7"):
        with pytest.raises(ValueError, match="is not KEY=VALUE"):
            apply_override(config, bad)
