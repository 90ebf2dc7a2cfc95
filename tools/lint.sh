#!/usr/bin/env bash
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
# Lint the project as upstream MindScience CI does: pylint (rules in .pylintrc, 120-character
# lines) on the Python sources, and a Markdown linter (rules in .pymarkdown.json) on every *.md.
#
# Usage: tools/lint.sh [--python-only | --markdown-only] [PATH ...]
#   With no PATH, pylint checks mindflow/ tests/ applications/ benchmarks/ tools/ docs/conf.py
#   (those that exist) and pymarkdown checks every tracked or new *.md outside ignored folders.
#   PYTHON selects the interpreter (default: .venv/bin/python when it exists, else python3).
# Exit status: 0 when every linter passed, 1 otherwise (all linters run either way).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

run_python=1
run_markdown=1
case "${1:-}" in
    --python-only) run_markdown=0; shift ;;
    --markdown-only) run_python=0; shift ;;
    -h|--help) sed -n '16,23p' "$0"; exit 0 ;;
esac

# Lint the source tree as it is, whether or not the package is installed.
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

status=0

if (( run_python )); then
    py_targets=()
    if (( $# )); then
        for path in "$@"; do [[ $path == *.py || -d $path ]] && py_targets+=("$path"); done
    else
        for path in mindflow tests applications benchmarks tools docs/conf.py conftest.py setup.py; do
            [[ -e $path ]] && py_targets+=("$path")
        done
    fi
    if (( ${#py_targets[@]} )); then
        echo "== pylint ${py_targets[*]}"
        # --recursive finds modules in folders that are not packages (tests, applications). Each application
        # imports its own top-level 'src' package, so the FWI application and its tests get a pylint run of their
        # own: in one run the two 'src' packages would shadow each other.
        fwi=(applications/cfd tests/st/mindflow/applications/acoustic_fwi benchmarks/fwi)
        ignore=".venv,.cache,_build,build,dist,outputs,rank_0,kernel_meta,cfd,acoustic_fwi,fwi"  # .pylintrc's, and fwi
        "$PYTHON" -m pylint --rcfile=.pylintrc --recursive=y --ignore="$ignore" "${py_targets[@]}" || status=1
        if (( ! $# )); then
            echo "== pylint ${fwi[*]}"
            PYTHONPATH="$PWD/applications/cfd/acoustic_fwi:$PWD/tests/st/mindflow:$PYTHONPATH" \
                "$PYTHON" -m pylint --rcfile=.pylintrc --recursive=y "${fwi[@]}" || status=1
        fi
    fi
fi

if (( run_markdown )); then
    md_targets=()
    if (( $# )); then
        for path in "$@"; do [[ $path == *.md || $path == *.MD ]] && md_targets+=("$path"); done
    elif git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # Tracked and new files, without what .gitignore leaves out (.venv, build outputs).
        while IFS= read -r -d '' path; do
            [[ -f $path ]] && md_targets+=("$path")
        done < <(git ls-files -z --cached --others --exclude-standard -- '*.md' '*.MD')
    else
        while IFS= read -r -d '' path; do md_targets+=("$path"); done < <(
            find . \( -name .venv -o -name .git -o -name _build -o -name node_modules \) -prune -o \
                \( -name '*.md' -o -name '*.MD' \) -print0)
    fi
    if (( ${#md_targets[@]} )); then
        echo "== pymarkdown (${#md_targets[@]} files)"
        "$PYTHON" -m pymarkdown --strict-config --config .pymarkdown.json scan "${md_targets[@]}" || status=1
    fi
fi

if (( status )); then echo "lint: FAILED"; else echo "lint: passed"; fi
exit "$status"
