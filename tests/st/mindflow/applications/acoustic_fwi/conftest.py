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
"""Make the acoustic FWI application importable as in its own folder (``from src... import ...``)."""
import os
import sys

from app_modules import use_application

# tests/st/mindflow/applications/acoustic_fwi -> repository root is five levels up.
_REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *([os.pardir] * 5)))
APP_DIR = os.path.join(_REPO_ROOT, "applications", "cfd", "acoustic_fwi")
for _path in (APP_DIR, _REPO_ROOT):
    if _path not in sys.path:
        sys.path.insert(0, _path)
os.environ.setdefault("MS_DEV_HOST_BLOCKING_RUN", "1")

# this application's src, train and eval, also when another application's tests share the process
pytest_make_collect_report, application = use_application(APP_DIR)
