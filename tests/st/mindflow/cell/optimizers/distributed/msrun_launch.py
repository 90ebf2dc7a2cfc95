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
"""Launching MindSpore's ``msrun`` from tests: a free port, a clean environment, bounded waits.

Used by the data-parallel tests here and by the Burgers application's (its conftest.py puts this folder on
``sys.path``).
"""
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time


def mindflow_root():
    """The folder holding the ``mindflow`` package that this process imports (a checkout or site-packages).

    The workers get it on PYTHONPATH, so they run the same package as the test, wherever the tests sit
    (this project's tree or upstream mindscience's).
    """
    spec = importlib.util.find_spec("mindflow")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the mindflow package is not importable; install it or put its folder on PYTHONPATH")
    return os.path.dirname(os.path.abspath(list(spec.submodule_search_locations)[0]))


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_environment(tmp_path):
    """This environment, minus any cluster settings, with ``python`` being this interpreter.

    Args:
        tmp_path (pathlib.Path): A scratch folder; the ``python`` wrapper is written into ``tmp_path / "bin"``.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    # msrun starts its workers with the 'python' found on PATH; a wrapper (not a link, which would
    # lose a virtual environment) makes that this interpreter.
    wrapper = bin_dir / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("MS_") and key not in ("RANK_ID", "RANK_SIZE")}
    env["PATH"] = str(bin_dir) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = os.pathsep.join(path for path in (mindflow_root(), env.get("PYTHONPATH")) if path)
    env["GLOG_v"] = "3"
    return env


def msrun_command(ranks, log_dir, script_args, cluster_timeout_s=60):
    """The command that starts ``ranks`` workers on 127.0.0.1 and waits for them (``--join=True``)."""
    return [sys.executable, "-m", "mindspore.parallel.cluster.run", f"--worker_num={ranks}",
            f"--local_worker_num={ranks}", "--master_addr=127.0.0.1", f"--master_port={free_port()}",
            "--join=True", f"--cluster_time_out={cluster_timeout_s}", f"--log_dir={log_dir}"] + list(script_args)


def msrun_logs(log_dir, ranks):
    """The scheduler's and every worker's log file that msrun writes into ``log_dir``."""
    return [os.path.join(log_dir, "scheduler.log")] + [os.path.join(log_dir, f"worker_{r}.log") for r in range(ranks)]


def stop(process):
    """Stop a launch that overran: SIGINT makes msrun kill its workers, then kill what is left.

    The process must have been started with ``start_new_session=True``.
    """
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait(process, name, log_files, deadline):
    """Wait for a process until ``deadline`` (``time.monotonic()``).

    Returns:
        None when it ended with status 0; otherwise why it failed, with the tail of each log file.
    """
    try:
        process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        stop(process)  # msrun exits with 0 after SIGINT: an overrun is a failure whatever the status
        status = "ran past its deadline"
    else:
        if process.returncode == 0:
            return None
        status = f"ended with status {process.returncode}"
    tails = []
    for path in log_files:
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as handle:
                tails.append(f"--- {path}\n" + "".join(handle.readlines()[-30:]))
    return f"{name} {status}\n" + "\n".join(tails)
