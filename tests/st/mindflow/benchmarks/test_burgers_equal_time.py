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
"""Tests of ``benchmarks/burgers/equal_time.py``: the yardsticks of the equal-time study and its recipes."""
import json
import os

import numpy as np
import pytest

from script_loader import load_script



def _equal_time():
    return load_script("benchmarks/burgers/equal_time.py", "burgers_equal_time")


def _result(recipe, seed, times, errors, step=100):
    return {"recipe": recipe, "seed": seed, "steps": step * (len(times) - 1), "train_time_s": times[-1],
            "seconds_per_step": times[-1] / (step * (len(times) - 1)), "final_rel_l2_error": errors[-1],
            "history": {"step": [step * i for i in range(len(times))], "train_time_s": times,
                        "rel_l2_error": errors, "loss_total": [1.0] * len(times)}}


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_yardsticks_of_equal_time_and_equal_steps():
    """
    Feature: summarize() of equal_time.py.
    Description: a reference of three seeds (median time 30 s, 300 steps), a recipe twice as slow per step
        whose error keeps falling, one seed with a missing (diverged) evaluation, and a run of 200 steps.
    Expectation: the budget is the reference's median; each recipe is read at its last evaluation within the
        budget's time and within its steps (none for a run that stopped earlier); missing errors are skipped.
    """
    module = _equal_time()
    found = {
        "ref": [_result("ref", s, [0, 10 + s, 20 + s, 30 + s], [1, 0.5, 0.3, 0.2 + 0.01 * s]) for s in (-1, 0, 1)],
        "slow": [_result("slow", 0, [0, 20, 40, 60, 80, 100], [1, 0.4, 0.2, 0.1, 0.05, 0.01]),
                 _result("slow", 1, [0, 20, 40, 60, 80, 100], [1, 0.6, None, 0.3, 0.2, 0.1])],
        "short": [_result("short", 0, [0, 10, 20], [1, 0.5, 0.25])],
    }
    summary = module.summarize(found, "ref")
    assert summary["budget_time_s"] == 30 and summary["budget_steps"] == 300
    slow = summary["rows"]["slow"]
    assert slow["at_time"] == [0.4, 0.6]         # 20 s is the last evaluation within 30 s
    assert slow["at_steps"] == [0.1, 0.3]        # step 300
    assert slow["final"] == [0.01, 0.1]
    assert slow["steps_in_budget"] == [100, 100]
    short = summary["rows"]["short"]
    assert short["at_time"] == [0.25] and np.isnan(short["at_steps"][0])  # it stopped at step 200 < 300
    ref = summary["rows"]["ref"]
    assert ref["at_time"] == [0.19, 0.2, 0.3]    # the slowest seed's last evaluation came after the budget
    with pytest.raises(SystemExit, match="no results of the reference recipe"):
        module.summarize({"slow": found["slow"]}, "ref")


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_claims_share_the_work_and_results_are_kept(tmp_path):
    """
    Feature: several `equal_time.py run` commands sharing the pairs.
    Description: claim a pair twice, release it, then claim one whose result exists.
    Expectation: the second claim is refused while the first holds; a pair with a result is never claimed.
    """
    module = _equal_time()
    claim = module.claim_pair(str(tmp_path), "adam", 0)
    assert claim is not None and os.path.exists(claim)
    assert module.claim_pair(str(tmp_path), "adam", 0) is None
    os.remove(claim)
    path = module.result_path(str(tmp_path), "adam", 1)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({}, handle)
    assert module.claim_pair(str(tmp_path), "adam", 1) is None


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.env_onecard
def test_every_hypothesis_names_known_recipes_and_runs_train_py_options(monkeypatch):
    """
    Feature: benchmarks/burgers/recipes.yaml.
    Description: read the recipes and hypotheses, and parse every recipe's command line with train.py's parser.
    Expectation: every hypothesis and the reference name existing recipes, and train.py accepts each command.
    """
    module = _equal_time()
    monkeypatch.syspath_prepend(module.APP_DIR)  # train.py imports the application's src package
    recipes, hypotheses, reference = module.load_recipes()
    assert reference in recipes
    for entry in hypotheses.values():
        assert set(entry["recipes"]) <= set(recipes) and entry.get("reference", reference) in recipes
    train = load_script(os.path.join(module.APP_DIR, "train.py"), "burgers_train_for_recipes")
    for recipe in recipes.values():
        args = train.parse_args(module.train_command(recipe, 0, "out")[2:])
        assert args.optimizer == recipe["optimizer"] and args.overrides == recipe.get("overrides", [])
